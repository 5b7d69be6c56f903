//! The journal backend: an hledger-format journal (and its includes) read losslessly, served through `Backend`.
//! Reading builds a compact index over the file text (`parse`, `ledger`); listing filters that index in parallel and
//! keeps the last match set so paging and scrolling cost nothing more. Edits patch only the text of the transactions
//! they change (`patch`) and save with a lock, a check that the file did not change underneath, and an atomic rename
//! (`write`); if another program changed the file since it was read, tally re-reads it and re-applies the edit by
//! transaction id, or refuses. After a save the index is rebuilt lazily, on the next read, so a one-shot command
//! pays nothing for it.

pub mod amount;
pub mod parse;
pub mod patch;
pub mod write;

use crate::backend::ledger::engine::{self, MatchCache};
use crate::backend::ledger::{Journal, content_hash};
use crate::backend::{
    Backend, BackendError, BreakdownRow, BulkResult, Capabilities, Diagnostic, Dimension, GroupBy,
    PageRequest, PeriodSummary, Result, Source, TagInfo, TxnPage, TxnPatch,
};
use crate::domain::{Account, Balance, Tag, Transaction, TxnId};
use crate::query::{Query, TxnView};
use async_trait::async_trait;
use patch::EntryEdit;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

struct Loaded {
    journal: Journal,
    diagnostics: Vec<Diagnostic>,
    /// Set after a save: the index no longer matches the file and is rebuilt on the next read.
    stale: bool,
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
        let (journal, diagnostics) = parse::load(&path).map_err(|e| io_error(&path, e))?;
        Ok(JournalBackend {
            path,
            loaded: RwLock::new(Loaded {
                journal,
                diagnostics,
                stale: false,
            }),
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
        let (journal, diagnostics) =
            parse::load(&self.path).map_err(|e| io_error(&self.path, e))?;
        *loaded = Loaded {
            journal,
            diagnostics,
            stale: false,
        };
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

    /// Applies `edits` (entry index → edit) to the files, all or nothing per call. Returns the ids that changed.
    fn save_edits(
        &self,
        ids: &[TxnId],
        edit_for: &dyn Fn(&TxnId) -> EntryEdit,
    ) -> Result<Vec<TxnId>> {
        let mut loaded = self.loaded.write().map_err(poisoned)?;
        if loaded.stale {
            self.reload_now(&mut loaded)?;
        }
        let files: Vec<PathBuf> = loaded
            .journal
            .files
            .iter()
            .map(|f| f.path.clone())
            .collect();
        // Hold the lock of every file's directory (once each) while checking and writing.
        let mut locked: Vec<PathBuf> = Vec::new();
        let mut locks = Vec::with_capacity(files.len());
        for f in &files {
            let dir = write::lock_path(f).map_err(|e| io_error(f, e))?;
            if !locked.contains(&dir) {
                locks.push(write::lock(f).map_err(|e| io_error(f, e))?);
                locked.push(dir);
            }
        }
        if self.changed_on_disk(&loaded.journal)? {
            // Someone else saved: re-read and re-apply the edit by id (ids survive unrelated edits).
            self.reload_now(&mut loaded)?;
        }
        let j = &loaded.journal;
        let mut per_file: BTreeMap<u32, Vec<(Range<usize>, String)>> = BTreeMap::new();
        let mut changed = Vec::new();
        for id in ids {
            let index = j.find(id).ok_or_else(|| {
                BackendError::Conflict(format!(
                    "transaction {id} is no longer in {} (it was changed or removed by another program); nothing was saved",
                    self.path.display()
                ))
            })?;
            let e = &j.entries[index as usize];
            let text = j.text(e.file, e.span);
            let edit = edit_for(id);
            let patched = patch::patch_entry(text, &edit).map_err(|err| {
                let f = &j.files[e.file as usize];
                BackendError::ReadOnly(
                    id.0.clone(),
                    format!("{}:{}: {err}", f.path.display(), e.line),
                )
            })?;
            if let Some(new_text) = patched {
                per_file
                    .entry(e.file)
                    .or_default()
                    .push((e.span.0 as usize..e.span.1 as usize, new_text));
                changed.push(id.clone());
            }
        }
        let mut new_texts = Vec::with_capacity(per_file.len());
        for (file, edits) in per_file {
            let f = &j.files[file as usize];
            let text = patch::apply_edits(&f.text, &edits).map_err(|e| io_error(&f.path, e))?;
            new_texts.push((f.path.clone(), text));
        }
        for (path, text) in &new_texts {
            write::write_atomic(path, text.as_bytes()).map_err(|e| io_error(path, e))?;
        }
        drop(locks);
        if !new_texts.is_empty() {
            loaded.stale = true;
            self.matches.clear();
        }
        Ok(changed)
    }

    /// True when any file differs from what was read (size, modification time or content).
    fn changed_on_disk(&self, j: &Journal) -> Result<bool> {
        for f in &j.files {
            let meta = match std::fs::metadata(&f.path) {
                Ok(m) => m,
                Err(_) => return Ok(true),
            };
            if meta.len() != f.len || meta.modified().ok() != f.mtime {
                return Ok(true);
            }
            let bytes = std::fs::read(&f.path).map_err(|e| io_error(&f.path, e))?;
            if content_hash(&bytes) != f.hash {
                return Ok(true);
            }
        }
        Ok(false)
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
        Capabilities {
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
        }
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
                            && patch.note.as_deref().is_none_or(|n| v.note() == n)
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
