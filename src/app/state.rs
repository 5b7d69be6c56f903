//! Everything the dashboard knows, as plain data that `update` changes and `ui::draw` reads. Domain data that came
//! from the backend (a window of transactions, accounts, summaries) is kept apart from view state (cursor, scroll,
//! focus, popups). The transaction table is virtualised: only `TxnWindow` — a few hundred rows around the viewport —
//! is held, never the whole match; the match count and sum come from the backend with each page.

use super::undo::UndoStack;
use crate::backend::{
    BreakdownRow, Capabilities, Dimension, GroupBy, PeriodSummary, SortKey, TagInfo,
};
use crate::config::keymap::Keymap;
use crate::config::{Config, ThemeName, View};
use crate::domain::{Account, Balance, Transaction, TxnId};
use crate::query::{Query, QueryError};
use chrono::NaiveDate;
use std::collections::HashSet;
use std::sync::Arc;
use tui_input::Input;

/// Rows fetched per page of the transaction table.
pub const PAGE_ROWS: usize = 200;
/// Most rows the table keeps loaded (pages that join up are merged, then trimmed around the viewport).
pub const MAX_WINDOW: usize = 4 * PAGE_ROWS;
/// How many periods the analytics pane asks for and shows at most.
pub const MAX_PERIODS: usize = 36;
/// How many months of history each account sparkline covers.
pub const SPARK_MONTHS: usize = 12;
/// How many months ahead the accounts pane projects each balance.
pub const PROJECTION_MONTHS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the backend to open; `ticks` drives the spinner.
    Loading,
    Ready,
    /// The backend could not be opened; the message says why.
    Failed(String),
}

pub use crate::layout::Pane;

/// What a text prompt edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    AddTag,
    RemoveTag,
    Category,
    /// A split: which of its category postings `c` changes — answered with a digit.
    PickSplit,
    Note,
    /// "Archive these on the server?" — answered with one key.
    ConfirmArchive,
    /// Which rules file the row's rule goes to (`P`, promote to rule).
    RuleFile,
}

impl PromptKind {
    pub fn title(self) -> &'static str {
        match self {
            PromptKind::AddTag => "Add tags",
            PromptKind::RemoveTag => "Remove tags",
            PromptKind::Category => "Set category",
            PromptKind::PickSplit => "Which posting of the split",
            PromptKind::Note => "Set note",
            PromptKind::ConfirmArchive => "Archive on the server",
            PromptKind::RuleFile => "Promote to a CSV rule",
        }
    }
}

/// A popup with one line of text input, with completion from the backend's tags for tag prompts.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: Input,
    /// The transactions the edit applies to.
    pub targets: Arc<Vec<TxnId>>,
    /// Tag names that complete the word under the cursor, best first.
    pub completions: Vec<String>,
    /// Removing tags: the tag names the targets carry (of those loaded), the only ones offered; empty offers all.
    pub carried: Vec<String>,
    /// A split: its category postings' accounts (to pick from), then the one picked (the first of the list).
    pub split: Vec<String>,
    /// Promote to rule: the `if` block proposed for the row.
    pub rule: Option<crate::import::promote::Rule>,
}

#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    /// Typing in the filter bar.
    Filter,
    Prompt(Prompt),
    /// Adding a transaction (`a`).
    Form(super::form::AddForm),
    /// Importing bank CSV (`i`): the file prompt, then the preview.
    Import(super::import::ImportPreview),
    /// Reconciling an account with a statement (`C`).
    Reconcile(super::reconcile::ReconcileView),
    Help,
}

/// The filter bar: what is typed, the last query that parsed (whose result is on screen), and the parse error.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub input: Input,
    pub applied: Query,
    pub error: Option<QueryError>,
    /// Review queue on: `is:review` is added to the applied query.
    pub review: bool,
}

