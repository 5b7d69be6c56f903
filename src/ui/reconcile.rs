//! The reconcile popup: the statement form (account with its completion, date, balance), then the ticking list — a
//! header with the statement balance, the cleared balance and the difference (green at zero), what tally found for
//! the rest of the difference (the proposed set, or the closest posting and a likely typo), the keys, and one line
//! per posting (ticked mark, `›` on a proposed one, date, description, amount, `FILE:LINE`).

use super::text::{clean, fit, pad_end, pad_start, skip_columns};
use super::theme::Theme;
use crate::app::State;
use crate::app::import::page_height;
use crate::app::reconcile::{FIELDS, ReconcileView, Stage, StatementForm, Ticking};
use crate::domain::Status;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const LABEL_W: usize = 19;

pub fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    (state, view): (&State, &ReconcileView),
    theme: &Theme,
) {
    let popup = super::full_popup(area);
    let title = match &view.stage {
        Stage::Statement(_) => " Reconcile with a statement ".to_string(),
        Stage::Loading(s) => format!(" Reconcile {} ", clean(&s.account)),
        Stage::Ticking(t) | Stage::Saving(t) => format!(
            " Reconcile {} to the statement of {} ",
            clean(&t.statement().account),
            t.statement().date
        ),
    };
    let inner = super::popup(frame, popup, &title, theme);
    if inner.height < 4 || inner.width < 30 {
        return;
    }
    let width = usize::from(inner.width);
    let mut lines = match &view.stage {
        Stage::Statement(form) => form_lines(frame, form, inner, theme),
        Stage::Loading(_) => vec![Line::styled("Reading the account's postings…", theme.dim)],
        Stage::Ticking(t) => ticking_lines(t, (width, page_height(state)), theme, false),
        Stage::Saving(t) => ticking_lines(t, (width, page_height(state)), theme, true),
    };
    let body = usize::from(inner.height).saturating_sub(1);
    lines.truncate(body);
    while lines.len() < body {
        lines.push(Line::raw(""));
    }
    lines.push(match &view.error {
        Some(e) => Line::styled(fit(&clean(e), width), theme.error),
        None => Line::raw(""),
    });
    frame.render_widget(Paragraph::new(lines), inner);
}

fn form_lines<'a>(
    frame: &mut Frame<'_>,
    form: &StatementForm,
    inner: Rect,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let value_w = usize::from(inner.width).saturating_sub(LABEL_W + 1);
    let mut lines = Vec::new();
    for (i, input) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let scroll = if focused {
            input.visual_scroll(value_w)
        } else {
            0
        };
        let value = clean(input.value());
        let mut spans = vec![
            Span::styled(
                pad_end(FIELDS[i], LABEL_W),
                if focused { theme.key } else { theme.dim },
            ),
            Span::raw(" "),
            Span::styled(fit(skip_columns(&value, scroll), value_w), theme.text),
        ];
        if focused && let Some(c) = &form.completion {
            spans.push(Span::styled(format!("  → {}", clean(c)), theme.dim));
        }
        lines.push(Line::from(spans));
        if focused {
            let x = LABEL_W + 1 + input.visual_cursor().saturating_sub(scroll);
            let x = inner.x
                + u16::try_from(x)
                    .unwrap_or(0)
                    .min(inner.width.saturating_sub(1));
            frame.set_cursor_position((x, inner.y + u16::try_from(i).unwrap_or(0)));
        }
    }
    lines.push(match &form.last {
        Some(s) => Line::styled(
            format!("Last reconciled: {} at {}", s.date, s.balance),
            theme.accent,
        ),
        None => Line::raw(""),
    });
    lines.push(Line::styled(
        "The balance as the statement gives it, with its commodity ($1234.56, -80.10 EUR); a bare number takes the \
         account's.",
        theme.dim,
    ));
    lines.push(Line::styled(
        "Enter reads the account · Tab completes / next · ↑/↓ move · Esc cancels",
        theme.dim,
    ));
    lines
}

/// The header, what was found, the keys, then the postings on screen.
fn ticking_lines<'a>(
    t: &Ticking,
    (width, height): (usize, usize),
    theme: &Theme,
    saving: bool,
) -> Vec<Line<'a>> {
    let d = t.difference();
    let balanced = d.quantity.is_zero();
    let header = Line::from(vec![
        Span::styled(
            format!(
                "statement {}   cleared {}   difference ",
                t.statement().balance,
                t.cleared()
            ),
            theme.header,
        ),
        Span::styled(
            d.to_string(),
            if balanced {
                theme.positive
            } else {
                theme.negative
            },
        ),
        Span::styled(format!("   {} ticked", t.ticked.len()), theme.dim),
    ]);
    let found = if balanced {
        vec![
            "Balanced: Enter clears the ticked transactions and asserts the balance, in one save (u undoes it)."
                .to_string(),
        ]
    } else {
        found_text(t)
    };
    let keys = if saving {
        "Saving…"
    } else {
        "Space ticks cleared · p takes the proposal · Enter finishes at zero · Esc leaves, writing nothing"
    };
    let style = if balanced {
        theme.positive
    } else {
        theme.accent
    };
    let mut lines = vec![header];
    lines.extend(
        found
            .iter()
            .map(|f| Line::styled(fit(&clean(f), width), style)),
    );
    lines.push(Line::styled(fit(keys, width), theme.dim));
    for (i, p) in t
        .loaded
        .postings
        .iter()
        .enumerate()
        .skip(t.scroll)
        .take(height)
    {
        let cleared = p.status == Status::Cleared;
        let mark = match (cleared, t.ticked.contains(&i), t.proposed(i)) {
            (true, _, _) => " * ",
            (false, true, _) => "[x]",
            (false, false, true) => "[›]",
            (false, false, false) => "[ ]",
        };
        let rest = width.saturating_sub(3 + 1 + 10 + 1 + 1 + 14 + 1);
        let (desc_w, loc_w) = (rest * 3 / 5, rest - rest * 3 / 5);
        let text = format!(
            "{mark} {} {} {} {}",
            p.date,
            pad_end(&fit(&clean(&p.description), desc_w), desc_w),
            pad_start(&fit(&clean(&p.amount.to_string()), 14), 14),
            fit(&clean(&p.location), loc_w)
        );
        let style = if i == t.cursor {
            theme.cursor
        } else if cleared {
            theme.dim
        } else {
            theme.text
        };
        lines.push(Line::styled(text, style));
    }
    lines
}

/// What tally found for the rest of the difference: the proposal, or why there is none, the closest posting and a
/// likely typo (a line each).
fn found_text(t: &Ticking) -> Vec<String> {
    let Some(r) = &t.found else {
        return vec!["Looking for the postings that make up the difference…".into()];
    };
    if r.exact {
        let n = r.proposal.len();
        return vec![format!(
            "{n} open posting(s) make up the difference exactly (marked ›): p ticks them"
        )];
    }
    let mut lines = vec![format!("No exact set: {}.", r.why_not_exact())];
    if let Some(typo) = &r.typo {
        lines.push(format!(
            "Likely typo: {} {} at {} should be {}.",
            typo.posting.description, typo.posting.amount, typo.posting.location, typo.likely
        ));
    } else if let Some(c) = &r.closest {
        lines.push(format!(
            "Closest: {} {} {} ({}).",
            c.date, c.description, c.amount, c.location
        ));
    }
    lines
}
