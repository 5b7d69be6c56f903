//! Checks the FinWise, Fin X and Synci test servers (and the shared harness under them) with plain `reqwest` calls,
//! one test per trap their documents set: auth headers (FinWise's raw key, Fin X's Bearer, Synci's Bearer plus
//! `Accept: application/json`), envelopes, paging (FinWise's headers and their absence, Fin X's cursor, Synci's
//! `page[size]` and past-the-end pages), error bodies, rate limits with `Retry-After`, FinWise's `aggregated3` sums
//! and archive, Fin X's PUT with JSON and form bodies, Synci's string amounts and sync throttle, hostile text and
//! determinism — so tally's tests can trust them.

use crate::servers;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use servers::finwise::{FinWiseOptions, FinWiseServer};
use servers::finx::{FinXOptions, FinXServer};
use servers::harness::Fault;
use servers::synci::{SynciOptions, SynciServer};

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// A client that does not follow redirects.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

struct Got {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("JSON expected ({e}): {}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn call(req: reqwest::RequestBuilder) -> Got {
    let resp = req.send().await.expect("the request reaches the server");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("a whole body");
    Got {
        status,
        headers,
        text,
    }
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a JSON array")
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

/// At most two decimals.
fn two_decimals(v: &Value) -> bool {
    let text = v.to_string();
    v.is_number() && text.split_once('.').is_none_or(|(_, frac)| frac.len() <= 2)
}

fn hostile_markers(texts: &[String]) {
    let all = texts.join("\u{0}");
    for (marker, what) in [
        ("\x1b[31m", "an ANSI colour"),
        ("\x1b]0;pwned\x07", "an OSC title"),
        ("\x1b]52;", "an OSC 52 clipboard write"),
        ("\u{202E}", "a right-to-left override"),
        ("\n", "a newline"),
        ("\t", "a tab"),
        ("\u{200D}", "a zero-width joiner"),
    ] {
        assert!(all.contains(marker), "no {what} in the served text");
    }
    assert!(
        texts.iter().any(|t| t.chars().count() == 300),
        "no 300-character name"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// FinWise
// ---------------------------------------------------------------------------------------------------------------

async fn fw(s: &FinWiseServer, path: &str, query: &[(&str, String)]) -> Got {
    call(
        client()
            .get(format!("{}{path}", s.url))
            .header("Authorization", &s.key)
            .query(query),
    )
    .await
}

fn page(number: usize, size: usize) -> (&'static str, String) {
    (
        "pagination",
        json!({"pageNumber": number, "pageSize": size}).to_string(),
    )
}

fn filters(f: Value) -> (&'static str, String) {
    ("filters", f.to_string())
}

/// Every transaction matching `f`, read with the largest page.
async fn fw_all(s: &FinWiseServer, f: Value) -> Vec<Value> {
    let got = fw(s, "/transactions", &[filters(f), page(1, 1000)]).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.header("x-has-next-page"), Some("false"));
    list(&got.json()).clone()
}

#[tokio::test]
async fn finwise_auth_is_the_raw_key_and_bearer_or_nothing_is_401_with_a_request_id() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    let ok = fw(&s, "/accounts", &[]).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.header("request-id").is_some_and(is_uuid));
    let url = format!("{}/accounts", s.url);
    let bearer = format!("Bearer {}", s.key);
    for req in [
        client().get(&url).header("Authorization", bearer.as_str()),
        client().get(&url),
        client().get(&url).header("Authorization", "wrong"),
    ] {
        let got = call(req).await;
        assert_eq!(got.status, 401);
        let body = got.json();
        assert_eq!(body["name"], "UnauthenticatedError");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(body["errors"], json!([]));
        assert!(got.header("request-id").is_some_and(is_uuid));
    }
    let ids: HashSet<String> = s
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_string())
        .collect();
    assert!(ids.contains(&s.key) && ids.contains(&bearer));
}

#[tokio::test]
async fn finwise_lists_are_bare_arrays_with_paging_headers() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    let first = fw(&s, "/transactions", &[]).await;
    assert_eq!(list(&first.json()).len(), 100, "pageSize defaults to 100");
    assert_eq!(first.header("x-page-number"), Some("1"));
    assert_eq!(first.header("x-page-size"), Some("100"));
    assert_eq!(first.header("x-count"), Some("300"));
    assert_eq!(first.header("x-has-next-page"), Some("true"));
    let second = fw(&s, "/transactions", &[page(2, 50)]).await;
    assert_eq!(list(&second.json()).len(), 50);
    assert_eq!(second.header("x-page-number"), Some("2"));
    assert_eq!(second.header("x-page-size"), Some("50"));
    let last = fw(&s, "/transactions", &[page(6, 50)]).await;
    assert_eq!(list(&last.json()).len(), 50);
    assert_eq!(last.header("x-has-next-page"), Some("false"));
    let past = fw(&s, "/transactions", &[page(7, 50)]).await;
    assert_eq!(past.json(), json!([]));
    let recorded = s.requests();
    let pairs = recorded[1].query_pairs();
    assert_eq!(pairs[0].0, "pagination");
    let sent: Value = serde_json::from_str(&pairs[0].1).expect("the pagination JSON");
    assert_eq!(sent, json!({"pageNumber": 2, "pageSize": 50}));
    for path in ["/accounts", "/transaction-categories"] {
        let got = fw(&s, path, &[]).await;
        assert!(got.json().is_array());
        assert_eq!(got.header("x-has-next-page"), Some("false"));
    }
}

