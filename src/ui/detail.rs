//! The detail view of the transaction under the table cursor: date, status, code, payee and note, category, tags,
//! every posting with its amount and cost, where it came from (file and line, or server source) and its id. A detail
//! longer than its pane scrolls with PageDown/PageUp while the pane is focused.

use super::text::{clean, is_negative, money, pad_end, pad_start};
use super::theme::Theme;
use super::transactions::format_date;
use super::{pane_block, title};
use crate::app::State;
use crate::domain::PostingKind;
use crate::layout::Pane;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let focused = matches!(state.screen.focus, Pane::Detail);
    let block = pane_block(Line::from(title("Detail", focused, theme)), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(t) = state.current() else {
        frame.render_widget(Span::styled("No transaction selected.", theme.dim), inner);
        return;
    };
    let width = usize::from(inner.width);
    let lines = lines_of(state, t, width, theme);
    // A long detail (many postings) scrolls: PageDown/PageUp on the focused detail; a mark says more follows.
    let height = usize::from(inner.height);
    let top = state
        .screen
        .detail_scroll
        .min(lines.len().saturating_sub(height));
    let more_below = lines.len() > top + height;
    let mut shown: Vec<Line> = lines.into_iter().skip(top).take(height).collect();
    if more_below && let Some(last) = shown.last_mut() {
        *last = Line::styled("… more below (PageDown)", theme.dim);
    }
    frame.render_widget(Paragraph::new(shown), inner);
}

/// The detail's lines for `t`: header, category and tags, suggestion, note, postings, amount and origin.
fn lines_of<'a>(
    state: &State,
    t: &crate::domain::Transaction,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let mut head = vec![
        Span::styled(
            format_date(t.date, &state.settings.date_format),
            theme.header,
        ),
        Span::raw(" "),
        Span::styled(format!("[{}]", t.status.name()), theme.accent),
    ];
    if !t.code.is_empty() {
        head.push(Span::raw(format!(" ({})", clean(&t.code))));
    }
    head.push(Span::raw(" "));
    head.push(Span::styled(clean(&t.description).into_owned(), theme.text));
    lines.push(Line::from(head));
    let mut facts = vec![Span::styled("category ", theme.dim)];
    facts.push(Span::raw(
        clean(t.category.as_deref().unwrap_or("—")).into_owned(),
    ));
    if !t.tags.is_empty() {
        facts.push(Span::styled("  tags ", theme.dim));
        let tags = t
            .tags
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        facts.push(Span::styled(clean(&tags).into_owned(), theme.accent));
    }
    if t.needs_review() {
        facts.push(Span::styled("  needs review", theme.error));
    }
    if t.read_only {
        facts.push(Span::styled("  read-only", theme.dim));
    }
    lines.push(Line::from(facts));
    if let Some(s) = state.data.suggestions.get(&t.id) {
        let key = state
            .settings
            .keymap
            .key_text(crate::config::keymap::Command::AddTransaction);
        lines.push(Line::from(vec![
            Span::styled("suggested ", theme.dim),
            Span::styled(clean(&s.category).into_owned(), theme.accent),
            Span::styled(
                format!(
                    "  {:.0}%: {} — {key} takes it",
                    s.confidence * 100.0,
                    clean(&s.evidence)
                ),
                theme.dim,
            ),
        ]));
    }
    if !t.note.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("note ", theme.dim),
            Span::raw(clean(&t.note).into_owned()),
        ]));
    }
    let amount_w = 16;
    for p in &t.postings {
        let name = match p.kind {
            PostingKind::Real => clean(&p.account).into_owned(),
            PostingKind::Virtual => format!("({})", clean(&p.account)),
            PostingKind::BalancedVirtual => format!("[{}]", clean(&p.account)),
        };
        let mut amount = crate::domain::Balance::new();
        amount.add_money(&p.amount);
        let mut text = money(&amount);
        if let Some(cost) = &p.cost {
            text.push_str(&format!(" @ {}", clean(&cost.to_string())));
        }
        let name_w = width.saturating_sub(amount_w.max(text.width()) + 3);
        let mut spans = vec![
            Span::raw("  "),
            Span::raw(pad_end(&super::text::fit_account(&name, name_w), name_w)),
            Span::raw(" "),
            Span::styled(
                pad_start(&text, amount_w),
                theme.amount(p.amount.quantity.is_sign_negative()),
            ),
        ];
        if !p.tags.is_empty() {
            let tags = p
                .tags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            spans.push(Span::styled(format!("  ; {}", clean(&tags)), theme.accent));
        }
        lines.push(Line::from(spans));
    }
    let total = t.amount();
    lines.push(Line::from(vec![
        Span::styled("amount ", theme.dim),
        Span::styled(money(&total), theme.amount(is_negative(&total))),
        Span::styled("  from ", theme.dim),
        Span::raw(clean(short_source(&t.source)).into_owned()),
        Span::styled("  id ", theme.dim),
        Span::raw(clean(&t.id.0).into_owned()),
    ]));
    lines
}

/// `FILE:LINE` with the file's directories left out (the status bar names the journal); other sources as given.
fn short_source(source: &str) -> &str {
    match source.rsplit_once(['/', '\\']) {
        Some((_, name)) if !name.is_empty() => name,
        _ => source,
    }
}
