//! The headless CLI on real files, checked against hledger where it matters: JSON shapes, edits that touch only the
//! edited transactions and keep hledger's balances, byte-identical no-op saves, and errors with FILE:LINE:COLUMN.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

pub(crate) fn tally() -> Command {
    let mut c = Command::cargo_bin("tally").expect("tally binary");
    c.env(
        "TALLY_DATA_DIR",
        std::env::temp_dir().join("tally-cli-tests-data"),
    );
    c.env_remove("TALLY_CONFIG");
    c
}

pub(crate) fn hledger_available() -> bool {
    let ok = Std::new("hledger")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("TALLY_REQUIRE_HLEDGER").as_deref() == Ok("1") {
        panic!("hledger is required (TALLY_REQUIRE_HLEDGER=1) but was not found");
    }
    if !ok {
        eprintln!("hledger not found: skipping the hledger comparison");
    }
    ok
}

/// `hledger -f FILE ARGS…`'s output; the test fails with hledger's own words when it refuses the file.
pub(crate) fn hledger(file: &Path, args: &[&str]) -> String {
    let out = Std::new("hledger")
        .arg("-f")
        .arg(file)
        .args(args)
        .output()
        .expect("run hledger");
    assert!(
        out.status.success(),
        "hledger {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

fn generated(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("gen.journal");
    tally()
        .args([
            "generate",
            "--transactions",
            &n.to_string(),
            "--seed",
            "7",
            "-o",
        ])
        .arg(&path)
        .assert()
        .success();
    path
}

#[test]
fn balances_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.journal");
    std::fs::write(
        &path,
        "2025-01-01 Pay\n    assets:checking  $1,000.00\n    income:salary\n\n2025-01-02 Rent\n    expenses:rent  $135\n    assets:checking\n",
    )
    .expect("write");
    let out = tally()
        .args(["balances", "--format", "json", "-f"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf8").trim(),
        r#"[{"account":"assets:checking","amounts":[{"commodity":"$","quantity":"865.00"}]},{"account":"expenses:rent","amounts":[{"commodity":"$","quantity":"135.00"}]},{"account":"income:salary","amounts":[{"commodity":"$","quantity":"-1000.00"}]}]"#
    );
}

#[test]
fn transactions_json_and_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = generated(dir.path(), 300);
    let out = tally()
        .args([
            "transactions",
            "--format",
            "json",
            "--limit",
            "5",
            "-q",
            "acct:expenses",
            "-f",
        ])
        .arg(&path)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let items = v.as_array().expect("array");
    assert_eq!(items.len(), 5);
    for t in items {
        for key in ["id", "date", "status", "description", "tags", "postings"] {
            assert!(t.get(key).is_some(), "missing {key} in {t}");
        }
    }
    let dates: Vec<&str> = items
        .iter()
        .map(|t| t["date"].as_str().expect("date"))
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest first");
    let csv = tally()
        .args(["transactions", "--format", "csv", "--limit", "3", "-f"])
        .arg(&path)
        .output()
        .expect("run");
    let text = String::from_utf8(csv.stdout).expect("utf8");
    assert!(text.starts_with("id,date,status,payee,description,category,amount,commodity,tags"));
    assert_eq!(text.lines().count(), 4);
}

#[test]
fn tag_changes_only_matching_transactions_and_hledger_agrees() {
    if !hledger_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = generated(dir.path(), 2000);
    let before = std::fs::read_to_string(&path).expect("read");
    let bal_before = hledger(&path, &["bal", "--flat", "-N"]);
    let matched = hledger(&path, &["print", "payee:Netflix"])
        .matches("\n\n")
        .count();
    let out = tally()
        .args(["tag", "-q", "payee:Netflix", "--add", "subscription", "-f"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).expect("utf8");
    let changed: usize = said
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("count first");
    assert!(changed > 0);
    assert_eq!(changed, matched, "{said}");
    let after = std::fs::read_to_string(&path).expect("read");
    // Every changed line is the header of a Netflix transaction.
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len());
    let diffs: Vec<usize> = (0..b.len()).filter(|&i| b[i] != a[i]).collect();
    assert_eq!(diffs.len(), changed);
    for i in diffs {
        assert!(
            b[i].contains("Netflix") && a[i].contains("subscription:"),
            "{} -> {}",
            b[i],
            a[i]
        );
    }
    assert_eq!(
        hledger(&path, &["bal", "--flat", "-N"]),
        bal_before,
        "balances unchanged"
    );
    let tagged = hledger(&path, &["print", "tag:subscription"])
        .matches("\n\n")
        .count();
    assert_eq!(tagged, changed);
    // Tagging again changes nothing: byte-identical.
    let out = tally()
        .args(["tag", "-q", "payee:Netflix", "--add", "subscription", "-f"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("0 transactions changed"));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), after);
    // Removing restores the original bytes.
    tally()
        .args([
            "tag",
            "-q",
            "payee:Netflix",
            "--remove",
            "subscription",
            "-f",
        ])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
}

