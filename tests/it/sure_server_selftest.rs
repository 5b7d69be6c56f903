//! Checks the Sure test server itself with plain `reqwest` calls: each trap from `/work/shared/api/sure.md` and
//! Sure's transactions page (auth, paging fallbacks and overflow, ordering, tag sets, error shapes, rate limits,
//! localized amounts, minor units, balances) and each injectable fault, so tally's tests can trust it.

use crate::servers;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use servers::sure::*;
use std::time::Duration;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

fn api(s: &SureServer, path: &str) -> String {
    format!("{}/api/v1{path}", s.url)
}

/// GET with the server's key: (status, headers, JSON body).
async fn get(s: &SureServer, path: &str) -> (u16, HeaderMap, Value) {
    let resp = client()
        .get(api(s, path))
        .header("X-Api-Key", &s.key)
        .send()
        .await
        .expect("GET reaches the server");
    read(resp).await
}

async fn read(resp: reqwest::Response) -> (u16, HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("a whole body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("a JSON body")
    };
    (status, headers, body)
}

async fn send_json(
    s: &SureServer,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, HeaderMap, Value) {
    let resp = client()
        .request(method, api(s, path))
        .header("X-Api-Key", &s.key)
        .json(&body)
        .send()
        .await
        .expect("request reaches the server");
    read(resp).await
}

async fn patch(s: &SureServer, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = send_json(s, reqwest::Method::PATCH, path, body).await;
    (status, body)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Every transaction matching `query` (e.g. "&account_id=…"), following pages until page >= total_pages.
async fn all_transactions(s: &SureServer, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let (status, _, body) =
            get(s, &format!("/transactions?per_page=100&page={page}{query}")).await;
        assert_eq!(status, 200, "{body}");
        out.extend(
            body["transactions"]
                .as_array()
                .expect("a list")
                .iter()
                .cloned(),
        );
        let total_pages = body["pagination"]["total_pages"]
            .as_u64()
            .expect("total_pages");
        if page >= total_pages {
            return out;
        }
        page += 1;
    }
}

fn list_named<'a>(accounts: &'a Value, name: &str) -> &'a Value {
    accounts["accounts"]
        .as_array()
        .expect("accounts list")
        .iter()
        .find(|a| a["name"] == name)
        .expect("account by name")
}

async fn start_default() -> SureServer {
    SureServer::start(SureOptions::default()).await
}

fn id_of(data: &SureData, kind: &str, name: &str) -> String {
    match kind {
        "account" => data.account_by_name(name).map(|a| a.id.clone()),
        "tag" => data.tag_by_name(name).map(|t| t.id.clone()),
        "category" => data.category_by_name(name).map(|c| c.id.clone()),
        _ => data.merchant_by_name(name).map(|m| m.id.clone()),
    }
    .expect("generated record exists")
}

// ----------------------------------------------------------------------------------------------------------------
// Auth
// ----------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_or_wrong_key_is_401_with_error_and_message() {
    let s = start_default().await;
    for key in [None, Some("wrong-key")] {
        let mut req = client().get(api(&s, "/transactions"));
        if let Some(k) = key {
            req = req.header("X-Api-Key", k);
        }
        let (status, _, body) = read(req.send().await.expect("send")).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], "unauthorized");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
}

#[tokio::test]
async fn bad_authorization_header_wins_over_a_good_api_key() {
    let s = start_default().await;
    let resp = client()
        .get(api(&s, "/accounts"))
        .header("X-Api-Key", &s.key)
        .header("Authorization", "Bearer not-an-oauth-token")
        .send()
        .await
        .expect("send");
    let (status, _, body) = read(resp).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");
    let (ok, _, _) = get(&s, "/accounts").await;
    assert_eq!(ok, 200);
}

#[tokio::test]
async fn scanner_user_agents_are_blocked() {
    let s = start_default().await;
    let resp = client()
        .get(api(&s, "/accounts"))
        .header("X-Api-Key", &s.key)
        .header("User-Agent", "sqlmap/1.7")
        .send()
        .await
        .expect("send");
    let (status, _, body) = read(resp).await;
    assert_eq!(status, 403);
    assert_eq!(body, json!({"error": "Request blocked."}));
}

#[tokio::test]
async fn read_only_key_cannot_write() {
    let s = SureServer::start(SureOptions {
        read_only_key: Some("read-only-key".into()),
        ..Default::default()
    })
    .await;
    let id = s.with_data(|d| d.transactions[0].id.clone());
    let resp = client()
        .patch(api(&s, &format!("/transactions/{id}")))
        .header("X-Api-Key", "read-only-key")
        .json(&json!({"transaction": {"name": "x"}}))
        .send()
        .await
        .expect("send");
    let (status, _, body) = read(resp).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "insufficient_scope");
    assert!(body["message"].is_string());
    let resp = client()
        .get(api(&s, "/transactions"))
        .header("X-Api-Key", "read-only-key")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert_ne!(s.with_data(|d| d.transactions[0].name.clone()), "x");
}

