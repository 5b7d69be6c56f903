//! A server that cannot run tally's queries, mirrored locally (DESIGN §11). The mirror is a SQLite file per server
//! and key (`store`); on open it is loaded into the same in-memory ledger index a journal uses, so every listing,
//! count, sum, sort, query and analysis is answered by `ledger::engine` — one implementation for files and servers.
//! The server is synced in the background (`sync`): the first time page by page, so the first screen shows as soon
//! as the first page arrives; later incrementally where the API allows. Edits (`change`) show at once and are
//! queued in the mirror's outbox, which `outbox` sends with bounded concurrency within the server's budget,
//! resuming after a restart. What the API cannot do, its dialect says in `Capabilities`. What only tally knows —
//! the statement each account was last reconciled against — is kept in the same file.

mod change;
mod outbox;
pub mod store;
mod sync;

use crate::backend::ledger::Journal;
use crate::backend::ledger::engine::{self, MatchCache};
use crate::backend::rest::dialect::{Catalog, Dialect, RemoteTxn};
use crate::backend::{
    Activity, Backend, BackendError, BreakdownRow, BulkResult, Capabilities, Dimension, GroupBy,
    PageRequest, PeriodSummary, Result, Source, TagInfo, TxnPage, TxnPatch,
};
use crate::domain::{Account, Balance, Tag, Transaction, TxnId};
use crate::query::Query;
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What `open` waits for before returning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The mirror as it is, or (first open) the server's first page; the rest syncs in the background.
    FirstPage,
    /// A complete sync (incremental where possible): what a headless command needs to answer correctly.
    Complete,
}

pub struct MirrorOptions {
    pub path: PathBuf,
    pub wait: Wait,
}

/// Where the mirror of a server lives: `mirrors/DIALECT-HOST-HASH.sqlite` in the cache directory, the hash taken
/// over dialect, URL and key so each server and key has its own (the key itself is never stored).
pub fn default_path(dialect: &str, url: &str, key: Option<&str>) -> PathBuf {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(dialect.as_bytes());
    h.update([0]);
    h.update(url.trim_end_matches('/').as_bytes());
    h.update([0]);
    h.update(key.unwrap_or("").as_bytes());
    let digest = h.finalize();
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let host: String = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}-{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    crate::config::Config::cache_dir()
        .join("mirrors")
        .join(format!("{dialect}-{host}-{hash}.sqlite"))
}

/// State shared by the backend, its sync and its outbox sender.
pub(crate) struct Shared {
    dialect: Box<dyn Dialect>,
    store: Mutex<Store>,
    index: RwLock<Journal>,
    matches: MatchCache,
    catalog: Catalog,
    /// Bumped whenever the index changes; `reload` reports a change when it moved.
    generation: AtomicU64,
    activity: watch::Sender<Activity>,
    wake: tokio::sync::Notify,
    syncing: tokio::sync::Mutex<()>,
}

fn poisoned<T>(_: T) -> BackendError {
    BackendError::Io("internal lock poisoned by an earlier panic".into())
}

impl Shared {
    fn store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut s = self.store.lock().map_err(poisoned)?;
        f(&mut s)
    }

    fn read<T>(&self, f: impl FnOnce(&Journal) -> Result<T>) -> Result<T> {
        let j = self.index.read().map_err(poisoned)?;
        f(&j)
    }

    /// Puts transactions into the index and takes others out; the change shows on the next query.
    fn apply(&self, upserts: &[RemoteTxn], deletes: &[String]) -> Result<()> {
        let mut j = self.index.write().map_err(poisoned)?;
        let mut reorder = !deletes.is_empty();
        for r in upserts {
            let before = j.find(&r.txn.id).map(|i| j.entries[i as usize].date);
            j.upsert_record(&r.txn, &r.order);
            reorder |= before != Some(r.txn.date);
        }
        for id in deletes {
            j.remove_record(id);
        }
        if reorder {
            j.reindex();
        }
        // Replaced entries leave their old strings and postings behind: compact now and then.
        if j.garbage_ratio() > 0.5 {
            let records = j.records();
            let path = j.files[0].path.clone();
            *j = Journal::from_records(path, records.iter().map(|(t, o)| (t, o.as_str())));
        }
        drop(j);
        self.changed();
        Ok(())
    }

    /// Replaces the whole index.
    fn replace(&self, rows: &[RemoteTxn]) -> Result<()> {
        let mut j = self.index.write().map_err(poisoned)?;
        let path = j.files[0].path.clone();
        *j = Journal::from_records(path, rows.iter().map(|r| (&r.txn, r.order.as_str())));
        drop(j);
        self.changed();
        Ok(())
    }

    fn changed(&self) {
        self.matches.clear();
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn order_of(&self, id: &TxnId) -> String {
        self.read(|j| {
            Ok(j.find(id)
                .and_then(|i| {
                    j.server
                        .as_ref()
                        .map(|s| j.text(0, s.rows[i as usize].order).to_string())
                })
                .unwrap_or_default())
        })
        .unwrap_or_default()
    }

    fn note(&self, f: impl FnOnce(&mut Activity)) {
        self.activity.send_modify(f);
    }
}

