//! CSV import against hledger itself: for each fixture (a bank CSV and the hledger rules file for it) the
//! transactions tally makes — written as journal text and read back by hledger — equal what
//! `hledger -f CSV --rules-file RULES print` prints, read back by hledger too: dates, status, code, description, comment, accounts, posting
//! types, amounts, costs, comments, tags and balance assertions (compared as hledger's JSON, positions and display
//! styles left out). Together the fixtures cover: skip, fields, separator, date-format, decimal-mark, newest-first,
//! currency, description/comment/status/code templates with %field and %N, if blocks with several matchers and `&`,
//! if tables, include, date2 (`basic`, `euro`, `skips`); amountN, amountN-in/out, commentN with tags and `\n`,
//! postings 3 and 4, posting 2 inferred when it has no amount, the legacy `amount` for postings 1 and 2 (and left
//! for amountN), a zero amount, `account4:` assignments, `skip 2` and `end` in if blocks (`postings`); `@` and `@@`
//! costs, the legacy amount converted to cost for posting 2, `(virtual)` and `[balanced virtual]` accounts, an empty
//! account2, currencyN (`virtual-costs`); balance and balanceN assertions of `balance-type ==*`, a balance
//! assignment, a BOM, CRLF, decimal commas, a quoted field with a new line and the separator (`assertions`). Odd
//! input (inline cases) either fails in both hledger and tally — tally naming `CSV:LINE` or `RULES:LINE:COLUMN` — or
//! reads the same in both.
use crate::oracle::hledger_present;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csv")
        .join(name)
}

