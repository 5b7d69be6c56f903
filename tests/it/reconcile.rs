//! `tally reconcile` on real files, with hledger as the judge: the cleared balance equals `hledger bal ACCT -C`, an
//! applied statement leaves `hledger bal ACCT` equal to it and `hledger check` passing (the written assertion holds),
//! the file changes only in the touched status marks and the assertion, and undo gives the file back byte for byte.
//! Cases: an exact set, a typo with no exact set, outstanding postings that keep the assertion out, subaccounts
//! (`=*`), a last posting with no written amount, the latest assertion as the journal's last statement, a server
//! (statuses only, and a plain REST client that keeps no statement), and mistyped arguments.

use crate::cli::{hledger_available, tally};
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::str::FromStr;
use tally::backend::Backend;
use tally::backend::journal::JournalBackend;
use tally::reconcile::{Statement, session};

/// Odd syntax around the postings reconciling touches: a code, tags, comment lines, an elided amount, a cost, an
/// existing assertion, digit groups, trailing comments.
const BANK: &str = "; Bank statement fixture
commodity $1,000.00
account assets:bank

2025-01-01 * Opening balance
    assets:bank                 $1,000.00 = $1,000.00
    equity:opening

2025-01-04 Farmers market  ; market:, review:
    ; a comment line before the postings
    expenses:food                  $54.00  ; the bank says 45
    assets:bank                           ; elided amount

2025-01-08 * Paycheck | January
    assets:bank               $2,000.00
    income:salary

2025-01-11 (102) Hardware store
    expenses:home                 $30.00
    assets:bank                  $-30.00   ; receipt:yes

2025-01-15 Euro purchase
    expenses:travel        20 EUR @ $1.10
    assets:bank                 $-22.00

2025-01-27 Electricity  ; utility:
    expenses:utilities  $80.00
    assets:bank  $-80.00  ; paid online

2025-02-02 Later
    expenses:food  $10.00
    assets:bank
";

fn journal(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bank.journal");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

fn hledger(file: &Path, args: &[&str]) -> std::process::Output {
    Std::new("hledger")
        .arg("-f")
        .arg(file)
        .args(args)
        .output()
        .expect("run hledger")
}

/// `hledger bal` of the account family up to the end of `date`: the `$` part of its total.
fn hledger_total(file: &Path, account: &str, end: &str, cleared: bool) -> Decimal {
    let pattern = format!("^{account}(:|$)");
    let mut args = vec!["bal", pattern.as_str(), "-e", end, "-O", "csv"];
    if cleared {
        args.push("-C");
    }
    let out = hledger(file, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    let total = text
        .lines()
        .find(|l| l.starts_with("\"total\""))
        .expect("total row");
    let field = total
        .split("\",\"")
        .nth(1)
        .expect("amount")
        .trim_end_matches('"');
    let dollars = field
        .split(", ")
        .find(|a| a.contains('$'))
        .unwrap_or("0")
        .replace(['$', ','], "");
    Decimal::from_str(&dollars).expect("decimal")
}

fn check_passes(file: &Path) {
    let out = hledger(file, &["check"]);
    assert!(
        out.status.success(),
        "hledger check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(file: &Path, balance: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    tally()
        .arg("-f")
        .arg(file)
        .args([
            "reconcile",
            "--account",
            "assets:bank",
            "--date",
            "2025-01-31",
        ])
        .args(["--balance", balance])
        .args(extra)
        .assert()
}

fn json_of(a: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&a.get_output().stdout).expect("json")
}

fn quantity(v: &Value) -> Decimal {
    Decimal::from_str(v["quantity"].as_str().expect("quantity")).expect("decimal")
}

#[test]
fn an_exact_statement_is_cleared_and_asserted_in_one_byte_exact_save() {
    let (_dir, file) = journal(BANK);
    let shown = run(&file, "$2,814.00", &["--format", "json"]).success();
    let doc = json_of(&shown);
    assert_eq!(quantity(&doc["cleared"]), Decimal::from(3000));
    assert_eq!(quantity(&doc["difference"]), Decimal::from(-186));
    assert_eq!(doc["cleared"]["commodity"], "$");
    let proposal = doc["proposal"].as_array().expect("proposal");
    let lines: Vec<&str> = proposal
        .iter()
        .map(|p| p["location"].as_str().expect("location"))
        .collect();
    let name = file.display().to_string();
    assert_eq!(
        lines,
        [9, 18, 22, 26].map(|l| format!("{name}:{l}")),
        "all four, oldest first"
    );
    assert_eq!(proposal[0]["date"], "2025-01-04");
    assert_eq!(proposal[0]["description"], "Farmers market");
    assert_eq!(proposal[0]["amount"]["commodity"], "$");
    assert_eq!(quantity(&proposal[0]["amount"]), Decimal::from(-54));
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        BANK,
        "looking writes nothing"
    );
    if hledger_available() {
        assert_eq!(
            hledger_total(&file, "assets:bank", "2025-02-01", true),
            Decimal::from(3000)
        );
    }

    run(&file, "$2,814.00", &["--apply"])
        .success()
        .stdout(predicates::str::contains(
            "balance assertion written: $2814.00",
        ));
    let want = BANK
        .replace("2025-01-04 Farmers", "2025-01-04 * Farmers")
        .replace("2025-01-11 (102)", "2025-01-11 * (102)")
        .replace("2025-01-15 Euro", "2025-01-15 * Euro")
        .replace("2025-01-27 Electricity", "2025-01-27 * Electricity")
        .replace(
            "$-80.00  ; paid online",
            "$-80.00 = $2814.00  ; paid online",
        );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), want);
    if hledger_available() {
        check_passes(&file);
        assert_eq!(
            hledger_total(&file, "assets:bank", "2025-02-01", false),
            Decimal::from(2814)
        );
        assert_eq!(
            hledger_total(&file, "assets:bank", "2025-02-01", true),
            Decimal::from(2814)
        );
    }
    // Again: everything is cleared and asserted, nothing left to write.
    let again = json_of(&run(&file, "$2814", &["--apply", "--format", "json"]).success());
    assert_eq!(again["proposal"], Value::Array(vec![]));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), want);
}

