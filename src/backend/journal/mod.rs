//! The journal backend: an hledger-format journal (and its includes) read losslessly, served through `Backend`.
//! Reading builds a compact index over the file text (`parse`, `ledger`); listing filters that index in parallel and
//! keeps the last match set so paging and scrolling cost nothing more. Edits patch only the text of the transactions
//! they change (`patch`, on the reader's own grammar `syntax`), are read back and checked (`verify`), and are saved
//! (`save`) with a lock and a checked atomic replacement (`write`); if another program changed a file since it was
//! read — even while tally was writing — tally re-reads it and re-applies the edit by transaction id, or refuses.
//! Files tally may not write (no permission) are said up front: their transactions are read-only. After its own save
//! the index follows the new text for the edited entries only (`refresh`); a change made by another program makes it
//! re-read every file. Every call runs on a blocking thread (`spawn_blocking`): reading, patching and writing never
//! hold up the async runtime, and reads go on, on the index as it was, while a save writes its files.

pub mod add;
pub mod amount;
pub mod assertion;
mod memory;
pub mod parse;
pub mod patch;
mod refresh;
mod save;
pub mod syntax;
pub mod verify;
pub mod write;

use crate::backend::ledger::Journal;
use crate::backend::ledger::engine::{self, MatchCache};
use crate::backend::{
    Backend, BackendError, BreakdownRow, BulkResult, Capabilities, Diagnostic, Dimension, GroupBy,
    PageRequest, PeriodSummary, Result, Source, TagInfo, TxnPage, TxnPatch,
};
use crate::domain::{Account, Balance, Tag, Transaction, TxnId};
use crate::query::Query;
use async_trait::async_trait;
pub use memory::{MemoryEdit, edit_in_memory};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

struct Loaded {
    journal: Journal,
    diagnostics: Vec<Diagnostic>,
    /// Reads one entry again as the load did: the editor's read-back check.
    reader: parse::Reader,
    /// Set when a save could not follow its own text (another program's bytes carried over, an interrupted
    /// multi-file save): the index no longer matches the files and is rebuilt on the next read.
    stale: bool,
}

impl Loaded {
    /// Loads the journal, removes temp files a crashed save left beside its files, and notes which files tally
    /// may not write.
    fn read(path: &Path) -> Result<Loaded> {
        let mut l = parse::load(path).map_err(|e| file_error(path, e))?;
        for f in &mut l.journal.files {
            if let Ok(removed) = write::clean_leftovers(&f.path) {
                for r in removed {
                    tracing::info!(
                        "removed {}, left behind by an interrupted save",
                        r.display()
                    );
                }
            }
            f.read_only = write::unwritable_reason(&f.path);
        }
        Ok(Loaded {
            journal: l.journal,
            diagnostics: l.diagnostics,
            reader: l.reader,
            stale: false,
        })
    }
}

/// The journal as the backend's calls share it across blocking threads.
struct Store {
    path: PathBuf,
    loaded: RwLock<Loaded>,
    matches: MatchCache,
    /// Held for a whole save (and a reload), so saves apply in order while reads go on.
    saving: Mutex<()>,
    /// After a save the index follows the new text (`refresh`); off for a command that exits after its edit,
    /// which then leaves the index stale (re-read only if something reads it again).
    follow: bool,
    /// Where imported transactions go (the profile's `import_file`); the main file when `None`.
    import_file: Option<PathBuf>,
}

pub struct JournalBackend {
    store: Arc<Store>,
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> BackendError {
    BackendError::Io(format!("{}: {e}", path.display()))
}

/// A file's I/O error, kept as the error's source.
fn file_error(path: &Path, source: std::io::Error) -> BackendError {
    BackendError::File {
        path: path.to_path_buf(),
        source,
    }
}

fn poisoned<T>(_: T) -> BackendError {
    BackendError::Io("internal lock poisoned by an earlier panic".into())
}

impl JournalBackend {
    /// Reads the journal at `path`. Syntax problems do not fail the load: see `diagnostics`.
    pub fn open(path: impl AsRef<Path>) -> Result<JournalBackend> {
        let path = path.as_ref().to_path_buf();
        let loaded = Loaded::read(&path)?;
        Ok(JournalBackend {
            store: Arc::new(Store {
                path,
                loaded: RwLock::new(loaded),
                matches: MatchCache::new(),
                saving: Mutex::new(()),
                follow: true,
                import_file: None,
            }),
        })
    }

    /// The same backend for a command that exits after one edit: a save does not make the index follow it (ids a
    /// save renames are then not reported).
    pub fn one_shot(mut self) -> JournalBackend {
        if let Some(store) = Arc::get_mut(&mut self.store) {
            store.follow = false;
        }
        self
    }

