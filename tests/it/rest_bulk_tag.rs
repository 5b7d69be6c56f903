//! Bulk tagging through `tally serve`, checked on the file with real hledger: a round trip (add, repeat, remove)
//! over the API and through the REST client, and the all-or-nothing rule (one unknown id → 404 naming it, and the
//! file is byte-for-byte unchanged).

use crate::rest_support;

use crate::conformance_suite::{FIXTURE, hledger_count};
use reqwest::Method;
use rest_support::{KEY, client, raw, serve_fixture};
use serde_json::json;
use tally::backend::{Backend, BackendError};
use tally::domain::{Tag, TxnId};
use tally::query;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_tag_round_trip_lands_in_the_file() {
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let (_, _, page) = raw(
        Method::GET,
        &format!("{base}/transactions?q=acct:groceries&limit=12"),
        Some(KEY),
        None,
    )
    .await;
    let ids: Vec<String> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 12);
    assert_eq!(hledger_count(&served.journal, "tag:household"), 0);

    let (status, _, body) = raw(
        Method::POST,
        &format!("{base}/transactions/bulk-tag"),
        Some(KEY),
        Some(json!({ "ids": ids, "add": ["household", "batch:2024"] })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"changed": 12, "unchanged": 0}));
    assert_eq!(hledger_count(&served.journal, "tag:household"), 12);
    assert_eq!(hledger_count(&served.journal, "tag:batch=2024"), 12);
    let check = std::process::Command::new("hledger")
        .arg("-f")
        .arg(&served.journal)
        .arg("check")
        .status()
        .expect("hledger runs");
    assert!(check.success(), "the edited file is still a valid journal");

    // The ids after the edit (they may change with the text); repeating the add changes nothing.
    let (_, _, tagged) = raw(
        Method::GET,
        &format!("{base}/transactions?q=tag:household&limit=50"),
        Some(KEY),
        None,
    )
    .await;
    let now: Vec<String> = tagged["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(now.len(), 12);
    let (status, _, body) = raw(
        Method::POST,
        &format!("{base}/transactions/bulk-tag"),
        Some(KEY),
        Some(json!({ "ids": now, "add": ["household"] })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"changed": 0, "unchanged": 12}));

    // Remove through the REST client: the file is back to the fixture's bytes.
    let rest = client(&served.url);
    let listed = rest
        .transactions(
            &query::parse("tag:household").expect("query"),
            tally::backend::PageRequest::all(),
        )
        .await
        .expect("listing");
    let ids: Vec<TxnId> = listed.items.iter().map(|t| t.id.clone()).collect();
    let r = rest
        .bulk_tag(&ids, &[], &["household".into(), "batch".into()])
        .await
        .expect("bulk remove");
    assert_eq!((r.changed, r.unchanged), (12, 0));
    assert_eq!(hledger_count(&served.journal, "tag:household"), 0);
    assert_eq!(
        std::fs::read_to_string(&served.journal).expect("read"),
        FIXTURE
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unknown_id_changes_nothing() {
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let (_, _, page) = raw(
        Method::GET,
        &format!("{base}/transactions?limit=5"),
        Some(KEY),
        None,
    )
    .await;
    let mut ids: Vec<String> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect();
    ids.insert(2, "ffffffffffffffff-9".into());
    let (status, _, body) = raw(
        Method::POST,
        &format!("{base}/transactions/bulk-tag"),
        Some(KEY),
        Some(json!({ "ids": ids, "add": ["partial"] })),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(body["error"]["param"], "ids");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("ffffffffffffffff-9"),
        "{body}"
    );
    assert_eq!(hledger_count(&served.journal, "tag:partial"), 0);
    assert_eq!(
        std::fs::read_to_string(&served.journal).expect("read"),
        FIXTURE
    );

    let rest = client(&served.url);
    let ids: Vec<TxnId> = ids.into_iter().map(TxnId).collect();
    let err = rest
        .bulk_tag(&ids, &[Tag::new("partial", "")], &[])
        .await
        .expect_err("unknown id");
    assert!(matches!(err, BackendError::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains(&served.url), "{err}");
    assert!(err.to_string().contains("ffffffffffffffff-9"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&served.journal).expect("read"),
        FIXTURE
    );
    served.stop().await;
}
