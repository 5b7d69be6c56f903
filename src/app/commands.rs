//! One handler per dashboard command, and `run_command`, which dispatches a command to its handler. The commands
//! themselves — names, default keys, help and footer words — are the table in `config::keymap`; adding a command is
//! a row there and a handler here.

use super::action::{Effect, WriteKind};
use super::edits::{
    range_select, select_all, set_status, single_edit_prompt, targets, toggle_select, unavailable,
    update_completions,
};
use super::navigate::{
    change_depth, ensure_window, move_by, move_period, page_rows, scroll_into_view, set_group,
};
use super::requests::{fetch_analytics, requery};
use super::state::{Mode, Pane, Phase, Prompt, PromptKind, State};
use super::update::{filter_changed, undo_or_redo};
use crate::backend::{Dimension, GroupBy, SortKey};
use crate::config::keymap::Command;
use crate::domain::Status;

/// Runs `command`; false when it found nothing to do and changed nothing (only `Back` can).
pub(super) fn run_command(state: &mut State, command: Command, fx: &mut Vec<Effect>) -> bool {
    if state.phase != Phase::Ready && !matches!(command, Command::Quit | Command::Help) {
        state.set_status(match &state.phase {
            Phase::Loading => "still loading…".to_string(),
            Phase::Failed(_) => "the data source could not be opened; q quits".to_string(),
            Phase::Ready => String::new(),
        });
        return true;
    }
    match command {
        Command::Back => return back(state, fx),
        Command::Quit => quit(state, fx),
        Command::Help => state.screen.mode = Mode::Help,
        Command::MoveDown => move_by(state, 1, fx),
        Command::MoveUp => move_by(state, -1, fx),
        Command::PageDown => move_by(state, page_rows(state) as isize, fx),
        Command::PageUp => move_by(state, -(page_rows(state) as isize), fx),
        Command::Top => move_by(state, isize::MIN / 2, fx),
        Command::Bottom => move_by(state, isize::MAX / 2, fx),
        Command::NextPane => cycle_pane(state, 1, fx),
        Command::PrevPane => cycle_pane(state, -1, fx),
        Command::OpenDetail => open_detail(state, fx),
        Command::Filter => state.screen.mode = Mode::Filter,
        Command::ToggleSelect => toggle_select(state, fx),
        Command::RangeSelect => range_select(state, fx),
        Command::SelectAll => select_all(state, fx),
        Command::AddTag => tag_prompt(state, PromptKind::AddTag),
        Command::RemoveTag => tag_prompt(state, PromptKind::RemoveTag),
        Command::SetCategory | Command::SetNote => single_edit_prompt(state, command),
        Command::MarkReviewed => set_status(state, Status::Cleared, fx),
        Command::MarkPending => set_status(state, Status::Pending, fx),
        Command::ReviewQueue => review_queue(state, fx),
        Command::Undo => undo_or_redo(state, WriteKind::Undo, fx),
        Command::Redo => undo_or_redo(state, WriteKind::Redo, fx),
        Command::Sort => next_sort(state, fx),
        Command::ReverseSort => {
            state.screen.table.ascending = !state.screen.table.ascending;
            requery(state, fx);
        }
        Command::GroupDay => set_group(state, GroupBy::Day, fx),
        Command::GroupWeek => set_group(state, GroupBy::Week, fx),
        Command::GroupMonth => set_group(state, GroupBy::Month, fx),
        Command::GroupYear => set_group(state, GroupBy::Year, fx),
        Command::PrevPeriod => move_period(state, -1, fx),
        Command::NextPeriod => move_period(state, 1, fx),
        Command::NextDimension => next_dimension(state, fx),
        Command::Sync => sync(state, fx),
        Command::Archive => archive_prompt(state),
        Command::OpenEditor => open_editor(state, fx),
        Command::AddTransaction => add_form(state, fx),
        Command::Import => super::import::open(state, fx),
        Command::PromoteRule => super::import::promote(state, fx),
        Command::Reconcile => super::reconcile::open(state, fx),
        Command::AccountsShallower => change_depth(state, -1),
        Command::AccountsDeeper => change_depth(state, 1),
    }
    true
}

