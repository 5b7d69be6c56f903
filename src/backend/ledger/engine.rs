//! The queries every in-memory ledger answers the same way, whether it was read from a journal file or built from
//! a server's mirror: filtering with the query language, sorting, paging, per-commodity sums, account balances, tag
//! counts, summaries and breakdowns. Filtering runs in parallel over the index and keeps the last few match sets
//! (`MatchCache`), so paging through a result and typing forward in the filter cost little more than the new work.

use super::{EntryView, Journal};
use crate::analytics::recurring::Sample;
use crate::analytics::{BreakdownBuilder, SummaryBuilder};
use crate::backend::{
    BackendError, BreakdownRow, Dimension, GroupBy, PageRequest, PeriodSummary, Result, SortKey,
    TagInfo, TxnPage,
};
use crate::domain::{Account, Balance, TxnId};
use crate::query::{Query, Term, TxnView, amount_in};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many match sets are kept (each is at most 4 bytes per transaction).
const MATCH_SETS: usize = 4;

/// The matches of one query, in the requested order, with their sum.
struct MatchSet {
    key: String,
    query: Query,
    sort: SortKey,
    indices: Arc<Vec<u32>>,
    sum: Balance,
}

/// The last few match sets, most recent first: the table's query, the review queue and analytics queries
/// alternate, and none should evict the others. Cleared whenever the index changes.
#[derive(Default)]
pub struct MatchCache {
    sets: Mutex<Vec<MatchSet>>,
}

fn poisoned<T>(_: T) -> BackendError {
    BackendError::Io("internal lock poisoned by an earlier panic".into())
}

impl MatchCache {
    pub fn new() -> Self {
        MatchCache::default()
    }

    /// Forgets every match set (the index they point into changed).
    pub fn clear(&self) {
        if let Ok(mut m) = self.sets.lock() {
            m.clear();
        }
    }

    /// Forgets the match sets an edit of status, tags, category or note may change, and keeps those it cannot: a
    /// query on dates, amounts and commodities only, in date or amount order (an edit never changes an amount or a
    /// date, nor adds or removes a transaction). The unfiltered listing, which every `tally serve` client asks
    /// for, stays ready through a save.
    pub fn keep_unaffected_by_edits(&self) {
        fn unaffected(t: &Term) -> bool {
            match t {
                Term::Date(_) | Term::Amount { .. } | Term::Commodity(_) => true,
                Term::Not(inner) => unaffected(inner),
                _ => false,
            }
        }
        if let Ok(mut m) = self.sets.lock() {
            m.retain(|set| {
                matches!(set.sort, SortKey::Date | SortKey::Amount)
                    && set.query.terms.iter().all(unaffected)
            });
        }
    }

    /// The indices of the entries matching `query`, in the order `page` asks for, and their sum.
    pub fn matches(
        &self,
        j: &Journal,
        query: &Query,
        page: &PageRequest,
    ) -> Result<(Arc<Vec<u32>>, Balance)> {
        let order = format!("{:?}|{}", page.sort, page.ascending);
        let key = format!("{:?}|{order}", query.terms);
        // The lock is held only to look and to store: concurrent queries filter in parallel.
        let previous = {
            let cache = self.sets.lock().map_err(poisoned)?;
            if let Some(m) = cache.iter().find(|m| m.key == key) {
                return Ok((m.indices.clone(), m.sum.clone()));
            }
            cache
                .iter()
                .filter(|m| m.key.ends_with(&order) && query.narrows(&m.query))
                .min_by_key(|m| m.indices.len())
                .map(|m| m.indices.clone())
        };
        let started = std::time::Instant::now();
        // Typing forward narrows the last match set: filter it (already in order) instead of the whole ledger.
        let source: &[u32] = previous.as_deref().map_or(&j.by_date, |v| v.as_slice());
        let (mut indices, sum) = filter(j, source, query);
        if previous.is_none() {
            sort_indices(j, &mut indices, page.sort, page.ascending);
        }
        tracing::debug!(
            query = %query.source,
            matches = indices.len(),
            elapsed = ?started.elapsed(),
            "query"
        );
        let indices = Arc::new(indices);
        let mut cache = self.sets.lock().map_err(poisoned)?;
        cache.retain(|m| m.key != key);
        cache.insert(
            0,
            MatchSet {
                key,
                query: query.clone(),
                sort: page.sort,
                indices: indices.clone(),
                sum: sum.clone(),
            },
        );
        cache.truncate(MATCH_SETS);
        Ok((indices, sum))
    }

