//! The effect runner: turns `Effect`s into backend calls on tokio tasks and sends the results back as `Action`s.
//! Reads of the same kind replace each other: the older task is aborted, page queries run one at a time and one
//! superseded while waiting is skipped, so typing fast costs the running query plus the last one, not one per key.
//! Background work (account sparklines, the review count) waits for a quiet moment so it never delays typing.
//! Writes are never aborted and run one after another, in order. Before a bulk tag the runner records which of the
//! chosen transactions lack each added tag or carry each removed one, so the undo entry reverses exactly what the
//! write changed. The price is one extra `tag:NAME` query per tag — cheap next to the write itself.

use super::action::{Action, Effect, Opened, Slot, WriteKind};
use super::state::{AccountRow, SPARK_MONTHS};
use super::undo::{EditOp, UndoEntry};
use crate::backend::{Backend, BackendError, Dimension, PageRequest, SortKey, TxnPatch};
use crate::domain::{Balance, Status, Tag, TxnId};
use crate::query::{DateRange, Query, Term};
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc::UnboundedSender};
use tokio::task::JoinHandle;

/// Analytics wait until the table has been quiet this long (typing usually goes on, and the count comes first).
pub const ANALYTICS_DELAY: Duration = Duration::from_millis(150);
/// Background work (account histories, the review count) waits until the table has been quiet this long.
pub const QUIET: Duration = Duration::from_millis(800);

/// When the user last caused a table query; background work waits for a quiet moment so it never delays typing
/// (backends may serialise queries, as the journal does).
#[derive(Debug)]
struct IdleGate {
    last: std::sync::Mutex<Instant>,
    /// How long background work waits for (`QUIET` unless the runner was built `with_quiet`).
    quiet: Duration,
}

impl IdleGate {
    fn touch(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = Instant::now();
        }
    }

    async fn wait(&self, quiet: Duration) {
        loop {
            let since = self.last.lock().map(|l| l.elapsed()).unwrap_or(quiet);
            if since >= quiet {
                return;
            }
            tokio::time::sleep(quiet - since).await;
        }
    }
}
/// Ids fetched per page when selecting all matches.
pub const COLLECT_PAGE: usize = 20_000;

pub struct EffectRunner {
    backend: Arc<dyn Backend>,
    /// The activity last sent, so an unchanged one costs no redraw.
    activity: crate::backend::Activity,
    tx: UnboundedSender<Action>,
    slots: HashMap<Slot, JoinHandle<()>>,
    /// Held by each write for its whole duration, so writes apply in the order they were asked for.
    write_lock: Arc<Mutex<()>>,
    page_lock: Arc<Mutex<()>>,
    latest_page: Arc<AtomicU64>,
    idle: Arc<IdleGate>,
    /// Writes, reloads and syncs: never aborted, tracked only so `busy` can tell when all work is done.
    detached: Vec<JoinHandle<()>>,
}

impl EffectRunner {
    pub fn new(backend: Arc<dyn Backend>, tx: UnboundedSender<Action>) -> Self {
        EffectRunner {
            backend,
            activity: Default::default(),
            tx,
            slots: HashMap::new(),
            write_lock: Arc::new(Mutex::new(())),
            page_lock: Arc::new(Mutex::new(())),
            latest_page: Arc::new(AtomicU64::new(0)),
            idle: Arc::new(IdleGate {
                last: std::sync::Mutex::new(Instant::now()),
                quiet: QUIET,
            }),
            detached: Vec::new(),
        }
    }

    /// The same runner with background work waiting `quiet` instead of `QUIET` (tests that need no typing pauses).
    pub fn with_quiet(mut self, quiet: Duration) -> Self {
        self.idle = Arc::new(IdleGate {
            last: std::sync::Mutex::new(Instant::now()),
            quiet,
        });
        self
    }

