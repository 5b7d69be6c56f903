//! `update(&mut State, Action) -> Vec<Effect>`: the only place the dashboard's state changes. It is synchronous and
//! does no I/O: backend work is returned as `Effect`s and comes back later as `Action`s carrying the generation of
//! their request, so a reply to an older filter or page is recognised and dropped. Per keystroke it does O(visible)
//! work only — the backend filters, counts and sums. This file dispatches actions and keys; each command's handler
//! is in `commands`, selection and edits in `edits`, cursor and paging in `navigate`, the requests in `requests`.

use super::action::{Action, Effect, Opened, Reply, WriteKind};
use super::commands::run_command;
use super::edits::{self, complete_word, submit_prompt, update_completions};
use super::import;
use super::navigate::{clamp_cursor, ensure_window, scroll_into_view};
use super::reconcile;
use super::requests::{fetch_accounts, fetch_review_count, refresh, requery};
use super::state::{AccountRow, MAX_PERIODS, Mode, Phase, PromptKind, State};
use super::undo::UndoEntry;
use crate::backend::{BreakdownRow, PeriodSummary, TagInfo, TxnPage};
use crate::config::keymap::Command;
use crate::domain::{Balance, TxnId};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::HashMap;
use tui_input::backend::crossterm::to_input_request;

/// Ticks between two live-reload checks (the run loop ticks four times a second).
pub const RELOAD_EVERY_TICKS: u64 = 6;

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    // The one place that decides whether the screen must be drawn again: a key that did nothing, a tick while
    // nothing moves, or a reload check that found nothing change nothing visible.
    let visible = match action {
        Action::Key(key) => on_key(state, key, &mut fx),
        Action::Tick => on_tick(state, &mut fx),
        Action::Reloaded(Ok(false)) => {
            state.requests.reload_in_flight = false;
            false
        }
        other => {
            on_reply(state, other, &mut fx);
            true
        }
    };
    if visible {
        state.mark_changed();
    }
    fx
}

/// Everything but keys and ticks: pastes, resizes and the backend's answers, each of which changes the screen.
fn on_reply(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Key(_) | Action::Tick => {}
        Action::Paste(text) => on_paste(state, &text, fx),
        Action::Resize(w, h) => {
            state.screen.size = (w, h);
            scroll_into_view(state);
            ensure_window(state, fx);
        }
        Action::Opened(reply) => on_opened(state, reply, fx),
        Action::Page {
            generation,
            offset,
            reply,
        } => on_page(state, generation, offset, reply, fx),
        Action::Analytics { generation, reply } => on_analytics(state, generation, reply),
        Action::Accounts { generation, reply } => on_accounts(state, generation, reply),
        Action::ReviewCount { generation, reply } => {
            if generation == state.requests.gens.review {
                match reply {
                    Ok(n) => state.data.review_count = Some(n),
                    Err(e) => state.set_error(format!("review queue: {e}")),
                }
            }
        }
        Action::Tags(reply) => on_tags(state, reply),
        Action::Categories(reply) => match reply {
            Ok(c) => state.data.categories = c,
            Err(e) => state.set_error(format!("categories: {e}")),
        },
        Action::Activity(a) => on_activity(state, a),
        Action::Projections(reply) => match reply {
            Ok(p) => state.data.projections = p,
            Err(e) => tracing::warn!("projections: {e}"),
        },
        Action::Collected {
            generation,
            items,
            total,
            done,
            reply,
        } => on_collected(state, generation, items, (total, done), reply),
        Action::WriteProgress { label, done, total } => {
            state.writes.progress = Some((label, done, total));
        }
        Action::WriteDone {
            kind,
            seqs,
            reply,
            renamed,
        } => on_write_done(state, (kind, seqs, reply), renamed, fx),
        Action::Reloaded(reply) => {
            state.requests.reload_in_flight = false;
            match reply {
                Ok(true) => {
                    let ours = state
                        .requests
                        .last_write_tick
                        .is_some_and(|t| state.requests.ticks <= t + 2 * RELOAD_EVERY_TICKS);
                    if !ours {
                        state.set_status(if state.data.capabilities.watch {
                            "the data changed on disk: reloaded"
                        } else {
                            "new data from the server: reloaded"
                        });
                    }
                    refresh(state, fx);
                }
                Ok(false) => {}
                Err(e) => state.set_error(format!("reload: {e}")),
            }
        }
        Action::Suggestions(_) | Action::Payees(_) | Action::Added(_) | Action::EditorClosed(_) => {
            on_form_and_editor(state, action, fx)
        }
        Action::Paths { typed, paths } => import::on_paths(state, &typed, paths),
        Action::ImportPlanned(reply) => import::on_planned(state, reply),
        Action::Imported(reply) => import::on_imported(state, reply, fx),
        Action::ReconcileLoaded(reply) => reconcile::on_loaded(state, reply),
        Action::LastStatement { account, reply } => reconcile::on_last(state, &account, reply),
        Action::DifferenceFound { generation, reply } => {
            reconcile::on_found(state, generation, reply)
        }
        Action::Reconciled(reply) => reconcile::on_reconciled(state, reply, fx),
        Action::RuleAppended(reply) => match reply {
            Ok(message) => state.set_status(message),
            Err(e) => state.set_error(format!("promote to rule: {e}")),
        },
        Action::Synced(reply) => match reply {
            Ok(msg) => {
                state.set_status(msg);
                refresh(state, fx);
            }
            Err(e) => state.set_error(format!("sync: {e}")),
        },
    }
}

