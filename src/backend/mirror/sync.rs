//! Bringing the mirror up to date with its server. The catalogue first (account types and category kinds decide
//! signs and kinds), then the transactions page by page. The first sync of an empty mirror puts each page into the
//! index as it arrives, so the dashboard shows the newest transactions while the rest streams in; later syncs are
//! incremental where the API allows (the last 31 days before the newest transaction and the last sync — late bank
//! imports and recent edits land there), a full refresh on request. Edits still queued are re-applied on top of
//! what the server sent. Everything a sync received is written in one SQL transaction at the end: a sync that fails
//! halfway (an error page, a cut connection, a missing field) leaves the mirror file as it was.

use super::{Shared, change};
use crate::backend::rest::dialect::{CatalogData, RemoteTxn, SyncScope, TxnBatch};
use crate::backend::{BackendError, Result, TxnPatch};
use chrono::{DateTime, Days, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::oneshot;

/// How far back an incremental refresh looks.
const WINDOW: Days = Days::new(31);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Incremental where the API allows and the mirror has been fully synced once; else everything.
    Refresh,
    /// Everything.
    Full,
}

/// Runs one sync (one at a time per mirror). `first` is told when the first page is in the index.
pub(super) async fn run(
    shared: &Arc<Shared>,
    mode: Mode,
    first: Option<oneshot::Sender<()>>,
) -> Result<()> {
    let _one = shared.syncing.lock().await;
    shared.note(|a| {
        a.syncing = Some((0, None));
        a.sync_error = None;
    });
    let started = std::time::Instant::now();
    let result = fetch_and_store(shared, mode, first).await;
    tracing::info!(
        server = shared.dialect.server(),
        elapsed = ?started.elapsed(),
        ok = result.is_ok(),
        "mirror sync"
    );
    shared.note(|a| {
        a.syncing = None;
        match &result {
            Ok(at) => {
                a.synced_at = Some(*at);
                a.sync_error = None;
            }
            Err(e) => a.sync_error = Some(e.to_string()),
        }
    });
    result.map(|_| ())
}

fn scope(shared: &Shared, mode: Mode) -> Result<SyncScope> {
    let newest = shared.read(|j| Ok(j.by_date.last().map(|&i| j.entries[i as usize].date)))?;
    let synced = shared.activity.borrow().synced_at;
    Ok(match (mode, newest, synced) {
        (Mode::Refresh, Some(newest), Some(at)) if shared.dialect.incremental() => {
            let from = newest.min(at.date_naive());
            SyncScope::Since(from.checked_sub_days(WINDOW).unwrap_or(from))
        }
        _ => SyncScope::All,
    })
}

/// Queued edits by transaction, in order: what the server's copies must be shown with.
fn queued_edits(shared: &Shared) -> Result<HashMap<String, Vec<TxnPatch>>> {
    let mut by_id: HashMap<String, Vec<TxnPatch>> = HashMap::new();
    for item in shared.store(|s| s.pending())? {
        by_id.entry(item.id.0).or_default().push(item.patch);
    }
    Ok(by_id)
}

/// The mirrored transactions within `scope` the server no longer has (not `seen` in this sync).
fn gone(shared: &Shared, scope: SyncScope, seen: &HashSet<String>) -> Result<Vec<String>> {
    shared.read(|j| {
        Ok(j.by_date
            .iter()
            .filter(|&&i| match scope {
                SyncScope::All => true,
                SyncScope::Since(d) => j.entries[i as usize].date >= d,
            })
            .map(|&i| j.id_of(i).0)
            .filter(|id| !seen.contains(id))
            .collect())
    })
}

/// Edits still queued for the server show on what it sent: archived transactions stay out of sight, the rest get
/// their queued patches again.
fn with_queued_edits(
    shared: &Shared,
    fetched: &mut Vec<RemoteTxn>,
    catalog: &CatalogData,
) -> Result<()> {
    let queued = queued_edits(shared)?;
    let hidden: HashSet<&str> = queued
        .iter()
        .filter(|(_, ps)| ps.iter().any(|p| p.archive))
        .map(|(id, _)| id.as_str())
        .collect();
    fetched.retain(|r| !hidden.contains(r.txn.id.0.as_str()));
    for r in fetched.iter_mut() {
        if let Some(patches) = queued.get(&r.txn.id.0) {
            for p in patches {
                r.txn = change::apply(&r.txn, p, catalog, shared.dialect.as_ref());
            }
        }
    }
    Ok(())
}

async fn fetch_and_store(
    shared: &Arc<Shared>,
    mode: Mode,
    mut first: Option<oneshot::Sender<()>>,
) -> Result<DateTime<Utc>> {
    let at = Utc::now();
    let mut catalog = shared.dialect.catalog().await?;
    shared.catalog.set(catalog.clone());
    let scope = scope(shared, mode)?;
    // An empty mirror shows each page as it arrives.
    let stream = shared.read(|j| Ok(j.by_date.is_empty()))?;
    let mut fetched: Vec<RemoteTxn> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    {
        let mut sink = |batch: TxnBatch| -> Result<()> {
            let new: Vec<RemoteTxn> = batch
                .txns
                .into_iter()
                .filter(|r| seen.insert(r.txn.id.0.clone()))
                .collect();
            if stream {
                shared.apply(&new, &[])?;
            }
            fetched.extend(new);
            let received = fetched.len();
            shared.note(|a| a.syncing = Some((received, batch.total)));
            if let Some(tx) = first.take() {
                let _ = tx.send(());
            }
            Ok(())
        };
        shared
            .dialect
            .transactions(scope, &catalog, &mut sink)
            .await?;
    }
    let deletes = gone(shared, scope, &seen)?;
    if scope == SyncScope::All {
        shared.dialect.settle(&mut fetched, &mut catalog);
        shared.catalog.set(catalog.clone());
    }
    with_queued_edits(shared, &mut fetched, &catalog)?;
    // Only what changed goes to the index (an unchanged refresh must not make the screen reload).
    let changed: Vec<RemoteTxn> = shared.read(|j| {
        Ok(fetched
            .iter()
            .filter(|r| {
                j.find(&r.txn.id)
                    .is_none_or(|i| j.view(i).to_transaction() != r.txn)
            })
            .cloned()
            .collect())
    })?;
    let full = scope == SyncScope::All;
    let store_shared = Arc::clone(shared);
    let (fetched, deletes) = tokio::task::spawn_blocking(move || {
        store_shared
            .store(|s| {
                s.save_sync(&super::store::SyncWrite {
                    catalog: &catalog,
                    upserts: &fetched,
                    deletes: &deletes,
                    full,
                    at,
                })
            })
            .map(|()| (fetched, deletes))
    })
    .await
    .map_err(|e| BackendError::Io(format!("saving the sync failed: {e}")))??;
    if full && (stream || !changed.is_empty() || !deletes.is_empty()) {
        shared.replace(&fetched)?;
    } else if !changed.is_empty() || !deletes.is_empty() {
        shared.apply(&changed, &deletes)?;
    }
    Ok(at)
}
