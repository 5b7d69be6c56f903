//! The operations layer: every edit a person can make — status, "done with this one", tags, category, note, and
//! their undo and redo — as one function over any `Backend`. It reads what each chosen transaction looks like now
//! (`Backend::editable`, one call), works out each one's patch and the patch that brings it back (`backend::editable`
//! rules), makes ONE batch write (`Backend::bulk_patch`: one save for a journal, one queue for a server's outbox)
//! and returns the undo entries. The CLI, the dashboard and `tally serve` all edit through here; several edits
//! typed in quick succession (the dashboard coalesces them) still make one write, each keeping its own undo entry.

use crate::backend::editable::Editable;
use crate::backend::{Backend, BulkResult, Capabilities, Result, TxnPatch};
use crate::domain::{Status, Tag, Transaction, TxnId};
use std::collections::HashMap;
use std::sync::Arc;

/// The tag a person puts on a transaction to bring it into the review queue; `Change::Reviewed` takes it off.
pub const REVIEW_TAG: &str = "review";

/// One edit as a person asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Status, tags, category, note: applied as given.
    Patch(TxnPatch),
    /// "Done with this one": status cleared and the `review` tag removed, in the same write (each where the backend
    /// can). A transaction still without a category stays in the review queue.
    Reviewed,
}

impl Change {
    pub fn status(status: Status) -> Change {
        Change::Patch(TxnPatch {
            status: Some(status),
            ..TxnPatch::default()
        })
    }

    pub fn tags(add: Vec<Tag>, remove: Vec<String>) -> Change {
        Change::Patch(TxnPatch {
            add_tags: add,
            remove_tags: remove,
            ..TxnPatch::default()
        })
    }

    pub fn category(name: impl Into<String>) -> Change {
        Change::Patch(TxnPatch {
            category: Some(name.into()),
            ..TxnPatch::default()
        })
    }

    /// A new account for one posting of a split (the posting now to `from`).
    pub fn split_category(from: impl Into<String>, name: impl Into<String>) -> Change {
        Change::Patch(TxnPatch {
            category: Some(name.into()),
            category_from: Some(from.into()),
            ..TxnPatch::default()
        })
    }

    pub fn note(text: impl Into<String>) -> Change {
        Change::Patch(TxnPatch {
            note: Some(text.into()),
            ..TxnPatch::default()
        })
    }

    /// The patch this change makes to a transaction that looks like `now`, on a backend that can do `caps`.
    pub fn patch_for(&self, now: &Editable, caps: &Capabilities) -> TxnPatch {
        match self {
            Change::Patch(p) => p.clone(),
            Change::Reviewed => TxnPatch {
                status: caps.edit_status.then_some(Status::Cleared),
                remove_tags: if caps.edit_tags && now.has_tag(REVIEW_TAG) {
                    vec![REVIEW_TAG.to_string()]
                } else {
                    Vec::new()
                },
                ..TxnPatch::default()
            },
        }
    }

    /// What the change does, for the status line: `mark 3 cleared`, `tag +work on 12`.
    fn label(&self, n: usize) -> String {
        let p = match self {
            Change::Reviewed => return format!("reviewed {n}"),
            Change::Patch(p) => p,
        };
        let on = if n == 1 {
            "1 transaction".to_string()
        } else {
            format!("{n} transactions")
        };
        let mut what = Vec::new();
        if let Some(s) = p.status
            && p.add_tags.is_empty()
            && p.remove_tags.is_empty()
            && p.category.is_none()
            && p.note.is_none()
        {
            return format!("mark {n} {}", s.name());
        }
        if let Some(s) = p.status {
            what.push(format!("status {}", s.name()));
        }
        if !p.add_tags.is_empty() || !p.remove_tags.is_empty() {
            let words: Vec<String> = p
                .add_tags
                .iter()
                .map(|t| format!("+{t}"))
                .chain(p.remove_tags.iter().map(|n| format!("-{n}")))
                .collect();
            if what.is_empty() && p.category.is_none() && p.note.is_none() {
                return format!("tag {} on {n}", words.join(" "));
            }
            what.push(format!("tags {}", words.join(" ")));
        }
        if let Some(c) = &p.category {
            what.push(format!("category {c}"));
        }
        if p.note.is_some() {
            what.push("note".into());
        }
        format!("set {} on {on}", what.join(", "))
    }
}

/// One edit of a batch: a change to some transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub ids: Arc<Vec<TxnId>>,
    pub change: Change,
}

/// An edit as written (`forward`, per transaction) and the patches that reverse exactly what it changed
/// (`inverse`): a tag that was already there is not removed by undo, a removed tag comes back with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoEntry {
    /// What was done, for the status bar: `tag +work on 12`.
    pub label: String,
    pub forward: Vec<(TxnId, TxnPatch)>,
    pub inverse: Vec<(TxnId, TxnPatch)>,
}

