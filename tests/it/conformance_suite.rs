//! The backend conformance suite: the same scenarios run against every `Backend` (the journal on a temp file, the
//! REST client against `tally serve`, each dialect against its test server). Tests call `run_all` with a backend
//! and an `Oracle` for the data behind it; every scenario panics with a message naming itself when the backend
//! disagrees. The expectations are not hard-coded: they come from independent oracles — real `hledger` on the same
//! file (`Hledger`: balances, transaction counts per query, what a write left in the file), or what a test server
//! holds (each server test supplies its own `Oracle`), the query
//! matcher applied to the backend's own full listing (every query form, paging slices, totals and sums), and
//! `analytics` over that listing (summaries and breakdowns). Write scenarios undo themselves, so the suite can run
//! twice on one ledger. `assert_same` compares two backends over the same data call by call, which is how "the
//! remote ledger shows exactly what the local file shows" is checked.

use async_trait::async_trait;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use tally::analytics;
use tally::backend::{
    Backend, BackendError, BreakdownRow, Dimension, GroupBy, PageRequest, SortKey, TxnPage,
    TxnPatch,
};
use tally::domain::{Balance, Status, Tag, Transaction, TxnId};
use tally::query::{self, Query};

/// Non-zero balances per commodity, by account name.
pub type Balances = BTreeMap<String, Vec<(String, Decimal)>>;

/// An independent view of the data behind a backend under test.
#[async_trait]
pub trait Oracle: Send + Sync {
    /// The balances `accounts()` must report (non-zero ones).
    async fn balances(&self, b: &dyn Backend) -> Balances;
    /// How many transactions the data source holds that match `query` (after the backend has written everything
    /// it queued); `None` when this oracle cannot tell for that form of query.
    async fn count(&self, b: &dyn Backend, query: &str) -> Option<usize>;
    /// Account names follow hledger's conventions (`assets:…`), so an account's kind follows from its name.
    fn hledger_names(&self) -> bool {
        true
    }
}

/// Real `hledger` on the journal file the backend was loaded from (directly, or behind a server).
pub struct Hledger<'a>(pub &'a Path);

#[async_trait]
impl Oracle for Hledger<'_> {
    async fn balances(&self, _b: &dyn Backend) -> Balances {
        hledger_balances(self.0)
            .iter()
            .filter(|(_, b)| !b.is_zero())
            .map(|(n, b)| (n.clone(), non_zero(b)))
            .collect()
    }

    async fn count(&self, _b: &dyn Backend, query: &str) -> Option<usize> {
        Some(hledger_count(self.0, query))
    }
}

/// The fixture ledger every backend under test is loaded with.
pub const FIXTURE: &str = include_str!("../../tests/fixtures/conformance.journal");

/// One query per form of the query language; each is checked against the matcher, several against hledger.
pub const QUERY_FORMS: &[&str] = &[
    "coffee",
    "whole foods",
    "'whole foods'",
    "acct:food",
    "acct:checking acct:cash",
    "desc:rent",
    "payee:landlord",
    "note:gift",
    "tag:work",
    "tag:trip=lisbon",
    "tag:project",
    "amt:>100",
    "amt:<=-1000",
    "amt:4.50",
    "date:2024",
    "date:2024-03",
    "date:2024-01-01..2024-02-01",
    "date:2025-01..",
    "status:*",
    "status:!",
    "status:",
    "cur:EUR",
    "not:tag:work",
    "not:acct:credit",
    "is:review",
    "is:untagged",
    "payee:landlord date:2024",
];

/// Queries whose meaning is the same in hledger, used as an outside oracle for transaction counts.
pub const HLEDGER_QUERIES: &[&str] = &[
    "acct:food",
    "desc:rent",
    "payee:Landlord",
    "date:2024-03",
    "status:*",
    "status:!",
    "tag:work",
    "tag:trip=Lisbon",
    "cur:EUR",
    "amt:>100",
];

/// A breakdown row reduced to what must agree: key, count, non-zero totals.
type Row = (String, usize, Vec<(String, Decimal)>);

const SCRATCH_TAG: &str = "conformance";
const BULK_TAG: &str = "bulkconformance";

macro_rules! ensure {
    ($scenario:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            panic!("conformance [{}]: {}", $scenario, format!($($msg)+));
        }
    };
}

/// Checks `got` against the oracle's count for `query`, when it has one.
async fn counts(s: &str, oracle: &dyn Oracle, b: &dyn Backend, query: &str, got: usize) {
    if let Some(want) = oracle.count(b, query).await {
        ensure!(
            s,
            got == want,
            "{query:?}: the data source holds {want}, expected {got}"
        );
    }
}