pub struct MirrorBackend {
    shared: Arc<Shared>,
    label: String,
    /// The generation `reload` last reported.
    seen: AtomicU64,
    sender: JoinHandle<()>,
    background: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for MirrorBackend {
    fn drop(&mut self) {
        // Unsent edits stay in the outbox and are sent on the next open.
        self.sender.abort();
        if let Ok(mut b) = self.background.lock()
            && let Some(h) = b.take()
        {
            h.abort();
        }
    }
}

impl MirrorBackend {
    /// Opens the mirror of the server `dialect` speaks to, loading what it holds, then syncs as `opts.wait` says.
    pub async fn open(dialect: Box<dyn Dialect>, opts: MirrorOptions) -> Result<MirrorBackend> {
        let path = opts.path.clone();
        let (store, loaded, note) = tokio::task::spawn_blocking(move || open_store(&path))
            .await
            .map_err(|e| BackendError::Io(format!("opening the mirror failed: {e}")))??;
        let index = Journal::from_records(
            store.path().to_path_buf(),
            loaded.txns.iter().map(|r| (&r.txn, r.order.as_str())),
        );
        let never_synced = loaded.synced_at.is_none();
        let pending = store.pending()?;
        if let (Some(http), Some((left, reset))) = (dialect.http(), store.budget()) {
            http.assume_budget(left, reset);
        }
        let (activity, _) = watch::channel(Activity {
            synced_at: loaded.synced_at,
            note,
            queued: pending.iter().filter(|i| i.failed.is_none()).count(),
            failed: pending.iter().filter(|i| i.failed.is_some()).count(),
            ..Activity::default()
        });
        // "sure 192.168.1.20:3000": the dialect and the server, short enough for the status bar.
        let server = dialect.server();
        let host = server.split_once("://").map_or(server, |(_, h)| h);
        let label = format!("{} {host}", dialect.name());
        let shared = Arc::new(Shared {
            dialect,
            store: Mutex::new(store),
            index: RwLock::new(index),
            matches: MatchCache::new(),
            catalog: Catalog::new(loaded.catalog),
            generation: AtomicU64::new(0),
            activity,
            wake: tokio::sync::Notify::new(),
            syncing: tokio::sync::Mutex::new(()),
        });
        // What is left of the server's budget is written down before each request goes out, so a run that is
        // stopped halfway does not make the next one overrun the limit.
        if let Some(http) = shared.dialect.http() {
            let weak = Arc::downgrade(&shared);
            http.on_budget(Box::new(move |left, reset| {
                if let Some(s) = weak.upgrade() {
                    let _ = s.store(|st| st.put_budget(left, reset));
                }
            }));
        }
        let sender = tokio::spawn(outbox::run(Arc::clone(&shared)));
        let backend = MirrorBackend {
            shared: Arc::clone(&shared),
            label,
            seen: AtomicU64::new(0),
            sender,
            background: Mutex::new(None),
        };
        match (opts.wait, never_synced) {
            (Wait::Complete, _) => {
                sync::run(&shared, sync::Mode::Refresh, None).await?;
            }
            (Wait::FirstPage, true) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let s = Arc::clone(&shared);
                let task = tokio::spawn(async move {
                    if let Err(e) = sync::run(&s, sync::Mode::Refresh, Some(tx)).await {
                        tracing::warn!("sync: {e}");
                    }
                });
                if rx.await.is_err() {
                    // The sync ended before its first page: it failed; say why.
                    let _ = task.await;
                    let why = shared.activity.borrow().sync_error.clone();
                    return Err(BackendError::Io(
                        why.unwrap_or_else(|| "the first sync failed".into()),
                    ));
                }
                backend.keep(task);
            }
            (Wait::FirstPage, false) => {
                let s = Arc::clone(&shared);
                backend.keep(tokio::spawn(async move {
                    if let Err(e) = sync::run(&s, sync::Mode::Refresh, None).await {
                        tracing::warn!("sync: {e}");
                    }
                }));
            }
        }
        // The index starts at generation 0 for `reload`; what streamed in before now is already on screen.
        backend
            .seen
            .store(shared.generation.load(Ordering::SeqCst), Ordering::SeqCst);
        Ok(backend)
    }

