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
use super::{Loaded, Store, file_error, io_error, poisoned, refresh, verify};
use crate::backend::ledger::{Journal, SourceFile};
use crate::backend::{BackendError, BulkResult, Result, TxnPatch};
use crate::domain::TxnId;
use rayon::prelude::*;
use rustc_hash::FxHashSet;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::SystemTime;

/// How many times a save re-reads and re-applies when other programs keep changing the file under it.
const ATTEMPTS: usize = 5;

/// The edits of one save: one patch for many transactions (a bulk tag), or a patch of its own for each (undo).
#[derive(Clone, Copy)]
pub(super) enum Batch<'a> {
    Same {
        ids: &'a [TxnId],
        patch: &'a TxnPatch,
    },
    Each(&'a [(TxnId, TxnPatch)]),
}

impl<'a> Batch<'a> {
    fn len(&self) -> usize {
        match self {
            Batch::Same { ids, .. } => ids.len(),
            Batch::Each(edits) => edits.len(),
        }
    }

    fn get(&self, i: usize) -> (&'a TxnId, &'a TxnPatch) {
        match *self {
            Batch::Same { ids, patch } => (&ids[i], patch),
            Batch::Each(edits) => (&edits[i].0, &edits[i].1),
        }
    }
}

/// One entry's new text in a file's new text: its index, where its old text was, how long the new one is, and
/// the id hash it reads with now.
#[derive(Debug, Clone)]
pub(super) struct Spliced {
    pub entry: u32,
    pub old: Range<usize>,
    pub new_len: usize,
    pub hash: u64,
}

/// One file a save rewrites: its new text and the entries spliced into it, in file order.
pub(super) struct FilePlan {
    pub file: u32,
    pub text: String,
    pub spliced: Vec<Spliced>,
}

/// What one attempt will write: each changed file's new text, and the ids that changed.
struct Plan {
    files: Vec<FilePlan>,
    changed: Vec<TxnId>,
}

/// What writing a plan came to.
#[derive(Default)]
struct Written {
    /// Files replaced, with their new modification time.
    done: Vec<(u32, Option<SystemTime>)>,
    /// Another program's bytes were carried over into a new file: the index cannot follow its own text.
    recovered: bool,
    /// The file found changed before its rename (nothing of it replaced).
    interrupted: Option<PathBuf>,
}

impl Store {
    /// Applies each patch of `batch` to its transaction in one save; returns what changed and the ids that did.
    pub(super) fn save_edits(&self, batch: Batch<'_>) -> Result<BulkResult> {
        let _saving = self.saving.lock().map_err(poisoned)?;
        let mut reread = self.make_current(false)?;
        let _locks = {
            let l = self.loaded.read().map_err(poisoned)?;
            lock_directories(&l.journal)?
        };
        let mut changed: Vec<TxnId> = Vec::new();
        // Ids already counted by an earlier attempt (a set: a bulk edit may name every transaction of the journal).
        let mut counted: FxHashSet<TxnId> = FxHashSet::default();
        for attempt in 1..=ATTEMPTS {
            // Someone else saved: re-read and re-apply the edit by id (ids survive unrelated edits).
            reread |= self.make_current(attempt > 1)?;
            // Reads go on, on the index as it is, while the files are written.
            let loaded = self.loaded.read().map_err(poisoned)?;
            let plan = plan(&loaded, batch, (&self.path, reread))?;
            refuse_unwritable(&loaded.journal, &plan)?;
            let written = write_files(&loaded.journal, &plan)?;
            drop(loaded);
            let ids: Vec<(TxnId, u64)> = plan
                .changed
                .iter()
                .cloned()
                .zip(
                    plan.files
                        .iter()
                        .flat_map(|f| f.spliced.iter().map(|s| s.hash)),
                )
                .collect();
            for id in plan.changed.iter() {
                if counted.insert(id.clone()) {
                    changed.push(id.clone());
                }
            }
            let renamed = self.follow(plan.files, &written, &ids)?;
            if written.interrupted.is_none() {
                return Ok(BulkResult {
                    unchanged: batch.len() - changed.len(),
                    changed: changed.len(),
                    renamed,
                });
            }
            if let Some(path) = &written.interrupted {
                tracing::info!(
                    "{} changed while saving (attempt {attempt}): re-reading and re-applying the edit",
                    path.display()
                );
            }
        }
        Err(BackendError::Conflict(format!(
            "{} kept changing while tally was saving ({ATTEMPTS} attempts); the edit was not saved — try again",
            self.path.display()
        )))
    }

    /// Re-reads every file when asked to, when the index is stale, or when a file changed on disk; says whether it
    /// did.
    fn make_current(&self, force: bool) -> Result<bool> {
        let needed = {
            let l = self.loaded.read().map_err(poisoned)?;
            force || l.stale || changed_on_disk(&l.journal)?
        };
        if needed {
            let mut l = self.loaded.write().map_err(poisoned)?;
            self.reload_now(&mut l)?;
        }
        Ok(needed)
    }