fn hledger(journal: &Path, args: &[&str]) -> String {
    let out = Command::new("hledger")
        .arg("-f")
        .arg(journal)
        .args(args)
        .output()
        .expect("conformance: hledger must be installed (it is the oracle)");
    assert!(
        out.status.success(),
        "conformance: hledger {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How many transactions hledger prints for `query` on `journal`.
pub fn hledger_count(journal: &Path, query: &str) -> usize {
    let mut args = vec!["print", "-O", "json"];
    args.extend(query.split_whitespace());
    let json: serde_json::Value =
        serde_json::from_str(&hledger(journal, &args)).expect("hledger print -O json is JSON");
    json.as_array().map_or(0, Vec::len)
}

fn hledger_amount(a: &serde_json::Value) -> (String, Decimal) {
    let commodity = a["acommodity"].as_str().unwrap_or_default().to_string();
    let mantissa = a["aquantity"]["decimalMantissa"]
        .as_i64()
        .expect("hledger amount mantissa");
    let places = a["aquantity"]["decimalPlaces"]
        .as_u64()
        .expect("hledger amount places");
    (
        commodity,
        Decimal::from_i128_with_scale(i128::from(mantissa), places as u32),
    )
}

/// Every account's own non-zero balance as `hledger bal --flat` reports it.
pub fn hledger_balances(journal: &Path) -> BTreeMap<String, Balance> {
    let json: serde_json::Value =
        serde_json::from_str(&hledger(journal, &["bal", "--flat", "-O", "json"]))
            .expect("hledger bal -O json is JSON");
    let mut out = BTreeMap::new();
    for row in json[0].as_array().expect("hledger balance rows") {
        let name = row[0].as_str().expect("account name").to_string();
        let mut b = Balance::new();
        for a in row[3].as_array().expect("amounts") {
            let (c, q) = hledger_amount(a);
            b.add(q, &c);
        }
        out.insert(name, b);
    }
    out
}

/// The non-zero part of a balance, comparable across backends that keep or drop zero sums.
pub fn non_zero(b: &Balance) -> Vec<(String, Decimal)> {
    b.non_zero()
        .map(|m| (m.commodity.clone(), m.quantity.normalize()))
        .collect()
}

fn sum_of<'a>(txns: impl IntoIterator<Item = &'a Transaction>) -> Balance {
    sum_for(&Query::all(), txns)
}

/// What a page's sum must be for `query`: the transactions' amounts, or for a query about accounts (`acct:`) the sum
/// of those accounts' postings (`TxnPage::sum`).
fn sum_for<'a>(query: &Query, txns: impl IntoIterator<Item = &'a Transaction>) -> Balance {
    let focus = query.account_focus();
    let mut b = Balance::new();
    for t in txns {
        if focus.is_empty() {
            b.merge(&t.amount());
        } else {
            tally::query::amount_in(t, &focus, &mut b);
        }
    }
    b
}

fn ids(txns: &[Transaction]) -> Vec<TxnId> {
    txns.iter().map(|t| t.id.clone()).collect()
}

fn q(text: &str) -> Query {
    query::parse(text).expect("conformance queries parse")
}

async fn all(b: &dyn Backend, query: &Query) -> TxnPage {
    b.transactions(query, PageRequest::all())
        .await
        .unwrap_or_else(|e| panic!("conformance [listing]: {:?} failed: {e}", query.source))
}

/// Runs every scenario against `backend`, with `oracle` telling what the data behind it holds.
pub async fn run_all(backend: &dyn Backend, oracle: &dyn Oracle) {
    accounts_match_oracle(backend, oracle).await;
    let listing = listing_is_complete_and_ordered(backend, oracle).await;
    paging_edges(backend, &listing).await;
    let full = listing.items;
    query_forms(backend, oracle, &full).await;
    get_by_id(backend, &full).await;
    not_found(backend, &full).await;
    tags_agree_with_listing(backend).await;
    summary_matches_analytics(backend, &full).await;
    breakdown_matches_analytics(backend, &full).await;
    let caps = backend.capabilities();
    update_status(backend, oracle, &caps).await;
    add_remove_tag(backend, oracle, &caps).await;
    bulk_tag_round_trip(backend, oracle, &caps).await;
    capabilities_are_honest(backend, &caps).await;
}

