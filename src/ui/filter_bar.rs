//! The filter bar: `/` and the query as typed (with the cursor while editing), the review-queue badge and the sort
//! order on the right; a bad query gets a second line with `^` under the column of the error and the message,
//! while the table keeps showing the last good result.

use super::text::{clean, fit, skip_columns};
use super::theme::Theme;
use crate::app::{Mode, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 || area.width < 4 {
        return;
    }
    let editing = matches!(state.screen.mode, Mode::Filter);
    let mut right = Vec::new();
    if state.filter.review {
        right.push(Span::styled(" REVIEW QUEUE ", theme.cursor));
        right.push(Span::raw(" "));
    }
    let arrow = if state.screen.table.ascending {
        "↑"
    } else {
        "↓"
    };
    right.push(Span::styled(
        format!("sort {} {arrow}", state.screen.table.sort.name()),
        theme.dim,
    ));
    let right_width: usize = right.iter().map(|s| s.content.width()).sum();
    let prompt = "/ ";
    let input_width = usize::from(area.width)
        .saturating_sub(right_width + prompt.len() + 1)
        .max(1);
    let value = state.filter.input.value();
    let scroll = state.filter.input.visual_scroll(input_width);
    let value = clean(value);
    let shown = skip_columns(&value, scroll);
    let mut spans = vec![Span::styled(
        prompt,
        if editing { theme.key } else { theme.dim },
    )];
    if value.is_empty() && !editing {
        let key = state
            .settings
            .keymap
            .key_text(crate::config::keymap::Command::Filter);
        spans.push(Span::styled(
            fit(
                &format!(
                    "press {key} to filter: words, acct:, tag:, amt:>50, date:2025-03, is:review"
                ),
                input_width,
            ),
            theme.dim,
        ));
    } else {
        spans.push(Span::styled(fit(shown, input_width), theme.text));
    }
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let pad = usize::from(area.width).saturating_sub(used + right_width);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.extend(right);
    frame.render_widget(Line::from(spans), Rect { height: 1, ..area });
    if editing {
        let x = state.filter.input.visual_cursor().saturating_sub(scroll) + prompt.len();
        let x = area.x + u16::try_from(x).unwrap_or(u16::MAX).min(area.width - 1);
        frame.set_cursor_position((x, area.y));
    }
    if let (Some(err), true) = (&state.filter.error, area.height > 1) {
        let col = (err.column.saturating_sub(1) + prompt.len()).saturating_sub(scroll);
        let col = col.min(usize::from(area.width).saturating_sub(2));
        let msg = fit(
            &format!("^ {}", err.message),
            usize::from(area.width).saturating_sub(col),
        );
        let line = Line::from(vec![
            Span::raw(" ".repeat(col)),
            Span::styled(msg, theme.error),
        ]);
        frame.render_widget(
            line,
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
        );
    }
}
