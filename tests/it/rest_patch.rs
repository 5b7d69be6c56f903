//! `PATCH /api/v1/transactions/{id}` in the seed's form and tally's: the full tag set (`tags`), `reviewed`,
//! `notes`/`note`, `category`, `status`, each checked in the answer and in the file with hledger.

use crate::rest_support;

use crate::conformance_suite::hledger_count;
use reqwest::Method;
use rest_support::{KEY, raw, serve_fixture};
use serde_json::{Value, json};

async fn patch(base: &str, id: &str, body: Value) -> Value {
    let (status, _, answer) = raw(
        Method::PATCH,
        &format!("{base}/transactions/{id}"),
        Some(KEY),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}: {answer}");
    answer["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_and_tally_forms_of_patch() {
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let (_, _, page) = raw(
        Method::GET,
        &format!("{base}/transactions?q=tag:work%20status:&limit=1"),
        Some(KEY),
        None,
    )
    .await;
    let t = page["data"][0].clone();
    let id = t["id"].as_str().expect("id").to_string();
    assert!(t["tags"].as_array().expect("tags").contains(&json!("work")));
    assert_eq!(t["reviewed"], false);
    let work_before = hledger_count(&served.journal, "tag:work");

    // The seed's form: the full set of tags wanted.
    let t = patch(&base, &id, json!({"tags": ["client:acme", "billable"]})).await;
    assert_eq!(t["tags"], json!(["client:acme", "billable"]), "{t}");
    assert_eq!(hledger_count(&served.journal, "tag:work"), work_before - 1);
    assert_eq!(hledger_count(&served.journal, "tag:client=acme"), 1);
    let id = t["id"].as_str().expect("id").to_string();

    // reviewed: true is the cleared status.
    let cleared = hledger_count(&served.journal, "status:*");
    let t = patch(&base, &id, json!({"reviewed": true})).await;
    assert_eq!(
        (t["status"].as_str(), t["reviewed"].as_bool()),
        (Some("cleared"), Some(true))
    );
    assert_eq!(hledger_count(&served.journal, "status:*"), cleared + 1);
    let id = t["id"].as_str().expect("id").to_string();

    // tally's incremental form, then back to the original tags.
    let t = patch(
        &base,
        &id,
        json!({"add_tags": ["work"], "remove_tags": ["client", "billable"], "status": "unmarked"}),
    )
    .await;
    assert_eq!(t["tags"], json!(["work"]), "{t}");
    assert_eq!(t["status"], "unmarked");
    assert_eq!(hledger_count(&served.journal, "tag:work"), work_before);
    assert_eq!(hledger_count(&served.journal, "status:*"), cleared);
    let id = t["id"].as_str().expect("id").to_string();

    // The seed calls it notes; tally's field is note. Either sets the note.
    let t = patch(&base, &id, json!({"notes": "paid by card"})).await;
    assert_eq!(t["note"], "paid by card", "{t}");
    let id = t["id"].as_str().expect("id").to_string();
    let (status, _, again) = raw(
        Method::GET,
        &format!("{base}/transactions/{id}"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["data"], t, "the answer is what a later GET returns");

    // An empty patch changes nothing and answers the transaction.
    let same = patch(&base, &id, json!({})).await;
    assert_eq!(same, t);
    let check = std::process::Command::new("hledger")
        .arg("-f")
        .arg(&served.journal)
        .arg("check")
        .status()
        .expect("hledger runs");
    assert!(check.success());
    served.stop().await;
}