/// A contiguous slice of the matching transactions, `rows[i]` being match number `offset + i` in sort order.
#[derive(Debug, Clone, Default)]
pub struct TxnWindow {
    pub offset: usize,
    pub rows: Vec<Transaction>,
    /// Number of matches and their per-commodity sum; `None` until the first page for this query arrived.
    pub total: Option<usize>,
    pub sum: Balance,
    /// The offset of a page request in flight, to avoid asking twice.
    pub pending_offset: Option<usize>,
    /// The rows on screen belong to the previous query: the new one's first page has not arrived yet.
    pub awaiting_query: bool,
    /// The request in flight extends the window (its rows join the loaded ones) rather than replacing it.
    pub pending_extend: bool,
    /// An offset the backend answered with no rows although the match is longer: not asked again.
    pub short_at: Option<usize>,
    /// After a refresh the cursor stays on this transaction if it is still there (rows above it may have left
    /// the review queue).
    pub follow: Option<TxnId>,
    /// In a register (a query about accounts, by date): each loaded row's running balance of those accounts, in
    /// date order whichever way the table runs.
    pub balances: std::collections::HashMap<TxnId, Balance>,
}

impl TxnWindow {
    /// Notes the running balances of a register page: `before` is the accounts' sum over the matches listed before
    /// `items`, `sum` over all of them; `ascending` is the table's direction (by date).
    pub fn take_balances(
        &mut self,
        items: &[Transaction],
        focus: &[&crate::query::Pattern],
        (before, sum): (&Balance, &Balance),
        ascending: bool,
    ) {
        let mut seen = before.clone();
        for t in items {
            let mut amount = Balance::new();
            crate::query::amount_in(t, focus, &mut amount);
            let balance = if ascending {
                seen.merge(&amount);
                seen.clone()
            } else {
                // Newest first: this row's balance is everything but the rows above it.
                let mut b = sum.clone();
                b.merge(&negated(&seen));
                seen.merge(&amount);
                b
            };
            self.balances.insert(t.id.clone(), balance);
        }
    }

    pub fn get(&self, index: usize) -> Option<&Transaction> {
        index
            .checked_sub(self.offset)
            .and_then(|i| self.rows.get(i))
    }

    pub fn covers(&self, start: usize, end: usize) -> bool {
        start >= self.offset && end <= self.offset + self.rows.len()
    }

    /// One past the last loaded match.
    pub fn end(&self) -> usize {
        self.offset + self.rows.len()
    }

    /// Takes a page of rows starting at match `offset`: joins it to the loaded rows when `extend` is set and it
    /// touches them (servers may return shorter pages than asked), otherwise replaces them. The result is trimmed
    /// to `MAX_WINDOW` rows around match `keep`.
    pub fn take_page(&mut self, offset: usize, items: Vec<Transaction>, extend: bool, keep: usize) {
        let touches_end = offset == self.end();
        let touches_start = offset + items.len() == self.offset;
        if extend && !self.rows.is_empty() && touches_end {
            self.rows.extend(items);
        } else if extend && !self.rows.is_empty() && touches_start && !items.is_empty() {
            let mut rows = items;
            rows.append(&mut self.rows);
            self.rows = rows;
            self.offset = offset;
        } else {
            self.offset = offset;
            self.rows = items;
        }
        if self.rows.len() > MAX_WINDOW {
            let start = keep
                .saturating_sub(MAX_WINDOW / 2)
                .clamp(self.offset, self.end() - MAX_WINDOW);
            let skip = start - self.offset;
            self.rows.drain(..skip);
            self.rows.truncate(MAX_WINDOW);
            self.offset = start;
        }
    }
}

/// `b` with every amount's sign turned.
pub fn negated(b: &Balance) -> Balance {
    let mut out = Balance::new();
    for m in b.amounts() {
        out.add(-m.quantity, &m.commodity);
    }
    out
}

/// Scroll position and cursor of the transaction table (absolute match indices).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableView {
    pub cursor: usize,
    pub top: usize,
    pub sort: SortKey,
    pub ascending: bool,
}

impl TableView {
    /// Moves the cursor by `delta` rows within `total` matches.
    pub fn move_by(&mut self, delta: isize, total: usize) {
        if total > 0 {
            self.cursor = self.cursor.saturating_add_signed(delta).min(total - 1);
        }
    }

    /// Keeps the cursor on a match after the match shrank to `total`.
    pub fn clamp(&mut self, total: usize) {
        self.cursor = self.cursor.min(total.saturating_sub(1));
    }

    /// Scrolls so the cursor is among the `rows` visible rows, never past the end of `total` matches.
    pub fn scroll_into_view(&mut self, rows: usize, total: usize) {
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + rows {
            self.top = self.cursor + 1 - rows;
        }
        self.top = self.top.min(total.saturating_sub(rows));
    }

    /// Back to the first match (a new query or sort).
    pub fn home(&mut self) {
        self.cursor = 0;
        self.top = 0;
    }
}

