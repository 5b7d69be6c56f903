//! The one-line prompt popup for adding or removing tags (with completion from the backend's existing tags), for
//! setting a category or note, and for the rules file a promoted rule goes to (showing the `if` block it adds). It says how many transactions the edit will touch before anything is written.

use super::centered;
use super::text::{clean, fit, skip_columns, thousands};
use super::theme::Theme;
use crate::app::{Prompt, PromptKind, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame<'_>, area: Rect, (state, prompt): (&State, &Prompt), theme: &Theme) {
    let width = area.width.saturating_sub(4).min(70);
    // Promote to rule shows the block it adds.
    let height = if prompt.rule.is_some() { 9 } else { 6 };
    let popup = centered(area, width, height);
    let n = prompt.targets.len();
    let what = format!(
        " {} — {} transaction{} ",
        prompt.kind.title(),
        thousands(n),
        if n == 1 { "" } else { "s" }
    );
    let inner = super::popup(frame, popup, &what, theme);
    if inner.height == 0 || inner.width < 4 {
        return;
    }
    let input_w = usize::from(inner.width).saturating_sub(2);
    let scroll = prompt.input.visual_scroll(input_w);
    let value = clean(prompt.input.value());
    let shown = skip_columns(&value, scroll);
    let mut lines = vec![Line::from(vec![
        Span::styled("> ", theme.key),
        Span::styled(fit(shown, input_w), theme.text),
    ])];
    let typed = prompt.input.value().trim();
    let new_category = prompt.kind == PromptKind::Category
        && !typed.is_empty()
        && !state
            .data
            .categories
            .iter()
            .any(|c| c.eq_ignore_ascii_case(typed));
    let hint = match prompt.kind {
        // A name the ledger does not have yet: said before Enter creates it (a typo would make a new account).
        PromptKind::Category if new_category && prompt.completions.is_empty() => {
            format!("new category {typed:?}: Enter creates it")
        }
        PromptKind::Category if new_category => format!(
            "new category unless you take one (Tab): {}",
            prompt.completions.join("  ")
        ),
        PromptKind::AddTag | PromptKind::RemoveTag | PromptKind::Category
            if !prompt.completions.is_empty() =>
        {
            format!("Tab: {}", prompt.completions.join("  "))
        }
        PromptKind::AddTag => "e.g. work  trip:paris  (new tags are created)".to_string(),
        PromptKind::RemoveTag => "tag names to remove (any value)".to_string(),
        PromptKind::Category => {
            "a category (an account name in a journal, e.g. expenses:food)".to_string()
        }
        PromptKind::Note => "free text".to_string(),
        PromptKind::PickSplit => prompt
            .split
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{} {a}", i + 1))
            .collect::<Vec<_>>()
            .join("  "),
        PromptKind::RuleFile if !prompt.completions.is_empty() => {
            format!("Tab: {}", prompt.completions.join("  "))
        }
        PromptKind::RuleFile => "the rules file to add it to (created when missing)".to_string(),
        PromptKind::ConfirmArchive => format!(
            "y archives {} transaction(s) on the server: they disappear from every list, for good; any other key \
             cancels",
            prompt.targets.len()
        ),
    };
    lines.push(Line::styled(
        fit(&clean(&hint), usize::from(inner.width)),
        if new_category {
            theme.accent
        } else {
            theme.dim
        },
    ));
    lines.push(Line::raw(""));
    if let Some(rule) = &prompt.rule {
        for l in rule.text().lines() {
            lines.push(Line::styled(
                fit(&clean(l), usize::from(inner.width)),
                theme.accent,
            ));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            fit(
                "Enter adds it to the file · Esc cancels",
                usize::from(inner.width),
            ),
            theme.dim,
        ));
        frame.render_widget(Paragraph::new(lines), inner);
        set_cursor(frame, inner, prompt, scroll);
        return;
    }
    let undo = state
        .settings
        .keymap
        .key_text(crate::config::keymap::Command::Undo);
    lines.push(Line::styled(
        fit(
            &format!("Enter applies · Esc cancels · {undo} undoes afterwards"),
            usize::from(inner.width),
        ),
        theme.dim,
    ));
    frame.render_widget(Paragraph::new(lines), inner);
    set_cursor(frame, inner, prompt, scroll);
}

/// The terminal's cursor where the input's is (after the `> `).
fn set_cursor(frame: &mut Frame<'_>, inner: Rect, prompt: &Prompt, scroll: usize) {
    let x = prompt.input.visual_cursor().saturating_sub(scroll) + 2;
    let x = inner.x
        + u16::try_from(x)
            .unwrap_or(0)
            .min(inner.width.saturating_sub(1));
    frame.set_cursor_position((x, inner.y));
}