// ----------------------------------------------------------------------------------------------------------------
// Paging and ordering
// ----------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn transactions_per_page_over_100_falls_back_to_25() {
    let s = start_default().await;
    let (_, _, body) = get(&s, "/transactions?per_page=150").await;
    assert_eq!(body["transactions"].as_array().expect("list").len(), 25);
    assert_eq!(body["pagination"]["per_page"], 25);
    let (_, _, body) = get(&s, "/transactions?per_page=100").await;
    assert_eq!(body["transactions"].as_array().expect("list").len(), 100);
    assert_eq!(body["pagination"]["per_page"], 100);
    assert_eq!(body["pagination"]["total_count"], 300);
    assert_eq!(body["pagination"]["total_pages"], 3);
    let (_, _, body) = get(&s, "/transactions").await;
    assert_eq!(body["pagination"]["per_page"], 25);
    assert_eq!(body["pagination"]["page"], 1);
}

#[tokio::test]
async fn accounts_per_page_over_100_is_capped_at_100() {
    let s = start_default().await;
    let (_, _, body) = get(&s, "/accounts?per_page=150").await;
    assert_eq!(body["pagination"]["per_page"], 100);
    let names: Vec<&str> = body["accounts"]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "Ally Savings",
            "Amex Gold",
            "Chase Checking",
            "Kuwait Account",
            "Tokyo Wallet"
        ]
    );
    let (_, _, body) = get(&s, "/accounts?include_disabled=true").await;
    assert_eq!(body["accounts"].as_array().expect("list").len(), 6);
    assert_eq!(body["pagination"]["total_count"], 6);
    let (_, _, body) = get(&s, "/accounts?per_page=2&page=2").await;
    assert_eq!(body["accounts"][0]["name"], "Chase Checking");
    assert_eq!(body["pagination"]["total_pages"], 3);
}

#[tokio::test]
async fn a_page_past_the_end_returns_the_last_page_again() {
    let s = start_default().await;
    let (_, _, last) = get(&s, "/transactions?per_page=40&page=8").await;
    assert_eq!(last["pagination"]["total_pages"], 8);
    assert_eq!(
        last["transactions"].as_array().expect("list").len(),
        300 - 7 * 40
    );
    let (_, _, past) = get(&s, "/transactions?per_page=40&page=99").await;
    assert_eq!(past["pagination"]["page"], 8);
    assert_eq!(past["transactions"], last["transactions"]);
    let (_, _, empty) = get(&s, "/transactions?search=no-such-thing-anywhere&page=3").await;
    assert_eq!(
        empty["pagination"],
        json!({"page": 1, "per_page": 25, "total_count": 0, "total_pages": 1})
    );
}

#[tokio::test]
async fn ordering_is_date_then_created_at_then_id_descending() {
    let s = start_default().await;
    let all = all_transactions(&s, "").await;
    assert_eq!(all.len(), 300);
    let key = |t: &Value| {
        (
            t["date"].as_str().expect("date").to_string(),
            t["created_at"].as_str().expect("created_at").to_string(),
            t["id"].as_str().expect("id").to_string(),
        )
    };
    for pair in all.windows(2) {
        assert!(
            key(&pair[0]) > key(&pair[1]),
            "{:?} then {:?}",
            key(&pair[0]),
            key(&pair[1])
        );
    }
    let same_date = all
        .windows(2)
        .filter(|p| p[0]["date"] == p[1]["date"])
        .count();
    let same_created = all
        .windows(2)
        .filter(|p| p[0]["date"] == p[1]["date"] && p[0]["created_at"] == p[1]["created_at"])
        .count();
    assert!(
        same_date >= 10,
        "several transactions share a date ({same_date})"
    );
    assert!(
        same_created >= 2,
        "some share created_at too, ordered by id ({same_created})"
    );
}

// ----------------------------------------------------------------------------------------------------------------
// Objects
// ----------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn tags_are_a_plain_array_sorted_by_name_and_merchants_too() {
    let s = start_default().await;
    let (status, _, body) = get(&s, "/tags").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body
        .as_array()
        .expect("a plain array")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["reimbursable", "review", "Vacation", "Work expense"]
    );
    for t in body.as_array().expect("array") {
        for field in ["id", "name", "color", "created_at", "updated_at"] {
            assert!(t.get(field).is_some(), "tag has {field}: {t}");
        }
    }
    let (_, _, merchants) = get(&s, "/merchants").await;
    let merchants = merchants.as_array().expect("a plain array");
    assert!(merchants.len() >= 12);
    assert!(
        merchants
            .iter()
            .all(|m| m["type"].is_string() && m["id"].is_string())
    );
}

