//! `tally register ACCT` against hledger: row for row equal to `hledger register ACCT QUERY -O json` (date,
//! description, account, the posting's amount and the running balance, per commodity), and the last balance equal to
//! `hledger balance ACCT QUERY`'s total — on the demo, a generated journal and construct fixtures with costs, several
//! commodities and virtual postings.
use crate::oracle::hledger_present;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// commodity → quantity, zeros dropped.
type Amounts = BTreeMap<String, Decimal>;

#[derive(Debug, PartialEq, Eq)]
struct Row {
    date: String,
    description: String,
    account: String,
    amount: Amounts,
    balance: Amounts,
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn clean(mut a: Amounts) -> Amounts {
    a.retain(|_, q| !q.is_zero());
    a.into_iter().map(|(c, q)| (c, q.normalize())).collect()
}

fn hledger_amounts(list: &Value) -> Amounts {
    let mut out = Amounts::new();
    for a in list.as_array().into_iter().flatten() {
        let q = &a["aquantity"];
        let mantissa = q["decimalMantissa"].as_i64().expect("mantissa");
        let places = q["decimalPlaces"].as_u64().expect("places") as u32;
        let c = a["acommodity"].as_str().unwrap_or_default().to_string();
        *out.entry(c).or_default() += Decimal::new(mantissa, places);
    }
    clean(out)
}

fn tally_amounts(list: &Value) -> Amounts {
    let mut out = Amounts::new();
    for a in list.as_array().into_iter().flatten() {
        let q: Decimal = a["quantity"]
            .as_str()
            .expect("quantity")
            .parse()
            .expect("decimal");
        let c = a["commodity"].as_str().unwrap_or_default().to_string();
        *out.entry(c).or_default() += q;
    }
    clean(out)
}

fn hledger_json(journal: &Path, args: &[&str]) -> Value {
    let out = std::process::Command::new("hledger")
        .arg("-f")
        .arg(journal)
        .args(args)
        .args(["-O", "json"])
        .output()
        .expect("run hledger");
    assert!(
        out.status.success(),
        "hledger {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("hledger JSON")
}

fn hledger_rows(journal: &Path, account: &str, query: &[&str]) -> Vec<Row> {
    let mut args = vec!["register", account];
    args.extend(query);
    let json = hledger_json(journal, &args);
    let mut rows: Vec<Row> = Vec::new();
    for r in json.as_array().expect("register rows") {
        // hledger leaves the date and description empty on a transaction's second and later rows.
        let (date, description) = match (r[0].as_str(), rows.last()) {
            (Some(d), _) if !d.is_empty() => {
                (d.to_string(), r[2].as_str().unwrap_or_default().to_string())
            }
            (_, Some(prev)) => (prev.date.clone(), prev.description.clone()),
            _ => Default::default(),
        };
        rows.push(Row {
            date,
            description,
            account: r[3]["paccount"].as_str().unwrap_or_default().to_string(),
            amount: hledger_amounts(&r[3]["pamount"]),
            balance: hledger_amounts(&r[4]),
        });
    }
    rows
}

/// `hledger balance ACCT QUERY`'s grand total.
fn hledger_total(journal: &Path, account: &str, query: &[&str]) -> Amounts {
    let mut args = vec!["balance", account];
    args.extend(query);
    let json = hledger_json(journal, &args);
    hledger_amounts(&json[1])
}

fn tally_rows(journal: &Path, account: &str, query: &str) -> Vec<Row> {
    let out = crate::cli::tally()
        .arg("-f")
        .arg(journal)
        .args(["register", account, "-q", query, "--format", "json"])
        .output()
        .expect("run tally");
    assert!(
        out.status.success(),
        "tally register {account} -q {query:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("tally JSON");
    json.as_array()
        .expect("rows")
        .iter()
        .map(|r| Row {
            date: r["date"].as_str().unwrap_or_default().to_string(),
            description: r["description"].as_str().unwrap_or_default().to_string(),
            account: r["account"].as_str().unwrap_or_default().to_string(),
            amount: tally_amounts(&r["amount"]),
            balance: tally_amounts(&r["balance"]),
        })
        .collect()
}

fn check(journal: &Path, account: &str, query: &[&str], failures: &mut Vec<String>) {
    let name = journal
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let want = hledger_rows(journal, account, query);
    let got = tally_rows(journal, account, &query.join(" "));
    if want != got {
        let at = want
            .iter()
            .zip(&got)
            .position(|(w, g)| w != g)
            .unwrap_or(want.len().min(got.len()));
        failures.push(format!(
            "{name}: register {account} {query:?}: {} rows from hledger, {} from tally; first difference at row {at}:\n  hledger {:?}\n  tally   {:?}",
            want.len(),
            got.len(),
            want.get(at),
            got.get(at)
        ));
        return;
    }
    let total = hledger_total(journal, account, query);
    let last = got.last().map(|r| r.balance.clone()).unwrap_or_default();
    if total != last {
        failures.push(format!(
            "{name}: register {account} {query:?}: ends at {last:?}, hledger balance says {total:?}"
        ));
    }
}

#[test]
fn registers_equal_hledgers_row_for_row() {
    if !hledger_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let generated = dir.path().join("generated.journal");
    let mut text = Vec::new();
    let opts = tally::generate::GenerateOptions {
        transactions: 1_500,
        seed: 5,
        ..Default::default()
    };
    tally::generate::generate(&opts, &mut text).expect("generate");
    std::fs::write(&generated, text).expect("write");
    let mut failures = Vec::new();
    for journal in [repo_path("assets/demo.journal"), generated] {
        for account in [
            "checking",
            "^assets",
            "dining|groceries",
            "liabilities",
            "savings",
        ] {
            for query in [
                &[][..],
                &["date:2025"],
                &["amt:>100"],
                &["desc:rent"],
                &["status:*", "date:2026"],
            ] {
                check(&journal, account, query, &mut failures);
            }
        }
    }
    // multi-commodity.journal is checked for `expenses` only: its elided amount balances two commodities, which
    // hledger keeps as one posting (one row) and tally reads as one posting per commodity (two rows, same balances).
    for fixture in ["costs.journal", "virtual.journal", "everything.journal"] {
        let path = repo_path(&format!("tests/fixtures/journals/{fixture}"));
        for account in ["^assets", "expenses", "budget"] {
            check(&path, account, &[], &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