pub async fn accounts_match_oracle(b: &dyn Backend, oracle: &dyn Oracle) {
    let s = "accounts";
    let accounts = b.accounts().await.unwrap_or_else(|e| panic!("{s}: {e}"));
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    ensure!(
        s,
        names == sorted,
        "accounts are not sorted by name: {names:?}"
    );
    let ours: BTreeMap<String, Vec<(String, Decimal)>> = accounts
        .iter()
        .filter(|a| !a.balance.is_zero())
        .map(|a| (a.name.clone(), non_zero(&a.balance)))
        .collect();
    let theirs = oracle.balances(b).await;
    ensure!(
        s,
        ours == theirs,
        "balances differ from the oracle's:\n ours:   {ours:?}\n oracle: {theirs:?}"
    );
    for a in accounts.iter().filter(|_| oracle.hledger_names()) {
        ensure!(
            s,
            a.kind == tally::domain::account_kind(&a.name),
            "{} has kind {:?}",
            a.name,
            a.kind
        );
    }
}

pub async fn listing_is_complete_and_ordered(b: &dyn Backend, oracle: &dyn Oracle) -> TxnPage {
    let s = "listing";
    let page = all(b, &Query::all()).await;
    ensure!(
        s,
        page.total == page.items.len(),
        "total {} but {} items listed",
        page.total,
        page.items.len()
    );
    counts(s, oracle, b, "", page.total).await;
    ensure!(
        s,
        page.items.windows(2).all(|w| w[0].date >= w[1].date),
        "the default order is not newest first"
    );
    let unique: BTreeSet<&TxnId> = page.items.iter().map(|t| &t.id).collect();
    ensure!(
        s,
        unique.len() == page.items.len(),
        "transaction ids are not unique"
    );
    ensure!(
        s,
        non_zero(&page.sum) == non_zero(&sum_of(&page.items)),
        "sum {} is not the sum of the items' amounts {}",
        page.sum,
        sum_of(&page.items)
    );
    let asc = b
        .transactions(
            &Query::all(),
            PageRequest {
                ascending: true,
                ..PageRequest::all()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{s}: ascending: {e}"));
    ensure!(
        s,
        asc.items.windows(2).all(|w| w[0].date <= w[1].date),
        "ascending order is not oldest first"
    );
    let mut a: Vec<&TxnId> = asc.items.iter().map(|t| &t.id).collect();
    let mut d: Vec<&TxnId> = page.items.iter().map(|t| &t.id).collect();
    a.sort();
    d.sort();
    ensure!(
        s,
        a == d,
        "ascending and descending list different transactions"
    );
    for key in [
        SortKey::Amount,
        SortKey::Payee,
        SortKey::Status,
        SortKey::Category,
    ] {
        let sorted = b
            .transactions(
                &Query::all(),
                PageRequest {
                    sort: key,
                    ..PageRequest::all()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{s}: sort by {}: {e}", key.name()));
        let mut got: Vec<&TxnId> = sorted.items.iter().map(|t| &t.id).collect();
        got.sort();
        ensure!(
            s,
            got == d,
            "sorting by {} loses or adds transactions",
            key.name()
        );
        if key == SortKey::Status {
            ensure!(
                s,
                sorted.items.windows(2).all(|w| w[0].status >= w[1].status),
                "sort by status descending is out of order"
            );
        }
    }
    page
}

pub async fn paging_edges(b: &dyn Backend, listing: &TxnPage) {
    let s = "paging";
    let full = &listing.items[..];
    let n = full.len();
    let full_sum = non_zero(&listing.sum);
    let cases = [
        (0, 1),
        (0, 50),
        (3, 7),
        (199, 2),
        (150, 190),
        (200, 200),
        (10, 450),
        (n.saturating_sub(1), 10),
        (n.saturating_sub(7), 7),
        (n, 10),
        (n + 5, 10),
        (0, 0),
        (10, usize::MAX),
        (usize::MAX / 2, 5),
    ];
    for (offset, limit) in cases {
        let page = b
            .transactions(
                &Query::all(),
                PageRequest {
                    offset,
                    limit,
                    ..PageRequest::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{s}: offset {offset} limit {limit}: {e}"));
        let start = offset.min(n);
        let end = offset.saturating_add(limit).min(n);
        let want = ids(&full[start..end]);
        ensure!(
            s,
            ids(&page.items) == want,
            "offset {offset} limit {limit}: got {} items, want {} (or a different slice)",
            page.items.len(),
            want.len()
        );
        ensure!(
            s,
            page.total == n,
            "offset {offset} limit {limit}: total {} want {n}",
            page.total
        );
        ensure!(
            s,
            non_zero(&page.sum) == full_sum,
            "offset {offset} limit {limit}: the sum must cover every match, not the page"
        );
    }
    // Consecutive pages of 200 tile the listing exactly.
    let mut tiled = Vec::new();
    let mut offset = 0;
    loop {
        let page = b
            .transactions(
                &Query::all(),
                PageRequest {
                    offset,
                    limit: 200,
                    ..PageRequest::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{s}: page at {offset}: {e}"));
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len();
        tiled.extend(page.items);
    }
    ensure!(
        s,
        ids(&tiled) == ids(full),
        "pages of 200 do not tile the listing"
    );
}

pub async fn query_forms(b: &dyn Backend, oracle: &dyn Oracle, full: &[Transaction]) {
    let s = "query";
    for text in QUERY_FORMS {
        let query = q(text);
        let want: Vec<&Transaction> = full.iter().filter(|t| query.matches(*t)).collect();
        let got = all(b, &query).await;
        let want_ids: Vec<TxnId> = want.iter().map(|t| t.id.clone()).collect();
        ensure!(
            s,
            ids(&got.items) == want_ids,
            "{text:?}: {} matches, the matcher over the listing finds {}",
            got.items.len(),
            want_ids.len()
        );
        ensure!(
            s,
            got.total == want.len(),
            "{text:?}: total {} want {}",
            got.total,
            want.len()
        );
        ensure!(
            s,
            non_zero(&got.sum) == non_zero(&sum_for(&query, want.iter().copied())),
            "{text:?}: sum {} is not the matches' sum {}",
            got.sum,
            sum_for(&query, want.iter().copied())
        );
        let counted = b
            .transactions(
                &query,
                PageRequest {
                    limit: 0,
                    ..PageRequest::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{s}: {text:?} with limit 0: {e}"));
        ensure!(
            s,
            counted.total == want.len() && counted.items.is_empty(),
            "{text:?}: limit 0 must still report the total"
        );
    }
    for text in HLEDGER_QUERIES {
        let got = all(b, &q(text)).await;
        counts(s, oracle, b, text, got.total).await;
    }
    let bad = b.transactions(&q("coffee"), PageRequest::default()).await;
    ensure!(s, bad.is_ok(), "a plain word query failed: {bad:?}");
    let combined = q("acct:food").and(&q("date:2024"));
    let want = full.iter().filter(|t| combined.matches(*t)).count();
    ensure!(
        s,
        all(b, &combined).await.total == want,
        "a query joined with Query::and filters differently"
    );
}

pub async fn get_by_id(b: &dyn Backend, full: &[Transaction]) {
    let s = "get by id";
    let step = (full.len() / 40).max(1);
    for t in full.iter().step_by(step) {
        let got = b
            .transaction(&t.id)
            .await
            .unwrap_or_else(|e| panic!("conformance [{s}]: {}: {e}", t.id));
        ensure!(s, &got == t, "{} differs from its listing entry", t.id);
    }
}

pub async fn not_found(b: &dyn Backend, full: &[Transaction]) {
    let s = "not found";
    let missing = TxnId("conformance-no-such-transaction".into());
    let e = b.transaction(&missing).await;
    ensure!(
        s,
        matches!(e, Err(BackendError::NotFound(_))),
        "get of a missing id: {e:?}"
    );
    let caps = b.capabilities();
    let e = b
        .update_transaction(
            &missing,
            &TxnPatch {
                status: Some(Status::Cleared),
                ..TxnPatch::default()
            },
        )
        .await;
    let ok = if caps.edit_status {
        matches!(e, Err(BackendError::NotFound(_)))
    } else {
        matches!(
            e,
            Err(BackendError::NotFound(_) | BackendError::Unsupported(_))
        )
    };
    ensure!(s, ok, "update of a missing id: {e:?}");
    if caps.bulk_tag
        && let Some(real) = full.iter().find(|t| !t.read_only)
    {
        let e = b
            .bulk_tag(
                &[real.id.clone(), missing.clone()],
                &[Tag::new(BULK_TAG, "")],
                &[],
            )
            .await;
        ensure!(
            s,
            matches!(
                e,
                Err(BackendError::NotFound(_) | BackendError::Conflict(_))
            ),
            "bulk tag naming a missing id must fail (not found): {e:?}"
        );
        let after = all(b, &q(&format!("tag:{BULK_TAG}"))).await;
        ensure!(
            s,
            after.total == 0,
            "bulk tag with a missing id changed {} transactions: it must be all or nothing",
            after.total
        );
    }
}

pub async fn tags_agree_with_listing(b: &dyn Backend) {
    let s = "tags";
    let tags = b.tags().await.unwrap_or_else(|e| panic!("{s}: {e}"));
    let tagged = all(b, &q("not:is:untagged")).await.total;
    ensure!(
        s,
        tagged == 0 || !tags.is_empty(),
        "{tagged} transactions have tags but tags() is empty"
    );
    for t in &tags {
        let term = if t.name.contains(' ') {
            format!("tag:\"{}\"", t.name)
        } else {
            format!("tag:{}", t.name)
        };
        let n = all(b, &q(&term)).await.total;
        ensure!(
            s,
            n == t.count,
            "tag {} counts {} transactions, the query tag:{} finds {n}",
            t.name,
            t.count,
            t.name
        );
    }
    let full = all(b, &Query::all()).await;
    let mut names: BTreeSet<String> = BTreeSet::new();
    for t in &full.items {
        for tag in &t.tags {
            names.insert(tag.name.to_lowercase());
        }
    }
    let listed: BTreeSet<String> = tags.iter().map(|t| t.name.to_lowercase()).collect();
    ensure!(
        s,
        names.is_subset(&listed),
        "tags on transactions but not in tags(): {:?}",
        names.difference(&listed).collect::<Vec<_>>()
    );
}

pub async fn summary_matches_analytics(b: &dyn Backend, full: &[Transaction]) {
    let s = "summary";
    for group_by in [GroupBy::Day, GroupBy::Week, GroupBy::Month, GroupBy::Year] {
        for text in ["", "date:2024-03..2024-07", "acct:food"] {
            let query = q(text);
            let got = b
                .summary(&query, group_by)
                .await
                .unwrap_or_else(|e| panic!("conformance [{s}]: {text:?}: {e}"));
            let matched: Vec<&Transaction> = full.iter().filter(|t| query.matches(*t)).collect();
            let want = analytics::summary(matched.iter().copied(), group_by);
            ensure!(
                s,
                got.len() == want.len(),
                "{} periods by {} for {text:?}, analytics gives {}",
                got.len(),
                group_by.name(),
                want.len()
            );
            for (g, w) in got.iter().zip(&want) {
                ensure!(
                    s,
                    g.start == w.start
                        && g.count == w.count
                        && non_zero(&g.income) == non_zero(&w.income)
                        && non_zero(&g.spending) == non_zero(&w.spending)
                        && non_zero(&g.net) == non_zero(&w.net),
                    "period {} by {} for {text:?}: got {g:?}, analytics gives {w:?}",
                    w.start,
                    group_by.name()
                );
            }
        }
    }
}

pub async fn breakdown_matches_analytics(b: &dyn Backend, full: &[Transaction]) {
    let s = "breakdown";
    for dimension in [
        Dimension::Category,
        Dimension::Tag,
        Dimension::Account,
        Dimension::Payee,
    ] {
        for text in ["", "date:2024"] {
            let query = q(text);
            let got = b
                .breakdown(&query, dimension)
                .await
                .unwrap_or_else(|e| panic!("conformance [{s}]: {text:?}: {e}"));
            let matched: Vec<&Transaction> = full.iter().filter(|t| query.matches(*t)).collect();
            let want = analytics::breakdown(matched.iter().copied(), dimension);
            let norm = |rows: &[BreakdownRow]| -> Vec<Row> {
                rows.iter()
                    .map(|r| (r.key.clone(), r.count, non_zero(&r.total)))
                    .collect()
            };
            ensure!(
                s,
                norm(&got) == norm(&want),
                "by {} for {text:?}:\n got      {:?}\n analytics {:?}",
                dimension.name(),
                norm(&got),
                norm(&want)
            );
        }
    }
}

/// A transaction that may be edited, with the given status, away from the fixture's first entries.
fn editable(full: &[Transaction], status: Status) -> Option<&Transaction> {
    full.iter()
        .find(|t| !t.read_only && t.status == status && !t.tags.is_empty())
        .or_else(|| full.iter().find(|t| !t.read_only && t.status == status))
}

async fn unchanged_others(s: &str, b: &dyn Backend, before: &[Transaction], edited: &[&TxnId]) {
    let after = all(b, &Query::all()).await;
    let keep: BTreeSet<&TxnId> = before
        .iter()
        .map(|t| &t.id)
        .filter(|id| !edited.contains(id))
        .collect();
    let now: BTreeSet<&TxnId> = after.items.iter().map(|t| &t.id).collect();
    ensure!(
        s,
        keep.is_subset(&now),
        "ids of transactions that were not edited changed: {} missing",
        keep.difference(&now).count()
    );
}

pub async fn update_status(
    b: &dyn Backend,
    oracle: &dyn Oracle,
    caps: &tally::backend::Capabilities,
) {
    let s = "update status";
    let full = all(b, &Query::all()).await.items;
    // An unmarked one where the backend has them; else a pending one (Fin X knows no "unmarked").
    let found = editable(&full, Status::Unmarked)
        .or_else(|| editable(&full, Status::Pending))
        .or_else(|| (!caps.edit_status).then(|| full.first()).flatten());
    let Some(t) = found else {
        panic!("conformance [{s}]: the fixture needs an unmarked or pending editable transaction");
    };
    let patch = |st: Status| TxnPatch {
        status: Some(st),
        ..TxnPatch::default()
    };
    let cleared_before = oracle.count(b, "status:*").await;
    let result = b.update_transaction(&t.id, &patch(Status::Cleared)).await;
    if !caps.edit_status {
        ensure!(
            s,
            matches!(result, Err(BackendError::Unsupported(_))),
            "edit_status is false but the update answered {result:?}"
        );
        return;
    }
    let edited = result.unwrap_or_else(|e| panic!("conformance [{s}]: {e}"));
    ensure!(
        s,
        edited.status == Status::Cleared,
        "returned status {:?}",
        edited.status
    );
    ensure!(
        s,
        edited.date == t.date && edited.description == t.description && edited.tags == t.tags,
        "the status edit changed other fields"
    );
    let again = b
        .transaction(&edited.id)
        .await
        .unwrap_or_else(|e| panic!("conformance [{s}]: re-read: {e}"));
    ensure!(
        s,
        again == edited,
        "re-reading gives a different transaction"
    );
    if let Some(before) = cleared_before {
        counts(s, oracle, b, "status:*", before + 1).await;
    }
    unchanged_others(s, b, &full, &[&t.id]).await;
    // Through pending back to where it was.
    let back_to = if t.status == Status::Pending {
        vec![Status::Pending]
    } else {
        vec![Status::Pending, t.status]
    };
    for st in back_to {
        let back = b
            .update_transaction(&edited.id, &patch(st))
            .await
            .unwrap_or_else(|e| panic!("conformance [{s}]: to {st}: {e}"));
        ensure!(s, back.status == st, "status {st} not applied");
    }
    if let Some(before) = cleared_before {
        counts(s, oracle, b, "status:*", before).await;
    }
    let pending = full.iter().filter(|t| t.status == Status::Pending).count();
    counts(s, oracle, b, "status:!", pending).await;
    let restored = all(b, &Query::all()).await.items;
    let same: Vec<_> = restored.iter().filter(|x| x.id == t.id).collect();
    ensure!(
        s,
        same.len() == 1 && same[0] == t,
        "after restoring, the transaction differs from the original (ids must be stable)"
    );
}

pub async fn add_remove_tag(
    b: &dyn Backend,
    oracle: &dyn Oracle,
    caps: &tally::backend::Capabilities,
) {
    let s = "add/remove tag";
    let full = all(b, &Query::all()).await.items;
    let found = full
        .iter()
        .find(|t| !t.read_only)
        .or_else(|| (!caps.edit_tags).then(|| full.first()).flatten());
    let Some(t) = found else {
        panic!("conformance [{s}]: no editable transaction");
    };
    let add = TxnPatch {
        add_tags: vec![Tag::new(SCRATCH_TAG, "yes")],
        ..TxnPatch::default()
    };
    let result = b.update_transaction(&t.id, &add).await;
    if !caps.edit_tags {
        ensure!(
            s,
            matches!(result, Err(BackendError::Unsupported(_))),
            "edit_tags is false but adding a tag answered {result:?}"
        );
        return;
    }
    let tagged = result.unwrap_or_else(|e| panic!("conformance [{s}]: add: {e}"));
    ensure!(
        s,
        tagged.tags.contains(&Tag::new(SCRATCH_TAG, "yes")),
        "the returned transaction lacks the tag: {:?}",
        tagged.tags
    );
    let found = all(b, &q(&format!("tag:{SCRATCH_TAG}=yes"))).await;
    ensure!(
        s,
        ids(&found.items) == vec![tagged.id.clone()],
        "tag:{SCRATCH_TAG}=yes finds {:?}",
        ids(&found.items)
    );
    counts(s, oracle, b, &format!("tag:{SCRATCH_TAG}=yes"), 1).await;
    ensure!(
        s,
        b.tags()
            .await
            .unwrap_or_default()
            .iter()
            .any(|x| x.name == SCRATCH_TAG && x.count == 1),
        "tags() does not list the new tag with count 1"
    );
    unchanged_others(s, b, &full, &[&t.id]).await;
    let removed = b
        .update_transaction(
            &tagged.id,
            &TxnPatch {
                remove_tags: vec![SCRATCH_TAG.into()],
                ..TxnPatch::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("conformance [{s}]: remove: {e}"));
    ensure!(s, !removed.has_tag(SCRATCH_TAG), "the tag is still there");
    counts(s, oracle, b, &format!("tag:{SCRATCH_TAG}"), 0).await;
    ensure!(
        s,
        removed.tags == t.tags && removed.status == t.status,
        "removing the tag did not restore the transaction's tags"
    );
}

pub async fn bulk_tag_round_trip(
    b: &dyn Backend,
    oracle: &dyn Oracle,
    caps: &tally::backend::Capabilities,
) {
    let s = "bulk tag";
    let full = all(b, &Query::all()).await.items;
    let picked: Vec<TxnId> = full
        .iter()
        .filter(|t| !t.read_only)
        .step_by(37)
        .take(5)
        .map(|t| t.id.clone())
        .collect();
    let tag = [Tag::new(BULK_TAG, "")];
    let result = b.bulk_tag(&picked, &tag, &[]).await;
    if !caps.bulk_tag {
        ensure!(
            s,
            matches!(result, Err(BackendError::Unsupported(_))),
            "bulk_tag is false but bulk tagging answered {result:?}"
        );
        return;
    }
    let r = result.unwrap_or_else(|e| panic!("conformance [{s}]: add: {e}"));
    ensure!(
        s,
        r.changed == picked.len() && r.unchanged == 0,
        "first add: {r:?} for {} ids",
        picked.len()
    );
    let tagged = all(b, &q(&format!("tag:{BULK_TAG}"))).await;
    ensure!(
        s,
        tagged.total == picked.len(),
        "tag:{BULK_TAG} finds {}",
        tagged.total
    );
    counts(s, oracle, b, &format!("tag:{BULK_TAG}"), picked.len()).await;
    let now_ids = ids(&tagged.items);
    let again = b
        .bulk_tag(&now_ids, &tag, &[])
        .await
        .unwrap_or_else(|e| panic!("conformance [{s}]: repeat: {e}"));
    ensure!(
        s,
        again.changed == 0 && again.unchanged == picked.len(),
        "repeating the add must change nothing: {again:?}"
    );
    let current = ids(&all(b, &q(&format!("tag:{BULK_TAG}"))).await.items);
    let removed = b
        .bulk_tag(&current, &[], &[BULK_TAG.to_string()])
        .await
        .unwrap_or_else(|e| panic!("conformance [{s}]: remove: {e}"));
    ensure!(s, removed.changed == picked.len(), "remove: {removed:?}");
    ensure!(
        s,
        all(b, &q(&format!("tag:{BULK_TAG}"))).await.total == 0,
        "the tag survived its removal"
    );
    counts(s, oracle, b, &format!("tag:{BULK_TAG}"), 0).await;
    let after = all(b, &Query::all()).await.items;
    ensure!(
        s,
        after == full,
        "a bulk add then remove must leave every transaction as it was"
    );
}

pub async fn capabilities_are_honest(b: &dyn Backend, caps: &tally::backend::Capabilities) {
    let s = "capabilities";
    ensure!(s, !caps.label.is_empty(), "the label is empty");
    let created = b.create_tag("conformancenew").await;
    if caps.manage_tags {
        let tag = created
            .unwrap_or_else(|e| panic!("conformance [{s}]: manage_tags but create failed: {e}"));
        let renamed = b
            .rename_tag(&tag.id, "conformancerenamed")
            .await
            .unwrap_or_else(|e| panic!("conformance [{s}]: rename: {e}"));
        ensure!(
            s,
            renamed.name == "conformancerenamed",
            "rename gave {renamed:?}"
        );
        b.delete_tag(&renamed.id)
            .await
            .unwrap_or_else(|e| panic!("conformance [{s}]: delete: {e}"));
    } else {
        ensure!(
            s,
            matches!(created, Err(BackendError::Unsupported(_))),
            "manage_tags is false but create_tag answered {created:?}"
        );
        let e = b.delete_tag("work").await;
        ensure!(
            s,
            matches!(e, Err(BackendError::Unsupported(_))),
            "manage_tags is false but delete_tag answered {e:?}"
        );
    }
    let sources = b.sources().await;
    if caps.sources {
        let list = sources.unwrap_or_else(|e| panic!("conformance [{s}]: sources: {e}"));
        ensure!(s, !list.is_empty(), "sources is true but none are listed");
        let synced = b.sync(&list[0].id).await;
        if caps.sync {
            ensure!(
                s,
                synced.is_ok(),
                "sync is true but syncing failed: {synced:?}"
            );
        } else {
            ensure!(
                s,
                matches!(synced, Err(BackendError::Unsupported(_))),
                "sync is false but syncing answered {synced:?}"
            );
        }
    } else {
        ensure!(
            s,
            matches!(&sources, Ok(v) if v.is_empty())
                || matches!(sources, Err(BackendError::Unsupported(_))),
            "sources is false but sources() lists some"
        );
    }
}

/// A page with each transaction's `source` cut to its file name and line, so two copies of one ledger in
/// different directories compare equal.
fn portable(mut page: TxnPage) -> TxnPage {
    // Running balances are the journal's (the REST API does not carry them).
    page.before = None;
    for t in &mut page.items {
        if let Some(i) = t.source.rfind(['/', '\\']) {
            t.source = t.source[i + 1..].to_string();
        }
    }
    page
}

/// Two backends over the same data answer every read the same way (REST vs the journal it serves).
pub async fn assert_same(a: &dyn Backend, b: &dyn Backend) {
    let s = "same";
    let (aa, ba) = (a.accounts().await, b.accounts().await);
    let (aa, ba) = (
        aa.unwrap_or_else(|e| panic!("{s}: {e}")),
        ba.unwrap_or_else(|e| panic!("{s}: {e}")),
    );
    ensure!(s, aa == ba, "accounts differ");
    for text in std::iter::once("").chain(QUERY_FORMS.iter().copied()) {
        let query = q(text);
        let (x, y) = (
            portable(all(a, &query).await),
            portable(all(b, &query).await),
        );
        ensure!(s, x == y, "listing for {text:?} differs");
    }
    for key in [
        SortKey::Amount,
        SortKey::Payee,
        SortKey::Status,
        SortKey::Category,
    ] {
        for ascending in [false, true] {
            let req = PageRequest {
                offset: 5,
                limit: 300,
                sort: key,
                ascending,
            };
            let x = a.transactions(&Query::all(), req).await.map(portable);
            let y = b.transactions(&Query::all(), req).await.map(portable);
            ensure!(
                s,
                matches!((&x, &y), (Ok(x), Ok(y)) if x == y),
                "sorted by {} ({}) differs",
                key.name(),
                if ascending { "asc" } else { "desc" }
            );
        }
    }
    let (x, y) = (a.tags().await.ok(), b.tags().await.ok());
    ensure!(s, x == y, "tags differ");
    for g in [GroupBy::Day, GroupBy::Week, GroupBy::Month, GroupBy::Year] {
        let (x, y) = (
            a.summary(&Query::all(), g).await.ok(),
            b.summary(&Query::all(), g).await.ok(),
        );
        ensure!(s, x.is_some() && x == y, "summary by {} differs", g.name());
    }
    for d in [
        Dimension::Category,
        Dimension::Tag,
        Dimension::Account,
        Dimension::Payee,
    ] {
        let (x, y) = (
            a.breakdown(&Query::all(), d).await.ok(),
            b.breakdown(&Query::all(), d).await.ok(),
        );
        ensure!(
            s,
            x.is_some() && x == y,
            "breakdown by {} differs",
            d.name()
        );
    }
    let (ca, cb) = (a.capabilities(), b.capabilities());
    ensure!(
        s,
        (
            ca.edit_status,
            ca.edit_tags,
            ca.edit_category,
            ca.edit_notes,
            ca.bulk_tag,
            ca.manage_tags,
            ca.sources,
            ca.sync
        ) == (
            cb.edit_status,
            cb.edit_tags,
            cb.edit_category,
            cb.edit_notes,
            cb.bulk_tag,
            cb.manage_tags,
            cb.sources,
            cb.sync
        ),
        "capabilities differ: {ca:?} vs {cb:?}"
    );
    let names = |v: Option<Vec<tally::backend::Source>>| {
        v.map(|v| {
            v.into_iter()
                .map(|x| (x.name, x.kind, x.status))
                .collect::<Vec<_>>()
        })
    };
    let (x, y) = (names(a.sources().await.ok()), names(b.sources().await.ok()));
    ensure!(s, x == y, "sources differ: {x:?} vs {y:?}");
}
