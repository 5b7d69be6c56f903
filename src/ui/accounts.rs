//! The accounts pane: every account as a tree (assets, liabilities, equity, income, expenses), each with its total
//! including subaccounts, down to the depth `-`/`+` set; real accounts also get a sparkline of month-end balances
//! over the last year of data, continued (dimmed) by the balance projected from recurring transactions for the
//! next months. `Enter` turns the table into the register of the account under the cursor and its subaccounts.

use super::text::{fit, is_negative, level_sparkline, money, pad_end};
use super::theme::Theme;
use super::{pane_block, title};
use crate::app::{PROJECTION_MONTHS, Phase, SPARK_MONTHS, State};
use crate::domain::Balance;
use crate::layout::Pane;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use unicode_width::UnicodeWidthStr;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let focused = matches!(state.screen.focus, Pane::Accounts);
    let block = pane_block(
        Line::from(title("Accounts", focused, theme)),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.phase != Phase::Ready {
        return;
    }
    if state.data.tree.is_empty() {
        frame.render_widget(Span::styled("No accounts.", theme.dim), inner);
        return;
    }
    let width = usize::from(inner.width);
    let height = usize::from(inner.height).max(1);
    let ahead = PROJECTION_MONTHS as usize;
    let (spark_w, ahead) = if width >= 32 + ahead {
        (SPARK_MONTHS + ahead, ahead)
    } else if width >= 32 {
        (SPARK_MONTHS, 0)
    } else {
        (0, 0)
    };
    let top = state.screen.account_cursor.saturating_sub(height - 1);
    let mut lines = Vec::new();
    for (i, row) in state.data.tree.iter().enumerate().skip(top).take(height) {
        let balance = money(&row.total);
        // A balance in several commodities takes the sparkline's room: amounts are never cut.
        let several = row.total.non_zero().nth(1).is_some();
        let spark_w = if row.history.is_empty() || several {
            0
        } else {
            spark_w
        };
        let name_w = width.saturating_sub(balance.width() + spark_w + 2).max(4);
        let fold = if row.has_children && row.depth == state.screen.account_depth {
            "+"
        } else {
            ""
        };
        let name = format!("{}{}{fold}", "  ".repeat(row.depth - 1), row.leaf());
        let mut spans = vec![Span::raw(pad_end(&fit(&name, name_w), name_w))];
        spans.push(Span::raw(" "));
        spans.push(Span::styled(balance, theme.amount(is_negative(&row.total))));
        if spark_w > 0 {
            let mut values: Vec<f64> = row
                .history
                .iter()
                .map(|d| d.to_f64().unwrap_or(0.0))
                .collect();
            let projected = projection(state, &row.name, &row.total, ahead);
            let past = values.len();
            values.extend(projected.iter().map(|d| d.to_f64().unwrap_or(0.0)));
            // Past and projected months on one scale; the projection is drawn dimmed.
            let line = level_sparkline(&values);
            let (then, next): (String, String) = (
                line.chars().take(past).collect(),
                line.chars().skip(past).collect(),
            );
            let pad = spark_w.saturating_sub(values.len());
            spans.push(Span::raw(" ".repeat(pad + 1)));
            spans.push(Span::styled(then, theme.bar));
            spans.push(Span::styled(next, theme.dim));
        }
        let mut line = Line::from(spans);
        if focused && i == state.screen.account_cursor {
            line = line.style(theme.cursor);
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The balance projected for `account` (in its main commodity) at the end of each of the next `months` months.
fn projection(state: &State, account: &str, balance: &Balance, months: usize) -> Vec<Decimal> {
    let Some(main) = balance.non_zero().next() else {
        return Vec::new();
    };
    state
        .data
        .projections
        .accounts
        .iter()
        .find(|p| p.account == account && p.commodity == main.commodity)
        .map(|p| p.months.iter().take(months).map(|m| m.balance).collect())
        .unwrap_or_default()
}
