//! Oracle tests: tally's balances must equal `hledger bal --flat -N` on the same file, for every construct fixture in
//! `tests/fixtures/journals/`, the bundled demo and generated journals. Both tally surfaces are checked — the journal
//! backend's `accounts()` and the `tally balances --format json` command — against hledger's JSON output, whose exact
//! decimals (`decimalMantissa`, `decimalPlaces`) are summed per account and commodity. The transactions the backend
//! lists must also match `hledger print`: dates, status, code, description, tags and posting accounts. Each test
//! collects every mismatch before failing, so one run names all the files and accounts that differ. Without hledger
//! on the PATH the tests print a notice and pass, unless `TALLY_REQUIRE_HLEDGER=1`.
use assert_cmd::Command;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tally::backend::journal::JournalBackend;
use tally::backend::{Backend, PageRequest};
use tally::domain::{Status, Tag};
use tally::generate::{GenerateOptions, generate};
use tally::query::Query;

/// account → commodity → quantity, zero amounts and empty accounts removed, decimals normalised.
type Balances = BTreeMap<String, BTreeMap<String, Decimal>>;

/// What both sides must agree on for each transaction, beyond balances: its date, status, code, description,
/// transaction tags and each posting's account and tags, in file order of postings. Sorted into a list so the
/// comparison ignores the order transactions are listed in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TxnShape {
    date: String,
    status: &'static str,
    code: String,
    description: String,
    tags: Vec<(String, String)>,
    postings: Vec<(String, Vec<(String, String)>)>,
}

pub(crate) fn hledger_present() -> bool {
    let found = std::process::Command::new("hledger")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("TALLY_REQUIRE_HLEDGER").as_deref() != Ok("1"),
            "hledger is not installed but TALLY_REQUIRE_HLEDGER=1"
        );
        eprintln!("notice: hledger not found on PATH; skipping the oracle comparison");
    }
    found
}

fn add(map: &mut Balances, account: &str, commodity: &str, quantity: Decimal) {
    *map.entry(account.to_string())
        .or_default()
        .entry(commodity.to_string())
        .or_default() += quantity;
}

fn normalise(map: Balances) -> Balances {
    map.into_iter()
        .map(|(account, amounts)| {
            let amounts: BTreeMap<String, Decimal> = amounts
                .into_iter()
                .filter(|(_, q)| !q.is_zero())
                .map(|(c, q)| (c, q.normalize()))
                .collect();
            (account, amounts)
        })
        .filter(|(_, amounts)| !amounts.is_empty())
        .collect()
}

fn hledger_balances(path: &Path) -> Balances {
    let out = std::process::Command::new("hledger")
        .arg("-f")
        .arg(path)
        .args(["bal", "--flat", "-N", "-O", "json"])
        .output()
        .expect("run hledger");
    assert!(
        out.status.success(),
        "hledger rejected {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("hledger JSON");
    let rows = json[0].as_array().expect("hledger rows");
    let mut map = Balances::new();
    for row in rows {
        let account = row[0].as_str().expect("account name");
        for amount in row[3].as_array().expect("amounts") {
            let commodity = amount["acommodity"].as_str().expect("commodity");
            let q = &amount["aquantity"];
            let mantissa = q["decimalMantissa"].as_i64().expect("mantissa fits in i64");
            let places = q["decimalPlaces"].as_u64().expect("decimal places");
            let places = u32::try_from(places).expect("decimal places fit u32");
            add(&mut map, account, commodity, Decimal::new(mantissa, places));
        }
    }
    normalise(map)
}

fn hledger_transactions(path: &Path) -> Vec<TxnShape> {
    let out = std::process::Command::new("hledger")
        .arg("-f")
        .arg(path)
        .args(["print", "-O", "json"])
        .output()
        .expect("run hledger print");
    assert!(
        out.status.success(),
        "hledger print failed on {}",
        path.display()
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("hledger print JSON");
    let tags = |v: &Value| -> Vec<(String, String)> {
        let mut t: Vec<(String, String)> = v
            .as_array()
            .expect("tags")
            .iter()
            .map(|pair| {
                let name = pair[0].as_str().expect("tag name").to_string();
                (
                    name,
                    pair[1].as_str().expect("tag value").trim().to_string(),
                )
            })
            .collect();
        t.sort();
        t
    };
    let mut shapes: Vec<TxnShape> = json
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| TxnShape {
            date: t["tdate"].as_str().expect("tdate").to_string(),
            status: match t["tstatus"].as_str().expect("tstatus") {
                "Cleared" => "*",
                "Pending" => "!",
                _ => "",
            },
            code: t["tcode"].as_str().expect("tcode").to_string(),
            description: t["tdescription"]
                .as_str()
                .expect("tdescription")
                .trim()
                .to_string(),
            tags: tags(&t["ttags"]),
            postings: merge_split_postings(
                t["tpostings"]
                    .as_array()
                    .expect("tpostings")
                    .iter()
                    .map(|p| {
                        // hledger copies an `account` directive's tags (`; type:A`) onto every posting to that
                        // account; tally keeps a posting's tags to what its own comment says.
                        let mut own = tags(&p["ptags"]);
                        own.retain(|(name, _)| name != "type");
                        (p["paccount"].as_str().expect("paccount").to_string(), own)
                    })
                    .collect(),
            ),
        })
        .collect();
    shapes.sort();
    shapes
}

fn tally_tags(tags: &[Tag]) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = tags
        .iter()
        .map(|t| (t.name.clone(), t.value.trim().to_string()))
        .collect();
    t.sort();
    t
}