#[tokio::test]
async fn finwise_without_paging_headers_a_short_page_ends_the_list() {
    let s = FinWiseServer::start(FinWiseOptions {
        paging_headers: false,
        ..Default::default()
    })
    .await;
    let mut seen = HashSet::new();
    for n in 1.. {
        let got = fw(&s, "/transactions", &[page(n, 70)]).await;
        for name in ["x-page-number", "x-page-size", "x-count", "x-has-next-page"] {
            assert!(got.header(name).is_none(), "{name} must be absent");
        }
        let items = got.json();
        for t in list(&items) {
            assert!(seen.insert(t["id"].as_str().expect("id").to_string()));
        }
        if list(&items).len() < 70 {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
}

#[tokio::test]
async fn finwise_bad_query_json_and_page_size_over_1000_are_400_bad_request() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    let big = fw(&s, "/transactions", &[page(1, 1001)]).await;
    assert_eq!(big.status, 400);
    let body = big.json();
    assert_eq!(body["name"], "BadRequestError");
    assert_eq!(body["message"], "Invalid query parameters specified");
    assert_eq!(body["errors"][0]["code"], "too_big");
    assert_eq!(body["errors"][0]["path"], json!(["pagination", "pageSize"]));
    assert_eq!(body["errors"][0]["received"], "1001");
    assert!(big.header("request-id").is_some_and(is_uuid));
    let kept = fw(&s, "/transactions", &[page(1, 1000)]).await;
    assert_eq!(kept.status, 200);

    let broken = fw(
        &s,
        "/transactions",
        &[("pagination", "{pageNumber:".into())],
    )
    .await;
    assert_eq!(broken.status, 400);
    assert_eq!(broken.json()["errors"][0]["code"], "invalid_type");
    assert_eq!(broken.json()["errors"][0]["path"], json!(["pagination"]));

    let typed = fw(
        &s,
        "/transactions",
        &[("pagination", r#"{"pageSize":"50"}"#.into())],
    )
    .await;
    assert_eq!(typed.status, 400);
    assert_eq!(
        typed.json()["errors"][0]["path"],
        json!(["pagination", "pageSize"])
    );

    let date = fw(
        &s,
        "/transactions",
        &[filters(json!({"fromDate": "28 April 2024"}))],
    )
    .await;
    assert_eq!(date.status, 400);
    let e = &date.json()["errors"][0];
    assert_eq!(e["message"], "Invalid date format, must use ISO format.");
    assert_eq!(e["path"], json!(["filters", "fromDate"]));
    assert_eq!(e["received"], "28 April 2024");
}

#[tokio::test]
async fn finwise_nested_errors_wrap_every_error_body() {
    let s = FinWiseServer::start(FinWiseOptions {
        nested_errors: true,
        rate_limit: Some((1, Duration::from_secs(60))),
        ..Default::default()
    })
    .await;
    let unauth = call(client().get(format!("{}/accounts", s.url))).await;
    assert_eq!(unauth.json()["error"]["name"], "UnauthenticatedError");
    assert!(unauth.json().get("name").is_none());
    let bad = fw(&s, "/transactions", &[page(0, 10)]).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["errors"][0]["code"], "too_small");
    let limited = fw(&s, "/accounts", &[]).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["name"], "TooManyRequestsError");
}

#[tokio::test]
async fn finwise_rate_limit_is_429_with_retry_after() {
    let s = FinWiseServer::start(FinWiseOptions {
        rate_limit: Some((3, Duration::from_secs(30))),
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(fw(&s, "/accounts", &[]).await.status, 200);
    }
    let refused = fw(&s, "/accounts", &[]).await;
    assert_eq!(refused.status, 429);
    let body = refused.json();
    assert_eq!(body["name"], "TooManyRequestsError");
    assert_eq!(body["errors"], json!([]));
    let wait: u64 = refused
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(refused.header("request-id").is_some());
    assert_eq!(s.rate_limited(), 1);
}

#[tokio::test]
async fn finwise_objects_have_the_documented_shape_and_order() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    let txns = fw_all(&s, json!({})).await;
    assert_eq!(txns.len(), 300);
    for key in [
        "id",
        "createdAt",
        "updatedAt",
        "description",
        "originalDescription",
        "accountId",
        "amount",
        "date",
        "transactionCategoryId",
        "merchantId",
        "isTransfer",
        "isPending",
        "needsReview",
        "notes",
        "archivedAt",
        "parentTransactionId",
        "splits",
        "transactionTags",
        "fileRecords",
        "userId",
        "isManual",
    ] {
        assert!(txns.iter().all(|t| t.get(key).is_some()), "{key} missing");
    }
    for pair in txns.windows(2) {
        let key = |t: &Value| {
            (
                t["date"].as_str().unwrap_or("").to_string(),
                t["createdAt"].as_str().unwrap_or("").to_string(),
                t["id"].as_str().unwrap_or("").to_string(),
            )
        };
        assert!(key(&pair[0]) >= key(&pair[1]), "newest first");
    }
    assert!(txns.iter().all(|t| two_decimals(&t["amount"]["amount"])));
    assert!(
        txns.iter()
            .any(|t| t["amount"]["amount"].as_f64() < Some(0.0))
    );
    assert!(txns.iter().all(|t| {
        t["date"]
            .as_str()
            .is_some_and(|d| d.ends_with("T00:00:00.000Z"))
    }));
    let tagged = txns
        .iter()
        .find(|t| !list(&t["transactionTags"]).is_empty())
        .expect("a tagged one");
    assert!(tagged["transactionTags"][0]["name"].is_string());
    let review = txns.iter().filter(|t| t["needsReview"] == true).count();
    assert!((10..=60).contains(&review), "{review} need review");
    assert!(txns.iter().any(|t| t["parentTransactionId"].is_string()));
    assert!(txns.iter().any(|t| t["splits"].is_array()));

    let accounts = fw(&s, "/accounts", &[]).await.json();
    let card = list(&accounts)
        .iter()
        .find(|a| a["type"] == "credit")
        .expect("a credit card");
    assert!(card["currentBalance"]["amount"].as_f64() < Some(0.0));
    assert!(
        list(&accounts)
            .iter()
            .any(|a| a["currentBalance"]["currencyCode"] == "EUR")
    );
    let one = fw(
        &s,
        &format!("/accounts/{}", card["id"].as_str().expect("id")),
        &[],
    )
    .await;
    assert_eq!(one.json()["id"], card["id"]);
    let categories = fw(&s, "/transaction-categories", &[]).await.json();
    assert!(list(&categories).iter().any(|c| c["name"] == "Salary"));
}

#[tokio::test]
async fn finwise_filters_select_as_documented() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    let all = fw_all(&s, json!({})).await;
    let account = all[0]["accountId"].clone();
    let mine = fw_all(&s, json!({"accountId": account})).await;
    assert!(!mine.is_empty() && mine.iter().all(|t| t["accountId"] == account));
    let netflix = fw_all(&s, json!({"search": "NETFLIX"})).await;
    assert!(netflix.len() >= 6, "Netflix is a monthly bill");
    let credits = fw_all(&s, json!({"transactionTypes": ["credit"]})).await;
    assert!(
        credits
            .iter()
            .all(|t| t["amount"]["amount"].as_f64() > Some(0.0))
    );
    let review = fw_all(&s, json!({"needsReview": true})).await;
    assert!(!review.is_empty() && review.iter().all(|t| t["needsReview"] == true));
    let window = fw_all(
        &s,
        json!({"fromDate": "2026-11-01", "toDate": "2026-11-14"}),
    )
    .await;
    assert!(window.iter().all(|t| {
        let d = t["date"].as_str().unwrap_or("");
        ("2026-11-01".."2026-11-15").contains(&d)
    }));
    assert!(window.iter().any(|t| {
        t["date"]
            .as_str()
            .is_some_and(|d| d.starts_with("2026-11-14"))
    }));
    let big = fw_all(&s, json!({"amountLte": -1000})).await;
    assert!(
        big.iter()
            .all(|t| t["amount"]["amount"].as_f64() <= Some(-1000.0))
    );
    let no_transfers = fw_all(&s, json!({"excludeTransfers": true})).await;
    assert!(no_transfers.iter().all(|t| t["isTransfer"] != true));
    assert!(no_transfers.len() < all.len());
    let no_parents = fw_all(&s, json!({"excludeParentTransactions": true})).await;
    assert_eq!(no_parents.len(), all.len() - 1);
    let ids: Vec<Value> = all[..3].iter().map(|t| t["id"].clone()).collect();
    assert_eq!(fw_all(&s, json!({"ids": ids})).await.len(), 3);
}