    /// True while any task this runner started is still running (its reply not yet sent).
    pub fn busy(&self) -> bool {
        self.slots
            .values()
            .chain(&self.detached)
            .any(|h| !h.is_finished())
    }

    /// What the backend says about itself once opened.
    pub async fn opened(backend: &dyn Backend) -> Opened {
        let diagnostics = backend.diagnostics().await;
        Opened {
            capabilities: backend.capabilities(),
            diagnostics: diagnostics.len(),
            first_diagnostic: diagnostics.first().map(ToString::to_string),
        }
    }

    pub fn run(&mut self, effect: Effect) {
        let backend = Arc::clone(&self.backend);
        let tx = self.tx.clone();
        match effect {
            Effect::FetchPage {
                generation,
                query,
                page,
            } => {
                self.idle.touch();
                self.latest_page.store(generation, Ordering::SeqCst);
                let (lock, latest) = (Arc::clone(&self.page_lock), Arc::clone(&self.latest_page));
                self.spawn(Slot::Page, async move {
                    // One page query at a time; one that was superseded while waiting is skipped, so a burst of
                    // keystrokes costs the query running now plus the last one.
                    let _running = lock.lock().await;
                    if latest.load(Ordering::SeqCst) != generation {
                        return;
                    }
                    let reply = backend
                        .transactions(&query, page)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::Page {
                        generation,
                        offset: page.offset,
                        reply,
                    });
                });
            }
            Effect::FetchAnalytics {
                generation,
                query,
                group_by,
                breakdown_query,
                dimension,
            } => {
                let idle = Arc::clone(&self.idle);
                self.spawn(Slot::Analytics, async move {
                    // Analytics can wait until typing pauses: the table and its count come first.
                    idle.wait(ANALYTICS_DELAY).await;
                    let reply = async {
                        let periods = backend.summary(&query, group_by).await?;
                        let breakdown = backend.breakdown(&breakdown_query, dimension).await?;
                        Ok::<_, BackendError>((periods, breakdown))
                    }
                    .await
                    .map_err(|e| e.to_string());
                    let _ = tx.send(Action::Analytics { generation, reply });
                });
            }
            Effect::FetchAccounts { generation } => {
                let idle = Arc::clone(&self.idle);
                self.spawn(Slot::Accounts, async move {
                    fetch_accounts(backend.as_ref(), generation, (&tx, &idle)).await;
                });
            }
            Effect::FetchReviewCount { generation } => {
                let idle = Arc::clone(&self.idle);
                self.spawn(Slot::Review, async move {
                    idle.wait(idle.quiet).await;
                    let query = Query {
                        terms: vec![Term::IsReview],
                        source: "is:review".into(),
                    };
                    let page = PageRequest {
                        limit: 1,
                        ..PageRequest::default()
                    };
                    let reply = backend
                        .transactions(&query, page)
                        .await
                        .map(|p| p.total)
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::ReviewCount { generation, reply });
                });
            }
            Effect::FetchTags => {
                // Tags only feed completion: they wait for the table to be quiet, like the other background work.
                let idle = Arc::clone(&self.idle);
                self.spawn(Slot::Tags, async move {
                    idle.wait(idle.quiet).await;
                    let reply = backend.tags().await.map_err(|e| e.to_string());
                    let _ = tx.send(Action::Tags(reply));
                })
            }
            Effect::FetchCategories => {
                let idle = Arc::clone(&self.idle);
                self.spawn(Slot::Categories, async move {
                    idle.wait(idle.quiet).await;
                    let reply = backend.categories().await.map_err(|e| e.to_string());
                    let _ = tx.send(Action::Categories(reply));
                })
            }
            Effect::FetchProjections => {
                let idle = Arc::clone(&self.idle);
                self.spawn(Slot::Projections, async move {
                    idle.wait(idle.quiet).await;
                    let reply = backend
                        .projections(&Query::all(), super::state::PROJECTION_MONTHS)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::Projections(reply));
                })
            }
            Effect::PollActivity => {
                let now = backend.activity();
                if now != self.activity {
                    self.activity = now.clone();
                    let _ = tx.send(Action::Activity(now));
                }
            }
            Effect::Collect {
                generation,
                query,
                page,
            } => self.spawn(Slot::Collect, async move {
                collect(backend.as_ref(), generation, (&query, page), &tx).await;
            }),
            Effect::BulkTag { ids, add, remove } => {
                let lock = Arc::clone(&self.write_lock);
                self.detach(async move {
                    let _guard = lock.lock().await;
                    let mut renamed = Renames::new();
                    let reply = bulk_tag(backend.as_ref(), ids, (add, remove), (&tx, &mut renamed))
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::WriteDone {
                        kind: WriteKind::New,
                        reply,
                        renamed: renamed.into_iter().collect(),
                    });
                });
            }
            Effect::SetStatus { ids, status } => {
                let lock = Arc::clone(&self.write_lock);
                self.detach(async move {
                    let _guard = lock.lock().await;
                    // A status edit keeps every id: nothing to rename.
                    let reply = set_status(backend.as_ref(), &ids, status, &tx)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::WriteDone {
                        kind: WriteKind::New,
                        reply,
                        renamed: Vec::new(),
                    });
                });
            }
            Effect::Apply { kind, entry } => {
                let lock = Arc::clone(&self.write_lock);
                self.detach(async move {
                    let _guard = lock.lock().await;
                    let ops = if kind == WriteKind::Undo {
                        &entry.inverse
                    } else {
                        &entry.forward
                    };
                    let mut renamed = Renames::new();
                    let reply = apply(backend.as_ref(), ops, &entry.label, (&tx, &mut renamed))
                        .await
                        .map(|()| entry.clone())
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::WriteDone {
                        kind,
                        reply,
                        renamed: renamed.into_iter().collect(),
                    });
                });
            }
            Effect::Reload => {
                let lock = Arc::clone(&self.write_lock);
                self.detach(async move {
                    // Never reload in the middle of our own write.
                    let _guard = lock.lock().await;
                    let reply = backend.reload().await.map_err(|e| e.to_string());
                    let _ = tx.send(Action::Reloaded(reply));
                });
            }
            Effect::Sync { source } => {
                self.detach(async move {
                    let reply = match source {
                        Some(id) => backend.sync(&id).await.map(|s| {
                            if s.status == "ok" {
                                format!("synced {}", s.name)
                            } else {
                                format!("{}: {}", s.name, s.status)
                            }
                        }),
                        None => backend.sync_all().await,
                    };
                    let _ = tx.send(Action::Synced(reply.map_err(|e| e.to_string())));
                });
            }
            Effect::Archive { ids } => {
                let lock = Arc::clone(&self.write_lock);
                self.detach(async move {
                    let _guard = lock.lock().await;
                    let patch = TxnPatch {
                        archive: true,
                        ..TxnPatch::default()
                    };
                    let reply = backend
                        .bulk_update(&ids, &patch)
                        .await
                        .map(|r| UndoEntry {
                            label: format!(
                                "archived {} on the server (cannot be undone)",
                                r.changed
                            ),
                            forward: Vec::new(),
                            inverse: Vec::new(),
                        })
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::WriteDone {
                        kind: WriteKind::New,
                        reply,
                        renamed: Vec::new(),
                    });
                });
            }
        }
    }

    fn detach(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.detached.retain(|h| !h.is_finished());
        self.detached.push(tokio::spawn(task));
    }

    fn spawn(&mut self, slot: Slot, task: impl Future<Output = ()> + Send + 'static) {
        if let Some(old) = self.slots.insert(slot, tokio::spawn(task)) {
            old.abort();
        }
    }
}