    /// One page of the matching transactions, with the total count and sum of all matches.
    pub fn page(&self, j: &Journal, query: &Query, page: &PageRequest) -> Result<TxnPage> {
        let (indices, sum) = self.matches(j, query, page)?;
        let slice = slice(&indices, page);
        let focus = query.account_focus();
        let before = (!focus.is_empty() && page.sort == SortKey::Date).then(|| {
            let upto = page.offset.min(indices.len());
            indices[..upto]
                .par_chunks(16_384)
                .map(|chunk| {
                    let mut b = Balance::new();
                    for &i in chunk {
                        amount_in(&j.view(i), &focus, &mut b);
                    }
                    b
                })
                .reduce(Balance::new, |mut a, b| {
                    a.merge(&b);
                    a
                })
        });
        Ok(TxnPage {
            items: slice.iter().map(|&i| j.view(i).to_transaction()).collect(),
            total: indices.len(),
            sum,
            before,
        })
    }

    /// Ids and amounts of a slice of the matches, and the total match count.
    pub fn refs(
        &self,
        j: &Journal,
        query: &Query,
        page: &PageRequest,
    ) -> Result<(Vec<(TxnId, Balance)>, usize)> {
        let (indices, _) = self.matches(j, query, page)?;
        let refs = slice(&indices, page)
            .par_iter()
            .map(|&i| {
                let v = j.view(i);
                let mut amount = Balance::new();
                v.add_amount(&mut amount);
                (v.id(), amount)
            })
            .collect();
        Ok((refs, indices.len()))
    }

    pub fn summary(
        &self,
        j: &Journal,
        query: &Query,
        group_by: GroupBy,
    ) -> Result<Vec<PeriodSummary>> {
        let (indices, _) = self.matches(j, query, &PageRequest::default())?;
        Ok(accumulate(
            j,
            &indices,
            || SummaryBuilder::new(group_by),
            |b, v| b.add(v),
            SummaryBuilder::merge,
        )
        .finish())
    }

    pub fn breakdown(
        &self,
        j: &Journal,
        query: &Query,
        dimension: Dimension,
    ) -> Result<Vec<BreakdownRow>> {
        let (indices, _) = self.matches(j, query, &PageRequest::default())?;
        Ok(accumulate(
            j,
            &indices,
            || BreakdownBuilder::new(dimension),
            |b, v| b.add(v),
            BreakdownBuilder::merge,
        )
        .finish())
    }
}

impl MatchCache {
    /// What the search for recurring transactions needs of the last `HISTORY_YEARS` years of the matches, read
    /// straight from the index (no domain transactions are built).
    pub fn samples(&self, j: &Journal, query: &Query) -> Result<Vec<Sample>> {
        let asc = PageRequest {
            ascending: true,
            ..PageRequest::default()
        };
        let (indices, _) = self.matches(j, query, &asc)?;
        let Some(&last) = indices.last() else {
            return Ok(Vec::new());
        };
        let newest = j.entries[last as usize].date;
        let from = newest
            .checked_sub_months(chrono::Months::new(12 * crate::backend::HISTORY_YEARS))
            .unwrap_or(newest);
        let start = indices.partition_point(|&i| j.entries[i as usize].date <= from);
        Ok(indices[start..]
            .par_iter()
            .filter_map(|&i| {
                let v = j.view(i);
                let mut amount = Balance::new();
                v.add_amount(&mut amount);
                Sample::of(&v, &amount)
            })
            .collect())
    }
}

fn slice<'a>(indices: &'a [u32], page: &PageRequest) -> &'a [u32] {
    let start = page.offset.min(indices.len());
    let end = start.saturating_add(page.limit).min(indices.len());
    &indices[start..end]
}

/// Category suggestions for the uncategorised entries among `matches`, learned from every categorised entry of
/// the index (no `Transaction` is built for the history).
pub fn suggestions(j: &Journal, matches: &[u32]) -> Vec<crate::analytics::suggest::Suggestion> {
    use crate::analytics::suggest::History;
    // The size of a transaction: its category posting's amount (no allocation per entry).
    let size = |v: &EntryView<'_>| {
        v.postings()
            .iter()
            .find(|p| v.kind(p).is_category())
            .or_else(|| v.postings().first())
            .and_then(|p| rust_decimal::prelude::ToPrimitive::to_f64(&p.quantity.abs()))
            .unwrap_or(0.0)
    };
    let needs = |v: &EntryView<'_>| {
        let postings = v.postings();
        let transfer = postings.len() >= 2 && postings.iter().all(|p| v.kind(p).is_real());
        crate::domain::lacks_category(v.category(), transfer)
    };
    let mut history = History::default();
    for i in 0..j.entries.len() as u32 {
        let v = j.view(i);
        if !needs(&v)
            && let Some(c) = v.category()
        {
            history.add(TxnView::payee(&v), c, size(&v));
        }
    }
    matches
        .iter()
        .map(|&i| j.view(i))
        .filter(|v| needs(v))
        .filter_map(|v| history.suggest_for(&v.id(), TxnView::payee(&v), size(&v)))
        .collect()
}