/// tally splits an elided posting that balances several commodities into one posting per commodity; hledger keeps
/// one posting with a multi-commodity amount. Adjacent postings with the same account and tags count as one, on
/// both sides.
fn merge_split_postings(
    mut postings: Vec<(String, Vec<(String, String)>)>,
) -> Vec<(String, Vec<(String, String)>)> {
    postings.dedup();
    postings
}

/// Every transaction the backend lists for the empty query, paging through all of them.
async fn backend_transactions(backend: &JournalBackend) -> Result<Vec<TxnShape>, String> {
    let mut shapes = Vec::new();
    let mut offset = 0;
    loop {
        let page = PageRequest {
            offset,
            limit: 1_000,
            ..PageRequest::default()
        };
        let got = backend
            .transactions(&Query::all(), page)
            .await
            .map_err(|e| format!("transactions() failed: {e}"))?;
        let n = got.items.len();
        for t in got.items {
            shapes.push(TxnShape {
                date: t.date.format("%Y-%m-%d").to_string(),
                status: match t.status {
                    Status::Cleared => "*",
                    Status::Pending => "!",
                    Status::Unmarked => "",
                },
                code: t.code.clone(),
                description: t.description.trim().to_string(),
                tags: tally_tags(&t.tags),
                postings: merge_split_postings(
                    t.postings
                        .iter()
                        .map(|p| (p.account.clone(), tally_tags(&p.tags)))
                        .collect(),
                ),
            });
        }
        offset += n;
        if n == 0 || offset >= got.total {
            break;
        }
    }
    shapes.sort();
    Ok(shapes)
}

/// Describes the transactions only one side has (at most a few of each).
fn transaction_differences(expected: &[TxnShape], actual: &[TxnShape]) -> Vec<String> {
    let mut out = Vec::new();
    if expected.len() != actual.len() {
        out.push(format!(
            "  hledger lists {} transactions, tally {}",
            expected.len(),
            actual.len()
        ));
    }
    let only = |a: &[TxnShape], b: &[TxnShape]| -> Vec<TxnShape> {
        let mut rest = b.to_vec();
        a.iter()
            .filter(|t| match rest.iter().position(|r| r == *t) {
                Some(i) => {
                    rest.swap_remove(i);
                    false
                }
                None => true,
            })
            .cloned()
            .collect()
    };
    for t in only(expected, actual).iter().take(3) {
        out.push(format!("  only in hledger: {t:?}"));
    }
    for t in only(actual, expected).iter().take(3) {
        out.push(format!("  only in tally:   {t:?}"));
    }
    out
}