/// Sends the accounts at once, then again with month-end balance histories for the sparklines. The history costs
/// one `breakdown` by account per month, whatever the number of accounts.
async fn fetch_accounts(
    backend: &dyn Backend,
    generation: u64,
    (tx, idle): (&UnboundedSender<Action>, &IdleGate),
) {
    let accounts = match backend.accounts().await {
        Ok(a) => a,
        Err(e) => {
            let _ = tx.send(Action::Accounts {
                generation,
                reply: Err(e.to_string()),
            });
            return;
        }
    };
    let mut rows: Vec<AccountRow> = accounts
        .into_iter()
        .filter(|a| a.kind.is_real())
        .map(|account| AccountRow {
            account,
            history: Vec::new(),
        })
        .collect();
    let _ = tx.send(Action::Accounts {
        generation,
        reply: Ok(rows.clone()),
    });
    let Ok(history) = month_changes(backend, idle).await else {
        return;
    };
    let Some(history) = history else {
        return;
    };
    for row in &mut rows {
        let Some(main) = row
            .account
            .balance
            .non_zero()
            .next()
            .map(|m| m.commodity.clone())
        else {
            continue;
        };
        let mut balance = row.account.balance.get(&main);
        let mut series = vec![Decimal::ZERO; history.len()];
        for (i, changes) in history.iter().enumerate().rev() {
            series[i] = balance;
            balance -= changes
                .get(&row.account.name)
                .map_or(Decimal::ZERO, |b| b.get(&main));
        }
        row.history = series;
    }
    let _ = tx.send(Action::Accounts {
        generation,
        reply: Ok(rows),
    });
}