    /// Brings the index up to what was written: the edited entries only when every file of the plan was replaced
    /// with exactly its text, else by re-reading the files. Returns the ids that changed (`ids`: each changed id
    /// and the hash its entry reads with now, in plan order).
    fn follow(
        &self,
        files: Vec<FilePlan>,
        written: &Written,
        ids: &[(TxnId, u64)],
    ) -> Result<Vec<(TxnId, TxnId)>> {
        if written.done.is_empty() {
            return Ok(Vec::new());
        }
        if !self.follow {
            let mut l = self.loaded.write().map_err(poisoned)?;
            l.stale = true;
            self.matches.clear();
            return Ok(Vec::new());
        }
        if written.interrupted.is_none() && !written.recovered {
            let started = std::time::Instant::now();
            // Built beside the index in use: reads go on meanwhile.
            let followed = {
                let l = self.loaded.read().map_err(poisoned)?;
                refresh::prepare(&l, files, &written.done)
            };
            match followed {
                Ok(followed) => {
                    let prepared = started.elapsed();
                    let (renamed, replaced) = {
                        let mut l = self.loaded.write().map_err(poisoned)?;
                        let out = refresh::install(&mut l, followed);
                        self.matches.keep_unaffected_by_edits();
                        out
                    };
                    tracing::debug!(
                        "index followed the save: prepared in {prepared:?}, installed in {:?}",
                        started.elapsed() - prepared
                    );
                    drop(replaced);
                    return Ok(renamed);
                }
                Err(why) => tracing::warn!("re-reading the journal after a save: {why}"),
            }
        }
        let mut l = self.loaded.write().map_err(poisoned)?;
        self.matches.clear();
        l.stale = true;
        self.reload_now(&mut l)?;
        Ok(refresh::renamed_by_hash(&l.journal, ids))
    }
}