/// Replies about adding (payees, suggestions, the add itself) and the editor.
fn on_form_and_editor(state: &mut State, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Suggestions(reply) => match reply {
            Ok(list) => {
                state.data.suggestions = list.into_iter().map(|s| (s.id.clone(), s)).collect()
            }
            Err(e) => tracing::warn!("suggestions: {e}"),
        },
        Action::Payees(reply) => match reply {
            Ok(p) => state.data.payees = p,
            Err(e) => tracing::warn!("payees: {e}"),
        },
        Action::Added(reply) => on_added(state, reply, fx),
        Action::EditorClosed(reply) => match reply {
            Ok(()) => {
                // Whatever was changed in the editor shows now, not at the next reload check.
                state.set_status("back from the editor: reloading");
                state.requests.reload_in_flight = true;
                fx.push(Effect::Reload);
            }
            Err(e) => state.set_error(format!("editor: {e}")),
        },
        _ => {}
    }
}

/// What the backend does in the background changed: a sync's progress or end, edits sent or refused.
fn on_activity(state: &mut State, a: crate::backend::Activity) {
    let retry_key = state.settings.keymap.key_text(Command::Sync);
    for news in state.data.set_activity(a, &retry_key) {
        if news.error {
            state.set_error(news.text);
        } else {
            state.set_status(news.text);
        }
    }
}

/// A quarter second passed: polls the backend's activity, checks for a reload now and then. True while something
/// moves on screen (loading, writing, collecting a selection, a page on its way), so the spinner turns.
fn on_tick(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    state.requests.ticks += 1;
    // A message ages out (the footer's keys come back); a message's going is a change on screen.
    let aged = state
        .status
        .as_ref()
        .is_some_and(|m| state.requests.ticks >= m.since + super::state::STATUS_TICKS);
    if aged {
        state.status = None;
    }
    if state.phase == Phase::Ready {
        fx.push(Effect::PollActivity);
    }
    let busy = state.phase == Phase::Loading
        || state.writes.pending > 0
        || state.screen.selection.collecting.is_some()
        || state.txns.pending_offset.is_some();
    if state.phase == Phase::Ready
        && state.requests.ticks.is_multiple_of(RELOAD_EVERY_TICKS)
        && !state.requests.reload_in_flight
        && state.writes.pending == 0
    {
        state.requests.reload_in_flight = true;
        fx.push(Effect::Reload);
        // The first page failed (a server was down): try again now and then.
        if state.txns.total.is_none() && state.txns.pending_offset.is_none() {
            requery(state, fx);
        }
    }
    busy || aged
}

/// Why nothing can be edited, when nothing can (a read-only file, a server without edits).
fn read_only_reason(caps: &crate::backend::Capabilities) -> Option<String> {
    let all = ["edit_status", "edit_tags", "edit_category", "edit_notes"];
    if all.iter().any(|c| caps.has(c)) {
        return None;
    }
    Some(
        caps.reason("edit_tags")
            .unwrap_or("this source cannot be edited")
            .to_string(),
    )
}

