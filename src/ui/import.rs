//! The import popup: the file prompt with its path completions, then the preview — a summary line (new, duplicates,
//! possible duplicates, skipped, how many will be imported), the keys, the cursor row's `CSV:LINE` and the journal
//! transaction a (possible) duplicate is taken for, one line per CSV row (accepted mark, what it is and of
//! which `FILE:LINE`, date, description, amount, the other account), the cursor row highlighted.

use super::text::{clean, fit, pad_end, pad_start, skip_columns};
use super::theme::Theme;
use crate::app::State;
use crate::app::import::{ImportPreview, Review, Stage, page_height};
use crate::import::{Row, RowFate};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    (state, preview): (&State, &ImportPreview),
    theme: &Theme,
) {
    let popup = super::full_popup(area);
    let title = match &preview.stage {
        Stage::File { .. } => " Import bank CSV ".to_string(),
        Stage::Reading(r)
        | Stage::Review(Review { request: r, .. })
        | Stage::Saving(Review { request: r, .. }) => {
            let names: Vec<String> = r.csvs.iter().map(|p| p.display().to_string()).collect();
            format!(" Import {} ", clean(&names.join(", ")))
        }
    };
    let inner = super::popup(frame, popup, &title, theme);
    if inner.height < 3 || inner.width < 20 {
        return;
    }
    let width = usize::from(inner.width);
    let mut lines = match &preview.stage {
        Stage::File { input, completions } => {
            let lines = file_lines((input, completions), inner, theme);
            let scroll = input.visual_scroll(width.saturating_sub(11));
            let x = 10 + input.visual_cursor().saturating_sub(scroll);
            frame.set_cursor_position((
                inner.x + u16::try_from(x).unwrap_or(0).min(inner.width - 1),
                inner.y,
            ));
            lines
        }
        Stage::Reading(_) => vec![Line::styled(
            "Reading the CSV and looking for duplicates…",
            theme.dim,
        )],
        Stage::Review(review) => review_lines(review, (width, page_height(state)), theme, false),
        Stage::Saving(review) => review_lines(review, (width, page_height(state)), theme, true),
    };
    let footer = match &preview.error {
        Some(e) => Line::styled(fit(&clean(e), width), theme.error),
        None => Line::raw(""),
    };
    let body = usize::from(inner.height).saturating_sub(1);
    lines.truncate(body);
    while lines.len() < body {
        lines.push(Line::raw(""));
    }
    lines.push(footer);
    frame.render_widget(Paragraph::new(lines), inner);
}

fn file_lines<'a>(
    (input, completions): (&tui_input::Input, &[String]),
    inner: Rect,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let value_w = usize::from(inner.width).saturating_sub(11);
    let value = clean(input.value());
    let shown = fit(skip_columns(&value, input.visual_scroll(value_w)), value_w);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(pad_end("CSV file", 10), theme.key),
            Span::styled(shown, theme.text),
        ]),
        Line::styled(
            "The rules file is the CSV's name plus .rules, beside it (as hledger looks for it).",
            theme.dim,
        ),
        Line::styled("Tab completes · Enter reads it · Esc cancels", theme.dim),
        Line::raw(""),
    ];
    let room = usize::from(inner.height).saturating_sub(lines.len() + 1);
    lines.extend(
        completions
            .iter()
            .take(room)
            .map(|c| Line::styled(fit(&clean(c), usize::from(inner.width)), theme.dim)),
    );
    lines
}

/// The summary, the column header, the rows on screen and the keys.
fn review_lines<'a>(
    review: &Review,
    (width, height): (usize, usize),
    theme: &Theme,
    saving: bool,
) -> Vec<Line<'a>> {
    let plan = &review.plan;
    let count = |f: &dyn Fn(&RowFate) -> bool| plan.count(f);
    let summary = format!(
        "{} new · {} already in the ledger · {} possible duplicates · {} skipped by a rule — {} to import",
        count(&|f| *f == RowFate::New),
        count(&|f| matches!(f, RowFate::Duplicate(_))),
        count(&|f| matches!(f, RowFate::Possible(_))),
        count(&|f| *f == RowFate::Skipped),
        plan.accepted(),
    );
    let mut lines = vec![Line::styled(fit(&summary, width), theme.header)];
    let keys = if saving {
        "Importing…".to_string()
    } else {
        format!(
            "Space accepts/rejects · A accepts all new and possible · N none · Enter imports {} in one write · Esc cancels",
            plan.accepted()
        )
    };
    lines.push(Line::styled(fit(&keys, width), theme.dim));
    // Where the cursor row came from and, for a (possible) duplicate, the journal transaction it is taken for.
    let here = plan
        .rows
        .get(review.cursor)
        .map(|r| match (&r.fate, &r.matched) {
            (RowFate::Duplicate(at) | RowFate::Possible(at), Some(m)) => {
                format!("{}  ≈ {at}: {m}", r.csv)
            }
            _ => r.csv.clone(),
        });
    lines.push(Line::styled(
        fit(&clean(&here.unwrap_or_default()), width),
        theme.accent,
    ));
    let rows = plan
        .rows
        .iter()
        .enumerate()
        .skip(review.scroll)
        .take(height);
    for (i, row) in rows {
        let style = if i == review.cursor {
            theme.cursor
        } else if row.accept {
            theme.text
        } else {
            theme.dim
        };
        lines.push(Line::styled(row_text(row, width), style));
    }
    lines
}

/// `[x] new            2026-01-05 STARBUCKS         $-4.50  expenses:unknown`.
fn row_text(row: &Row, width: usize) -> String {
    let mark = match (&row.txn, row.accept) {
        (None, _) => "   ",
        (Some(_), true) => "[x]",
        (Some(_), false) => "[ ]",
    };
    let fate = match &row.fate {
        RowFate::New => "new".to_string(),
        RowFate::Duplicate(at) => format!("duplicate of {at}"),
        RowFate::Possible(at) => format!("possible dup. of {at}"),
        RowFate::Skipped => format!("skipped ({})", row.csv),
    };
    let fate_w = (width / 3).clamp(12, 40);
    let Some(t) = &row.txn else {
        return format!("{mark} {}", fit(&fate, width.saturating_sub(4)));
    };
    let amount = t
        .postings
        .first()
        .map(|p| crate::domain::Money::new(p.quantity, p.currency.trim()).to_string())
        .unwrap_or_default();
    let other = t.postings.get(1).map(|p| p.account.as_str()).unwrap_or("");
    let rest = width.saturating_sub(4 + fate_w + 1 + 11 + 14);
    let (desc_w, other_w) = (rest * 3 / 5, rest - rest * 3 / 5);
    format!(
        "{mark} {} {} {} {} {}",
        pad_end(&fit(&fate, fate_w), fate_w),
        t.date,
        pad_end(&fit(&clean(&t.description), desc_w), desc_w),
        pad_start(&fit(&clean(&amount), 12), 12),
        fit(&clean(other), other_w)
    )
}
