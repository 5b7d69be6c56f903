//! The effect runner's writes against the real journal backend on a temp copy of the UI fixture: a bulk tag's undo
//! entry reverses exactly what changed (a tag that was already there stays), a removed tag comes back with its
//! value, status changes skip nothing and undo cleanly, and `hledger` agrees with the file after each step.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tally::app::{Action, Effect, EffectRunner, UndoEntry, WriteKind};
use tally::backend::journal::JournalBackend;
use tally::backend::{Backend, PageRequest};
use tally::domain::{Status, Tag, TxnId};
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
        self.runner.run(effect);
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
        .write(Effect::BulkTag {
            ids: Arc::new(chosen.clone()),
            add: vec![Tag::new("work", "")],
            remove: vec![],
        })
        .await;
    assert_eq!(rig.ids("coffee tag:work").await.len(), chosen.len());
    let coffee = hledger(&rig.path, "desc:coffee");
    assert!(coffee.is_subset(&hledger(&rig.path, "tag:work")));
    let [tally::app::EditOp::Tags { ids, add, remove }] = entry.inverse.as_slice() else {
        panic!("one inverse op: {:?}", entry.inverse);
    };
    assert!(add.is_empty());
    assert_eq!(remove, &vec!["work".to_string()]);
    assert_eq!(ids.len(), chosen.len() - already.len());
    assert!(ids.iter().all(|id| !already.contains(id)));

    rig.write(Effect::Apply {
        kind: WriteKind::Undo,
        entry: entry.clone(),
    })
    .await;
    assert_eq!(hledger(&rig.path, "tag:work"), work_before);
    assert_eq!(std::fs::read(&rig.path).expect("read"), original);

    rig.write(Effect::Apply {
        kind: WriteKind::Redo,
        entry,
    })
    .await;
    assert!(coffee.is_subset(&hledger(&rig.path, "tag:work")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_tag_comes_back_with_its_value() {
    let mut rig = Rig::new();
    let lisbon_before = hledger(&rig.path, "tag:trip=lisbon");
    assert!(lisbon_before.len() >= 3);
    let chosen = rig.ids("tag:trip").await;
    let entry = rig
        .write(Effect::BulkTag {
            ids: Arc::new(chosen),
            add: vec![],
            remove: vec!["trip".into()],
        })
        .await;
    assert!(hledger(&rig.path, "tag:trip").is_empty());
    rig.write(Effect::Apply {
        kind: WriteKind::Undo,
        entry,
    })
    .await;
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
        .write(Effect::SetStatus {
            ids: Arc::new(chosen.clone()),
            status: Status::Cleared,
        })
        .await;
    assert_eq!(entry.inverse.len(), chosen.len() - cleared.len());
    assert_eq!(rig.ids("lyft status:*").await.len(), chosen.len());
    rig.write(Effect::Apply {
        kind: WriteKind::Undo,
        entry,
    })
    .await;
    assert_eq!(std::fs::read(&rig.path).expect("read"), original);
}
