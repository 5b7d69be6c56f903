//! Edits typed in quick succession become one save. The dashboard sends each edit at once (and shows it at once);
//! here they wait for company: a batch is written when no new edit has come for `QUIET`, or when its first edit is
//! `LONGEST` old, so reviewing down the queue (`r`, `j`, `r`, `j` …) costs a save or two, not one per key. Edits
//! that arrive while a save runs go into the next one. Undo and redo wait for the edits asked before them, and are
//! their own write. Each batch is one `ops::apply_all` call (one write); its reply carries an undo entry per edit.
//! A crash loses at most the edits still waiting, never the file (a save is atomic).

use super::action::{Action, WriteKind};
use crate::backend::Backend;
use crate::domain::TxnId;
use crate::ops::{self, Direction, Edit, UndoEntry};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// A batch is written when no edit has come for this long…
pub const QUIET: Duration = Duration::from_millis(250);
/// …or when its first edit has waited this long.
pub const LONGEST: Duration = Duration::from_secs(1);

/// What the batcher is asked to do, in order.
#[derive(Debug)]
pub enum Queued {
    Edit {
        seq: u64,
        edit: Edit,
    },
    Revert {
        seq: u64,
        kind: WriteKind,
        entry: UndoEntry,
    },
    /// Write what waits now.
    Flush,
}

/// The sending end; the task runs until the dashboard's runner is dropped.
pub struct Batcher {
    queue: UnboundedSender<Queued>,
    /// Edits and reverts sent and not yet answered.
    waiting: Arc<AtomicUsize>,
}

/// What a batch task needs: the backend, where replies go, and the lock that orders writes with reloads.
pub struct Ends {
    pub backend: Arc<dyn Backend>,
    pub actions: UnboundedSender<Action>,
    pub write_lock: Arc<Mutex<()>>,
}

impl Batcher {
    pub fn start(ends: Ends) -> Batcher {
        let (queue, rx) = unbounded_channel();
        let waiting = Arc::new(AtomicUsize::new(0));
        tokio::spawn(run(ends, rx, Arc::clone(&waiting)));
        Batcher { queue, waiting }
    }

    pub fn send(&self, q: Queued) {
        if !matches!(q, Queued::Flush) {
            self.waiting.fetch_add(1, Ordering::SeqCst);
        }
        let _ = self.queue.send(q);
    }

    /// True while an edit or revert has not been answered.
    pub fn busy(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }
}

async fn run(ends: Ends, mut rx: UnboundedReceiver<Queued>, waiting: Arc<AtomicUsize>) {
    let mut carried: Option<Queued> = None;
    // Ids earlier writes changed (a new note or category renames a journal transaction): edits queued before the
    // dashboard heard of it still name the old ids.
    let mut renamed = Renames::default();
    loop {
        let next = match carried.take() {
            Some(q) => q,
            None => match rx.recv().await {
                Some(q) => q,
                None => return,
            },
        };
        match next {
            Queued::Flush => {}
            Queued::Revert {
                seq,
                kind,
                mut entry,
            } => {
                entry.rename(&renamed.0);
                let _writing = ends.write_lock.lock().await;
                renamed.add(revert(&ends, seq, kind, &entry).await);
                waiting.fetch_sub(1, Ordering::SeqCst);
            }
            Queued::Edit { seq, edit } => {
                let mut batch = vec![(seq, edit)];
                carried = gather(&mut rx, &mut batch).await;
                for (_, edit) in &mut batch {
                    renamed.follow(edit);
                }
                let _writing = ends.write_lock.lock().await;
                renamed.add(write(&ends, batch.as_slice()).await);
                waiting.fetch_sub(batch.len(), Ordering::SeqCst);
            }
        }
    }
}

/// Adds to `batch` the edits that come before a quiet moment; returns what ended it when that was not an edit.
async fn gather(
    rx: &mut UnboundedReceiver<Queued>,
    batch: &mut Vec<(u64, Edit)>,
) -> Option<Queued> {
    let started = Instant::now();
    loop {
        let left = LONGEST.saturating_sub(started.elapsed());
        if left.is_zero() {
            return None;
        }
        match tokio::time::timeout(QUIET.min(left), rx.recv()).await {
            Ok(Some(Queued::Edit { seq, edit })) => batch.push((seq, edit)),
            Ok(Some(Queued::Flush)) | Ok(None) | Err(_) => return None,
            Ok(Some(other)) => return Some(other),
        }
    }
}

/// Old id → newest id, over every write so far.
#[derive(Default)]
struct Renames(HashMap<TxnId, TxnId>);

impl Renames {
    fn add(&mut self, pairs: Vec<(TxnId, TxnId)>) {
        for (old, new) in pairs {
            for to in self.0.values_mut().filter(|to| **to == old) {
                *to = new.clone();
            }
            self.0.insert(old, new);
        }
    }

    fn follow(&self, edit: &mut Edit) {
        if self.0.is_empty() || !edit.ids.iter().any(|id| self.0.contains_key(id)) {
            return;
        }
        edit.ids = Arc::new(
            edit.ids
                .iter()
                .map(|id| self.0.get(id).unwrap_or(id).clone())
                .collect(),
        );
    }
}

/// Writes a batch of edits; returns the ids it changed.
async fn write(ends: &Ends, batch: &[(u64, Edit)]) -> Vec<(TxnId, TxnId)> {
    let seqs: Vec<u64> = batch.iter().map(|(s, _)| *s).collect();
    let edits: Vec<Edit> = batch.iter().map(|(_, e)| e.clone()).collect();
    let total: usize = edits.iter().map(|e| e.ids.len()).sum();
    let _ = ends.actions.send(Action::WriteProgress {
        label: format!("saving {} edit(s)", edits.len()),
        done: 0,
        total,
    });
    let (reply, renamed) = match ops::apply_all(ends.backend.as_ref(), &edits).await {
        Ok(applied) => (Ok(applied.entries), applied.result.renamed),
        Err(e) => (Err(e.to_string()), Vec::new()),
    };
    let _ = ends.actions.send(Action::WriteDone {
        kind: WriteKind::New,
        seqs,
        reply,
        renamed: renamed.clone(),
    });
    renamed
}

/// Undoes or redoes an entry; returns the ids it changed.
async fn revert(ends: &Ends, seq: u64, kind: WriteKind, entry: &UndoEntry) -> Vec<(TxnId, TxnId)> {
    let direction = if kind == WriteKind::Undo {
        Direction::Undo
    } else {
        Direction::Redo
    };
    let (reply, renamed) = match ops::revert(ends.backend.as_ref(), entry, direction).await {
        Ok((entry, result)) => (Ok(vec![entry]), result.renamed),
        Err(e) => (Err(e.to_string()), Vec::new()),
    };
    let _ = ends.actions.send(Action::WriteDone {
        kind,
        seqs: vec![seq],
        reply,
        renamed: renamed.clone(),
    });
    renamed
}
