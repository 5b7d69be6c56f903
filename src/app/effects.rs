//! The effect runner: turns `Effect`s into backend calls on tokio tasks and sends the results back as `Action`s.
//! Reads of the same kind replace each other: the older task is aborted, page queries run one at a time and one
//! superseded while waiting is skipped, so typing fast costs the running query plus the last one, not one per key.
//! Background work (account sparklines, the review count) waits for a quiet moment so it never delays typing.
//! Writes are never aborted and run one after another, in order: edits, undo and redo go to the batcher (`batch`),
//! which writes edits typed in quick succession together through the operations layer (`ops`). The runner holds no
//! domain logic: what an edit means and how it is undone is `ops`'s business.

use super::action::{Action, Effect, Opened, Slot, WriteKind};
use super::batch::{Batcher, Ends, Queued};
use super::state::{AccountRow, SPARK_MONTHS};
use crate::backend::{Backend, BackendError, Dimension, PageRequest, SortKey};
use crate::domain::{Balance, TxnId};
use crate::query::{DateRange, Query, Term};
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
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
    /// Edits, undo and redo, written in batches; started with the first edit.
    batcher: Option<Batcher>,
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
            batcher: None,
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
        self.batcher.as_ref().is_some_and(Batcher::busy)
            || self
                .slots
                .values()
                .chain(&self.detached)
                .any(|h| !h.is_finished())
    }

    fn batch(&mut self, q: Queued) {
        let batcher = self.batcher.get_or_insert_with(|| {
            Batcher::start(Ends {
                backend: Arc::clone(&self.backend),
                actions: self.tx.clone(),
                write_lock: Arc::clone(&self.write_lock),
            })
        });
        batcher.send(q);
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
        match effect {
            Effect::FetchPage {
                generation,
                query,
                page,
            } => self.fetch_page(generation, query, page),
            Effect::FetchAnalytics {
                generation,
                query,
                group_by,
                breakdown_query,
                dimension,
            } => {
                let (backend, tx, idle) = self.ends();
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
                let (backend, tx, idle) = self.ends();
                self.spawn(Slot::Accounts, async move {
                    fetch_accounts(backend.as_ref(), generation, (&tx, &idle)).await;
                });
            }
            Effect::FetchReviewCount { generation } => self.fetch_review_count(generation),
            Effect::FetchTags => self.when_quiet(Slot::Tags, |b| async move {
                Action::Tags(b.tags().await.map_err(|e| e.to_string()))
            }),
            Effect::FetchCategories => self.when_quiet(Slot::Categories, |b| async move {
                Action::Categories(b.categories().await.map_err(|e| e.to_string()))
            }),
            Effect::FetchProjections => self.when_quiet(Slot::Projections, |b| async move {
                let reply = b
                    .projections(&Query::all(), super::state::PROJECTION_MONTHS)
                    .await;
                Action::Projections(reply.map_err(|e| e.to_string()))
            }),
            Effect::PollActivity => {
                let now = self.backend.activity();
                if now != self.activity {
                    self.activity = now.clone();
                    let _ = self.tx.send(Action::Activity(now));
                }
            }
            Effect::Collect {
                generation,
                query,
                page,
            } => {
                let (backend, tx, _) = self.ends();
                self.spawn(Slot::Collect, async move {
                    collect(backend.as_ref(), generation, (&query, page), &tx).await;
                });
            }
            Effect::Edit { seq, edit } => self.batch(Queued::Edit { seq, edit }),
            Effect::Revert { seq, kind, entry } => self.batch(Queued::Revert { seq, kind, entry }),
            Effect::FlushEdits => self.batch(Queued::Flush),
            Effect::Reload => self.reload(),
            Effect::Sync { source } => self.sync(source),
            Effect::Archive { seq, ids } => self.archive(seq, ids),
            Effect::FetchPayees => self.payees(),
            Effect::FetchSuggestions(query) => self.when_quiet(Slot::Suggestions, |b| async move {
                Action::Suggestions(b.suggestions(&query).await.map_err(|e| e.to_string()))
            }),
            Effect::AddTransaction(txn) => self.add(txn),
            Effect::CompletePath(typed) => {
                let paths = crate::import::complete_path(&typed);
                let _ = self.tx.send(Action::Paths { typed, paths });
            }
            Effect::PlanImport(request) => {
                let (backend, tx, _) = self.ends();
                self.detach(async move {
                    let reply = crate::import::plan(
                        backend.as_ref(),
                        &request.csvs,
                        request.rules.as_deref(),
                    )
                    .await;
                    let _ = tx.send(Action::ImportPlanned(reply.map_err(|e| e.to_string())));
                });
            }
            Effect::AppendRule { path, rule } => {
                let tx = self.tx.clone();
                self.detach(async move {
                    let shown = path.display().to_string();
                    let done = tokio::task::spawn_blocking(move || {
                        crate::import::promote::append(&path, &rule).map(|a| (a, rule))
                    })
                    .await;
                    let reply = match done {
                        Ok(Ok((crate::import::promote::Appended::Added, rule))) => Ok(format!(
                            "rule added to {shown}: if {} → account2 {}",
                            rule.pattern, rule.account
                        )),
                        Ok(Ok((crate::import::promote::Appended::AlreadyThere, _))) => {
                            Ok(format!("{shown} has this rule already"))
                        }
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = tx.send(Action::RuleAppended(reply));
                });
            }
            Effect::LastStatement(account) => {
                let (backend, tx, _) = self.ends();
                self.detach(async move {
                    let reply = backend
                        .last_statement(&account)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::LastStatement { account, reply });
                });
            }
            Effect::LoadReconcile(statement) => {
                let (backend, tx, _) = self.ends();
                self.detach(async move {
                    let options = crate::reconcile::session::LoadOptions::default();
                    let reply =
                        crate::reconcile::session::load(backend.as_ref(), &statement, &options)
                            .await;
                    let reply = reply.map(Box::new).map_err(|e| e.to_string());
                    let _ = tx.send(Action::ReconcileLoaded(reply));
                });
            }
            Effect::FindDifference {
                generation,
                statement,
                cleared,
                open,
            } => {
                let tx = self.tx.clone();
                self.detach(async move {
                    let found = tokio::task::spawn_blocking(move || {
                        let limits = crate::reconcile::Limits::default();
                        crate::reconcile::reconcile(&statement, &cleared, &open, &limits)
                            .map(Box::new)
                            .map_err(|e| e.to_string())
                    })
                    .await;
                    let reply = found.unwrap_or_else(|e| Err(e.to_string()));
                    let _ = tx.send(Action::DifferenceFound { generation, reply });
                });
            }
            Effect::FinishReconcile(loaded) => {
                let lock = Arc::clone(&self.write_lock);
                let (backend, tx, _) = self.ends();
                self.detach(async move {
                    // One write at a time, never beside a save of edits or a reload.
                    let _guard = lock.lock().await;
                    let reply = crate::reconcile::session::apply(backend.as_ref(), &loaded).await;
                    let reply = reply
                        .map_err(|e| e.to_string())
                        .and_then(super::reconcile::written);
                    let _ = tx.send(Action::Reconciled(reply));
                });
            }
            Effect::ApplyImport(plan) => {
                let lock = Arc::clone(&self.write_lock);
                let (backend, tx, _) = self.ends();
                self.detach(async move {
                    // One write at a time, never beside a save of edits or a reload.
                    let _guard = lock.lock().await;
                    let reply = crate::import::apply(backend.as_ref(), &plan).await;
                    let _ = tx.send(Action::Imported(reply.map_err(|e| e.to_string())));
                });
            }
            // The terminal loop runs the editor; a runner without a terminal (tests, benches) has none to offer.
            Effect::OpenEditor { path, .. } => {
                let _ = self.tx.send(Action::EditorClosed(Err(format!(
                    "no terminal to open {} in",
                    path.display()
                ))));
            }
        }
    }

    /// What a task needs: the backend, where its reply goes, and the idle gate.
    fn ends(&self) -> (Arc<dyn Backend>, UnboundedSender<Action>, Arc<IdleGate>) {
        (
            Arc::clone(&self.backend),
            self.tx.clone(),
            Arc::clone(&self.idle),
        )
    }

    fn fetch_page(&mut self, generation: u64, query: Query, page: PageRequest) {
        self.idle.touch();
        self.latest_page.store(generation, Ordering::SeqCst);
        let (lock, latest) = (Arc::clone(&self.page_lock), Arc::clone(&self.latest_page));
        let (backend, tx, _) = self.ends();
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

    fn fetch_review_count(&mut self, generation: u64) {
        self.when_quiet(Slot::Review, move |b| async move {
            let query = Query {
                terms: vec![Term::IsReview],
                source: "is:review".into(),
            };
            let page = PageRequest {
                limit: 1,
                ..PageRequest::default()
            };
            let reply = b
                .transactions(&query, page)
                .await
                .map(|p| p.total)
                .map_err(|e| e.to_string());
            Action::ReviewCount { generation, reply }
        });
    }

    /// Background work: waits until the table has been quiet, then sends what `work` answers.
    fn when_quiet<F>(
        &mut self,
        slot: Slot,
        work: impl FnOnce(Arc<dyn Backend>) -> F + Send + 'static,
    ) where
        F: Future<Output = Action> + Send + 'static,
    {
        let (backend, tx, idle) = self.ends();
        self.spawn(slot, async move {
            idle.wait(idle.quiet).await;
            let _ = tx.send(work(backend).await);
        });
    }

    /// Payees, most used first, for the add form's completion.
    fn payees(&mut self) {
        self.when_quiet(Slot::Payees, |b| async move {
            let rows = b.breakdown(&Query::all(), Dimension::Payee).await;
            Action::Payees(
                rows.map(|mut r| {
                    r.sort_by_key(|row| std::cmp::Reverse(row.count));
                    r.into_iter()
                        .map(|r| r.key)
                        .filter(|k| !k.is_empty())
                        .collect()
                })
                .map_err(|e| e.to_string()),
            )
        });
    }

    /// Adds the form's transaction: one write at a time, never beside a save of edits or a reload.
    fn add(&mut self, txn: crate::backend::NewTransaction) {
        let lock = Arc::clone(&self.write_lock);
        let (backend, tx, _) = self.ends();
        self.detach(async move {
            let _guard = lock.lock().await;
            let reply = backend.add_transaction(&txn).await;
            let _ = tx.send(Action::Added(reply.map_err(|e| e.to_string())));
        });
    }

    fn reload(&mut self) {
        let lock = Arc::clone(&self.write_lock);
        let (backend, tx, _) = self.ends();
        self.detach(async move {
            // Never reload in the middle of our own write.
            let _guard = lock.lock().await;
            let reply = backend.reload().await.map_err(|e| e.to_string());
            let _ = tx.send(Action::Reloaded(reply));
        });
    }

    fn sync(&mut self, source: Option<String>) {
        let (backend, tx, _) = self.ends();
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

    fn archive(&mut self, seq: u64, ids: Arc<Vec<TxnId>>) {
        let lock = Arc::clone(&self.write_lock);
        let (backend, tx, _) = self.ends();
        self.detach(async move {
            let _guard = lock.lock().await;
            let reply = crate::ops::archive(backend.as_ref(), &ids)
                .await
                .map(|r| {
                    vec![crate::ops::UndoEntry {
                        label: format!("archived {} on the server (cannot be undone)", r.changed),
                        forward: Vec::new(),
                        inverse: Vec::new(),
                    }]
                })
                .map_err(|e| e.to_string());
            let _ = tx.send(Action::WriteDone {
                kind: WriteKind::New,
                seqs: vec![seq],
                reply,
                renamed: Vec::new(),
            });
        });
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
    // Sparklines for the money the holder has or owes (assets, liabilities), not for categories.
    for row in rows.iter_mut().filter(|r| r.account.kind.is_real()) {
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