#[tokio::test]
async fn tag_create_duplicate_update_delete() {
    let s = start_default().await;
    let (status, _, made) = send_json(
        &s,
        reqwest::Method::POST,
        "/tags",
        json!({"tag": {"name": "Groceries run", "color": "#112233"}}),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["color"], "#112233");
    let (status, _, dup) = send_json(
        &s,
        reqwest::Method::POST,
        "/tags",
        json!({"tag": {"name": "VACATION"}}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(dup, json!({"error": "Name has already been taken"}));
    let (status, _, bare) =
        send_json(&s, reqwest::Method::POST, "/tags", json!({"name": "x"})).await;
    assert_eq!(status, 500);
    assert_eq!(bare, json!({"error": "Failed to create tag"}));
    let id = made["id"].as_str().expect("id").to_string();
    let (status, renamed) = patch(
        &s,
        &format!("/tags/{id}"),
        json!({"tag": {"name": "Errands"}}),
    )
    .await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("Errands")));
    let resp = client()
        .delete(api(&s, &format!("/tags/{id}")))
        .header("X-Api-Key", &s.key)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 204);
    assert!(resp.text().await.expect("body").is_empty());
    let (status, _, gone) = get(&s, &format!("/tags/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(gone, json!({"error": "Tag not found"}));
}

#[tokio::test]
async fn categories_have_parents_and_pagination() {
    let s = start_default().await;
    let (_, _, body) = get(&s, "/categories").await;
    let cats = body["categories"].as_array().expect("list");
    assert_eq!(cats.len(), 9);
    assert_eq!(body["pagination"]["total_count"], 9);
    let coffee = cats
        .iter()
        .find(|c| c["name"] == "Coffee Shops")
        .expect("Coffee Shops");
    assert_eq!(coffee["parent"]["name"], "Food & Drink");
    let food = cats
        .iter()
        .find(|c| c["name"] == "Food & Drink")
        .expect("Food & Drink");
    assert_eq!(food["subcategories_count"], 1);
    assert_eq!(food["parent"], Value::Null);
    let (_, _, roots) = get(&s, "/categories?roots_only=true").await;
    assert_eq!(roots["categories"].as_array().expect("list").len(), 8);
    let food_id = food["id"].as_str().expect("id");
    let (_, _, kids) = get(&s, &format!("/categories?parent_id={food_id}")).await;
    assert_eq!(kids["categories"][0]["name"], "Coffee Shops");
    let (status, _, one) = get(&s, &format!("/categories/{food_id}")).await;
    assert_eq!((status, one["name"].as_str()), (200, Some("Food & Drink")));
}

#[tokio::test]
async fn transaction_objects_have_the_documented_shape() {
    let s = start_default().await;
    let (_, _, body) = get(&s, "/transactions?per_page=100").await;
    let t = &body["transactions"][0];
    for field in [
        "id",
        "date",
        "amount",
        "amount_cents",
        "signed_amount_cents",
        "currency",
        "name",
        "notes",
        "classification",
        "account",
        "category",
        "merchant",
        "tags",
        "transfer",
        "external_id",
        "source",
        "created_at",
        "updated_at",
    ] {
        assert!(t.get(field).is_some(), "transaction has {field}: {t}");
    }
    assert!(t["created_at"].as_str().expect("ts").ends_with('Z'));
    let all = all_transactions(&s, "").await;
    let transfers: Vec<&Value> = all.iter().filter(|t| !t["transfer"].is_null()).collect();
    assert!(
        transfers.len() >= 2 && transfers.len().is_multiple_of(2),
        "transfers come in pairs"
    );
    let out = transfers
        .iter()
        .find(|t| t["classification"] == "expense")
        .expect("outflow side");
    assert_eq!(out["account"]["name"], "Chase Checking");
    assert_eq!(out["transfer"]["other_account"]["name"], "Ally Savings");
    assert_eq!(out["transfer"]["amount"], "$500.00");
    let peer = transfers
        .iter()
        .find(|t| t["transfer"]["id"] == out["transfer"]["id"] && t["id"] != out["id"])
        .expect("the other side");
    assert_eq!(peer["account"]["name"], "Ally Savings");
    let uncategorized = all.iter().filter(|t| t["category"].is_null()).count();
    assert!(
        (10..=60).contains(&uncategorized),
        "about 8% have no category: {uncategorized}"
    );
    assert!(
        all.iter()
            .any(|t| t["tags"].as_array().is_some_and(|g| g.len() == 2))
    );
    assert!(all.iter().any(|t| t["notes"].is_string()));
    assert!(
        all.iter()
            .any(|t| t["category"]["name"] == "Salary" && t["classification"] == "income")
    );
}

#[tokio::test]
async fn signed_amount_cents_and_minor_units() {
    let s = start_default().await;
    let all = all_transactions(&s, "").await;
    for t in &all {
        let abs = t["amount_cents"].as_i64().expect("amount_cents");
        let signed = t["signed_amount_cents"]
            .as_i64()
            .expect("signed_amount_cents");
        assert!(abs >= 0);
        assert_eq!(signed.abs(), abs);
        let income = t["classification"] == "income";
        assert_eq!(signed > 0, income, "{t}");
    }
    let stored: Vec<(String, i64, String)> = s.with_data(|d| {
        d.transactions
            .iter()
            .map(|t| (t.id.clone(), t.amount_cents, t.currency.clone()))
            .collect()
    });
    let jpy = all
        .iter()
        .find(|t| t["currency"] == "JPY")
        .expect("a JPY transaction");
    let kwd = all
        .iter()
        .find(|t| t["currency"] == "KWD")
        .expect("a KWD transaction");
    for t in [jpy, kwd] {
        let (_, cents, _) = stored
            .iter()
            .find(|(id, _, _)| t["id"] == id.as_str())
            .expect("stored");
        assert_eq!(t["signed_amount_cents"].as_i64(), Some(-cents));
    }
    s.with_data(|d| {
        let tokyo = id_of(d, "account", "Tokyo Wallet");
        let kuwait = id_of(d, "account", "Kuwait Account");
        let t = d
            .transactions
            .iter_mut()
            .find(|t| t.account_id == tokyo)
            .expect("tokyo txn");
        t.amount_cents = 1200;
        let t = d
            .transactions
            .iter_mut()
            .find(|t| t.account_id == kuwait)
            .expect("kuwait txn");
        t.amount_cents = 1250;
    });
    let all = all_transactions(&s, "").await;
    let jpy = all
        .iter()
        .find(|t| t["currency"] == "JPY" && t["amount_cents"] == 1200)
        .expect("¥1,200");
    assert_eq!(jpy["amount"], "¥1,200");
    assert_eq!(jpy["signed_amount_cents"], -1200);
    let kwd = all
        .iter()
        .find(|t| t["currency"] == "KWD" && t["amount_cents"] == 1250)
        .expect("KWD 1.250");
    assert_eq!(kwd["amount"], "KWD 1.250");
    let salary = all
        .iter()
        .find(|t| t["name"] == "ACME Corp Payroll")
        .expect("salary");
    assert_eq!(salary["amount"], "-$4,800.00");
    assert_eq!(salary["signed_amount_cents"], 480_000);
}

#[tokio::test]
async fn accept_language_de_localizes_amount_strings_only() {
    let s = start_default().await;
    let id = s.with_data(|d| {
        let t = &mut d.transactions[0];
        t.amount_cents = 4250;
        t.currency = "USD".into();
        t.id.clone()
    });
    let resp = client()
        .get(api(&s, &format!("/transactions/{id}")))
        .header("X-Api-Key", &s.key)
        .header("Accept-Language", "de")
        .send()
        .await
        .expect("send");
    let (_, _, de) = read(resp).await;
    assert_eq!(de["amount"], "42,50 $");
    assert_eq!(de["amount_cents"], 4250);
    let (_, _, en) = get(&s, &format!("/transactions/{id}")).await;
    assert_eq!(en["amount"], "$42.50");
    assert_eq!(format_money(123_456, "USD", true), "1.234,56 $");
    assert_eq!(format_money(-123_456, "USD", false), "-$1,234.56");
}

#[tokio::test]
async fn balances_are_consistent_with_transactions() {
    let s = start_default().await;
    let (_, _, accounts) = get(&s, "/accounts").await;
    let all = all_transactions(&s, "").await;
    let openings: Vec<(String, String, i64)> = s.with_data(|d| {
        d.accounts
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    a.classification.clone(),
                    a.opening_balance_cents,
                )
            })
            .collect()
    });
    for a in accounts["accounts"].as_array().expect("list") {
        let id = a["id"].as_str().expect("id");
        let (_, class, opening) = openings
            .iter()
            .find(|(i, _, _)| i == id)
            .expect("known account");
        let signed: i64 = all
            .iter()
            .filter(|t| t["account"]["id"] == id)
            .map(|t| t["signed_amount_cents"].as_i64().expect("cents"))
            .sum();
        let expected = if class == "liability" {
            opening - signed
        } else {
            opening + signed
        };
        assert_eq!(a["balance_cents"].as_i64(), Some(expected), "{}", a["name"]);
        assert_eq!(a["cash_balance_cents"], a["balance_cents"]);
        assert!(a["balance"].is_string());
    }
    let amex = accounts["accounts"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["name"] == "Amex Gold")
        .expect("Amex");
    assert_eq!(amex["classification"], "liability");
    assert_eq!(amex["account_type"], "credit_card");
    let chase = list_named(&accounts, "Chase Checking");
    assert_eq!(
        chase["balance"], "$3,250.17",
        "generated balances are fixed, whatever the count"
    );
    assert!(
        amex["balance_cents"].as_i64().expect("cents") > 0,
        "owed money shows positive"
    );
}

