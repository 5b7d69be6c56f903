//! The one interface every data source implements: the journal file backend, the REST client, and the dialects.
//! It is async and object-safe (`Arc<dyn Backend>`), so the UI, the CLI and `tally serve` work over any of them.
//! Listing is paged and carries the total count and per-commodity sum of everything that matched, so a client never
//! needs the whole ledger in memory to show "N matches, sum X". What a backend cannot do it declares in
//! `Capabilities`; callers check them and say why an action is unavailable instead of silently doing nothing.

use crate::analytics::recurring::{Projections, Sample};
use crate::domain::{Account, Balance, Money, Status, Tag, Transaction, TxnId};
use crate::query::Query;
use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub mod editable;
pub mod journal;
pub mod ledger;
pub mod mirror;
pub mod rest;

/// What a backend can do. The UI greys out actions whose capability is false and shows `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub edit_status: bool,
    pub edit_tags: bool,
    pub edit_category: bool,
    pub edit_notes: bool,
    pub bulk_tag: bool,
    pub manage_tags: bool,
    pub server_analytics: bool,
    pub sources: bool,
    pub sync: bool,
    /// Transactions can be archived (hidden on the server, for good).
    #[serde(default)]
    pub archive: bool,
    /// Live change notification (file watching) is available.
    pub watch: bool,
    /// Balance assertions (`= AMOUNT` after a posting's amount) can be written, as reconciling does
    /// (`TxnPatch::assertion`): a journal can; a server has no such thing.
    #[serde(default)]
    pub balance_assertions: bool,
    /// A short human description of the backend, shown in the status bar: `journal ~/ledger.journal`.
    pub label: String,
    /// Why a capability is false, by its field name (`edit_status`: "Sure has no cleared/pending status"); the
    /// UI shows it instead of a generic "not supported".
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub reasons: std::collections::BTreeMap<String, String>,
}

impl Capabilities {
    pub fn read_only(label: impl Into<String>) -> Self {
        Capabilities {
            edit_status: false,
            edit_tags: false,
            edit_category: false,
            edit_notes: false,
            bulk_tag: false,
            manage_tags: false,
            server_analytics: false,
            sources: false,
            sync: false,
            archive: false,
            watch: false,
            balance_assertions: false,
            label: label.into(),
            reasons: Default::default(),
        }
    }

    /// Whether new transactions can be added (`a`): a journal file tally may write.
    pub fn can_add(&self) -> bool {
        self.watch && self.edit_notes
    }

    /// Whether the capability named like its field (`edit_status`) is there.
    pub fn has(&self, capability: &str) -> bool {
        match capability {
            "edit_status" => self.edit_status,
            "edit_tags" => self.edit_tags,
            "edit_category" => self.edit_category,
            "edit_notes" => self.edit_notes,
            "bulk_tag" => self.bulk_tag,
            "manage_tags" => self.manage_tags,
            "server_analytics" => self.server_analytics,
            "sources" => self.sources,
            "sync" => self.sync,
            "archive" => self.archive,
            "watch" => self.watch,
            "balance_assertions" => self.balance_assertions,
            _ => false,
        }
    }

    /// Why `capability` (a field name) is unavailable, when the backend says.
    pub fn reason(&self, capability: &str) -> Option<&str> {
        self.reasons.get(capability).map(String::as_str)
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum SortKey {
    #[default]
    Date,
    Amount,
    #[strum(to_string = "payee", serialize = "description")]
    Payee,
    Status,
    Category,
}

impl SortKey {
    pub fn parse(s: &str) -> Option<SortKey> {
        s.parse().ok()
    }

    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Which slice of the matching transactions to return. `offset` counts from the first in sort order
/// (newest first by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub offset: usize,
    pub limit: usize,
    pub sort: SortKey,
    /// True for ascending order; the default listing is newest first (descending by date).
    pub ascending: bool,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            offset: 0,
            limit: 200,
            sort: SortKey::Date,
            ascending: false,
        }
    }
}

impl PageRequest {
    pub fn all() -> Self {
        PageRequest {
            limit: usize::MAX,
            ..PageRequest::default()
        }
    }
}

