//! The backend requests `update` asks for, each stamped with a new generation so that only the latest reply of
//! its kind is taken: table pages, analytics for the current filter (and highlighted period), accounts, the review
//! queue size and tags; `requery` after the query changed, `refresh` after the data changed.

use super::action::Effect;
use super::navigate::page_rows;
use super::state::{PAGE_ROWS, State};
use crate::backend::PageRequest;
use crate::query::{DateRange, Query, Term};

/// A fresh page at `offset` that replaces the loaded rows (new query, refresh).
pub(super) fn fetch_page(state: &mut State, offset: usize, fx: &mut Vec<Effect>) {
    state.txns.short_at = None;
    request_rows(state, (offset, PAGE_ROWS), false, fx);
}

pub(super) fn request_rows(
    state: &mut State,
    (offset, limit): (usize, usize),
    extend: bool,
    fx: &mut Vec<Effect>,
) {
    let generation = state.requests.next_page();
    state.txns.pending_offset = Some(offset);
    state.txns.pending_extend = extend;
    fx.push(Effect::FetchPage {
        generation,
        query: state.effective_query(),
        page: PageRequest {
            offset,
            limit,
            sort: state.screen.table.sort,
            ascending: state.screen.table.ascending,
        },
    });
}

/// The query or sort changed: back to the top, fetch the first page and the analytics.
pub(super) fn requery(state: &mut State, fx: &mut Vec<Effect>) {
    state.txns.awaiting_query = true;
    state.screen.table.home();
    state.analytics.period = None;
    fetch_page(state, 0, fx);
    fetch_analytics(state, fx);
    fetch_suggestions(state, fx);
}

/// In the review queue: category suggestions for its uncategorised rows (the detail shows them, `a` takes them).
pub(super) fn fetch_suggestions(state: &mut State, fx: &mut Vec<Effect>) {
    if state.filter.review {
        fx.push(Effect::FetchSuggestions(state.effective_query()));
    } else {
        state.data.suggestions.clear();
    }
}

/// The data may have changed (a write, a reload): fetch everything again where the user is.
pub(super) fn refresh(state: &mut State, fx: &mut Vec<Effect>) {
    state.txns.follow = state.current().map(|t| t.id.clone());
    let offset = state
        .screen
        .table
        .top
        .saturating_sub((PAGE_ROWS.saturating_sub(page_rows(state))) / 2);
    fetch_page(state, offset, fx);
    fetch_analytics(state, fx);
    fetch_accounts(state, fx);
    fetch_review_count(state, fx);
    fx.push(Effect::FetchTags);
    fx.push(Effect::FetchCategories);
    fx.push(Effect::FetchProjections);
    fetch_suggestions(state, fx);
}

pub(super) fn fetch_accounts(state: &mut State, fx: &mut Vec<Effect>) {
    let generation = state.requests.next_accounts();
    fx.push(Effect::FetchAccounts { generation });
}

pub(super) fn fetch_review_count(state: &mut State, fx: &mut Vec<Effect>) {
    let generation = state.requests.next_review();
    fx.push(Effect::FetchReviewCount { generation });
}

pub(super) fn fetch_analytics(state: &mut State, fx: &mut Vec<Effect>) {
    let generation = state.requests.next_analytics();
    let query = state.effective_query();
    let breakdown_query = match state
        .analytics
        .period
        .and_then(|p| state.analytics.periods.get(p))
    {
        Some(p) => {
            let end = state.analytics.group_by.period_end(p.start);
            let range = Query {
                terms: vec![Term::Date(DateRange {
                    start: Some(p.start),
                    end: Some(end),
                })],
                source: format!("date:{}..{}", p.start, end),
            };
            query.and(&range)
        }
        None => query.clone(),
    };
    fx.push(Effect::FetchAnalytics {
        generation,
        query,
        group_by: state.analytics.group_by,
        breakdown_query,
        dimension: state.analytics.dimension,
    });
}
