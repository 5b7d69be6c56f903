//! The import preview (issue 13): `i` asks for a bank CSV (its path completes with `Tab`), tally reads it with its
//! hledger rules file and sets every row against the ledger (`import::plan`), and the preview lists each row as new,
//! a duplicate of `FILE:LINE`, a possible duplicate or skipped by a rule — new rows accepted, the rest not. `Space`
//! flips a row, `A` accepts every new and possible row, `N` none, `Enter` appends the accepted ones in ONE write
//! (`import::apply`), `Esc` leaves without writing. Afterwards the review queue shows, with the new transactions in
//! it. `tally import CSV…` on a terminal opens the dashboard straight into this preview.

use super::action::{Effect, Reply};
use super::state::{Mode, State};
use crate::import::{Applied, Plan, RowFate};
use crossterm::event::{Event, KeyCode, KeyEvent};
use std::path::PathBuf;
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

/// The CSV files to read, and the rules file when not the one beside each CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRequest {
    pub csvs: Vec<PathBuf>,
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ImportPreview {
    pub stage: Stage,
    /// Why the file could not be read or the append was refused.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Stage {
    /// Asking for the CSV file: what is typed, and the paths it could complete to.
    File {
        input: Input,
        completions: Vec<String>,
    },
    /// Reading the CSV and looking for duplicates.
    Reading(ImportRequest),
    Review(Review),
    /// The one append is on its way.
    Saving(Review),
}

/// The rows, which are accepted, and where the cursor is.
#[derive(Debug, Clone)]
pub struct Review {
    pub request: ImportRequest,
    pub plan: Plan,
    pub cursor: usize,
    /// The first row on screen.
    pub scroll: usize,
}

impl ImportPreview {
    /// The file prompt, empty.
    pub fn ask() -> ImportPreview {
        ImportPreview {
            stage: Stage::File {
                input: Input::default(),
                completions: Vec::new(),
            },
            error: None,
        }
    }

    /// Reading `request` already (`tally import` on a terminal).
    pub fn reading(request: ImportRequest) -> ImportPreview {
        ImportPreview {
            stage: Stage::Reading(request),
            error: None,
        }
    }
}

/// Moves a popup list's `cursor` by `delta` rows within `len` (clamped) and its first row on screen, `scroll`, so
/// the cursor stays within `height` rows (the import preview's and reconcile mode's lists).
pub fn move_in_list(
    (cursor, scroll): (&mut usize, &mut usize),
    delta: isize,
    len: usize,
    height: usize,
) {
    *cursor = cursor
        .saturating_add_signed(delta)
        .min(len.saturating_sub(1));
    let height = height.max(1);
    if *cursor < *scroll {
        *scroll = *cursor;
    } else if *cursor >= *scroll + height {
        *scroll = *cursor + 1 - height;
    }
}

impl Review {
    /// Moves the cursor by `delta` rows (clamped) and keeps it within `height` rows on screen.
    pub fn move_by(&mut self, delta: isize, height: usize) {
        let len = self.plan.rows.len();
        move_in_list((&mut self.cursor, &mut self.scroll), delta, len, height);
    }

    /// Flips the row under the cursor (a skipped row has nothing to import).
    pub fn toggle(&mut self) {
        if let Some(row) = self.plan.rows.get_mut(self.cursor)
            && row.txn.is_some()
        {
            row.accept = !row.accept;
        }
    }

    /// Accepts every new and possible row (duplicates stay out: flip them one by one), or none.
    pub fn accept_all(&mut self, yes: bool) {
        for row in &mut self.plan.rows {
            row.accept =
                yes && row.txn.is_some() && matches!(row.fate, RowFate::New | RowFate::Possible(_));
        }
    }
}

/// Rows the preview shows at once: what the popup has room for at this terminal size.
pub fn page_height(state: &State) -> usize {
    usize::from(state.screen.size.1).saturating_sub(10).max(1)
}

/// `i`: the file prompt, where the ledger can take new transactions.
pub fn open(state: &mut State, fx: &mut Vec<Effect>) {
    if !state.data.capabilities.can_add() {
        state.set_status("import: this source cannot take new transactions (only a journal file tally may write)");
        return;
    }
    state.screen.mode = Mode::Import(ImportPreview::ask());
    fx.push(Effect::CompletePath(String::new()));
}

