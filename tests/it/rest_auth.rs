//! Authentication against a real `tally serve` on 127.0.0.1: no key, wrong key, right key, the public OpenAPI
//! document, and the REST client's handling of a refused key (the error names server, status and the server's
//! message, and never the key).

use crate::rest_support;

use reqwest::Method;
use rest_support::{KEY, options, raw, serve_fixture};
use tally::backend::rest::RestBackend;
use tally::backend::{Backend, BackendError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_but_the_document_needs_a_key() {
    let served = serve_fixture(&[KEY, "second-key"], 0).await;
    let base = format!("{}/api/v1", served.url);
    let endpoints: &[(Method, &str)] = &[
        (Method::GET, "/transactions"),
        (Method::GET, "/transactions/abc"),
        (Method::PATCH, "/transactions/abc"),
        (Method::POST, "/transactions/bulk-tag"),
        (Method::GET, "/tags"),
        (Method::POST, "/tags"),
        (Method::PATCH, "/tags/work"),
        (Method::DELETE, "/tags/work"),
        (Method::GET, "/analytics/summary"),
        (Method::GET, "/analytics/breakdown"),
        (Method::GET, "/sources"),
        (Method::POST, "/sources/ledger.journal/sync"),
        (Method::GET, "/sources/ledger.journal/status"),
        (Method::GET, "/accounts"),
        (Method::GET, "/capabilities"),
        (Method::GET, "/diagnostics"),
        (Method::GET, "/changes"),
    ];
    for (method, path) in endpoints {
        for key in [
            None,
            Some("wrong-key"),
            Some(""),
            Some("test-key-012345678"),
        ] {
            let (status, headers, body) =
                raw(method.clone(), &format!("{base}{path}"), key, None).await;
            assert_eq!(status, 401, "{method} {path} with {key:?}");
            assert_eq!(body["error"]["code"], "unauthorized", "{body}");
            assert!(body["error"]["message"].is_string());
            assert!(headers.contains_key("www-authenticate"));
        }
    }
    let (status, _, body) = raw(Method::GET, &format!("{base}/transactions"), None, None).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("Missing API key")
    );
    for key in [KEY, "second-key"] {
        let (status, _, body) = raw(
            Method::GET,
            &format!("{base}/transactions?limit=1"),
            Some(key),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"].as_array().expect("data").len(), 1);
    }
    let (status, _, doc) = raw(Method::GET, &format!("{base}/openapi.json"), None, None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().expect("openapi").starts_with("3."));
    assert!(doc["paths"]["/api/v1/transactions"]["get"].is_object());
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reports_a_refused_key_without_showing_it() {
    let served = serve_fixture(&[KEY], 0).await;
    let secret = "wrong-but-secret-key-42";
    let client = RestBackend::new(options(&served.url, Some(secret))).expect("client");
    let err = client.accounts().await.expect_err("wrong key is refused");
    match &err {
        BackendError::Http {
            server,
            status,
            message,
        } => {
            assert_eq!(server, &served.url);
            assert_eq!(*status, 401);
            assert!(message.contains("Invalid API key"), "{message}");
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    let shown = format!("{err} {err:?} {client:?}");
    assert!(!shown.contains(secret), "the key leaked: {shown}");
    assert!(err.to_string().contains("HTTP 401"), "{err}");

    let no_key = RestBackend::new(options(&served.url, None)).expect("client");
    let err = no_key.tags().await.expect_err("no key is refused");
    assert!(err.to_string().contains("Missing API key"), "{err}");

    let connected = RestBackend::connect(options(&served.url, Some(KEY)))
        .await
        .expect("right key connects");
    let caps = connected.capabilities();
    assert!(caps.label.contains("journal"), "{}", caps.label);
    assert!(caps.label.contains(&served.url), "{}", caps.label);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_another_host_is_refused_before_any_request() {
    let err = RestBackend::new(options("http://192.0.2.10:8080", Some(KEY)))
        .expect_err("plain http to a non-loopback host");
    assert!(err.to_string().contains("refusing plain http://"), "{err}");
    assert!(!err.to_string().contains(KEY));
    let mut opts = options("http://192.0.2.10:8080", Some(KEY));
    opts.allow_http = true;
    assert!(RestBackend::new(opts).is_ok());
}