#[tokio::test]
async fn data_is_deterministic_per_seed_and_count() {
    let a = SureData::generate(500, 11);
    let b = SureData::generate(500, 11);
    let c = SureData::generate(500, 12);
    assert_eq!(a, b);
    assert_ne!(a.transactions, c.transactions);
    assert_eq!(a.transactions.len(), 500);
    assert_eq!(SureData::generate(7, 7).transactions.len(), 7);
    assert_eq!(SureData::generate(0, 7).transactions.len(), 0);
    let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    assert!(a.transactions.iter().all(|t| t.date <= end));
    assert!(
        a.transactions.iter().any(|t| t.date == end)
            || a.transactions
                .iter()
                .any(|t| t.date > end - chrono::Duration::days(10))
    );
}

// ----------------------------------------------------------------------------------------------------------------
// Filters
// ----------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_filters_work_as_documented() {
    let s = start_default().await;
    let (checking, savings, vacation, work, starbucks) = s.with_data(|d| {
        (
            id_of(d, "account", "Chase Checking"),
            id_of(d, "account", "Ally Savings"),
            id_of(d, "tag", "Vacation"),
            id_of(d, "tag", "Work expense"),
            id_of(d, "merchant", "Starbucks"),
        )
    });
    let only = all_transactions(&s, &format!("&account_id={checking}")).await;
    assert!(!only.is_empty() && only.iter().all(|t| t["account"]["id"] == checking.as_str()));
    let both = all_transactions(
        &s,
        &format!("&account_ids[]={checking}&account_ids[]={savings}"),
    )
    .await;
    assert!(both.len() > only.len());
    let tagged = all_transactions(&s, &format!("&tag_ids[]={vacation}&tag_ids[]={work}")).await;
    assert!(!tagged.is_empty());
    assert!(tagged.iter().all(|t| {
        t["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|g| g["id"] == vacation.as_str() || g["id"] == work.as_str())
    }));
    let income = all_transactions(&s, "&type=income").await;
    assert!(income.iter().all(|t| t["classification"] == "income"));
    let big = all_transactions(&s, "&min_amount=1000").await;
    assert!(
        !big.is_empty() && big.iter().all(|t| t["classification"] == "expense"),
        "min_amount compares the stored (expense-positive) amount"
    );
    let very_negative = all_transactions(&s, "&max_amount=-1000").await;
    assert!(
        very_negative
            .iter()
            .all(|t| t["classification"] == "income")
    );
    let dated = all_transactions(&s, "&start_date=2026-01-01&end_date=2026-01-31").await;
    assert!(
        dated
            .iter()
            .all(|t| t["date"].as_str().is_some_and(|d| d.starts_with("2026-01")))
    );
    let coffee = all_transactions(&s, &format!("&merchant_id={starbucks}")).await;
    let searched = all_transactions(&s, "&search=STARBUCKS").await;
    assert!(!coffee.is_empty() && searched.len() >= coffee.len());
    let (status, _, bad) = get(&s, "/transactions?start_date=not-a-date").await;
    assert_eq!(
        (status, bad["error"].as_str()),
        (500, Some("internal_server_error"))
    );
}