/// Writes each file of `plan`, stopping at the first one another program changed meanwhile.
fn write_files(j: &Journal, plan: &Plan) -> Result<Written> {
    let mut out = Written::default();
    for fp in &plan.files {
        let f = &j.files[fp.file as usize];
        match write::replace_if_unchanged(&f.path, &snapshot(f), fp.text.as_bytes())
            .map_err(|e| file_error(&f.path, e))?
        {
            Replaced::Done {
                window,
                recovered,
                modified,
            } => {
                tracing::debug!(
                    "saved {}: {} bytes, check-to-rename window {window:?}, {recovered} bytes carried over",
                    f.path.display(),
                    fp.text.len()
                );
                out.done.push((fp.file, modified));
                out.recovered |= recovered > 0;
            }
            Replaced::Changed => {
                out.interrupted = Some(f.path.clone());
                break;
            }
        }
    }
    Ok(out)
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
        let dir = write::lock_path(&f.path).map_err(|e| file_error(&f.path, e))?;
        if !locked.contains(&dir) {
            locks.push(write::lock(&f.path).map_err(|e| file_error(&f.path, e))?);
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
    for fp in &plan.files {
        if let Some(why) = &j.files[fp.file as usize].read_only {
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

/// The entry edit a patch asks of a transaction whose category is `old_category` (`EntryEdit::from_patch`; setting
/// the category it already has renames nothing).
fn entry_edit(id: &TxnId, patch: &TxnPatch, old_category: Option<&str>) -> Result<EntryEdit> {
    let mut edit =
        EntryEdit::from_patch(patch, old_category).map_err(|_| BackendError::Invalid {
            param: "category".into(),
            message: format!(
                "transaction {id} has no category posting to change to {}",
                patch.category.as_deref().unwrap_or_default()
            ),
        })?;
    if edit.category.as_ref().is_some_and(|(old, new)| old == new) {
        edit.category = None;
    }
    Ok(edit)
}

/// Finds each transaction by id, patches and checks it; groups the new texts by file.
/// `reread`: the files were read again during this save (another program changed them), so an id not found was
/// most likely changed or removed by it.
fn plan(
    loaded: &Loaded,
    batch: Batch<'_>,
    (journal_path, reread): (&std::path::Path, bool),
) -> Result<Plan> {
    let j = &loaded.journal;
    let indices = (0..batch.len())
        .into_par_iter()
        .map(|i| {
            let id = batch.get(i).0;
            j.find(id).ok_or_else(|| {
                if reread {
                    BackendError::Conflict(format!(
                        "transaction {id} is no longer in {} (it was changed or removed by another program); nothing was saved",
                        journal_path.display()
                    ))
                } else {
                    BackendError::NotFound(id.0.clone())
                }
            })
        })
        .collect::<Result<Vec<u32>>>()?;
    // Patch and read back in parallel: both are pure functions of the entry's text.
    let patched: Vec<Option<(String, u64)>> = (0..batch.len())
        .into_par_iter()
        .map(|i| {
            let (id, patch) = batch.get(i);
            let index = indices[i];
            let edit = entry_edit(id, patch, j.view(index).category())?;
            patch_checked(j, &loaded.reader, id, index, &edit)
        })
        .collect::<Result<_>>()?;
    let mut per_file: BTreeMap<u32, Vec<(Spliced, String, TxnId)>> = BTreeMap::new();
    let mut seen: FxHashSet<u32> = FxHashSet::default();
    for (i, p) in patched.into_iter().enumerate() {
        let Some((new_text, hash)) = p else {
            continue;
        };
        let index = indices[i];
        if !seen.insert(index) {
            return Err(BackendError::Invalid {
                param: "ids".into(),
                message: format!(
                    "transaction {} is named twice in one edit; nothing was saved",
                    batch.get(i).0
                ),
            });
        }
        let e = &j.entries[index as usize];
        let spliced = Spliced {
            entry: index,
            old: e.span.0 as usize..e.span.1 as usize,
            new_len: new_text.len(),
            hash,
        };
        per_file
            .entry(e.file)
            .or_default()
            .push((spliced, new_text, batch.get(i).0.clone()));
    }
    let mut files = Vec::with_capacity(per_file.len());
    let mut changed = Vec::new();
    for (file, mut edits) in per_file {
        edits.sort_by_key(|(s, _, _)| s.old.start);
        let f = &j.files[file as usize];
        let replacements: Vec<(Range<usize>, String)> = edits
            .iter_mut()
            .map(|(s, text, _)| (s.old.clone(), std::mem::take(text)))
            .collect();
        let text = patch::apply_edits(&f.text, &replacements).map_err(|e| io_error(&f.path, e))?;
        let mut spliced = Vec::with_capacity(edits.len());
        for (s, _, id) in edits {
            spliced.push(s);
            changed.push(id);
        }
        files.push(FilePlan {
            file,
            text,
            spliced,
        });
    }
    Ok(Plan { files, changed })
}

/// The patched text of entry `index` for `edit`, after the read-back check; `None` when nothing changes.
pub(super) fn patch_checked(
    j: &Journal,
    reader: &Reader,
    id: &TxnId,
    index: u32,
    edit: &EntryEdit,
) -> Result<Option<(String, u64)>> {
    let e = &j.entries[index as usize];
    let text = j.text(e.file, e.span);
    let at = || format!("{}:{}", j.files[e.file as usize].path.display(), e.line);
    let settled;
    let edit = match &edit.assertion {
        None => edit,
        Some(_) => {
            let before = reader
                .read_entry(index, text)
                .map_err(|why| BackendError::ReadOnly(id.0.clone(), format!("{}: {why}", at())))?;
            settled = settle_assertion(edit, &before).map_err(|why| {
                BackendError::ReadOnly(id.0.clone(), format!("{}: not saved: {why}", at()))
            })?;
            &settled
        }
    };
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
    Ok(Some((new_text, after.hash)))
}

/// `edit` with its assertion settled against the entry as it reads now: the posting must be to the account the
/// edit names; an assertion already there of exactly that balance needs no writing (nor a missing one taking off);
/// a different one, or a balance assignment, is the user's and is refused.
fn settle_assertion(
    edit: &EntryEdit,
    before: &super::parse::EntryReading,
) -> std::result::Result<EntryEdit, String> {
    let mut out = edit.clone();
    let Some(a) = &edit.assertion else {
        return Ok(out);
    };
    let n = a.posting + 1;
    let p = before
        .postings
        .get(a.posting)
        .ok_or_else(|| format!("the transaction has no posting {n}"))?;
    if p.account != a.account {
        return Err(format!(
            "posting {n} is to {}, not {}",
            p.account, a.account
        ));
    }
    match (&a.balance, &p.assertion) {
        (Some(b), Some(r))
            if !r.assignment
                && r.commodity == b.commodity
                && r.quantity == b.quantity
                && r.inclusive == a.inclusive =>
        {
            out.assertion = None;
        }
        (Some(_), Some(r)) => {
            let what = if r.assignment { "assigns" } else { "asserts" };
            return Err(format!(
                "posting {n} ({}) already {what} a balance of {} {}; change it in the file by hand",
                p.account, r.quantity, r.commodity
            ));
        }
        (None, None) => out.assertion = None,
        (None, Some(r)) if r.assignment => {
            return Err(format!(
                "posting {n} ({}) is a balance assignment, not an assertion; tally leaves it",
                p.account
            ));
        }
        _ => {}
    }
    Ok(out)
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
        P::OtherCommodity { .. } => "assertion",
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