/// The bucket start for a transaction date at UTC midnight, for a user `offset` hours east of UTC.
fn expected_bucket(date: &str, offset: i64, week: bool) -> String {
    let t: DateTime<Utc> = DateTime::parse_from_rfc3339(date)
        .expect("a timestamp")
        .into();
    let local = (t + chrono::Duration::hours(offset)).date_naive();
    let day = if week {
        local - chrono::Duration::days(i64::from(local.weekday().num_days_from_monday()))
    } else {
        local
    };
    let start =
        day.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - chrono::Duration::hours(offset);
    start.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[tokio::test]
async fn finwise_aggregated3_sums_per_bucket_from_local_midnight() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    let account = s.with_data(|d| d.accounts[0].id.clone());
    let f = json!({"accountId": account});
    let txns = fw_all(&s, f.clone()).await;
    for (by, week) in [("day", false), ("week", true)] {
        let query = [
            ("aggregateBy[]", by.to_string()),
            ("aggregateFn", "sum".to_string()),
            filters(f.clone()),
        ];
        let got = fw(&s, "/transactions/aggregated3", &query).await;
        assert_eq!(got.status, 200, "{}", got.text);
        let mut expected: BTreeMap<String, f64> = BTreeMap::new();
        for t in &txns {
            let bucket = expected_bucket(t["date"].as_str().expect("date"), 1, week);
            *expected.entry(bucket).or_default() += t["amount"]["amount"].as_f64().expect("amount");
        }
        let rows = got.json();
        assert_eq!(list(&rows).len(), expected.len());
        let dates: Vec<&str> = list(&rows)
            .iter()
            .map(|r| r["date"].as_str().expect("date"))
            .collect();
        assert!(dates.windows(2).all(|w| w[0] < w[1]), "sorted by date");
        for row in list(&rows) {
            let date = row["date"].as_str().expect("date");
            assert!(date.ends_with("T23:00:00.000Z"), "{date}");
            let want = expected[date];
            let amount = row["amount"].as_f64().expect("a float");
            assert!((amount - want).abs() < 1e-6, "{date}: {amount} vs {want}");
        }
        if week {
            for date in dates {
                let next_day: NaiveDate = (DateTime::parse_from_rfc3339(date).expect("ts")
                    + chrono::Duration::hours(1))
                .date_naive();
                assert_eq!(next_day.weekday(), Weekday::Mon, "weeks start on Monday");
            }
        }
    }
    let avg = [
        ("aggregateBy[]", "day".to_string()),
        ("aggregateFn", "avg".to_string()),
    ];
    let refused = fw(&s, "/transactions/aggregated3", &avg).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["errors"][0]["path"], json!(["aggregateFn"]));
    let year = [
        ("aggregateBy[]", "Year".to_string()),
        ("aggregateFn", "sum".to_string()),
    ];
    let years = fw(&s, "/transactions/aggregated3", &year).await.json();
    assert!(list(&years).iter().all(|r| {
        r["date"]
            .as_str()
            .is_some_and(|d| d.ends_with("-12-31T23:00:00.000Z"))
    }));
}

#[tokio::test]
async fn finwise_aggregated3_in_utc_starts_buckets_at_utc_midnight() {
    let s = FinWiseServer::start(FinWiseOptions {
        utc_offset_hours: 0,
        ..Default::default()
    })
    .await;
    let q = [
        ("aggregateBy[]", "Month".to_string()),
        ("aggregateFn", "sum".to_string()),
    ];
    let rows = fw(&s, "/transactions/aggregated3", &q).await.json();
    assert!(list(&rows).len() >= 24);
    assert!(list(&rows).iter().all(|r| {
        r["date"]
            .as_str()
            .is_some_and(|d| d.ends_with("-01T00:00:00.000Z"))
    }));
}

