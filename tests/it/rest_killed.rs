//! The server dies mid-request (a proxy in front of a real `tally serve` hangs up at the worst moments, or the
//! server is stopped): reads are retried and succeed; a PATCH whose answer was lost is checked by reading the
//! transaction back and re-sent only if the change is missing; a bulk tag whose answer was lost is reported, not
//! repeated; every error names the server. Outcomes are checked on the file with hledger.

use crate::rest_support;

use crate::conformance_suite::{FIXTURE, hledger_count};
use rest_support::proxy::{Fault, Proxy};
use rest_support::{KEY, options, serve_fixture};
use std::time::{Duration, Instant};
use tally::backend::rest::RestBackend;
use tally::backend::{Backend, BackendError, PageRequest, TxnPatch};
use tally::domain::{Status, Tag, TxnId};
use tally::query::{self, Query};

fn client(url: &str) -> RestBackend {
    let mut o = options(url, Some(KEY));
    o.timeout = Duration::from_secs(5);
    RestBackend::new(o).expect("client")
}

async fn unmarked_id(b: &dyn Backend) -> TxnId {
    let page = b
        .transactions(
            &query::parse("status:").expect("query"),
            PageRequest {
                limit: 1,
                ..PageRequest::default()
            },
        )
        .await
        .expect("listing");
    page.items[0].id.clone()
}

fn count(seen: &[String], method: &str) -> usize {
    seen.iter().filter(|l| l.starts_with(method)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_retried_after_hangups_and_503() {
    let served = serve_fixture(&[KEY], 0).await;
    let proxy = Proxy::start(
        served.addr,
        vec![
            Fault::DropBeforeForward,
            Fault::DropAfterForward,
            Fault::Unavailable,
        ],
    )
    .await;
    let rest = client(&proxy.url);
    let page = rest
        .transactions(&Query::all(), PageRequest::default())
        .await
        .expect("the fourth attempt succeeds");
    assert!(page.total > 400);
    let seen = proxy.seen();
    assert_eq!(
        count(&seen, "GET"),
        4 + 1,
        "3 failures, 1 success (+ capabilities): {seen:?}"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_whose_answer_was_lost_is_verified_not_repeated() {
    let served = serve_fixture(&[KEY], 0).await;
    let proxy = Proxy::start(served.addr, vec![]).await;
    let rest = client(&proxy.url);
    let id = unmarked_id(&rest).await;
    let cleared = hledger_count(&served.journal, "status:*");
    proxy.set_plan(vec![Fault::DropAfterForward]);
    let before = proxy.seen().len();
    let t = rest
        .update_transaction(
            &id,
            &TxnPatch {
                status: Some(Status::Cleared),
                ..TxnPatch::default()
            },
        )
        .await
        .expect("the change is found applied");
    assert_eq!(t.status, Status::Cleared);
    let seen = proxy.seen()[before..].to_vec();
    assert_eq!(count(&seen, "PATCH"), 1, "not re-sent: {seen:?}");
    assert_eq!(count(&seen, "GET"), 1, "read back once: {seen:?}");
    assert_eq!(hledger_count(&served.journal, "status:*"), cleared + 1);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_that_never_arrived_is_sent_again() {
    let served = serve_fixture(&[KEY], 0).await;
    let proxy = Proxy::start(served.addr, vec![]).await;
    let rest = client(&proxy.url);
    let id = unmarked_id(&rest).await;
    let pending = hledger_count(&served.journal, "status:!");
    proxy.set_plan(vec![Fault::DropBeforeForward]);
    let before = proxy.seen().len();
    let t = rest
        .update_transaction(
            &id,
            &TxnPatch {
                status: Some(Status::Pending),
                ..TxnPatch::default()
            },
        )
        .await
        .expect("re-sent after checking");
    assert_eq!(t.status, Status::Pending);
    let seen = proxy.seen()[before..].to_vec();
    assert_eq!(count(&seen, "PATCH"), 2, "{seen:?}");
    assert_eq!(hledger_count(&served.journal, "status:!"), pending + 1);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_tag_whose_answer_was_lost_is_reported_not_repeated() {
    let served = serve_fixture(&[KEY], 0).await;
    let proxy = Proxy::start(served.addr, vec![]).await;
    let rest = client(&proxy.url);
    let page = rest
        .transactions(
            &query::parse("acct:fuel").expect("query"),
            PageRequest {
                limit: 4,
                ..PageRequest::default()
            },
        )
        .await
        .expect("listing");
    let ids: Vec<TxnId> = page.items.iter().map(|t| t.id.clone()).collect();

    proxy.set_plan(vec![Fault::DropAfterForward]);
    let before = proxy.seen().len();
    let err = rest
        .bulk_tag(&ids, &[Tag::new("lost", "")], &[])
        .await
        .expect_err("no answer");
    let text = err.to_string();
    assert!(matches!(err, BackendError::Network { .. }), "{err:?}");
    assert!(text.contains(&proxy.url), "names the server: {text}");
    assert!(text.contains("may or may not have been applied"), "{text}");
    assert_eq!(count(&proxy.seen()[before..], "POST"), 1, "not repeated");
    assert_eq!(
        hledger_count(&served.journal, "tag:lost"),
        4,
        "the server did apply it"
    );

    proxy.set_plan(vec![Fault::DropBeforeForward]);
    let before = proxy.seen().len();
    let err = rest
        .bulk_tag(&ids[..1], &[Tag::new("never", "")], &[])
        .await
        .expect_err("hung up");
    assert!(err.to_string().contains("may or may not"), "{err}");
    assert_eq!(count(&proxy.seen()[before..], "POST"), 1, "not repeated");
    assert_eq!(hledger_count(&served.journal, "tag:never"), 0);

    proxy.set_plan(vec![Fault::Unavailable]);
    let err = rest
        .bulk_tag(&ids[..1], &[Tag::new("never", "")], &[])
        .await
        .expect_err("503 on a write is not retried");
    match &err {
        BackendError::Http {
            server,
            status,
            message,
        } => {
            assert_eq!(server, &proxy.url);
            assert_eq!(*status, 503);
            assert!(message.contains("backend restarting"), "{message}");
        }
        other => panic!("expected HTTP 503, got {other:?}"),
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_is_reported_by_name() {
    let served = serve_fixture(&[KEY], 0).await;
    let url = served.url.clone();
    let journal = served.journal.clone();
    let rest = client(&url);
    let id = unmarked_id(&rest).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let keep = dir.path().join("ledger.journal");
    std::fs::copy(&journal, &keep).expect("copy");
    served.stop().await;

    let started = Instant::now();
    let err = rest.transaction(&id).await.expect_err("server is gone");
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "retried with backoff first"
    );
    assert!(matches!(err, BackendError::Network { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&url), "{text}");
    assert!(text.contains("cannot connect"), "{text}");
    assert!(text.contains("attempts"), "{text}");

    // A write that could not connect never reached the server: it is retried, then reported.
    let err = rest
        .bulk_tag(&[id], &[Tag::new("x", "")], &[])
        .await
        .expect_err("server is gone");
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert!(!err.to_string().contains("may or may not"), "{err}");
    assert_eq!(std::fs::read_to_string(&keep).expect("read"), FIXTURE);
}