    pub fn path(&self) -> &Path {
        &self.store.path
    }

    /// The same backend appending imported transactions to `file` (the profile's `import_file`, which the journal
    /// must include) instead of its main file.
    pub fn with_import_file(mut self, file: Option<PathBuf>) -> JournalBackend {
        if let Some(store) = Arc::get_mut(&mut self.store) {
            store.import_file = file;
        }
        self
    }

    /// Problems found while reading, `FILE:LINE:COLUMN: message` each.
    pub fn load_diagnostics(&self) -> Vec<Diagnostic> {
        self.store.diagnostics()
    }

    /// Runs `f` on the store on a blocking thread (inline when there is no tokio runtime).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(&self.store);
        if tokio::runtime::Handle::try_current().is_err() {
            return f(&store);
        }
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| BackendError::Io(format!("journal task failed: {e}")))?
    }
}

impl Store {
    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.read(|l| Ok(l.diagnostics.clone())).unwrap_or_default()
    }

    fn reload_now(&self, loaded: &mut Loaded) -> Result<()> {
        *loaded = Loaded::read(&self.path)?;
        self.matches.clear();
        Ok(())
    }

    /// Runs `f` on an up-to-date index.
    fn read<T>(&self, f: impl FnOnce(&Loaded) -> Result<T>) -> Result<T> {
        {
            let l = self.loaded.read().map_err(poisoned)?;
            if !l.stale {
                return f(&l);
            }
        }
        let mut l = self.loaded.write().map_err(poisoned)?;
        if l.stale {
            self.reload_now(&mut l)?;
        }
        f(&l)
    }

    /// Cheap check for live reload: size or modification time changed.
    fn touched_on_disk(&self, j: &Journal) -> bool {
        j.files.iter().any(|f| match std::fs::metadata(&f.path) {
            Ok(m) => m.len() != f.len || m.modified().ok() != f.mtime,
            Err(_) => true,
        })
    }

    fn transaction(&self, id: &TxnId) -> Result<Transaction> {
        self.read(|l| engine::transaction(&l.journal, id))
    }

    /// Re-reads the files if another program changed them. A save in progress is left alone: it re-reads on its
    /// own when it must, and a reload now would stop every read until the save is done.
    fn reload(&self) -> Result<bool> {
        let Ok(_saving) = self.saving.try_lock() else {
            return Ok(false);
        };
        let touched = {
            let l = self.loaded.read().map_err(poisoned)?;
            l.stale || self.touched_on_disk(&l.journal)
        };
        if touched {
            let mut l = self.loaded.write().map_err(poisoned)?;
            self.reload_now(&mut l)?;
        }
        Ok(touched)
    }

    /// The capabilities; editing is off, with the reason, when the main file may not be written.
    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities {
            edit_status: true,
            edit_tags: true,
            edit_category: true,
            edit_notes: true,
            bulk_tag: true,
            manage_tags: false,
            server_analytics: false,
            sources: true,
            sync: false,
            archive: false,
            watch: true,
            balance_assertions: true,
            label: format!("journal {}", self.path.display()),
            reasons: Default::default(),
        };
        let why = self
            .loaded
            .read()
            .ok()
            .and_then(|l| l.journal.files.first().and_then(|f| f.read_only.clone()));
        if let Some(why) = why {
            for cap in [
                "edit_status",
                "edit_tags",
                "edit_category",
                "edit_notes",
                "bulk_tag",
                "balance_assertions",
            ] {
                c.reasons.insert(cap.into(), why.clone());
            }
            (
                c.edit_status,
                c.edit_tags,
                c.edit_category,
                c.edit_notes,
                c.bulk_tag,
                c.balance_assertions,
            ) = (false, false, false, false, false, false);
        }
        c
    }

    fn sources(&self) -> Result<Vec<Source>> {
        self.read(|l| {
            Ok(l.journal
                .files
                .iter()
                .map(|f| Source {
                    id: f.path.display().to_string(),
                    name: f
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    kind: "journal".into(),
                    last_sync: None,
                    status: "ok".into(),
                })
                .collect())
        })
    }
}