/// hledger's JSON of `print`, without what differs by origin (positions, indices, display styles); or its error.
fn hledger_print(args: &[&std::ffi::OsStr]) -> Result<Value, String> {
    let out = std::process::Command::new("hledger")
        .args(args)
        .args(["print", "-I", "-O", "json"])
        .output()
        .expect("run hledger");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    strip(&mut json);
    Ok(json)
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

/// What tally makes of `csv` with `rules`, as hledger reads it back; or tally's error.
fn tally_print(csv: &Path, rules_path: &Path, dir: &Path) -> Result<Value, String> {
    let rules = tally::import::rules::Rules::load(rules_path).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(csv).expect("csv");
    let read = tally::import::reader::read(csv, &text, &rules).map_err(|e| e.to_string())?;
    let journal: String = read
        .imported
        .iter()
        .map(|t| t.journal_text() + "\n")
        .collect();
    let out = dir.join("tally.journal");
    std::fs::write(&out, &journal).expect("write");
    let got = hledger_print(&["-f".as_ref(), out.as_os_str()])
        .map_err(|e| format!("hledger cannot read tally's journal: {e}\n{journal}"))?;
    Ok(got)
}

/// hledger's own reading of `csv` with `rules` — the journal `hledger print` writes (what `hledger import` would
/// append), read back by hledger — or its error. Read back, because hledger 1.25's CSV reader leaves the tags in
/// comments unparsed and keeps a `;` in a description, which a journal reads as tags and as a comment.
fn hledger_csv(csv: &Path, rules_path: &Path, dir: &Path) -> Result<Value, String> {
    let out = std::process::Command::new("hledger")
        .arg("-f")
        .arg(csv)
        .arg("--rules-file")
        .arg(rules_path)
        .args(["print", "-I"])
        .output()
        .expect("run hledger");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let printed = dir.join("hledger.journal");
    std::fs::write(&printed, &out.stdout).expect("write");
    hledger_print(&["-f".as_ref(), printed.as_os_str()])
}

/// The first transaction where `got` and `want` differ, both pretty-printed.
fn first_difference(got: &Value, want: &Value) -> String {
    let (g, w) = (got.as_array(), want.as_array());
    let (g, w) = (
        g.map_or(&[][..], Vec::as_slice),
        w.map_or(&[][..], Vec::as_slice),
    );
    match g.iter().zip(w).find(|(a, b)| a != b) {
        Some((a, b)) => format!(
            "tally:\n{}\nhledger:\n{}",
            serde_json::to_string_pretty(a).unwrap_or_default(),
            serde_json::to_string_pretty(b).unwrap_or_default()
        ),
        None => format!(
            "{} transactions from tally, {} from hledger",
            g.len(),
            w.len()
        ),
    }
}

#[test]
fn imported_transactions_equal_hledgers_csv_reader() {
    if !hledger_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [
        "basic",
        "euro",
        "skips",
        "postings",
        "virtual-costs",
        "assertions",
    ] {
        let csv = fixture(&format!("{name}.csv"));
        let rules_path = fixture(&format!("{name}.rules"));
        let want = hledger_csv(&csv, &rules_path, dir.path()).expect("hledger reads the fixture");
        let got = tally_print(&csv, &rules_path, dir.path()).expect("tally reads the fixture");
        assert!(
            got == want,
            "{name}: tally's import (as hledger reads it) differs:\n{}",
            first_difference(&got, &want)
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

/// Odd input, each (CSV, rules) either failing in hledger and in tally — tally saying where, as `CSV:LINE: field:`
/// or `RULES:LINE:COLUMN:` — or read the same by both.
#[test]
fn odd_input_fails_or_reads_as_in_hledger() {
    if !hledger_present() {
        return;
    }
    let r = "fields date, description, amount\naccount1 assets:bank\n";
    let cases: &[(&str, &str, &str)] = &[
        ("empty amount", "2025-01-01,A,\n", r),
        ("empty fields", "2025-01-01,,5\n", r),
        ("short record", "2025-01-01,A,1\n2025-01-02,B\n", r),
        ("one field", "2025-01-01\n", r),
        ("blank lines", "\n2025-01-01,A,1\n\n\n2025-01-02,B,2\n", r),
        (
            "quoted",
            "2025-01-01,\"A, \"\"quoted\"\"\nand more\",1\n",
            r,
        ),
        (
            "crlf and bom",
            "\u{feff}2025-01-01,A,1\r\n2025-01-02,B,2\r\n",
            r,
        ),
        ("space before a quote", "2025-01-01, \"A\",1\n", r),
        ("quote inside", "2025-01-01,A \"x\",1\n", r),
        ("after a closing quote", "2025-01-01,\"A\"x,1\n", r),
        ("unclosed quote", "2025-01-01,A,1\n2025-01-02,\"B,1\n", r),
        ("bad amount", "2025-01-01,A,abc\n", r),
        ("bare sign", "2025-01-01,A,-\n", r),
        (
            "ambiguous mark",
            "2025-01-01,A,\"1,000\"\n2025-01-02,B,\"1,000,000.5\"\n",
            r,
        ),
        ("exponent", "2025-01-01,A,5E-2\n", r),
        ("bad date", "2025-13-01,A,1\n", r),
        ("semicolon description", "2025-01-01,A; b,1\n", r),
        (
            "commodity and currency",
            "2025-01-01,A,10 EUR\n",
            &format!("{r}currency $\n"),
        ),
        ("status", "2025-01-01,A,1\n", &format!("{r}status x\n")),
        (
            "two digit day",
            "1/2/2025,A,1\n",
            &format!("{r}date-format %d/%m/%Y\n"),
        ),
        (
            "one digit day",
            "1/2/2025,A,1\n",
            &format!("{r}date-format %-d/%-m/%Y\n"),
        ),
        (
            "unbalanced three postings",
            "2025-01-01,A,10\n",
            "fields date, description, amount1\naccount1 a\naccount2 b\namount2 -3\naccount3 c\namount3 -5\n",
        ),
        (
            "two without amounts",
            "2025-01-01,A,10\n",
            "fields date, description, amount1\naccount1 a\naccount2 b\naccount3 c\n",
        ),
        (
            "amount2 without account2",
            "2025-01-01,A,10\n2025-01-02,B,-3\n",
            "fields date, description, amount2\naccount1 a\n",
        ),
        (
            "amount2 alone",
            "2025-01-01,A,10\n",
            "fields date, description, amount2\n",
        ),
        (
            "several amounts",
            "2025-01-01,A,3,4\n",
            "fields date, description, amount1-in, amount1-out\naccount1 a\naccount2 b\n",
        ),
        (
            "zero in and out",
            "2025-01-01,A,0,0\n",
            "fields date, description, amount1-in, amount1-out\naccount1 a\naccount2 b\n",
        ),
        (
            "two commodities",
            "2025-01-01,A,10 EUR,-11 USD\n",
            "fields date, description, amount1, amount2\naccount1 a\naccount2 b\n",
        ),
        (
            "virtual posting 2",
            "2025-01-01,A,10\n",
            &format!("{r}account2 (b)\n"),
        ),
        (
            "balance alone",
            "2025-01-01,A,10\n",
            "fields date, description, balance2\naccount1 a\n",
        ),
        ("top-level end", "2025-01-01,A,10\n", &format!("{r}end\n")),
        (
            "skip past the end",
            "2025-01-01,A,1\n2025-01-02,B,2\n",
            &format!("{r}if A\n skip 5\n"),
        ),
        (
            "skip and end",
            "2025-01-01,A,1\n2025-01-02,B,2\n",
            &format!("{r}if A\n end\nif A\n skip\n"),
        ),
        (
            "comment lines",
            "2025-01-01,A,1\n",
            &format!("{r}comment \\nfirst\\nsecond\ncomment1 \\nx\n"),
        ),
        (
            "colon assignments",
            "2025-01-01,A,1\n",
            "fields: date, description, amount\naccount1:a\naccount2: b\n",
        ),
        (
            "balance-type",
            "2025-01-01,A,1\n",
            &format!("{r}balance 1\nbalance-type bogus\n"),
        ),
        (
            "timezone",
            "2025-01-01,A,1\n",
            &format!("{r}timezone +0100\n"),
        ),
        (
            "if without rules",
            "2025-01-01,A,1\n",
            &format!("{r}if A\n"),
        ),
        (
            "comment in an if",
            "2025-01-01,A,1\n",
            &format!("{r}if A\n # note\n account2 b\n"),
        ),
        (
            "account100",
            "2025-01-01,A,1\n",
            &format!("{r}account100 x\n"),
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, csv_text, rules_text) in cases {
        let csv = dir.path().join("odd.csv");
        let rules_path = dir.path().join("odd.rules");
        std::fs::write(&csv, csv_text).expect("csv");
        std::fs::write(&rules_path, rules_text).expect("rules");
        let want = hledger_csv(&csv, &rules_path, dir.path());
        let got = tally_print(&csv, &rules_path, dir.path());
        match (&got, &want) {
            (Ok(g), Ok(w)) => assert!(g == w, "{name}: differs:\n{}", first_difference(g, w)),
            (Err(e), Err(_)) => {
                let at_csv = e.starts_with(&format!("{}:", csv.display()));
                let at_rules = e.starts_with(&format!("{}:", rules_path.display()));
                let located = e
                    .split(':')
                    .nth(1)
                    .is_some_and(|l| l.parse::<usize>().is_ok());
                assert!(
                    (at_csv || at_rules) && located,
                    "{name}: says no place: {e}"
                );
            }
            _ => panic!("{name}: tally {got:?}\nhledger {want:?}"),
        }
    }
}

/// Issue 13, point 2 and 3: each imported transaction carries its `import-id`, which finds it again after the person
/// renamed and re-dated it; the profile's `import_file` (included by the journal) takes the new transactions and the
/// main file stays as it was; an `import_file` the journal does not include is refused, naming both files.
#[test]
fn import_ids_and_the_import_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let main = dir.path().join("main.journal");
    let bank = dir.path().join("bank.journal");
    let main_text = "include bank.journal\n\n2025-01-01 * Opening\n    assets:bank:checking  $100\n    equity:opening\n";
    std::fs::write(&main, main_text).expect("write");
    std::fs::write(&bank, "").expect("write");
    let csv = dir.path().join("bank.csv");
    std::fs::copy(fixture("basic.csv"), &csv).expect("csv");
    std::fs::copy(fixture("basic.rules"), dir.path().join("bank.csv.rules")).expect("rules");
    let subscriptions = "basic-subscriptions.rules";
    std::fs::copy(fixture(subscriptions), dir.path().join(subscriptions)).expect("rules");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profiles.home]\nfile = \"main.journal\"\nimport_file = \"bank.journal\"\n\
         [profiles.stray]\nfile = \"main.journal\"\nimport_file = \"other.journal\"\n",
    )
    .expect("config");
    std::fs::write(dir.path().join("other.journal"), "").expect("write");
    let run = |profile: &str| {
        crate::cli::tally()
            .arg("--config")
            .arg(&config)
            .args(["--profile", profile, "import"])
            .arg(&csv)
            .args(["--format", "json"])
            .output()
            .expect("run")
    };
    let out = run("home");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let added = json["added"].as_u64().expect("added");
    assert!(added >= 4, "{json}");
    assert_eq!(
        std::fs::read_to_string(&main).expect("read"),
        main_text,
        "the main file is untouched"
    );
    let imported = std::fs::read_to_string(&bank).expect("read");
    assert_eq!(
        imported.matches("; import-id:").count() as u64,
        added,
        "every imported transaction carries its id:\n{imported}"
    );
    // The two equal Starbucks rows have different ids (the second is numbered).
    let ids: Vec<&str> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["import_id"].as_str())
        .collect();
    let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    if hledger_present() {
        let printed = crate::cli::hledger(&main, &["print", "-I", "tag:import-id"]);
        assert_eq!(printed.matches("import-id:").count() as u64, added);
    }
    // The person renames and re-dates every imported transaction: the ids still find them all.
    let edited = imported
        .replace("Starbucks", "Coffee with Ann")
        .replace("2025-01-", "2024-12-");
    std::fs::write(&bank, &edited).expect("edit");
    let again = run("home");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(json["new"], 0, "{json}");
    assert_eq!(json["added"], 0);
    assert_eq!(std::fs::read_to_string(&bank).expect("read"), edited);
    // An import file the journal does not include is refused, and nothing is written anywhere.
    std::fs::write(&bank, "").expect("reset");
    let stray = run("stray");
    assert!(!stray.status.success());
    let err = String::from_utf8_lossy(&stray.stderr);
    assert!(
        err.contains("other.journal is not included by") && err.contains("main.journal"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("other.journal")).expect("read"),
        ""
    );
    assert_eq!(std::fs::read_to_string(&main).expect("read"), main_text);
}