/// The multi-selection for bulk edits: a set of ids (it may hold a million) and the running sum of their amounts.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub ids: HashSet<TxnId>,
    pub sum: Balance,
    /// The last toggled row, where a range selection starts.
    pub anchor: Option<usize>,
    /// A "select all matching" in progress: (ids so far, total expected).
    pub collecting: Option<(usize, usize)>,
}

impl Selection {
    /// Selects `id` or, when selected, unselects it; the sum follows.
    pub fn toggle(&mut self, id: TxnId, amount: &Balance) {
        if self.ids.remove(&id) {
            self.sum.merge(&negated(amount));
        } else {
            self.ids.insert(id);
            self.sum.merge(amount);
        }
    }

    /// Selects `id` if it is not yet.
    pub fn add(&mut self, id: TxnId, amount: &Balance) {
        if self.ids.insert(id) {
            self.sum.merge(amount);
        }
    }

    /// Unselects everything; returns how many were selected.
    pub fn clear(&mut self) -> usize {
        std::mem::take(self).ids.len()
    }
}

/// An account with its own balance and month-end balances for the sparkline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub account: Account,
    /// Month-end balances in the account's main commodity, oldest first; empty until computed.
    pub history: Vec<rust_decimal::Decimal>,
}

#[derive(Debug, Clone, Default)]
pub struct Analytics {
    pub group_by: GroupBy,
    pub dimension: Dimension,
    pub periods: Vec<PeriodSummary>,
    pub breakdown: Vec<BreakdownRow>,
    /// The highlighted period (index into `periods`); the breakdown covers only it. `None`: the whole filter.
    pub period: Option<usize>,
    pub loaded: bool,
}

impl Analytics {
    /// Groups by `group` over the whole filter (no period highlighted).
    pub fn set_group(&mut self, group: GroupBy) {
        self.group_by = group;
        self.period = None;
    }

    /// Highlights the period `delta` (±1) away: from none, back goes to the newest and forward stays at none;
    /// forward past the newest is none again. False when there are no periods.
    pub fn step_period(&mut self, delta: isize) -> bool {
        let n = self.periods.len();
        if n == 0 {
            return false;
        }
        self.period = match (self.period, delta < 0) {
            (None, true) => Some(n - 1),
            (None, false) => None,
            (Some(p), true) => Some(p.saturating_sub(1)),
            (Some(p), false) if p + 1 >= n => None,
            (Some(p), false) => Some(p + 1),
        };
        true
    }
}

/// Writes in flight and the progress of a slow one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes {
    /// Edits, undos and redos asked for and not yet answered by the backend.
    pub pending: usize,
    /// The sequence number the next write gets (its answer names it).
    pub next_seq: u64,
    /// Edits shown before they are saved: applied, in order, to the rows on screen and to every page that arrives
    /// until the write answers (confirmed or rolled back).
    pub optimistic: Vec<(u64, crate::ops::Edit)>,
    /// Undo presses waiting for edits still being saved (undo applies to the newest edit, once it is saved).
    pub undo_waiting: usize,
    /// (label, done, total) of the write that reported progress last.
    pub progress: Option<(String, usize, usize)>,
}

impl Writes {
    /// The next write's sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// An edit sent to be saved under `seq`: counted in flight and shown until its answer comes.
    pub fn start(&mut self, seq: u64, edit: crate::ops::Edit) {
        self.pending += 1;
        self.optimistic.push((seq, edit));
    }

    /// The write answered for edits `seqs`: they are no longer shown on top of what the backend says.
    pub fn forget(&mut self, seqs: &[u64]) {
        self.optimistic.retain(|(s, _)| !seqs.contains(s));
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub text: String,
    pub error: bool,
    /// The tick it was shown at: it goes after `STATUS_TICKS` (the last error stays in the status bar and help).
    pub since: u64,
}

/// How long a message stays in the footer: five seconds at four ticks a second.
pub const STATUS_TICKS: u64 = 20;

/// The generation each kind of request is at; a reply with another generation is stale and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generations {
    pub next: u64,
    pub table: u64,
    pub page: u64,
    pub analytics: u64,
    pub accounts: u64,
    pub review: u64,
    pub collect: u64,
}