fn on_opened(state: &mut State, reply: Reply<Opened>, fx: &mut Vec<Effect>) {
    match reply {
        Ok(opened) => {
            state.phase = Phase::Ready;
            state.settings.source_label = if opened.capabilities.label.is_empty() {
                state.settings.source_label.clone()
            } else {
                opened.capabilities.label.clone()
            };
            state.data.capabilities = opened.capabilities;
            state.data.diagnostics = opened.diagnostics;
            if let Some(first) = opened.first_diagnostic {
                state.set_error(format!(
                    "{} problem(s) while loading; first: {first}",
                    opened.diagnostics
                ));
            } else if let Some(why) = read_only_reason(&state.data.capabilities) {
                // Said at once, not at the first edit: the footer greys the edit keys, this says why.
                state.set_status(format!("read-only: {why}"));
            }
            requery(state, fx);
            // `tally import` on a terminal: the preview reads the CSV as soon as the ledger is there.
            if let Mode::Import(p) = &state.screen.mode
                && let import::Stage::Reading(request) = &p.stage
            {
                fx.push(Effect::PlanImport(request.clone()));
            }
        }
        Err(e) => {
            state.phase = Phase::Failed(e.clone());
            state.set_error(e);
        }
    }
}

fn on_page(
    state: &mut State,
    generation: u64,
    offset: usize,
    reply: Reply<TxnPage>,
    fx: &mut Vec<Effect>,
) {
    if generation != state.requests.gens.page {
        return;
    }
    state.txns.pending_offset = None;
    let was_awaiting = std::mem::replace(&mut state.txns.awaiting_query, false);
    match reply {
        Ok(page) => {
            if page.items.is_empty() && offset < page.total {
                state.txns.short_at = Some(offset);
            }
            let extend = std::mem::take(&mut state.txns.pending_extend) && !was_awaiting;
            let keep = state.screen.table.top;
            let mut items = page.items;
            // Edits not yet saved show on every page that arrives before their write answers.
            edits::show_pending(state, &mut items);
            if !extend {
                state.txns.balances.clear();
            }
            if let Some(before) = &page.before
                && state.screen.table.sort == crate::backend::SortKey::Date
            {
                let query = state.effective_query();
                let focus = query.account_focus();
                let ascending = state.screen.table.ascending;
                state
                    .txns
                    .take_balances(&items, &focus, (before, &page.sum), ascending);
            }
            state.txns.take_page(offset, items, extend, keep);
            state.txns.total = Some(page.total);
            state.txns.sum = page.sum;
            if let Some(id) = state.txns.follow.take()
                && !was_awaiting
                && let Some(i) = state.txns.rows.iter().position(|t| t.id == id)
            {
                state.screen.table.cursor = state.txns.offset + i;
            }
            if !state.requests.background_requested {
                // The table first; the rest once it is on screen.
                state.requests.background_requested = true;
                fetch_accounts(state, fx);
                fetch_review_count(state, fx);
                fx.push(Effect::FetchTags);
                fx.push(Effect::FetchCategories);
                fx.push(Effect::FetchProjections);
            }
            clamp_cursor(state);
            scroll_into_view(state);
            ensure_window(state, fx);
            if was_awaiting {
                for command in std::mem::take(&mut state.requests.deferred) {
                    run_command(state, command, fx);
                }
            }
        }
        Err(e) => {
            state.requests.deferred.clear();
            state.set_error(format!("transactions: {e}"));
        }
    }
}

/// Most commands kept while waiting for a query.
const MAX_DEFERRED: usize = 64;

fn on_analytics(
    state: &mut State,
    generation: u64,
    reply: Reply<(Vec<PeriodSummary>, Vec<BreakdownRow>)>,
) {
    if generation != state.requests.gens.analytics {
        return;
    }
    match reply {
        Ok((mut periods, breakdown)) => {
            if periods.len() > MAX_PERIODS {
                periods.drain(..periods.len() - MAX_PERIODS);
            }
            if let Some(p) = state.analytics.period {
                state.analytics.period = Some(p.min(periods.len().saturating_sub(1)));
            }
            state.analytics.periods = periods;
            state.analytics.breakdown = breakdown;
            state.analytics.loaded = true;
        }
        Err(e) => state.set_error(format!("analytics: {e}")),
    }
}

fn on_accounts(state: &mut State, generation: u64, reply: Reply<Vec<AccountRow>>) {
    if generation != state.requests.gens.accounts {
        return;
    }
    match reply {
        Ok(rows) => {
            state.data.set_accounts(rows, state.screen.account_depth);
            state.screen.move_account(0, state.data.tree.len());
        }
        Err(e) => state.set_error(format!("accounts: {e}")),
    }
}

