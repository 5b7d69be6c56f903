//! The analytics pane for the current filter: income, spending and net sparklines per day, week, month or year,
//! the highlighted period's figures, and a breakdown by category, tag, payee or account as horizontal bars (for
//! the highlighted period, or the whole filter when none is highlighted). Sums are per commodity; the sparklines
//! show the commodity with the most money moved.

use super::text::{
    bar, clean, fit, fit_account, is_negative, money, pad_end, pad_start, sparkline,
};
use super::theme::Theme;
use super::{pane_block, title};
use crate::app::{Analytics, Phase, State};
use crate::backend::{Dimension, GroupBy, PeriodSummary};
use crate::config::keymap::Command;
use crate::domain::{Balance, account_kind};
use crate::layout::Pane;
use chrono::{Datelike, NaiveDate};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use unicode_width::UnicodeWidthStr;

/// The commodity the sparklines show: among those with income or spending in `periods`, the one most of the
/// holder's accounts are kept in (their home currency; amounts in different currencies cannot be compared), then
/// the one with the most money moved.
pub fn main_commodity(
    periods: &[PeriodSummary],
    accounts: &[crate::app::AccountRow],
) -> Option<String> {
    let mut moved = Balance::new();
    for p in periods {
        for m in p.income.amounts().iter().chain(p.spending.amounts()) {
            moved.add(m.quantity.abs(), &m.commodity);
        }
    }
    let held = |c: &str| {
        accounts
            .iter()
            .filter(|a| {
                a.account
                    .balance
                    .non_zero()
                    .next()
                    .is_some_and(|m| m.commodity == c)
            })
            .count()
    };
    moved
        .amounts()
        .iter()
        .filter(|m| !m.quantity.is_zero())
        .max_by(|a, b| {
            held(&a.commodity)
                .cmp(&held(&b.commodity))
                .then(a.quantity.cmp(&b.quantity))
        })
        .map(|m| m.commodity.clone())
}

/// A short label for the period starting on `start`.
pub fn period_label(start: NaiveDate, group_by: GroupBy) -> String {
    match group_by {
        GroupBy::Day | GroupBy::Week => start.format("%Y-%m-%d").to_string(),
        GroupBy::Month => start.format("%Y-%m").to_string(),
        GroupBy::Year => start.year().to_string(),
    }
}

