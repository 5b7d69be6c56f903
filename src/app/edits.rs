//! Selection and edits as `update` does them: toggling, ranges and "select all" (whose ids the runner collects in
//! pages), the tag, category and note prompts with completion from the backend's tags, and status changes. Each
//! checks the backend's capabilities first and says why when an action is not available.

use super::action::Effect;
use super::navigate::move_by;
use super::state::{Mode, Pane, Prompt, PromptKind, State};
use crate::backend::{PageRequest, TagInfo};
use crate::config::keymap::Command;
use crate::domain::{Status, Tag, Transaction, TxnId};
use crate::ops::{Change, Edit};
use std::collections::HashSet;
use std::sync::Arc;

/// The word being typed in tag input (after the last blank or comma), without an opening quote.
pub(super) fn current_word(value: &str) -> &str {
    value[last_word_start(value)..].trim_start_matches('"')
}

/// Where the last word of tag input starts: after the last blank or comma outside double quotes.
fn last_word_start(value: &str) -> usize {
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' | ',' if !quoted => start = i + 1,
            _ => {}
        }
    }
    start
}

/// The words of tag input: split at blanks and commas, except inside double quotes, so a tag whose name has
/// blanks (Sure's "Work expense") is one word when quoted.
pub(super) fn tag_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' | ',' if !quoted => {
                if !word.trim().is_empty() {
                    words.push(word.trim().to_string());
                }
                word.clear();
            }
            c => word.push(c),
        }
    }
    if !word.trim().is_empty() {
        words.push(word.trim().to_string());
    }
    words
}

/// Replaces the word under the cursor (the last word) with `word`, quoted when it holds blanks.
pub(super) fn complete_word(input: &mut tui_input::Input, word: &str) {
    let value = input.value();
    let start = last_word_start(value);
    let word = if word.contains([' ', ',']) {
        format!("\"{word}\"")
    } else {
        word.to_string()
    };
    let new = format!("{}{word} ", &value[..start]);
    *input = tui_input::Input::new(new);
}

pub(super) fn update_completions(prompt: &mut Prompt, tags: &[TagInfo], categories: &[String]) {
    if prompt.kind == PromptKind::Category {
        // The whole input is one name (it may hold blanks: "Food & Drink"): names starting with it first, then
        // those containing it.
        let typed = prompt.input.value().trim().to_lowercase();
        let mut starts: Vec<&String> = Vec::new();
        let mut contains: Vec<&String> = Vec::new();
        for c in categories {
            let lower = c.to_lowercase();
            if lower == typed {
                continue;
            }
            if lower.starts_with(&typed) {
                starts.push(c);
            } else if lower.contains(&typed) {
                contains.push(c);
            }
        }
        prompt.completions = starts
            .into_iter()
            .chain(contains)
            .take(8)
            .cloned()
            .collect();
        return;
    }
    if !matches!(prompt.kind, PromptKind::AddTag | PromptKind::RemoveTag) {
        prompt.completions.clear();
        return;
    }
    let value = prompt.input.value();
    let word = value[last_word_start(value)..]
        .trim_start_matches('"')
        .to_lowercase();
    let offered = |name: &str| {
        prompt.kind != PromptKind::RemoveTag
            || prompt.carried.is_empty()
            || prompt.carried.iter().any(|c| c.eq_ignore_ascii_case(name))
    };
    prompt.completions = tags
        .iter()
        .filter(|t| offered(&t.name))
        .filter(|t| t.name.to_lowercase().starts_with(&word) && t.name.to_lowercase() != word)
        .take(8)
        .map(|t| t.name.clone())
        .collect();
}

pub(super) fn submit_prompt(state: &mut State, prompt: Prompt, fx: &mut Vec<Effect>) {
    let text = prompt.input.value().trim().to_string();
    match prompt.kind {
        // Answered by a key of its own in `prompt_key`.
        PromptKind::ConfirmArchive | PromptKind::RuleFile => {}
        PromptKind::AddTag | PromptKind::RemoveTag => {
            let words = tag_words(&text);
            if words.is_empty() {
                state.set_status("no tags given: nothing changed");
                return;
            }
            let (add, remove) = if prompt.kind == PromptKind::AddTag {
                (words.iter().map(|w| Tag::parse(w)).collect(), Vec::new())
            } else {
                let names = words.iter().map(|w| Tag::parse(w).name).collect::<Vec<_>>();
                (Vec::new(), names)
            };
            if let Some(bad) = add
                .iter()
                .map(|t: &Tag| t.name.as_str())
                .chain(remove.iter().map(String::as_str))
                .find(|n| n.is_empty() || n.chars().any(|c| c.is_control() || c == ';'))
            {
                state.set_error(format!("not a valid tag name: {bad:?}"));
                return;
            }
            push_edit(state, prompt.targets, Change::tags(add, remove), fx);
        }
        PromptKind::Category => {
            // A split's posting other than the first is renamed where it stands.
            let change = match (prompt.split.first(), state.current()) {
                (Some(from), Some(t)) if t.category.as_ref() != Some(from) => {
                    Change::split_category(from.clone(), text)
                }
                _ => Change::category(text),
            };
            push_edit(state, prompt.targets, change, fx);
            advance(state, fx);
        }
        PromptKind::PickSplit => {}
        PromptKind::Note => push_edit(state, prompt.targets, Change::note(text), fx),
    }
}

