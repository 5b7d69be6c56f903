//! Reconcile mode (issue 14): `C` asks for the account (the one under the cursor, completed from the ledger's),
//! the statement's closing date and balance; tally lists that account's postings up to the date, uncleared first, and
//! `Space` ticks one cleared — nothing is written while ticking. The header shows the statement balance, the cleared
//! balance and the difference, live. While the difference is not zero tally looks for the smallest set of unticked
//! postings that makes it up (in the background: `reconcile::reconcile`, bounded), marks it, and `p` ticks it; with no
//! exact set it names the closest posting and a likely typo. `Enter` at a zero difference writes the ticked statuses
//! and the balance assertion in ONE save, undoable as one step (`reconcile::session::apply`); `Esc` leaves and writes
//! nothing.

use super::action::{Effect, Reply};
use super::import::page_height;
use super::state::{Mode, State};
use crate::domain::Money;
use crate::reconcile::session::Loaded;
use crate::reconcile::{AccountPosting, Reconciliation, Statement};
use crossterm::event::{Event, KeyCode, KeyEvent};
use std::collections::BTreeSet;
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

#[derive(Debug, Clone)]
pub struct ReconcileView {
    pub stage: Stage,
    /// Why the statement could not be read or the write was refused.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Stage {
    /// Account, statement date and balance.
    Statement(Box<StatementForm>),
    /// The account's postings are on their way.
    Loading(Statement),
    Ticking(Box<Ticking>),
    /// The one save is on its way.
    Saving(Box<Ticking>),
}

/// The statement's three fields, the focused one, and what the account field would complete to.
#[derive(Debug, Clone)]
pub struct StatementForm {
    pub fields: [Input; 3],
    pub focus: usize,
    pub completion: Option<String>,
    /// The account's last reconciled statement, as the backend remembers it.
    pub last: Option<Statement>,
}

pub const FIELDS: [&str; 3] = ["Account", "Statement date", "Statement balance"];

/// The postings, which are ticked, the search for the rest of the difference, and the cursor.
#[derive(Debug, Clone)]
pub struct Ticking {
    pub loaded: Loaded,
    /// Indices into `loaded.postings` of uncleared postings ticked cleared in this session.
    pub ticked: BTreeSet<usize>,
    /// The last search for what is still missing (for the current ticks when `generation` matches).
    pub found: Option<Reconciliation>,
    pub generation: u64,
    pub cursor: usize,
    pub scroll: usize,
}

impl Ticking {
    pub fn statement(&self) -> &Statement {
        &self.loaded.reconciliation.statement
    }

    fn uncleared(&self, i: usize) -> bool {
        self.loaded
            .postings
            .get(i)
            .is_some_and(|p| p.status != crate::domain::Status::Cleared)
    }

    /// The cleared balance with the ticked postings.
    pub fn cleared(&self) -> Money {
        let base = &self.loaded.reconciliation.cleared;
        let ticked: rust_decimal::Decimal = self
            .ticked
            .iter()
            .map(|&i| self.loaded.postings[i].amount.quantity)
            .sum();
        Money::new(base.quantity + ticked, base.commodity.clone())
    }

    pub fn difference(&self) -> Money {
        let s = &self.statement().balance;
        Money::new(s.quantity - self.cleared().quantity, s.commodity.clone())
    }

    /// The unticked uncleared postings (what a search may propose).
    fn open(&self) -> Vec<AccountPosting> {
        (0..self.loaded.postings.len())
            .filter(|i| self.uncleared(*i) && !self.ticked.contains(i))
            .map(|i| self.loaded.postings[i].clone())
            .collect()
    }

    /// Whether posting `i` is in the current proposal.
    pub fn proposed(&self, i: usize) -> bool {
        let p = &self.loaded.postings[i];
        self.found
            .as_ref()
            .is_some_and(|r| r.exact && r.proposal.iter().any(|q| q.id == p.id))
    }

    /// What `session::apply` writes: the ticked postings cleared, the rest outstanding.
    fn to_loaded(&self) -> Loaded {
        let mut loaded = self.loaded.clone();
        let r = &mut loaded.reconciliation;
        r.cleared = self.loaded.reconciliation.cleared.clone();
        r.difference = Money::new(
            rust_decimal::Decimal::ZERO,
            r.statement.balance.commodity.clone(),
        );
        r.proposal = self
            .ticked
            .iter()
            .map(|&i| self.loaded.postings[i].clone())
            .collect();
        r.exact = true;
        r.closest = None;
        r.typo = None;
        r.outstanding = self.open();
        loaded
    }

    fn move_by(&mut self, delta: isize, height: usize) {
        let len = self.loaded.postings.len();
        super::import::move_in_list((&mut self.cursor, &mut self.scroll), delta, len, height);
    }
}

