//! Drawing the dashboard: `draw(frame, &State)` only reads the state and returns the areas it laid out. One file per pane or popup (`accounts`,
//! `transactions`, `detail`, `analytics`, `filter_bar`, `status_bar`, `help`, `prompt`, `form`, `import`, `reconcile`), plus `layout` (where panes
//! go, shared with `update`), `theme` and `text` (sanitising and fitting strings from data). The cost of a frame
//! depends on the terminal size, not on the ledger: the table draws only the rows on screen.

pub mod accounts;
pub mod analytics;
pub mod detail;
pub mod filter_bar;
pub mod form;
pub mod help;
pub mod import;
pub mod prompt;
pub mod reconcile;
pub mod status_bar;
pub mod text;
pub mod theme;
pub mod transactions;

use crate::app::{Mode, State};
use crate::layout::Pane;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};
use theme::Theme;

/// Draws the whole screen for `state` and returns where each part went (the table's rows, for one, are the rows
/// `app` scrolls by: both come from `layout::areas`).
pub fn draw(frame: &mut Frame<'_>, state: &State) -> crate::layout::Areas {
    let theme =
        Theme::new(state.settings.theme, state.settings.no_color).for_depth(state.settings.colors);
    let areas = crate::layout::areas(frame.area(), state.screen.focus, state.filter_rows());
    filter_bar::draw(frame, areas.filter, state, &theme);
    if let Some(tabs) = areas.tabs {
        draw_tabs(frame, tabs, state, &theme);
    }
    if let Some(r) = areas.transactions {
        transactions::draw(frame, r, state, &theme);
    }
    if let Some(r) = areas.detail {
        detail::draw(frame, r, state, &theme);
    }
    if let Some(r) = areas.accounts {
        accounts::draw(frame, r, state, &theme);
    }
    if let Some(r) = areas.analytics {
        analytics::draw(frame, r, state, &theme);
    }
    status_bar::draw(frame, areas.status, state, &theme);
    status_bar::draw_footer(frame, areas.footer, state, &theme);
    match &state.screen.mode {
        Mode::Help => help::draw(frame, frame.area(), state, &theme),
        Mode::Prompt(p) => prompt::draw(frame, frame.area(), (state, p), &theme),
        Mode::Form(f) => form::draw(frame, frame.area(), (state, f), &theme),
        Mode::Import(p) => import::draw(frame, frame.area(), (state, p), &theme),
        Mode::Reconcile(v) => reconcile::draw(frame, frame.area(), (state, v), &theme),
        Mode::Normal | Mode::Filter => {}
    }
    areas
}

/// The pane names in the narrow layout, the focused one highlighted.
fn draw_tabs(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let mut spans = Vec::new();
    for pane in Pane::ORDER {
        let style = if pane == state.screen.focus {
            theme.cursor
        } else {
            theme.dim
        };
        spans.push(Span::styled(format!(" {} ", pane.title()), style));
        spans.push(Span::raw(" "));
    }
    let keys = state
        .settings
        .keymap
        .key_text(crate::config::keymap::Command::NextPane);
    spans.push(Span::styled(format!("({keys} switches)"), theme.dim));
    frame.render_widget(Line::from(spans), area);
}

/// A bordered block titled `title`, highlighted when `focused`.
pub(crate) fn pane_block<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    let (border, kind) = if focused {
        (theme.border_focus, BorderType::Thick)
    } else {
        (theme.border, BorderType::Plain)
    };
    Block::bordered()
        .border_type(kind)
        .border_style(border)
        .title(title)
}

/// A title span in the theme's title style, dimmed when the pane is not focused.
pub(crate) fn title<'a>(text: impl Into<String>, focused: bool, theme: &Theme) -> Span<'a> {
    let style: Style = if focused { theme.title } else { theme.header };
    Span::styled(format!(" {} ", text.into()), style)
}

/// A popup in `rect`: cleared, a rounded border in the focus colour titled `title`; returns the inside.
pub(crate) fn popup(frame: &mut Frame<'_>, rect: Rect, title: &str, theme: &Theme) -> Rect {
    frame.render_widget(ratatui::widgets::Clear, rect);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focus)
        .title(Span::styled(title.to_string(), theme.title));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// Almost the whole screen (the import preview, reconcile mode).
pub(crate) fn full_popup(area: Rect) -> Rect {
    centered(
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    )
}

/// A rectangle of at most `width`×`height` centred in `area`.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}
