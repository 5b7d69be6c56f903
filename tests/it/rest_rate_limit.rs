//! Request budgets: `tally serve --requests-per-minute N` answers 429 with `Retry-After` once a key's budget is
//! spent (other keys keep theirs); the REST client waits `Retry-After` and succeeds; and the client's own budget
//! (`requests_per_minute` in the profile) paces it so the server's limit is not hit at all.

use crate::rest_support;

use reqwest::Method;
use rest_support::{KEY, options, raw, serve_fixture};
use std::time::{Duration, Instant};
use tally::backend::Backend;
use tally::backend::rest::RestBackend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_is_429_with_retry_after_per_key() {
    let served = serve_fixture(&[KEY, "other-key"], 60).await;
    let url = format!("{}/api/v1/tags", served.url);
    for i in 0..60 {
        let (status, _, body) = raw(Method::GET, &url, Some(KEY), None).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let (status, headers, body) = raw(Method::GET, &url, Some(KEY), None).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    let wait: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&wait), "{wait}");
    let (status, _, _) = raw(Method::GET, &url, Some("other-key"), None).await;
    assert_eq!(status, 200, "each key has its own budget");
    let (status, _, _) = raw(
        Method::GET,
        &format!("{}/api/v1/openapi.json", served.url),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "the document is not rationed");

    // The client sits out Retry-After and then gets its answer.
    let rest = RestBackend::new(options(&served.url, Some(KEY))).expect("client");
    let started = Instant::now();
    let tags = rest.tags().await.expect("answered after waiting");
    assert!(!tags.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After: {:?}",
        started.elapsed()
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_budget_paces_requests() {
    let served = serve_fixture(&[KEY], 30).await;
    let mut opts = options(&served.url, Some(KEY));
    opts.requests_per_minute = 30;
    let rest = RestBackend::new(opts).expect("client");
    let started = Instant::now();
    for _ in 0..32 {
        rest.tags()
            .await
            .expect("never refused: the client paces itself");
    }
    let elapsed = started.elapsed();
    // 30 at once, then one every 2 s.
    assert!(elapsed >= Duration::from_millis(3500), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    served.stop().await;
}