impl Generations {
    pub fn bump(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

/// Settings the dashboard starts with (from the config file).
#[derive(Debug, Clone)]
pub struct StateOptions {
    pub source_label: String,
    pub today: NaiveDate,
    pub keymap: Keymap,
    pub no_color: bool,
}

/// What the dashboard was started with: the source's name, today, the date format, keys and colours. Set once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub source_label: String,
    pub today: NaiveDate,
    pub date_format: String,
    pub keymap: Keymap,
    pub theme: ThemeName,
    pub no_color: bool,
    /// What the terminal can show (`COLORTERM`, `TERM`).
    pub colors: crate::config::ColorDepth,
    /// Keep the selection after editing it (config `keep_selection`).
    pub keep_selection: bool,
}

/// The bookkeeping of requests and time: each request kind's generation (a reply to an older one is dropped), the
/// ticks, the live-reload check in flight, commands waiting for rows, and whether the background data was asked for.
#[derive(Debug, Clone, Default)]
pub struct Requests {
    pub gens: Generations,
    pub ticks: u64,
    pub reload_in_flight: bool,
    /// The tick at which our own last write finished: a reload right after it is our own change, not someone else's.
    pub last_write_tick: Option<u64>,
    /// Accounts, review count and tags were asked for (after the first page: the table comes first).
    pub background_requested: bool,
    /// Row commands typed while a new query was on its way, replayed when its first page arrives (so
    /// `/coffee Enter Space` selects the first coffee, not whatever row was there before).
    pub deferred: Vec<crate::config::keymap::Command>,
}

impl Requests {
    /// A new generation for the table's next page (a reply to an older one is dropped).
    pub fn next_page(&mut self) -> u64 {
        self.gens.page = self.gens.bump();
        self.gens.page
    }

    /// A new generation for analytics.
    pub fn next_analytics(&mut self) -> u64 {
        self.gens.analytics = self.gens.bump();
        self.gens.analytics
    }

    /// A new generation for the accounts pane.
    pub fn next_accounts(&mut self) -> u64 {
        self.gens.accounts = self.gens.bump();
        self.gens.accounts
    }

    /// A new generation for the review queue's count.
    pub fn next_review(&mut self) -> u64 {
        self.gens.review = self.gens.bump();
        self.gens.review
    }

    /// A new generation for collecting a selection; pages of an earlier collection are dropped, which is also how
    /// one is stopped.
    pub fn next_collect(&mut self) -> u64 {
        self.gens.collect = self.gens.bump();
        self.gens.collect
    }
}

/// What the backend said about itself and the ledger besides the table: what it can do, its problems, the accounts
/// (with sparkline histories), the review queue's size, tags and categories for completion, its background
/// activity, and the recurring transactions with projected balances.
#[derive(Debug, Clone)]
pub struct LedgerData {
    pub capabilities: Capabilities,
    /// Problems the backend reported while loading (journal syntax), shown as the first status message.
    pub diagnostics: usize,
    /// Every account with its own balance, as the backend lists them.
    pub accounts: Vec<AccountRow>,
    /// The accounts pane's rows: `accounts` as a tree with subaccount totals, down to `Screen::account_depth`.
    pub tree: Vec<super::tree::TreeRow>,
    pub review_count: Option<usize>,
    pub tags: Vec<TagInfo>,
    /// Categories a transaction can be given, for completion.
    pub categories: Vec<String>,
    /// Payees, most used first, for completing a new transaction's description.
    pub payees: Vec<String>,
    /// The rules file of the last CSV read (`i`): where promote to rule (`P`) offers to add.
    pub last_rules: Option<std::path::PathBuf>,
    /// Category suggestions for the review queue's uncategorised rows, by id.
    pub suggestions: std::collections::HashMap<TxnId, crate::analytics::suggest::Suggestion>,
    /// What the backend does in the background (a mirror's sync and outbox).
    pub activity: crate::backend::Activity,
    /// Recurring transactions found in the history and each account's projected balance.
    pub projections: crate::analytics::recurring::Projections,
}

impl LedgerData {
    /// Every account's name (completion, "new account" marks).
    pub fn account_names(&self) -> Vec<String> {
        self.accounts
            .iter()
            .map(|a| a.account.name.clone())
            .collect()
    }

    /// Takes the backend's accounts and rebuilds the tree `depth` levels deep.
    pub fn set_accounts(&mut self, rows: Vec<AccountRow>, depth: usize) {
        self.accounts = rows;
        self.tree = super::tree::account_tree(&self.accounts, depth);
    }

