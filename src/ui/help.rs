//! The help popup (`?`): every bound command with its keys, generated from the active keymap, in as many columns as
//! the terminal needs, plus a reminder of the query language and the last error in full.

use super::centered;
use super::text::{clean, fit, pad_end, pad_start};
use super::theme::Theme;
use crate::app::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let entries = state.settings.keymap.help_lines();
    let popup = centered(
        area,
        area.width.saturating_sub(2).min(120),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.border_focus)
        .title(Span::styled(
            " Help — keys (from your keymap) ",
            theme.title,
        ));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    // Columns at least 36 wide (a key and its words stay readable); the query reminder gives way when the keys need
    // its rows.
    let most_columns = (usize::from(inner.width) / 36).max(1);
    let height = usize::from(inner.height).max(1);
    let reminder = entries.len().div_ceil(most_columns) + 3 <= height;
    let rows = if reminder { height - 3 } else { height };
    let columns = entries.len().div_ceil(rows).clamp(1, most_columns);
    let col_w = usize::from(inner.width) / columns;
    let key_w = entries
        .iter()
        .map(|(k, _)| unicode_width::UnicodeWidthStr::width(k.as_str()))
        .max()
        .unwrap_or(4)
        .min(col_w / 2);
    let mut lines: Vec<Line<'_>> = Vec::new();
    for r in 0..rows.min(entries.len()) {
        let mut spans = Vec::new();
        for c in 0..columns {
            let Some((keys, what)) = entries.get(c * rows + r) else {
                continue;
            };
            let desc_w = col_w.saturating_sub(key_w + 2);
            spans.push(Span::styled(
                format!("{} ", pad_start(&fit(keys, key_w), key_w)),
                theme.key,
            ));
            spans.push(Span::styled(
                format!("{} ", pad_end(&fit(what, desc_w), desc_w)),
                theme.text,
            ));
        }
        lines.push(Line::from(spans));
    }
    if entries.len() > rows * columns
        && let Some(last) = lines.last_mut()
    {
        *last = Line::styled("… more keys: widen the terminal", theme.dim);
    }
    if reminder {
        lines.push(Line::raw(""));
        for text in [
            "Query: words acct:RE desc: payee: note: code: tag:N[=V] amt:>50 cur:EUR",
            "  status:! status:* real: depth:N not:T is:review date:thismonth date:2025q1",
        ] {
            lines.push(Line::styled(fit(text, usize::from(inner.width)), theme.dim));
        }
    }
    // The last error, whole: the status bar may have had room for its start only.
    if let Some(error) = &state.last_error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("Last error: {}", clean(error)),
            theme.error,
        ));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