/// A key in the preview.
pub fn key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let height = page_height(state);
    let Mode::Import(preview) = &mut state.screen.mode else {
        return;
    };
    match &mut preview.stage {
        Stage::File { input, completions } => match key.code {
            KeyCode::Esc => state.screen.mode = Mode::Normal,
            KeyCode::Tab => {
                if let Some(taken) = complete(input.value(), completions) {
                    *input = Input::new(taken.clone());
                    fx.push(Effect::CompletePath(taken));
                }
            }
            KeyCode::Enter => {
                let typed = input.value().trim();
                if typed.is_empty() {
                    preview.error = Some("type the path of a bank CSV file".into());
                    return;
                }
                let request = ImportRequest {
                    csvs: vec![crate::config::expand_tilde(typed)],
                    rules: None,
                };
                preview.error = None;
                preview.stage = Stage::Reading(request.clone());
                fx.push(Effect::PlanImport(request));
            }
            _ => {
                if let Some(req) = to_input_request(&Event::Key(key))
                    && input.handle(req).is_some_and(|c| c.value)
                {
                    preview.error = None;
                    fx.push(Effect::CompletePath(input.value().to_string()));
                }
            }
        },
        Stage::Reading(_) | Stage::Saving(_) => {
            if key.code == KeyCode::Esc && matches!(preview.stage, Stage::Reading(_)) {
                state.screen.mode = Mode::Normal;
                state.set_status("nothing imported");
            }
        }
        Stage::Review(review) => match review_key(review, key, height, fx) {
            None => {}
            Some(Some(message)) => {
                state.screen.mode = Mode::Normal;
                state.set_status(message);
            }
            Some(None) => {
                let review = review.clone();
                preview.error = None;
                preview.stage = Stage::Saving(review);
            }
        },
    }
}

/// The review's keys. `None`: stay; `Some(Some(message))`: leave with it; `Some(None)`: the append was asked for.
fn review_key(
    review: &mut Review,
    key: KeyEvent,
    height: usize,
    fx: &mut Vec<Effect>,
) -> Option<Option<&'static str>> {
    let page = isize::try_from(height).unwrap_or(1);
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => return Some(Some("nothing imported")),
        KeyCode::Down | KeyCode::Char('j') => review.move_by(1, height),
        KeyCode::Up | KeyCode::Char('k') => review.move_by(-1, height),
        KeyCode::PageDown => review.move_by(page, height),
        KeyCode::PageUp => review.move_by(-page, height),
        KeyCode::Home | KeyCode::Char('g') => review.move_by(isize::MIN / 2, height),
        KeyCode::End | KeyCode::Char('G') => review.move_by(isize::MAX / 2, height),
        KeyCode::Char(' ') => {
            review.toggle();
            review.move_by(1, height);
        }
        KeyCode::Char('A') => review.accept_all(true),
        KeyCode::Char('N') => review.accept_all(false),
        KeyCode::Enter => {
            if review.plan.accepted() == 0 {
                return Some(Some("nothing accepted: nothing imported"));
            }
            fx.push(Effect::ApplyImport(review.plan.clone()));
            return Some(None);
        }
        _ => {}
    }
    None
}

/// `Tab` on a path: the only completion, or the longest start all completions share when it adds something. The
/// list may still be the one for fewer letters (typing outran the listing): only what starts with `typed` counts.
fn complete(typed: &str, completions: &[String]) -> Option<String> {
    let mut fitting = completions.iter().filter(|c| c.starts_with(typed));
    let first = fitting.next()?;
    let shared = fitting.fold(first.as_str(), |acc, c| {
        let n = acc
            .char_indices()
            .zip(c.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8());
        &acc[..n]
    });
    (shared.len() > typed.len()).then(|| shared.to_string())
}

/// The paths `typed` could complete to (the runner lists them: `update` does no I/O), for the import's file prompt
/// or promote to rule's.
pub fn on_paths(state: &mut State, typed: &str, paths: Vec<String>) {
    match &mut state.screen.mode {
        Mode::Import(preview) => {
            if let Stage::File { input, completions } = &mut preview.stage
                && input.value() == typed
            {
                *completions = paths;
            }
        }
        Mode::Prompt(p)
            if p.kind == super::state::PromptKind::RuleFile && p.input.value() == typed =>
        {
            p.completions = paths;
        }
        _ => {}
    }
}

/// The plan arrived: the review, or back to the file prompt with the reason.
pub fn on_planned(state: &mut State, reply: Reply<Plan>) {
    let height = page_height(state);
    let Mode::Import(preview) = &mut state.screen.mode else {
        return;
    };
    let Stage::Reading(request) = &preview.stage else {
        return;
    };
    match reply {
        Ok(plan) => {
            state.data.last_rules = request.rules.clone().or_else(|| {
                let csv = request.csvs.first()?;
                Some(PathBuf::from(format!("{}.rules", csv.display())))
            });
            let mut review = Review {
                request: request.clone(),
                plan,
                cursor: 0,
                scroll: 0,
            };
            // The cursor starts on the first row that will be imported, the rows above it in view when they fit.
            let first = review.plan.rows.iter().position(|r| r.accept);
            review.move_by(isize::try_from(first.unwrap_or(0)).unwrap_or(0), height);
            preview.stage = Stage::Review(review);
        }
        Err(e) => {
            let typed = request
                .csvs
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            preview.stage = Stage::File {
                input: Input::new(typed),
                completions: Vec::new(),
            };
            preview.error = Some(e);
        }
    }
}