// ----------------------------------------------------------------------------------------------------------------
// Updates
// ----------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_tag_ids_replaces_the_whole_set() {
    let s = start_default().await;
    let (id, review, vacation, before) = s.with_data(|d| {
        let review = id_of(d, "tag", "review");
        let vacation = id_of(d, "tag", "Vacation");
        let t = &mut d.transactions[3];
        t.tag_ids = vec![review.clone()];
        (t.id.clone(), review, vacation, t.updated_at)
    });
    let path = format!("/transactions/{id}");
    let (status, body) = patch(&s, &path, json!({"transaction": {"tag_ids": [vacation]}})).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|g| g["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Vacation"], "replaced, not added");
    let (_, body) = patch(&s, &path, json!({"transaction": {"notes": "kept tags"}})).await;
    assert_eq!(
        body["tags"].as_array().expect("tags").len(),
        1,
        "absent tag_ids leaves tags alone"
    );
    assert_eq!(body["notes"], "kept tags");
    let (_, body) = patch(
        &s,
        &path,
        json!({"transaction": {"tag_ids": [review, vacation]}}),
    )
    .await;
    assert_eq!(body["tags"].as_array().expect("tags").len(), 2);
    let (_, body) = patch(&s, &path, json!({"transaction": {"tag_ids": []}})).await;
    assert_eq!(body["tags"], json!([]), "[] clears");
    let after = s.with_data(|d| {
        d.txn(&id)
            .map(|t| (t.tag_ids.clone(), t.updated_at))
            .expect("txn")
    });
    assert!(after.0.is_empty());
    assert!(after.1 > before, "updated_at bumped");
}