    fn keep(&self, task: JoinHandle<()>) {
        if let Ok(mut b) = self.background.lock()
            && let Some(old) = b.replace(task)
        {
            old.abort();
        }
    }

    pub fn path(&self) -> PathBuf {
        self.shared
            .store(|s| Ok(s.path().to_path_buf()))
            .unwrap_or_default()
    }

    fn unsupported(&self, capability: &str, what: &str) -> BackendError {
        let caps = self.capabilities();
        BackendError::Unsupported(match caps.reason(capability) {
            Some(r) => format!("{what}: {r}"),
            None => format!("{what} on {}", caps.label),
        })
    }

    /// Checks a patch against what the API can do and what the server has (categories), before anything is queued.
    fn check(&self, patch: &TxnPatch) -> Result<()> {
        self.shared.dialect.check(patch)?;
        let caps = self.capabilities();
        if patch.assertion.is_some() {
            return Err(self.unsupported("balance_assertions", "writing a balance assertion"));
        }
        if patch.archive {
            if !caps.archive {
                return Err(self.unsupported("archive", "archiving"));
            }
            if *patch
                != (TxnPatch {
                    archive: true,
                    ..TxnPatch::default()
                })
            {
                return Err(BackendError::Invalid {
                    param: "archive".into(),
                    message: "archiving is an edit of its own".into(),
                });
            }
            return Ok(());
        }
        if patch.status.is_some() && !caps.edit_status {
            return Err(self.unsupported("edit_status", "changing the status"));
        }
        if (!patch.add_tags.is_empty() || !patch.remove_tags.is_empty()) && !caps.edit_tags {
            return Err(self.unsupported("edit_tags", "editing tags"));
        }
        if patch.note.is_some() && !caps.edit_notes {
            return Err(self.unsupported("edit_notes", "editing notes"));
        }
        if let Some(c) = &patch.category {
            if !caps.edit_category {
                return Err(self.unsupported("edit_category", "setting the category"));
            }
            if c.trim().is_empty() {
                return Err(BackendError::Unsupported(
                    match caps.reason("clear_category") {
                        Some(r) => format!("clearing the category: {r}"),
                        None => format!("clearing the category on {}", caps.label),
                    },
                ));
            }
            let catalog = self.shared.catalog.get();
            if catalog.category(c).is_none() {
                let mut known: Vec<&str> =
                    catalog.categories.iter().map(|x| x.name.as_str()).collect();
                known.sort_unstable();
                return Err(BackendError::Invalid {
                    param: "category".into(),
                    message: format!(
                        "{} has no category named {c:?}; it has: {}",
                        self.shared.dialect.server(),
                        known.join(", ")
                    ),
                });
            }
        }
        if let Some(bad) = patch
            .add_tags
            .iter()
            .map(|t| t.name.as_str())
            .chain(patch.remove_tags.iter().map(String::as_str))
            .find(|n| n.trim().is_empty() || n.chars().any(char::is_control))
        {
            return Err(BackendError::Invalid {
                param: "tags".into(),
                message: format!("not a valid tag name: {bad:?}"),
            });
        }
        Ok(())
    }