fn on_tags(state: &mut State, reply: Reply<Vec<TagInfo>>) {
    match reply {
        Ok(mut tags) => {
            tags.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
            state.data.tags = tags;
        }
        Err(e) => state.set_error(format!("tags: {e}")),
    }
}

fn on_collected(
    state: &mut State,
    generation: u64,
    items: Vec<(TxnId, Balance)>,
    (total, done): (usize, bool),
    reply: Reply<()>,
) {
    if generation != state.requests.gens.collect {
        return;
    }
    if let Err(e) = reply {
        state.screen.selection.collecting = None;
        state.set_error(format!("selecting: {e}"));
        return;
    }
    for (id, amount) in items {
        if state.screen.selection.ids.insert(id) {
            state.screen.selection.sum.merge(&amount);
        }
    }
    if done {
        state.screen.selection.collecting = None;
        state.set_status(format!("{} selected", state.screen.selection.ids.len()));
    } else {
        state.screen.selection.collecting = Some((state.screen.selection.ids.len(), total));
    }
}

fn on_write_done(
    state: &mut State,
    (kind, seqs, mut reply): (WriteKind, Vec<u64>, Reply<Vec<UndoEntry>>),
    renamed: Vec<(TxnId, TxnId)>,
    fx: &mut Vec<Effect>,
) {
    let renamed: HashMap<TxnId, TxnId> = renamed.into_iter().collect();
    state.undo.rename(&renamed);
    if let Ok(entries) = &mut reply {
        for entry in entries {
            entry.rename(&renamed);
        }
    }
    for (old, new) in &renamed {
        if state.screen.selection.ids.remove(old) {
            state.screen.selection.ids.insert(new.clone());
        }
    }
    // Confirmed, or rolled back: either way the rows now come from the backend as they are.
    state.writes.forget(&seqs);
    state.writes.pending = state.writes.pending.saturating_sub(seqs.len().max(1));
    state.writes.progress = None;
    state.requests.last_write_tick = Some(state.requests.ticks);
    if reply.is_err() {
        // Stay and show what failed rather than quitting over it.
        state.quit_when_written = false;
        state.writes.undo_waiting = 0;
    } else if state.quit_when_written && state.writes.pending == 0 {
        state.quit = true;
    }
    match (kind, reply) {
        (WriteKind::New, Ok(entries)) => saved(state, entries),
        (WriteKind::Undo, Ok(entries)) => {
            if let Some(entry) = entries.into_iter().next() {
                state.set_status(format!("undone: {}", entry.label));
                state.undo.undone(entry);
            }
        }
        (WriteKind::Redo, Ok(entries)) => {
            if let Some(entry) = entries.into_iter().next() {
                state.set_status(format!("redone: {}", entry.label));
                state.undo.redone(entry);
            }
        }
        (_, Err(e)) => state.set_error(format!("write failed: {e}")),
    }
    refresh(state, fx);
    if let Some(new) = state.txns.follow.as_ref().and_then(|id| renamed.get(id)) {
        state.txns.follow = Some(new.clone());
    }
    if state.writes.pending == 0 && state.writes.undo_waiting > 0 {
        state.writes.undo_waiting -= 1;
        undo_or_redo(state, WriteKind::Undo, fx);
    }
}

/// New edits were saved: each gets its undo entry; the status line says what the last one did.
fn saved(state: &mut State, entries: Vec<UndoEntry>) {
    let n = entries.len();
    let mut last = None;
    for entry in entries {
        last = Some(entry.label.clone());
        if !entry.inverse.is_empty() {
            state.undo.push(entry);
        }
    }
    let Some(label) = last else {
        return;
    };
    let undo = state.settings.keymap.key_text(Command::Undo);
    let text = match n {
        1 if state.undo.can_undo() == 0 => label,
        1 => format!("{label} ({undo} to undo)"),
        _ => {
            format!("{n} edits saved in one write, the last: {label} ({undo} undoes one at a time)")
        }
    };
    state.set_status(text);
}

