//! The messages of the dashboard's update loop. An `Action` is something that happened (a key, a resize, a tick, a
//! backend reply); an `Effect` is something `update` wants done outside (a backend call). Both are plain data, so
//! `update` can be tested by feeding actions and looking at the effects. Backend errors travel as strings: they are
//! shown, never matched on. Every reply carries the generation of its request so stale replies can be dropped.

use super::state::AccountRow;
use super::undo::UndoEntry;
use crate::backend::{
    BreakdownRow, Capabilities, Dimension, GroupBy, PageRequest, PeriodSummary, TagInfo, TxnPage,
};
use crate::domain::{Balance, TxnId};
use crate::query::Query;
use crossterm::event::KeyEvent;
use std::sync::Arc;

/// What the backend said when it opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub capabilities: Capabilities,
    /// Number of problems found while loading (unparsed journal lines).
    pub diagnostics: usize,
    pub first_diagnostic: Option<String>,
}

/// Whether a write is a new edit, an undo or a redo: it decides which stack the entry goes to afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    New,
    Undo,
    Redo,
}

pub type Reply<T> = Result<T, String>;

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    /// A timer tick (a few per second): spinners and the live-reload check.
    Tick,
    Opened(Reply<Opened>),
    Page {
        generation: u64,
        offset: usize,
        reply: Reply<TxnPage>,
    },
    Analytics {
        generation: u64,
        reply: Reply<(Vec<PeriodSummary>, Vec<BreakdownRow>)>,
    },
    Accounts {
        generation: u64,
        reply: Reply<Vec<AccountRow>>,
    },
    ReviewCount {
        generation: u64,
        reply: Reply<usize>,
    },
    Tags(Reply<Vec<TagInfo>>),
    Categories(Reply<Vec<String>>),
    /// Recurring transactions and projected balances.
    Projections(Reply<crate::analytics::recurring::Projections>),
    /// What the backend does in the background, when it changed.
    Activity(crate::backend::Activity),
    /// One batch of ids for a "select all" or range selection, with each transaction's amount.
    Collected {
        generation: u64,
        items: Vec<(TxnId, Balance)>,
        total: usize,
        done: bool,
        reply: Reply<()>,
    },
    WriteProgress {
        label: String,
        done: usize,
        total: usize,
    },
    /// A write ended: the edits it carried (their sequence numbers; an undo or redo carries its own), and an undo
    /// entry per edit (one for an undo or redo).
    WriteDone {
        kind: WriteKind,
        seqs: Vec<u64>,
        reply: Reply<Vec<UndoEntry>>,
        /// Transactions whose id changed with the write (old, new); reported even when the write failed midway.
        renamed: Vec<(TxnId, TxnId)>,
    },
    Reloaded(Reply<bool>),
    Synced(Reply<String>),
    /// The editor `E` opened has exited (or could not start: the reason).
    EditorClosed(Reply<()>),
    Payees(Reply<Vec<String>>),
    Suggestions(Reply<Vec<crate::analytics::suggest::Suggestion>>),
    /// The backend's answer to adding a transaction: what it read back.
    /// Paths `typed` could complete to.
    Paths {
        typed: String,
        paths: Vec<String>,
    },
    /// The import's plan, or why the CSV could not be read.
    ImportPlanned(Reply<crate::import::Plan>),
    /// The import's one append is done.
    Imported(Reply<crate::import::Applied>),
    /// A rule was appended (what to say), or why not.
    RuleAppended(Reply<String>),
    /// The account's last reconciled statement, if one is known.
    LastStatement {
        account: String,
        reply: Reply<Option<crate::reconcile::Statement>>,
    },
    /// The account's postings against the statement.
    ReconcileLoaded(Reply<Box<crate::reconcile::session::Loaded>>),
    /// A search for the rest of the difference, for the ticks of `generation`.
    DifferenceFound {
        generation: u64,
        reply: Reply<Box<crate::reconcile::Reconciliation>>,
    },
    /// The reconciliation was written: its undo entry and what to say.
    Reconciled(Reply<(crate::ops::UndoEntry, String)>),
    Added(Reply<crate::domain::Transaction>),
}

/// Which running request a new one replaces (the runner aborts the old task of the same slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Page,
    Payees,
    Suggestions,
    Analytics,
    Accounts,
    Review,
    Tags,
    Categories,
    Projections,
    Collect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    FetchPage {
        generation: u64,
        query: Query,
        page: PageRequest,
    },
    FetchAnalytics {
        generation: u64,
        query: Query,
        group_by: GroupBy,
        /// The query for the breakdown: `query` limited to the highlighted period.
        breakdown_query: Query,
        dimension: Dimension,
    },
    FetchAccounts {
        generation: u64,
    },
    FetchReviewCount {
        generation: u64,
    },
    FetchTags,
    FetchCategories,
    FetchProjections,
    /// Ask the backend what it does in the background (cheap; every tick).
    PollActivity,
    /// Collect ids (and amounts) of matches `offset .. offset+limit` in pages.
    Collect {
        generation: u64,
        query: Query,
        page: PageRequest,
    },
    /// An edit for the operations layer. Edits that come in quick succession are written together, in one save.
    Edit {
        seq: u64,
        edit: crate::ops::Edit,
    },
    /// Undo (`Undo`) or redo (`Redo`) an entry: one write, after the edits asked for before it.
    Revert {
        seq: u64,
        kind: WriteKind,
        entry: UndoEntry,
    },
    /// Write the edits waiting for more company now (quitting, or an undo is waiting for them).
    FlushEdits,
    Reload,
    /// Sync one source (the account under the cursor), or all of them.
    Sync {
        source: Option<String>,
    },
    /// Archive transactions on the server (confirmed first; cannot be undone).
    Archive {
        seq: u64,
        ids: Arc<Vec<TxnId>>,
    },
    /// Payees for completing a new transaction's description.
    FetchPayees,
    /// Category suggestions for the uncategorised rows of the review queue (`query`).
    FetchSuggestions(Query),
    /// Add a transaction (the form's `Enter`).
    AddTransaction(crate::backend::NewTransaction),
    /// List the paths that what is typed could complete to (the import's file prompt).
    CompletePath(String),
    /// Read CSV files with their rules and set each row against the ledger (`import::plan`).
    PlanImport(super::import::ImportRequest),
    /// Append the accepted rows in one write (`import::apply`).
    ApplyImport(crate::import::Plan),
    /// The account's last reconciled statement (`Backend::last_statement`).
    LastStatement(String),
    /// Read an account against a statement (`reconcile::session::load`).
    LoadReconcile(crate::reconcile::Statement),
    /// Look for the postings that make up what is still missing (`reconcile::reconcile`, bounded).
    FindDifference {
        generation: u64,
        statement: crate::reconcile::Statement,
        cleared: crate::domain::Money,
        open: Vec<crate::reconcile::AccountPosting>,
    },
    /// Write the ticked statuses and the balance assertion in one save (`reconcile::session::apply`).
    FinishReconcile(Box<crate::reconcile::session::Loaded>),
    /// Append a rule to a rules file (`import::promote::append`).
    AppendRule {
        path: std::path::PathBuf,
        rule: crate::import::promote::Rule,
    },
    /// Hand the terminal to `$VISUAL`/`$EDITOR` on `path` at `line`; the terminal loop does it (it owns the
    /// terminal) and answers `EditorClosed`.
    OpenEditor {
        path: std::path::PathBuf,
        line: u32,
    },
}
