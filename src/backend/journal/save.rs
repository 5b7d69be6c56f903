//! Saving edits to a journal's files, never losing another writer's edit. Under the write lock of every file's
//! directory, each attempt re-reads the files if they changed on disk, finds each transaction by id, patches and
//! reads back its text (`patch`, `verify`, in parallel), and replaces each changed file only if it is still what was
//! read — checked again after the new text is written and synced, right before the rename (`write`). If another
//! program changed a file meanwhile, nothing of that file is replaced: the journal is re-read and the edit re-applied
//! by id (edits are idempotent, so a file already saved in this attempt stays as it is), a few times at most, and
//! then refused. A file tally may not write refuses the whole edit before anything is written, and so does a category
//! change that would move a balance some balance assertion or assignment elsewhere in the journal looks at.

use super::parse::Reader;
use super::patch::{self, EntryEdit};
use super::write::{self, Replaced, Snapshot};
use super::{JournalBackend, Loaded, io_error, poisoned, verify};
use crate::backend::ledger::{Journal, SourceFile};
use crate::backend::{BackendError, Result};
use crate::domain::TxnId;
use rayon::prelude::*;
use rustc_hash::FxHashSet;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

/// How many times a save re-reads and re-applies when other programs keep changing the file under it.
const ATTEMPTS: usize = 5;

/// What one attempt will write: each changed file's index and new text, and the ids that changed.
struct Plan {
    texts: Vec<(u32, String)>,
    changed: Vec<TxnId>,
}

impl JournalBackend {
    /// Applies the edit `edit_for(id)` to each transaction in `ids`; returns the ids whose text changed.
    pub(super) fn save_edits(
        &self,
        ids: &[TxnId],
        edit_for: &(dyn Fn(&TxnId) -> EntryEdit + Sync),
    ) -> Result<Vec<TxnId>> {
        let mut loaded = self.loaded.write().map_err(poisoned)?;
        if loaded.stale {
            self.reload_now(&mut loaded)?;
        }
        let _locks = lock_directories(&loaded.journal)?;
        let mut changed: Vec<TxnId> = Vec::new();
        // Ids already counted by an earlier attempt (a set: a bulk edit may name every transaction of the journal).
        let mut counted: FxHashSet<TxnId> = FxHashSet::default();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 || changed_on_disk(&loaded.journal)? {
                // Someone else saved: re-read and re-apply the edit by id (ids survive unrelated edits).
                self.reload_now(&mut loaded)?;
            }
            let plan = plan(&loaded, ids, edit_for, &self.path)?;
            refuse_unwritable(&loaded.journal, &plan)?;
            let mut wrote = false;
            let mut interrupted = None;
            for (file, text) in &plan.texts {
                let f = &loaded.journal.files[*file as usize];
                match write::replace_if_unchanged(&f.path, &snapshot(f), text.as_bytes())
                    .map_err(|e| io_error(&f.path, e))?
                {
                    Replaced::Done { window, recovered } => {
                        wrote = true;
                        tracing::debug!(
                            "saved {}: {} bytes, check-to-rename window {window:?}, {recovered} bytes carried over",
                            f.path.display(),
                            text.len()
                        );
                    }
                    Replaced::Changed => {
                        interrupted = Some(f.path.clone());
                        break;
                    }
                }
            }
            for id in plan.changed {
                if counted.insert(id.clone()) {
                    changed.push(id);
                }
            }
            if wrote {
                loaded.stale = true;
                self.matches.clear();
            }
            match interrupted {
                None => return Ok(changed),
                Some(path) => tracing::info!(
                    "{} changed while saving (attempt {attempt}): re-reading and re-applying the edit",
                    path.display()
                ),
            }
        }
        Err(BackendError::Conflict(format!(
            "{} kept changing while tally was saving ({ATTEMPTS} attempts); the edit was not saved — try again",
            self.path.display()
        )))
    }
}

fn snapshot(f: &SourceFile) -> Snapshot {
    Snapshot {
        len: f.len,
        modified: f.mtime,
        hash: f.hash,
    }
}

/// Takes the write lock of every file's directory, once each.
fn lock_directories(j: &Journal) -> Result<Vec<write::WriteLock>> {
    let mut locked: Vec<PathBuf> = Vec::new();
    let mut locks = Vec::new();
    for f in &j.files {
        let dir = write::lock_path(&f.path).map_err(|e| io_error(&f.path, e))?;
        if !locked.contains(&dir) {
            locks.push(write::lock(&f.path).map_err(|e| io_error(&f.path, e))?);
            locked.push(dir);
        }
    }
    Ok(locks)
}