#[tokio::test]
async fn patch_fields_notes_clear_blank_category_ignored_and_nature() {
    let s = start_default().await;
    let (id, cat) = s.with_data(|d| {
        let t = d
            .transactions
            .iter_mut()
            .find(|t| t.category_id.is_some() && t.currency == "USD")
            .expect("categorized");
        t.notes = Some("old".into());
        (t.id.clone(), t.category_id.clone())
    });
    let path = format!("/transactions/{id}");
    let (status, body) = patch(
        &s,
        &path,
        json!({"transaction": {"notes": "", "category_id": "", "name": "Renamed"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["notes"], Value::Null);
    assert_eq!(body["name"], "Renamed");
    assert_eq!(
        body["category"]["id"].as_str(),
        cat.as_deref(),
        "blank category_id is ignored"
    );
    let (_, body) = patch(
        &s,
        &path,
        json!({"transaction": {"amount": 12.5, "nature": "income"}}),
    )
    .await;
    assert_eq!(body["signed_amount_cents"], 1250);
    assert_eq!(body["classification"], "income");
    assert_eq!(
        s.with_data(|d| d.txn(&id).map(|t| t.amount_cents)),
        Some(-1250)
    );
    let (_, body) = patch(
        &s,
        &path,
        json!({"transaction": {"amount": 12.5, "nature": "outflow"}}),
    )
    .await;
    assert_eq!(body["signed_amount_cents"], -1250);
    let (status, body) = patch(&s, &path, json!({"transaction": {"name": ""}})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("validation_failed"))
    );
}

#[tokio::test]
async fn patch_with_an_unknown_tag_is_422_and_changes_nothing() {
    let s = start_default().await;
    let (id, tags) = s.with_data(|d| {
        (
            d.transactions[0].id.clone(),
            d.transactions[0].tag_ids.clone(),
        )
    });
    let (status, body) = patch(&s, &format!("/transactions/{id}"), json!({"transaction": {"tag_ids": ["00000000-0000-4000-8000-000000000000"], "name": "nope"}})).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "validation_failed");
    assert!(body["message"].is_string());
    assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()));
    let after = s.with_data(|d| {
        d.txn(&id)
            .map(|t| (t.tag_ids.clone(), t.name.clone()))
            .expect("txn")
    });
    assert_eq!(after.0, tags);
    assert_ne!(after.1, "nope");
}

#[tokio::test]
async fn patch_without_the_transaction_wrapper_is_500() {
    let s = start_default().await;
    let id = s.with_data(|d| d.transactions[0].id.clone());
    let (status, body) = patch(&s, &format!("/transactions/{id}"), json!({"tag_ids": []})).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "internal_server_error");
    assert!(body["message"].is_string());
    let (status, _) = patch(
        &s,
        &format!("/transactions/{id}"),
        json!({"transaction": {}}),
    )
    .await;
    assert_eq!(status, 500);
}

#[tokio::test]
async fn not_found_shapes() {
    let s = start_default().await;
    let (status, _, body) = get(&s, "/transactions/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "not_found", "message": "Record not found"})
    );
    let (status, body) = patch(
        &s,
        "/transactions/nope",
        json!({"transaction": {"name": "x"}}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, _, body) = get(&s, "/no-such-endpoint").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    assert!(body["message"].is_string());
    let (status, _, body) = get(&s, "/accounts/not-a-uuid").await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string() && body["message"].is_string());
}

#[tokio::test]
async fn create_and_delete_a_transaction() {
    let s = start_default().await;
    let (checking, groceries) = s.with_data(|d| {
        (
            id_of(d, "account", "Chase Checking"),
            id_of(d, "category", "Groceries"),
        )
    });
    let body = json!({"transaction": {"account_id": checking, "date": "2026-11-14", "amount": 42.5, "nature": "expense",
        "name": "Corner shop", "category_id": groceries}});
    let (status, _, made) = send_json(&s, reqwest::Method::POST, "/transactions", body).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["signed_amount_cents"], -4250);
    assert_eq!(made["amount"], "$42.50");
    let id = made["id"].as_str().expect("id").to_string();
    let (status, _, missing) = send_json(
        &s,
        reqwest::Method::POST,
        "/transactions",
        json!({"transaction": {"name": "x"}}),
    )
    .await;
    assert_eq!(
        (status, missing["error"].as_str()),
        (422, Some("validation_failed"))
    );
    let resp = client()
        .delete(api(&s, &format!("/transactions/{id}")))
        .header("X-Api-Key", &s.key)
        .send()
        .await
        .expect("send");
    let (status, _, gone) = read(resp).await;
    assert_eq!(status, 200);
    assert_eq!(gone, json!({"message": "Transaction deleted successfully"}));
    assert!(s.with_data(|d| d.txn(&id).is_none()));
}

