//! The ledger-damage cases an outside check found (issue 9), each through the path a person uses — the command
//! line, `tally serve`, the backend the dashboard drives — and judged by hledger where it can judge: a code holding
//! `;`, a tag named with a different case, a tag only on a posting, a renamed posting that carries a balance
//! assertion, lone-CR line endings, bad values over REST, temp files a crash left behind (read by `include` globs
//! before), kill -9 in the middle of a save, and files or directories tally may not write.

use crate::cli::tally;
use crate::conformance_suite::{hledger_balances, hledger_count};
use crate::rest_support::{KEY, raw, serve_text};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tally::backend::Backend;
use tally::backend::TxnPatch;
use tally::backend::journal::JournalBackend;
use tally::query::Query;

const ODD: &str = "2024-01-01 * (a;b) Shop\n    expenses:food  $10\n    assets:bank\n\n\
                   2024-01-02 Cafe | lunch  ; Tst:X\n    expenses:food  $5  ; trip:paris\n    assets:bank\n\n\
                   2024-01-03 Grocer  ; a,b:c\n    expenses:food  $20  = $35\n    assets:bank\n";

fn hledger_present() -> bool {
    let found = Command::new("hledger")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("TALLY_REQUIRE_HLEDGER").as_deref() != Ok("1"),
        "hledger is not installed but TALLY_REQUIRE_HLEDGER=1"
    );
    found
}