/// `C`: the statement form, the account under the cursor filled in (and its last statement asked for).
pub fn open(state: &mut State, fx: &mut Vec<Effect>) {
    if !state.data.capabilities.edit_status {
        state.set_status("reconcile: this source cannot mark transactions cleared");
        return;
    }
    let account = match state.screen.focus {
        crate::layout::Pane::Accounts => state
            .data
            .tree
            .get(state.screen.account_cursor)
            .map(|r| r.name.clone()),
        _ => state.current().and_then(|t| {
            t.postings
                .iter()
                .find(|p| p.account_kind().is_real())
                .map(|p| p.account.clone())
        }),
    };
    if let Some(a) = &account {
        fx.push(Effect::LastStatement(a.clone()));
    }
    let form = StatementForm {
        last: None,
        fields: [
            Input::new(account.unwrap_or_default()),
            Input::new(state.settings.today.to_string()),
            Input::default(),
        ],
        focus: 2,
        completion: None,
    };
    state.screen.mode = Mode::Reconcile(ReconcileView {
        stage: Stage::Statement(Box::new(form)),
        error: None,
    });
}

/// A key in reconcile mode.
pub fn key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let height = page_height(state);
    let accounts = state.data.account_names();
    let Mode::Reconcile(view) = &mut state.screen.mode else {
        return;
    };
    match &mut view.stage {
        Stage::Statement(form) => {
            if key.code == KeyCode::Esc {
                state.screen.mode = Mode::Normal;
                return;
            }
            match form_key(form, key, &accounts) {
                Ok(Some(statement)) => {
                    view.error = None;
                    view.stage = Stage::Loading(statement.clone());
                    fx.push(Effect::LoadReconcile(statement));
                }
                Ok(None) => view.error = None,
                Err(why) => view.error = Some(why),
            }
        }
        Stage::Loading(_) | Stage::Saving(_) => {
            if key.code == KeyCode::Esc && matches!(view.stage, Stage::Loading(_)) {
                state.screen.mode = Mode::Normal;
            }
        }
        Stage::Ticking(t) => match tick_key(t, key, height, fx) {
            Tick::Stay => {}
            Tick::Leave => {
                state.screen.mode = Mode::Normal;
                state.set_status("reconcile: left without writing");
            }
            Tick::Finish => {
                let t = t.clone();
                fx.push(Effect::FinishReconcile(Box::new(t.to_loaded())));
                view.error = None;
                view.stage = Stage::Saving(t);
            }
            Tick::Refuse(why) => view.error = Some(why),
        },
    }
}

/// The form's keys: `Tab` completes the account or moves on, `↑`/`↓` move, `Enter` reads the statement.
fn form_key(
    form: &mut StatementForm,
    key: KeyEvent,
    accounts: &[String],
) -> Result<Option<Statement>, String> {
    match key.code {
        KeyCode::Tab => match form.completion.take() {
            Some(c) if form.focus == 0 => form.fields[0] = Input::new(c),
            _ => form.focus = (form.focus + 1) % 3,
        },
        KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + 2) % 3,
        KeyCode::Down => form.focus = (form.focus + 1) % 3,
        KeyCode::Enter => {
            let account = form.fields[0].value().trim().to_string();
            if account.is_empty() {
                form.focus = 0;
                return Err("which account? (Tab completes)".into());
            }
            let date = crate::reconcile::parse::date(form.fields[1].value())
                .inspect_err(|_| form.focus = 1)?;
            let balance = crate::reconcile::parse::amount(form.fields[2].value())
                .inspect_err(|_| form.focus = 2)?;
            return Ok(Some(Statement {
                account,
                date,
                balance,
            }));
        }
        _ => {
            if let Some(req) = to_input_request(&Event::Key(key)) {
                form.fields[form.focus].handle(req);
            }
        }
    }
    form.completion = None;
    if form.focus == 0 {
        let typed = form.fields[0].value().trim().to_lowercase();
        form.completion = (!typed.is_empty())
            .then(|| {
                accounts
                    .iter()
                    .find(|a| a.to_lowercase().starts_with(&typed))
                    .or_else(|| accounts.iter().find(|a| a.to_lowercase().contains(&typed)))
            })
            .flatten()
            .filter(|a| a.to_lowercase() != typed)
            .cloned();
    }
    Ok(None)
}

enum Tick {
    Stay,
    Leave,
    Finish,
    Refuse(String),
}