impl UndoEntry {
    /// Follows id changes (`old → new`) so the entry names the transactions as they are now.
    pub fn rename(&mut self, renamed: &HashMap<TxnId, TxnId>) {
        if renamed.is_empty() {
            return;
        }
        for (id, _) in self.forward.iter_mut().chain(self.inverse.iter_mut()) {
            if let Some(new) = renamed.get(id) {
                *id = new.clone();
            }
        }
    }
}

/// What a batch of edits did: an undo entry per edit (in order) and the write's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub entries: Vec<UndoEntry>,
    pub result: BulkResult,
}

/// Makes one change to `ids` in one write.
pub async fn apply(backend: &dyn Backend, ids: &[TxnId], change: &Change) -> Result<Applied> {
    let edit = Edit {
        ids: Arc::new(ids.to_vec()),
        change: change.clone(),
    };
    apply_all(backend, std::slice::from_ref(&edit)).await
}

/// Makes several edits, in order, in ONE write: each transaction goes from how it is now straight to how the last
/// edit leaves it. Read-only transactions among others are skipped (and said in the label); nothing is written when
/// nothing changes. All or nothing: on an error no edit was saved.
pub async fn apply_all(backend: &dyn Backend, edits: &[Edit]) -> Result<Applied> {
    let Prepared {
        mut entries,
        writes,
        asked,
    } = prepare(backend, edits).await?;
    let result = write(backend, &writes, asked).await?;
    rename_all(&mut entries, &result);
    Ok(Applied { entries, result })
}

/// Gives each transaction a patch of its own, in ONE write, as ONE undo entry labelled `label` (reconciling: the
/// statement's transactions cleared and the balance assertion written, undone together). Transactions the patch
/// would not change are left out; nothing is written when none would change.
pub async fn apply_each(
    backend: &dyn Backend,
    label: impl Into<String>,
    patches: &[(TxnId, TxnPatch)],
) -> Result<Applied> {
    let ids: Vec<TxnId> = patches.iter().map(|(id, _)| id.clone()).collect();
    let before = backend.editable(&ids).await?;
    let mut entry = UndoEntry {
        label: label.into(),
        forward: Vec::new(),
        inverse: Vec::new(),
    };
    for ((id, patch), now) in patches.iter().zip(&before) {
        let after = now.patched(patch);
        if TxnPatch::between(now, &after).is_empty() {
            continue;
        }
        entry
            .inverse
            .push((id.clone(), TxnPatch::between(&after, now)));
        entry.forward.push((id.clone(), patch.clone()));
    }
    let result = write(backend, &entry.forward, patches.len()).await?;
    let mut entries = vec![entry];
    rename_all(&mut entries, &result);
    Ok(Applied { entries, result })
}

/// Edits worked out but not written: the undo entries (whose `forward` says what would change) and the one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub entries: Vec<UndoEntry>,
    pub writes: Vec<(TxnId, TxnPatch)>,
    /// How many distinct transactions the edits name.
    pub asked: usize,
}

/// Works out `edits` without writing (what `apply_all` writes; a dry run shows it).
pub async fn prepare(backend: &dyn Backend, edits: &[Edit]) -> Result<Prepared> {
    let caps = backend.capabilities();
    let mut slot: HashMap<&TxnId, usize> = HashMap::new();
    let mut order: Vec<TxnId> = Vec::new();
    for id in edits.iter().flat_map(|e| e.ids.iter()) {
        slot.entry(id).or_insert_with(|| {
            order.push(id.clone());
            order.len() - 1
        });
    }
    let before = backend.editable(&order).await?;
    let mut now = before.clone();
    // The patch each transaction gets, when only one edit touches it (the person's own patch, written as asked).
    let mut asked: Vec<Option<TxnPatch>> = vec![None; order.len()];
    let mut touched = vec![0u32; order.len()];
    let mut entries = Vec::with_capacity(edits.len());
    for edit in edits {
        let mut entry = UndoEntry {
            label: edit.change.label(edit.ids.len()),
            forward: Vec::new(),
            inverse: Vec::new(),
        };
        let mut read_only = 0;
        // Read-only transactions in a selection are skipped; when all are, the backend is asked anyway and refuses
        // with its own reason (a file tally may not write, a failed server transaction).
        let skip = edit.ids.iter().any(|id| !now[slot[id]].read_only);
        for id in edit.ids.iter() {
            let k = slot[id];
            if now[k].read_only && skip {
                read_only += 1;
                continue;
            }
            let patch = edit.change.patch_for(&now[k], &caps);
            let after = now[k].patched(&patch);
            if TxnPatch::between(&now[k], &after).is_empty() {
                continue;
            }
            entry
                .inverse
                .push((id.clone(), TxnPatch::between(&after, &now[k])));
            entry.forward.push((id.clone(), patch.clone()));
            asked[k] = Some(patch);
            touched[k] += 1;
            now[k] = after;
        }
        if read_only > 0 {
            entry
                .label
                .push_str(&format!(" ({read_only} read-only skipped)"));
        }
        if matches!(edit.change, Change::Reviewed) {
            still_queued(&mut entry, edit, (&slot, &now));
        }
        entries.push(entry);
    }
    let writes: Vec<(TxnId, TxnPatch)> = (0..order.len())
        .filter(|&k| touched[k] > 0)
        .map(|k| match (touched[k], asked[k].take()) {
            (1, Some(p)) => (order[k].clone(), p),
            _ => (order[k].clone(), TxnPatch::between(&before[k], &now[k])),
        })
        .collect();
    Ok(Prepared {
        entries,
        writes,
        asked: order.len(),
    })
}