/// A breakdown key as shown: categories without their `expenses:`/`income:` part.
fn bar_key(key: &str, dimension: Dimension) -> &str {
    if dimension == Dimension::Category && account_kind(key).is_category() {
        key.split_once(':').map_or(key, |(_, rest)| rest)
    } else {
        key
    }
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let focused = matches!(state.screen.focus, Pane::Analytics);
    let a = &state.analytics;
    let head = format!(
        "Analytics · by {} · {}",
        a.group_by.name(),
        a.dimension.name()
    );
    let block = pane_block(Line::from(title(head, focused, theme)), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.phase != Phase::Ready {
        return;
    }
    if !a.loaded {
        frame.render_widget(Span::styled("…", theme.dim), inner);
        return;
    }
    let width = usize::from(inner.width);
    let Some(commodity) = main_commodity(&a.periods, &state.data.accounts) else {
        let empty = Line::styled("No income or spending for this filter.", theme.dim);
        frame.render_widget(Paragraph::new(vec![empty]), inner);
        return;
    };
    let mut lines = trend_lines(a, &commodity, width, theme);
    lines.push(Line::styled(fit(&keys_line(state), width), theme.dim));
    let scope = match a.period.and_then(|p| a.periods.get(p)) {
        Some(p) => format!(
            "{} {}..{}",
            a.dimension.name(),
            p.start,
            a.group_by.period_end(p.start)
        ),
        // The whole filter: its dates, when it has some.
        None => {
            let range = state.effective_query().date_range();
            match (range.start, range.end) {
                (None, None) => format!("{}, all dates", a.dimension.name()),
                (s, e) => format!(
                    "{} {}..{}",
                    a.dimension.name(),
                    s.map(|d| d.to_string()).unwrap_or_default(),
                    e.map(|d| d.to_string()).unwrap_or_default()
                ),
            }
        }
    };
    lines.push(Line::styled(
        fit(&format!("By {scope}"), width),
        theme.header,
    ));
    let room = usize::from(inner.height).saturating_sub(lines.len());
    // Recurring transactions found in the history get the last lines when there is room for them and a few bars.
    let recurring = &state.data.projections.recurring;
    let recurring_lines = if recurring.is_empty() || room < 8 {
        0
    } else {
        recurring.len().min(room / 3) + 1
    };
    lines.extend(breakdown_lines(
        a,
        &commodity,
        (width, room - recurring_lines),
        theme,
    ));
    if recurring_lines > 0 {
        lines.resize(usize::from(inner.height) - recurring_lines, Line::raw(""));
        lines.push(Line::styled(
            fit("Recurring (from the history)", width),
            theme.header,
        ));
        for r in recurring.iter().take(recurring_lines - 1) {
            lines.push(recurring_line(r, width, theme));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Income, spending and net per period as sparklines with the highlighted period's (or the total) figure, and the
/// axis under them: a caret under the highlighted period, or the range shown.
fn trend_lines<'a>(a: &Analytics, commodity: &str, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let label_w = 9;
    let value_w = 14;
    let spark_w = width.saturating_sub(label_w + value_w + 2).max(1);
    let start = a.periods.len().saturating_sub(spark_w);
    let shown = &a.periods[start..];
    let focus_period = a.period.and_then(|p| a.periods.get(p));
    let pick = |p: &PeriodSummary, which: usize| match which {
        0 => p.income.get(commodity),
        1 => p.spending.get(commodity),
        _ => p.net.get(commodity),
    };
    let mut lines = Vec::new();
    for (which, name) in ["income", "spending", "net"].into_iter().enumerate() {
        let values: Vec<f64> = shown.iter().map(|p| f(pick(p, which))).collect();
        let figure = match focus_period {
            Some(p) => pick(p, which),
            None => shown.iter().map(|p| pick(p, which)).sum(),
        };
        let mut b = Balance::new();
        b.add(figure, commodity);
        let style = match which {
            0 => theme.positive,
            1 => theme.negative,
            _ => theme.amount(figure.is_sign_negative()),
        };
        let mut spans = vec![Span::styled(format!("{name:<label_w$}"), theme.dim)];
        if which == 2 {
            // Net is signed: colour each bar by its sign.
            for (v, c) in values.iter().zip(sparkline(&values).chars()) {
                spans.push(Span::styled(c.to_string(), theme.amount(*v < 0.0)));
            }
        } else {
            spans.push(Span::styled(sparkline(&values), style));
        }
        let pad = spark_w.saturating_sub(values.len());
        spans.push(Span::raw(" ".repeat(pad + 1)));
        spans.push(Span::styled(pad_start(&money(&b), value_w), style));
        lines.push(Line::from(spans));
    }
    let mut axis = " ".repeat(label_w);
    match (a.period, shown.first(), shown.last()) {
        (Some(p), _, _) if p >= start => {
            axis.push_str(&" ".repeat(p - start));
            axis.push('^');
            axis.push(' ');
            if let Some(per) = a.periods.get(p) {
                axis.push_str(&period_label(per.start, a.group_by));
            }
        }
        (_, Some(first), Some(last)) => {
            // The figures on the right add up these periods.
            axis.push_str(&format!(
                "Σ {} … {}",
                period_label(first.start, a.group_by),
                period_label(last.start, a.group_by)
            ));
        }
        _ => {}
    }
    lines.push(Line::styled(fit(&axis, width), theme.dim));
    lines
}

/// The pane's keys, as bound: `[/] period  1-4 group  b breakdown`.
fn keys_line(state: &State) -> String {
    format!(
        "{} period  {}-{} group  {} breakdown",
        [Command::PrevPeriod, Command::NextPeriod]
            .map(|c| state.settings.keymap.key_text(c))
            .join("/"),
        state.settings.keymap.key_text(Command::GroupDay),
        state.settings.keymap.key_text(Command::GroupYear),
        state.settings.keymap.key_text(Command::NextDimension),
    )
}

/// The breakdown's bars, largest first, as many as `room` lines hold.
fn breakdown_lines<'a>(
    a: &Analytics,
    commodity: &str,
    (width, room): (usize, usize),
    theme: &Theme,
) -> Vec<Line<'a>> {
    let max = a
        .breakdown
        .iter()
        .map(|r| r.total.get(commodity).abs())
        .max()
        .unwrap_or_default();
    let shown = |row: &crate::backend::BreakdownRow| {
        let total = row.total.get(commodity);
        if total.is_zero() {
            money(&row.total)
        } else {
            let mut b = Balance::new();
            b.add(total, commodity);
            money(&b)
        }
    };
    // Amounts are never cut: their column fits the widest shown; the bar, then the key, give way.
    let amount_w = a
        .breakdown
        .iter()
        .take(room)
        .map(|r| shown(r).width())
        .max()
        .unwrap_or(0)
        .clamp(8, width.saturating_sub(8).max(8));
    let key_w = (width / 3)
        .clamp(6, 24)
        .min(width.saturating_sub(amount_w + 3).max(4));
    let bar_w = width.saturating_sub(key_w + amount_w + 2).max(1);
    a.breakdown
        .iter()
        .take(room)
        .map(|row| {
            let total = row.total.get(commodity);
            let frac = if max.is_zero() {
                0.0
            } else {
                f(total.abs()) / f(max)
            };
            let shown_total = shown(row);
            Line::from(vec![
                Span::raw(format!(
                    "{} ",
                    pad_end(
                        &fit_account(&clean(bar_key(&row.key, a.dimension)), key_w),
                        key_w
                    )
                )),
                Span::styled(format!("{:<bar_w$}", bar(frac, bar_w)), theme.bar),
                Span::styled(
                    format!(" {}", pad_start(&shown_total, amount_w)),
                    theme.amount(is_negative(&row.total)),
                ),
            ])
        })
        .collect()
}

/// "Netflix      monthly   -$15.49 12-07": what, how often, how much, when next.
fn recurring_line<'a>(
    r: &crate::analytics::recurring::Recurring,
    width: usize,
    theme: &Theme,
) -> Line<'a> {
    let mut amount = Balance::new();
    amount.add(r.amount, &r.commodity);
    let amount = money(&amount);
    let next = r.next.format("%m-%d").to_string();
    let cadence = r.cadence.name();
    let fixed = cadence.width() + amount.width() + next.width() + 3;
    let name_w = width.saturating_sub(fixed).max(4);
    Line::from(vec![
        Span::raw(format!("{} ", pad_end(&fit(&r.payee, name_w), name_w))),
        Span::styled(format!("{cadence} "), theme.dim),
        Span::styled(amount, theme.amount(r.amount.is_sign_negative())),
        Span::styled(format!(" {next}"), theme.dim),
    ])
}
