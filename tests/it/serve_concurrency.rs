//! `tally serve` under concurrent use: many clients editing different transactions at once lose no edit (checked
//! with hledger on the file) while readers keep getting consistent pages; and `serve` refuses to start without keys
//! or on an address it cannot bind.

use crate::rest_support;

use crate::conformance_suite::hledger_count;
use rest_support::{KEY, client, serve_fixture};
use std::sync::Arc;
use tally::backend::journal::JournalBackend;
use tally::backend::{Backend, PageRequest, TxnPatch};
use tally::domain::{Status, Tag};
use tally::query::{self, Query};
use tally::server::{ServeArgs, ServerError, serve, serve_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_are_all_applied() {
    let served = serve_fixture(&[KEY], 0).await;
    let rest = Arc::new(client(&served.url));
    let unmarked = rest
        .transactions(&query::parse("status:").expect("query"), PageRequest::all())
        .await
        .expect("listing");
    let picked: Vec<_> = unmarked.items.iter().take(16).cloned().collect();
    assert_eq!(picked.len(), 16);
    let cleared = hledger_count(&served.journal, "status:*");
    let total = unmarked.total;

    let mut tasks = Vec::new();
    for (i, t) in picked.into_iter().enumerate() {
        let writer = rest.clone();
        tasks.push(tokio::spawn(async move {
            let patch = TxnPatch {
                status: Some(Status::Cleared),
                add_tags: vec![Tag::new("concurrent", i.to_string())],
                ..TxnPatch::default()
            };
            writer.update_transaction(&t.id, &patch).await
        }));
        let reader = rest.clone();
        tasks.push(tokio::spawn(async move {
            let page = reader
                .transactions(&Query::all(), PageRequest::default())
                .await?;
            Ok(page.items[0].clone())
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("every request succeeds");
    }
    assert_eq!(hledger_count(&served.journal, "status:*"), cleared + 16);
    assert_eq!(hledger_count(&served.journal, "tag:concurrent"), 16);
    let after = rest
        .transactions(&query::parse("status:").expect("query"), PageRequest::all())
        .await
        .expect("listing");
    assert_eq!(after.total, total - 16);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_run_without_keys_or_an_address() {
    let (_dir, path) = rest_support::journal_copy(crate::conformance_suite::FIXTURE);
    let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&path).expect("opens"));
    let args = ServeArgs {
        bind: "127.0.0.1:0".into(),
        requests_per_minute: None,
        max_body_bytes: 1 << 20,
        ..ServeArgs::default()
    };
    let err = serve(
        args.clone(),
        vec![" ".into(), String::new()],
        backend.clone(),
    )
    .await
    .expect_err("no keys");
    assert!(matches!(err, ServerError::NoKeys), "{err}");
    assert!(err.to_string().contains("TALLY_SERVE_KEYS"));

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let err = serve(
        ServeArgs {
            bind: addr.clone(),
            ..args
        },
        vec![KEY.into()],
        backend,
    )
    .await
    .expect_err("address in use");
    assert!(matches!(err, ServerError::Bind { .. }), "{err}");
    assert!(err.to_string().contains(&addr), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_made_by_other_programs_reach_clients() {
    let (_dir, path) = rest_support::journal_copy(crate::conformance_suite::FIXTURE);
    let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&path).expect("opens"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("addr").port();
    let args = ServeArgs {
        bind: format!("127.0.0.1:{port}"),
        requests_per_minute: None,
        max_body_bytes: 1 << 20,
        ..ServeArgs::default()
    };
    let server = tokio::spawn(serve_on(listener, args, vec![KEY.into()], backend));
    let rest = client(&format!("http://127.0.0.1:{port}"));
    let mut before = None;
    for _ in 0..100 {
        if let Ok(p) = rest
            .transactions(&Query::all(), PageRequest::default())
            .await
        {
            before = Some(p.total);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let before = before.expect("server came up");
    assert!(
        !rest.reload().await.expect("first poll"),
        "the first poll only learns the counter"
    );
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str(
        "\n2025-04-01 * Added by an editor\n    expenses:misc   $5.00\n    assets:cash\n",
    );
    std::fs::write(&path, text).expect("external edit");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let p = rest
            .transactions(
                &query::parse("desc:editor").expect("query"),
                PageRequest::default(),
            )
            .await
            .expect("listing");
        if p.total == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edit never showed up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let all = rest
        .transactions(&Query::all(), PageRequest::default())
        .await
        .expect("listing");
    assert_eq!(all.total, before + 1);
    tokio::time::sleep(tally::backend::rest::CHANGE_POLL_INTERVAL).await;
    assert!(
        rest.reload().await.expect("poll"),
        "the client learns the ledger changed"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_learns_of_another_clients_edit() {
    let served = serve_fixture(&[KEY], 0).await;
    let (alice, bob) = (client(&served.url), client(&served.url));
    assert!(!bob.reload().await.expect("first poll"));
    tokio::time::sleep(tally::backend::rest::CHANGE_POLL_INTERVAL).await;
    assert!(
        !bob.reload().await.expect("nothing happened"),
        "no change, no refresh"
    );
    let t = alice
        .transactions(
            &query::parse("status:").expect("query"),
            PageRequest::default(),
        )
        .await
        .expect("listing")
        .items[0]
        .clone();
    alice
        .update_transaction(
            &t.id,
            &TxnPatch {
                status: Some(Status::Pending),
                ..TxnPatch::default()
            },
        )
        .await
        .expect("edit");
    assert!(
        !bob.reload().await.expect("too soon"),
        "polls are spaced out"
    );
    tokio::time::sleep(tally::backend::rest::CHANGE_POLL_INTERVAL).await;
    assert!(bob.reload().await.expect("poll"), "bob sees alice's edit");
    served.stop().await;
}