/// Says in the label how many reviewed transactions stay in the queue for want of a category.
fn still_queued(
    entry: &mut UndoEntry,
    edit: &Edit,
    (slot, now): (&HashMap<&TxnId, usize>, &[Editable]),
) {
    let uncategorised = edit
        .ids
        .iter()
        .filter(|id| {
            let e = &now[slot[id]];
            !e.read_only && e.needs_category()
        })
        .count();
    if uncategorised > 0 {
        entry.label.push_str(&format!(
            " ({uncategorised} without a category stay in the queue until they get one)"
        ));
    }
}

async fn write(
    backend: &dyn Backend,
    writes: &[(TxnId, TxnPatch)],
    asked: usize,
) -> Result<BulkResult> {
    if writes.is_empty() {
        return Ok(BulkResult {
            unchanged: asked,
            ..BulkResult::default()
        });
    }
    let mut result = backend.bulk_patch(writes).await?;
    result.unchanged = asked - result.changed.min(asked);
    Ok(result)
}

fn rename_all(entries: &mut [UndoEntry], result: &BulkResult) {
    if result.renamed.is_empty() {
        return;
    }
    let renamed: HashMap<TxnId, TxnId> = result.renamed.iter().cloned().collect();
    for e in entries {
        e.rename(&renamed);
    }
}

/// Which way `revert` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Undo,
    Redo,
}

/// Undoes (writes `inverse`) or redoes (writes `forward`) an entry in ONE write; returns the entry with ids as
/// they are after it, and the write's result.
pub async fn revert(
    backend: &dyn Backend,
    entry: &UndoEntry,
    direction: Direction,
) -> Result<(UndoEntry, BulkResult)> {
    let ops = match direction {
        Direction::Undo => &entry.inverse,
        Direction::Redo => &entry.forward,
    };
    let result = write(backend, ops, ops.len()).await?;
    let mut entry = entry.clone();
    rename_all(std::slice::from_mut(&mut entry), &result);
    Ok((entry, result))
}

/// Suggested categories as edits: one per category, naming its transactions (sorted), ready for one `apply_all`.
pub fn categorise<'a>(
    suggestions: impl IntoIterator<Item = &'a crate::analytics::suggest::Suggestion>,
) -> Vec<Edit> {
    let mut by_category: std::collections::BTreeMap<&str, Vec<TxnId>> = Default::default();
    for s in suggestions {
        by_category
            .entry(&s.category)
            .or_default()
            .push(s.id.clone());
    }
    by_category
        .into_iter()
        .map(|(category, mut ids)| {
            ids.sort();
            Edit {
                ids: std::sync::Arc::new(ids),
                change: Change::category(category),
            }
        })
        .collect()
}

/// Archives `ids` on the server (it hides them for good): not an edit with an undo.
pub async fn archive(backend: &dyn Backend, ids: &[TxnId]) -> Result<BulkResult> {
    let patch = TxnPatch {
        archive: true,
        ..TxnPatch::default()
    };
    backend.bulk_update(ids, &patch).await
}

/// The transaction as it will look after `change` (the dashboard shows it before the write confirms it).
pub fn preview(t: &Transaction, change: &Change, caps: &Capabilities) -> Transaction {
    t.patched(&change.patch_for(&Editable::of(t), caps))
}

/// Why a transaction is in the review queue, for the queue's column: `pending`, `review tag`, `no category`…
pub fn review_reasons(t: &Transaction) -> Vec<&'static str> {
    crate::domain::review_reasons(
        t.status,
        t.has_tag(REVIEW_TAG),
        t.category.as_deref(),
        t.is_transfer(),
        t.needs_review,
    )
}
