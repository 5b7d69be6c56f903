//! `tally reconcile` on backends that can edit status but cannot write balance assertions, through the real binary:
//! a Fin X server opened through its mirror (the statuses cleared on the server, as its own data shows, and the
//! statement remembered in the mirror, so the next run — a new process — shows it as the last reconciled; a mirror
//! written before statements were kept is migrated in place and works on), and `tally serve` over a journal (the
//! statuses cleared through the REST API; the plain client has nowhere to keep a statement and says so).

use crate::servers::finx::{FinXAccount, FinXData, FinXOptions, FinXServer, FinXTxn};
use serde_json::Value;
use std::path::{Path, PathBuf};

const ACCOUNT_ID: &str = "acctCHK000000001";

/// Noon UTC on a day of 2025, in Unix seconds.
fn noon(month: u32, day: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(2025, month, day)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("date")
        .and_utc()
        .timestamp()
}

fn txn(id: &str, (month, day): (u32, u32), cents: i64, status: &str) -> FinXTxn {
    FinXTxn {
        id: format!("{id:0>16}"),
        account_id: ACCOUNT_ID.into(),
        amount_cents: cents.abs(),
        kind: if cents < 0 { "debit" } else { "credit" }.into(),
        status: status.into(),
        created_at: noon(month, day),
        updated_at: noon(month, day),
        description: String::new(),
    }
}

/// One checking account: an opening credit the bank completed, three debits still pending in January and one in
/// February. A January statement of 836.00 is the three January debits cleared.
fn bank() -> FinXData {
    let mut transactions = vec![
        txn("open", (1, 2), 100_000, "completed"),
        txn("market", (1, 5), -5_400, "pending"),
        txn("hardware", (1, 11), -3_000, "pending"),
        txn("power", (1, 27), -8_000, "pending"),
        txn("later", (2, 3), -1_000, "pending"),
    ];
    transactions.sort_by(crate::servers::finx::txn_order);
    FinXData {
        accounts: vec![FinXAccount {
            id: ACCOUNT_ID.into(),
            name: "Checking".into(),
            account_type: "checking".into(),
            balance_cents: 82_600,
            currency: "usd".into(),
            created_at: noon(1, 1),
        }],
        transactions,
    }
}