/// Undo or redo the newest entry: one write. While edits are still being saved, undo waits for them (they are
/// written at once) and then applies to the newest.
pub(super) fn undo_or_redo(state: &mut State, kind: WriteKind, fx: &mut Vec<Effect>) {
    if state.writes.pending > 0 {
        if kind == WriteKind::Undo {
            state.writes.undo_waiting += 1;
            state.set_status("saving… the undo follows once the save is done");
            fx.push(Effect::FlushEdits);
        } else {
            state.set_status("saving… redo when the save is done");
        }
        return;
    }
    let entry = if kind == WriteKind::Undo {
        state.undo.pop_undo()
    } else {
        state.undo.pop_redo()
    };
    let Some(entry) = entry else {
        state.set_status(if kind == WriteKind::Undo {
            "nothing to undo"
        } else {
            "nothing to redo"
        });
        return;
    };
    let verb = if kind == WriteKind::Undo {
        "undoing"
    } else {
        "redoing"
    };
    state.set_status(format!("{verb}: {}", entry.label));
    state.writes.pending += 1;
    let seq = state.writes.next_seq();
    fx.push(Effect::Revert { seq, kind, entry });
}

fn on_paste(state: &mut State, text: &str, fx: &mut Vec<Effect>) {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    match &mut state.screen.mode {
        Mode::Filter => {
            for c in clean.chars() {
                state
                    .filter
                    .input
                    .handle(tui_input::InputRequest::InsertChar(c));
            }
            filter_changed(state, fx);
        }
        Mode::Prompt(p) => {
            for c in clean.chars() {
                p.input.handle(tui_input::InputRequest::InsertChar(c));
            }
            update_completions(p, &state.data.tags, &state.data.categories);
        }
        Mode::Form(f) => {
            for c in clean.chars() {
                f.fields[f.focus].handle(tui_input::InputRequest::InsertChar(c));
            }
        }
        Mode::Import(p) => {
            if let import::Stage::File { input, .. } = &mut p.stage {
                for c in clean.chars() {
                    input.handle(tui_input::InputRequest::InsertChar(c));
                }
                fx.push(Effect::CompletePath(input.value().to_string()));
            }
        }
        Mode::Reconcile(view) => {
            if let reconcile::Stage::Statement(form) = &mut view.stage {
                for c in clean.chars() {
                    form.fields[form.focus].handle(tui_input::InputRequest::InsertChar(c));
                }
            }
        }
        Mode::Normal | Mode::Help => {}
    }
}

/// The backend added the form's transaction (the form closes and the table shows it) or said why not (the form
/// stays, with the reason).
fn on_added(state: &mut State, reply: Reply<crate::domain::Transaction>, fx: &mut Vec<Effect>) {
    match reply {
        Ok(t) => {
            if matches!(state.screen.mode, Mode::Form(_)) {
                state.screen.mode = Mode::Normal;
            }
            state.set_status(format!("added {} {} ({})", t.date, t.description, t.source));
            state.requests.last_write_tick = Some(state.requests.ticks);
            refresh(state, fx);
        }
        Err(e) => match &mut state.screen.mode {
            Mode::Form(form) => {
                form.saving = false;
                form.error = Some(e);
            }
            _ => state.set_error(format!("add: {e}")),
        },
    }
}

/// The add form's keys: `Esc` cancels, `Tab` completes or moves on, `Shift-Tab`/`↑`/`↓` move, `Enter` saves.
fn form_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let accounts = state.data.account_names();
    let Mode::Form(form) = &mut state.screen.mode else {
        return;
    };
    if form.saving {
        return;
    }
    match key.code {
        KeyCode::Esc => {
            state.screen.mode = Mode::Normal;
            state.set_status("nothing added");
            return;
        }
        KeyCode::Tab => {
            if !form.accept_completion() {
                form.move_focus(1);
            }
        }
        KeyCode::BackTab | KeyCode::Up => form.move_focus(-1),
        KeyCode::Down => form.move_focus(1),
        KeyCode::Enter => match form.to_new() {
            Ok(txn) => {
                form.saving = true;
                form.error = None;
                fx.push(Effect::AddTransaction(txn));
            }
            Err((field, why)) => {
                form.focus = field;
                form.error = Some(why);
            }
        },
        _ => {
            if let Some(req) = to_input_request(&Event::Key(key)) {
                form.fields[form.focus].handle(req);
                form.error = None;
            }
        }
    }
    form.complete(&state.data.payees, &accounts);
}