#[test]
fn a_typo_is_pointed_out_and_apply_refuses_without_an_exact_set() {
    let (_dir, file) = journal(BANK);
    // The bank paid 45.00 at the market, not the 54.00 entered.
    let doc = json_of(&run(&file, "$2823", &["--format", "json"]).success());
    assert_eq!(doc["exact"], false);
    assert_eq!(doc["proposal"], Value::Array(vec![]));
    assert_eq!(
        doc["search"]["cut"], false,
        "four postings: every set tried"
    );
    let typo = &doc["typo"];
    let name = file.display().to_string();
    assert_eq!(typo["posting"]["location"], format!("{name}:9"));
    assert_eq!(quantity(&typo["likely"]), Decimal::from(-45));
    assert_eq!(typo["kind"], "transposed");
    assert_eq!(typo["with"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["closest"]["description"], "Electricity");
    let table = run(&file, "$2823", &[]).success();
    let text = String::from_utf8_lossy(&table.get_output().stdout).to_string();
    assert!(
        text.contains("likely typo") && text.contains("probably -$45.00"),
        "{text}"
    );

    let refused = run(&file, "$2823", &["--apply"]).failure();
    let err = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(
        err.contains("no set of uncleared postings") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), BANK);
}

#[test]
fn outstanding_postings_keep_the_assertion_out() {
    let (_dir, file) = journal(BANK);
    // The electricity bill is not on the statement yet.
    let applied = run(&file, "$2894", &["--apply", "--format", "json"]).success();
    let doc = json_of(&applied);
    assert_eq!(doc["proposal"].as_array().map(Vec::len), Some(3));
    let outstanding = doc["outstanding"].as_array().expect("outstanding");
    assert_eq!(outstanding.len(), 1);
    assert_eq!(outstanding[0]["description"], "Electricity");
    assert_eq!(doc["assertion"]["written"], false);
    assert!(
        doc["assertion"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("1 uncleared")),
        "{doc}"
    );
    let text = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        text.matches(" = ").count(),
        1,
        "only the opening assertion: {text}"
    );
    assert!(text.contains("2025-01-27 Electricity"));
    if hledger_available() {
        check_passes(&file);
        assert_eq!(
            hledger_total(&file, "assets:bank", "2025-02-01", true),
            Decimal::from(2894)
        );
    }
}

const FAMILY: &str = "2025-01-01 * Open
    assets:bank              $500.00
    assets:bank:savings      $300.00
    equity

2025-01-05 * Move
    assets:bank:savings  $100.00
    assets:bank  $-100.00

