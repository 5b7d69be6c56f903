//! The mirror's file: one SQLite database per server and key in the cache directory, holding the server's
//! catalogue (accounts, categories, tags), its transactions (as tally's domain objects, with the key that orders a
//! day's transactions as the server does), when it was last synced, and the outbox of edits not yet confirmed by
//! the server. A sync is written in one SQL transaction, so a sync that fails halfway leaves the file as it was.
//!
//! It also keeps what only tally knows about the server's data: the statement each account was last reconciled
//! against (`statements`), since a server has no balance assertions to hold it.
//!
//! The file is a cache: one that cannot be read, or was written by another schema version, is moved aside and
//! rebuilt — except that queued edits and remembered statements are never thrown away silently: they are copied
//! into the new file when the old one can still be read, and the reason is reported either way. An older version
//! this one knows how to bring forward (`MIGRATIONS`) is migrated in place instead, in one SQL transaction, keeping
//! everything. When the cache directory cannot be written at all, the mirror lives in memory for the session.

use crate::backend::rest::dialect::{CatalogData, RemoteTxn};
use crate::backend::{BackendError, Result, TxnPatch};
use crate::domain::{Money, Transaction, TxnId};
use crate::reconcile::Statement;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// Bumped whenever the schema or the stored JSON changes shape; an older file is migrated when `MIGRATIONS` says
/// how, else rebuilt.
pub const SCHEMA_VERSION: i64 = 2;

/// The statements reconciled, one per account (the last one): the account as the mirror names it (matched without
/// regard to ASCII case), the statement's date and balance (the quantity as exact decimal text).
const STATEMENTS: &str = "
CREATE TABLE IF NOT EXISTS statements (
    account TEXT PRIMARY KEY COLLATE NOCASE,
    date TEXT NOT NULL,
    commodity TEXT NOT NULL,
    quantity TEXT NOT NULL,
    reconciled_at TEXT NOT NULL
);
";

/// How to bring a file of schema `from` to `from + 1`, without losing anything it holds.
const MIGRATIONS: &[(i64, &str)] = &[(1, STATEMENTS)];

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE catalog (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
CREATE TABLE txns (id TEXT PRIMARY KEY, date TEXT NOT NULL, ord TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX txns_by_date ON txns (date, ord);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    txn_id TEXT NOT NULL,
    patch TEXT NOT NULL,
    failed TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    queued_at TEXT NOT NULL
);
CREATE INDEX outbox_by_txn ON outbox (txn_id, seq);
";

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Everything the mirror holds, as read at open.
#[derive(Debug, Default)]
pub struct Loaded {
    pub txns: Vec<RemoteTxn>,
    pub catalog: CatalogData,
    pub synced_at: Option<DateTime<Utc>>,
    pub full_synced_at: Option<DateTime<Utc>>,
}

/// An edit waiting for the server. `failed` holds the server's refusal until the edit is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub id: TxnId,
    pub patch: TxnPatch,
    pub failed: Option<String>,
    pub attempts: u32,
}

/// What a file about to be rebuilt still holds that no sync can bring back.
#[derive(Debug, Default)]
struct Salvaged {
    queued: Vec<(TxnId, TxnPatch)>,
    statements: Vec<Statement>,
}

/// What one sync writes: the catalogue, the transactions it received, the ids the server no longer has.
pub struct SyncWrite<'a> {
    pub catalog: &'a CatalogData,
    pub upserts: &'a [RemoteTxn],
    pub deletes: &'a [String],
    pub full: bool,
    pub at: DateTime<Utc>,
}

fn db_error(path: &Path, e: impl std::fmt::Display) -> BackendError {
    BackendError::Io(format!("mirror {}: {e}", path.display()))
}