#[test]
fn dry_run_writes_nothing_and_status_sets_marks() {
    if !hledger_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = generated(dir.path(), 500);
    let before = std::fs::read(&path).expect("read");
    let out = tally()
        .args([
            "tag",
            "-q",
            "payee:Spotify",
            "--add",
            "music",
            "--dry-run",
            "-f",
        ])
        .arg(&path)
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("would change"));
    assert_eq!(std::fs::read(&path).expect("read"), before);
    tally()
        .args(["status", "-q", "status:!", "--set", "cleared", "-f"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(hledger(&path, &["print", "status:!"]).trim(), "");
    assert_eq!(hledger(&path, &["bal", "--flat", "-N"]), {
        let orig = dir.path().join("orig.journal");
        std::fs::write(&orig, &before).expect("write");
        hledger(&orig, &["bal", "--flat", "-N"])
    });
}

#[test]
fn read_commands_fail_on_journal_errors_with_positions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.journal");
    std::fs::write(
        &path,
        "2025-01-01 ok\n    a  $1\n    b\n\n2025-02-30 bad\n    a  $1\n    b\n",
    )
    .expect("write");
    let out = tally()
        .args(["balances", "-f"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.journal:5:1:"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn summary_and_breakdown_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = generated(dir.path(), 400);
    let out = tally()
        .args(["summary", "--group-by", "year", "--format", "json", "-f"])
        .arg(&path)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(!v.as_array().expect("array").is_empty());
    let out = tally()
        .args([
            "breakdown",
            "--by",
            "payee",
            "--from",
            "2019",
            "--to",
            "2020",
            "-f",
        ])
        .arg(&path)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());
}

#[test]
fn help_documents_every_command() {
    let out = tally().arg("--help").output().expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    for cmd in [
        "balances",
        "accounts",
        "transactions",
        "tag",
        "status",
        "summary",
        "breakdown",
        "generate",
        "serve",
    ] {
        assert!(text.contains(cmd), "--help lacks {cmd}");
    }
    for flag in ["--file", "--remote", "--profile", "--config"] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn projections_list_recurring_transactions_and_project_balances() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("ledger.journal");
    std::fs::write(&journal, crate::conformance_suite::FIXTURE).expect("write");
    let out = tally()
        .args([
            "-f",
            &journal.display().to_string(),
            "projections",
            "--months",
            "2",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rent = p["recurring"]
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["payee"] == "Landlord | rent")
        .expect("rent is found");
    assert_eq!(rent["cadence"], "monthly");
    assert_eq!(rent["amount"], "-1450.00");
    assert_eq!(rent["next"], "2025-04-01");
    assert!(rent["evidence"].as_array().expect("evidence").len() >= 3);
    let checking = p["accounts"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["account"] == "assets:bank:checking")
        .expect("checking");
    assert_eq!(checking["months"].as_array().expect("months").len(), 2);
    let table = tally()
        .args(["-f", &journal.display().to_string(), "projections"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Landlord | rent") && text.contains("monthly"),
        "{text}"
    );
}

/// Issue 12's small things on the command line: `--dry-run` lists each transaction that would change (and writes
/// nothing), `summary --group-by year` labels `2025`, and two profiles without a default are an error.
#[test]
fn dry_runs_list_summaries_label_and_profiles_must_be_chosen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("demo.journal");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo.journal"),
        &journal,
    )
    .expect("copy");
    let before = std::fs::read(&journal).expect("read");
    let out = tally()
        .arg("-f")
        .arg(&journal)
        .args([
            "tag",
            "-q",
            "desc:starbucks date:2025-03",
            "--add",
            "coffee",
            "--dry-run",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let listed: Vec<&str> = text.lines().filter(|l| l.starts_with("2025-03")).collect();
    assert_eq!(listed.len(), 3, "{text}");
    assert!(
        listed.iter().all(|l| l.contains("Starbucks")
            && l.contains("+coffee")
            && l.contains("demo.journal:")),
        "{text}"
    );
    assert!(
        text.contains("3 of 3 matching transactions would change (dry run)"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&journal).expect("read"),
        before,
        "a dry run writes nothing"
    );

    let out = tally()
        .arg("-f")
        .arg(&journal)
        .args(["summary", "--group-by", "year"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("2025 ")), "{text}");
    assert!(!text.contains("2025-01-01"), "{text}");

    let config = dir.path().join("two.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.a]\nfile = {0:?}\n[profiles.b]\nfile = {0:?}\n",
            journal.display().to_string()
        ),
    )
    .expect("config");
    let out = tally()
        .env("TALLY_CONFIG", &config)
        .arg("balances")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "not the demo");
    assert!(
        err.contains("no default_profile") && !err.contains("Location"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "said once: {err}"
    );
}

/// `--help` describes every option of every command (issue 12: none listed without saying what it does).
#[test]
fn every_option_has_help() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} --{id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&tally::cli::Cli::command(), "tally", &mut missing);
    assert!(
        missing.is_empty(),
        "options without help:\n{}",
        missing.join("\n")
    );
}
