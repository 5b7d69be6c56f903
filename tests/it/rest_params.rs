//! Parameters and paging against a real `tally serve`: every bad parameter is answered 400 with `param` naming it,
//! paging edges (empty result, last page, past the end, limit 200 and 201), the seed's filters agreeing with the
//! equivalent `q` text, and the error format of unknown endpoints, wrong methods and oversized bodies.

use crate::rest_support;

use reqwest::Method;
use rest_support::{KEY, raw, serve_fixture};
use serde_json::{Value, json};

async fn get(base: &str, query: &str) -> (u16, Value) {
    let (status, _, body) = raw(
        Method::GET,
        &format!("{base}/transactions?{query}"),
        Some(KEY),
        None,
    )
    .await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400_naming_the_parameter() {
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let cases: &[(&str, &str)] = &[
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("limit=-5", "limit"),
        ("page=0", "page"),
        ("page=1.5", "page"),
        ("page=99999999999999999999", "page"),
        ("start_date=yesterday", "start_date"),
        ("start_date=2025-13-01", "start_date"),
        ("end_date=2025-02-30", "end_date"),
        ("start_date=2025-03-01&end_date=2025-01-01", "end_date"),
        ("min_amount=ten", "min_amount"),
        ("max_amount=1e9", "max_amount"),
        ("min_amount=50&max_amount=10", "max_amount"),
        ("q=amt:%3Eabc", "q"),
        ("q=date:2025-13", "q"),
        ("sort=colour", "sort"),
        ("order=sideways", "order"),
        ("per_page=10", "per_page"),
        ("limit=5&limit=6", "limit"),
        ("tags=,%3Dx", "tags"),
    ];
    for (query, param) in cases {
        let (status, body) = get(&base, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{query}");
        assert_eq!(body["error"]["param"], *param, "{query}: {body}");
        assert!(
            !body["error"]["message"]
                .as_str()
                .expect("message")
                .is_empty()
        );
    }
    let (status, body) = get(&base, "q=amt:%3Eabc").await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("column 6"),
        "{body}"
    );
    for (path, query, param) in [
        ("analytics/summary", "group_by=fortnight", "group_by"),
        ("analytics/breakdown", "dimension=colour", "dimension"),
        ("analytics/summary", "start_date=nope", "start_date"),
        ("tags", "page=1", "page"),
        ("analytics/projections", "months=%2B3", "months"),
        ("analytics/projections", "months=25", "months"),
        ("openapi.json", "x=1", "x"),
    ] {
        let (status, _, body) = raw(
            Method::GET,
            &format!("{base}/{path}?{query}"),
            Some(KEY),
            None,
        )
        .await;
        assert_eq!(status, 400, "{path}?{query}: {body}");
        assert_eq!(body["error"]["param"], param, "{path}?{query}");
    }
    let bodies: &[(Value, &str)] = &[
        (json!({"status": "done"}), "status"),
        (json!({"reviewed": "yes"}), "reviewed"),
        (json!({"status": "cleared", "reviewed": true}), "reviewed"),
        (json!({"add_tags": "work"}), "add_tags"),
        (json!({"add_tags": ["two words"]}), "add_tags"),
        (json!({"remove_tags": [""]}), "remove_tags"),
        (json!({"colour": "red"}), "colour"),
        (json!({"note": "line\nbreak"}), "note"),
        (json!(["not", "an", "object"]), "body"),
    ];
    let (_, first) = get(&base, "limit=1").await;
    let id = first["data"][0]["id"].as_str().expect("an id").to_string();
    for (body, param) in bodies {
        let (status, _, answer) = raw(
            Method::PATCH,
            &format!("{base}/transactions/{id}"),
            Some(KEY),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["param"], *param, "{body}: {answer}");
    }
    for (body, param) in [
        (json!({"add": ["x"]}), "ids"),
        (json!({"ids": [], "add": ["x"]}), "ids"),
        (json!({"ids": [id.clone()]}), "add"),
        (json!({"ids": [id.clone()], "add": ["a,b"]}), "add"),
        (json!({"ids": [1, 2], "add": ["x"]}), "ids"),
    ] {
        let (status, _, answer) = raw(
            Method::POST,
            &format!("{base}/transactions/bulk-tag"),
            Some(KEY),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["param"], param, "{body}: {answer}");
    }
    // Not JSON at all.
    let resp = reqwest::Client::new()
        .post(format!("{base}/transactions/bulk-tag"))
        .bearer_auth(KEY)
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("JSON error");
    assert_eq!(body["error"]["param"], "body");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_edges() {
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let (status, all) = get(&base, "limit=1").await;
    assert_eq!(status, 200);
    let total = all["meta"]["total"].as_u64().expect("total") as usize;
    assert!(total > 400, "the fixture spans several pages of 200");

    let (status, body) = get(&base, "limit=200").await;
    assert_eq!(status, 200, "limit 200 is the largest page");
    assert_eq!(body["data"].as_array().expect("data").len(), 200);
    assert_eq!(body["meta"]["limit"], 200);
    assert_eq!(body["meta"]["total_pages"], total.div_ceil(200));

    let (status, body) = get(&base, "limit=201").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "limit");

    let last = total.div_ceil(200);
    let (status, body) = get(&base, &format!("limit=200&page={last}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"].as_array().expect("data").len(),
        total - (last - 1) * 200,
        "the last page holds the remainder"
    );
    assert_eq!(body["meta"]["page"], last);

    let (status, body) = get(&base, &format!("limit=200&page={}", last + 1)).await;
    assert_eq!(status, 200, "a page past the end is empty, not an error");
    assert!(body["data"].as_array().expect("data").is_empty());
    assert_eq!(body["meta"]["total"], total);

    let (status, body) = get(&base, "q=nosuchpayeeanywhere").await;
    assert_eq!(status, 200);
    assert!(body["data"].as_array().expect("data").is_empty());
    assert_eq!(body["meta"]["total"], 0);
    assert_eq!(body["meta"]["total_pages"], 0);
    assert_eq!(body["meta"]["sum"], json!([]));

    let (_, body) = get(&base, "").await;
    assert_eq!(body["meta"]["limit"], 50, "the seed's default page size");
    assert_eq!(body["meta"]["page"], 1);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_filters_match_their_query_text() {
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let pairs = [
        (
            "start_date=2024-03-01&end_date=2024-03-31",
            "q=date:2024-03",
        ),
        (
            "start_date=2024-03-01T08:00:00Z&end_date=2024-03-31",
            "q=date:2024-03",
        ),
        ("source=credit", "q=acct:credit"),
        ("min_amount=100", "q=amt:%3E%3D100"),
        ("max_amount=-1000", "q=amt:%3C%3D-1000"),
        ("tags=work", "q=tag:work"),
        ("tags=work,review", "q=tag:work%20tag:review"),
        ("tags=trip%3DLisbon", "q=tag:trip%3Dlisbon"),
        ("search=whole%20foods", "q=desc:%22whole%20foods%22"),
    ];
    for (filter, q) in pairs {
        let (s1, a) = get(&base, &format!("{filter}&limit=200")).await;
        let (s2, b) = get(&base, &format!("{q}&limit=200")).await;
        assert_eq!((s1, s2), (200, 200), "{filter} / {q}: {a} {b}");
        assert_eq!(a, b, "{filter} and {q} answer differently");
        assert!(
            a["meta"]["total"].as_u64().expect("total") > 0,
            "{filter} matches something"
        );
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_endpoints_methods_and_big_bodies_answer_in_the_error_format() {
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let (status, _, body) = raw(
        Method::GET,
        &format!("{base}/nothing-here"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _, body) = raw(
        Method::GET,
        &format!("{base}/transactions/no-such-id"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _, body) = raw(
        Method::DELETE,
        &format!("{base}/transactions"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let huge = json!({ "ids": vec!["x".repeat(100); 20_000], "add": ["big"] });
    let (status, _, body) = raw(
        Method::POST,
        &format!("{base}/transactions/bulk-tag"),
        Some(KEY),
        Some(huge),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    served.stop().await;
}

async fn analytics(base: &str, path_and_query: &str) -> (u16, Value) {
    let (status, _, body) = raw(
        Method::GET,
        &format!("{base}/analytics/{path_and_query}"),
        Some(KEY),
        None,
    )
    .await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_query_answers_the_rows_of_summary_and_breakdown() {
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let q = "q=acct:food&start_date=2024-01-01";
    let (status, both) =
        analytics(&base, &format!("query?{q}&group_by=week&dimension=payee")).await;
    assert_eq!(status, 200, "{both}");
    let (_, summary) = analytics(&base, &format!("summary?{q}&group_by=week")).await;
    let (_, breakdown) = analytics(&base, &format!("breakdown?{q}&dimension=payee")).await;
    assert_eq!(both["data"]["summary"], summary["data"]);
    assert_eq!(both["data"]["breakdown"], breakdown["data"]);
    assert!(!both["data"]["summary"].as_array().expect("rows").is_empty());
    assert_eq!(both["meta"]["group_by"], "week");
    let (_, only) = analytics(&base, "query?dimension=tag").await;
    assert!(only["data"].get("summary").is_none() && only["data"]["breakdown"].is_array());
    for (query, param) in [
        ("query?q=coffee", "group_by"),
        ("query?group_by=fortnight", "group_by"),
        ("query?dimension=colour", "dimension"),
        ("query?group_by=month&q=amt:%3Ex", "q"),
        ("projections?months=0", "months"),
        ("projections?months=25", "months"),
        ("projections?months=two", "months"),
    ] {
        let (status, body) = analytics(&base, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["param"], param, "{query}: {body}");
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_over_rest_equal_the_local_ones() {
    use tally::backend::Backend;
    let served = serve_fixture(&[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);
    let (status, body) = analytics(&base, "projections?months=2").await;
    assert_eq!(status, 200, "{body}");
    let remote: tally::analytics::recurring::Projections =
        serde_json::from_value(body["data"].clone()).expect("the documented shape");
    let local = served
        .backend
        .projections(&tally::query::Query::all(), 2)
        .await
        .expect("local");
    assert_eq!(remote, local);
    assert!(remote.accounts.iter().all(|a| a.months.len() == 2));
    let found: Vec<&str> = remote.recurring.iter().map(|r| r.payee.as_str()).collect();
    assert!(found.contains(&"Landlord | rent"), "{found:?}");
    let client = rest_support::client(&served.url);
    let through = client
        .projections(&tally::query::Query::all(), 2)
        .await
        .expect("through the client");
    assert_eq!(through, local);
    served.stop().await;
}
