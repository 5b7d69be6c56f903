//! The transaction table: selection mark, date, status, payee/description, category, amount, tags. Filtered to
//! accounts (`acct:`, the accounts pane's Enter) it is their register: each row's amount is what moved in those
//! accounts, and by date a Balance column runs. It is
//! virtualised — it draws only the rows on screen, taken from the loaded window; rows whose page is still on its
//! way show as `…`. Also shows the loading indicator before the backend has opened, and the reason when it failed.

use super::text::{clean, fit, is_negative, money, thousands};
use super::theme::Theme;
use super::{centered, pane_block, status_bar::spinner, title};
use crate::app::{Phase, State};
use crate::backend::SortKey;
use crate::domain::{Balance, Status, Transaction};
use crate::layout::Pane;
use crate::query::Pattern;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};
use std::fmt::Write;
use unicode_width::UnicodeWidthStr;

/// A date in the configured format; ISO when the format cannot render it.
pub fn format_date(date: NaiveDate, format: &str) -> String {
    let mut out = String::new();
    if write!(out, "{}", date.format(format)).is_err() {
        out.clear();
        out.push_str(&date.to_string());
    }
    out
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let focused = matches!(state.screen.focus, Pane::Transactions);
    if state.phase != Phase::Ready {
        draw_not_ready(frame, area, state, (focused, theme));
        return;
    }
    let total = state.txns.total.unwrap_or(0);
    let mut head = vec![title("Transactions", focused, theme)];
    if state.filter.review {
        head.push(Span::styled("review queue ", theme.accent));
    }
    let block = pane_block(Line::from(head), focused, theme).title_bottom(
        Line::from(Span::styled(
            if total == 0 {
                String::new()
            } else {
                format!(
                    " {} of {} ",
                    thousands(state.screen.table.cursor + 1),
                    thousands(total)
                )
            },
            theme.dim,
        ))
        .alignment(Alignment::Right),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.txns.total == Some(0) {
        let msg = if state.filter.applied.is_empty() && !state.filter.review {
            "No transactions."
        } else {
            "Nothing matches the filter (Esc clears it)."
        };
        frame.render_widget(Span::styled(msg, theme.dim), inner);
        return;
    }
    let rows_on_screen = usize::from(inner.height.saturating_sub(1));
    let query = state.effective_query();
    let focus = query.account_focus();
    let (widths, header, mut cols) =
        columns(state, inner.width, (total, rows_on_screen), (&focus, theme));
    // The category column's width as the table will lay it out, so a long account shortens from its middle.
    cols.category_w = ratatui::layout::Layout::horizontal(widths.clone())
        .flex(ratatui::layout::Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, inner.width, 1))
        .get(4)
        .map_or(0, |r| usize::from(r.width));
    let mut rows = Vec::with_capacity(rows_on_screen);
    for i in state.screen.table.top..(state.screen.table.top + rows_on_screen).min(total) {
        let row = match state.txns.get(i) {
            Some(t) => txn_row(t, state, (theme, &focus), cols),
            None => Row::new([Cell::from(""), Cell::from(Span::styled("…", theme.dim))]),
        };
        let selected = state
            .txns
            .get(i)
            .is_some_and(|t| state.screen.selection.ids.contains(&t.id));
        let style = if i == state.screen.table.cursor
            && (focused || matches!(state.screen.focus, Pane::Detail))
        {
            theme.cursor
        } else if i == state.screen.table.cursor {
            theme.cursor.patch(theme.dim)
        } else if selected {
            theme.selected
        } else {
            theme.text
        };
        rows.push(row.style(style));
    }
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, inner);
}

/// The amount a row shows: what moved in the accounts the filter is about (a register), else the transaction's.
fn shown_amount(t: &Transaction, focus: &[&Pattern]) -> Balance {
    if focus.is_empty() {
        t.amount()
    } else {
        let mut b = Balance::new();
        crate::query::amount_in(t, focus, &mut b);
        b
    }
}

/// Which optional columns the table has.
#[derive(Debug, Clone, Copy)]
struct Optional {
    /// The running balance (a register by date).
    balance: bool,
    /// The review queue's reasons.
    why: bool,
    tags: bool,
    /// The category column's width (0: not known).
    category_w: usize,
}

