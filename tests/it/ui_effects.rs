//! The effect runner's writes against the real journal backend on a temp copy of the UI fixture, through the
//! operations layer: a bulk tag's undo entry reverses exactly what changed (a tag that was already there stays), a
//! removed tag comes back with its value, status changes skip nothing and undo cleanly, edits sent in quick
//! succession are one save with an undo entry each, and `hledger` agrees with the file after each step.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tally::app::{Action, Effect, EffectRunner, UndoEntry, WriteKind};
use tally::backend::journal::JournalBackend;
use tally::backend::{Backend, PageRequest};
use tally::domain::{Status, Tag, TxnId};
use tally::ops::{Change, Edit};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui.journal");

struct Rig {
    runner: EffectRunner,
    rx: UnboundedReceiver<Action>,
    backend: Arc<dyn Backend>,
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new() -> Rig {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ui.journal");
        std::fs::copy(FIXTURE, &path).expect("copy");
        let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&path).expect("open"));
        let (tx, rx) = unbounded_channel();
        Rig {
            runner: EffectRunner::new(Arc::clone(&backend), tx),
            rx,
            backend,
            path,
            _dir: dir,
        }
    }

    /// Runs a write effect and returns its undo entry.
    async fn write(&mut self, effect: Effect) -> UndoEntry {
        let mut entries = self.writes(vec![effect]).await;
        assert_eq!(entries.len(), 1, "one undo entry");
        entries.remove(0)
    }

    /// Runs write effects at once and returns the undo entries of the write that answers them.
    async fn writes(&mut self, effects: Vec<Effect>) -> Vec<UndoEntry> {
        for effect in effects {
            self.runner.run(effect);
        }
        loop {
            let action = tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
                .await
                .expect("a reply in time")
                .expect("channel open");
            if let Action::WriteDone { reply, .. } = action {
                return reply.expect("write succeeded");
            }
        }
    }

    async fn ids(&self, query: &str) -> Vec<TxnId> {
        let q = tally::query::parse(query).expect("query");
        self.backend
            .transactions(&q, PageRequest::all())
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|t| t.id)
            .collect()
    }
}

fn edit(seq: u64, ids: &[TxnId], change: Change) -> Effect {
    Effect::Edit {
        seq,
        edit: Edit {
            ids: Arc::new(ids.to_vec()),
            change,
        },
    }
}

fn revert(kind: WriteKind, entry: UndoEntry) -> Effect {
    Effect::Revert {
        seq: 99,
        kind,
        entry,
    }
}

