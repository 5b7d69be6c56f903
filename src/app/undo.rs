//! Undo and redo of edits made through the backend. An entry records the edit as it was sent (`forward`) and the
//! edit that reverses exactly what changed (`inverse`) — worked out before writing, so a tag that was already
//! present is not removed by undo and a removed tag comes back with its old value. Undo sends `inverse` through
//! the backend; redo sends `forward` again.

use crate::backend::TxnPatch;
use crate::domain::{Status, Tag, TxnId};
use std::collections::HashMap;
use std::sync::Arc;

/// How many entries the undo stack keeps.
pub const UNDO_LIMIT: usize = 100;

/// One write the backend can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditOp {
    /// One `bulk_tag` call.
    Tags {
        ids: Arc<Vec<TxnId>>,
        add: Vec<Tag>,
        remove: Vec<String>,
    },
    /// One `update_transaction` status change.
    Status { id: TxnId, status: Status },
    /// One `update_transaction` with a category or note.
    Patch { id: TxnId, patch: TxnPatch },
}

impl EditOp {
    /// Follows id changes (`old → new`) so the op names the transaction as it is now.
    pub fn rename(&mut self, renamed: &HashMap<TxnId, TxnId>) {
        match self {
            EditOp::Tags { ids, .. } => {
                if ids.iter().any(|id| renamed.contains_key(id)) {
                    *ids = Arc::new(
                        ids.iter()
                            .map(|id| renamed.get(id).unwrap_or(id).clone())
                            .collect(),
                    );
                }
            }
            EditOp::Status { id, .. } | EditOp::Patch { id, .. } => {
                if let Some(new) = renamed.get(id) {
                    *id = new.clone();
                }
            }
        }
    }

    /// How many transactions the op touches (for progress).
    pub fn size(&self) -> usize {
        match self {
            EditOp::Tags { ids, .. } => ids.len(),
            EditOp::Status { .. } | EditOp::Patch { .. } => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoEntry {
    /// What was done, for the status bar: `tag +work on 12`.
    pub label: String,
    pub forward: Vec<EditOp>,
    pub inverse: Vec<EditOp>,
}

impl UndoEntry {
    pub fn rename(&mut self, renamed: &HashMap<TxnId, TxnId>) {
        for op in self.forward.iter_mut().chain(self.inverse.iter_mut()) {
            op.rename(renamed);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UndoStack {
    undo: Vec<UndoEntry>,
    redo: Vec<UndoEntry>,
}

impl UndoStack {
    /// Records a new edit; it clears the redo stack, as in any editor.
    pub fn push(&mut self, entry: UndoEntry) {
        self.redo.clear();
        self.push_undo(entry);
    }

    fn push_undo(&mut self, entry: UndoEntry) {
        if self.undo.len() == UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.undo.push(entry);
    }

    pub fn pop_undo(&mut self) -> Option<UndoEntry> {
        self.undo.pop()
    }

    pub fn pop_redo(&mut self) -> Option<UndoEntry> {
        self.redo.pop()
    }

    /// An undo was written: the entry can now be redone.
    pub fn undone(&mut self, entry: UndoEntry) {
        self.redo.push(entry);
    }

    /// A redo was written: the entry can be undone again (the rest of the redo stack stays).
    pub fn redone(&mut self, entry: UndoEntry) {
        self.push_undo(entry);
    }

    /// Follows id changes in every entry: ids in the stacks always name transactions as they are now.
    pub fn rename(&mut self, renamed: &HashMap<TxnId, TxnId>) {
        if renamed.is_empty() {
            return;
        }
        for entry in self.undo.iter_mut().chain(self.redo.iter_mut()) {
            entry.rename(renamed);
        }
    }

    pub fn can_undo(&self) -> usize {
        self.undo.len()
    }

    pub fn can_redo(&self) -> usize {
        self.redo.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(label: &str) -> UndoEntry {
        UndoEntry {
            label: label.into(),
            forward: vec![],
            inverse: vec![],
        }
    }

    #[test]
    fn undo_then_redo_then_new_edit_clears_redo() {
        let mut s = UndoStack::default();
        s.push(entry("a"));
        s.push(entry("b"));
        let b = s.pop_undo().expect("b");
        assert_eq!(b.label, "b");
        s.undone(b);
        assert_eq!((s.can_undo(), s.can_redo()), (1, 1));
        let b = s.pop_redo().expect("redo b");
        s.redone(b);
        assert_eq!((s.can_undo(), s.can_redo()), (2, 0));
        let b = s.pop_undo().expect("b again");
        s.undone(b);
        s.push(entry("c"));
        assert_eq!((s.can_undo(), s.can_redo()), (2, 0));
    }

    #[test]
    fn stack_is_bounded() {
        let mut s = UndoStack::default();
        for i in 0..UNDO_LIMIT + 5 {
            s.push(entry(&i.to_string()));
        }
        assert_eq!(s.can_undo(), UNDO_LIMIT);
    }
}