/// Sends an edit to be saved and shows it at once: the rows on screen change now, and every page that arrives
/// before the write answers shows it too; the answer confirms it or rolls it back (`Writes::forget`).
pub(super) fn push_edit(
    state: &mut State,
    ids: Arc<Vec<TxnId>>,
    change: Change,
    fx: &mut Vec<Effect>,
) {
    let seq = state.writes.next_seq();
    let edit = Edit { ids, change };
    show_edit(&state.data.capabilities, &edit, &mut state.txns.rows);
    state.writes.start(seq, edit.clone());
    // An edit of the selection ends it (the next action starts afresh), unless the config keeps it.
    if !state.screen.selection.ids.is_empty() {
        if state.settings.keep_selection {
            let n = state.screen.selection.ids.len();
            state.set_status(format!("{n} still selected (keep_selection)"));
        } else {
            state.screen.selection.clear();
        }
    }
    fx.push(Effect::Edit { seq, edit });
}

/// Applies `edit` to those of `rows` it names.
fn show_edit(caps: &crate::backend::Capabilities, edit: &Edit, rows: &mut [Transaction]) {
    let named: HashSet<&TxnId> = edit.ids.iter().collect();
    for row in rows
        .iter_mut()
        .filter(|r| named.contains(&r.id) && !r.read_only)
    {
        *row = crate::ops::preview(row, &edit.change, caps);
    }
}

/// Shows the edits not yet saved on rows that just arrived from the backend.
pub(super) fn show_pending(state: &State, rows: &mut [Transaction]) {
    for (_, edit) in &state.writes.optimistic {
        show_edit(&state.data.capabilities, edit, rows);
    }
}

/// Reviewing one by one: after an edit of the row under the cursor (no selection), move on to the next.
fn advance(state: &mut State, fx: &mut Vec<Effect>) {
    if state.screen.selection.ids.is_empty() && state.screen.focus == Pane::Transactions {
        move_by(state, 1, fx);
    }
}

/// `Some(reason)` when the backend lacks `capability` (a `Capabilities` field name): the backend's own reason
/// when it gives one, else which backend cannot.
pub(super) fn unavailable(state: &State, capability: &str, what: &str) -> Option<String> {
    let caps = &state.data.capabilities;
    if caps.has(capability) {
        None
    } else {
        Some(match caps.reason(capability) {
            Some(why) => format!("cannot {what}: {why}"),
            None => format!("cannot {what}: not supported by {}", caps.label),
        })
    }
}

/// The transactions an edit applies to: the selection, or else the row under the cursor.
pub(super) fn targets(state: &mut State) -> Option<Arc<Vec<TxnId>>> {
    if state.screen.selection.collecting.is_some() {
        state.set_status("still selecting… wait for it to finish or press Esc");
        return None;
    }
    if !state.screen.selection.ids.is_empty() {
        let mut ids: Vec<TxnId> = state.screen.selection.ids.iter().cloned().collect();
        ids.sort();
        return Some(Arc::new(ids));
    }
    match state.current() {
        Some(t) if t.read_only => {
            let msg = format!("{} is read-only here: {}", t.id, t.source);
            state.set_error(msg);
            None
        }
        Some(t) => Some(Arc::new(vec![t.id.clone()])),
        None => {
            state.set_status("no transaction under the cursor");
            None
        }
    }
}