/// The append is done (the review queue shows what came in) or was refused (the preview stays, with why).
pub fn on_imported(state: &mut State, reply: Reply<Applied>, fx: &mut Vec<Effect>) {
    match reply {
        Ok(applied) => {
            if matches!(state.screen.mode, Mode::Import(_)) {
                state.screen.mode = Mode::Normal;
            }
            let (n, review) = (applied.added, applied.to_review);
            state.set_status(if review > 0 {
                format!("imported {n} transaction(s) in one write; {review} to review: the review queue shows them")
            } else {
                format!("imported {n} transaction(s) in one write, all cleared and categorised by the rules")
            });
            if let Some(problem) = applied.problems.first() {
                state.set_error(format!("after the import: {problem}"));
            }
            state.requests.last_write_tick = Some(state.requests.ticks);
            // The review queue from its top (with suggestions for the new rows), and the rest of what changed.
            state.filter.review = review > 0;
            super::requests::requery(state, fx);
            super::requests::fetch_accounts(state, fx);
            super::requests::fetch_review_count(state, fx);
            fx.push(Effect::FetchTags);
            fx.push(Effect::FetchCategories);
        }
        Err(e) => {
            if let Mode::Import(preview) = &mut state.screen.mode
                && let Stage::Saving(review) = &preview.stage
            {
                preview.stage = Stage::Review(review.clone());
                preview.error = Some(e);
            } else {
                state.set_error(format!("import: {e}"));
            }
        }
    }
}

/// `P`: on a categorised row, the `if` block that would categorise it at the next import, and a prompt for the
/// rules file to add it to (the last CSV's rules file, completed like a path).
pub fn promote(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(t) = state.current() else {
        state.set_status("no transaction under the cursor");
        return;
    };
    let transfer = t.postings.len() >= 2 && t.postings.iter().all(|p| p.account_kind().is_real());
    let category = t
        .category
        .clone()
        .filter(|_| !crate::domain::lacks_category(t.category.as_deref(), transfer));
    let Some(rule) =
        category.and_then(|c| crate::import::promote::Rule::propose(&t.description, &c))
    else {
        state.set_status(
            "promote to rule: the row needs a category (and a payee with a word to match)",
        );
        return;
    };
    let id = t.id.clone();
    let file = state
        .data
        .last_rules
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    fx.push(Effect::CompletePath(file.clone()));
    state.screen.mode = Mode::Prompt(super::state::Prompt {
        kind: super::state::PromptKind::RuleFile,
        input: Input::new(file),
        targets: std::sync::Arc::new(vec![id]),
        completions: Vec::new(),
        carried: Vec::new(),
        split: Vec::new(),
        rule: Some(rule),
    });
}

/// The rules-file prompt's keys: `Tab` completes the path, `Enter` appends the rule, `Esc` cancels.
pub fn rule_file_key(state: &mut State, key: KeyEvent, fx: &mut Vec<Effect>) {
    let Mode::Prompt(prompt) = &mut state.screen.mode else {
        return;
    };
    match key.code {
        KeyCode::Esc => {
            state.screen.mode = Mode::Normal;
            state.set_status("no rule added");
        }
        KeyCode::Tab => {
            if let Some(taken) = complete(prompt.input.value(), &prompt.completions) {
                prompt.input = Input::new(taken.clone());
                fx.push(Effect::CompletePath(taken));
            }
        }
        KeyCode::Enter => {
            let typed = prompt.input.value().trim().to_string();
            let Some(rule) = prompt.rule.clone() else {
                return;
            };
            if typed.is_empty() {
                state.set_status("type the rules file to add the rule to");
                return;
            }
            state.screen.mode = Mode::Normal;
            let path = crate::config::expand_tilde(&typed);
            state.data.last_rules = Some(path.clone());
            fx.push(Effect::AppendRule { path, rule });
        }
        _ => {
            if let Some(req) = to_input_request(&Event::Key(key))
                && prompt.input.handle(req).is_some_and(|c| c.value)
            {
                fx.push(Effect::CompletePath(prompt.input.value().to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_takes_the_shared_start() {
        let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            complete("ba", &c(&["bank/", "bank.csv"])),
            Some("bank".into())
        );
        assert_eq!(complete("bank", &c(&["bank/", "bank.csv"])), None);
        assert_eq!(complete("b", &c(&["bank.csv"])), Some("bank.csv".into()));
        assert_eq!(complete("x", &[]), None);
        // A list for fewer letters: the rest are left out.
        assert_eq!(
            complete("no", &c(&["demo.journal", "nov.csv", "nov.csv.rules"])),
            Some("nov.csv".into())
        );
    }
}
