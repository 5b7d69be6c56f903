//! The hledger-web dialect against the real `hledger-web` (Debian 1.25) serving a journal: `tally --remote URL
//! --dialect hledger-web balances --format json` prints exactly what `tally -f FILE balances --format json` prints
//! (the demo, the conformance fixture and construct fixtures); the listing, every query form and every sort show the
//! same transactions as the file (dates, statuses, descriptions, payees, notes, codes, tags, postings); the
//! conformance suite passes with `hledger` on the same file as the oracle; and every edit is refused with the reason.

use crate::servers;

use crate::conformance_suite::{FIXTURE, Hledger, QUERY_FORMS, run_all};
use assert_cmd::Command;
use servers::hledger_web::HledgerWeb;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tally::backend::journal::JournalBackend;
use tally::backend::mirror::{MirrorBackend, MirrorOptions, Wait};
use tally::backend::rest::RestOptions;
use tally::backend::rest::hledger_web::HledgerWeb as Dialect;
use tally::backend::{Backend, BackendError, PageRequest, SortKey, TxnPatch};
use tally::domain::{Status, Tag, Transaction};
use tally::query;

const FIXTURES: &[&str] = &[
    "assertions.journal",
    "assignments.journal",
    "comments-tags.journal",
    "costs.journal",
    "costs-virtual-more.journal",
    "elided.journal",
    "include.journal",
    "multi-commodity.journal",
    "payee-note.journal",
    "status-codes.journal",
    "unicode-names.journal",
    "virtual.journal",
    "zero-amounts.journal",
];

fn copy(text: &str, dir: &Path) -> PathBuf {
    let path = dir.join("ledger.journal");
    std::fs::write(&path, text).expect("write journal");
    path
}

async fn mirror(url: &str, dir: &Path) -> MirrorBackend {
    let dialect = Dialect::new(&RestOptions {
        base_url: url.to_string(),
        timeout: Duration::from_secs(20),
        ..RestOptions::default()
    })
    .expect("loopback URL");
    MirrorBackend::open(
        Box::new(dialect),
        MirrorOptions {
            path: dir.join("mirror.sqlite"),
            wait: Wait::Complete,
        },
    )
    .await
    .expect("the mirror of hledger-web opens")
}