/// The postings CSV rows could duplicate (`dedup::Wanted`): those dated within its days with one of its amounts on
/// one of its accounts, and the first posting of every transaction tagged with one of its import ids. Account names
/// are looked up once, so a 10,000-row CSV against a million transactions compares symbols and numbers only.
pub fn held(j: &Journal, wanted: &crate::import::dedup::Wanted) -> Vec<crate::import::dedup::Held> {
    use crate::import::dedup::{Held, IMPORT_ID_TAG};
    let amounts: std::collections::HashSet<(super::Sym, Decimal)> = wanted
        .amounts
        .iter()
        .filter_map(|(account, q)| Some((j.accounts.lookup(account)?, *q)))
        .collect();
    let held_of = |v: &EntryView<'_>, p: &super::PostingRec, import_id: Option<String>| Held {
        date: v.entry.date,
        account: v.account(p).to_string(),
        commodity: v.commodity(p).to_string(),
        quantity: p.quantity,
        description: TxnView::description(v).to_string(),
        source: v.to_source(),
        import_id,
    };
    let mut out = Vec::new();
    if let (Some(from), Some(to)) = (wanted.from, wanted.to) {
        let date = |i: &u32| j.entries[*i as usize].date;
        let start = j.by_date.partition_point(|i| date(i) < from);
        let end = j.by_date.partition_point(|i| date(i) <= to);
        for &i in &j.by_date[start..end.max(start)] {
            let v = j.view(i);
            for p in v.postings() {
                if amounts.contains(&(p.account, p.quantity.normalize())) {
                    out.push(held_of(
                        &v,
                        p,
                        v.tag_value(IMPORT_ID_TAG).map(str::to_string),
                    ));
                }
            }
        }
    }
    if !wanted.ids.is_empty() {
        for &i in &j.by_date {
            let v = j.view(i);
            if let Some(id) = v
                .tag_value(IMPORT_ID_TAG)
                .filter(|id| wanted.ids.contains(*id))
                && let Some(p) = v.postings().first()
            {
                out.push(held_of(&v, p, Some(id.to_string())));
            }
        }
    }
    out
}

/// One pass over `source`: filter and sum per chunk in parallel, then join the chunks in order.
fn filter(j: &Journal, source: &[u32], query: &Query) -> (Vec<u32>, Balance) {
    let focus = query.account_focus();
    // Account patterns are matched against the few distinct account names once, not against every posting.
    let index = query.index_accounts(&j.accounts.names);
    let parts: Vec<(Vec<u32>, Balance)> = source
        .par_chunks(16_384)
        .map(|chunk| {
            let mut hits = Vec::new();
            let mut sum = Balance::new();
            for &i in chunk {
                let v = j.view(i);
                if query.is_empty() || query.matches_indexed(&v, &index) {
                    hits.push(i);
                    if focus.is_empty() {
                        v.add_amount(&mut sum);
                    } else {
                        amount_in(&v, &focus, &mut sum);
                    }
                }
            }
            (hits, sum)
        })
        .collect();
    let mut indices = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    let mut sum = Balance::new();
    for (hits, part) in parts {
        indices.extend_from_slice(&hits);
        sum.merge(&part);
    }
    (indices, sum)
}

fn sort_indices(j: &Journal, indices: &mut [u32], sort: SortKey, ascending: bool) {
    match sort {
        SortKey::Date => {} // by_date order already
        SortKey::Amount => indices
            .par_sort_by_cached_key(|&i| (j.view(i).sort_amount(), j.entries[i as usize].date)),
        SortKey::Payee => indices.par_sort_by_cached_key(|&i| j.view(i).payee().to_lowercase()),
        SortKey::Status => indices.par_sort_by_key(|&i| j.entries[i as usize].status),
        SortKey::Category => indices.par_sort_by_cached_key(|&i| {
            j.view(i).category().map(str::to_string).unwrap_or_default()
        }),
    }
    if !ascending {
        indices.reverse();
    }
}