/// `q`: quits, or first saves what waits and lets writes in flight finish (pressed again, it quits at once).
fn quit(state: &mut State, fx: &mut Vec<Effect>) {
    if state.writes.pending > 0 && !state.quit_when_written {
        state.quit_when_written = true;
        // Edits waiting for company are written now.
        fx.push(Effect::FlushEdits);
        let key = state.settings.keymap.key_text(Command::Quit);
        state.set_status(format!(
            "finishing {} write(s) before quitting… ({key} again quits now)",
            state.writes.pending
        ));
    } else {
        state.quit = true;
    }
}

fn cycle_pane(state: &mut State, step: isize, fx: &mut Vec<Effect>) {
    state.screen.cycle_focus(step);
    scroll_into_view(state);
    ensure_window(state, fx);
}

/// `Enter`: the detail of the row; on an account or a highlighted period, the table filtered by it.
fn open_detail(state: &mut State, fx: &mut Vec<Effect>) {
    let text = match state.screen.focus {
        Pane::Transactions => {
            state.screen.focus = Pane::Detail;
            return;
        }
        Pane::Detail => {
            state.screen.focus = Pane::Transactions;
            return;
        }
        Pane::Accounts => {
            let Some(row) = state.data.tree.get(state.screen.account_cursor) else {
                return;
            };
            // This account and its subaccounts, as its total on the tree: the table becomes their register.
            let pattern = row.pattern();
            if pattern.contains(char::is_whitespace) {
                format!("acct:\"{pattern}\"")
            } else {
                format!("acct:{pattern}")
            }
        }
        Pane::Analytics => {
            // Drill down: the table shows the highlighted period.
            let Some(p) = state
                .analytics
                .period
                .and_then(|p| state.analytics.periods.get(p))
            else {
                return;
            };
            let end = state.analytics.group_by.period_end(p.start);
            let current = state.filter.input.value().trim();
            let term = format!("date:{}..{end}", p.start);
            if current.is_empty() {
                term
            } else {
                format!("{current} {term}")
            }
        }
    };
    state.filter.input = tui_input::Input::new(text);
    state.screen.focus = Pane::Transactions;
    filter_changed(state, fx);
}

fn tag_prompt(state: &mut State, kind: PromptKind) {
    if let Some(why) = unavailable(state, "edit_tags", "edit tags") {
        state.set_error(why);
        return;
    }
    let Some(targets) = targets(state) else {
        return;
    };
    // `T` offers the tags the chosen transactions carry, not every tag of the ledger.
    let carried = if kind == PromptKind::RemoveTag {
        let ids: std::collections::HashSet<&crate::domain::TxnId> = targets.iter().collect();
        let mut names: Vec<String> = state
            .txns
            .rows
            .iter()
            .filter(|t| ids.contains(&t.id))
            .flat_map(|t| {
                t.tags
                    .iter()
                    .chain(t.postings.iter().flat_map(|p| p.tags.iter()))
            })
            .map(|tag| tag.name.clone())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    } else {
        Vec::new()
    };
    let mut prompt = Prompt {
        kind,
        input: tui_input::Input::default(),
        targets,
        completions: Vec::new(),
        carried,
        split: Vec::new(),
        rule: None,
    };
    update_completions(&mut prompt, &state.data.tags, &state.data.categories);
    state.screen.mode = Mode::Prompt(prompt);
}

fn review_queue(state: &mut State, fx: &mut Vec<Effect>) {
    state.filter.review = !state.filter.review;
    let what = state
        .data
        .capabilities
        .reason("review_queue")
        .unwrap_or("unmarked or pending, uncategorised, or tagged review")
        .to_string();
    state.set_status(if state.filter.review {
        format!("review queue: {what} (R to leave)")
    } else {
        "review queue off".to_string()
    });
    requery(state, fx);
}

fn next_sort(state: &mut State, fx: &mut Vec<Effect>) {
    let order = [
        SortKey::Date,
        SortKey::Amount,
        SortKey::Payee,
        SortKey::Status,
        SortKey::Category,
    ];
    let i = order
        .iter()
        .position(|k| *k == state.screen.table.sort)
        .unwrap_or(0);
    state.screen.table.sort = order[(i + 1) % order.len()];
    state.screen.table.ascending =
        !matches!(state.screen.table.sort, SortKey::Date | SortKey::Amount);
    state.set_status(format!("sorted by {}", state.screen.table.sort.name()));
    requery(state, fx);
}

fn next_dimension(state: &mut State, fx: &mut Vec<Effect>) {
    state.analytics.dimension = match state.analytics.dimension {
        Dimension::Category => Dimension::Tag,
        Dimension::Tag => Dimension::Payee,
        Dimension::Payee => Dimension::Account,
        Dimension::Account => Dimension::Category,
    };
    fetch_analytics(state, fx);
}