/// One page of matching transactions plus facts about the whole match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnPage {
    pub items: Vec<Transaction>,
    /// How many transactions matched in all.
    pub total: usize,
    /// Per-commodity sum of the matched transactions' amounts (`Transaction::amount`); for a query about accounts
    /// (`acct:` terms), the sum of their postings (`query::amount_in`): the accounts' balance for the filter.
    pub sum: Balance,
    /// For a query about accounts listed by date: the sum of those accounts' postings in the matches listed before
    /// this page, from which each row's running balance follows. `None` when the backend does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Balance>,
}

/// A transaction to add, as a person types it: amounts are text in the journal's own notation (`$12.50`,
/// `-4.20 EUR`); one posting may leave its amount out, to balance the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTransaction {
    pub date: chrono::NaiveDate,
    pub description: String,
    /// (account, amount text, empty for the one that balances).
    pub postings: Vec<(String, String)>,
}

/// A change to one transaction. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnPatch {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tags: Vec<Tag>,
    /// Tag names to remove (any value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A split (several category postings): the account of the posting `category` renames. `None` renames the
    /// transaction's category (its first category posting). Only a journal has splits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Archive the transaction on the server (FinWise): it disappears from every listing. Cannot be undone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archive: bool,
    /// A balance assertion to write on (or, with no balance, take off) one of the transaction's postings: what
    /// reconciling against a statement writes. Only backends with `Capabilities::balance_assertions` accept it.
    /// Boxed: it is rare, and every patch would otherwise carry its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<Box<PostingAssertion>>,
}

/// A balance assertion on one posting: after this posting, the account's balance in the commodity of `balance` is
/// `balance` (hledger's `= AMOUNT`; with `inclusive`, subaccounts included: `=* AMOUNT`). `None` removes the
/// posting's assertion (what undoing a reconciliation writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingAssertion {
    /// The posting's index among the transaction's postings (`Transaction::postings`), in the order written.
    pub posting: usize,
    /// The account of that posting: a save refuses the edit when the index names another posting.
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<Money>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inclusive: bool,
    /// The posting's amount, written with the assertion where the posting has none written (an assertion alone
    /// would be a balance assignment); taking the assertion off takes this amount off again, as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

impl TxnPatch {
    pub fn is_empty(&self) -> bool {
        self.add_tags.is_empty()
            && self.remove_tags.is_empty()
            && self.status.is_none()
            && self.category.is_none()
            && self.note.is_none()
            && !self.archive
            && self.assertion.is_none()
    }
}

/// What a bulk edit did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    /// Transactions whose text or record actually changed.
    pub changed: usize,
    /// Transactions that already had the requested tags.
    pub unchanged: usize,
    /// Ids the write changed (`[old, new]`): a journal's id hashes the transaction's text, so a new note or category
    /// gives it a new id. Servers keep their ids: empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<(TxnId, TxnId)>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    #[strum(to_string = "day", serialize = "daily")]
    Day,
    #[strum(to_string = "week", serialize = "weekly")]
    Week,
    #[default]
    #[strum(to_string = "month", serialize = "monthly")]
    Month,
    #[strum(to_string = "year", serialize = "yearly")]
    Year,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        s.parse().ok()
    }

    /// The first day after the period that starts on `start`.
    pub fn period_end(self, start: chrono::NaiveDate) -> chrono::NaiveDate {
        use chrono::{Datelike, Duration, NaiveDate};
        let next_month = |d: NaiveDate, months: u32| {
            d.checked_add_months(chrono::Months::new(months))
                .unwrap_or(NaiveDate::MAX)
        };
        match self {
            GroupBy::Day => start + Duration::days(1),
            GroupBy::Week => start + Duration::days(7),
            GroupBy::Month => next_month(start.with_day(1).unwrap_or(start), 1),
            GroupBy::Year => {
                NaiveDate::from_ymd_opt(start.year() + 1, 1, 1).unwrap_or(NaiveDate::MAX)
            }
        }
    }

    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// One period of a summary: money in (income, positive), money out (spending, positive), and net = in − out,
/// per commodity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSummary {
    /// First day of the period.
    pub start: NaiveDate,
    pub income: Balance,
    pub spending: Balance,
    pub net: Balance,
    pub count: usize,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Dimension {
    #[default]
    Category,
    Tag,
    #[strum(to_string = "account", serialize = "source")]
    Account,
    #[strum(to_string = "payee", serialize = "merchant")]
    Payee,
}

