//! CSV import against hledger itself: for each fixture (a bank CSV and the hledger rules file for it, together
//! covering skip, fields, separator, date-format, decimal-mark, newest-first, currency, account1/2, amount,
//! amount-in/out, description/comment/status/code templates with %field and %N, if blocks with several matchers and
//! `&`, if tables, include, balance and date2), the transactions tally makes — written as journal text and read back
//! by hledger — equal what `hledger -f CSV --rules-file RULES print` makes: dates, status, code, description,
//! comment, accounts, amounts and balance assertions (compared as hledger's JSON, positions and display styles left
//! out).
use crate::oracle::hledger_present;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csv")
        .join(name)
}

/// hledger's JSON of `print`, without what differs by origin (positions, indices, display styles).
fn hledger_print(args: &[&std::ffi::OsStr]) -> Value {
    let out = std::process::Command::new("hledger")
        .args(args)
        .args(["print", "-I", "-O", "json"])
        .output()
        .expect("run hledger");
    assert!(
        out.status.success(),
        "hledger: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    strip(&mut json);
    json
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for key in [
                "tsourcepos",
                "tindex",
                "astyle",
                "ptransaction_",
                "poriginal",
                "tprecedingcomment",
                "baposition",
            ] {
                map.remove(key);
            }
            // 4.5 and 4.50 are the same quantity.
            if let (Some(m), Some(p)) = (
                map.get("decimalMantissa").and_then(Value::as_i64),
                map.get("decimalPlaces").and_then(Value::as_u64),
            ) {
                let q = rust_decimal::Decimal::new(m, p as u32).normalize();
                *v = Value::String(q.to_string());
                return;
            }
            map.remove("floatingPoint");
            // A journal keeps a comment's line ending; the CSV reader has none.
            for key in ["tcomment", "pcomment"] {
                if let Some(Value::String(c)) = map.get_mut(key) {
                    *c = c.trim_end().to_string();
                }
            }
            for x in map.values_mut() {
                strip(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

#[test]
fn imported_transactions_equal_hledgers_csv_reader() {
    if !hledger_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["basic", "euro", "skips"] {
        let csv = fixture(&format!("{name}.csv"));
        let rules_path = fixture(&format!("{name}.rules"));
        let rules = tally::import::rules::Rules::load(&rules_path).expect("rules");
        let text = std::fs::read_to_string(&csv).expect("csv");
        let read = tally::import::reader::read(&csv, &text, &rules).expect("read");
        let journal: String = read
            .imported
            .iter()
            .map(|t| t.journal_text() + "\n")
            .collect();
        let out = dir.path().join(format!("{name}.journal"));
        std::fs::write(&out, &journal).expect("write");
        let want = hledger_print(&[
            "-f".as_ref(),
            csv.as_os_str(),
            "--rules-file".as_ref(),
            rules_path.as_os_str(),
        ]);
        let got = hledger_print(&["-f".as_ref(), out.as_os_str()]);
        assert_eq!(
            got, want,
            "{name}: tally's import (as hledger reads it) differs:\n{journal}"
        );
    }
}

#[test]
fn a_rule_that_skips_says_which_line() {
    let rules = tally::import::rules::Rules::load(&fixture("skips.rules")).expect("rules");
    let csv = fixture("skips.csv");
    let text = std::fs::read_to_string(&csv).expect("csv");
    let read = tally::import::reader::read(&csv, &text, &rules).expect("read");
    assert_eq!(read.skipped, vec![3], "the PENDING HOLD row");
    assert_eq!(read.imported.len(), 2);
    let bad = "date,amount\n2025-13-40,1\n";
    let rules =
        tally::import::rules::Rules::parse(Path::new("b.rules"), "skip 1\nfields date, amount\n")
            .expect("rules");
    let e = tally::import::reader::read(Path::new("bank.csv"), bad, &rules).expect_err("bad date");
    assert_eq!(e.line, 2);
    assert!(e.to_string().starts_with("bank.csv:2: date:"), "{e}");
}

/// `tally import` end to end on the command line: a dry run writes nothing and says what would happen; the import
/// appends the new rows in one write (two equal coffees on one day are two transactions), leaves out the row the
/// journal already had (naming its `FILE:LINE`), and a second run adds nothing; hledger reads the result.
#[test]
fn importing_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("main.journal");
    let held =
        "2025-01-03 * Whole Foods 123\n    assets:bank:checking  $-54.20\n    expenses:groceries\n";
    std::fs::write(&journal, held).expect("write");
    let csv = dir.path().join("bank.csv");
    std::fs::copy(fixture("basic.csv"), &csv).expect("csv");
    for f in ["basic.rules", "basic-subscriptions.rules"] {
        std::fs::copy(fixture(f), dir.path().join(f)).expect("rules");
    }
    // The default rules file is the CSV's name plus `.rules`.
    std::fs::copy(fixture("basic.rules"), dir.path().join("bank.csv.rules")).expect("rules");
    let run = |extra: &[&str]| {
        let out = crate::cli::tally()
            .arg("-f")
            .arg(&journal)
            .arg("import")
            .arg(&csv)
            .args(extra)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dry = run(&["--dry-run"]);
    assert!(
        dry.contains(
            "4 new, 1 already in the journal, 0 possible duplicates (not imported), 0 skipped"
        ),
        "{dry}"
    );
    assert!(
        dry.contains("duplicate of ") && dry.contains("main.journal:1"),
        "{dry}"
    );
    assert_eq!(
        std::fs::read_to_string(&journal).expect("read"),
        held,
        "a dry run writes nothing"
    );
    let first = run(&[]);
    assert!(first.contains("(4 added)"), "{first}");
    let text = std::fs::read_to_string(&journal).expect("read");
    assert!(
        text.starts_with(held),
        "the journal's own text is untouched"
    );
    assert_eq!(
        text.matches("Starbucks").count(),
        2,
        "two equal rows are two transactions"
    );
    let second = run(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&second).expect("json");
    assert_eq!(json["new"], 0, "{second}");
    assert_eq!(json["duplicates"], 5);
    assert_eq!(json["possible"], 0);
    assert_eq!(json["added"], 0);
    assert_eq!(std::fs::read_to_string(&journal).expect("read"), text);
    if hledger_present() {
        let out = std::process::Command::new("hledger")
            .arg("-f")
            .arg(&journal)
            .args(["print", "-I", "desc:starbucks"])
            .output()
            .expect("hledger");
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .matches("Starbucks")
                .count(),
            2
        );
    }
}

#[test]
fn a_rules_problem_says_rules_line_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("main.journal");
    std::fs::write(&journal, "").expect("write");
    let csv = dir.path().join("bank.csv");
    std::fs::write(&csv, "date,amount\n2025-01-01,5\n").expect("csv");
    std::fs::write(
        dir.path().join("bank.csv.rules"),
        "skip 1\nfields date, amount\nif (bad\n  account2 x\n",
    )
    .expect("rules");
    let out = crate::cli::tally()
        .arg("-f")
        .arg(&journal)
        .arg("import")
        .arg(&csv)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("bank.csv.rules:3:"), "{err}");
}
