//! Graceful shutdown of the real `serve` function: SIGTERM arrives while a large bulk tag is being written; the
//! request still completes with 200, `serve` returns cleanly, and hledger sees every tag in the file. (Its own test
//! binary: it sends SIGTERM to this process, which `serve` has taken over.)

#[path = "it/conformance_suite.rs"]
#[allow(dead_code)]
mod conformance_suite;
#[path = "it/rest_support/mod.rs"]
mod rest_support;

use crate::conformance_suite::hledger_count;
use rest_support::KEY;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tally::backend::Backend;
use tally::backend::journal::JournalBackend;
use tally::generate::{GenerateOptions, generate};
use tally::server::{ServeArgs, serve_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_write_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.journal");
    let mut file = std::fs::File::create(&path).expect("create");
    generate(
        &GenerateOptions {
            transactions: 20_000,
            ..GenerateOptions::default()
        },
        &mut file,
    )
    .expect("generate");
    drop(file);
    let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&path).expect("opens"));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("addr").port();
    let args = ServeArgs {
        bind: format!("127.0.0.1:{port}"),
        requests_per_minute: None,
        max_body_bytes: 4 << 20,
        ..ServeArgs::default()
    };
    let server = tokio::spawn(serve_on(listener, args, vec![KEY.into()], backend));
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for attempt in 0.. {
        match http
            .get(format!("{base}/transactions?limit=200&page=1"))
            .bearer_auth(KEY)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => break,
            _ if attempt < 100 => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("server did not come up: {other:?}"),
        }
    }
    for page in 1..=50 {
        let body: serde_json::Value = http
            .get(format!("{base}/transactions?limit=200&page={page}"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        for t in body["data"].as_array().expect("data") {
            ids.push(t["id"].as_str().expect("id").to_string());
        }
    }
    assert_eq!(ids.len(), 10_000);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let request = tokio::spawn({
        let http = http.clone();
        let url = format!("{base}/transactions/bulk-tag");
        async move {
            http.post(url)
                .bearer_auth(KEY)
                .json(&json!({ "ids": ids, "add": ["shutdown"] }))
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());

    let killed_at = std::time::Instant::now();
    let resp = request
        .await
        .expect("task")
        .expect("the in-flight request is answered");
    let in_flight_for = killed_at.elapsed();
    eprintln!("answered {in_flight_for:?} after SIGTERM");
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["data"]["changed"], 10_000, "{body}");
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("serve returns after SIGTERM")
        .expect("task")
        .expect("clean shutdown");
    assert_eq!(hledger_count(&path, "tag:shutdown"), 10_000);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "no longer listening"
    );
}