fn json_error(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

impl Store {
    /// Opens (or creates) the mirror at `path`, migrating an older schema in place. Returns a note when the file had
    /// to be rebuilt or could not be used.
    pub fn open(path: &Path) -> Result<(Store, Option<String>)> {
        match Store::try_open(path) {
            Ok(mut store) => match store.migrate().and_then(|()| store.check()) {
                Ok(()) => Ok((store, None)),
                Err(reason) => {
                    let kept = store.salvage();
                    drop(store);
                    Store::rebuild(path, kept, reason)
                }
            },
            Err(e) => Store::rebuild(path, Salvaged::default(), e.to_string()),
        }
    }

    fn try_open(path: &Path) -> rusqlite::Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 0 {
            let empty: i64 =
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
            if empty == 0 {
                create(&conn)?;
            }
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn version(&self) -> rusqlite::Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
    }

    /// Brings a file of an older schema that `MIGRATIONS` knows up to this one, a step at a time, each step in one
    /// SQL transaction that re-reads the version under the write lock (another tally may be migrating it too). A
    /// file of any other version is left for `check` to refuse.
    fn migrate(&mut self) -> std::result::Result<(), String> {
        let path = self.path.clone();
        let step = |conn: &mut Connection| -> rusqlite::Result<bool> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let Some((_, sql)) = MIGRATIONS.iter().find(|(from, _)| *from == version) else {
                return Ok(false);
            };
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
            tracing::info!(
                "the mirror {} was migrated from schema {version} to {}",
                path.display(),
                version + 1
            );
            Ok(true)
        };
        loop {
            let version = self.version().map_err(|e| e.to_string())?;
            if !MIGRATIONS.iter().any(|(from, _)| *from == version) {
                return Ok(());
            }
            match step(&mut self.conn) {
                Ok(true) => continue,
                Ok(false) => return Ok(()),
                Err(e) => {
                    return Err(format!(
                        "it could not be migrated from schema {version} to {SCHEMA_VERSION}: {e}"
                    ));
                }
            }
        }
    }

    /// Whether the file is this version's and readable throughout.
    fn check(&self) -> std::result::Result<(), String> {
        let version = self.version().map_err(|e| e.to_string())?;
        if version != SCHEMA_VERSION {
            return Err(format!(
                "it was written by another version of tally (schema {version}, this one {SCHEMA_VERSION})"
            ));
        }
        let ok: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if ok != "ok" {
            return Err(format!("it is damaged ({ok})"));
        }
        self.statements().map_err(|e| e.to_string())?;
        self.load().map(|_| ()).map_err(|e| e.to_string())
    }

    /// What a file about to be rebuilt holds that a sync cannot bring back (queued edits, remembered statements),
    /// as far as it can still be read.
    fn salvage(&self) -> Salvaged {
        Salvaged {
            queued: self
                .pending()
                .map(|items| items.into_iter().map(|i| (i.id, i.patch)).collect())
                .unwrap_or_default(),
            statements: self.statements().unwrap_or_default(),
        }
    }

    fn rebuild(path: &Path, kept: Salvaged, reason: String) -> Result<(Store, Option<String>)> {
        let aside = path.with_extension("sqlite.old");
        let moved = std::fs::rename(path, &aside).is_ok();
        for ext in ["sqlite-wal", "sqlite-shm"] {
            let _ = std::fs::remove_file(path.with_extension(ext));
        }
        let mut note = format!("the mirror {} was rebuilt: {reason}", path.display());
        if moved {
            note.push_str(&format!(" (the old file is kept as {})", aside.display()));
        }
        let mut store = match Store::try_open(path) {
            Ok(s) => s,
            Err(e) => {
                note = format!(
                    "cannot keep a mirror at {}: {e}; using one in memory for this session",
                    path.display()
                );
                Store::in_memory().map_err(|e| db_error(path, e))?
            }
        };
        let queued = &kept.queued;
        if !queued.is_empty() {
            match store.queue(queued, &[]) {
                Ok(()) => note.push_str(&format!("; {} queued edit(s) carried over", queued.len())),
                Err(e) => note.push_str(&format!("; {} queued edit(s) lost: {e}", queued.len())),
            }
        }
        let statements = &kept.statements;
        if !statements.is_empty() {
            match statements.iter().try_for_each(|s| store.remember(s)) {
                Ok(()) => note.push_str(&format!(
                    "; {} reconciled statement(s) carried over",
                    statements.len()
                )),
                Err(e) => note.push_str(&format!(
                    "; {} reconciled statement(s) lost: {e}",
                    statements.len()
                )),
            }
        }
        tracing::warn!("{note}");
        Ok((store, Some(note)))
    }

    fn in_memory() -> rusqlite::Result<Store> {
        let conn = Connection::open_in_memory()?;
        create(&conn)?;
        Ok(Store {
            conn,
            path: PathBuf::from(":memory:"),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn meta(&self, key: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        Ok(v.and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|d| d.with_timezone(&Utc)))
    }

    /// Everything in the mirror, transactions oldest first (by date, then the server's order).
    pub fn load(&self) -> Result<Loaded> {
        let read = || -> rusqlite::Result<Loaded> {
            let catalog: Option<String> = self
                .conn
                .query_row("SELECT json FROM catalog WHERE id = 1", [], |r| r.get(0))
                .optional()?;
            let catalog = match catalog {
                Some(json) => serde_json::from_str(&json).map_err(json_error)?,
                None => CatalogData::default(),
            };
            let mut stmt = self
                .conn
                .prepare("SELECT json, ord FROM txns ORDER BY date, ord")?;
            let txns = stmt
                .query_map([], |r| {
                    let json: String = r.get(0)?;
                    let order: String = r.get(1)?;
                    let txn: Transaction = serde_json::from_str(&json).map_err(json_error)?;
                    Ok(RemoteTxn { txn, order })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Loaded {
                txns,
                catalog,
                synced_at: self.meta("synced_at")?,
                full_synced_at: self.meta("full_synced_at")?,
            })
        };
        read().map_err(|e| db_error(&self.path, e))
    }

    /// Writes one sync in one SQL transaction.
    pub fn save_sync(&mut self, s: &SyncWrite<'_>) -> Result<()> {
        let path = self.path.clone();
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            let catalog = serde_json::to_string(s.catalog).map_err(json_error)?;
            tx.execute(
                "INSERT OR REPLACE INTO catalog (id, json) VALUES (1, ?1)",
                [catalog],
            )?;
            upsert_rows(&tx, s.upserts)?;
            {
                let mut del = tx.prepare("DELETE FROM txns WHERE id = ?1")?;
                for id in s.deletes {
                    del.execute([id])?;
                }
            }
            let at = s.at.to_rfc3339();
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('synced_at', ?1)",
                [&at],
            )?;
            if s.full {
                tx.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('full_synced_at', ?1)",
                    [&at],
                )?;
            }
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| db_error(&path, e))
    }

    /// Queues edits and stores the transactions as they look with them applied, in one SQL transaction.
    pub fn queue(&mut self, items: &[(TxnId, TxnPatch)], rows: &[RemoteTxn]) -> Result<()> {
        let path = self.path.clone();
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut ins = tx
                    .prepare("INSERT INTO outbox (txn_id, patch, queued_at) VALUES (?1, ?2, ?3)")?;
                let now = Utc::now().to_rfc3339();
                for (id, patch) in items {
                    let patch = serde_json::to_string(patch).map_err(json_error)?;
                    ins.execute(params![id.0, patch, now])?;
                }
            }
            upsert_rows(&tx, rows)?;
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| db_error(&path, e))
    }

    /// Queues edits that take transactions out of sight (archiving) and drops their rows, in one SQL transaction.
    pub fn queue_hidden(&mut self, items: &[(TxnId, TxnPatch)], ids: &[String]) -> Result<()> {
        self.queue(items, &[])?;
        let path = self.path.clone();
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut del = tx.prepare("DELETE FROM txns WHERE id = ?1")?;
                for id in ids {
                    del.execute([id])?;
                }
            }
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| db_error(&path, e))
    }

    /// An edit that took its transaction out of sight was confirmed: only the outbox row goes.
    pub fn sent_hidden(&mut self, seq: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM outbox WHERE seq = ?1", [seq])
            .map(|_| ())
            .map_err(|e| db_error(&self.path, e))
    }

    /// Edits not yet confirmed, oldest first (failed ones included).
    pub fn pending(&self) -> Result<Vec<OutboxItem>> {
        let read = || -> rusqlite::Result<Vec<OutboxItem>> {
            let mut stmt = self
                .conn
                .prepare("SELECT seq, txn_id, patch, failed, attempts FROM outbox ORDER BY seq")?;
            stmt.query_map([], |r| {
                let patch: String = r.get(2)?;
                Ok(OutboxItem {
                    seq: r.get(0)?,
                    id: TxnId(r.get(1)?),
                    patch: serde_json::from_str(&patch).map_err(json_error)?,
                    failed: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })?
            .collect()
        };
        read().map_err(|e| db_error(&self.path, e))
    }

    /// The edit was confirmed: drop it and store the transaction as it now is.
    pub fn sent(&mut self, seq: i64, row: &RemoteTxn) -> Result<()> {
        let path = self.path.clone();
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
            upsert_rows(&tx, std::slice::from_ref(row))?;
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| db_error(&path, e))
    }

    /// A try that did not succeed: counted, and with `failed` set the edit waits for a retry by hand.
    pub fn attempted(&mut self, seq: i64, failed: Option<&str>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, failed = ?2 WHERE seq = ?1",
                params![seq, failed],
            )
            .map(|_| ())
            .map_err(|e| db_error(&self.path, e))
    }

    /// Puts every failed edit back in the queue; returns how many.
    pub fn retry_failed(&mut self) -> Result<usize> {
        self.conn
            .execute(
                "UPDATE outbox SET failed = NULL WHERE failed IS NOT NULL",
                [],
            )
            .map_err(|e| db_error(&self.path, e))
    }

    /// Keeps `statement` as its account's last reconciled statement (replacing the one kept before).
    pub fn remember(&mut self, statement: &Statement) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO statements (account, date, commodity, quantity, reconciled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account) DO UPDATE SET account = ?1, date = ?2, commodity = ?3, quantity = ?4,
                     reconciled_at = ?5",
                params![
                    statement.account,
                    statement.date.to_string(),
                    statement.balance.commodity,
                    statement.balance.quantity.to_string(),
                    Utc::now().to_rfc3339()
                ],
            )
            .map(|_| ())
            .map_err(|e| db_error(&self.path, e))
    }

    /// The last statement `account` was reconciled against (the name matched without regard to ASCII case).
    pub fn statement(&self, account: &str) -> Result<Option<Statement>> {
        self.conn
            .query_row(
                "SELECT account, date, commodity, quantity FROM statements WHERE account = ?1",
                [account.trim()],
                statement_row,
            )
            .optional()
            .map_err(|e| db_error(&self.path, e))
    }

    fn statements(&self) -> rusqlite::Result<Vec<Statement>> {
        let mut stmt = self.conn.prepare(
            "SELECT account, date, commodity, quantity FROM statements ORDER BY account",
        )?;
        stmt.query_map([], statement_row)?.collect()
    }

    /// What was left of the server's request budget, and when its window resets.
    pub fn budget(&self) -> Option<(u64, std::time::SystemTime)> {
        let v: String = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'budget'", [], |r| {
                r.get(0)
            })
            .ok()?;
        let (left, reset) = v.split_once('|')?;
        let reset = std::time::UNIX_EPOCH + std::time::Duration::from_millis(reset.parse().ok()?);
        Some((left.parse().ok()?, reset))
    }

    pub fn put_budget(&mut self, left: u64, reset: std::time::SystemTime) -> Result<()> {
        // Milliseconds: a reset time rounded down would make the next run start a window too early.
        let millis = reset
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('budget', ?1)",
                [format!("{left}|{millis}")],
            )
            .map(|_| ())
            .map_err(|e| db_error(&self.path, e))
    }

    pub fn put_catalog(&mut self, catalog: &CatalogData) -> Result<()> {
        let json = serde_json::to_string(catalog).map_err(|e| db_error(&self.path, e))?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO catalog (id, json) VALUES (1, ?1)",
                [json],
            )
            .map(|_| ())
            .map_err(|e| db_error(&self.path, e))
    }
}