/// The table's columns for what is on screen: their widths and the header row (the sorted column carries the
/// direction). The amount (and balance) columns fit the widest on screen; in the review queue the last column says
/// why.
fn columns<'a>(
    state: &State,
    inner_width: u16,
    (total, rows_on_screen): (usize, usize),
    (focus, theme): (&[&Pattern], &Theme),
) -> (Vec<Constraint>, Row<'a>, Optional) {
    let on_screen = || {
        (state.screen.table.top..(state.screen.table.top + rows_on_screen).min(total))
            .filter_map(|i| state.txns.get(i))
    };
    let date_w = format_date(
        NaiveDate::MIN.max(state.settings.today),
        &state.settings.date_format,
    )
    .width()
    .max(8);
    let wide = inner_width >= 100;
    // The amount column fits the widest amount on screen: an amount is never cut (a cut minus sign would turn
    // money out into money in); the description gives way.
    let widest = on_screen()
        .map(|t| money(&shown_amount(t, focus)).width())
        .max()
        .unwrap_or(0);
    // Several commodities make a wide amount: the column widens (the description gives way), up to all but the
    // date and status columns.
    let amount_w = widest
        .max(if wide { 16 } else { 12 })
        .min(usize::from(inner_width).saturating_sub(date_w + 8));
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(u16::try_from(date_w).unwrap_or(10)),
        Constraint::Length(1),
        Constraint::Fill(4),
        Constraint::Fill(2),
        Constraint::Length(u16::try_from(amount_w).unwrap_or(16)),
    ];
    let mut header = vec!["", "Date", "", "Payee / description", "Category", "Amount"];
    let mut cols = Optional {
        balance: false,
        why: false,
        tags: false,
        category_w: 0,
    };
    if !state.txns.balances.is_empty() && !focus.is_empty() {
        let widest = on_screen()
            .filter_map(|t| state.txns.balances.get(&t.id))
            .map(|b| money(b).width())
            .max()
            .unwrap_or(0)
            .max(12);
        widths.push(Constraint::Length(u16::try_from(widest).unwrap_or(16)));
        header.push("Balance");
        cols.balance = true;
    }
    if inner_width >= 70 && state.filter.review {
        // In the review queue the last column says why each row is there (what `r` or `c` would settle), as wide
        // as the widest reason on screen (up to 22 columns: "pending, no category" fits).
        cols.why = true;
        let why_w = on_screen()
            .map(|t| crate::ops::review_reasons(t).join(", ").width())
            .max()
            .unwrap_or(0)
            .clamp(4, 22);
        widths.push(Constraint::Length(u16::try_from(why_w).unwrap_or(22)));
        header.push("Why");
    } else if inner_width >= 70 {
        cols.tags = true;
        widths.push(Constraint::Fill(2));
        header.push("Tags");
    }
    // The sorted column carries the direction.
    let sorted = match state.screen.table.sort {
        SortKey::Date => 1,
        SortKey::Status => 2,
        SortKey::Payee => 3,
        SortKey::Category => 4,
        SortKey::Amount => 5,
    };
    let arrow = if state.screen.table.ascending {
        "▲"
    } else {
        "▼"
    };
    let header = Row::new(header.into_iter().enumerate().map(|(i, h)| {
        let text = match (i == sorted, h.is_empty()) {
            (false, _) => h.to_string(),
            (true, true) => arrow.to_string(),
            (true, false) if i == 5 => format!("{arrow}{h}"),
            (true, false) => format!("{h}{arrow}"),
        };
        if i == 5 || (i == 6 && cols.balance) {
            Cell::from(Line::from(text).alignment(Alignment::Right))
        } else {
            Cell::from(text)
        }
    }))
    .style(theme.header);
    (widths, header, cols)
}

/// The pane while the data source opens, or when it could not be opened.
fn draw_not_ready(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &State,
    (focused, theme): (bool, &Theme),
) {
    let block = pane_block(
        Line::from(title("Transactions", focused, theme)),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match &state.phase {
        Phase::Loading => {
            let text = format!(
                "{} Loading {}…",
                spinner(state),
                clean(&state.settings.source_label)
            );
            let r = centered(inner, u16::try_from(text.width()).unwrap_or(u16::MAX), 1);
            frame.render_widget(Span::styled(text, theme.accent), r);
        }
        Phase::Failed(message) => {
            let lines = vec![
                Line::styled("Could not open the data source:", theme.error),
                Line::raw(""),
                Line::styled(clean(message).into_owned(), theme.text),
                Line::raw(""),
                Line::styled("q quits", theme.dim),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        }
        Phase::Ready => {}
    }
}

fn txn_row<'a>(
    t: &Transaction,
    state: &State,
    (theme, focus): (&Theme, &[&Pattern]),
    cols: Optional,
) -> Row<'a> {
    let mark = if state.screen.selection.ids.contains(&t.id) {
        "●"
    } else if t.read_only {
        "∅"
    } else {
        " "
    };
    let status = match t.status {
        Status::Cleared => "*",
        Status::Pending => "!",
        Status::Unmarked => " ",
    };
    let date_style = if t.date > state.settings.today {
        theme.dim
    } else {
        theme.text
    };
    let amount = shown_amount(t, focus);
    let desc = if t.payee.is_empty() || t.payee == t.description {
        clean(&t.description).into_owned()
    } else {
        format!(
            "{} | {}",
            clean(&t.payee),
            clean(
                t.description
                    .split_once('|')
                    .map_or(t.description.as_str(), |(_, n)| n.trim())
            )
        )
    };
    let category = match t.category.as_deref() {
        None => "—",
        // The table drops the `expenses:`/`income:` part (the sign tells them apart); the detail view shows all.
        Some(c) if crate::domain::account_kind(c).is_category() => {
            c.split_once(':').map_or(c, |(_, rest)| rest)
        }
        Some(c) => c,
    };
    let mut cells = vec![
        Cell::from(mark),
        Cell::from(Span::styled(
            format_date(t.date, &state.settings.date_format),
            date_style,
        )),
        Cell::from(status),
        Cell::from(desc),
        Cell::from(if cols.category_w > 0 {
            super::text::fit_account(category, cols.category_w)
        } else {
            clean(category).into_owned()
        }),
        Cell::from(
            Line::from(Span::styled(
                money(&amount),
                theme.amount(is_negative(&amount)),
            ))
            .alignment(Alignment::Right),
        ),
    ];
    if cols.balance {
        cells.push(match state.txns.balances.get(&t.id) {
            Some(b) => Cell::from(
                Line::from(Span::styled(money(b), theme.amount(is_negative(b))))
                    .alignment(Alignment::Right),
            ),
            None => Cell::from(""),
        });
    }
    if cols.why {
        let why = crate::ops::review_reasons(t);
        cells.push(if why.is_empty() {
            // Reviewed here, waiting for the write and the refresh that takes it out of the queue.
            Cell::from(Span::styled("done", theme.dim))
        } else {
            Cell::from(Span::styled(why.join(", "), theme.accent))
        });
    } else if cols.tags {
        let tags = t
            .tags
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        cells.push(Cell::from(Span::styled(fit(&tags, 200), theme.accent)));
    }
    Row::new(cells)
}