async fn backend_balances(path: &Path) -> Result<Balances, String> {
    let backend = JournalBackend::open(path).map_err(|e| format!("open failed: {e}"))?;
    let diagnostics = backend.load_diagnostics();
    if !diagnostics.is_empty() {
        let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        return Err(format!(
            "hledger accepts the file but tally reports problems:\n  {}",
            lines.join("\n  ")
        ));
    }
    let accounts = backend
        .accounts()
        .await
        .map_err(|e| format!("accounts() failed: {e}"))?;
    let mut map = Balances::new();
    for account in &accounts {
        for m in account.balance.non_zero() {
            add(&mut map, &account.name, &m.commodity, m.quantity);
        }
    }
    Ok(normalise(map))
}

fn cli_balances(path: &Path, scratch: &Path) -> Result<Balances, String> {
    let out = Command::cargo_bin("tally")
        .map_err(|e| format!("tally binary: {e}"))?
        .env("TALLY_DATA_DIR", scratch.join("data"))
        .env("TALLY_CONFIG", scratch.join("config.toml"))
        .arg("balances")
        .arg("-f")
        .arg(path)
        .args(["--format", "json"])
        .output()
        .map_err(|e| format!("run tally: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tally balances exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let json: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("tally JSON: {e}"))?;
    let mut map = Balances::new();
    for row in json.as_array().ok_or("tally output is not a JSON array")? {
        let account = row["account"].as_str().ok_or("row without account")?;
        for amount in row["amounts"].as_array().ok_or("row without amounts")? {
            let commodity = amount["commodity"]
                .as_str()
                .ok_or("amount without commodity")?;
            let quantity: Decimal = amount["quantity"]
                .as_str()
                .ok_or("quantity is not a string")?
                .parse()
                .map_err(|e| format!("quantity: {e}"))?;
            add(&mut map, account, commodity, quantity);
        }
    }
    Ok(normalise(map))
}

/// Describes every difference between hledger's balances and tally's, one line each.
fn differences(expected: &Balances, actual: &Balances) -> Vec<String> {
    let mut out = Vec::new();
    let empty = BTreeMap::new();
    let accounts: std::collections::BTreeSet<&String> =
        expected.keys().chain(actual.keys()).collect();
    for account in accounts {
        let e = expected.get(account).unwrap_or(&empty);
        let a = actual.get(account).unwrap_or(&empty);
        let commodities: std::collections::BTreeSet<&String> = e.keys().chain(a.keys()).collect();
        for c in commodities {
            let (ev, av) = (e.get(c), a.get(c));
            if ev != av {
                let show = |v: Option<&Decimal>| v.map_or("(none)".to_string(), |d| d.to_string());
                out.push(format!(
                    "  {account:?} {c:?}: hledger {} tally {}",
                    show(ev),
                    show(av)
                ));
            }
        }
    }
    out
}

/// Compares both tally surfaces with hledger on each file; returns one report per file that differs.
async fn check_files(files: &[PathBuf]) -> Vec<String> {
    // An empty config file and data directory of its own, so the user's config never changes what is compared.
    let scratch = tempfile::tempdir().expect("tempdir");
    std::fs::write(scratch.path().join("config.toml"), "").expect("write config");
    let mut failures = Vec::new();
    for file in files {
        let expected = hledger_balances(file);
        assert!(
            !expected.is_empty(),
            "{}: hledger reports no balances; the fixture tests nothing",
            file.display()
        );
        match JournalBackend::open(file) {
            Err(e) => failures.push(format!("{}: open failed: {e}", file.display())),
            Ok(backend) => match backend_transactions(&backend).await {
                Err(e) => failures.push(format!("{}: {e}", file.display())),
                Ok(actual) => {
                    let diffs = transaction_differences(&hledger_transactions(file), &actual);
                    if !diffs.is_empty() {
                        failures.push(format!(
                            "{} [transactions] differ from hledger print:\n{}",
                            file.display(),
                            diffs.join("\n")
                        ));
                    }
                }
            },
        }
        let surfaces = [
            ("JournalBackend::accounts", backend_balances(file).await),
            ("tally balances", cli_balances(file, scratch.path())),
        ];
        for (surface, actual) in surfaces {
            match actual {
                Err(e) => failures.push(format!("{} [{surface}]: {e}", file.display())),
                Ok(actual) => {
                    let diffs = differences(&expected, &actual);
                    if !diffs.is_empty() {
                        failures.push(format!(
                            "{} [{surface}] differs from hledger:\n{}",
                            file.display(),
                            diffs.join("\n")
                        ));
                    }
                }
            }
        }
    }
    failures
}

fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} mismatch(es):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = repo_path("tests/fixtures/journals");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "journal"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn fixtures_match_hledger() {
    if !hledger_present() {
        return;
    }
    let files = fixture_files();
    assert!(
        files.len() >= 20,
        "expected the construct fixtures, found {}",
        files.len()
    );
    assert_no_failures(&check_files(&files).await);
}

#[tokio::test]
async fn demo_journal_matches_hledger() {
    if !hledger_present() {
        return;
    }
    assert_no_failures(&check_files(&[repo_path("assets/demo.journal")]).await);
}

#[tokio::test]
async fn generated_journals_match_hledger() {
    if !hledger_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for seed in 1..=3 {
        let path = dir.path().join(format!("generated-{seed}.journal"));
        let mut file = std::fs::File::create(&path).expect("create");
        let opts = GenerateOptions {
            transactions: 3_000,
            seed,
            ..GenerateOptions::default()
        };
        generate(&opts, &mut file).expect("generate");
        files.push(path);
    }
    assert_no_failures(&check_files(&files).await);
}

/// The bundled demo must keep what the dashboard is shown off with: two years of data up to this month, a review
/// queue of pending and unmarked entries in the last weeks, and the tags, notes and unknown expenses the panes use.
#[tokio::test]
async fn demo_journal_has_what_the_dashboard_shows() {
    let backend = JournalBackend::open(repo_path("assets/demo.journal")).expect("open demo");
    assert!(
        backend.load_diagnostics().is_empty(),
        "the demo parses cleanly"
    );
    let page = PageRequest {
        limit: 10_000,
        ..PageRequest::default()
    };
    let all = backend
        .transactions(&Query::all(), page)
        .await
        .expect("transactions");
    assert!(
        (600..=900).contains(&all.total),
        "{} transactions",
        all.total
    );
    let dates: Vec<chrono::NaiveDate> = all.items.iter().map(|t| t.date).collect();
    let newest = dates.iter().max().expect("a newest date");
    let oldest = dates.iter().min().expect("an oldest date");
    assert_eq!(newest.format("%Y-%m").to_string(), "2026-11");
    assert!((*newest - *oldest).num_days() > 700, "about two years");
    let recent_unreviewed = all
        .items
        .iter()
        .filter(|t| t.date.format("%Y-%m").to_string() == "2026-11" && t.status != Status::Cleared)
        .count();
    assert!(
        recent_unreviewed >= 10,
        "{recent_unreviewed} pending/unmarked this month"
    );
    for tag in ["trip", "work", "reimbursable", "review"] {
        let tagged = all.items.iter().any(|t| {
            t.tags.iter().any(|g| g.name == tag)
                || t.postings
                    .iter()
                    .any(|p| p.tags.iter().any(|g| g.name == tag))
        });
        assert!(tagged, "no transaction tagged {tag}");
    }
    assert!(
        all.items.iter().any(|t| !t.note.is_empty()),
        "payee | note descriptions"
    );
    let accounts = backend.accounts().await.expect("accounts");
    for name in [
        "assets:checking",
        "assets:savings",
        "assets:cash",
        "liabilities:credit card",
        "expenses:unknown",
    ] {
        assert!(
            accounts.iter().any(|a| a.name == name),
            "missing account {name}"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Runs a tally edit command on `file`; returns how many transactions it says it changed.
fn tally_edit(file: &Path, scratch: &Path, args: &[&str]) -> Result<usize, String> {
    let out = Command::cargo_bin("tally")
        .map_err(|e| format!("tally binary: {e}"))?
        .env("TALLY_DATA_DIR", scratch.join("data"))
        .env("TALLY_CONFIG", scratch.join("config.toml"))
        .args(args)
        .arg("-f")
        .arg(file)
        .output()
        .map_err(|e| format!("run tally: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "tally {args:?} failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    stdout
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("tally {args:?}: no count in {stdout:?}"))
}

fn hledger_count(path: &Path, filter: impl Fn(&Value) -> bool) -> usize {
    let out = std::process::Command::new("hledger")
        .arg("-f")
        .arg(path)
        .args(["print", "-O", "json"])
        .output()
        .expect("run hledger print");
    assert!(
        out.status.success(),
        "hledger print failed on {}",
        path.display()
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("hledger print JSON");
    json.as_array()
        .expect("transactions")
        .iter()
        .filter(|t| filter(t))
        .count()
}

fn has_tag(t: &Value, name: &str) -> bool {
    t["ttags"]
        .as_array()
        .is_some_and(|tags| tags.iter().any(|pair| pair[0] == name))
}

/// Edits every editable transaction of one fixture (add a tag, set a status, remove the tag) through the CLI and
/// checks after each step that hledger still accepts the file(s), balances are untouched, hledger sees exactly the
/// edits tally reports, and tally still agrees with hledger.
/// One CLI edit and the check that hledger sees it on a transaction (`hledger print -O json` object).
type EditStep<'a> = (&'a [&'a str], &'a dyn Fn(&Value) -> bool);

async fn check_edits(fixture: &Path, scratch: &Path) -> Vec<String> {
    let name = fixture.file_name().expect("file name").to_owned();
    let dir = scratch.join(format!("edit-{}", name.to_string_lossy()));
    copy_dir(fixture.parent().expect("fixture dir"), &dir);
    let file = dir.join(&name);
    let before = hledger_balances(&file);
    let editable = match JournalBackend::open(&file) {
        Ok(b) => match backend_transactions_raw(&b).await {
            Ok(items) => items.iter().filter(|t| !t.read_only).count(),
            Err(e) => return vec![format!("{}: {e}", fixture.display())],
        },
        Err(e) => return vec![format!("{}: open failed: {e}", fixture.display())],
    };
    let mut failures = Vec::new();
    let steps: [EditStep; 3] = [
        (&["tag", "-q", "", "--add", "oracle"], &|t| {
            has_tag(t, "oracle")
        }),
        (&["status", "-q", "", "--set", "pending"], &|t| {
            t["tstatus"] == "Pending"
        }),
        (&["tag", "-q", "", "--remove", "oracle"], &|t| {
            !has_tag(t, "oracle")
        }),
    ];
    for (args, edited) in steps {
        let label = format!("{} after `tally {}`", fixture.display(), args.join(" "));
        let changed = match tally_edit(&file, scratch, args) {
            Ok(n) => n,
            Err(e) => {
                failures.push(format!("{label}: {e}"));
                break;
            }
        };
        let check = std::process::Command::new("hledger")
            .arg("-f")
            .arg(&file)
            .args(["bal", "-N"])
            .output()
            .expect("run hledger");
        if !check.status.success() {
            failures.push(format!(
                "{label}: hledger rejects the edited file: {}",
                String::from_utf8_lossy(&check.stderr)
            ));
            break;
        }
        let diffs = differences(&before, &hledger_balances(&file));
        if !diffs.is_empty() {
            failures.push(format!("{label}: balances changed:\n{}", diffs.join("\n")));
        }
        let seen = hledger_count(&file, edited);
        if seen < editable {
            failures.push(format!(
                "{label}: {editable} editable transactions, hledger sees the edit on {seen} (tally says {changed} changed)"
            ));
        }
        for (surface, actual) in [
            ("JournalBackend::accounts", backend_balances(&file).await),
            ("tally balances", cli_balances(&file, scratch)),
        ] {
            match actual {
                Err(e) => failures.push(format!("{label} [{surface}]: {e}")),
                Ok(actual) => {
                    let diffs = differences(&before, &actual);
                    if !diffs.is_empty() {
                        failures.push(format!("{label} [{surface}]:\n{}", diffs.join("\n")));
                    }
                }
            }
        }
    }
    failures
}

/// Every transaction the backend lists for the empty query.
async fn backend_transactions_raw(
    backend: &JournalBackend,
) -> Result<Vec<tally::domain::Transaction>, String> {
    let page = PageRequest {
        limit: usize::MAX,
        ..PageRequest::default()
    };
    let got = backend
        .transactions(&Query::all(), page)
        .await
        .map_err(|e| format!("transactions() failed: {e}"))?;
    if got.items.len() != got.total {
        return Err(format!(
            "one page held {} of {} transactions",
            got.items.len(),
            got.total
        ));
    }
    Ok(got.items)
}

/// The editing oracle: tag, status and untag edits through `tally` keep every fixture, the demo and a generated
/// journal valid for hledger with the same balances, in whichever file (main or included) each transaction lives,
/// whatever its line endings or BOM. Split in three tests (every third file) so the test threads share the work.
async fn edits_keep_valid_for_hledger(part: usize) {
    if !hledger_present() {
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    std::fs::write(scratch.path().join("config.toml"), "").expect("write config");
    let mut failures = Vec::new();
    let generated_dir = scratch.path().join("generated");
    std::fs::create_dir_all(&generated_dir).expect("create dir");
    let generated = generated_dir.join("generated.journal");
    let mut files = fixture_files();
    files.push(repo_path("assets/demo.journal"));
    files.push(generated.clone());
    for (i, file) in files.into_iter().enumerate() {
        if i % 3 != part {
            continue;
        }
        if file == generated {
            let opts = GenerateOptions {
                transactions: 2_000,
                seed: 9,
                ..GenerateOptions::default()
            };
            generate(
                &opts,
                &mut std::fs::File::create(&generated).expect("create"),
            )
            .expect("generate");
        }
        failures.extend(check_edits(&file, scratch.path()).await);
    }
    assert_no_failures(&failures);
}

#[tokio::test]
async fn edits_keep_fixtures_valid_for_hledger_1() {
    edits_keep_valid_for_hledger(0).await;
}

#[tokio::test]
async fn edits_keep_fixtures_valid_for_hledger_2() {
    edits_keep_valid_for_hledger(1).await;
}

#[tokio::test]
async fn edits_keep_fixtures_valid_for_hledger_3() {
    edits_keep_valid_for_hledger(2).await;
}

/// Where hledger says a rejected journal is wrong: `FILE:LINE:COLUMN:` (parse errors), `(line L, column C)`
/// (balance assertions) or `(lines L-M)` (transactions that do not balance: the column is not given).
fn hledger_error_position(path: &Path) -> (usize, Option<usize>, String) {
    let out = std::process::Command::new("hledger")
        .arg("-f")
        .arg(path)
        .args(["bal", "-N"])
        .output()
        .expect("run hledger");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{}: hledger accepts this journal; a rejected fixture must be rejected",
        path.display()
    );
    let first = stderr.lines().next().unwrap_or_default().to_string();
    let num = |s: &str| s.trim().parse::<usize>().ok();
    let prefix = format!("hledger: {}:", path.display());
    if let Some(rest) = first.strip_prefix(&prefix) {
        let mut parts = rest.split(':');
        let line = parts.next().and_then(num).expect("line");
        return (line, parts.next().and_then(num), stderr);
    }
    if let Some(at) = first.find("(line ") {
        let inside = &first[at + 6..first.rfind(')').expect(")")];
        let (line, col) = inside.split_once(", column ").expect("line, column");
        return (num(line).expect("line"), num(col), stderr);
    }
    if let Some(at) = first.find("(lines ") {
        let line = first[at + 7..]
            .split('-')
            .next()
            .and_then(num)
            .expect("line");
        return (line, None, stderr);
    }
    panic!("{}: unrecognised hledger error:\n{stderr}", path.display());
}

/// Every journal hledger rejects, tally reports too, at the line (and column, where hledger gives one) hledger names,
/// and leaves what it could not read out of its balances instead of showing a wrong number.
#[test]
fn rejected_fixtures_are_rejected_where_hledger_says() {
    if !hledger_present() {
        return;
    }
    let dir = repo_path("tests/fixtures/rejected");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("rejected fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "journal"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "found {} rejected fixtures", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let (line, column, said) = hledger_error_position(file);
        let backend = JournalBackend::open(file).expect("open");
        let diags = backend.load_diagnostics();
        let hit = diags
            .iter()
            .any(|d| d.line == line && column.is_none_or(|c| d.column == c));
        if !hit {
            failures.push(format!(
                "{}: hledger says line {line}{}: {}\n  tally says: {diags:?}",
                file.display(),
                column.map(|c| format!(" column {c}")).unwrap_or_default(),
                said.lines().take(4).collect::<Vec<_>>().join(" / "),
            ));
        }
    }
    assert_no_failures(&failures);
}