/// A `statements` row read back; a date or quantity that does not parse is an error naming it.
fn statement_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Statement> {
    let bad = |column: usize, e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e)
    };
    let date: String = r.get(1)?;
    let quantity: String = r.get(3)?;
    Ok(Statement {
        account: r.get(0)?,
        date: date.parse::<NaiveDate>().map_err(|e| bad(1, Box::new(e)))?,
        balance: Money::new(
            quantity
                .parse::<rust_decimal::Decimal>()
                .map_err(|e| bad(3, Box::new(e)))?,
            r.get::<_, String>(2)?,
        ),
    })
}

/// Creates this version's schema in an empty file.
fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(STATEMENTS)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
}

fn upsert_rows(tx: &rusqlite::Transaction<'_>, rows: &[RemoteTxn]) -> rusqlite::Result<()> {
    let mut up =
        tx.prepare("INSERT OR REPLACE INTO txns (id, date, ord, json) VALUES (?1, ?2, ?3, ?4)")?;
    for r in rows {
        let json = serde_json::to_string(&r.txn).map_err(json_error)?;
        up.execute(params![r.txn.id.0, r.txn.date.to_string(), r.order, json])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;
    use chrono::NaiveDate;

    fn txn(id: &str) -> RemoteTxn {
        RemoteTxn {
            txn: Transaction {
                id: TxnId(id.into()),
                date: NaiveDate::from_ymd_opt(2026, 1, 2).expect("date"),
                status: Status::Unmarked,
                description: "Shop".into(),
                payee: "Shop".into(),
                note: String::new(),
                code: String::new(),
                tags: vec![],
                postings: vec![],
                category: None,
                source: "Checking".into(),
                needs_review: Some(true),
                read_only: false,
            },
            order: format!("o-{id}"),
        }
    }

    #[test]
    fn a_sync_and_queued_edits_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.sqlite");
        let (mut store, note) = Store::open(&path).expect("open");
        assert!(note.is_none(), "{note:?}");
        let catalog = CatalogData::default();
        store
            .save_sync(&SyncWrite {
                catalog: &catalog,
                upserts: &[txn("a"), txn("b")],
                deletes: &[],
                full: true,
                at: Utc::now(),
            })
            .expect("sync");
        let patch = TxnPatch {
            note: Some("x".into()),
            ..TxnPatch::default()
        };
        store
            .queue(&[(TxnId("a".into()), patch.clone())], &[])
            .expect("queue");
        drop(store);
        let (store, note) = Store::open(&path).expect("reopen");
        assert!(note.is_none(), "{note:?}");
        let loaded = store.load().expect("load");
        assert_eq!(loaded.txns.len(), 2);
        assert!(loaded.full_synced_at.is_some());
        let pending = store.pending().expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].patch, patch);
    }

    #[test]
    fn a_damaged_or_foreign_file_is_rebuilt_keeping_queued_edits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.sqlite");
        std::fs::write(&path, b"this is not a database, just bytes").expect("write");
        let (store, note) = Store::open(&path).expect("rebuilt");
        assert!(note.expect("a note").contains("rebuilt"));
        assert!(store.load().expect("empty mirror").txns.is_empty());
        drop(store);
        // Another version's file with a queued edit: rebuilt, the edit carried over.
        let (mut store, _) = Store::open(&path).expect("open");
        store
            .queue(&[(TxnId("a".into()), TxnPatch::default())], &[])
            .expect("queue");
        store
            .conn
            .pragma_update(None, "user_version", 99)
            .expect("version");
        drop(store);
        let (store, note) = Store::open(&path).expect("rebuilt");
        let note = note.expect("a note");
        assert!(
            note.contains("another version") && note.contains("carried over"),
            "{note}"
        );
        assert_eq!(store.pending().expect("pending").len(), 1);
    }

    fn statement(account: &str, day: u32, cents: i64) -> Statement {
        Statement {
            account: account.into(),
            date: NaiveDate::from_ymd_opt(2026, 1, day).expect("date"),
            balance: Money::new(rust_decimal::Decimal::new(cents, 2), "USD"),
        }
    }

    #[test]
    fn a_statement_is_kept_per_account_and_replaced_by_the_next() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.sqlite");
        let (mut store, _) = Store::open(&path).expect("open");
        assert_eq!(store.statement("Checking").expect("read"), None);
        store
            .remember(&statement("Checking", 31, 123_456))
            .expect("remember");
        store
            .remember(&statement("Savings", 31, 100))
            .expect("remember");
        store
            .remember(&statement("checking", 28, -5))
            .expect("again");
        drop(store);
        let (store, note) = Store::open(&path).expect("reopen");
        assert!(note.is_none(), "{note:?}");
        assert_eq!(
            store.statement("CHECKING").expect("read"),
            Some(statement("checking", 28, -5)),
            "one per account, whatever the case; the last one kept"
        );
        assert_eq!(
            store.statement("Savings").expect("read"),
            Some(statement("Savings", 31, 100))
        );
    }

    /// The schema of version 1, as tally wrote it before statements were kept (frozen here on purpose).
    const V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE catalog (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
CREATE TABLE txns (id TEXT PRIMARY KEY, date TEXT NOT NULL, ord TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX txns_by_date ON txns (date, ord);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    txn_id TEXT NOT NULL,
    patch TEXT NOT NULL,
    failed TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    queued_at TEXT NOT NULL
);
CREATE INDEX outbox_by_txn ON outbox (txn_id, seq);
PRAGMA user_version = 1;
";

    #[test]
    fn a_version_1_file_is_migrated_in_place_keeping_everything() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.sqlite");
        {
            let conn = Connection::open(&path).expect("create");
            conn.execute_batch(V1).expect("v1 schema");
            let json = serde_json::to_string(&txn("a").txn).expect("json");
            conn.execute(
                "INSERT INTO txns (id, date, ord, json) VALUES ('a', '2026-01-02', 'o-a', ?1)",
                [json],
            )
            .expect("row");
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('synced_at', '2026-01-03T00:00:00+00:00')",
                [],
            )
            .expect("meta");
            conn.execute(
                "INSERT INTO outbox (txn_id, patch, queued_at) VALUES ('a', '{\"status\":\"cleared\"}', 'now')",
                [],
            )
            .expect("queued");
        }
        let (mut store, note) = Store::open(&path).expect("open");
        assert!(note.is_none(), "migrated, not rebuilt: {note:?}");
        assert!(!path.with_extension("sqlite.old").exists());
        assert_eq!(store.version().expect("version"), SCHEMA_VERSION);
        let loaded = store.load().expect("load");
        assert_eq!(loaded.txns.len(), 1);
        assert!(loaded.synced_at.is_some(), "not a first sync again");
        assert_eq!(store.pending().expect("pending").len(), 1);
        store
            .remember(&statement("Checking", 31, 1))
            .expect("remember");
        drop(store);
        let (store, note) = Store::open(&path).expect("reopen");
        assert!(note.is_none(), "{note:?}");
        assert!(store.statement("Checking").expect("read").is_some());
    }

    #[test]
    fn a_rebuilt_file_carries_its_statements_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.sqlite");
        let (mut store, _) = Store::open(&path).expect("open");
        store
            .remember(&statement("Checking", 31, 42))
            .expect("remember");
        store
            .conn
            .pragma_update(None, "user_version", 99)
            .expect("version");
        drop(store);
        let (store, note) = Store::open(&path).expect("rebuilt");
        let note = note.expect("a note");
        assert!(
            note.contains("1 reconciled statement(s) carried over"),
            "{note}"
        );
        assert_eq!(
            store.statement("Checking").expect("read"),
            Some(statement("Checking", 31, 42))
        );
    }
}