    /// Takes the backend's latest background activity and returns what is news in it, oldest first: a new note,
    /// a sync that failed or finished, edits newly refused (`retry_key` retries them).
    pub fn set_activity(
        &mut self,
        now: crate::backend::Activity,
        retry_key: &str,
    ) -> Vec<StatusMessage> {
        let was = std::mem::replace(&mut self.activity, now);
        let now = &self.activity;
        let mut news = Vec::new();
        let mut tell = |text: String, error: bool| {
            news.push(StatusMessage {
                text,
                error,
                since: 0,
            })
        };
        if let Some(note) = &now.note
            && was.note.as_ref() != Some(note)
        {
            tell(note.clone(), false);
        }
        if now.sync_error.is_some() && now.sync_error != was.sync_error {
            let e = now.sync_error.clone().unwrap_or_default();
            tell(format!("sync: {e}"), true);
        }
        if now.failed > was.failed
            && let Some(e) = &now.write_error
        {
            let n = now.failed;
            tell(
                format!("{n} edit(s) refused ({retry_key} retries): {e}"),
                true,
            );
        }
        if was.syncing.is_some() && now.syncing.is_none() && now.sync_error.is_none() {
            tell("synced with the server".into(), false);
        }
        news
    }
}

/// What is on screen and where the person is in it: the focused pane, the mode (normal, filter, prompt, help), the
/// table's cursor, scroll and sort, the selection, the accounts pane's cursor, and the terminal's size.
#[derive(Debug, Clone)]
pub struct Screen {
    pub focus: Pane,
    pub mode: Mode,
    pub table: TableView,
    pub selection: Selection,
    /// The accounts pane's cursor: an index into `LedgerData::tree`.
    pub account_cursor: usize,
    /// The detail pane's first line shown (a long transaction scrolls); back to 0 when the row changes.
    pub detail_scroll: usize,
    /// How many levels of the account tree show (`-`/`+`); deeper accounts fold into their parent's total.
    pub account_depth: usize,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
}

impl Screen {
    /// Moves the accounts pane's cursor by `delta` within `n` accounts (0 keeps it on one after they changed).
    pub fn move_account(&mut self, delta: isize, n: usize) {
        self.account_cursor = self
            .account_cursor
            .saturating_add_signed(delta)
            .min(n.saturating_sub(1));
    }

    /// Focuses the pane `step` places away in `Pane::ORDER`, wrapping around.
    pub fn cycle_focus(&mut self, step: isize) {
        let n = Pane::ORDER.len() as isize;
        let i = Pane::ORDER
            .iter()
            .position(|p| *p == self.focus)
            .unwrap_or(0) as isize;
        self.focus = Pane::ORDER[(i + step).rem_euclid(n) as usize];
    }
}

impl Filter {
    /// Whether anything narrows the table: typed text, the review queue, or a query error shown.
    pub fn is_active(&self) -> bool {
        !self.input.value().is_empty() || self.review || self.error.is_some()
    }

    /// Back to every transaction.
    pub fn clear(&mut self) {
        *self = Filter::default();
    }
}

/// Everything the dashboard knows: its settings, the data loaded from the backend, what is on screen (focus, mode,
/// filter, table, selection), the writes in flight and the request bookkeeping.
#[derive(Debug, Clone)]
pub struct State {
    pub settings: Settings,
    pub requests: Requests,
    pub phase: Phase,
    pub data: LedgerData,
    pub screen: Screen,
    pub filter: Filter,
    pub txns: TxnWindow,
    pub analytics: Analytics,
    pub undo: UndoStack,
    pub writes: Writes,
    pub status: Option<StatusMessage>,
    pub last_error: Option<String>,
    pub quit: bool,
    /// Quit was asked while writes were in flight: quit when they are done (a second quit does not wait).
    pub quit_when_written: bool,
    /// Something visible changed since the last draw: set by `update` only, taken by the loop that draws.
    changed: bool,
}

impl State {
    pub fn new(config: &Config, opts: StateOptions) -> State {
        let analytics = Analytics {
            group_by: config.default_group_by,
            ..Analytics::default()
        };
        let focus = match config.default_view {
            View::Accounts => Pane::Accounts,
            View::Analytics => Pane::Analytics,
            View::Transactions | View::Review => Pane::Transactions,
        };
        State {
            settings: Settings {
                source_label: opts.source_label.clone(),
                today: opts.today,
                date_format: config.date_format.clone(),
                keymap: opts.keymap,
                theme: config.theme,
                no_color: opts.no_color,
                colors: crate::config::color_depth(),
                keep_selection: config.keep_selection,
            },
            requests: Requests::default(),
            phase: Phase::Loading,
            data: LedgerData {
                capabilities: Capabilities::read_only(opts.source_label),
                diagnostics: 0,
                accounts: Vec::new(),
                tree: Vec::new(),
                review_count: None,
                tags: Vec::new(),
                categories: Vec::new(),
                payees: Vec::new(),
                last_rules: None,
                suggestions: Default::default(),
                activity: Default::default(),
                projections: Default::default(),
            },
            screen: Screen {
                focus,
                mode: Mode::Normal,
                table: TableView::default(),
                selection: Selection::default(),
                account_cursor: 0,
                account_depth: usize::MAX,
                detail_scroll: 0,
                size: (80, 24),
            },
            filter: Filter {
                review: config.default_view == View::Review,
                ..Filter::default()
            },
            txns: TxnWindow::default(),
            analytics,
            undo: UndoStack::default(),
            writes: Writes::default(),
            status: None,
            last_error: None,
            quit: false,
            quit_when_written: false,
            changed: true,
        }
    }