/// `DATE DESCRIPTION` of the transactions hledger finds for `query`.
fn hledger(file: &Path, query: &str) -> BTreeSet<String> {
    let out = Command::new("hledger")
        .arg("-f")
        .arg(file)
        .args(["print", query])
        .output()
        .expect("run hledger");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let head = l.split(';').next().unwrap_or(l).trim_end();
            // Status marks are not part of the identity here.
            head.replacen(" * ", " ", 1).replacen(" ! ", " ", 1)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn adding_a_tag_some_already_have_is_undone_only_where_it_was_added() {
    let mut rig = Rig::new();
    let original = std::fs::read(&rig.path).expect("read");
    let chosen = rig.ids("coffee").await;
    let already = rig.ids("coffee tag:work").await;
    assert!(!already.is_empty() && already.len() < chosen.len());
    let work_before = hledger(&rig.path, "tag:work");

    let entry = rig
        .write(edit(
            1,
            &chosen,
            Change::tags(vec![Tag::new("work", "")], vec![]),
        ))
        .await;
    assert_eq!(rig.ids("coffee tag:work").await.len(), chosen.len());
    let coffee = hledger(&rig.path, "desc:coffee");
    assert!(coffee.is_subset(&hledger(&rig.path, "tag:work")));
    assert_eq!(entry.inverse.len(), chosen.len() - already.len());
    for (id, patch) in &entry.inverse {
        assert!(patch.add_tags.is_empty(), "{patch:?}");
        assert_eq!(patch.remove_tags, vec!["work".to_string()]);
        assert!(!already.contains(id));
    }

    rig.write(revert(WriteKind::Undo, entry.clone())).await;
    assert_eq!(hledger(&rig.path, "tag:work"), work_before);
    assert_eq!(std::fs::read(&rig.path).expect("read"), original);

    rig.write(revert(WriteKind::Redo, entry)).await;
    assert!(coffee.is_subset(&hledger(&rig.path, "tag:work")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_tag_comes_back_with_its_value() {
    let mut rig = Rig::new();
    let lisbon_before = hledger(&rig.path, "tag:trip=lisbon");
    assert!(lisbon_before.len() >= 3);
    let chosen = rig.ids("tag:trip").await;
    let entry = rig
        .write(edit(1, &chosen, Change::tags(vec![], vec!["trip".into()])))
        .await;
    assert!(hledger(&rig.path, "tag:trip").is_empty());
    rig.write(revert(WriteKind::Undo, entry)).await;
    assert_eq!(hledger(&rig.path, "tag:trip=lisbon"), lisbon_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_changes_record_only_what_changed_and_undo() {
    let mut rig = Rig::new();
    let original = std::fs::read(&rig.path).expect("read");
    let chosen = rig.ids("lyft").await;
    let cleared = rig.ids("lyft status:*").await;
    assert!(!cleared.is_empty() && cleared.len() < chosen.len());
    let entry = rig
        .write(edit(1, &chosen, Change::status(Status::Cleared)))
        .await;
    assert_eq!(entry.inverse.len(), chosen.len() - cleared.len());
    assert_eq!(rig.ids("lyft status:*").await.len(), chosen.len());
    rig.write(revert(WriteKind::Undo, entry)).await;
    assert_eq!(std::fs::read(&rig.path).expect("read"), original);
}

/// Issue 10: edits sent in quick succession are written together — one save — and each keeps its own undo entry;
/// undoing the last one reverts only it, in one more save. "Done with this one" clears the status and takes the
/// `review` tag off in the same write.
#[tokio::test(flavor = "multi_thread")]
async fn edits_in_quick_succession_are_one_save_with_an_undo_entry_each() {
    let mut rig = Rig::new();
    let original = std::fs::read(&rig.path).expect("read");
    let lyft = rig.ids("lyft").await;
    let coffee = rig.ids("coffee").await;
    let path = rig.path.clone();
    let modified = || {
        std::fs::metadata(&path)
            .expect("stat")
            .modified()
            .expect("mtime")
    };
    let before = modified();
    let entries = rig
        .writes(vec![
            edit(1, &lyft[..1], Change::Reviewed),
            edit(
                2,
                &coffee,
                Change::tags(vec![Tag::new("review", "")], vec![]),
            ),
            edit(3, &coffee[..1], Change::Reviewed),
        ])
        .await;
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(modified() > before);
    let first = rig.backend.transaction(&lyft[0]).await.expect("lyft");
    assert_eq!(first.status, Status::Cleared);
    let reviewed = rig.backend.transaction(&coffee[0]).await.expect("coffee");
    assert_eq!(reviewed.status, Status::Cleared);
    assert!(!reviewed.has_tag("review"), "{reviewed:?}");
    assert_eq!(rig.ids("coffee tag:review").await.len(), coffee.len() - 1);
    // Undo the last edit only: the first coffee gets its tag back and its status as it was.
    let mut entries = entries;
    let last = entries.pop().expect("last");
    rig.write(revert(WriteKind::Undo, last)).await;
    assert_eq!(rig.ids("coffee tag:review").await.len(), coffee.len());
    // And the rest, newest first: the file is as it was.
    for entry in entries.into_iter().rev() {
        rig.write(revert(WriteKind::Undo, entry)).await;
    }
    assert_eq!(std::fs::read(&rig.path).expect("read"), original);
}
