//! The outbox sender: takes queued edits from the mirror, oldest first, and sends them through the dialect with at
//! most `MAX_IN_FLIGHT` requests' worth of edits at once and never two for the same transaction at once (so they
//! apply in order). Each answer is checked by the dialect against what was asked; the server's copy, with any edits
//! still queued for it re-applied, replaces the mirror's. The server's rate limit pauses sending until its window
//! resets; connection trouble and 5xx pause it with backoff and count an attempt; a refusal (4xx) marks the edit
//! failed with the server's message, where it stays until a sync retries it. Unsent edits survive a quit or a
//! crash: they are rows of the mirror file, sent on the next open.

use super::store::OutboxItem;
use super::{Shared, change};
use crate::backend::BackendError;
use crate::backend::rest::dialect::RemoteTxn;
use crate::domain::TxnId;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Edits being sent at once (each may take a read and a write).
pub const MAX_IN_FLIGHT: usize = 8;
/// Tries before an edit that keeps meeting connection trouble is marked failed.
const MAX_ATTEMPTS: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What to do after an edit was not confirmed.
enum Next {
    /// The server asked to wait (rate limit): the edit goes back to the front of the queue.
    Wait(Duration),
    /// Connection trouble or a server error: try again later (counted).
    Retry,
    /// The server refused: keep the edit as failed, with the message.
    Fail(String),
}

fn next(e: &BackendError) -> Next {
    match e {
        BackendError::RateLimited { retry_after, .. } => {
            Next::Wait(Duration::from_secs(*retry_after))
        }
        BackendError::Network { .. } | BackendError::Io(_) | BackendError::File { .. } => {
            Next::Retry
        }
        BackendError::Http { status, .. } if *status >= 500 || *status == 408 => Next::Retry,
        other => Next::Fail(other.to_string()),
    }
}

/// Runs for the life of the mirror: sends whatever is queued, then waits to be woken by a new edit.
pub(super) async fn run(shared: Arc<Shared>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        // Read the queue and say its size under the store's lock: an edit queued meanwhile adds itself to the count
        // after its rows are stored, so the count never drops to zero with an edit waiting (`flush` relies on it).
        let queue = shared.store(|s| {
            let pending = s.pending()?;
            let failed = pending.iter().filter(|i| i.failed.is_some()).count();
            let queue: VecDeque<OutboxItem> =
                pending.into_iter().filter(|i| i.failed.is_none()).collect();
            let queued = queue.len();
            shared.note(|a| {
                a.queued = queued;
                a.failed = failed;
                if queued == 0 {
                    a.sent = 0;
                    a.paused_until = None;
                }
            });
            Ok(queue)
        });
        let queue = match queue {
            Ok(q) => q,
            Err(e) => {
                shared.note(|a| a.write_error = Some(e.to_string()));
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if queue.is_empty() {
            shared.wake.notified().await;
            continue;
        }
        match send(&shared, queue).await {
            Some(pause) => {
                let wait = if pause.is_zero() {
                    let b = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    b
                } else {
                    pause
                };
                shared.note(|a| {
                    a.paused_until = chrono::Duration::from_std(wait)
                        .ok()
                        .map(|d| chrono::Utc::now() + d)
                });
                tokio::time::sleep(wait).await;
                shared.note(|a| a.paused_until = None);
            }
            None => backoff = Duration::from_secs(1),
        }
    }
}

/// Sends the queue; returns a pause when sending had to stop (zero: back off; else the server's wait).
async fn send(shared: &Arc<Shared>, mut queue: VecDeque<OutboxItem>) -> Option<Duration> {
    let mut in_flight = FuturesUnordered::new();
    let mut busy: HashSet<TxnId> = HashSet::new();
    let mut pause: Option<Duration> = None;
    loop {
        while pause.is_none() && in_flight.len() < MAX_IN_FLIGHT {
            let Some(pos) = queue.iter().position(|i| !busy.contains(&i.id)) else {
                break;
            };
            let Some(item) = queue.remove(pos) else {
                break;
            };
            busy.insert(item.id.clone());
            let s = Arc::clone(shared);
            in_flight.push(async move {
                let catalog = &s.catalog;
                let result = s.dialect.write(&item.id, &item.patch, catalog).await;
                (item, result)
            });
        }
        let Some((item, result)) = in_flight.next().await else {
            return pause;
        };
        busy.remove(&item.id);
        match result {
            Ok(remote) => confirmed(shared, &item, remote, &queue),
            Err(e) => match next(&e) {
                Next::Wait(d) => {
                    tracing::info!("outbox: {e}; pausing {}s", d.as_secs());
                    pause = Some(pause.map_or(d, |p| p.max(d)));
                    queue.push_front(item);
                }
                Next::Retry if item.attempts + 1 < MAX_ATTEMPTS => {
                    tracing::warn!("outbox: {e}; will retry");
                    let _ = shared.store(|s| s.attempted(item.seq, None));
                    shared.note(|a| a.write_error = Some(e.to_string()));
                    pause = Some(pause.unwrap_or(Duration::ZERO));
                }
                Next::Retry => refused(shared, &item, &e.to_string()),
                Next::Fail(message) => refused(shared, &item, &message),
            },
        }
    }
}

fn confirmed(shared: &Shared, item: &OutboxItem, remote: RemoteTxn, queue: &VecDeque<OutboxItem>) {
    if item.patch.archive {
        // The row was taken out when the edit was made; nothing comes back.
        match shared.store(|s| s.sent_hidden(item.seq)) {
            Ok(()) => shared.note(|a| {
                a.queued = a.queued.saturating_sub(1);
                a.sent += 1;
            }),
            Err(e) => shared.note(|a| a.write_error = Some(e.to_string())),
        }
        return;
    }
    // Edits queued after this one for the same transaction still show.
    let catalog = shared.catalog.get();
    let mut txn = remote.txn;
    for later in queue.iter().filter(|q| q.id == item.id) {
        txn = change::apply(&txn, &later.patch, &catalog, shared.dialect.as_ref());
    }
    let row = RemoteTxn {
        txn,
        order: remote.order,
    };
    let saved = shared
        .store(|s| {
            s.put_catalog(&catalog)?;
            s.sent(item.seq, &row)
        })
        .and_then(|()| shared.apply(std::slice::from_ref(&row), &[]));
    match saved {
        Ok(()) => shared.note(|a| {
            a.queued = a.queued.saturating_sub(1);
            a.sent += 1;
        }),
        Err(e) => shared.note(|a| a.write_error = Some(e.to_string())),
    }
}

fn refused(shared: &Shared, item: &OutboxItem, message: &str) {
    tracing::warn!(id = %item.id, "outbox: refused: {message}");
    let message = format!("{}: {message}", item.id);
    let _ = shared.store(|s| s.attempted(item.seq, Some(&message)));
    shared.note(|a| {
        a.queued = a.queued.saturating_sub(1);
        a.failed += 1;
        a.write_error = Some(message.clone());
    });
}