/// A key: true unless it did nothing (a release, a key bound to nothing, `Esc` with nothing to close).
fn on_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) -> bool {
    if key.kind == KeyEventKind::Release {
        return false;
    }
    // Ctrl-C always quits, whatever the mode or keymap: raw mode turns it into a key, not a signal.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        return true;
    }
    match state.screen.mode {
        Mode::Help => state.screen.mode = Mode::Normal,
        Mode::Filter => filter_key(state, key, fx),
        Mode::Prompt(_) => prompt_key(state, key, fx),
        Mode::Form(_) => form_key(state, key, fx),
        Mode::Import(_) => import::key(state, key, fx),
        Mode::Reconcile(_) => reconcile::key(state, key, fx),
        Mode::Normal => {
            state.status = None;
            return match state.settings.keymap.command_for(&key) {
                Some(command) if state.txns.awaiting_query && command.waits_for_rows() => {
                    if state.requests.deferred.len() < MAX_DEFERRED {
                        state.requests.deferred.push(command);
                    }
                    true
                }
                Some(command) => run_command(state, command, fx),
                None => false,
            };
        }
    }
    true
}

fn filter_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    match key.code {
        KeyCode::Esc | KeyCode::Enter => state.screen.mode = Mode::Normal,
        KeyCode::Down | KeyCode::Up | KeyCode::PageDown | KeyCode::PageUp => {
            // Let people scroll the result without leaving the filter.
            let cmd = match key.code {
                KeyCode::Down => Command::MoveDown,
                KeyCode::Up => Command::MoveUp,
                KeyCode::PageDown => Command::PageDown,
                _ => Command::PageUp,
            };
            run_command(state, cmd, fx);
        }
        _ => {
            if let Some(req) = to_input_request(&Event::Key(key))
                && state
                    .filter
                    .input
                    .handle(req)
                    .is_some_and(|changed| changed.value)
            {
                filter_changed(state, fx);
            }
        }
    }
}

/// The filter text changed: parse it; a good query replaces the applied one (and is fetched), a bad one leaves the
/// last good result on screen and shows the error.
pub(super) fn filter_changed(state: &mut State, fx: &mut Vec<Effect>) {
    match crate::query::parse(state.filter.input.value()) {
        Ok(q) => {
            state.filter.error = None;
            if q != state.filter.applied {
                state.filter.applied = q;
                requery(state, fx);
            }
        }
        Err(e) => state.filter.error = Some(e),
    }
}

fn prompt_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let Mode::Prompt(prompt) = &mut state.screen.mode else {
        return;
    };
    if prompt.kind == PromptKind::PickSplit {
        // A digit picks the posting; the category prompt follows, filled with its account.
        let picked = match key.code {
            KeyCode::Char(c) => c
                .to_digit(10)
                .and_then(|d| (d as usize).checked_sub(1))
                .and_then(|i| prompt.split.get(i).cloned()),
            _ => None,
        };
        match picked {
            Some(account) => {
                prompt.kind = PromptKind::Category;
                prompt.split = vec![account.clone()];
                prompt.input = tui_input::Input::new(account);
                update_completions(prompt, &state.data.tags, &state.data.categories);
            }
            None if key.code == KeyCode::Esc => state.screen.mode = Mode::Normal,
            None => {}
        }
        return;
    }
    if prompt.kind == PromptKind::RuleFile {
        import::rule_file_key(state, key, fx);
        return;
    }
    if prompt.kind == PromptKind::ConfirmArchive {
        // One key: y archives, anything else cancels.
        let ids = prompt.targets.clone();
        state.screen.mode = Mode::Normal;
        if matches!(key.code, KeyCode::Char('y' | 'Y')) {
            state.writes.pending += 1;
            let seq = state.writes.next_seq();
            fx.push(Effect::Archive { seq, ids });
        } else {
            state.set_status("nothing archived");
        }
        return;
    }
    match key.code {
        KeyCode::Esc => state.screen.mode = Mode::Normal,
        KeyCode::Tab => {
            // Tab completes a word begun, never an empty one (it would insert whatever tag is first).
            let begun = prompt.kind == PromptKind::Category
                || !edits::current_word(prompt.input.value()).is_empty();
            if let Some(first) = prompt.completions.first().cloned().filter(|_| begun) {
                if prompt.kind == PromptKind::Category {
                    prompt.input = tui_input::Input::new(first);
                } else {
                    complete_word(&mut prompt.input, &first);
                }
                update_completions(prompt, &state.data.tags, &state.data.categories);
            }
        }
        KeyCode::Enter => {
            let prompt = prompt.clone();
            state.screen.mode = Mode::Normal;
            submit_prompt(state, prompt, fx);
        }
        _ => {
            if let Some(req) = to_input_request(&Event::Key(key)) {
                prompt.input.handle(req);
                update_completions(prompt, &state.data.tags, &state.data.categories);
            }
        }
    }
}