/// `tally --remote URL --dialect finx reconcile --account Checking ...` in a process of its own, with the mirror
/// in `cache`: (success, stdout, stderr).
async fn reconcile(server: &FinXServer, cache: &Path, args: &[&str]) -> (bool, String, String) {
    let config = cache.join("config.toml");
    std::fs::write(&config, "").expect("an empty config");
    let mut c = crate::cli::tally();
    c.args(["--remote", &server.url, "--dialect", "finx", "reconcile"])
        .args(["--account", "Checking"])
        .args(args)
        .env("TALLY_API_KEY", &server.key)
        .env("TALLY_CACHE_DIR", cache)
        .env("TALLY_CONFIG", &config);
    let out = tokio::task::spawn_blocking(move || c.output().expect("tally runs"))
        .await
        .expect("joined");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn statuses(server: &FinXServer) -> Vec<(String, String)> {
    server.with_data(|d| {
        let mut v: Vec<(String, String)> = d
            .transactions
            .iter()
            .map(|t| (t.id.trim_start_matches('0').to_string(), t.status.clone()))
            .collect();
        v.sort();
        v
    })
}

/// The one mirror file the runs made in `cache`.
fn mirror_file(cache: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(cache.join("mirrors"))
        .expect("a mirrors directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sqlite"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// Turns a mirror back into what tally wrote before statements were kept: schema 1, no `statements` table.
fn make_version_1(path: &Path) {
    let conn = rusqlite::Connection::open(path).expect("open the mirror");
    conn.execute_batch("DROP TABLE statements; PRAGMA user_version = 1;")
        .expect("downgrade");
}

fn version_of(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("open the mirror");
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finx_clears_statuses_on_the_server_and_the_mirror_remembers_the_statement() {
    let server = FinXServer::start(FinXOptions::default()).await;
    server.with_data(|d| *d = bank());
    let cache = tempfile::tempdir().expect("cache");

    let (ok, out, err) = reconcile(
        &server,
        cache.path(),
        &[
            "--date",
            "2025-01-31",
            "--balance",
            "836",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let doc = json(&out);
    assert_eq!(doc["last_statement"], Value::Null, "nothing reconciled yet");
    assert_eq!(doc["proposal"].as_array().map(Vec::len), Some(3), "{doc}");
    assert_eq!(doc["remembered"], Value::Null, "looking remembers nothing");

    let (ok, out, err) = reconcile(
        &server,
        cache.path(),
        &["--date", "2025-01-31", "--balance", "836", "--apply"],
    )
    .await;
    assert!(ok, "{err}");
    for want in [
        "last reconciled: none known",
        "marked 3 transaction(s) cleared",
        "no balance assertion: a server has no balance assertions",
        "statement remembered as the last reconciled: 2025-01-31 836.00 USD",
    ] {
        assert!(out.contains(want), "{want:?} in:\n{out}");
    }
    let completed = |ids: &[&str]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = ["open", "market", "hardware", "power", "later"]
            .iter()
            .map(|id| {
                let status = if ids.contains(id) {
                    "completed"
                } else {
                    "pending"
                };
                (id.to_string(), status.to_string())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        statuses(&server),
        completed(&["open", "market", "hardware", "power"]),
        "the server's own data: January completed, February still pending"
    );

    // A new process: the mirror says what was reconciled last.
    let (ok, out, err) = reconcile(
        &server,
        cache.path(),
        &[
            "--date",
            "2025-01-31",
            "--balance",
            "836",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let doc = json(&out);
    assert_eq!(
        doc["last_statement"],
        serde_json::json!({"date": "2025-01-31", "balance": {"commodity": "USD", "quantity": "836"}})
    );
    assert_eq!(
        doc["proposal"],
        Value::Array(vec![]),
        "nothing left to clear"
    );

    // A mirror from before statements were kept: migrated in place, its data and the sync kept, and it works on.
    let file = mirror_file(cache.path());
    make_version_1(&file);
    let (ok, out, err) = reconcile(
        &server,
        cache.path(),
        &["--date", "2025-01-31", "--balance", "836"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(!err.contains("rebuilt"), "migrated, not rebuilt: {err}");
    assert!(!file.with_extension("sqlite.old").exists());
    assert_eq!(version_of(&file), 2);
    assert!(
        out.contains("last reconciled: none known"),
        "a version 1 mirror had no statements: {out}"
    );
    let (ok, out, err) = reconcile(
        &server,
        cache.path(),
        &["--date", "2025-02-28", "--balance", "826.00 USD", "--apply"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("statement remembered as the last reconciled: 2025-02-28 826.00 USD"),
        "{out}"
    );
    assert_eq!(
        statuses(&server),
        completed(&["open", "market", "hardware", "power", "later"])
    );
    let (ok, out, err) = reconcile(
        &server,
        cache.path(),
        &["--date", "2025-02-28", "--balance", "826"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("last reconciled: 2025-02-28 826.00 USD"),
        "{out}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_not_made_up_exactly_is_not_remembered() {
    let server = FinXServer::start(FinXOptions::default()).await;
    server.with_data(|d| *d = bank());
    let cache = tempfile::tempdir().expect("cache");
    // 840 is no set of the pending debits: apply refuses, nothing is cleared or remembered.
    let (ok, _, err) = reconcile(
        &server,
        cache.path(),
        &["--date", "2025-01-31", "--balance", "840", "--apply"],
    )
    .await;
    assert!(!ok && err.contains("nothing was written"), "{err}");
    let (ok, out, err) = reconcile(
        &server,
        cache.path(),
        &[
            "--date",
            "2025-01-31",
            "--balance",
            "836",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(json(&out)["last_statement"], Value::Null);
    assert!(
        server.with_data(|d| d
            .transactions
            .iter()
            .filter(|t| t.status == "pending")
            .count())
            == 4
    );
    server.stop().await;
}

const BANK: &str = "2025-01-01 * Opening balance
    assets:bank                 $1,000.00 = $1,000.00
    equity:opening

2025-01-04 Farmers market
    expenses:food                  $54.00
    assets:bank

2025-01-11 Hardware store
    expenses:home                 $30.00
    assets:bank                  $-30.00

2025-02-02 Later
    expenses:food  $10.00
    assets:bank
";

/// `tally serve` over a journal, `tally --remote` reconciling through it: the statuses cleared in the file through
/// the REST API, no assertion, and the plain client says it keeps no statement rather than pretending to.
#[test]
fn tally_serve_clears_statuses_through_the_api_and_keeps_no_statement() {
    let home = tempfile::tempdir().expect("tempdir");
    let served = home.path().join("served.journal");
    std::fs::write(&served, BANK).expect("journal");
    let (_server, url) = crate::rest_cli::start(home.path(), &served);
    let reconcile = |extra: &[&str]| {
        let mut c = crate::rest_cli::tally(home.path());
        c.args(["--remote", &url, "reconcile", "--account", "assets:bank"])
            .args(["--date", "2025-01-31", "--balance", "$916"])
            .args(extra);
        crate::rest_cli::run(c)
    };
    let out = reconcile(&["--apply"]);
    for want in [
        "last reconciled: none known",
        "marked 2 transaction(s) cleared",
        "no balance assertion: the REST API has no balance assertions",
        "statement not remembered:",
        "has nowhere to keep it",
    ] {
        assert!(out.contains(want), "{want:?} in:\n{out}");
    }
    let text = std::fs::read_to_string(&served).expect("read");
    assert_eq!(
        text,
        BANK.replace("2025-01-04 Farmers", "2025-01-04 * Farmers")
            .replace("2025-01-11 Hardware", "2025-01-11 * Hardware"),
        "only the two status marks changed"
    );
    let doc = json(&reconcile(&["--format", "json"]));
    assert_eq!(doc["last_statement"], Value::Null);
    assert_eq!(doc["proposal"], Value::Array(vec![]));
}
