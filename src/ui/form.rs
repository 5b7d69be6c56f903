//! The add-transaction form popup: one line per field (label, text, a dim completion after it), a *new account*
//! mark on accounts the ledger does not have, the reason a save was refused, and the keys.

use super::centered;
use super::text::{clean, fit, pad_end, skip_columns};
use super::theme::Theme;
use crate::app::State;
use crate::app::form::{AddForm, Field};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

const LABEL_W: usize = 13;

pub fn draw(frame: &mut Frame<'_>, area: Rect, (state, form): (&State, &AddForm), theme: &Theme) {
    let height = u16::try_from(form.fields.len() + 6).unwrap_or(16);
    let popup = centered(area, area.width.saturating_sub(4).min(76), height);
    let title = if form.saving {
        " Add a transaction — saving… "
    } else {
        " Add a transaction "
    };
    let inner = super::popup(frame, popup, title, theme);
    if inner.height == 0 || inner.width < 20 {
        return;
    }
    let accounts = state.data.account_names();
    let value_w = usize::from(inner.width).saturating_sub(LABEL_W + 1);
    let mut lines = Vec::new();
    for (i, input) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if focused { theme.key } else { theme.dim };
        let scroll = if focused {
            input.visual_scroll(value_w)
        } else {
            0
        };
        let value = clean(input.value());
        let shown = fit(skip_columns(&value, scroll), value_w);
        let mut spans = vec![
            Span::styled(pad_end(&AddForm::label(i), LABEL_W), label_style),
            Span::raw(" "),
            Span::styled(shown.clone(), theme.text),
        ];
        if focused && let Some(c) = &form.completion {
            spans.push(Span::styled(format!("  → {}", clean(c)), theme.dim));
        }
        if let Field::Account(p) = AddForm::field(i)
            && !focused
            && form.is_new_account(p, &accounts)
        {
            spans.push(Span::styled("  (new account)", theme.accent));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    match &form.error {
        Some(e) => lines.push(Line::styled(clean(e).into_owned(), theme.error)),
        None => lines.push(Line::styled(
            "One amount may stay empty: it balances the others.",
            theme.dim,
        )),
    }
    lines.push(Line::styled(
        "Enter saves · Tab completes / next · ↑/↓ move · Esc cancels",
        theme.dim,
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    let input = &form.fields[form.focus];
    let x = LABEL_W
        + 1
        + input
            .visual_cursor()
            .saturating_sub(input.visual_scroll(value_w));
    let x = inner.x
        + u16::try_from(x)
            .unwrap_or(0)
            .min(inner.width.saturating_sub(1));
    let y = inner.y + u16::try_from(form.focus).unwrap_or(0);
    if y < inner.y + inner.height {
        frame.set_cursor_position((x, y));
    }
}