#[tokio::test]
async fn finwise_archive_hides_a_transaction_from_exclude_archived() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    let all = fw_all(&s, json!({})).await;
    let target = all[0]["id"].as_str().expect("id").to_string();
    let archived = call(
        client()
            .post(format!("{}/transactions/{target}/archive", s.url))
            .header("Authorization", &s.key),
    )
    .await;
    assert_eq!(archived.status, 200, "{}", archived.text);
    assert_eq!(archived.json()["id"], json!(target));
    assert!(archived.json()["archivedAt"].is_string());
    let kept = fw_all(&s, json!({"excludeArchived": true})).await;
    assert_eq!(kept.len(), 299);
    assert!(kept.iter().all(|t| t["id"] != json!(target)));
    assert_eq!(
        fw_all(&s, json!({})).await.len(),
        300,
        "listed unless excluded"
    );
    let q = |f: Value| {
        vec![
            ("aggregateBy[]", "Year".to_string()),
            ("aggregateFn", "sum".to_string()),
            filters(f),
        ]
    };
    let sum = |rows: Value| -> f64 {
        list(&rows)
            .iter()
            .filter_map(|r| r["amount"].as_f64())
            .sum()
    };
    let without = sum(fw(&s, "/transactions/aggregated3", &q(json!({})))
        .await
        .json());
    let with = sum(fw(
        &s,
        "/transactions/aggregated3",
        &q(json!({"excludeArchived": false})),
    )
    .await
    .json());
    let amount = all[0]["amount"]["amount"].as_f64().expect("amount");
    assert!(
        (with - without - amount).abs() < 1e-6,
        "aggregation leaves archived out unless asked"
    );
    let missing = call(
        client()
            .post(format!("{}/transactions/nope/archive", s.url))
            .header("Authorization", &s.key),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["name"], "NotFoundError");
}

#[tokio::test]
async fn finwise_faults_come_from_the_shared_harness() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    s.inject(Fault::HtmlError {
        path_prefix: "/transactions".into(),
        status: 502,
    });
    s.inject(Fault::Status {
        path_prefix: "/accounts".into(),
        status: 503,
        body: json!({"name": "ServiceUnavailable"}),
    });
    s.inject(Fault::MissingField {
        path_prefix: "/transactions".into(),
        field: "amount.currencyCode".into(),
    });
    assert_eq!(s.pending_faults().len(), 3);
    let html = fw(&s, "/transactions", &[]).await;
    assert_eq!(html.status, 502);
    assert!(html.text.contains("<html>"));
    let literal = fw(&s, "/accounts", &[]).await;
    assert_eq!(literal.status, 503);
    assert!(
        literal.header("request-id").is_some(),
        "the API's own answer has a Request-Id"
    );
    let missing = fw(&s, "/transactions", &[]).await.json();
    assert!(
        list(&missing)
            .iter()
            .all(|t| t["amount"].get("currencyCode").is_none())
    );
    assert!(s.pending_faults().is_empty());
    s.clear_requests();
    assert!(s.requests().is_empty());
    s.inject(Fault::NumbersAsStrings {
        path_prefix: "/accounts".into(),
    });
    let strings = fw(&s, "/accounts", &[]).await.json();
    assert!(strings[0]["currentBalance"]["amount"].is_string());
    let r = &s.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/accounts"));
    assert!(r.headers.iter().all(|(n, _)| *n == n.to_ascii_lowercase()));
}

// ---------------------------------------------------------------------------------------------------------------
// Fin X
// ---------------------------------------------------------------------------------------------------------------

async fn fx(s: &FinXServer, path: &str, query: &[(&str, String)]) -> Got {
    call(
        client()
            .get(format!("{}/v1{path}", s.url))
            .bearer_auth(&s.key)
            .query(query),
    )
    .await
}