pub(super) fn single_edit_prompt(state: &mut State, command: Command) {
    let (kind, cap) = if command == Command::SetCategory {
        (PromptKind::Category, "edit_category")
    } else {
        (PromptKind::Note, "edit_notes")
    };
    let what = if kind == PromptKind::Category {
        "edit categories"
    } else {
        "edit notes"
    };
    if let Some(why) = unavailable(state, cap, what) {
        state.set_error(why);
        return;
    }
    // A category goes on the selection (or the row under the cursor); a note on the row under the cursor.
    let many = kind == PromptKind::Category && !state.screen.selection.ids.is_empty();
    let targets = if many {
        match targets(state) {
            Some(ids) => ids,
            None => return,
        }
    } else {
        let Some(txn) = state.current() else {
            state.set_status("no transaction under the cursor");
            return;
        };
        if txn.read_only {
            let msg = format!("{} is read-only here: {}", txn.id, txn.source);
            state.set_error(msg);
            return;
        }
        Arc::new(vec![txn.id.clone()])
    };
    let current = match (kind, state.current()) {
        (PromptKind::Category, Some(t)) if !many => t.category.clone().unwrap_or_default(),
        (PromptKind::Note, Some(t)) => t.note.clone(),
        _ => String::new(),
    };
    let mut prompt = Prompt {
        kind,
        input: tui_input::Input::new(current),
        targets,
        completions: Vec::new(),
        carried: Vec::new(),
        split: Vec::new(),
        rule: None,
    };
    // One row that is a split: first ask which of its category postings to change.
    if kind == PromptKind::Category && !many {
        let accounts: Vec<String> = state
            .current()
            .map(|t| {
                let mut all: Vec<String> = Vec::new();
                for p in t.postings.iter().filter(|p| p.account_kind().is_category()) {
                    if !all.contains(&p.account) {
                        all.push(p.account.clone());
                    }
                }
                all
            })
            .unwrap_or_default();
        if accounts.len() > 1 {
            prompt.kind = PromptKind::PickSplit;
            prompt.split = accounts;
            prompt.input = tui_input::Input::default();
        }
    }
    update_completions(&mut prompt, &state.data.tags, &state.data.categories);
    state.screen.mode = Mode::Prompt(prompt);
}

/// `r` (`Change::Reviewed`: cleared and the `review` tag off, in one write) or `!` (pending) on the selection or the
/// row under the cursor: any number of rows is one batch.
pub(super) fn set_status(state: &mut State, status: Status, fx: &mut Vec<Effect>) {
    if let Some(why) = unavailable(state, "edit_status", "change status") {
        state.set_error(why);
        return;
    }
    let change = if status == Status::Cleared {
        Change::Reviewed
    } else {
        Change::status(status)
    };
    let Some(ids) = targets(state) else {
        return;
    };
    push_edit(state, ids, change, fx);
    advance(state, fx);
}

pub(super) fn toggle_select(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(t) = state.current() else {
        return;
    };
    let (id, amount) = (t.id.clone(), t.amount());
    state.screen.selection.toggle(id, &amount);
    state.screen.selection.anchor = Some(state.screen.table.cursor);
    move_by(state, 1, fx);
}

pub(super) fn range_select(state: &mut State, fx: &mut Vec<Effect>) {
    let anchor = state
        .screen
        .selection
        .anchor
        .unwrap_or(state.screen.table.cursor);
    let (start, end) = if anchor <= state.screen.table.cursor {
        (anchor, state.screen.table.cursor + 1)
    } else {
        (state.screen.table.cursor, anchor + 1)
    };
    let end = end.min(state.total());
    if state.txns.covers(start, end) {
        for i in start..end {
            if let Some(t) = state.txns.get(i) {
                let (id, amount) = (t.id.clone(), t.amount());
                state.screen.selection.add(id, &amount);
            }
        }
        state.set_status(format!("{} selected", state.screen.selection.ids.len()));
    } else {
        collect(state, start, end - start, fx);
    }
    state.screen.selection.anchor = Some(state.screen.table.cursor);
}

pub(super) fn select_all(state: &mut State, fx: &mut Vec<Effect>) {
    state.screen.selection.clear();
    let total = state.total();
    if total == 0 {
        state.set_status("nothing matches: nothing selected");
        return;
    }
    collect(state, 0, total, fx);
}

pub(super) fn collect(state: &mut State, offset: usize, limit: usize, fx: &mut Vec<Effect>) {
    let generation = state.requests.next_collect();
    state.screen.selection.collecting = Some((state.screen.selection.ids.len(), limit));
    fx.push(Effect::Collect {
        generation,
        query: state.effective_query(),
        page: PageRequest {
            offset,
            limit,
            sort: state.screen.table.sort,
            ascending: state.screen.table.ascending,
        },
    });
}
