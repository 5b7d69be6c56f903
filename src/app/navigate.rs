//! Moving around: the table cursor and scroll position (absolute match indices), the accounts cursor, the analytics
//! period, and keeping the loaded window of rows around the viewport — asking for the next page before the user
//! reaches the edge, joining pages that touch, never asking twice for the same one.

use super::action::Effect;
use super::requests::{fetch_analytics, request_rows};
use super::state::{PAGE_ROWS, Pane, State};
use crate::backend::GroupBy;

pub(super) fn page_rows(state: &State) -> usize {
    crate::layout::table_rows(state.screen.size, state.filter_rows()).max(1)
}

pub(super) fn move_by(state: &mut State, delta: isize, fx: &mut Vec<Effect>) {
    match state.screen.focus {
        Pane::Accounts => state.screen.move_account(delta, state.data.tree.len()),
        Pane::Analytics => {
            if delta.abs() == 1 {
                move_period(state, delta, fx);
            }
        }
        // Pages scroll a long detail while it is focused.
        Pane::Detail if delta.abs() > 1 => {
            let step = delta.signum() * (page_rows(state) as isize / 2).max(1);
            state.screen.detail_scroll = state
                .screen
                .detail_scroll
                .saturating_add_signed(step)
                .min(200);
        }
        Pane::Transactions | Pane::Detail => {
            state.screen.detail_scroll = 0;
            let total = state.total();
            if total == 0 {
                return;
            }
            state.screen.table.move_by(delta, total);
            scroll_into_view(state);
            ensure_window(state, fx);
        }
    }
}

pub(super) fn clamp_cursor(state: &mut State) {
    let total = state.total();
    state.screen.table.clamp(total);
}

/// Moves the viewport so the cursor is visible.
pub(super) fn scroll_into_view(state: &mut State) {
    let rows = page_rows(state);
    let total = state.total();
    state.screen.table.scroll_into_view(rows, total);
}

/// Asks for the page around the viewport when the loaded window does not cover it (with a margin).
pub(super) fn ensure_window(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(total) = state.txns.total else {
        return;
    };
    let rows = page_rows(state);
    let margin = rows.min(PAGE_ROWS / 8);
    let start = state.screen.table.top.saturating_sub(margin);
    let end = (state.screen.table.top + rows + margin).min(total);
    if state.txns.covers(start, end) || start >= end {
        return;
    }
    let (w0, w1) = (state.txns.offset, state.txns.end());
    let (offset, limit, extend) = if state.txns.rows.is_empty() || end <= w0 || start >= w1 {
        // Far from what is loaded: a fresh page centred on the viewport.
        let offset = state
            .screen
            .table
            .top
            .saturating_sub((PAGE_ROWS.saturating_sub(rows)) / 2);
        (offset, PAGE_ROWS, false)
    } else if end > w1 {
        (w1, PAGE_ROWS, true)
    } else {
        let offset = w0.saturating_sub(PAGE_ROWS);
        (offset, w0 - offset, true)
    };
    if state.txns.pending_offset == Some(offset) || state.txns.short_at == Some(offset) {
        return;
    }
    request_rows(state, (offset, limit), extend, fx);
}

/// `-`/`+` on the accounts pane: one level of the tree less or more (from 1 to the deepest account). The cursor
/// stays on the account it was on, or on its parent when that folds away.
pub(super) fn change_depth(state: &mut State, delta: isize) {
    let deepest = super::tree::max_depth(&state.data.accounts);
    let now = state.screen.account_depth.min(deepest);
    let depth = now.saturating_add_signed(delta).clamp(1, deepest);
    let current = state
        .data
        .tree
        .get(state.screen.account_cursor)
        .map(|r| r.name.clone());
    state.screen.account_depth = depth;
    state.data.tree = super::tree::account_tree(&state.data.accounts, depth);
    if let Some(name) = current {
        let kept: Vec<&str> = name.split(':').take(depth).collect();
        let kept = kept.join(":");
        if let Some(i) = state.data.tree.iter().position(|r| r.name == kept) {
            state.screen.account_cursor = i;
        }
    }
    state.screen.move_account(0, state.data.tree.len());
    state.set_status(format!("accounts to depth {depth} of {deepest}"));
}

pub(super) fn set_group(state: &mut State, group: GroupBy, fx: &mut Vec<Effect>) {
    state.analytics.set_group(group);
    state.set_status(format!("analytics by {}", group.name()));
    fetch_analytics(state, fx);
}

pub(super) fn move_period(state: &mut State, delta: isize, fx: &mut Vec<Effect>) {
    if state.analytics.step_period(delta) {
        fetch_analytics(state, fx);
    }
}