fn sync(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(why) = unavailable(state, "sync", "sync") {
        state.set_error(why);
        return;
    }
    // On the accounts pane: that account (a bank connection to sync); elsewhere: everything.
    let source = (state.screen.focus == Pane::Accounts)
        .then(|| state.data.tree.get(state.screen.account_cursor))
        .flatten()
        .and_then(|node| {
            state
                .data
                .accounts
                .iter()
                .find(|a| a.account.name == node.name)
        })
        .map(|row| row.account.id.clone())
        .filter(|id| !id.is_empty());
    state.set_status("syncing…");
    fx.push(Effect::Sync { source });
}

/// `a`: in the review queue, takes the suggested categories of the selection (else the row) when there are some —
/// one edit per category, saved together; otherwise the add-transaction form, when the backend can add.
fn add_form(state: &mut State, fx: &mut Vec<Effect>) {
    if state.filter.review && accept_suggestions(state, fx) {
        return;
    }
    if !state.data.capabilities.can_add() {
        let label = state.data.capabilities.label.clone();
        let why = state.data.capabilities.reason("edit_notes").map_or_else(
            || format!("{label} cannot add transactions"),
            str::to_string,
        );
        state.set_error(format!("cannot add: {why}"));
        return;
    }
    state.screen.mode = Mode::Form(super::form::AddForm::new(state.settings.today));
    fx.push(Effect::FetchPayees);
}

/// Accepts the suggestions for the targets; false when none of them has one.
fn accept_suggestions(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    let ids: Vec<crate::domain::TxnId> = if state.screen.selection.ids.is_empty() {
        state.current().map(|t| t.id.clone()).into_iter().collect()
    } else {
        state.screen.selection.ids.iter().cloned().collect()
    };
    let edits = crate::ops::categorise(ids.iter().filter_map(|id| state.data.suggestions.get(id)));
    if edits.is_empty() || unavailable(state, "edit_category", "edit categories").is_some() {
        return false;
    }
    let n: usize = edits.iter().map(|e| e.ids.len()).sum();
    for edit in edits {
        for id in edit.ids.iter() {
            state.data.suggestions.remove(id);
        }
        super::edits::push_edit(state, edit.ids, edit.change, fx);
    }
    state.set_status(format!(
        "{n} suggested categor{} taken",
        if n == 1 { "y" } else { "ies" }
    ));
    true
}

/// `E`: the journal file of the row under the cursor in `$VISUAL`/`$EDITOR`, at the row's line; tally reloads when
/// the editor exits. Rows from a server have no file.
fn open_editor(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(t) = state.current() else {
        state.set_status("no transaction under the cursor");
        return;
    };
    let place = t
        .source
        .rsplit_once(':')
        .and_then(|(path, line)| Some((path, line.parse::<u32>().ok()?)));
    match place {
        Some((path, line)) if state.data.capabilities.watch => {
            fx.push(Effect::OpenEditor {
                path: path.into(),
                line,
            });
        }
        _ => {
            let label = state.data.capabilities.label.clone();
            state.set_error(format!("cannot open an editor: {label} is not a file"));
        }
    }
}

fn archive_prompt(state: &mut State) {
    if let Some(why) = unavailable(state, "archive", "archive") {
        state.set_error(why);
        return;
    }
    let Some(targets) = targets(state) else {
        return;
    };
    state.screen.mode = Mode::Prompt(Prompt {
        carried: Vec::new(),
        split: Vec::new(),
        rule: None,
        kind: PromptKind::ConfirmArchive,
        input: tui_input::Input::default(),
        targets,
        completions: Vec::new(),
    });
}

/// `Esc`: closes the innermost thing open — the detail, a selection being collected, the selection, the filter.
/// False when nothing was open.
fn back(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    if state.screen.focus == Pane::Detail {
        state.screen.focus = Pane::Transactions;
    } else if state.screen.selection.collecting.is_some() {
        state.requests.next_collect();
        state.screen.selection.collecting = None;
        state.set_status("selection stopped");
    } else if !state.screen.selection.ids.is_empty() {
        let n = state.screen.selection.clear();
        state.set_status(format!("{n} unselected"));
    } else if state.filter.is_active() {
        state.filter.clear();
        requery(state, fx);
    } else {
        return false;
    }
    true
}
