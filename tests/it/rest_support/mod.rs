//! Shared set-up for the REST tests: a temp copy of the conformance fixture opened by the journal backend, served by
//! the real `tally serve` router on 127.0.0.1 (an OS-chosen port), and clients for it.
#![allow(dead_code)]

pub mod proxy;

use crate::conformance_suite::FIXTURE;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tally::backend::Backend;
use tally::backend::journal::JournalBackend;
use tally::backend::rest::{RestBackend, RestOptions};
use tally::server::{ServerState, router};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const KEY: &str = "test-key-0123456789";

pub struct Served {
    pub addr: SocketAddr,
    pub url: String,
    pub journal: PathBuf,
    pub backend: Arc<JournalBackend>,
    pub dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Served {
    /// Graceful shutdown, waiting for the server task.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task");
        }
    }
}

/// A temp copy of `text` as `ledger.journal`.
pub fn journal_copy(text: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.journal");
    std::fs::write(&path, text).expect("write fixture");
    (dir, path)
}

/// Serves a temp copy of the fixture with `keys` and a per-key budget (0 = unlimited).
pub async fn serve_fixture(keys: &[&str], requests_per_minute: u32) -> Served {
    serve_text(FIXTURE, keys, requests_per_minute).await
}

pub async fn serve_text(text: &str, keys: &[&str], requests_per_minute: u32) -> Served {
    let (dir, journal) = journal_copy(text);
    let backend = Arc::new(JournalBackend::open(&journal).expect("journal opens"));
    let state = ServerState::new(
        backend.clone() as Arc<dyn Backend>,
        keys,
        requests_per_minute,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
    });
    Served {
        addr,
        url: format!("http://{addr}"),
        journal,
        backend,
        dir,
        stop: Some(stop),
        task: Some(task),
    }
}

pub fn options(url: &str, key: Option<&str>) -> RestOptions {
    RestOptions {
        base_url: url.to_string(),
        api_key: key.map(str::to_string),
        requests_per_minute: 0,
        allow_http: false,
        timeout: Duration::from_secs(20),
    }
}

pub fn client(url: &str) -> RestBackend {
    RestBackend::new(options(url, Some(KEY))).expect("client for loopback")
}

/// A raw HTTP call with reqwest, for tests that check status codes and bodies the client would interpret.
pub async fn raw(
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let client = reqwest::Client::new();
    let mut req = client.request(method, url);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request reaches the test server");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "non-JSON body ({status}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    (status, headers, json)
}