/// True when any file's size or modification time differs from what was read. Only a cheap first look, so a stale
/// index is re-read before patching: the content hash is checked where it matters, right before each rename.
fn changed_on_disk(j: &Journal) -> Result<bool> {
    for f in &j.files {
        let meta = match std::fs::metadata(&f.path) {
            Ok(m) => m,
            Err(_) => return Ok(true),
        };
        if meta.len() != f.len || meta.modified().ok() != f.mtime {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Refuses, before anything is written, an edit that would have to rewrite a file tally may not write.
fn refuse_unwritable(j: &Journal, plan: &Plan) -> Result<()> {
    for (file, _) in &plan.texts {
        if let Some(why) = &j.files[*file as usize].read_only {
            let id = plan
                .changed
                .first()
                .map(|t| t.0.clone())
                .unwrap_or_default();
            return Err(BackendError::ReadOnly(
                id,
                format!("{why}; nothing was saved"),
            ));
        }
    }
    Ok(())
}

/// Finds each transaction by id, patches and checks it; groups the new texts by file.
fn plan(
    loaded: &Loaded,
    ids: &[TxnId],
    edit_for: &(dyn Fn(&TxnId) -> EntryEdit + Sync),
    journal_path: &std::path::Path,
) -> Result<Plan> {
    let j = &loaded.journal;
    let indices = ids
        .iter()
        .map(|id| {
            j.find(id).ok_or_else(|| {
                BackendError::Conflict(format!(
                    "transaction {id} is no longer in {} (it was changed or removed by another program); nothing was saved",
                    journal_path.display()
                ))
            })
        })
        .collect::<Result<Vec<u32>>>()?;
    // Patch and read back in parallel: both are pure functions of the entry's text.
    let patched: Vec<Option<String>> = ids
        .par_iter()
        .zip(indices.par_iter())
        .map(|(id, &index)| patch_checked(j, &loaded.reader, id, index, &edit_for(id)))
        .collect::<Result<_>>()?;
    let mut per_file: BTreeMap<u32, Vec<(Range<usize>, String)>> = BTreeMap::new();
    let mut changed = Vec::new();
    for ((id, &index), p) in ids.iter().zip(&indices).zip(patched) {
        if let Some(new_text) = p {
            let e = &j.entries[index as usize];
            per_file
                .entry(e.file)
                .or_default()
                .push((e.span.0 as usize..e.span.1 as usize, new_text));
            changed.push(id.clone());
        }
    }
    let mut texts = Vec::with_capacity(per_file.len());
    for (file, edits) in per_file {
        let f = &j.files[file as usize];
        let text = patch::apply_edits(&f.text, &edits).map_err(|e| io_error(&f.path, e))?;
        texts.push((file, text));
    }
    Ok(Plan { texts, changed })
}

/// The patched text of entry `index` for `edit`, after the read-back check; `None` when nothing changes.
pub(super) fn patch_checked(
    j: &Journal,
    reader: &Reader,
    id: &TxnId,
    index: u32,
    edit: &EntryEdit,
) -> Result<Option<String>> {
    let e = &j.entries[index as usize];
    let text = j.text(e.file, e.span);
    let at = || format!("{}:{}", j.files[e.file as usize].path.display(), e.line);
    let patched = patch::patch_entry(text, edit).map_err(|err| patch_error(id, &at(), err))?;
    let Some(new_text) = patched else {
        return Ok(None);
    };
    if let Some(refusal) = renamed_balance_checked(j, edit) {
        return Err(BackendError::ReadOnly(
            id.0.clone(),
            format!("{}: not saved: {refusal}", at()),
        ));
    }
    let refuse = |why: String| {
        BackendError::ReadOnly(
            id.0.clone(),
            format!(
                "{}: not saved: the edited transaction would not read back as intended: {why}",
                at()
            ),
        )
    };
    let before = reader.read_entry(index, text).map_err(refuse)?;
    let after = reader.read_entry(index, &new_text).map_err(refuse)?;
    verify::check(&before, &after, edit).map_err(refuse)?;
    Ok(Some(new_text))
}

/// Why a category change must not be saved although the entry itself reads back right: moving a posting from one
/// account to another changes both balances, and a balance assertion elsewhere in the journal would then fail (or
/// an assignment come to another amount). hledger would refuse the file.
fn renamed_balance_checked(j: &Journal, edit: &EntryEdit) -> Option<String> {
    let (old, new) = edit.category.as_ref()?;
    [old, new].into_iter().find_map(|name| {
        j.balance_checked_by(name).map(|asserted| {
            format!(
                "renaming {old} to {new} would change the balance of {name}, which a balance assertion or \
                 assignment on {asserted} checks; change it in the file by hand"
            )
        })
    })
}

/// A patch refusal as a backend error: bad values are the caller's (400 with the field), the rest the entry's.
fn patch_error(id: &TxnId, at: &str, err: patch::PatchError) -> BackendError {
    use patch::PatchError as P;
    let param = match &err {
        P::InvalidNote(_) => "note",
        P::InvalidAccount(_) => "category",
        P::InvalidTagName(_) | P::InvalidTagValue { .. } => "tags",
        _ => return BackendError::ReadOnly(id.0.clone(), format!("{at}: {err}")),
    };
    BackendError::Invalid {
        param: param.into(),
        message: err.to_string(),
    }
}