impl Dimension {
    pub fn parse(s: &str) -> Option<Dimension> {
        s.parse().ok()
    }

    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// One bar of a breakdown: a key (category, tag, account or payee), its total and how many transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakdownRow {
    pub key: String,
    pub total: Balance,
    pub count: usize,
}

/// A tag known to the backend, with how many transactions carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInfo {
    pub id: String,
    pub name: String,
    pub count: usize,
}

/// A data source: a file for the journal, a connected provider for a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub id: String,
    pub name: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
    pub status: String,
}

/// What a backend is doing in the background, for the status bar: a mirror's age and sync, and the edits it still
/// has to send. Backends that do everything at once (a journal) report nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// When the local copy was last brought up to date with the server.
    pub synced_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A sync running: transactions received so far, and how many the server has, when it says.
    pub syncing: Option<(usize, Option<usize>)>,
    /// Why the last sync failed.
    pub sync_error: Option<String>,
    /// Edits waiting to be sent (or being sent).
    pub queued: usize,
    /// Edits sent since the queue was last empty (progress of a bulk edit).
    pub sent: usize,
    /// Edits the server refused; a sync (`S`) retries them.
    pub failed: usize,
    /// The newest refusal or sending problem, with the server's message.
    pub write_error: Option<String>,
    /// Sending waits for the server's rate limit until then.
    pub paused_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Something worth saying once (a mirror that had to be rebuilt).
    pub note: Option<String>,
}

/// A problem found while reading a ledger: `FILE:LINE:COLUMN: message`. The rest of the ledger still loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// How much history the search for recurring transactions looks at (enough for a yearly bill to show three times).
pub const HISTORY_YEARS: u32 = 3;

/// The samples of the last `HISTORY_YEARS` years before the newest one.
pub fn recent(mut samples: Vec<Sample>) -> Vec<Sample> {
    if let Some(newest) = samples.iter().map(|s| s.date).max() {
        let from = newest
            .checked_sub_months(chrono::Months::new(12 * HISTORY_YEARS))
            .unwrap_or(newest);
        samples.retain(|s| s.date > from);
    }
    samples
}

/// Recurring transactions among `samples` and the projections they give for `accounts`.
pub fn projections_from(samples: Vec<Sample>, accounts: &[Account], months: u32) -> Projections {
    let as_of = samples.iter().map(|s| s.date).max();
    let recurring = crate::analytics::recurring::find_in(samples);
    let accounts = match as_of {
        Some(d) => crate::analytics::recurring::project(accounts, &recurring, d, months),
        None => Vec::new(),
    };
    Projections {
        as_of,
        recurring,
        accounts,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("{0}")]
    Io(String),
    /// A file could not be read or written: which, and the operating system's error (kept as the source).
    #[error("{}: {source}", path.display())]
    File {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("transaction {0} not found")]
    NotFound(String),
    #[error("not supported by this backend: {0}")]
    Unsupported(String),
    #[error("invalid {param}: {message}")]
    Invalid { param: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("transaction {0} is read-only: {1}")]
    ReadOnly(String, String),
    /// A server answered with an error: names the server, the HTTP status and the server's own message.
    #[error("{server}: HTTP {status}: {message}")]
    Http {
        server: String,
        status: u16,
        message: String,
    },
    #[error("{server}: {message}")]
    Network { server: String, message: String },
    /// The server's request budget is spent: nothing was done; try again after `retry_after` seconds.
    #[error("{server}: HTTP 429: {message} (next try possible in {retry_after} s)")]
    RateLimited {
        server: String,
        retry_after: u64,
        message: String,
    },
    #[error("{0}")]
    Parse(String),
}

pub type Result<T, E = BackendError> = std::result::Result<T, E>;

#[async_trait]
pub trait Backend: Send + Sync {
    fn capabilities(&self) -> Capabilities;

    /// Problems found while loading (journal syntax errors); empty for servers.
    async fn diagnostics(&self) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Every account with postings, with its own balance (not including subaccounts), sorted by name.
    async fn accounts(&self) -> Result<Vec<Account>>;