/// What an edit can change about entry `index`, with the balance assertions on its postings: read from its text
/// only when one of its postings is to an account some assertion names (the index keeps no assertion amounts).
fn editable_with_assertions(l: &Loaded, index: u32) -> crate::backend::editable::Editable {
    let j = &l.journal;
    let view = j.view(index);
    let mut e = view.editable();
    e.elided = (0..view.postings().len())
        .filter(|&k| view.postings()[k].inferred)
        .collect();
    let asserted = view
        .postings()
        .iter()
        .any(|p| j.balance_checked.iter().any(|&(sym, _)| sym == p.account));
    if !asserted {
        return e;
    }
    let entry = &j.entries[index as usize];
    if let Ok(reading) = l.reader.read_entry(index, j.text(entry.file, entry.span)) {
        e.assertions = reading
            .postings
            .iter()
            .enumerate()
            .filter_map(|(k, p)| {
                let a = p.assertion.as_ref().filter(|a| !a.assignment)?;
                Some(crate::backend::editable::Asserted {
                    posting: k,
                    account: p.account.clone(),
                    balance: crate::domain::Money::new(a.quantity, a.commodity.clone()),
                    inclusive: a.inclusive,
                    amount: None,
                })
            })
            .collect();
    }
    e
}

/// The account's latest balance assertion (not an assignment) as the statement it records: its entry's date and the
/// asserted balance. The date is the asserted posting's — the file does not hold the statement's own date, which
/// may be later (reconciling asserts on the last posting on or before it). Found from the index: nothing to do when
/// no assertion in the journal names the account, else a walk over the entries newest first (date, then file order)
/// that reads an entry's text again only when it posts to the account and has an `=` at all — a listing's cost, not
/// a parse of the journal. Within an entry the last asserting posting counts. The account is matched without regard
/// to ASCII case, as reconciling matches it.
fn last_assertion(l: &Loaded, account: &str) -> Option<crate::reconcile::Statement> {
    let j = &l.journal;
    let account = account.trim();
    let named: Vec<crate::backend::ledger::Sym> = j
        .balance_checked
        .iter()
        .map(|&(sym, _)| sym)
        .filter(|&sym| j.accounts.get(sym).eq_ignore_ascii_case(account))
        .collect();
    if named.is_empty() {
        return None;
    }
    j.by_date.iter().rev().find_map(|&i| {
        let entry = &j.entries[i as usize];
        let posts = j
            .view(i)
            .postings()
            .iter()
            .any(|p| named.contains(&p.account));
        let text = j.text(entry.file, entry.span);
        if entry.kind != crate::backend::ledger::EntryKind::Regular || !posts || !text.contains('=')
        {
            return None;
        }
        let reading = l.reader.read_entry(i, text).ok()?;
        reading.postings.iter().rev().find_map(|p| {
            let a = p.assertion.as_ref().filter(|a| !a.assignment)?;
            p.account
                .eq_ignore_ascii_case(account)
                .then(|| crate::reconcile::Statement {
                    account: p.account.clone(),
                    date: entry.date,
                    balance: crate::domain::Money::new(a.quantity, a.commodity.clone()),
                })
        })
    })
}

fn refuse_archive(patch: &TxnPatch) -> Result<()> {
    if patch.archive {
        return Err(BackendError::Unsupported(
            "archiving: a journal has no archive (delete the entry from the file)".into(),
        ));
    }
    Ok(())
}

#[async_trait]
impl Backend for JournalBackend {
    fn capabilities(&self) -> Capabilities {
        self.store.capabilities()
    }

    /// Only the postings that could match are looked at (`engine::held`).
    async fn held(
        &self,
        wanted: crate::import::dedup::Wanted,
    ) -> Result<Vec<crate::import::dedup::Held>> {
        self.blocking(move |s| s.read(|l| Ok(engine::held(&l.journal, &wanted))))
            .await
    }

    /// The entries are read alone first and must make exactly `count` transactions without problems.
    async fn append_entries(&self, entries: String, count: usize) -> Result<()> {
        add::check_entries(&self.store.path, &entries, count)?;
        self.blocking(move |s| s.append(&entries, true)).await
    }

    async fn diagnostics(&self) -> Vec<Diagnostic> {
        self.blocking(|s| Ok(s.diagnostics()))
            .await
            .unwrap_or_default()
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        self.blocking(|s| s.read(|l| Ok(engine::balances(&l.journal))))
            .await
    }

    async fn transactions(&self, query: &Query, page: PageRequest) -> Result<TxnPage> {
        let query = query.clone();
        self.blocking(move |s| s.read(|l| s.matches.page(&l.journal, &query, &page)))
            .await
    }

    async fn transaction_refs(
        &self,
        query: &Query,
        page: PageRequest,
    ) -> Result<(Vec<(TxnId, Balance)>, usize)> {
        let query = query.clone();
        self.blocking(move |s| s.read(|l| s.matches.refs(&l.journal, &query, &page)))
            .await
    }

    async fn transaction(&self, id: &TxnId) -> Result<Transaction> {
        let id = id.clone();
        self.blocking(move |s| s.transaction(&id)).await
    }