/// hledger's reading of the transactions matching `query`.
fn hledger_print(journal: &Path, query: &str) -> Vec<Value> {
    let out = Command::new("hledger")
        .arg("-f")
        .arg(journal)
        .args(["print", "-O", "json"])
        .args(query.split_whitespace())
        .output()
        .expect("run hledger");
    assert!(
        out.status.success(),
        "hledger rejects the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("hledger JSON");
    v.as_array().expect("array").clone()
}

fn tags_of(t: &Value) -> Vec<(String, String)> {
    t["ttags"]
        .as_array()
        .expect("ttags")
        .iter()
        .map(|p| {
            (
                p[0].as_str().expect("name").to_string(),
                p[1].as_str().expect("value").to_string(),
            )
        })
        .collect()
}

fn write_journal(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.journal");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

fn cli(journal: &Path, args: &[&str]) -> std::process::Output {
    tally()
        .args(args)
        .arg("-f")
        .arg(journal)
        .output()
        .expect("run tally")
}

#[test]
fn cli_tag_edits_read_as_hledger_reads_them() {
    if !hledger_present() {
        return;
    }
    let (_dir, path) = write_journal(ODD);
    // A code with ';': the tag goes in the comment, not the description.
    assert!(
        cli(&path, &["tag", "-q", "desc:Shop", "--add", "work"])
            .status
            .success()
    );
    let shop = &hledger_print(&path, "desc:Shop")[0];
    assert_eq!(
        (&shop["tcode"], &shop["tdescription"]),
        (&json!("a;b"), &json!("Shop"))
    );
    assert_eq!(tags_of(shop), [("work".to_string(), String::new())]);

    // Tag names are case-sensitive when adding: `tst` is a new tag, `Tst:X` keeps its value.
    assert!(
        cli(&path, &["tag", "-q", "desc:Cafe", "--add", "tst"])
            .status
            .success()
    );
    let cafe = &hledger_print(&path, "desc:Cafe")[0];
    assert!(
        tags_of(cafe).contains(&("Tst".into(), "X".into())),
        "{cafe}"
    );
    assert!(
        tags_of(cafe).contains(&("tst".into(), String::new())),
        "{cafe}"
    );

    // A tag only on a posting is removed where it is (removal ignores case, as hledger's queries do).
    assert_eq!(hledger_count(&path, "tag:trip"), 1);
    let out = cli(&path, &["tag", "-q", "tag:trip", "--remove", "TRIP"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(hledger_count(&path, "tag:trip"), 0);

    // `; a,b:c` is the tag `a,b` to both.
    let out = cli(
        &path,
        &["transactions", "-q", "desc:Grocer", "--format", "json"],
    );
    let ours: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(ours[0]["tags"][0]["name"], "a,b", "{ours}");
    assert_eq!(ours[0]["tags"][0]["value"], "c", "{ours}");
    let grocer = &hledger_print(&path, "desc:Grocer")[0];
    assert_eq!(tags_of(grocer), [("a,b".to_string(), "c".to_string())]);
}

async fn first_id(base: &str, q: &str) -> String {
    let (_, _, page) = raw(
        Method::GET,
        &format!("{base}/transactions?q={q}"),
        Some(KEY),
        None,
    )
    .await;
    page["data"][0]["id"].as_str().expect("id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_edits_of_odd_entries_answer_truthfully() {
    let served = serve_text(ODD, &[KEY], 0).await;
    let base = format!("{}/api/v1", served.url);

    // A note on an entry whose code holds ';': 200, and the new id answers.
    let id = first_id(&base, "desc:Shop").await;
    let url = format!("{base}/transactions/{id}");
    let (status, _, body) = raw(Method::PATCH, &url, Some(KEY), Some(json!({"note": "nn"}))).await;
    assert_eq!(status, 200, "{body}");
    let new_id = body["data"]["id"].as_str().expect("id");
    let (status, _, got) = raw(
        Method::GET,
        &format!("{base}/transactions/{new_id}"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!((status, &got["data"]["note"]), (200, &json!("nn")), "{got}");

    // Bad values are the caller's: 400 naming the field, and the file untouched.
    let before = std::fs::read(&served.journal).expect("read");
    let id = first_id(&base, "desc:Cafe").await;
    let url = format!("{base}/transactions/{id}");
    for (patch, param) in [
        (json!({"note": "a;b"}), "note"),
        (json!({"category": "expenses:  bad"}), "category"),
        (json!({"category": ""}), "category"),
    ] {
        let (status, _, body) = raw(Method::PATCH, &url, Some(KEY), Some(patch.clone())).await;
        assert_eq!(status, 400, "{patch}: {body}");
        assert_eq!(body["error"]["param"], param, "{patch}: {body}");
    }
    assert_eq!(std::fs::read(&served.journal).expect("read"), before);

    // Renaming the account of a posting with a balance assertion would leave a file hledger rejects: refused.
    let id = first_id(&base, "desc:Grocer").await;
    let url = format!("{base}/transactions/{id}");
    let patch = json!({"category": "expenses:groceries"});
    let (status, _, body) = raw(Method::PATCH, &url, Some(KEY), Some(patch)).await;
    assert!((400..500).contains(&status), "{status}: {body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("assertion"), "{message}");
    assert_eq!(std::fs::read(&served.journal).expect("read"), before);
    if hledger_present() {
        assert_eq!(hledger_count(&served.journal, "acct:groceries"), 0);
    }
    served.stop().await;
}

#[tokio::test]
async fn a_note_on_a_lone_cr_file_changes_only_the_note() {
    let text = ODD.replace('\n', "\r");
    let (_dir, path) = write_journal(&text);
    let backend = JournalBackend::open(&path).expect("open");
    let all = backend
        .transactions(&Query::all(), Default::default())
        .await
        .expect("list");
    assert_eq!(all.total, 3);
    assert!(all.items.iter().all(|t| t.postings.len() == 2));
    let shop = all.items.iter().find(|t| t.payee == "Shop").expect("Shop");
    let patch = TxnPatch {
        note: Some("receipt".into()),
        ..TxnPatch::default()
    };
    backend
        .update_transaction(&shop.id, &patch)
        .await
        .expect("note saved");
    let after = std::fs::read_to_string(&path).expect("read");
    assert!(!after.contains('\n'), "line endings kept: {after:?}");
    assert_eq!(
        after,
        text.replacen("(a;b) Shop\r", "(a;b) Shop | receipt\r", 1)
    );
    if hledger_present() {
        let accounts: Vec<String> = hledger_print(&path, "")
            .iter()
            .flat_map(|t| t["tpostings"].as_array().expect("postings").clone())
            .map(|p| p["paccount"].as_str().expect("account").to_string())
            .collect();
        assert!(
            accounts
                .iter()
                .all(|a| a == "expenses:food" || a == "assets:bank"),
            "{accounts:?}"
        );
    }
}

#[test]
fn temp_files_left_by_a_crash_are_not_read_and_are_cleaned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let main = dir.path().join("main.journal");
    std::fs::write(&main, "include sub/*\n").expect("write");
    let part = "2024-02-01 Rent\n    expenses:rent  $900\n    assets:bank\n";
    std::fs::write(sub.join("a.journal"), part).expect("write");
    let leftover = sub.join(".a.journal.tally-0123abcd.tmp");
    std::fs::write(&leftover, part).expect("write");

    let out = cli(&main, &["balances", "--format", "json"]);
    assert!(out.status.success(), "{out:?}");
    let ours: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let text = ours.to_string();
    assert!(text.contains("900") && !text.contains("1800"), "{text}");
    if hledger_present() {
        let theirs = hledger_balances(&main);
        let rent = crate::conformance_suite::non_zero(&theirs["expenses:rent"]);
        assert_eq!(rent, [("$".to_string(), rust_decimal::Decimal::from(900))]);
    }
    assert!(!leftover.exists(), "the leftover is removed on open");
}

/// The temp file of a save in progress beside `journal`, if any.
fn temp_beside(journal: &Path) -> Option<std::path::PathBuf> {
    let dir = journal.parent().expect("dir");
    std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".tmp"))
}

#[test]
fn kill_9_during_a_save_leaves_the_ledger_whole_and_the_next_open_cleans_up() {
    let (_dir, path) = write_journal(ODD);
    let before = std::fs::read(&path).expect("read");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tally"))
        .env(
            "TALLY_DATA_DIR",
            std::env::temp_dir().join("tally-cli-tests-data"),
        )
        .env_remove("TALLY_CONFIG")
        .env(tally::backend::journal::write::SLOW_SAVE_ENV, "20000")
        .args(["tag", "-q", "", "--add", "x", "-f"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn tally");
    let started = Instant::now();
    let temp = loop {
        if let Some(t) = temp_beside(&path) {
            break t;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no temp file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    assert!(temp.exists());
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "the ledger is whole"
    );

    let out = cli(&path, &["balances"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        !temp.exists(),
        "the next open removes what the killed save left"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[cfg(unix)]
#[tokio::test]
async fn files_and_directories_tally_may_not_write_are_said_up_front() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = write_journal(ODD);
    let before = std::fs::read(&path).expect("read");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");

    let out = cli(&path, &["tag", "-q", "", "--add", "x"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "never rewritten"
    );
    assert_eq!(
        std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777,
        0o444
    );
    let caps = JournalBackend::open(&path).expect("open").capabilities();
    assert!(!caps.edit_tags && !caps.edit_status && !caps.bulk_tag);
    assert!(caps.reasons["edit_tags"].contains("read-only"), "{caps:?}");

    // A writable file in a directory that is not: said at open, before any save.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555))
        .expect("chmod dir");
    let caps = JournalBackend::open(&path).expect("open").capabilities();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod dir");
    assert!(!caps.edit_tags, "{caps:?}");
    assert!(caps.reasons["edit_tags"].contains("directory"), "{caps:?}");
}
