//! The journal backend: an hledger-format journal (and its includes) read losslessly, served through `Backend`.
//! Reading builds a compact index over the file text (`parse`, `ledger`); listing filters that index in parallel and
//! keeps the last match set so paging and scrolling cost nothing more. Edits patch only the text of the transactions
//! they change (`patch`, on the reader's own grammar `syntax`), are read back and checked (`verify`), and are saved
//! (`save`) with a lock and a checked atomic replacement (`write`); if another program changed a file since it was
//! read — even while tally was writing — tally re-reads it and re-applies the edit by transaction id, or refuses.
//! Files tally may not write (no permission) are said up front: their transactions are read-only. After a save the
//! index is rebuilt lazily, on the next read, so a one-shot command pays nothing for it.

pub mod amount;
mod memory;
pub mod parse;
pub mod patch;
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
use crate::query::{Query, TxnView};
use async_trait::async_trait;
pub use memory::{MemoryEdit, edit_in_memory};
use patch::EntryEdit;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

struct Loaded {
    journal: Journal,
    diagnostics: Vec<Diagnostic>,
    /// Reads one entry again as the load did: the editor's read-back check.
    reader: parse::Reader,
    /// Set after a save: the index no longer matches the file and is rebuilt on the next read.
    stale: bool,
}

impl Loaded {
    /// Loads the journal, removes temp files a crashed save left beside its files, and notes which files tally
    /// may not write.
    fn read(path: &Path) -> Result<Loaded> {
        let mut l = parse::load(path).map_err(|e| io_error(path, e))?;
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

pub struct JournalBackend {
    path: PathBuf,
    loaded: RwLock<Loaded>,
    matches: MatchCache,
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> BackendError {
    BackendError::Io(format!("{}: {e}", path.display()))
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
            path,
            loaded: RwLock::new(loaded),
            matches: MatchCache::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Problems found while reading, `FILE:LINE:COLUMN: message` each.
    pub fn load_diagnostics(&self) -> Vec<Diagnostic> {
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

    fn transaction_now(&self, id: &TxnId) -> Result<Transaction> {
        self.read(|l| engine::transaction(&l.journal, id))
    }
}

fn entry_edit(patch: &TxnPatch, old_category: Option<&str>) -> EntryEdit {
    EntryEdit {
        status: patch.status,
        add_tags: patch.add_tags.clone(),
        remove_tags: patch.remove_tags.clone(),
        note: patch.note.clone(),
        category: match (&patch.category, old_category) {
            (Some(new), Some(old)) if new != old => Some((old.to_string(), new.clone())),
            _ => None,
        },
    }
}

#[async_trait]
impl Backend for JournalBackend {
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
            label: format!("journal {}", self.path.display()),
            reasons: Default::default(),
        };
        // A main file tally may not write: editing is off, with the reason, before anyone tries.
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
            ] {
                c.reasons.insert(cap.into(), why.clone());
            }
            (
                c.edit_status,
                c.edit_tags,
                c.edit_category,
                c.edit_notes,
                c.bulk_tag,
            ) = (false, false, false, false, false);
        }
        c
    }

    async fn diagnostics(&self) -> Vec<Diagnostic> {
        self.load_diagnostics()
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        self.read(|l| Ok(engine::balances(&l.journal)))
    }

    async fn transactions(&self, query: &Query, page: PageRequest) -> Result<TxnPage> {
        self.read(|l| self.matches.page(&l.journal, query, &page))
    }

    async fn transaction_refs(
        &self,
        query: &Query,
        page: PageRequest,
    ) -> Result<(Vec<(TxnId, Balance)>, usize)> {
        self.read(|l| self.matches.refs(&l.journal, query, &page))
    }

    async fn transaction(&self, id: &TxnId) -> Result<Transaction> {
        self.transaction_now(id)
    }

    async fn update_transaction(&self, id: &TxnId, patch: &TxnPatch) -> Result<Transaction> {
        if patch.archive {
            return Err(BackendError::Unsupported(
                "archiving: a journal has no archive (delete the entry from the file)".into(),
            ));
        }
        let current = self.transaction_now(id)?;
        if let Some(c) = &patch.category
            && current.category.is_none()
        {
            return Err(BackendError::Invalid {
                param: "category".into(),
                message: format!("transaction {id} has no category posting to change to {c}"),
            });
        }
        let edit = entry_edit(patch, current.category.as_deref());
        self.save_edits(std::slice::from_ref(id), &|_| edit.clone())?;
        // The id survives tag and status edits; a changed note or category gives the transaction a new id.
        match self.transaction_now(id) {
            Ok(t) => Ok(t),
            Err(BackendError::NotFound(_)) => {
                let mut t = current;
                t.status = patch.status.unwrap_or(t.status);
                self.read(|l| {
                    let j = &l.journal;
                    let found = j.by_date.iter().rev().map(|&i| j.view(i)).find(|v| {
                        v.entry.date == t.date
                            && patch.note.as_deref().is_none_or(|n| v.note() == n.trim())
                            && v.payee() == t.payee
                    });
                    found
                        .map(|v| v.to_transaction())
                        .ok_or_else(|| BackendError::NotFound(id.0.clone()))
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn bulk_tag(&self, ids: &[TxnId], add: &[Tag], remove: &[String]) -> Result<BulkResult> {
        let edit = EntryEdit {
            add_tags: add.to_vec(),
            remove_tags: remove.to_vec(),
            ..EntryEdit::default()
        };
        let changed = self.save_edits(ids, &|_| edit.clone())?;
        Ok(BulkResult {
            changed: changed.len(),
            unchanged: ids.len() - changed.len(),
        })
    }

    async fn bulk_update(&self, ids: &[TxnId], patch: &TxnPatch) -> Result<BulkResult> {
        if patch.archive {
            return Err(BackendError::Unsupported(
                "archiving: a journal has no archive (delete the entry from the file)".into(),
            ));
        }
        if patch.category.is_some() {
            return Err(BackendError::Invalid {
                param: "category".into(),
                message: "a category is set one transaction at a time".into(),
            });
        }
        let edit = entry_edit(patch, None);
        let changed = self.save_edits(ids, &|_| edit.clone())?;
        Ok(BulkResult {
            changed: changed.len(),
            unchanged: ids.len() - changed.len(),
        })
    }

    async fn tags(&self) -> Result<Vec<TagInfo>> {
        self.read(|l| Ok(engine::tags(&l.journal)))
    }

    async fn summary(&self, query: &Query, group_by: GroupBy) -> Result<Vec<PeriodSummary>> {
        self.read(|l| self.matches.summary(&l.journal, query, group_by))
    }

    async fn breakdown(&self, query: &Query, dimension: Dimension) -> Result<Vec<BreakdownRow>> {
        self.read(|l| self.matches.breakdown(&l.journal, query, dimension))
    }

    async fn projections(
        &self,
        query: &Query,
        months: u32,
    ) -> Result<crate::analytics::recurring::Projections> {
        let samples = self.read(|l| self.matches.samples(&l.journal, query))?;
        let accounts = self.accounts().await?;
        Ok(crate::backend::projections_from(samples, &accounts, months))
    }

    async fn sources(&self) -> Result<Vec<Source>> {
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

    async fn reload(&self) -> Result<bool> {
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
}

#[cfg(test)]
mod tests;