#[tokio::test]
async fn finx_auth_is_bearer_and_errors_are_stripe_like() {
    let s = FinXServer::start(FinXOptions::default()).await;
    assert_eq!(fx(&s, "/transactions", &[]).await.status, 200);
    let url = format!("{}/v1/transactions", s.url);
    for req in [
        client().get(&url).header("Authorization", s.key.as_str()),
        client().get(&url),
        client().get(&url).bearer_auth("sk_wrong"),
    ] {
        let got = call(req).await;
        assert_eq!(got.status, 401);
        assert_eq!(got.json()["error"]["type"], "authentication_error");
        assert!(got.json()["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn finx_lists_page_by_cursor_newest_first() {
    let s = FinXServer::start(FinXOptions::default()).await;
    let first = fx(&s, "/transactions", &[]).await.json();
    assert_eq!(list(&first["data"]).len(), 10, "limit defaults to 10");
    assert_eq!(first["has_more"], true);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "100".to_string())];
        if let Some(c) = &cursor {
            q.push(("starting_after", c.clone()));
        }
        let body = fx(&s, "/transactions", &q).await.json();
        let items = list(&body["data"]);
        seen.extend(items.iter().cloned());
        cursor = items
            .last()
            .and_then(|t| t["id"].as_str())
            .map(str::to_string);
        if body["has_more"] == false {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
    let ids: HashSet<&str> = seen.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids.len(), 300);
    for pair in seen.windows(2) {
        let key = |t: &Value| {
            (
                t["created_at"].as_i64(),
                t["id"].as_str().map(str::to_string),
            )
        };
        assert!(key(&pair[0]) >= key(&pair[1]), "created_at desc, id desc");
    }
    let accounts = fx(&s, "/accounts", &[("limit", "2".into())]).await.json();
    assert_eq!(list(&accounts["data"]).len(), 2);
    assert_eq!(accounts["has_more"], true);
    let after = accounts["data"][1]["id"].as_str().expect("id").to_string();
    let rest = fx(&s, "/accounts", &[("starting_after", after)])
        .await
        .json();
    assert_eq!(list(&rest["data"]).len(), 2);
    assert_eq!(rest["has_more"], false);
    let types: HashSet<&str> = list(&accounts["data"])
        .iter()
        .chain(list(&rest["data"]))
        .filter_map(|a| a["type"].as_str())
        .collect();
    assert_eq!(types, HashSet::from(["checking", "savings", "investment"]));
}

#[tokio::test]
async fn finx_limit_over_100_and_an_unknown_cursor_are_400() {
    let s = FinXServer::start(FinXOptions::default()).await;
    let big = fx(&s, "/transactions", &[("limit", "101".into())]).await;
    assert_eq!(big.status, 400);
    assert_eq!(
        big.json(),
        json!({"error": {"type": "invalid_request_error", "message": "limit must be at most 100", "param": "limit"}})
    );
    let cursor = fx(&s, "/transactions", &[("starting_after", "nope".into())]).await;
    assert_eq!(cursor.status, 400);
    assert_eq!(cursor.json()["error"]["param"], "starting_after");
    let status = fx(&s, "/transactions", &[("status", "done".into())]).await;
    assert_eq!(status.json()["error"]["param"], "status");
}

#[tokio::test]
async fn finx_transactions_have_no_description_unless_asked_and_filters_work() {
    let s = FinXServer::start(FinXOptions::default()).await;
    let body = fx(&s, "/transactions", &[("limit", "100".into())])
        .await
        .json();
    for t in list(&body["data"]) {
        let keys: HashSet<&str> = t
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let want = HashSet::from([
            "id",
            "account_id",
            "amount",
            "type",
            "status",
            "created_at",
            "updated_at",
        ]);
        assert_eq!(keys, want);
        let id = t["id"].as_str().expect("id");
        assert!(id.len() == 16 && id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(t["amount"].as_f64() > Some(0.0) && two_decimals(&t["amount"]));
    }
    let (pending, failed, total) = s.with_data(|d| {
        let n = |s: &str| d.transactions.iter().filter(|t| t.status == s).count();
        (n("pending"), n("failed"), d.transactions.len())
    });
    assert!(pending > 0 && pending < total / 5, "{pending} pending");
    assert!(failed < total / 10);
    let debits = fx(
        &s,
        "/transactions",
        &[("type", "debit".into()), ("limit", "100".into())],
    )
    .await
    .json();
    assert!(list(&debits["data"]).iter().all(|t| t["type"] == "debit"));
    let waiting = fx(
        &s,
        "/transactions",
        &[("status", "pending".into()), ("limit", "100".into())],
    )
    .await
    .json();
    assert_eq!(list(&waiting["data"]).len(), pending);
    let account = s.with_data(|d| d.accounts[1].id.clone());
    let mine = fx(&s, "/transactions", &[("account_id", account.clone())])
        .await
        .json();
    assert!(
        list(&mine["data"])
            .iter()
            .all(|t| t["account_id"] == json!(account))
    );

    let described = FinXServer::start(FinXOptions {
        descriptions: true,
        ..Default::default()
    })
    .await;
    let body = fx(&described, "/transactions", &[]).await.json();
    assert!(
        list(&body["data"])
            .iter()
            .all(|t| t["description"].is_string())
    );
}

#[tokio::test]
async fn finx_put_takes_json_or_a_form_body() {
    let s = FinXServer::start(FinXOptions::default()).await;
    let (id, before) = s.with_data(|d| {
        let t = d
            .transactions
            .iter()
            .find(|t| t.status == "pending")
            .expect("a pending one");
        (t.id.clone(), t.updated_at)
    });
    let url = format!("{}/v1/transactions/{id}", s.url);
    let form = call(
        client()
            .put(&url)
            .bearer_auth(&s.key)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("status=completed"),
    )
    .await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert_eq!(form.json()["status"], "completed");
    assert!(form.json()["updated_at"].as_i64() > Some(before));
    let json_put = call(
        client()
            .put(&url)
            .bearer_auth(&s.key)
            .json(&json!({"status": "failed", "amount": 12.34})),
    )
    .await;
    assert_eq!(json_put.status, 200, "{}", json_put.text);
    assert_eq!(json_put.json()["status"], "failed");
    assert_eq!(json_put.json()["amount"], json!(12.34));
    assert_eq!(
        s.with_data(|d| d.txn(&id).map(|t| t.amount_cents)),
        Some(1234)
    );
    let shown = fx(&s, &format!("/transactions/{id}"), &[]).await.json();
    assert_eq!(shown["status"], "failed");
    let bad = call(
        client()
            .put(&url)
            .bearer_auth(&s.key)
            .json(&json!({"status": "done"})),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["param"], "status");
    let missing = call(
        client()
            .put(format!("{}/v1/transactions/nope", s.url))
            .bearer_auth(&s.key)
            .json(&json!({"status": "completed"})),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["type"], "invalid_request_error");
    assert!(
        missing.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("No such transaction"))
    );
    let recorded = s.requests();
    assert_eq!(recorded[0].body, Some(json!("status=completed")));
    assert_eq!(
        recorded[1].body,
        Some(json!({"status": "failed", "amount": 12.34}))
    );
}

#[tokio::test]
async fn finx_create_and_delete() {
    let s = FinXServer::start(FinXOptions::default()).await;
    let account = s.with_data(|d| d.accounts[0].id.clone());
    let created = call(
        client()
            .post(format!("{}/v1/transactions", s.url))
            .bearer_auth(&s.key)
            .form(&[
                ("account_id", account.as_str()),
                ("amount", "100.00"),
                ("type", "credit"),
                ("status", "pending"),
            ]),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let body = created.json();
    assert_eq!(body["amount"], json!(100));
    let id = body["id"].as_str().expect("id").to_string();
    let first = fx(&s, "/transactions", &[("limit", "1".into())])
        .await
        .json();
    assert_eq!(first["data"][0]["id"], json!(id), "the newest comes first");
    let deleted = call(
        client()
            .delete(format!("{}/v1/transactions/{id}", s.url))
            .bearer_auth(&s.key),
    )
    .await;
    assert_eq!(deleted.json(), json!({"id": id, "deleted": true}));
    assert_eq!(
        fx(&s, &format!("/transactions/{id}"), &[]).await.status,
        404
    );
}

#[tokio::test]
async fn finx_rate_limit_is_429_rate_limit_error_with_retry_after() {
    let s = FinXServer::start(FinXOptions {
        rate_limit: Some((2, Duration::from_secs(10))),
        ..Default::default()
    })
    .await;
    fx(&s, "/transactions", &[]).await;
    fx(&s, "/transactions", &[]).await;
    let refused = fx(&s, "/transactions", &[]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json()["error"]["type"], "rate_limit_error");
    assert!(
        refused
            .header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok_and(|n| (1..=10).contains(&n)))
    );
    assert_eq!(s.rate_limited(), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Synci
// ---------------------------------------------------------------------------------------------------------------

async fn sy(s: &SynciServer, path: &str, query: &[(&str, String)]) -> Got {
    call(
        client()
            .get(format!("{}/api/v1{path}", s.url))
            .bearer_auth(&s.key)
            .header("Accept", "application/json")
            .query(query),
    )
    .await
}

async fn sync(s: &SynciServer, account: &str) -> Got {
    call(
        client()
            .post(format!("{}/api/v1/banks/accounts/{account}/sync", s.url))
            .bearer_auth(&s.key)
            .header("Accept", "application/json"),
    )
    .await
}

fn sized(number: usize, size: usize) -> Vec<(&'static str, String)> {
    vec![
        ("page[number]", number.to_string()),
        ("page[size]", size.to_string()),
    ]
}

#[tokio::test]
async fn synci_needs_bearer_and_accept_json_else_laravel_redirects_or_renders_html() {
    let s = SynciServer::start(SynciOptions::default()).await;
    assert_eq!(sy(&s, "/banks/accounts", &[]).await.status, 200);
    let url = format!("{}/api/v1/banks/accounts", s.url);
    let unauth = call(
        client()
            .get(&url)
            .bearer_auth("nope")
            .header("Accept", "application/json"),
    )
    .await;
    assert_eq!(unauth.status, 401);
    assert_eq!(unauth.json(), json!({"message": "Unauthenticated."}));
    let redirected = call(raw_client().get(&url)).await;
    assert_eq!(redirected.status, 302);
    assert!(
        redirected
            .header("location")
            .is_some_and(|l| l.ends_with("/login"))
    );
    assert!(
        redirected
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    let followed = call(client().get(&url).bearer_auth("nope")).await;
    assert_eq!(
        followed.status, 200,
        "a redirect-following client lands on the login page"
    );
    assert!(followed.text.contains("<form"));
    let no_accept = call(client().get(&url).bearer_auth(&s.key)).await;
    assert_eq!(no_accept.status, 200, "a good token still gets JSON data");
    assert!(no_accept.json()["data"].is_array());
    let html_404 = call(client().get(format!("{url}/nope")).bearer_auth(&s.key)).await;
    assert_eq!(html_404.status, 404);
    assert!(html_404.text.contains("<!DOCTYPE html>"));
    let json_404 = sy(&s, "/banks/accounts/nope", &[]).await;
    assert_eq!(json_404.status, 404);
    assert!(
        json_404.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("No query results"))
    );
    let unknown = sy(&s, "/nothing", &[]).await;
    assert_eq!(
        unknown.json()["message"],
        "The route api/v1/nothing could not be found."
    );
}

#[tokio::test]
async fn synci_lists_are_laravel_paginators() {
    let s = SynciServer::start(SynciOptions::default()).await;
    let first = sy(&s, "/banks/transactions", &[]).await.json();
    assert_eq!(list(&first["data"]).len(), 25, "page[size] defaults to 25");
    let meta = &first["meta"];
    assert_eq!(
        (meta["current_page"].clone(), meta["last_page"].clone()),
        (json!(1), json!(12))
    );
    assert_eq!(
        (
            meta["from"].clone(),
            meta["to"].clone(),
            meta["total"].clone()
        ),
        (json!(1), json!(25), json!(300))
    );
    assert_eq!(meta["per_page"], 25);
    assert!(
        meta["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("/api/v1/banks/transactions"))
    );
    assert!(first["links"]["prev"].is_null());
    let next = first["links"]["next"].as_str().expect("a next link");
    assert!(next.ends_with("page%5Bnumber%5D=2"), "{next}");
    let followed = call(
        client()
            .get(next)
            .bearer_auth(&s.key)
            .header("Accept", "application/json"),
    )
    .await
    .json();
    assert_eq!(followed["meta"]["current_page"], 2);

    let mut seen = HashSet::new();
    for n in 1..=3 {
        let body = sy(&s, "/banks/transactions", &sized(n, 100)).await.json();
        for t in list(&body["data"]) {
            seen.insert(t["id"].as_str().expect("id").to_string());
        }
        if n == 3 {
            assert!(body["links"]["next"].is_null());
        }
    }
    assert_eq!(seen.len(), 300);
    let past = sy(&s, "/banks/transactions", &sized(9, 100)).await;
    assert_eq!(past.status, 200);
    let past = past.json();
    assert_eq!(past["data"], json!([]));
    assert!(past["meta"]["from"].is_null() && past["meta"]["to"].is_null());
    assert_eq!(past["meta"]["current_page"], 9);
    let accounts = sy(&s, "/banks/accounts", &[]).await.json();
    assert_eq!(accounts["meta"]["total"], 4);
    let account = &accounts["data"][0];
    for key in ["id", "name", "iban", "currency", "balance", "institution"] {
        assert!(account.get(key).is_some(), "{key}");
    }
    assert!(account["institution"]["name"].is_string());
    assert!(
        list(&accounts["data"])
            .iter()
            .any(|a| a["balance"].is_string())
    );
    assert!(
        list(&accounts["data"])
            .iter()
            .any(|a| a["balance"].is_number())
    );
    let id = account["id"].as_str().expect("id");
    assert_eq!(
        sy(&s, &format!("/banks/accounts/{id}"), &[]).await.json()["data"]["id"],
        account["id"]
    );
}

#[tokio::test]
async fn synci_page_size_over_100_is_422_json_or_html() {
    let s = SynciServer::start(SynciOptions::default()).await;
    let got = sy(&s, "/banks/transactions", &sized(1, 101)).await;
    assert_eq!(got.status, 422);
    let msg = "The page.size field must not be greater than 100.";
    assert_eq!(
        got.json(),
        json!({"message": msg, "errors": {"page.size": [msg]}})
    );
    let both = sy(
        &s,
        "/banks/transactions",
        &[
            ("page[size]", "0".into()),
            ("bank_account_id", "nope".into()),
        ],
    )
    .await;
    assert_eq!(both.status, 422);
    assert_eq!(
        both.json()["message"],
        "The page.size field must be at least 1. (and 1 more error)"
    );
    assert!(both.json()["errors"]["bank_account_id"].is_array());
    let html = call(
        client()
            .get(format!("{}/api/v1/banks/transactions", s.url))
            .bearer_auth(&s.key)
            .query(&sized(1, 500)),
    )
    .await;
    assert_eq!(html.status, 422);
    assert!(
        html.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
}

#[tokio::test]
async fn synci_amounts_are_numbers_or_strings_and_generated_may_be_null() {
    let s = SynciServer::start(SynciOptions::default()).await;
    let mut all = Vec::new();
    for n in 1..=3 {
        let body = sy(&s, "/banks/transactions", &sized(n, 100)).await.json();
        all.extend(list(&body["data"]).iter().cloned());
    }
    let numbers = all.iter().filter(|t| t["amount"].is_number()).count();
    let strings: Vec<&str> = all.iter().filter_map(|t| t["amount"].as_str()).collect();
    assert!(
        numbers > 90 && strings.len() > 90,
        "{numbers} numbers, {} strings",
        strings.len()
    );
    assert!(
        strings
            .iter()
            .all(|a| a.parse::<f64>().is_ok()
                && a.split_once('.').is_some_and(|(_, f)| f.len() == 2))
    );
    assert!(strings.iter().any(|a| a.starts_with('-')));
    assert!(
        all.iter()
            .filter(|t| t["amount"].is_number())
            .all(|t| two_decimals(&t["amount"]))
    );
    let pending = all.iter().filter(|t| t["booked"] == false).count();
    assert!((3..=45).contains(&pending), "{pending} pending");
    let bare = all.iter().filter(|t| t["generated"].is_null()).count();
    assert!(bare > 10 && bare < 100, "{bare} without generated fields");
    let amazon = all
        .iter()
        .find(|t| t["generated"]["payee"] == "Amazon")
        .expect("an Amazon purchase");
    assert_eq!(amazon["generated"]["description"], "Amazon order");
    assert_eq!(amazon["generated"]["category"], "Shopping");
    assert!(
        amazon["remittance_information"]
            .as_str()
            .is_some_and(|r| r.contains("AMZN MKTP"))
    );
    assert!(
        all.iter()
            .all(|t| t["booking_date"].as_str().is_some_and(|d| d.len() == 10))
    );
    for pair in all.windows(2) {
        assert!(
            pair[0]["booking_date"].as_str() >= pair[1]["booking_date"].as_str(),
            "newest first"
        );
    }
    let account = all[0]["bank_account_id"].as_str().expect("id").to_string();
    let mine = sy(
        &s,
        "/banks/transactions",
        &[("bank_account_id", account.clone())],
    )
    .await
    .json();
    assert!(
        list(&mine["data"])
            .iter()
            .all(|t| t["bank_account_id"] == json!(account))
    );
    let id = all[0]["id"].as_str().expect("id");
    assert_eq!(
        sy(&s, &format!("/banks/transactions/{id}"), &[])
            .await
            .json()["data"]["id"],
        all[0]["id"]
    );
}

#[tokio::test]
async fn synci_a_second_sync_within_the_interval_is_429_with_retry_after() {
    let s = SynciServer::start(SynciOptions::default()).await;
    let (a, b) = s.with_data(|d| (d.accounts[0].id.clone(), d.accounts[1].id.clone()));
    let first = sync(&s, &a).await;
    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(first.json(), json!({"data": {"id": a, "status": "queued"}}));
    let second = sync(&s, &a).await;
    assert_eq!(second.status, 429);
    assert_eq!(second.json(), json!({"message": "Too Many Attempts."}));
    let wait: u64 = second
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((55..=60).contains(&wait), "{wait}");
    assert_eq!(second.header("x-ratelimit-limit"), Some("1"));
    assert_eq!(second.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(
        sync(&s, &b).await.status,
        202,
        "the interval is per account"
    );
    let calls: Vec<(String, bool)> = s
        .syncs()
        .into_iter()
        .map(|c| (c.account_id, c.accepted))
        .collect();
    assert_eq!(
        calls,
        vec![(a.clone(), true), (a.clone(), false), (b, true)]
    );
    assert_eq!(s.rate_limited(), 0, "sync refusals are counted in syncs()");
    assert_eq!(sync(&s, "nope").await.status, 404);

    let quick = SynciServer::start(SynciOptions {
        sync_interval: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let id = quick.with_data(|d| d.accounts[0].id.clone());
    assert_eq!(sync(&quick, &id).await.status, 202);
    assert_eq!(sync(&quick, &id).await.status, 429);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sync(&quick, &id).await.status, 202);
}

#[tokio::test]
async fn synci_rate_limit_is_429_too_many_attempts() {
    let s = SynciServer::start(SynciOptions {
        rate_limit: Some((2, Duration::from_secs(60))),
        ..Default::default()
    })
    .await;
    let ok = sy(&s, "/banks/accounts", &[]).await;
    assert_eq!(ok.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(ok.header("x-ratelimit-remaining"), Some("1"));
    sy(&s, "/banks/accounts", &[]).await;
    let refused = sy(&s, "/banks/accounts", &[]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json(), json!({"message": "Too Many Attempts."}));
    assert!(
        refused
            .header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok())
    );
    assert_eq!(s.rate_limited(), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// All three
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn hostile_text_is_served_when_asked() {
    let fw_server = FinWiseServer::start(FinWiseOptions {
        hostile: true,
        ..Default::default()
    })
    .await;
    let mut texts: Vec<String> = fw_all(&fw_server, json!({}))
        .await
        .iter()
        .flat_map(|t| [t["description"].clone(), t["notes"].clone()])
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    texts.extend(
        list(&fw(&fw_server, "/accounts", &[]).await.json())
            .iter()
            .filter_map(|a| a["name"].as_str().map(str::to_string)),
    );
    hostile_markers(&texts);

    let fx_server = FinXServer::start(FinXOptions {
        hostile: true,
        descriptions: true,
        ..Default::default()
    })
    .await;
    let texts: Vec<String> = fx_server.with_data(|d| {
        d.transactions
            .iter()
            .map(|t| t.description.clone())
            .collect()
    });
    hostile_markers(&texts);
    let served = fx(&fx_server, "/accounts", &[]).await.text;
    assert!(
        served.contains("\\u001b[1;31m"),
        "an escape in an account name"
    );

    let sy_server = SynciServer::start(SynciOptions {
        hostile: true,
        ..Default::default()
    })
    .await;
    let mut texts = Vec::new();
    for n in 1..=3 {
        let body = sy(&sy_server, "/banks/transactions", &sized(n, 100))
            .await
            .json();
        texts.extend(
            list(&body["data"])
                .iter()
                .filter_map(|t| t["remittance_information"].as_str().map(str::to_string)),
        );
    }
    hostile_markers(&texts);

    let calm = SynciServer::start(SynciOptions::default()).await;
    let plain = sy(&calm, "/banks/transactions", &sized(1, 100)).await.text;
    assert!(!plain.contains("\\u001b") && !plain.contains('\u{202E}'));
}

#[tokio::test]
async fn data_is_deterministic_per_seed_and_count() {
    let a = FinWiseServer::start(FinWiseOptions::default()).await;
    let b = FinWiseServer::start(FinWiseOptions::default()).await;
    let c = FinWiseServer::start(FinWiseOptions {
        seed: 8,
        ..Default::default()
    })
    .await;
    assert_eq!(a.with_data(|d| d.clone()), b.with_data(|d| d.clone()));
    assert_ne!(a.with_data(|d| d.clone()), c.with_data(|d| d.clone()));
    assert_eq!(
        fw(&a, "/transactions", &[]).await.text,
        fw(&b, "/transactions", &[]).await.text
    );

    let x1 = FinXServer::start(FinXOptions::default()).await;
    let x2 = FinXServer::start(FinXOptions::default()).await;
    assert_eq!(x1.with_data(|d| d.clone()), x2.with_data(|d| d.clone()));
    let s1 = SynciServer::start(SynciOptions::default()).await;
    let s2 = SynciServer::start(SynciOptions::default()).await;
    assert_eq!(s1.with_data(|d| d.clone()), s2.with_data(|d| d.clone()));
    let small = SynciServer::start(SynciOptions {
        transactions: 40,
        ..Default::default()
    })
    .await;
    assert_eq!(small.with_data(|d| d.transactions.len()), 40);
    assert_eq!(
        small.with_data(|d| d.accounts.iter().map(|a| a.id.clone()).collect::<Vec<_>>()),
        s1.with_data(|d| d.accounts.iter().map(|a| a.id.clone()).collect::<Vec<_>>()),
        "account ids do not depend on the count"
    );
}

#[tokio::test]
async fn the_household_spans_two_years_with_salary_and_monthly_bills() {
    let s = FinWiseServer::start(FinWiseOptions::default()).await;
    s.with_data(|d| {
        let dates: Vec<NaiveDate> = d.transactions.iter().map(|t| t.date.date_naive()).collect();
        let end = NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
        assert!(
            dates
                .iter()
                .all(|x| *x <= end && *x > end - chrono::Duration::days(730))
        );
        assert!(
            dates.iter().any(|x| x.year() == 2024 && x.month() == 12),
            "spread over two years"
        );
        let salary = d.category_by_name("Salary").expect("Salary").id.clone();
        let paid = d
            .transactions
            .iter()
            .filter(|t| t.category_id.as_deref() == Some(salary.as_str()))
            .count();
        assert!(paid >= 12, "{paid} salaries");
        for bill in ["Netflix", "Greenpoint Properties", "Con Edison", "Spotify"] {
            let amounts: Vec<i64> = d
                .transactions
                .iter()
                .filter(|t| t.description == bill)
                .map(|t| t.amount_cents)
                .collect();
            assert!(amounts.len() >= 12, "{bill}: {}", amounts.len());
            let (lo, hi) = (
                amounts.iter().min().copied().unwrap_or(0),
                amounts.iter().max().copied().unwrap_or(0),
            );
            assert!(
                hi < 0 && lo >= hi * 3,
                "{bill} amounts stay similar: {lo}..{hi}"
            );
        }
        let currencies: HashSet<&str> = d.accounts.iter().map(|a| a.currency.as_str()).collect();
        assert_eq!(currencies, HashSet::from(["USD", "EUR"]));
    });
}

#[tokio::test]
async fn latency_and_max_in_flight_come_from_the_harness() {
    let s = SynciServer::start(SynciOptions {
        latency: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let started = std::time::Instant::now();
    let calls = (0..4).map(|_| sy(&s, "/banks/accounts", &[]));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(|g| g.status == 200));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(s.max_in_flight(), 4);
    s.inject(Fault::CutMidBody {
        path_prefix: "/banks/transactions".into(),
    });
    let resp = client()
        .get(format!("{}/banks/transactions", s.api_url()))
        .bearer_auth(&s.key)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("the head arrives");
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.is_err(), "the body is cut");
    s.inject(Fault::MissingField {
        path_prefix: "/api/v1/banks/transactions".into(),
        field: "amount".into(),
    });
    let body = sy(&s, "/banks/transactions", &[]).await.json();
    assert!(
        list(&body["data"])
            .iter()
            .all(|t| t.get("amount").is_none())
    );
    s.stop().await;
}