    /// Hides `ids` at once and queues their archiving: all or nothing.
    async fn archive(&self, ids: &[TxnId], patch: &TxnPatch) -> Result<BulkResult> {
        let server = self.shared.dialect.server().to_string();
        self.shared.read(|j| {
            ids.iter().try_for_each(|id| match j.find(id) {
                Some(_) => Ok(()),
                None => Err(BackendError::NotFound(format!(
                    "{id} is not in the mirror of {server}; nothing was archived"
                ))),
            })
        })?;
        let queued: Vec<(TxnId, TxnPatch)> =
            ids.iter().map(|id| (id.clone(), patch.clone())).collect();
        let gone: Vec<String> = ids.iter().map(|id| id.0.clone()).collect();
        let shared = Arc::clone(&self.shared);
        let drop_rows = gone.clone();
        tokio::task::spawn_blocking(move || shared.store(|s| s.queue_hidden(&queued, &drop_rows)))
            .await
            .map_err(|e| BackendError::Io(format!("queueing the archive failed: {e}")))??;
        self.shared.apply(&[], &gone)?;
        self.shared.note(|a| a.queued += ids.len());
        self.shared.wake.notify_one();
        Ok(BulkResult {
            changed: ids.len(),
            ..BulkResult::default()
        })
    }

    /// Applies `patch` to each of `ids` locally and queues it for the server: all or nothing.
    async fn edit(&self, ids: &[TxnId], patch: &TxnPatch) -> Result<BulkResult> {
        self.check(patch)?;
        if patch.archive {
            return self.archive(ids, patch).await;
        }
        let catalog = self.shared.catalog.get();
        let dialect = self.shared.dialect.as_ref();
        let (rows, queued) = self.shared.read(|j| {
            let mut rows = Vec::new();
            let mut queued = Vec::new();
            for id in ids {
                let i = j.find(id).ok_or_else(|| {
                    BackendError::NotFound(format!(
                        "{id} is not in the mirror of {}; nothing was changed",
                        dialect.server()
                    ))
                })?;
                let t = j.view(i).to_transaction();
                if change::changes(&t, patch) {
                    let after = change::apply(&t, patch, &catalog, dialect);
                    queued.push((id.clone(), patch.clone()));
                    rows.push(after);
                }
            }
            Ok((rows, queued))
        })?;
        let rows: Vec<RemoteTxn> = rows
            .into_iter()
            .map(|txn| RemoteTxn {
                order: self.shared.order_of(&txn.id),
                txn,
            })
            .collect();
        let changed = rows.len();
        if changed > 0 {
            let shared = Arc::clone(&self.shared);
            let stored = rows.clone();
            tokio::task::spawn_blocking(move || shared.store(|s| s.queue(&queued, &stored)))
                .await
                .map_err(|e| BackendError::Io(format!("queueing the edit failed: {e}")))??;
            self.shared.apply(&rows, &[])?;
            self.shared.note(|a| a.queued += changed);
            self.shared.wake.notify_one();
        }
        Ok(BulkResult {
            changed,
            unchanged: ids.len() - changed,
            ..BulkResult::default()
        })
    }
}

fn open_store(path: &Path) -> Result<(Store, store::Loaded, Option<String>)> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let (store, note) = Store::open(path)?;
    let loaded = store.load()?;
    Ok((store, loaded, note))
}