    /// The query whose result is on screen: the last good filter, plus `is:review` in the review queue.
    pub fn effective_query(&self) -> Query {
        if self.filter.review {
            let review = Query {
                terms: vec![crate::query::Term::IsReview],
                source: "is:review".into(),
            };
            self.filter.applied.and(&review)
        } else {
            self.filter.applied.clone()
        }
    }

    /// The transaction under the table cursor, if its page is loaded.
    pub fn current(&self) -> Option<&Transaction> {
        self.txns.get(self.screen.table.cursor)
    }

    pub fn total(&self) -> usize {
        self.txns.total.unwrap_or(0)
    }

    /// Rows the filter bar takes: one, or two when a query error is shown under the input.
    pub fn filter_rows(&self) -> u16 {
        if self.filter.error.is_some() { 2 } else { 1 }
    }

    /// Whether something visible changed since the last draw; the drawing loop takes it (it is false after).
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Marks the screen as needing a draw. Only `update` calls this.
    pub(super) fn mark_changed(&mut self) {
        self.changed = true;
    }

    pub fn set_status(&mut self, text: impl Into<String>) {
        self.status = Some(StatusMessage {
            text: text.into(),
            error: false,
            since: self.requests.ticks,
        });
    }

    /// Shows an error in the footer and keeps it (whole, in the help screen) until the next one; it also goes to the
    /// log.
    pub fn set_error(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::warn!("{text}");
        self.last_error = Some(text.clone());
        self.status = Some(StatusMessage {
            text,
            error: true,
            since: self.requests.ticks,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;

    fn rows(range: std::ops::Range<usize>) -> Vec<Transaction> {
        range
            .map(|i| Transaction {
                id: TxnId(i.to_string()),
                date: NaiveDate::MIN,
                status: Status::Unmarked,
                description: String::new(),
                payee: String::new(),
                note: String::new(),
                code: String::new(),
                tags: vec![],
                postings: vec![],
                category: None,
                source: String::new(),
                needs_review: None,
                read_only: false,
            })
            .collect()
    }

    #[test]
    fn pages_join_up_and_the_window_stays_bounded() {
        let mut w = TxnWindow::default();
        w.take_page(100, rows(100..300), false, 100);
        w.take_page(300, rows(300..500), true, 300);
        w.take_page(0, rows(0..100), true, 100);
        assert_eq!((w.offset, w.end()), (0, 500));
        assert_eq!(w.get(250).map(|t| t.id.0.as_str()), Some("250"));
        // Not touching: replaced.
        w.take_page(5_000, rows(5_000..5_200), true, 5_000);
        assert_eq!((w.offset, w.end()), (5_000, 5_200));
        // Growing past the bound keeps the rows around the viewport.
        for p in 1..6 {
            let o = 5_000 + p * PAGE_ROWS;
            w.take_page(o, rows(o..o + PAGE_ROWS), true, o);
        }
        assert_eq!(w.rows.len(), MAX_WINDOW);
        assert!(
            w.covers(6_000 - 50, 6_000 + 150),
            "{}..{}",
            w.offset,
            w.end()
        );
    }
}
