//! The accounts pane: real accounts (assets and liabilities) with their balance and a sparkline of month-end
//! balances over the last year of data. `Enter` filters the table by the account under the cursor.

use super::text::{fit, is_negative, level_sparkline, money};
use super::theme::Theme;
use super::{pane_block, title};
use crate::app::{Pane, Phase, SPARK_MONTHS, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use rust_decimal::prelude::ToPrimitive;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let focused = matches!(state.focus, Pane::Accounts);
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
    if state.accounts.is_empty() {
        frame.render_widget(
            Span::styled("No asset or liability accounts.", theme.dim),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    let height = usize::from(inner.height).max(1);
    let spark_w = if width >= 32 { SPARK_MONTHS } else { 0 };
    let top = state.account_cursor.saturating_sub(height - 1);
    let mut lines = Vec::new();
    for (i, row) in state.accounts.iter().enumerate().skip(top).take(height) {
        let balance = money(&row.account.balance);
        let name_w = width
            .saturating_sub(balance.chars().count() + spark_w + 2)
            .max(4);
        let mut spans = vec![Span::raw(format!(
            "{:<name_w$}",
            fit(&row.account.name, name_w)
        ))];
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            balance,
            theme.amount(is_negative(&row.account.balance)),
        ));
        if spark_w > 0 {
            let values: Vec<f64> = row
                .history
                .iter()
                .map(|d| d.to_f64().unwrap_or(0.0))
                .collect();
            spans.push(Span::raw(" "));
            spans.push(Span::styled(
                format!("{:>spark_w$}", level_sparkline(&values)),
                theme.bar,
            ));
        }
        let mut line = Line::from(spans);
        if focused && i == state.account_cursor {
            line = line.style(theme.cursor);
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
