//! The query language against hledger itself: for every query form hledger shares with tally, the number of
//! transactions tally's journal backend matches equals what `hledger print QUERY` prints, on the bundled demo, on a
//! generated journal and on the construct fixtures that hold the rarer things (codes, virtual postings, `payee |
//! note` descriptions, posting tags). A free word is tally's documented widening of hledger's (account name, or
//! description, payee or note): its oracle is the union of hledger's `acct:WORD` and `desc:WORD` matches. Relative
//! periods (`date:thismonth`) are read by both against today's date. All mismatches are collected before failing.
use crate::oracle::hledger_present;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tally::backend::journal::JournalBackend;
use tally::backend::{Backend, PageRequest};
use tally::generate::{GenerateOptions, generate};

/// Query forms compared on the demo and the generated journal (each string is one argument to hledger).
const FORMS: &[&[&str]] = &[
    &["acct:dining"],
    &["acct:^exp"],
    &["acct:dining|groceries"],
    &["acct:dining", "acct:groceries"],
    &["acct:ASSETS:Checking"],
    &["expenses:dining"],
    &["desc:^star"],
    &["desc:rent", "desc:payroll"],
    &["payee:acme"],
    &["payee:^whole"],
    &["note:lunch"],
    &["note:x"],
    &["code:1"],
    &["code:^20"],
    &["real:"],
    &["real:1"],
    &["real:0"],
    &["depth:1"],
    &["depth:2", "acct:expenses"],
    &["amt:>100"],
    &["amt:<-50"],
    &["amt:<=20"],
    &["cur:EUR"],
    &["status:*"],
    &["status:!"],
    &["status:"],
    &["status:*", "status:!"],
    &["tag:work"],
    &["tag:reimbursable"],
    &["not:acct:expenses"],
    &["not:desc:rent"],
    &["not:status:*"],
    &["date:2025"],
    &["date:2025q1"],
    &["date:q1"],
    &["date:thismonth"],
    &["date:lastmonth"],
    &["date:thisweek"],
    &["date:lastweek"],
    &["date:thisyear"],
    &["date:lastyear"],
    &["date:yesterday"],
    &["date:today"],
    &["date:this quarter"],
    &["date:jan"],
    &["date:1/15"],
    &["date:in 2025"],
    &["date:from 2025-01 to 2025-03"],
    &["date:2025-01-01-2025-02-01"],
    &["date:2025/03/15"],
    &["date:2025.."],
    &["date:..2025-06"],
    &["date:to 2025"],
    &["date:-2025"],
    &["date:30 days ago"],
    &["acct:checking", "amt:>100", "date:2025"],
    &["desc:rent", "status:*"],
    &["acct:dining", "not:tag:work"],
];

/// Forms for the construct fixtures (small files; the rarer syntax is there).
const FIXTURE_FORMS: &[&[&str]] = &[
    &["real:"],
    &["real:0"],
    &["code:."],
    &["payee:a"],
    &["note:e"],
    &["desc:[0-9]"],
    &["acct:^a"],
    &["tag:."],
    &["amt:<0"],
    &["status:*"],
];

/// Free words: tally matches account names (hledger's reading) or the text.
const WORDS: &[&str] = &[
    "dining",
    "coffee",
    "rent",
    "checking",
    "^star",
    "salary|payroll",
];

const FIXTURES: &[&str] = &[
    "payee-note.journal",
    "status-codes.journal",
    "virtual.journal",
    "costs-virtual-more.journal",
    "comments-tags.journal",
    "everything.journal",
    "unicode-names.journal",
    "odd-amounts-descriptions.journal",
    "multi-commodity.journal",
    "posting-dates.journal",
];

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The transactions (`date description` headers, with their position) hledger prints for `args`.
fn hledger_matches(journal: &Path, args: &[&str]) -> Result<BTreeSet<usize>, String> {
    let out = std::process::Command::new("hledger")
        .arg("-f")
        .arg(journal)
        .args(["print", "-O", "json"])
        .args(args)
        .output()
        .map_err(|e| format!("hledger: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "hledger {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("hledger JSON: {e}"))?;
    Ok(json
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["tindex"].as_u64().map(|i| i as usize))
                .collect()
        })
        .unwrap_or_default())
}