/// Per month (oldest first, the last being the month of the newest transaction), each account's change.
async fn month_changes(
    backend: &dyn Backend,
    idle: &IdleGate,
) -> Result<Option<Vec<BTreeMap<String, Balance>>>, BackendError> {
    idle.wait(idle.quiet).await;
    let newest = backend
        .transactions(
            &Query::all(),
            PageRequest {
                offset: 0,
                limit: 1,
                sort: SortKey::Date,
                ascending: false,
            },
        )
        .await?;
    let Some(last) = newest.items.first().map(|t| t.date) else {
        return Ok(None);
    };
    let last_month = NaiveDate::from_ymd_opt(last.year(), last.month(), 1).unwrap_or(last);
    let mut out = Vec::with_capacity(SPARK_MONTHS);
    for back in (0..SPARK_MONTHS as u32).rev() {
        let start = last_month
            .checked_sub_months(Months::new(back))
            .unwrap_or(last_month);
        let end = start
            .checked_add_months(Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        let q = Query {
            terms: vec![Term::Date(DateRange {
                start: Some(start),
                end: Some(end),
            })],
            source: format!("date:{start}..{end}"),
        };
        idle.wait(idle.quiet).await;
        let rows = backend.breakdown(&q, Dimension::Account).await?;
        out.push(rows.into_iter().map(|r| (r.key, r.total)).collect());
    }
    Ok(Some(out))
}

async fn collect(
    backend: &dyn Backend,
    generation: u64,
    (query, page): (&Query, PageRequest),
    tx: &UnboundedSender<Action>,
) {
    let end = page.offset.saturating_add(page.limit);
    let mut offset = page.offset;
    loop {
        let limit = COLLECT_PAGE.min(end - offset);
        let req = PageRequest {
            offset,
            limit,
            ..page
        };
        match backend.transaction_refs(query, req).await {
            Ok((items, total)) => {
                let n = items.len();
                offset += n;
                let expected = end.min(total) - page.offset.min(total);
                let done = n == 0 || offset >= end.min(total);
                let _ = tx.send(Action::Collected {
                    generation,
                    items,
                    total: expected,
                    done,
                    reply: Ok(()),
                });
                if done {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Action::Collected {
                    generation,
                    items: Vec::new(),
                    total: 0,
                    done: true,
                    reply: Err(e.to_string()),
                });
                return;
            }
        }
    }
}

/// Each of `ids` that carries a transaction-level tag `name`, with the values it has.
async fn tag_holders(
    backend: &dyn Backend,
    name: &str,
    ids: &HashSet<&TxnId>,
) -> Result<HashMap<TxnId, Vec<String>>, BackendError> {
    let query = Query {
        terms: vec![Term::Tag {
            name: name.to_lowercase(),
            value: None,
        }],
        source: format!("tag:{name}"),
    };
    let mut out = HashMap::new();
    let mut offset = 0;
    loop {
        let page = backend
            .transactions(
                &query,
                PageRequest {
                    offset,
                    limit: COLLECT_PAGE,
                    ..PageRequest::default()
                },
            )
            .await?;
        let n = page.items.len();
        for t in page.items {
            if !ids.contains(&t.id) {
                continue;
            }
            let values: Vec<String> = t
                .tags
                .iter()
                .filter(|tag| tag.name.eq_ignore_ascii_case(name))
                .map(|tag| tag.value.clone())
                .collect();
            if !values.is_empty() {
                out.insert(t.id, values);
            }
        }
        offset += n;
        if n == 0 || offset >= page.total {
            return Ok(out);
        }
    }
}

async fn bulk_tag(
    backend: &dyn Backend,
    ids: Arc<Vec<TxnId>>,
    (add, remove): (Vec<Tag>, Vec<String>),
    (tx, renamed): (&UnboundedSender<Action>, &mut Renames),
) -> Result<UndoEntry, BackendError> {
    let words: Vec<String> = add
        .iter()
        .map(|t| format!("+{t}"))
        .chain(remove.iter().map(|n| format!("-{n}")))
        .collect();
    let label = format!("tag {} on {}", words.join(" "), ids.len());
    let _ = tx.send(Action::WriteProgress {
        label: label.clone(),
        done: 0,
        total: ids.len(),
    });
    let chosen: HashSet<&TxnId> = ids.iter().collect();
    let mut inverse = Vec::new();
    for tag in &add {
        let holders = tag_holders(backend, &tag.name, &chosen).await?;
        let lacking: Vec<TxnId> = ids
            .iter()
            .filter(|id| !holders.contains_key(*id))
            .cloned()
            .collect();
        if !lacking.is_empty() {
            inverse.push(EditOp::Tags {
                ids: Arc::new(lacking),
                add: Vec::new(),
                remove: vec![tag.name.clone()],
            });
        }
    }
    for name in &remove {
        let holders = tag_holders(backend, name, &chosen).await?;
        let mut by_value: BTreeMap<String, Vec<TxnId>> = BTreeMap::new();
        for (id, values) in holders {
            for v in values {
                by_value.entry(v).or_default().push(id.clone());
            }
        }
        for (value, mut holders) in by_value {
            holders.sort();
            inverse.push(EditOp::Tags {
                ids: Arc::new(holders),
                add: vec![Tag::new(name.clone(), value)],
                remove: Vec::new(),
            });
        }
    }
    let forward = vec![EditOp::Tags { ids, add, remove }];
    apply(backend, &forward, &label, (tx, renamed)).await?;
    Ok(UndoEntry {
        label,
        forward,
        inverse,
    })
}

async fn set_status(
    backend: &dyn Backend,
    ids: &[TxnId],
    status: Status,
    tx: &UnboundedSender<Action>,
) -> Result<UndoEntry, BackendError> {
    let mut label = format!("mark {} {}", ids.len(), status.name());
    let mut forward = Vec::new();
    let mut inverse = Vec::new();
    let mut read_only = 0;
    let mut to_change = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let before = backend.transaction(id).await?;
        if before.read_only {
            // Skipped rather than failing the whole batch.
            read_only += 1;
        } else if before.status != status {
            to_change.push(id.clone());
            forward.push(EditOp::Status {
                id: id.clone(),
                status,
            });
            inverse.push(EditOp::Status {
                id: id.clone(),
                status: before.status,
            });
        }
        progress(tx, &label, i + 1, ids.len());
    }
    // One batch call: a journal saves once for the whole selection, not once per transaction.
    if !to_change.is_empty() {
        let patch = TxnPatch {
            status: Some(status),
            ..TxnPatch::default()
        };
        backend.bulk_update(&to_change, &patch).await?;
    }
    if read_only > 0 {
        label.push_str(&format!(" ({read_only} read-only skipped)"));
    }
    Ok(UndoEntry {
        label,
        forward,
        inverse,
    })
}