fn tick_key(t: &mut Ticking, key: KeyEvent, height: usize, fx: &mut Vec<Effect>) -> Tick {
    let page = isize::try_from(height).unwrap_or(1);
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => return Tick::Leave,
        KeyCode::Down | KeyCode::Char('j') => t.move_by(1, height),
        KeyCode::Up | KeyCode::Char('k') => t.move_by(-1, height),
        KeyCode::PageDown => t.move_by(page, height),
        KeyCode::PageUp => t.move_by(-page, height),
        KeyCode::Home | KeyCode::Char('g') => t.move_by(isize::MIN / 2, height),
        KeyCode::End | KeyCode::Char('G') => t.move_by(isize::MAX / 2, height),
        KeyCode::Char(' ') => {
            if !t.uncleared(t.cursor) {
                return Tick::Refuse("already cleared before this reconciliation".into());
            }
            if !t.ticked.remove(&t.cursor) {
                t.ticked.insert(t.cursor);
            }
            t.move_by(1, height);
            search(t, fx);
        }
        KeyCode::Char('p') => {
            let Some(r) = t
                .found
                .as_ref()
                .filter(|r| r.exact && !r.proposal.is_empty())
            else {
                return Tick::Refuse("no set of open postings makes up the difference".into());
            };
            let ids: Vec<&crate::domain::TxnId> = r.proposal.iter().map(|p| &p.id).collect();
            let picked: Vec<usize> = (0..t.loaded.postings.len())
                .filter(|&i| t.uncleared(i) && ids.contains(&&t.loaded.postings[i].id))
                .collect();
            t.ticked.extend(picked);
            search(t, fx);
        }
        KeyCode::Enter => {
            let d = t.difference();
            if !d.quantity.is_zero() {
                return Tick::Refuse(format!(
                    "the difference is {d}: it must be zero to finish (Esc leaves, writing nothing)"
                ));
            }
            // Nothing ticked at a zero difference still asserts the balance.
            return Tick::Finish;
        }
        _ => {}
    }
    Tick::Stay
}

/// The ticks changed: look for what is still missing, unless nothing is.
fn search(t: &mut Ticking, fx: &mut Vec<Effect>) {
    t.generation += 1;
    t.found = None;
    if t.difference().quantity.is_zero() {
        return;
    }
    fx.push(Effect::FindDifference {
        generation: t.generation,
        statement: t.statement().clone(),
        cleared: t.cleared(),
        open: t.open(),
    });
}

/// The account's postings arrived: ticking starts, with the first search's answer already in.
pub fn on_loaded(state: &mut State, reply: Reply<Box<Loaded>>) {
    let Mode::Reconcile(view) = &mut state.screen.mode else {
        return;
    };
    let Stage::Loading(statement) = &view.stage else {
        return;
    };
    match reply {
        Ok(loaded) => {
            let found = Some(loaded.reconciliation.clone());
            view.stage = Stage::Ticking(Box::new(Ticking {
                loaded: *loaded,
                ticked: BTreeSet::new(),
                found,
                generation: 0,
                cursor: 0,
                scroll: 0,
            }));
        }
        Err(e) => {
            let s = statement.clone();
            view.stage = Stage::Statement(Box::new(StatementForm {
                fields: [
                    Input::new(s.account),
                    Input::new(s.date.to_string()),
                    Input::new(s.balance.to_string()),
                ],
                focus: 0,
                completion: None,
                last: None,
            }));
            view.error = Some(e);
        }
    }
}

/// The account's last reconciled statement, for the form.
pub fn on_last(state: &mut State, account: &str, reply: Reply<Option<Statement>>) {
    if let Mode::Reconcile(view) = &mut state.screen.mode
        && let Stage::Statement(form) = &mut view.stage
        && form.fields[0].value().trim() == account
    {
        match reply {
            Ok(last) => form.last = last,
            Err(e) => tracing::warn!("last statement: {e}"),
        }
    }
}

/// A search's answer, for the ticks it was asked for.
pub fn on_found(state: &mut State, generation: u64, reply: Reply<Box<Reconciliation>>) {
    if let Mode::Reconcile(view) = &mut state.screen.mode
        && let Stage::Ticking(t) = &mut view.stage
        && t.generation == generation
    {
        match reply {
            Ok(r) => t.found = Some(*r),
            Err(e) => view.error = Some(e),
        }
    }
}

/// What a finished reconciliation says, with its one undo entry.
pub fn written(
    done: crate::reconcile::session::Applied,
) -> Result<(crate::ops::UndoEntry, String), String> {
    let entry = done
        .applied
        .entries
        .into_iter()
        .next()
        .filter(|e| !e.forward.is_empty())
        .ok_or_else(|| "nothing to write: the file already says all this".to_string())?;
    let message = match &done.assertion {
        Ok(at) => format!("{} at {}", entry.label, at.location),
        Err(why) => format!("{}; no balance assertion: {why}", entry.label),
    };
    Ok((entry, message))
}

/// The save is done (one undo entry) or refused (ticking goes on, with why).
pub fn on_reconciled(
    state: &mut State,
    reply: Reply<(crate::ops::UndoEntry, String)>,
    fx: &mut Vec<Effect>,
) {
    match reply {
        Ok((entry, message)) => {
            if matches!(state.screen.mode, Mode::Reconcile(_)) {
                state.screen.mode = Mode::Normal;
            }
            state.undo.push(entry);
            let undo = state
                .settings
                .keymap
                .key_text(crate::config::keymap::Command::Undo);
            state.set_status(format!("{message} ({undo} to undo)"));
            state.requests.last_write_tick = Some(state.requests.ticks);
            super::requests::refresh(state, fx);
        }
        Err(e) => {
            if let Mode::Reconcile(view) = &mut state.screen.mode
                && let Stage::Saving(t) = &view.stage
            {
                view.stage = Stage::Ticking(t.clone());
                view.error = Some(e);
            } else {
                state.set_error(format!("reconcile: {e}"));
            }
        }
    }
}