fn balances_json(args: &[&str], cache: &Path) -> String {
    let config = cache.join("config.toml");
    std::fs::write(&config, "").expect("an empty config");
    let out = Command::cargo_bin("tally")
        .expect("binary")
        .args(args)
        .args(["balances", "--format", "json"])
        .env("TALLY_CACHE_DIR", cache)
        .env("TALLY_CONFIG", &config)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "tally {args:?} balances: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn balances_print_exactly_what_the_file_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut journals: Vec<PathBuf> = vec![root.join("assets/demo.journal")];
    journals.extend(
        FIXTURES
            .iter()
            .map(|f| root.join("tests/fixtures/journals").join(f)),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    journals.push(copy(FIXTURE, dir.path()));
    for journal in journals {
        let Some(web) = HledgerWeb::start(&journal) else {
            return;
        };
        let cache = tempfile::tempdir().expect("cache");
        let file = balances_json(&["-f", &journal.display().to_string()], cache.path());
        let remote = balances_json(
            &["--remote", &web.url, "--dialect", "hledger-web"],
            cache.path(),
        );
        assert_eq!(remote, file, "{}", journal.display());
    }
}

/// A transaction as both sides must show it: everything but the id, the source as `FILE:LINE` by file name, and
/// quantities by value (an inferred `$-57.2400` is hledger-web's `$-57.24`).
fn shape(t: &Transaction) -> String {
    let mut t = t.clone();
    t.id = tally::domain::TxnId(String::new());
    for p in &mut t.postings {
        p.amount.quantity = p.amount.quantity.normalize();
        if let Some(c) = p.cost.as_mut() {
            c.quantity = c.quantity.normalize();
        }
    }
    if let Some(i) = t.source.rfind('/') {
        t.source = t.source[i + 1..].to_string();
    }
    serde_json::to_string(&t).expect("json")
}

async fn shapes(b: &dyn Backend, text: &str, page: PageRequest) -> Vec<String> {
    let q = query::parse(text).expect("query");
    b.transactions(&q, page)
        .await
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .items
        .iter()
        .map(shape)
        .collect()
}

/// The two listings are equal; otherwise the first difference is shown.
fn same(remote: &[String], local: &[String], what: &str) {
    if let Some(i) = (0..remote.len().max(local.len())).find(|&i| remote.get(i) != local.get(i)) {
        panic!(
            "{what}: {} vs {} transactions; first difference at {i}:\n remote: {:?}\n local:  {:?}",
            remote.len(),
            local.len(),
            remote.get(i),
            local.get(i)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_transactions_for_every_query_and_sort() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journals = vec![copy(FIXTURE, dir.path()), root.join("assets/demo.journal")];
    journals.extend(
        [
            "comments-tags.journal",
            "payee-note.journal",
            "status-codes.journal",
        ]
        .iter()
        .map(|f| root.join("tests/fixtures/journals").join(f)),
    );
    for journal in journals {
        let Some(web) = HledgerWeb::start(&journal) else {
            return;
        };
        let cache = tempfile::tempdir().expect("cache");
        let remote = mirror(&web.url, cache.path()).await;
        let local = JournalBackend::open(&journal).expect("journal");
        for text in std::iter::once("").chain(QUERY_FORMS.iter().copied()) {
            same(
                &shapes(&remote, text, PageRequest::all()).await,
                &shapes(&local, text, PageRequest::all()).await,
                &format!("{}: {text:?}", journal.display()),
            );
        }
        for sort in [
            SortKey::Amount,
            SortKey::Payee,
            SortKey::Status,
            SortKey::Category,
        ] {
            let page = PageRequest {
                sort,
                ..PageRequest::all()
            };
            let (r, l) = (
                shapes(&remote, "", page).await,
                shapes(&local, "", page).await,
            );
            assert_eq!(r.len(), l.len());
            // Ties may fall either way; the sorted keys and the sets must agree.
            let mut rs = r.clone();
            let mut ls = l.clone();
            rs.sort();
            ls.sort();
            same(
                &rs,
                &ls,
                &format!("{}: sort by {}", journal.display(), sort.name()),
            );
        }
        assert_eq!(
            remote.tags().await.expect("tags"),
            local.tags().await.expect("tags"),
            "{}",
            journal.display()
        );
        assert_eq!(
            remote
                .summary(&query::Query::all(), tally::backend::GroupBy::Month)
                .await
                .expect("s"),
            local
                .summary(&query::Query::all(), tally::backend::GroupBy::Month)
                .await
                .expect("s"),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hledger_web_conforms_and_refuses_edits_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = copy(FIXTURE, dir.path());
    let Some(web) = HledgerWeb::start(&journal) else {
        return;
    };
    let remote = mirror(&web.url, dir.path()).await;
    run_all(&remote, &Hledger(&journal)).await;
    let caps = remote.capabilities();
    assert!(!caps.edit_status && !caps.edit_tags && !caps.bulk_tag);
    assert!(
        caps.reason("edit_tags")
            .is_some_and(|r| r.contains("cannot edit"))
    );
    let id = remote
        .transactions(&query::Query::all(), PageRequest::default())
        .await
        .expect("listing")
        .items[0]
        .id
        .clone();
    let e = remote
        .update_transaction(
            &id,
            &TxnPatch {
                status: Some(Status::Cleared),
                ..TxnPatch::default()
            },
        )
        .await
        .expect_err("read-only");
    assert!(matches!(e, BackendError::Unsupported(_)), "{e}");
    assert!(
        e.to_string().contains("hledger-web 1.25 cannot edit"),
        "{e}"
    );
    let e = remote
        .bulk_tag(std::slice::from_ref(&id), &[Tag::new("x", "")], &[])
        .await
        .expect_err("read-only");
    assert!(e.to_string().contains("cannot edit"), "{e}");
    // The file changes (another program appends): a refresh shows it.
    let before = remote
        .transactions(&query::Query::all(), PageRequest::default())
        .await
        .expect("listing")
        .total;
    let mut text = std::fs::read_to_string(&journal).expect("read");
    text.push_str("\n2030-01-02 * Appended elsewhere\n    expenses:food  $1.00\n    assets:cash\n");
    std::fs::write(&journal, text).expect("append");
    remote.sync("mirror").await.expect("refresh");
    let after = remote
        .transactions(&query::Query::all(), PageRequest::default())
        .await
        .expect("listing");
    assert_eq!(after.total, before + 1);
    assert_eq!(after.items[0].description, "Appended elsewhere");
    assert!(remote.reload().await.expect("reload"));
}
