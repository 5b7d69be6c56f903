//! What a server API must provide for tally to mirror it (DESIGN §11): its catalogue (accounts, categories, tags),
//! its transactions page by page, and single-transaction writes. A dialect turns the server's objects into the
//! domain at its edge — ids as the server's strings, `Decimal` money in the currency's minor units, signs from the
//! holder's side, dates as dates, account kinds from the server's types — and says in `Capabilities` what the API
//! cannot do and why. Everything else (the mirror, the outbox, queries, analytics) is shared by all dialects.

use crate::backend::{Capabilities, Result, Source, TxnPatch};
use crate::domain::{Account, AccountKind, Money, Posting, PostingKind, Transaction, TxnId};
use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// A transaction as a dialect delivers it, with the key that orders it among those of the same day on the server
/// (oldest first), so the mirror lists a day's transactions in the server's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTxn {
    pub txn: Transaction,
    pub order: String,
}

/// A real posting to `account` of the kind the server gives it: how every dialect builds a transaction's postings.
pub fn posting(account: &str, quantity: Decimal, commodity: &str, kind: AccountKind) -> Posting {
    Posting {
        account: account.to_string(),
        amount: Money::new(quantity, commodity),
        cost: None,
        kind: PostingKind::Real,
        account_kind: Some(kind),
        tags: Vec::new(),
        comment: String::new(),
    }
}

/// A category the server knows (an expense or income account in a journal's terms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub kind: AccountKind,
}

/// A tag the server knows, with its id (needed to write it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteTag {
    pub id: String,
    pub name: String,
}

/// The server's catalogue as last synced: what writes need to turn names into ids, and what completion offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogData {
    pub accounts: Vec<Account>,
    pub categories: Vec<Category>,
    pub tags: Vec<RemoteTag>,
}

impl CatalogData {
    /// The category named `name` (case-insensitive).
    pub fn category(&self, name: &str) -> Option<&Category> {
        self.categories
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The tag named `name` (case-insensitive).
    pub fn tag(&self, name: &str) -> Option<&RemoteTag> {
        self.tags.iter().find(|t| t.name.eq_ignore_ascii_case(name))
    }
}

/// The catalogue shared by the mirror and its dialect: syncs replace it, writes add the tags they create.
#[derive(Debug, Default)]
pub struct Catalog {
    data: Mutex<CatalogData>,
}

impl Catalog {
    pub fn new(data: CatalogData) -> Self {
        Catalog {
            data: Mutex::new(data),
        }
    }

    pub fn get(&self) -> CatalogData {
        self.data.lock().map(|d| d.clone()).unwrap_or_default()
    }

    pub fn set(&self, data: CatalogData) {
        if let Ok(mut d) = self.data.lock() {
            *d = data;
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut CatalogData) -> T) -> Option<T> {
        self.data.lock().ok().map(|mut d| f(&mut d))
    }
}

/// Which transactions a sync asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncScope {
    /// Everything the server has.
    All,
    /// Transactions dated on or after this day (an incremental refresh).
    Since(NaiveDate),
}

/// One page of a listing as it arrives: its transactions and, when the server says, how many there are in all.
#[derive(Debug, Default)]
pub struct TxnBatch {
    pub txns: Vec<RemoteTxn>,
    pub total: Option<usize>,
}

/// Receives the pages of a listing as they arrive; an error stops the listing.
pub type BatchSink<'a> = dyn FnMut(TxnBatch) -> Result<()> + Send + 'a;

#[async_trait]
pub trait Dialect: Send + Sync + std::fmt::Debug {
    /// The dialect's name as in the config (`sure`, `hledger-web`).
    fn name(&self) -> &'static str;

    /// `scheme://host:port`, for messages.
    fn server(&self) -> &str;

    /// What the API can do, with the reason for each thing it cannot.
    fn capabilities(&self) -> Capabilities;

    /// True when the listing carries every posting of a double-entry ledger (hledger-web): balances are then
    /// computed from the postings, exactly as for a journal. Otherwise they are the server's own.
    fn balances_from_postings(&self) -> bool {
        false
    }

    /// True when the API can list only the transactions since a date, so a refresh need not fetch everything.
    fn incremental(&self) -> bool {
        false
    }

    /// Accounts, categories and tags.
    async fn catalog(&self) -> Result<CatalogData>;

    /// Lists the transactions in `scope`, handing each page to `sink` as it arrives. `catalog` is the one just
    /// fetched (account types and category kinds decide signs and kinds).
    async fn transactions(
        &self,
        scope: SyncScope,
        catalog: &CatalogData,
        sink: &mut BatchSink<'_>,
    ) -> Result<()>;

    /// Makes the change on the server and returns the transaction as the server now has it. Read-modify-write APIs
    /// read the current value first and keep what the patch does not touch. Creates tags the server lacks (adding
    /// them to `catalog`).
    async fn write(&self, id: &TxnId, patch: &TxnPatch, catalog: &Catalog) -> Result<RemoteTxn>;

    /// Refuses, before anything is queued, an edit this API cannot take (a status it does not have).
    fn check(&self, _patch: &TxnPatch) -> Result<()> {
        Ok(())
    }

    /// The HTTP client, whose knowledge of the server's rate limit a mirror keeps from one run to the next.
    fn http(&self) -> Option<&super::client::HttpCore> {
        None
    }

    /// The server's review flag for a transaction the mirror changed locally (before the server confirms it).
    fn review_flag(&self, t: &Transaction) -> Option<bool> {
        t.needs_review
    }

    /// Sources the server can be asked to sync (a bank connection per account), besides the mirror itself.
    fn sources(&self, _catalog: &CatalogData) -> Vec<Source> {
        Vec::new()
    }

    /// Asks the server to sync one of `sources`. A server that limits how often it may be asked answers
    /// `RateLimited`, which is not a failure: the caller says when the next sync is possible.
    async fn sync_source(&self, id: &str) -> Result<Source> {
        Err(crate::backend::BackendError::NotFound(format!(
            "source {id}"
        )))
    }

    /// Called once a full listing is in: lets a dialect settle what only the whole listing tells (FinWise: which
    /// categories are income) and record it in the catalogue for later incremental syncs.
    fn settle(&self, _txns: &mut [RemoteTxn], _catalog: &mut CatalogData) {}
}