/// Folds the entries at `indices` into accumulators in parallel chunks, then merges them.
fn accumulate<A: Send>(
    j: &Journal,
    indices: &[u32],
    make: impl Fn() -> A + Sync + Send,
    add: impl Fn(&mut A, &EntryView<'_>) + Sync + Send,
    merge: impl Fn(&mut A, A) + Sync + Send,
) -> A {
    indices
        .par_chunks(16_384)
        .map(|chunk| {
            let mut acc = make();
            for &i in chunk {
                add(&mut acc, &j.view(i));
            }
            acc
        })
        .reduce(&make, |mut a, b| {
            merge(&mut a, b);
            a
        })
}

/// Every account with postings and its own balance (not its subaccounts), sorted by name; each commodity shown
/// with the most decimals it is written with (inferred amounts do not count), as hledger does.
pub fn balances(j: &Journal) -> Vec<Account> {
    // Dense sums indexed by (account, commodity): no hashing per posting. Also the precision of each commodity.
    // Only the postings of listed entries count (a mirror's index keeps replaced postings until it is rebuilt).
    let ncom = j.commodities.names.len().max(1);
    let cells = j.accounts.names.len() * ncom;
    let empty = || {
        (
            vec![Decimal::ZERO; cells],
            vec![0u32; ncom],
            vec![false; j.accounts.names.len()],
        )
    };
    let (sums, scales, has_postings) = j
        .by_date
        .par_chunks(16_384)
        .map(|chunk| {
            let (mut m, mut scales, mut seen) = empty();
            for &i in chunk {
                for p in j.view(i).postings() {
                    m[p.account as usize * ncom + p.commodity as usize] += p.quantity;
                    if !p.inferred {
                        let s = &mut scales[p.commodity as usize];
                        *s = (*s).max(p.quantity.scale());
                    }
                    seen[p.account as usize] = true;
                }
            }
            (m, scales, seen)
        })
        .reduce(empty, |(mut a, mut sa, mut ha), (b, sb, hb)| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
            for (x, y) in sa.iter_mut().zip(sb) {
                *x = (*x).max(y);
            }
            for (x, y) in ha.iter_mut().zip(hb) {
                *x |= y;
            }
            (a, sa, ha)
        });
    let mut by_account: BTreeMap<&str, (Balance, u32)> = BTreeMap::new();
    for (cell, q) in sums.into_iter().enumerate() {
        let (a, c) = (cell / ncom, cell % ncom);
        if has_postings[a] {
            let slot = by_account
                .entry(j.accounts.get(a as u32))
                .or_insert_with(|| (Balance::new(), a as u32));
            if !q.is_zero() {
                let mut q = q;
                // At the commodity's precision: trailing zeros added, or dropped (never digits that matter).
                if q.scale() < scales[c] || q.round_dp(scales[c]) == q {
                    q.rescale(scales[c]);
                }
                slot.0.add(q, j.commodities.get(c as u32));
            }
        }
    }
    by_account
        .into_iter()
        .map(|(name, (balance, sym))| Account {
            name: name.to_string(),
            kind: j.account_kinds[sym as usize],
            balance,
            id: String::new(),
        })
        .collect()
}

/// Every tag name with the number of transactions carrying it (on the transaction or a posting), by name.
pub fn tags(j: &Journal) -> Vec<TagInfo> {
    // Parallel, and names borrowed from the text: this runs at start-up for tag completion.
    let counts = j
        .by_date
        .par_chunks(16_384)
        .map(|chunk| {
            let mut counts: rustc_hash::FxHashMap<&str, usize> = Default::default();
            let mut seen: Vec<&str> = Vec::new();
            for &i in chunk {
                let v = j.view(i);
                seen.clear();
                v.for_each_tag_name(&mut |name| {
                    if !seen.contains(&name) {
                        seen.push(name);
                        *counts.entry(name).or_default() += 1;
                    }
                });
            }
            counts
        })
        .reduce(Default::default, |mut a, b| {
            for (k, n) in b {
                *a.entry(k).or_default() += n;
            }
            a
        });
    let mut tags: Vec<TagInfo> = counts
        .into_iter()
        .map(|(name, count)| TagInfo {
            id: name.to_string(),
            name: name.to_string(),
            count,
        })
        .collect();
    tags.sort_by(|a, b| a.name.cmp(&b.name));
    tags
}

/// The domain transaction with this id, if the index has it.
pub fn transaction(j: &Journal, id: &TxnId) -> Result<crate::domain::Transaction> {
    j.find(id)
        .map(|i| j.view(i).to_transaction())
        .ok_or_else(|| BackendError::NotFound(id.0.clone()))
}