2025-01-09 Shop
    expenses  $25.00
    assets:bank  $-25.00
";

#[test]
fn subaccounts_count_as_hledger_bal_counts_them_and_the_assertion_includes_them() {
    let (_dir, file) = journal(FAMILY);
    let doc = json_of(&run(&file, "775", &["--apply", "--format", "json"]).success());
    assert_eq!(quantity(&doc["cleared"]), Decimal::from(800));
    assert_eq!(
        doc["balance"]["commodity"], "$",
        "a bare number takes the account's commodity"
    );
    assert_eq!(doc["assertion"]["inclusive"], true);
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(
        text.contains("    assets:bank  $-25.00 =* $775.00\n"),
        "{text}"
    );
    if hledger_available() {
        check_passes(&file);
        assert_eq!(
            hledger_total(&file, "assets:bank", "2025-02-01", false),
            Decimal::from(775)
        );
    }
}

/// The last posting on or before the date has no written amount (hledger infers it): an assertion alone would be a
/// balance assignment, so the amount is written out with it, in the style of the entry's other posting; hledger checks
/// the assertion, and undo takes both off again, giving the file back byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_posting_without_an_amount_gets_it_written_with_the_assertion() {
    let text = FAMILY.replace("assets:bank  $-25.00", "assets:bank");
    let (_dir, file) = journal(&text);
    let backend = JournalBackend::open(&file).expect("open");
    let statement = Statement {
        account: "assets:bank".into(),
        date: chrono::NaiveDate::from_ymd_opt(2025, 1, 31).expect("date"),
        balance: tally::domain::Money::new(Decimal::from(775), "$"),
    };
    let loaded = session::load(&backend, &statement, &session::LoadOptions::default())
        .await
        .expect("load");
    let applied = session::apply(&backend, &loaded).await.expect("apply");
    assert!(applied.assertion.is_ok(), "{:?}", applied.assertion);
    let after = std::fs::read_to_string(&file).expect("read");
    assert!(
        after.contains(
            "2025-01-09 * Shop\n    expenses  $25.00\n    assets:bank  -$25.00 =* $775.00\n"
        ),
        "{after}"
    );
    if hledger_available() {
        check_passes(&file);
    }
    let entry = &applied.applied.entries[0];
    tally::ops::revert(&backend, entry, tally::ops::Direction::Undo)
        .await
        .expect("undo");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_gives_the_file_back_and_redo_writes_it_again() {
    let (_dir, file) = journal(BANK);
    let backend = JournalBackend::open(&file).expect("open");
    let statement = Statement {
        account: "assets:bank".into(),
        date: chrono::NaiveDate::from_ymd_opt(2025, 1, 31).expect("date"),
        balance: tally::domain::Money::new(Decimal::from(2814), "$"),
    };
    let loaded = session::load(&backend, &statement, &session::LoadOptions::default())
        .await
        .expect("load");
    let uncleared: Vec<&str> = loaded
        .postings
        .iter()
        .take(4)
        .map(|p| p.description.as_str())
        .collect();
    assert_eq!(
        uncleared,
        [
            "Farmers market",
            "Hardware store",
            "Euro purchase",
            "Electricity"
        ]
    );
    let applied = session::apply(&backend, &loaded).await.expect("apply");
    assert!(applied.assertion.is_ok());
    let entry = &applied.applied.entries[0];
    assert_eq!(applied.applied.entries.len(), 1, "one undo step");
    let after = std::fs::read_to_string(&file).expect("read");
    assert!(after.contains("= $2814.00"));
    let (entry, _) = tally::ops::revert(&backend, entry, tally::ops::Direction::Undo)
        .await
        .expect("undo");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), BANK);
    tally::ops::revert(&backend, &entry, tally::ops::Direction::Redo)
        .await
        .expect("redo");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_knows_its_last_statement_from_its_latest_assertion() {
    let (_dir, file) = journal(BANK);
    let backend = JournalBackend::open(&file).expect("open");
    let on = |m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(2025, m, d).expect("date");
    let dollars = |n: i64| tally::domain::Money::new(Decimal::from(n), "$");
    assert_eq!(
        backend.last_statement("assets:bank").await.expect("read"),
        Some(Statement {
            account: "assets:bank".into(),
            date: on(1, 1),
            balance: dollars(1000),
        }),
        "the opening balance's assertion"
    );
    assert_eq!(
        backend.last_statement("expenses:food").await.expect("read"),
        None,
        "no assertion names it"
    );
    let statement = Statement {
        account: "Assets:Bank".into(),
        date: on(1, 31),
        balance: dollars(2814),
    };
    let loaded = session::load(&backend, &statement, &session::LoadOptions::default())
        .await
        .expect("load");
    let applied = session::apply(&backend, &loaded).await.expect("apply");
    assert!(applied.assertion.is_ok());
    assert_eq!(applied.remembered, None, "the assertion is the memory");
    let last = backend
        .last_statement("ASSETS:BANK")
        .await
        .expect("read")
        .expect("the new assertion");
    // The file holds the assertion, not the statement's own date: the asserted posting's date (the last posting on
    // or before the statement date) is what it knows.
    assert_eq!(
        (last.account.as_str(), last.date, &last.balance),
        ("assets:bank", on(1, 27), &dollars(2814))
    );
    // Another process reads it from the file.
    let shown = run(&file, "$2814", &[]).success();
    let text = String::from_utf8_lossy(&shown.get_output().stdout).to_string();
    assert!(
        text.contains("last reconciled: 2025-01-27 $2814.00"),
        "{text}"
    );
    let doc = json_of(&run(&file, "$2814", &["--format", "json"]).success());
    assert_eq!(
        doc["last_statement"],
        serde_json::json!({"date": "2025-01-27", "balance": {"commodity": "$", "quantity": "2814"}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_clears_statuses_and_says_it_cannot_assert() {
    let served = crate::rest_support::serve_text(BANK, &[crate::rest_support::KEY], 0).await;
    let client = crate::rest_support::client(&served.url);
    let caps = client.capabilities();
    assert!(!caps.balance_assertions);
    let statement = Statement {
        account: "assets:bank".into(),
        date: chrono::NaiveDate::from_ymd_opt(2025, 1, 31).expect("date"),
        balance: tally::domain::Money::new(Decimal::from(2814), "$"),
    };
    let loaded = session::load(&client, &statement, &session::LoadOptions::default())
        .await
        .expect("load");
    assert_eq!(loaded.reconciliation.proposal.len(), 4);
    let applied = session::apply(&client, &loaded).await.expect("apply");
    let why = applied.assertion.expect_err("no assertion over REST");
    assert!(why.contains("no balance assertions"), "{why}");
    let kept = applied
        .remembered
        .expect("a server remembers in an assertion's place");
    assert!(
        kept.as_ref()
            .is_err_and(|why| why.contains("nowhere to keep it")),
        "the plain client keeps no statement and says so: {kept:?}"
    );
    assert_eq!(
        client.last_statement("assets:bank").await.expect("read"),
        None
    );
    let text = std::fs::read_to_string(&served.journal).expect("read");
    assert!(
        text.contains("2025-01-27 * Electricity") && !text.contains("2814"),
        "{text}"
    );
    served.stop().await;
}

#[test]
fn mistyped_arguments_name_the_field() {
    let (_dir, file) = journal(BANK);
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--date", "2025-13-01", "--balance", "$1"], &["--date"]),
        (
            &["--date", "2025-01-31", "--balance", "$1..2"],
            &["--balance"],
        ),
        (
            &["--date", "2025-01-31", "--balance", "1,000"],
            &["--balance", "digit group"],
        ),
        (
            &["--date", "2025-01-31", "--balance", "100 EUR"],
            &["--balance", "holds $, not EUR"],
        ),
        (&["--date", "2025-01-31", "--balance", "$1"], &[]),
    ];
    for (args, want) in cases {
        let a = tally()
            .arg("-f")
            .arg(&file)
            .args(["reconcile", "--account", "assets:bank"])
            .args(args)
            .assert();
        if want.is_empty() {
            a.success();
            continue;
        }
        let err = String::from_utf8_lossy(&a.failure().get_output().stderr).to_string();
        for w in want {
            assert!(err.contains(w), "{args:?}: {err}");
        }
    }
    let unknown = tally()
        .arg("-f")
        .arg(&file)
        .args([
            "reconcile",
            "--account",
            "assets:bnak",
            "--date",
            "2025-01-31",
            "--balance",
            "$1",
        ])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&unknown.get_output().stderr).to_string();
    assert!(
        err.contains("--account: no account named assets:bnak")
            && err.contains("did you mean assets:bank"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), BANK);
}
