//! The dashboard's undo and redo stacks. An entry (`ops::UndoEntry`) records an edit as it was written (`forward`)
//! and the patches that reverse exactly what changed (`inverse`), worked out by the operations layer before writing.
//! Undo writes `inverse` in one batch; redo writes `forward` again. Ids in the stacks follow the renames a write
//! reports, so they always name transactions as they are now.

use crate::domain::TxnId;
pub use crate::ops::UndoEntry;
use std::collections::HashMap;

/// How many entries the undo stack keeps.
pub const UNDO_LIMIT: usize = 100;

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