async fn tally_count(backend: &JournalBackend, query: &str) -> Result<usize, String> {
    let q = tally::query::parse(query).map_err(|e| format!("tally rejects {query:?}: {e}"))?;
    let page = PageRequest {
        limit: 0,
        ..PageRequest::default()
    };
    let got = backend
        .transactions(&q, page)
        .await
        .map_err(|e| format!("{query:?}: {e}"))?;
    Ok(got.total)
}

/// Joins hledger arguments into one tally query (quoting those with blanks).
fn as_query(args: &[&str]) -> String {
    args.iter()
        .map(|a| match a.split_once(':') {
            Some((p, v)) if v.contains(' ') => format!("{p}:\"{v}\""),
            _ => a.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// hledger's answers for each argument list, four processes at a time (each run is mostly hledger's start-up).
fn hledger_all(journal: &Path, lists: &[Vec<String>]) -> Vec<Result<BTreeSet<usize>, String>> {
    let mut out = Vec::with_capacity(lists.len());
    for chunk in lists.chunks(4) {
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|args| {
                    scope.spawn(move || {
                        let args: Vec<&str> = args.iter().map(String::as_str).collect();
                        hledger_matches(journal, &args)
                    })
                })
                .collect();
            for h in handles {
                out.push(
                    h.join()
                        .unwrap_or_else(|_| Err("hledger thread panicked".into())),
                );
            }
        });
    }
    out
}

/// Differences hledger has and tally does not model, each with its reason (also in docs/queries.md).
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[(
    "everything.journal",
    "tag:.",
    "hledger gives postings the tags of their `account` directive (`type:A`); tally does not",
)];

async fn compare(journal: &Path, forms: &[&[&str]], words: &[&str], failures: &mut Vec<String>) {
    let backend = JournalBackend::open(journal).expect("open journal");
    let name = journal
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let name = name.unwrap_or_default();
    let mut lists: Vec<Vec<String>> = forms
        .iter()
        .map(|args| args.iter().map(|a| a.to_string()).collect())
        .collect();
    for word in words {
        lists.push(vec![format!("acct:{word}")]);
        lists.push(vec![format!("desc:{word}")]);
    }
    let answers = hledger_all(journal, &lists);
    for (args, want) in forms.iter().zip(&answers) {
        let query = as_query(args);
        if KNOWN_DIFFERENCES
            .iter()
            .any(|(f, q, _)| *f == name && *q == query)
        {
            continue;
        }
        let want = want.as_ref().map(BTreeSet::len);
        let got = tally_count(&backend, &query).await;
        match (want, got) {
            (Ok(w), Ok(g)) if w == g => {}
            (w, g) => failures.push(format!("{name}: {query:?}: hledger {w:?}, tally {g:?}")),
        }
    }
    for (word, pair) in words.iter().zip(answers[forms.len()..].chunks(2)) {
        let want = match (&pair[0], &pair[1]) {
            (Ok(a), Ok(d)) => Ok(a.union(d).count()),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        let got = tally_count(&backend, word).await;
        match (want, got) {
            (Ok(w), Ok(g)) if w == g => {}
            (w, g) => failures.push(format!(
                "{name}: word {word:?}: hledger acct ∪ desc {w:?}, tally {g:?}"
            )),
        }
    }
}

#[tokio::test]
async fn every_query_form_matches_what_hledger_prints() {
    if !hledger_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let generated = dir.path().join("generated.journal");
    let opts = GenerateOptions {
        transactions: 1_500,
        seed: 12,
        ..GenerateOptions::default()
    };
    let mut text = Vec::new();
    generate(&opts, &mut text).expect("generate");
    std::fs::write(&generated, text).expect("write");
    let mut failures = Vec::new();
    compare(
        &repo_path("assets/demo.journal"),
        FORMS,
        WORDS,
        &mut failures,
    )
    .await;
    compare(&generated, FORMS, WORDS, &mut failures).await;
    for f in FIXTURES {
        let path = repo_path(&format!("tests/fixtures/journals/{f}"));
        compare(&path, FIXTURE_FORMS, &["a", "e"], &mut failures).await;
    }
    assert!(
        failures.is_empty(),
        "{} mismatch(es):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn unknown_prefixes_are_errors_at_their_column() {
    for (query, column) in [
        ("coffee dsc:rent", 8),
        ("acc:food", 1),
        ("inacct:assets", 1),
        ("date2:2025", 1),
        ("x date:soon", 8),
        ("acct:(x", 6),
    ] {
        let e = tally::query::parse(query).expect_err(query);
        assert_eq!(e.column, column, "{query}: {e}");
    }
}