#[async_trait]
impl Backend for MirrorBackend {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.shared.dialect.capabilities();
        caps.label = self.label.clone();
        caps.balance_assertions = false;
        caps.reasons
            .entry("balance_assertions".into())
            .or_insert_with(|| {
                "a server has no balance assertions: reconciling clears statuses only".into()
            });
        caps
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        if self.shared.dialect.balances_from_postings() {
            return self.shared.read(|j| Ok(engine::balances(j)));
        }
        Ok(self.shared.catalog.get().accounts)
    }

    async fn transactions(&self, query: &Query, page: PageRequest) -> Result<TxnPage> {
        self.shared
            .read(|j| self.shared.matches.page(j, query, &page))
    }

    async fn transaction_refs(
        &self,
        query: &Query,
        page: PageRequest,
    ) -> Result<(Vec<(TxnId, Balance)>, usize)> {
        self.shared
            .read(|j| self.shared.matches.refs(j, query, &page))
    }

    async fn transaction(&self, id: &TxnId) -> Result<Transaction> {
        self.shared.read(|j| engine::transaction(j, id))
    }

    async fn editable(&self, ids: &[TxnId]) -> Result<Vec<crate::backend::editable::Editable>> {
        self.shared.read(|j| {
            ids.iter()
                .map(|id| {
                    j.find(id)
                        .map(|i| j.view(i).editable())
                        .ok_or_else(|| BackendError::NotFound(id.0.clone()))
                })
                .collect()
        })
    }

    async fn update_transaction(&self, id: &TxnId, patch: &TxnPatch) -> Result<Transaction> {
        self.edit(std::slice::from_ref(id), patch).await?;
        self.transaction(id).await
    }

    async fn bulk_tag(&self, ids: &[TxnId], add: &[Tag], remove: &[String]) -> Result<BulkResult> {
        let patch = TxnPatch {
            add_tags: add.to_vec(),
            remove_tags: remove.to_vec(),
            ..TxnPatch::default()
        };
        self.edit(ids, &patch).await
    }

    async fn bulk_update(&self, ids: &[TxnId], patch: &TxnPatch) -> Result<BulkResult> {
        self.edit(ids, patch).await
    }

    async fn tags(&self) -> Result<Vec<TagInfo>> {
        let mut tags = self.shared.read(|j| Ok(engine::tags(j)))?;
        // The server's tags nobody uses yet still complete.
        for t in self.shared.catalog.get().tags {
            let name = Tag::parse(&t.name).name;
            if !tags
                .iter()
                .any(|x| x.name.eq_ignore_ascii_case(&t.name) || x.name.eq_ignore_ascii_case(&name))
            {
                tags.push(TagInfo {
                    id: t.id,
                    name: t.name,
                    count: 0,
                });
            }
        }
        tags.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tags)
    }

    async fn categories(&self) -> Result<Vec<String>> {
        let catalog = self.shared.catalog.get();
        if catalog.categories.is_empty() {
            // A ledger without a separate catalogue (hledger-web): its income and expense accounts.
            let accounts = self.accounts().await?;
            return Ok(accounts
                .into_iter()
                .filter(|a| a.kind.is_category())
                .map(|a| a.name)
                .collect());
        }
        let mut names: Vec<String> = catalog.categories.into_iter().map(|c| c.name).collect();
        names.sort();
        Ok(names)
    }

    async fn create_tag(&self, _name: &str) -> Result<TagInfo> {
        Err(self.unsupported("manage_tags", "creating tags"))
    }

    async fn rename_tag(&self, _id: &str, _new_name: &str) -> Result<TagInfo> {
        Err(self.unsupported("manage_tags", "renaming tags"))
    }

    async fn delete_tag(&self, _id: &str) -> Result<()> {
        Err(self.unsupported("manage_tags", "deleting tags"))
    }

    async fn summary(&self, query: &Query, group_by: GroupBy) -> Result<Vec<PeriodSummary>> {
        self.shared
            .read(|j| self.shared.matches.summary(j, query, group_by))
    }

    async fn breakdown(&self, query: &Query, dimension: Dimension) -> Result<Vec<BreakdownRow>> {
        self.shared
            .read(|j| self.shared.matches.breakdown(j, query, dimension))
    }

    async fn projections(
        &self,
        query: &Query,
        months: u32,
    ) -> Result<crate::analytics::recurring::Projections> {
        let samples = self
            .shared
            .read(|j| self.shared.matches.samples(j, query))?;
        let accounts = self.accounts().await?;
        Ok(crate::backend::projections_from(samples, &accounts, months))
    }

    async fn sources(&self) -> Result<Vec<Source>> {
        let a = self.activity();
        let mut sources = vec![Source {
            id: "mirror".into(),
            name: self.shared.dialect.server().to_string(),
            kind: format!("{} mirror", self.shared.dialect.name()),
            last_sync: a.synced_at.map(|d| d.to_rfc3339()),
            status: match (&a.syncing, &a.sync_error) {
                (Some(_), _) => "syncing".into(),
                (None, Some(e)) => format!("error: {e}"),
                (None, None) => "ok".into(),
            },
        }];
        sources.extend(self.shared.dialect.sources(&self.shared.catalog.get()));
        Ok(sources)
    }

    /// `mirror`: a full refresh (failed edits are put back in the queue, everything is fetched again). A source the
    /// server syncs itself (a Synci bank account): asks it to, then refreshes; a server that allows that only now
    /// and then says when the next sync is possible, which is not a failure. Anything else: a full refresh.
    async fn sync(&self, source: &str) -> Result<Source> {
        let own = self.shared.dialect.sources(&self.shared.catalog.get());
        if let Some(known) = own.into_iter().find(|s| s.id == source) {
            let asked = match self.shared.dialect.sync_source(source).await {
                Ok(s) => s.status,
                Err(BackendError::RateLimited { retry_after, .. }) => {
                    return Ok(Source {
                        status: format!("next sync possible in {retry_after} s"),
                        ..known
                    });
                }
                Err(e) => return Err(e),
            };
            sync::run(&self.shared, sync::Mode::Refresh, None).await?;
            return Ok(Source {
                status: format!("sync {asked}"),
                ..known
            });
        }
        let retried = self.shared.store(|s| s.retry_failed())?;
        if retried > 0 {
            self.shared.note(|a| {
                a.failed = a.failed.saturating_sub(retried);
                a.queued += retried;
                a.write_error = None;
            });
            self.shared.wake.notify_one();
        }
        sync::run(&self.shared, sync::Mode::Full, None).await?;
        let mut sources = self.sources().await?;
        Ok(sources.remove(0))
    }

    /// Asks the server to sync each source it syncs itself (saying when one cannot be yet), then refreshes all.
    async fn sync_all(&self) -> Result<String> {
        let own = self.shared.dialect.sources(&self.shared.catalog.get());
        let mut said = Vec::new();
        for s in &own {
            match self.shared.dialect.sync_source(&s.id).await {
                Ok(_) => {}
                Err(BackendError::RateLimited { retry_after, .. }) => {
                    said.push(format!("{}: next sync possible in {retry_after} s", s.name));
                }
                Err(e) => said.push(format!("{}: {e}", s.name)),
            }
        }
        self.sync("mirror").await?;
        let mut message = if own.is_empty() {
            "synced with the server".to_string()
        } else {
            format!(
                "asked the server to sync {} account(s), then synced",
                own.len()
            )
        };
        if !said.is_empty() {
            message.push_str(&format!(" ({})", said.join("; ")));
        }
        Ok(message)
    }

    /// Kept in the mirror's file (`store::Store::remember`): a server has no balance assertions to hold it. It is
    /// tally's own knowledge, never sent to the server, and it survives a rebuilt mirror.
    async fn remember_statement(&self, statement: &crate::reconcile::Statement) -> Result<()> {
        let shared = Arc::clone(&self.shared);
        let statement = statement.clone();
        tokio::task::spawn_blocking(move || shared.store(|s| s.remember(&statement)))
            .await
            .map_err(|e| BackendError::Io(format!("remembering the statement failed: {e}")))?
    }

    async fn last_statement(&self, account: &str) -> Result<Option<crate::reconcile::Statement>> {
        let shared = Arc::clone(&self.shared);
        let account = account.to_string();
        tokio::task::spawn_blocking(move || shared.store(|s| s.statement(&account)))
            .await
            .map_err(|e| BackendError::Io(format!("reading the last statement failed: {e}")))?
    }

    async fn reload(&self) -> Result<bool> {
        let now = self.shared.generation.load(Ordering::SeqCst);
        Ok(self.seen.swap(now, Ordering::SeqCst) != now)
    }

    fn activity(&self) -> Activity {
        self.shared.activity.borrow().clone()
    }

    async fn flush(&self) -> Result<()> {
        let mut rx = self.shared.activity.subscribe();
        let done = loop {
            let done = rx
                .wait_for(|a| a.queued == 0)
                .await
                .map_err(|_| BackendError::Io("the outbox stopped".into()))?
                .clone();
            // The count says nothing waits; the stored queue must agree (an edit stored but not yet counted).
            let waiting = self
                .shared
                .store(|s| Ok(s.pending()?.iter().filter(|i| i.failed.is_none()).count()))?;
            if waiting == 0 {
                break done;
            }
            rx.changed()
                .await
                .map_err(|_| BackendError::Io("the outbox stopped".into()))?;
        };
        if done.failed > 0 {
            return Err(BackendError::Conflict(format!(
                "{} edit(s) were refused by {}: {} (they stay queued; a sync retries them)",
                done.failed,
                self.shared.dialect.server(),
                done.write_error.unwrap_or_default()
            )));
        }
        Ok(())
    }
}