    async fn editable(&self, ids: &[TxnId]) -> Result<Vec<crate::backend::editable::Editable>> {
        use rayon::prelude::*;
        let ids = ids.to_vec();
        self.blocking(move |s| {
            s.read(|l| {
                let j = &l.journal;
                ids.par_iter()
                    .map(|id| {
                        j.find(id)
                            .map(|i| editable_with_assertions(l, i))
                            .ok_or_else(|| BackendError::NotFound(id.0.clone()))
                    })
                    .collect()
            })
        })
        .await
    }

    async fn add_transaction(&self, txn: &crate::backend::NewTransaction) -> Result<Transaction> {
        let txn = txn.clone();
        self.blocking(move |s| s.add(&txn)).await
    }

    async fn update_transaction(&self, id: &TxnId, patch: &TxnPatch) -> Result<Transaction> {
        refuse_archive(patch)?;
        let edit = vec![(id.clone(), patch.clone())];
        let id = id.clone();
        self.blocking(move |s| {
            let saved = s.save_edits(save::Batch::Each(&edit))?;
            // The id survives tag and status edits; a changed note or category gives the transaction a new id.
            let now = saved
                .renamed
                .iter()
                .find(|(old, _)| *old == id)
                .map_or(&id, |(_, new)| new);
            s.transaction(now)
        })
        .await
    }

    async fn bulk_tag(&self, ids: &[TxnId], add: &[Tag], remove: &[String]) -> Result<BulkResult> {
        let patch = TxnPatch {
            add_tags: add.to_vec(),
            remove_tags: remove.to_vec(),
            ..TxnPatch::default()
        };
        self.bulk_update(ids, &patch).await
    }

    async fn bulk_update(&self, ids: &[TxnId], patch: &TxnPatch) -> Result<BulkResult> {
        refuse_archive(patch)?;
        let (ids, patch) = (ids.to_vec(), patch.clone());
        self.blocking(move |s| {
            s.save_edits(save::Batch::Same {
                ids: &ids,
                patch: &patch,
            })
        })
        .await
    }

    async fn bulk_patch(&self, edits: &[(TxnId, TxnPatch)]) -> Result<BulkResult> {
        for (_, patch) in edits {
            refuse_archive(patch)?;
        }
        let edits = edits.to_vec();
        self.blocking(move |s| s.save_edits(save::Batch::Each(&edits)))
            .await
    }

    async fn tags(&self) -> Result<Vec<TagInfo>> {
        self.blocking(|s| s.read(|l| Ok(engine::tags(&l.journal))))
            .await
    }

    async fn suggestions(
        &self,
        query: &Query,
    ) -> Result<Vec<crate::analytics::suggest::Suggestion>> {
        let query = query.clone();
        self.blocking(move |s| {
            s.read(|l| {
                let (matches, _) = s.matches.matches(&l.journal, &query, &PageRequest::all())?;
                Ok(engine::suggestions(&l.journal, &matches))
            })
        })
        .await
    }

    async fn summary(&self, query: &Query, group_by: GroupBy) -> Result<Vec<PeriodSummary>> {
        let query = query.clone();
        self.blocking(move |s| s.read(|l| s.matches.summary(&l.journal, &query, group_by)))
            .await
    }

    async fn breakdown(&self, query: &Query, dimension: Dimension) -> Result<Vec<BreakdownRow>> {
        let query = query.clone();
        self.blocking(move |s| s.read(|l| s.matches.breakdown(&l.journal, &query, dimension)))
            .await
    }

    async fn projections(
        &self,
        query: &Query,
        months: u32,
    ) -> Result<crate::analytics::recurring::Projections> {
        let query = query.clone();
        self.blocking(move |s| {
            s.read(|l| {
                let samples = s.matches.samples(&l.journal, &query)?;
                let accounts = engine::balances(&l.journal);
                Ok(crate::backend::projections_from(samples, &accounts, months))
            })
        })
        .await
    }

    async fn sources(&self) -> Result<Vec<Source>> {
        self.blocking(|s| s.sources()).await
    }

    async fn reload(&self) -> Result<bool> {
        self.blocking(|s| s.reload()).await
    }

    /// The journal's memory of a statement is the balance assertion reconciling writes: nothing more to keep.
    async fn remember_statement(&self, _statement: &crate::reconcile::Statement) -> Result<()> {
        Ok(())
    }

    /// The account's latest balance assertion (`last_assertion`).
    async fn last_statement(&self, account: &str) -> Result<Option<crate::reconcile::Statement>> {
        let account = account.to_string();
        self.blocking(move |s| s.read(|l| Ok(last_assertion(l, &account))))
            .await
    }
}

#[cfg(test)]
mod tests;