// ----------------------------------------------------------------------------------------------------------------
// Rate limits
// ----------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn rate_limit_headers_then_429_with_retry_after_and_details() {
    let s = SureServer::start(SureOptions {
        rate_limit: Some((3, Duration::from_secs(3600))),
        ..Default::default()
    })
    .await;
    for remaining in ["2", "1", "0"] {
        let (status, h, _) = get(&s, "/tags").await;
        assert_eq!(status, 200);
        assert_eq!(header(&h, "x-ratelimit-limit"), Some("3"));
        assert_eq!(header(&h, "x-ratelimit-remaining"), Some(remaining));
        let reset: u64 = header(&h, "x-ratelimit-reset")
            .expect("reset")
            .parse()
            .expect("seconds, not a timestamp");
        assert!((1..=3600).contains(&reset), "{reset}");
    }
    let (status, h, body) = get(&s, "/tags").await;
    assert_eq!(status, 429);
    let retry: u64 = header(&h, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry));
    assert_eq!(header(&h, "x-ratelimit-remaining"), Some("0"));
    assert_eq!(body["error"], "rate_limit_exceeded");
    assert_eq!(body["message"], "Rate limit exceeded. Try again later.");
    assert_eq!(body["details"]["limit"], 3);
    assert_eq!(body["details"]["current"], 3);
    assert!(
        body["details"]["reset_in_seconds"]
            .as_u64()
            .is_some_and(|r| r > 0 && r <= 3600)
    );
    let (status, h, _) = get(&s, "/tags").await;
    assert_eq!(status, 429, "still limited");
    assert!(h.get("retry-after").is_some());
}

#[tokio::test]
async fn rate_limit_window_resets() {
    let s = SureServer::start(SureOptions {
        rate_limit: Some((1, Duration::from_millis(700))),
        ..Default::default()
    })
    .await;
    let (first, _, _) = get(&s, "/tags").await;
    let (second, _, _) = get(&s, "/tags").await;
    assert_eq!((first, second), (200, 429));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (third, _, _) = get(&s, "/tags").await;
    assert_eq!(third, 200);
}

#[tokio::test]
async fn usage_reports_the_keys_rate_limit_status() {
    let s = SureServer::start(SureOptions {
        rate_limit: Some((10, Duration::from_secs(3600))),
        ..Default::default()
    })
    .await;
    get(&s, "/tags").await;
    let (status, _, body) = get(&s, "/usage").await;
    assert_eq!(status, 200);
    assert_eq!(body["rate_limit"]["limit"], 10);
    assert_eq!(body["rate_limit"]["current_count"], 2);
    assert_eq!(body["rate_limit"]["remaining"], 8);
    assert_eq!(body["api_key"]["scopes"], json!(["read_write"]));
}

#[tokio::test]
async fn self_hosted_sends_infinity_headers_and_never_limits() {
    let s = SureServer::start(SureOptions {
        self_hosted: true,
        rate_limit: Some((1, Duration::from_secs(3600))),
        ..Default::default()
    })
    .await;
    for _ in 0..5 {
        let (status, h, _) = get(&s, "/accounts").await;
        assert_eq!(status, 200);
        assert_eq!(header(&h, "x-ratelimit-limit"), Some("Infinity"));
        assert_eq!(header(&h, "x-ratelimit-remaining"), Some("Infinity"));
        assert_eq!(header(&h, "x-ratelimit-reset"), Some("0"));
    }
}

#[tokio::test]
async fn rack_attack_answers_a_bare_429_without_ratelimit_headers() {
    let s = SureServer::start(SureOptions {
        rack_attack: Some(2),
        ..Default::default()
    })
    .await;
    for _ in 0..2 {
        let (status, h, _) = get(&s, "/accounts").await;
        assert_eq!(status, 200);
        assert!(h.get("x-ratelimit-limit").is_some());
    }
    for _ in 0..2 {
        let (status, h, body) = get(&s, "/accounts").await;
        assert_eq!(status, 429);
        assert_eq!(header(&h, "retry-after"), Some("60"));
        assert!(h.get("x-ratelimit-limit").is_none());
        assert!(h.get("x-ratelimit-remaining").is_none());
        assert_eq!(
            body,
            json!({"error": "Rate limit exceeded. Try again later."})
        );
    }
}

// ----------------------------------------------------------------------------------------------------------------
// Faults
// ----------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn fault_html_error_page_then_normal_again() {
    let s = start_default().await;
    s.inject(Fault::HtmlError {
        path_prefix: "/api/v1/transactions".into(),
        status: 502,
    });
    let (ok, _, _) = get(&s, "/accounts").await;
    assert_eq!(ok, 200, "a non-matching path is not faulted");
    let resp = client()
        .get(api(&s, "/transactions"))
        .header("X-Api-Key", &s.key)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 502);
    assert!(header(resp.headers(), "content-type").is_some_and(|c| c.starts_with("text/html")));
    let page = resp.text().await.expect("body");
    assert!(page.contains("<html>") && page.contains("502 Bad Gateway") && page.contains("nginx"));
    let (again, _, _) = get(&s, "/transactions").await;
    assert_eq!(again, 200, "one request only");
}