fn progress(tx: &UnboundedSender<Action>, label: &str, done: usize, total: usize) {
    if total > 1 && (done.is_multiple_of(50) || done == total) {
        let _ = tx.send(Action::WriteProgress {
            label: label.to_string(),
            done,
            total,
        });
    }
}

/// Ids that changed because of a write: a journal id hashes the transaction's text, so editing its note or
/// category gives it a new id. The UI renames them everywhere it keeps ids (undo entries, selection).
pub type Renames = HashMap<TxnId, TxnId>;

fn note_rename(renamed: &mut Renames, before: &TxnId, after: &TxnId) {
    if before == after {
        return;
    }
    // A → B then B → C is A → C.
    let origin = renamed
        .iter()
        .find(|(_, to)| *to == before)
        .map(|(from, _)| from.clone())
        .unwrap_or_else(|| before.clone());
    renamed.insert(origin, after.clone());
}

fn current<'a>(renamed: &'a Renames, id: &'a TxnId) -> &'a TxnId {
    renamed.get(id).unwrap_or(id)
}

/// Writes `ops` in order: a tag op is one `bulk_tag` call, or one `update_transaction` per id on backends that
/// cannot bulk-tag. Ids renamed by an earlier op are followed, and every rename is recorded.
async fn apply(
    backend: &dyn Backend,
    ops: &[EditOp],
    label: &str,
    (tx, renamed): (&UnboundedSender<Action>, &mut Renames),
) -> Result<(), BackendError> {
    let total: usize = ops.iter().map(EditOp::size).sum();
    let mut done = 0;
    let bulk = backend.capabilities().bulk_tag;
    for op in ops {
        match op {
            EditOp::Tags { ids, add, remove } if bulk => {
                let ids: Vec<TxnId> = ids.iter().map(|id| current(renamed, id).clone()).collect();
                backend.bulk_tag(&ids, add, remove).await?;
                done += ids.len();
                progress(tx, label, done, total);
            }
            EditOp::Tags { ids, add, remove } => {
                let patch = TxnPatch {
                    add_tags: add.clone(),
                    remove_tags: remove.clone(),
                    ..TxnPatch::default()
                };
                for id in ids.iter() {
                    let id = current(renamed, id).clone();
                    let after = backend.update_transaction(&id, &patch).await?;
                    note_rename(renamed, &id, &after.id);
                    done += 1;
                    progress(tx, label, done, total);
                }
            }
            EditOp::Status { id, status } => {
                let patch = TxnPatch {
                    status: Some(*status),
                    ..TxnPatch::default()
                };
                let id = current(renamed, id).clone();
                let after = backend.update_transaction(&id, &patch).await?;
                note_rename(renamed, &id, &after.id);
                done += 1;
                progress(tx, label, done, total);
            }
            EditOp::Patch { id, patch } => {
                let id = current(renamed, id).clone();
                let after = backend.update_transaction(&id, patch).await?;
                note_rename(renamed, &id, &after.id);
                done += 1;
                progress(tx, label, done, total);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_chain() {
        let mut r = Renames::new();
        note_rename(&mut r, &TxnId::from("a"), &TxnId::from("b"));
        note_rename(&mut r, &TxnId::from("b"), &TxnId::from("c"));
        note_rename(&mut r, &TxnId::from("x"), &TxnId::from("x"));
        assert_eq!(r.len(), 1);
        assert_eq!(current(&r, &TxnId::from("a")), &TxnId::from("c"));
    }
}