    /// What CSV rows could duplicate (`import::dedup::Wanted`), found in the backend's own index.
    async fn held(
        &self,
        _wanted: crate::import::dedup::Wanted,
    ) -> Result<Vec<crate::import::dedup::Held>> {
        Err(BackendError::Unsupported("importing CSV".into()))
    }

    /// Appends whole transactions (journal text, `count` of them) in one checked, atomic write: to the journal's
    /// import file when its profile names one, else to its main file.
    async fn append_entries(&self, _entries: String, _count: usize) -> Result<()> {
        Err(BackendError::Unsupported("importing CSV".into()))
    }

    async fn transactions(&self, query: &Query, page: PageRequest) -> Result<TxnPage>;

    /// Ids and amounts of a slice of the matching transactions, and the total match count: what selecting them
    /// needs. The default builds them from `transactions`; backends that can answer more cheaply override it.
    async fn transaction_refs(
        &self,
        query: &Query,
        page: PageRequest,
    ) -> Result<(Vec<(TxnId, Balance)>, usize)> {
        let p = self.transactions(query, page).await?;
        let refs = p
            .items
            .into_iter()
            .map(|t| {
                let amount = t.amount();
                (t.id, amount)
            })
            .collect();
        Ok((refs, p.total))
    }

    async fn transaction(&self, id: &TxnId) -> Result<Transaction>;