#[tokio::test]
async fn fault_missing_field_drops_it_from_every_transaction() {
    let s = start_default().await;
    s.inject(Fault::MissingField {
        path_prefix: "/transactions".into(),
        field: "signed_amount_cents".into(),
    });
    let (_, _, body) = get(&s, "/transactions").await;
    let list = body["transactions"].as_array().expect("list");
    assert_eq!(list.len(), 25);
    assert!(
        list.iter()
            .all(|t| t.get("signed_amount_cents").is_none() && t.get("amount_cents").is_some())
    );
    let id = list[0]["id"].as_str().expect("id").to_string();
    s.inject(Fault::MissingField {
        path_prefix: "/api/v1/transactions/".into(),
        field: "account.name".into(),
    });
    let (_, _, one) = get(&s, &format!("/transactions/{id}")).await;
    assert!(one["account"].get("name").is_none() && one["account"].get("id").is_some());
    let (_, _, body) = get(&s, "/transactions").await;
    assert!(body["transactions"][0].get("signed_amount_cents").is_some());
}

#[tokio::test]
async fn fault_numbers_as_strings() {
    let s = start_default().await;
    s.inject(Fault::NumbersAsStrings {
        path_prefix: "/api/v1/transactions".into(),
    });
    let (_, _, body) = get(&s, "/transactions").await;
    assert!(body["pagination"]["total_pages"].is_string());
    assert_eq!(body["pagination"]["total_count"], "300");
    assert!(body["transactions"][0]["amount_cents"].is_string());
    assert!(body["transactions"][0]["signed_amount_cents"].is_string());
}

#[tokio::test]
async fn fault_cut_mid_body_breaks_the_read_after_the_headers() {
    let s = start_default().await;
    s.inject(Fault::CutMidBody {
        path_prefix: "/api/v1/transactions".into(),
    });
    let resp = client()
        .get(api(&s, "/transactions"))
        .header("X-Api-Key", &s.key)
        .send()
        .await
        .expect("the headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    let promised: usize = header(resp.headers(), "content-length")
        .expect("Content-Length")
        .parse()
        .expect("a length");
    assert!(promised > 100);
    assert!(resp.bytes().await.is_err(), "the body is cut short");
    let (status, _, body) = get(&s, "/transactions").await;
    assert_eq!(status, 200);
    assert_eq!(body["transactions"].as_array().expect("list").len(), 25);
}

#[tokio::test]
async fn fault_status_answers_literally_and_skips_the_action() {
    let s = start_default().await;
    let id = s.with_data(|d| d.transactions[0].id.clone());
    s.inject(Fault::Status {
        path_prefix: "/api/v1/transactions/".into(),
        status: 503,
        body: json!({"error": "service_unavailable", "message": "Down for maintenance"}),
    });
    let (status, body) = patch(
        &s,
        &format!("/transactions/{id}"),
        json!({"transaction": {"name": "never applied"}}),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["message"], "Down for maintenance");
    assert_ne!(
        s.with_data(|d| d.transactions[0].name.clone()),
        "never applied"
    );
    assert!(s.pending_faults().is_empty());
}

// ----------------------------------------------------------------------------------------------------------------
// Recording and concurrency
// ----------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn requests_are_recorded_in_order_with_lowercase_headers_and_bodies() {
    let s = start_default().await;
    get(&s, "/accounts?page=1&per_page=10").await;
    let id = s.with_data(|d| d.transactions[0].id.clone());
    patch(
        &s,
        &format!("/transactions/{id}"),
        json!({"transaction": {"notes": "hi"}}),
    )
    .await;
    let seen = s.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/api/v1/accounts")
    );
    assert_eq!(seen[0].query, "page=1&per_page=10");
    assert_eq!(seen[0].header("X-API-KEY"), Some(s.key.as_str()));
    assert!(seen[0].headers.iter().all(|(n, _)| *n == n.to_lowercase()));
    assert_eq!(seen[0].body, None);
    assert_eq!(seen[1].method, "PATCH");
    assert_eq!(seen[1].body, Some(json!({"transaction": {"notes": "hi"}})));
    s.clear_requests();
    assert!(s.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn latency_and_max_in_flight() {
    let s = SureServer::start(SureOptions {
        latency: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let started = std::time::Instant::now();
    let calls = (0..4).map(|_| get(&s, "/tags"));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(|(status, _, _)| *status == 200));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(s.max_in_flight(), 4);
    s.stop().await;
}

#[tokio::test]
async fn fault_cut_mid_body_on_the_wire_sends_headers_and_half_the_body_then_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = start_default().await;
    s.inject(Fault::CutMidBody {
        path_prefix: "/api/v1/accounts".into(),
    });
    let mut conn = tokio::net::TcpStream::connect(s.addr)
        .await
        .expect("connect");
    let request = format!(
        "GET /api/v1/accounts HTTP/1.1\r\nHost: {}\r\nX-Api-Key: {}\r\n\r\n",
        s.addr, s.key
    );
    conn.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let read_all = async {
        loop {
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read_all)
        .await
        .expect("the server closes the connection");
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a whole head");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .expect("Content-Length")
        .parse()
        .expect("a number");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !body.is_empty() && body.len() < length,
        "{} of {length} bytes",
        body.len()
    );
}