    /// What an edit can change about each of `ids`, in the same order; an id not found is an error. The default
    /// reads each transaction; backends with an index override it with one cheap call.
    async fn editable(&self, ids: &[TxnId]) -> Result<Vec<editable::Editable>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(editable::Editable::of(&self.transaction(id).await?));
        }
        Ok(out)
    }

    async fn update_transaction(&self, id: &TxnId, patch: &TxnPatch) -> Result<Transaction>;

    /// Adds a new transaction (a journal appends it to its main file, atomically, after checking it reads and
    /// balances). Returns what the backend read back.
    async fn add_transaction(&self, _txn: &NewTransaction) -> Result<Transaction> {
        Err(BackendError::Unsupported("adding transactions".into()))
    }

    /// Adds and removes tags on many transactions in one call, all or nothing.
    async fn bulk_tag(&self, ids: &[TxnId], add: &[Tag], remove: &[String]) -> Result<BulkResult>;

    /// Applies one patch (status, tags, note) to many transactions. Backends that can save a batch at once override
    /// this; the default edits one transaction at a time.
    async fn bulk_update(&self, ids: &[TxnId], patch: &TxnPatch) -> Result<BulkResult> {
        let mut result = BulkResult::default();
        for id in ids {
            let before = self.transaction(id).await?;
            let after = self.update_transaction(id, patch).await?;
            if before == after {
                result.unchanged += 1;
            } else {
                result.changed += 1;
            }
        }
        Ok(result)
    }

    /// Applies to each transaction a patch of its own, in one call: a journal saves once for all of them, which is
    /// what undo needs (each transaction gets back its own earlier state). The default groups equal patches and
    /// makes one `bulk_update` per group.
    async fn bulk_patch(&self, edits: &[(TxnId, TxnPatch)]) -> Result<BulkResult> {
        let mut groups: Vec<(&TxnPatch, Vec<TxnId>)> = Vec::new();
        for (id, patch) in edits {
            match groups.iter_mut().find(|(p, _)| *p == patch) {
                Some((_, ids)) => ids.push(id.clone()),
                None => groups.push((patch, vec![id.clone()])),
            }
        }
        let mut result = BulkResult::default();
        for (patch, ids) in groups {
            let r = self.bulk_update(&ids, patch).await?;
            result.changed += r.changed;
            result.unchanged += r.unchanged;
            result.renamed.extend(r.renamed);
        }
        Ok(result)
    }

    async fn tags(&self) -> Result<Vec<TagInfo>>;

    /// Category suggestions for the uncategorised matches of `query`, learned from every categorised transaction
    /// (`analytics::suggest`). The default lists both; the journal learns from its index.
    async fn suggestions(
        &self,
        query: &Query,
    ) -> Result<Vec<crate::analytics::suggest::Suggestion>> {
        let history = self.transactions(&Query::all(), PageRequest::all()).await?;
        let targets = self.transactions(query, PageRequest::all()).await?;
        Ok(crate::analytics::suggest::suggest(
            &history.items,
            &targets.items,
        ))
    }

    /// The categories a transaction can be given (completion for `c`): by default the income and expense accounts.
    async fn categories(&self) -> Result<Vec<String>> {
        Ok(self
            .accounts()
            .await?
            .into_iter()
            .filter(|a| a.kind.is_category())
            .map(|a| a.name)
            .collect())
    }

    async fn create_tag(&self, _name: &str) -> Result<TagInfo> {
        Err(BackendError::Unsupported("creating tags".into()))
    }

    async fn rename_tag(&self, _id: &str, _new_name: &str) -> Result<TagInfo> {
        Err(BackendError::Unsupported("renaming tags".into()))
    }

    async fn delete_tag(&self, _id: &str) -> Result<()> {
        Err(BackendError::Unsupported("deleting tags".into()))
    }

    /// Income, spending and net per period for the transactions matching `query`.
    async fn summary(&self, query: &Query, group_by: GroupBy) -> Result<Vec<PeriodSummary>>;

    /// Totals per category, tag, account or payee for the transactions matching `query`, largest first.
    async fn breakdown(&self, query: &Query, dimension: Dimension) -> Result<Vec<BreakdownRow>>;

    /// Recurring transactions found among those matching `query` (the last `HISTORY_YEARS` years of them), and
    /// each account's balance projected `months` months ahead from them. The default lists the transactions;
    /// in-memory ledgers override it to read their index directly.
    async fn projections(&self, query: &Query, months: u32) -> Result<Projections> {
        let txns = self.transactions(query, PageRequest::all()).await?.items;
        let samples = recent(
            txns.iter()
                .filter_map(|t| Sample::of(t, &t.amount()))
                .collect(),
        );
        let accounts = self.accounts().await?;
        Ok(projections_from(samples, &accounts, months))
    }

    async fn sources(&self) -> Result<Vec<Source>> {
        Ok(Vec::new())
    }

    async fn sync(&self, source: &str) -> Result<Source> {
        Err(BackendError::Unsupported(format!("syncing {source}")))
    }

    /// Syncs every source; says what happened in a line for the status bar.
    async fn sync_all(&self) -> Result<String> {
        let sources = self.sources().await?;
        if sources.is_empty() {
            return Ok("no sources to sync".into());
        }
        for s in &sources {
            self.sync(&s.id).await?;
        }
        Ok(format!("synced {} source(s)", sources.len()))
    }

    /// Re-reads the data if it changed underneath (file edited elsewhere); returns true when something changed.
    async fn reload(&self) -> Result<bool> {
        Ok(false)
    }

    /// What the backend is doing in the background (cheap: called several times a second).
    fn activity(&self) -> Activity {
        Activity::default()
    }

    /// Keeps `statement` as the account's last reconciled statement (a server's mirror; a journal has its assertion).
    async fn remember_statement(&self, _statement: &crate::reconcile::Statement) -> Result<()> {
        Ok(())
    }

    /// The account's last reconciled statement, if one is known.
    async fn last_statement(&self, _account: &str) -> Result<Option<crate::reconcile::Statement>> {
        Ok(None)
    }

    /// Waits until every edit made so far has reached its destination (a server behind an outbox); fails when some
    /// were refused, with the reason. Backends that write at once have nothing to wait for.
    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_and_aliases_parse_back() {
        use {Dimension as D, GroupBy as G, SortKey as S};
        for k in [S::Date, S::Amount, S::Payee, S::Status, S::Category] {
            assert_eq!(S::parse(k.name()), Some(k));
        }
        assert_eq!(
            (S::parse("description"), S::Payee.name()),
            (Some(S::Payee), "payee")
        );
        for (g, alias) in [
            (G::Day, "daily"),
            (G::Week, "weekly"),
            (G::Month, "monthly"),
            (G::Year, "yearly"),
        ] {
            assert_eq!((G::parse(g.name()), G::parse(alias)), (Some(g), Some(g)));
        }
        assert_eq!(G::Month.name(), "month");
        assert_eq!(
            (D::parse("source"), D::Account.name()),
            (Some(D::Account), "account")
        );
        assert_eq!(
            (D::parse("merchant"), D::Payee.name()),
            (Some(D::Payee), "payee")
        );
        assert_eq!((D::parse("tag"), D::parse("Tag")), (Some(D::Tag), None));
    }
}
