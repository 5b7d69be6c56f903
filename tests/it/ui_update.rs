//! `update()` driven by actions, no terminal and no backend: each test feeds the actions a session would produce
//! (keys, backend replies with data) and checks the state and the effects asked for.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rust_decimal::Decimal;
use std::sync::Arc;
use tally::app::{
    Action, Effect, Mode, Opened, PAGE_ROWS, Pane, Phase, RELOAD_EVERY_TICKS, State, StateOptions,
    UndoEntry, WriteKind, update,
};
use tally::backend::{Capabilities, TagInfo, TxnPage};
use tally::config::Config;
use tally::config::keymap::Keymap;
use tally::domain::{Balance, Money, Posting, PostingKind, Status, Tag, Transaction, TxnId};
use tally::ops::{Change, Edit};
use tally::query::Term;

fn txn(i: usize) -> Transaction {
    let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")
        + chrono::Duration::days(i as i64 % 300);
    let amount = Decimal::new(-(i as i64 + 1) * 100, 2);
    Transaction {
        id: TxnId(format!("t{i}")),
        date,
        status: Status::Unmarked,
        description: format!("Shop {i}"),
        payee: format!("Shop {i}"),
        note: String::new(),
        code: String::new(),
        tags: vec![],
        postings: vec![
            Posting {
                account: "expenses:food".into(),
                amount: Money::new(-amount, "$"),
                cost: None,
                kind: PostingKind::Real,
                account_kind: None,
                tags: vec![],
                comment: String::new(),
            },
            Posting {
                account: "assets:checking".into(),
                amount: Money::new(amount, "$"),
                cost: None,
                kind: PostingKind::Real,
                account_kind: None,
                tags: vec![],
                comment: String::new(),
            },
        ],
        category: Some("expenses:food".into()),
        source: format!("ui.journal:{}", i * 3 + 1),
        needs_review: None,
        read_only: false,
    }
}

fn caps(editable: bool) -> Capabilities {
    let mut c = Capabilities::read_only("journal test.journal");
    c.edit_status = editable;
    c.edit_tags = editable;
    c.bulk_tag = editable;
    c
}

/// The backend opened with `capabilities` and no load problems.
fn opened(capabilities: Capabilities) -> Action {
    Action::Opened(Ok(Opened {
        capabilities,
        diagnostics: 0,
        first_diagnostic: None,
    }))
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn new_state() -> State {
    let mut s = State::new(
        &Config::default(),
        StateOptions {
            source_label: "journal test.journal".into(),
            today: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"),
            keymap: Keymap::defaults(),
            no_color: true,
        },
    );
    s.screen.size = (80, 24);
    s
}

fn page_effect(fx: &[Effect]) -> Option<(u64, usize, Vec<Term>)> {
    fx.iter().rev().find_map(|e| match e {
        Effect::FetchPage {
            generation,
            query,
            page,
        } => Some((*generation, page.offset, query.terms.clone())),
        _ => None,
    })
}

/// A page of `total` matches starting at `offset`, as the backend would answer.
fn page(offset: usize, total: usize) -> TxnPage {
    let end = (offset + PAGE_ROWS).min(total);
    let mut sum = Balance::new();
    sum.add(Decimal::new(-(total as i64), 0), "$");
    TxnPage {
        items: (offset..end).map(txn).collect(),
        total,
        sum,
        before: None,
    }
}

/// Opens the dashboard on a backend with `total` matches and answers the first page.
fn ready(total: usize, editable: bool) -> State {
    let mut s = new_state();
    let fx = update(&mut s, opened(caps(editable)));
    let (generation, offset, _) = page_effect(&fx).expect("first page requested");
    update(
        &mut s,
        Action::Page {
            generation,
            offset,
            reply: Ok(page(offset, total)),
        },
    );
    s
}

#[test]
fn opening_asks_for_everything_and_keys_wait_for_it() {
    let mut s = new_state();
    assert_eq!(s.phase, Phase::Loading);
    assert!(update(&mut s, key('j')).is_empty());
    assert!(
        s.status
            .as_ref()
            .is_some_and(|m| m.text.contains("loading"))
    );
    let fx = update(
        &mut s,
        Action::Opened(Ok(Opened {
            capabilities: caps(true),
            diagnostics: 2,
            first_diagnostic: Some("x.journal:3:1: bad date".into()),
        })),
    );
    assert_eq!(s.phase, Phase::Ready);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::FetchAnalytics { .. }))
    );
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::FetchAccounts { .. })),
        "the table comes first"
    );
    let (generation, offset, _) = page_effect(&fx).expect("first page");
    let fx = update(
        &mut s,
        Action::Page {
            generation,
            offset,
            reply: Ok(page(0, 3)),
        },
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::FetchAccounts { .. })));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::FetchReviewCount { .. }))
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::FetchTags)));
    assert!(
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("bad date"))
    );
}

#[test]
fn a_failed_open_is_shown_and_q_still_quits() {
    let mut s = new_state();
    update(
        &mut s,
        Action::Opened(Err("no such file: x.journal".into())),
    );
    assert_eq!(s.phase, Phase::Failed("no such file: x.journal".into()));
    update(&mut s, key('q'));
    assert!(s.quit);
}

#[test]
fn stale_pages_are_dropped() {
    let mut s = ready(1000, true);
    let fx = update(&mut s, key('/'));
    assert!(fx.is_empty());
    let first = page_effect(&update(&mut s, key('a'))).expect("query a");
    let second = page_effect(&update(&mut s, key('b'))).expect("query ab");
    assert!(second.0 > first.0);
    // The reply for "a" arrives late: ignored.
    update(
        &mut s,
        Action::Page {
            generation: first.0,
            offset: 0,
            reply: Ok(page(0, 7)),
        },
    );
    assert_eq!(s.total(), 1000);
    update(
        &mut s,
        Action::Page {
            generation: second.0,
            offset: 0,
            reply: Ok(page(0, 3)),
        },
    );
    assert_eq!(s.total(), 3);
    assert_eq!(s.txns.sum.get("$"), Decimal::new(-3, 0));
}

#[test]
fn a_bad_query_keeps_the_last_good_result() {
    let mut s = ready(50, true);
    update(&mut s, key('/'));
    for c in "amt:>5".chars() {
        update(&mut s, key(c));
    }
    let applied = s.filter.applied.clone();
    assert!(s.filter.error.is_none());
    let fx = update(&mut s, key('x'));
    assert!(page_effect(&fx).is_none(), "no query for a bad filter");
    let err = s.filter.error.clone().expect("error shown");
    assert_eq!(Err(err), tally::query::parse("amt:>5x"));
    assert_eq!(s.filter.applied, applied);
    assert_eq!(s.total(), 50);
    update(&mut s, code(KeyCode::Backspace));
    assert!(s.filter.error.is_none());
    update(&mut s, code(KeyCode::Enter));
    assert!(matches!(s.screen.mode, Mode::Normal));
}

#[test]
fn scrolling_a_million_matches_fetches_only_pages_near_the_viewport() {
    let mut s = ready(1_000_000, true);
    assert_eq!(s.txns.rows.len(), PAGE_ROWS);
    // Moving inside the loaded window asks for nothing.
    for _ in 0..5 {
        assert!(page_effect(&update(&mut s, key('j'))).is_none());
    }
    assert_eq!(s.screen.table.cursor, 5);
    let fx = update(&mut s, key('G'));
    assert_eq!(s.screen.table.cursor, 999_999);
    let (generation, offset, _) = page_effect(&fx).expect("page near the end");
    assert!(
        offset < 999_999 && offset + PAGE_ROWS >= 999_999,
        "{offset}"
    );
    assert!(
        s.current().is_none(),
        "the row shows as loading until its page arrives"
    );
    update(
        &mut s,
        Action::Page {
            generation,
            offset,
            reply: Ok(page(offset, 1_000_000)),
        },
    );
    assert_eq!(s.current().map(|t| t.id.0.clone()), Some("t999999".into()));
    assert!(s.txns.rows.len() <= tally::app::MAX_WINDOW);
    update(&mut s, key('g'));
    assert_eq!((s.screen.table.cursor, s.screen.table.top), (0, 0));
}

#[test]
fn toggling_selects_and_sums_and_esc_clears() {
    let mut s = ready(10, true);
    update(&mut s, key(' '));
    update(&mut s, key(' '));
    assert_eq!(s.screen.selection.ids.len(), 2);
    assert_eq!(s.screen.table.cursor, 2);
    // t0 is -1.00, t1 -2.00
    assert_eq!(s.screen.selection.sum.get("$"), Decimal::new(-300, 2));
    update(&mut s, key('k'));
    update(&mut s, key(' '));
    assert_eq!(s.screen.selection.ids.len(), 1);
    assert_eq!(s.screen.selection.sum.get("$"), Decimal::new(-100, 2));
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key('v'));
    assert_eq!(
        s.screen.selection.ids.len(),
        6,
        "t0 plus the range t1..=t5 from the last toggled row"
    );
    update(&mut s, code(KeyCode::Esc));
    assert!(s.screen.selection.ids.is_empty());
    assert!(s.screen.selection.sum.is_zero());
}

#[test]
fn select_all_collects_ids_in_pages_and_ignores_stale_batches() {
    let mut s = ready(1_000_000, true);
    let fx = update(&mut s, ctrl('a'));
    let (generation, limit) = fx
        .iter()
        .find_map(|e| match e {
            Effect::Collect {
                generation, page, ..
            } => Some((*generation, page.limit)),
            _ => None,
        })
        .expect("collect");
    assert_eq!(limit, 1_000_000);
    assert_eq!(s.screen.selection.collecting, Some((0, 1_000_000)));
    let batch = |range: std::ops::Range<usize>| {
        range
            .map(|i| {
                let t = txn(i);
                let a = t.amount();
                (t.id, a)
            })
            .collect::<Vec<_>>()
    };
    update(
        &mut s,
        Action::Collected {
            generation,
            items: batch(0..20_000),
            total: 1_000_000,
            done: false,
            reply: Ok(()),
        },
    );
    assert_eq!(s.screen.selection.collecting, Some((20_000, 1_000_000)));
    // Editing waits for the selection to finish.
    update(&mut s, key('t'));
    assert!(matches!(s.screen.mode, Mode::Normal));
    update(
        &mut s,
        Action::Collected {
            generation: generation - 1,
            items: batch(500_000..500_010),
            total: 10,
            done: true,
            reply: Ok(()),
        },
    );
    assert_eq!(s.screen.selection.ids.len(), 20_000);
    update(
        &mut s,
        Action::Collected {
            generation,
            items: batch(20_000..20_005),
            total: 1_000_000,
            done: true,
            reply: Ok(()),
        },
    );
    assert_eq!(s.screen.selection.collecting, None);
    assert_eq!(s.screen.selection.ids.len(), 20_005);
}

#[test]
fn bulk_tag_prompt_completes_and_sends_one_bulk_tag() {
    let mut s = ready(10, true);
    update(
        &mut s,
        Action::Tags(Ok(vec![
            TagInfo {
                id: "work".into(),
                name: "work".into(),
                count: 4,
            },
            TagInfo {
                id: "trip".into(),
                name: "trip".into(),
                count: 9,
            },
        ])),
    );
    update(&mut s, key(' '));
    update(&mut s, key(' '));
    update(&mut s, key(' '));
    update(&mut s, key('t'));
    let Mode::Prompt(p) = &s.screen.mode else {
        panic!("tag prompt expected");
    };
    assert_eq!(p.targets.len(), 3);
    assert_eq!(p.completions, vec!["trip".to_string(), "work".to_string()]);
    update(&mut s, key('w'));
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, key('x'));
    update(&mut s, key(':'));
    update(&mut s, key('1'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(s.screen.mode, Mode::Normal));
    let bulk = edits(&fx);
    assert_eq!(bulk.len(), 1, "one edit");
    assert_eq!(bulk[0].ids.len(), 3);
    assert_eq!(
        bulk[0].change,
        Change::tags(vec![Tag::new("work", ""), Tag::new("x", "1")], vec![])
    );
    assert_eq!(s.writes.pending, 1);
}

#[test]
fn undo_and_redo_go_through_the_backend() {
    let mut s = ready(10, true);
    let tags = |add: &[&str], remove: &[&str]| tally::backend::TxnPatch {
        add_tags: add.iter().map(|n| Tag::new(*n, "")).collect(),
        remove_tags: remove.iter().map(|n| n.to_string()).collect(),
        ..Default::default()
    };
    let entry = UndoEntry {
        label: "tag +work on 2".into(),
        forward: vec![(TxnId("t1".into()), tags(&["work"], &[]))],
        // t2 already had the tag: undo removes it from t1 only.
        inverse: vec![(TxnId("t1".into()), tags(&[], &["work"]))],
    };
    s.writes.pending = 1;
    let fx = update(&mut s, done(WriteKind::New, 1, Ok(vec![entry.clone()])));
    assert_eq!(s.writes.pending, 0);
    assert!(page_effect(&fx).is_some(), "refreshed after the write");
    assert_eq!(s.undo.can_undo(), 1);
    let fx = update(&mut s, key('u'));
    let [
        Effect::Revert {
            seq,
            kind: WriteKind::Undo,
            entry: undone,
        },
    ] = fx.as_slice()
    else {
        panic!("one undo: {fx:?}");
    };
    assert_eq!(undone, &entry);
    let seq = *seq;
    update(&mut s, done(WriteKind::Undo, seq, Ok(vec![entry.clone()])));
    assert_eq!((s.undo.can_undo(), s.undo.can_redo()), (0, 1));
    let fx = update(&mut s, ctrl('r'));
    let [
        Effect::Revert {
            seq,
            kind: WriteKind::Redo,
            entry: redone,
        },
    ] = fx.as_slice()
    else {
        panic!("one redo: {fx:?}");
    };
    assert_eq!(redone, &entry);
    let seq = *seq;
    update(&mut s, done(WriteKind::Redo, seq, Err("disk full".into())));
    assert!(
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("disk full"))
    );
    update(&mut s, key('u'));
    assert!(
        s.status
            .as_ref()
            .is_some_and(|m| m.text == "nothing to undo")
    );
}

#[test]
fn missing_capabilities_are_explained_not_ignored() {
    let mut s = ready(10, false);
    let fx = update(&mut s, key('t'));
    assert!(fx.is_empty());
    assert!(matches!(s.screen.mode, Mode::Normal));
    let msg = s.status.clone().expect("reason shown");
    assert!(msg.error);
    assert!(msg.text.contains("cannot edit tags"), "{}", msg.text);
    assert!(msg.text.contains("journal test.journal"), "{}", msg.text);
    update(&mut s, key('r'));
    assert!(
        s.status
            .as_ref()
            .is_some_and(|m| m.text.contains("cannot change status"))
    );
    update(&mut s, key('S'));
    assert!(
        s.status
            .as_ref()
            .is_some_and(|m| m.text.contains("cannot sync"))
    );
}

#[test]
fn review_keys_mark_and_move_on() {
    let mut s = ready(10, true);
    let fx = update(&mut s, key('r'));
    let marks = edits(&fx);
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].ids, Arc::new(vec![TxnId("t0".into())]));
    assert_eq!(marks[0].change, Change::Reviewed);
    // Shown at once, before the write answers.
    assert_eq!(s.txns.rows[0].status, Status::Cleared);
    assert_eq!(s.screen.table.cursor, 1);
    let fx = update(&mut s, key('!'));
    assert!(
        edits(&fx)
            .iter()
            .any(|e| e.change == Change::status(Status::Pending))
    );
    let fx = update(&mut s, key('R'));
    assert!(s.filter.review);
    let (_, _, terms) = page_effect(&fx).expect("queue query");
    assert_eq!(terms, vec![Term::IsReview]);
    let generation = s.requests.gens.review;
    update(
        &mut s,
        Action::ReviewCount {
            generation,
            reply: Ok(7),
        },
    );
    assert_eq!(s.data.review_count, Some(7));
}

#[test]
fn live_reload_keeps_filter_and_selection() {
    let mut s = ready(10, true);
    update(&mut s, key('/'));
    for c in "shop".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    let (generation, offset) = (s.requests.gens.page, 0);
    update(
        &mut s,
        Action::Page {
            generation,
            offset,
            reply: Ok(page(0, 10)),
        },
    );
    update(&mut s, key(' '));
    let mut reloads = 0;
    for _ in 0..RELOAD_EVERY_TICKS * 2 {
        let fx = update(&mut s, Action::Tick);
        reloads += fx.iter().filter(|e| matches!(e, Effect::Reload)).count();
    }
    assert_eq!(reloads, 1, "no second reload while one is in flight");
    let fx = update(&mut s, Action::Reloaded(Ok(true)));
    let (_, _, terms) = page_effect(&fx).expect("re-query");
    assert_eq!(
        terms,
        vec![Term::Text(
            tally::query::Pattern::new("shop").expect("word")
        )]
    );
    assert_eq!(s.screen.selection.ids.len(), 1);
    assert_eq!(s.filter.input.value(), "shop");
    s.take_changed();
    let fx = update(&mut s, Action::Reloaded(Ok(false)));
    assert!(fx.is_empty());
    assert!(!s.take_changed(), "nothing changed: no redraw");
    update(&mut s, key('x'));
    assert!(!s.take_changed(), "a key bound to nothing: no redraw");
    update(&mut s, key('j'));
    assert!(s.take_changed(), "a move: redraw");
}

#[test]
fn accounts_pane_enter_filters_the_table() {
    let mut s = ready(10, true);
    let mut bal = Balance::new();
    bal.add(Decimal::new(100, 0), "$");
    let row = |name: &str| tally::app::AccountRow {
        account: tally::domain::Account {
            name: name.into(),
            kind: tally::domain::account_kind(name),
            balance: bal.clone(),
            id: String::new(),
        },
        history: vec![],
    };
    let generation = s.requests.gens.accounts;
    update(
        &mut s,
        Action::Accounts {
            generation,
            reply: Ok(vec![row("assets:checking"), row("liabilities:credit card")]),
        },
    );
    while s.screen.focus != Pane::Accounts {
        update(&mut s, code(KeyCode::Tab));
    }
    // The tree: assets, assets:checking, liabilities, liabilities:credit card.
    for _ in 0..3 {
        update(&mut s, key('j'));
    }
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen.focus, Pane::Transactions);
    assert_eq!(
        s.filter.input.value(),
        "acct:\"^liabilities:credit card(:|$)\""
    );
    let (_, _, terms) = page_effect(&fx).expect("filtered");
    assert_eq!(terms.len(), 1);
}

#[test]
fn analytics_keys_change_grouping_and_period() {
    let mut s = ready(10, true);
    let fx = update(&mut s, key('1'));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::FetchAnalytics {
            group_by: tally::backend::GroupBy::Day,
            ..
        }
    )));
    let stale = s.requests.gens.analytics;
    let fx = update(&mut s, key('b'));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::FetchAnalytics {
            dimension: tally::backend::Dimension::Tag,
            ..
        }
    )));
    update(
        &mut s,
        Action::Analytics {
            generation: stale,
            reply: Ok((vec![], vec![])),
        },
    );
    assert!(!s.analytics.loaded, "stale analytics dropped");
    let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date");
    let period = tally::backend::PeriodSummary {
        start,
        income: Balance::new(),
        spending: Balance::new(),
        net: Balance::new(),
        count: 1,
    };
    let generation = s.requests.gens.analytics;
    update(
        &mut s,
        Action::Analytics {
            generation,
            reply: Ok((vec![period.clone(), period], vec![])),
        },
    );
    assert!(s.analytics.loaded);
    let fx = update(&mut s, key('['));
    assert_eq!(s.analytics.period, Some(1));
    let breakdown_terms = fx
        .iter()
        .find_map(|e| match e {
            Effect::FetchAnalytics {
                breakdown_query, ..
            } => Some(breakdown_query.terms.clone()),
            _ => None,
        })
        .expect("analytics");
    assert!(
        breakdown_terms
            .iter()
            .any(|t| matches!(t, Term::Date(r) if r.start == Some(start))),
        "{breakdown_terms:?}"
    );
    // Enter on the highlighted period filters the table to it.
    while s.screen.focus != Pane::Analytics {
        update(&mut s, code(KeyCode::Tab));
    }
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.screen.focus, Pane::Transactions);
    assert_eq!(s.filter.input.value(), "date:2025-03-01..2025-03-02");
    assert!(page_effect(&fx).is_some());
}

#[test]
fn resize_keeps_the_cursor_visible() {
    let mut s = ready(100, true);
    for _ in 0..60 {
        update(&mut s, key('j'));
    }
    update(&mut s, Action::Resize(40, 10));
    let rows = tally::layout::table_rows((40, 10), 1);
    assert!(
        s.screen.table.cursor >= s.screen.table.top
            && s.screen.table.cursor < s.screen.table.top + rows
    );
    update(&mut s, Action::Resize(200, 60));
    let rows = tally::layout::table_rows((200, 60), 1);
    assert!(
        s.screen.table.cursor >= s.screen.table.top
            && s.screen.table.cursor < s.screen.table.top + rows
    );
}

#[test]
fn row_keys_typed_before_the_new_query_answers_apply_to_its_rows() {
    let mut s = ready(10, true);
    update(&mut s, key('/'));
    update(&mut s, key('x'));
    update(&mut s, code(KeyCode::Enter));
    let generation = s.requests.gens.page;
    // Space and j arrive before the page: nothing is selected from the old rows.
    update(&mut s, key(' '));
    update(&mut s, key(' '));
    assert!(s.screen.selection.ids.is_empty());
    let mut reply = page(0, 3);
    for (i, t) in reply.items.iter_mut().enumerate() {
        t.id = TxnId(format!("x{i}"));
    }
    update(
        &mut s,
        Action::Page {
            generation,
            offset: 0,
            reply: Ok(reply),
        },
    );
    let mut ids: Vec<_> = s.screen.selection.ids.iter().map(|i| i.0.clone()).collect();
    ids.sort();
    assert_eq!(ids, vec!["x0".to_string(), "x1".to_string()]);
    assert_eq!(s.screen.table.cursor, 2);
}

#[test]
fn a_server_that_caps_its_pages_is_paged_until_the_viewport_is_full() {
    let mut s = new_state();
    s.screen.size = (160, 48);
    let mut fx = update(&mut s, opened(caps(true)));
    // The server answers at most 20 rows, whatever the limit.
    fn serve(s: &mut State, fx: &[Effect], asked: &mut Vec<usize>) -> Vec<Effect> {
        let Some((generation, offset, _)) = page_effect(fx) else {
            return Vec::new();
        };
        asked.push(offset);
        let mut capped = page(offset, 10_000);
        capped.items.truncate(20);
        update(
            s,
            Action::Page {
                generation,
                offset,
                reply: Ok(capped),
            },
        )
    }
    let mut asked = Vec::new();
    for _ in 0..10 {
        fx = serve(&mut s, &fx, &mut asked);
    }
    let rows = tally::layout::table_rows(s.screen.size, 1);
    assert!(s.txns.covers(0, rows), "viewport filled: {:?}", asked);
    assert!(page_effect(&fx).is_none(), "then quiet");
    let mut sorted = asked.clone();
    sorted.dedup();
    assert_eq!(sorted, asked, "no offset asked twice in a row");
    // Scrolling down extends the window instead of starting over.
    for _ in 0..60 {
        let fx = update(&mut s, key('j'));
        serve(&mut s, &fx, &mut asked);
    }
    assert!(s.current().is_some());
    assert_eq!(s.txns.offset, 0, "rows joined up: {asked:?}");
}

#[test]
fn ids_renamed_by_a_write_are_followed_in_undo_and_selection() {
    let mut s = ready(10, true);
    update(&mut s, key(' '));
    assert!(s.screen.selection.ids.contains(&TxnId("t0".into())));
    let patch = |note: &str| tally::backend::TxnPatch {
        note: Some(note.into()),
        ..Default::default()
    };
    let entry = UndoEntry {
        label: "set note on 1 transaction".into(),
        forward: vec![(TxnId("t0".into()), patch("gift"))],
        inverse: vec![(TxnId("t0".into()), patch(""))],
    };
    s.writes.pending = 1;
    update(
        &mut s,
        Action::WriteDone {
            kind: WriteKind::New,
            seqs: vec![1],
            reply: Ok(vec![entry]),
            renamed: vec![(TxnId("t0".into()), TxnId("t0-v2".into()))],
        },
    );
    assert!(s.screen.selection.ids.contains(&TxnId("t0-v2".into())));
    assert!(!s.screen.selection.ids.contains(&TxnId("t0".into())));
    let fx = update(&mut s, key('u'));
    let Some(Effect::Revert { entry, .. }) = fx.first() else {
        panic!("undo expected: {fx:?}");
    };
    assert_eq!(entry.inverse, vec![(TxnId("t0-v2".into()), patch(""))]);
}

#[test]
fn reviewing_in_the_queue_keeps_the_cursor_on_the_next_transaction() {
    let mut s = ready(5, true);
    update(&mut s, key('R'));
    let generation = s.requests.gens.page;
    update(
        &mut s,
        Action::Page {
            generation,
            offset: 0,
            reply: Ok(page(0, 5)),
        },
    );
    let fx = update(&mut s, key('r'));
    let seq = edit_seqs(&fx)[0];
    assert_eq!(s.current().map(|t| t.id.0.clone()), Some("t1".into()));
    let status = |st: Status| tally::backend::TxnPatch {
        status: Some(st),
        ..Default::default()
    };
    update(
        &mut s,
        done(
            WriteKind::New,
            seq,
            Ok(vec![UndoEntry {
                label: "reviewed 1".into(),
                forward: vec![(TxnId("t0".into()), status(Status::Cleared))],
                inverse: vec![(TxnId("t0".into()), status(Status::Unmarked))],
            }]),
        ),
    );
    // t0 left the queue: the refreshed page starts at t1.
    let generation = s.requests.gens.page;
    let mut reply = page(0, 5);
    reply.items.remove(0);
    reply.total = 4;
    update(
        &mut s,
        Action::Page {
            generation,
            offset: 0,
            reply: Ok(reply),
        },
    );
    assert_eq!(s.screen.table.cursor, 0);
    assert_eq!(s.current().map(|t| t.id.0.clone()), Some("t1".into()));
}

#[test]
fn quitting_waits_for_writes_in_flight_unless_asked_twice() {
    let mut s = ready(5, true);
    let fx = update(&mut s, key('r'));
    let seq = edit_seqs(&fx)[0];
    assert_eq!(s.writes.pending, 1);
    let fx = update(&mut s, key('q'));
    assert!(!s.quit, "waits for the write");
    assert!(
        fx.contains(&Effect::FlushEdits),
        "the waiting edits are written now: {fx:?}"
    );
    assert!(
        s.status
            .as_ref()
            .is_some_and(|m| m.text.contains("finishing 1 write"))
    );
    update(&mut s, done(WriteKind::New, seq, Err("disk full".into())));
    // Rolled back: the row shows what the backend says again once the page comes back.
    assert!(s.writes.optimistic.is_empty());
    assert!(!s.quit, "a failed write stays on screen");
    assert!(
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("disk full"))
    );
    let fx = update(&mut s, key('r'));
    let seq = edit_seqs(&fx)[0];
    update(&mut s, key('q'));
    update(
        &mut s,
        done(
            WriteKind::New,
            seq,
            Ok(vec![UndoEntry {
                label: "mark 1 cleared".into(),
                forward: vec![],
                inverse: vec![],
            }]),
        ),
    );
    assert!(s.quit, "quits once written");

    let mut s = ready(5, true);
    update(&mut s, key('r'));
    update(&mut s, key('q'));
    update(&mut s, key('q'));
    assert!(s.quit, "a second q does not wait");
}

#[test]
fn a_failed_first_page_is_retried() {
    let mut s = new_state();
    let fx = update(&mut s, opened(caps(true)));
    let (generation, offset, _) = page_effect(&fx).expect("first page");
    update(
        &mut s,
        Action::Page {
            generation,
            offset,
            reply: Err("tally https://example.org: connection refused".into()),
        },
    );
    assert!(
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("connection refused"))
    );
    let mut retried = false;
    for _ in 0..RELOAD_EVERY_TICKS {
        retried |= page_effect(&update(&mut s, Action::Tick)).is_some();
    }
    assert!(retried);
}

#[test]
fn a_server_s_own_reason_is_shown_for_what_it_cannot_do() {
    let mut s = new_state();
    let mut c = caps(true);
    c.edit_status = false;
    c.reasons.insert(
        "edit_status".into(),
        "Sure has no cleared/pending status".into(),
    );
    update(&mut s, opened(c));
    let (generation, offset, _) = (s.requests.gens.page, 0, ());
    update(
        &mut s,
        Action::Page {
            generation,
            offset,
            reply: Ok(page(offset, 10)),
        },
    );
    let fx = update(&mut s, key('r'));
    assert!(edits(&fx).is_empty());
    let msg = s.status.clone().expect("reason shown");
    assert_eq!(
        msg.text,
        "cannot change status: Sure has no cleared/pending status"
    );
}

#[test]
fn the_category_prompt_completes_whole_names_from_the_server_s_categories() {
    let mut s = ready(10, true);
    s.data.capabilities.edit_category = true;
    update(
        &mut s,
        Action::Categories(Ok(vec![
            "Food & Drink".into(),
            "Groceries".into(),
            "Coffee Shops".into(),
        ])),
    );
    update(&mut s, key('c'));
    let Mode::Prompt(p) = &mut s.screen.mode else {
        panic!("the category prompt opens");
    };
    p.input = tui_input::Input::new(String::new());
    for c in "fo".chars() {
        update(&mut s, key(c));
    }
    let Mode::Prompt(p) = &s.screen.mode else {
        panic!("still prompting");
    };
    assert_eq!(p.completions, vec!["Food & Drink".to_string()]);
    update(&mut s, code(KeyCode::Tab));
    let Mode::Prompt(p) = &s.screen.mode else {
        panic!("still prompting");
    };
    assert_eq!(p.input.value(), "Food & Drink", "Tab takes the whole name");
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(
        edits(&fx)
            .iter()
            .any(|e| e.change == Change::category("Food & Drink")),
        "{fx:?}"
    );
}

#[test]
fn a_mirror_s_sync_and_outbox_show_in_the_status_bar() {
    let mut s = ready(10, true);
    let fx = update(&mut s, Action::Tick);
    assert!(fx.contains(&Effect::PollActivity), "every tick asks");
    let now = chrono::Utc::now();
    update(
        &mut s,
        Action::Activity(tally::backend::Activity {
            syncing: Some((2300, Some(10_000))),
            ..Default::default()
        }),
    );
    let parts = tally::ui::status_bar::activity(&s, now);
    assert!(parts[0].0.ends_with("syncing 2,300/10,000"), "{parts:?}");
    update(
        &mut s,
        Action::Activity(tally::backend::Activity {
            synced_at: Some(now - chrono::TimeDelta::minutes(3)),
            queued: 463,
            sent: 37,
            ..Default::default()
        }),
    );
    assert!(
        s.status.as_ref().is_some_and(|m| m.text.contains("synced")),
        "the end of a sync is said"
    );
    let parts = tally::ui::status_bar::activity(&s, now);
    assert_eq!(parts[0].0, "synced 3 min ago");
    assert!(parts[1].0.ends_with("sending 37/500"), "{parts:?}");
    update(
        &mut s,
        Action::Activity(tally::backend::Activity {
            synced_at: Some(now),
            failed: 1,
            write_error: Some("t1: HTTP 403: insufficient_scope".into()),
            ..Default::default()
        }),
    );
    let msg = s.status.clone().expect("the refusal is shown");
    assert!(
        msg.error && msg.text.contains("insufficient_scope"),
        "{msg:?}"
    );
    let parts = tally::ui::status_bar::activity(&s, now);
    assert_eq!(parts.last(), Some(&("1 edit(s) refused".to_string(), true)));
}

#[test]
fn a_tag_name_with_blanks_completes_quoted_and_stays_one_tag() {
    let mut s = ready(10, true);
    update(
        &mut s,
        Action::Tags(Ok(vec![TagInfo {
            id: "1".into(),
            name: "Work expense".into(),
            count: 4,
        }])),
    );
    update(&mut s, key('t'));
    for c in "trip:lisbon wo".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Tab));
    let Mode::Prompt(p) = &s.screen.mode else {
        panic!("tag prompt expected");
    };
    assert_eq!(p.input.value(), "trip:lisbon \"Work expense\" ");
    let fx = update(&mut s, code(KeyCode::Enter));
    let change = edits(&fx)
        .first()
        .map(|e| e.change.clone())
        .expect("one edit");
    assert_eq!(
        change,
        Change::tags(
            vec![Tag::new("trip", "lisbon"), Tag::new("Work expense", "")],
            vec![]
        )
    );
}

#[test]
fn archiving_asks_first_and_cannot_be_undone() {
    let mut s = ready(10, true);
    let fx = update(&mut s, key('X'));
    assert!(fx.is_empty());
    assert!(
        s.status
            .as_ref()
            .is_some_and(|m| m.error && m.text.contains("cannot archive")),
        "a journal cannot archive: {:?}",
        s.status
    );
    s.data.capabilities.archive = true;
    update(&mut s, key(' '));
    update(&mut s, key(' '));
    update(&mut s, key('X'));
    assert!(matches!(&s.screen.mode, Mode::Prompt(p) if p.targets.len() == 2));
    let fx = update(&mut s, key('n'));
    assert!(
        fx.is_empty() && matches!(s.screen.mode, Mode::Normal),
        "n cancels"
    );
    update(&mut s, key('X'));
    let fx = update(&mut s, key('y'));
    let (seq, ids) = fx
        .iter()
        .find_map(|e| match e {
            Effect::Archive { seq, ids } => Some((*seq, ids.clone())),
            _ => None,
        })
        .expect("y archives");
    assert_eq!(ids.len(), 2);
    update(
        &mut s,
        done(
            WriteKind::New,
            seq,
            Ok(vec![UndoEntry {
                label: "archived 2 on the server (cannot be undone)".into(),
                forward: vec![],
                inverse: vec![],
            }]),
        ),
    );
    let msg = s.status.clone().expect("said");
    assert!(!msg.text.contains("u to undo"), "{}", msg.text);
    let fx = update(&mut s, key('u'));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Revert { .. })),
        "nothing to undo"
    );
}

#[test]
fn sync_on_the_accounts_pane_asks_for_that_account_elsewhere_for_everything() {
    let mut s = ready(10, true);
    s.data.capabilities.sync = true;
    let mut bal = Balance::new();
    bal.add(Decimal::new(100, 0), "EUR");
    let generation = s.requests.gens.accounts;
    update(
        &mut s,
        Action::Accounts {
            generation,
            reply: Ok(vec![tally::app::AccountRow {
                account: tally::domain::Account {
                    name: "Girokonto".into(),
                    kind: tally::domain::AccountKind::Asset,
                    balance: bal,
                    id: "bank-1".into(),
                },
                history: vec![],
            }]),
        },
    );
    let fx = update(&mut s, key('S'));
    assert!(fx.contains(&Effect::Sync { source: None }), "{fx:?}");
    while s.screen.focus != Pane::Accounts {
        update(&mut s, code(KeyCode::Tab));
    }
    let fx = update(&mut s, key('S'));
    assert!(
        fx.contains(&Effect::Sync {
            source: Some("bank-1".into())
        }),
        "{fx:?}"
    );
    update(
        &mut s,
        Action::Synced(Ok("Girokonto: next sync possible in 42 s".into())),
    );
    let msg = s.status.clone().expect("said");
    assert!(
        !msg.error && msg.text.contains("next sync possible in 42 s"),
        "{msg:?}"
    );
}

#[test]
fn a_read_only_source_says_why_as_soon_as_it_opens() {
    let mut s = new_state();
    let mut c = caps(false);
    let why = "/x/ledger.journal is read-only (no write permission for this user): tally will not rewrite it";
    c.reasons.insert("edit_tags".into(), why.into());
    update(&mut s, opened(c));
    let status = s.status.as_ref().expect("a status message");
    assert_eq!(status.text, format!("read-only: {why}"));
    assert!(!status.error);
    // An editable source says nothing.
    let s = ready(10, true);
    assert!(s.status.is_none());
}

/// The edits among `fx`.
fn edits(fx: &[Effect]) -> Vec<&Edit> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Edit { edit, .. } => Some(edit),
            _ => None,
        })
        .collect()
}

fn edit_seqs(fx: &[Effect]) -> Vec<u64> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Edit { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

/// The answer to write `seq`.
fn done(kind: WriteKind, seq: u64, reply: Result<Vec<UndoEntry>, String>) -> Action {
    Action::WriteDone {
        kind,
        seqs: vec![seq],
        reply,
        renamed: vec![],
    }
}

/// Issue 10: an edit shows on the next frame; a page that arrives before the write answers still shows it; a
/// failed write rolls it back — the refreshed page shows what the backend has — with the error in the status line.
#[test]
fn edits_show_at_once_and_roll_back_when_the_write_fails() {
    let mut s = ready(10, true);
    let fx = update(&mut s, key('r'));
    let seq = edit_seqs(&fx)[0];
    assert_eq!(
        s.txns.rows[0].status,
        Status::Cleared,
        "shown before it is saved"
    );
    // A page that was in flight arrives with the old data: the edit still shows.
    let fx = update(&mut s, key('R'));
    let (generation, offset, _) = page_effect(&fx).expect("queue page");
    update(
        &mut s,
        Action::Page {
            generation,
            offset,
            reply: Ok(page(offset, 10)),
        },
    );
    assert_eq!(s.txns.rows[0].status, Status::Cleared, "still shown");
    let fx = update(&mut s, done(WriteKind::New, seq, Err("disk full".into())));
    assert!(
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("disk full"))
    );
    let (generation, offset, _) = page_effect(&fx).expect("refreshed after the failed write");
    update(
        &mut s,
        Action::Page {
            generation,
            offset,
            reply: Ok(page(offset, 10)),
        },
    );
    assert_eq!(s.txns.rows[0].status, Status::Unmarked, "rolled back");
}

/// Issue 12's small things in the dashboard: `Tab` on an empty word inserts nothing (it used to insert the top tag),
/// `T` offers only the tags the chosen rows carry, and a message leaves the footer after five seconds.
#[test]
fn tab_completes_begun_words_and_t_offers_carried_tags_and_messages_age_out() {
    let mut s = ready(10, true);
    let tag = |name: &str| TagInfo {
        id: name.into(),
        name: name.into(),
        count: 3,
    };
    update(
        &mut s,
        Action::Tags(Ok(vec![tag("work"), tag("trip"), tag("review")])),
    );
    s.txns.rows[0].tags = vec![Tag::new("trip", "")];
    update(&mut s, key('t'));
    update(&mut s, code(KeyCode::Tab));
    let Mode::Prompt(p) = &s.screen.mode else {
        panic!("the tag prompt");
    };
    assert_eq!(p.input.value(), "", "Tab on nothing typed inserts nothing");
    update(&mut s, key('w'));
    update(&mut s, code(KeyCode::Tab));
    let Mode::Prompt(p) = &s.screen.mode else {
        panic!("the tag prompt");
    };
    assert_eq!(p.input.value(), "work ", "a begun word completes");
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('T'));
    let Mode::Prompt(p) = &s.screen.mode else {
        panic!("the remove prompt");
    };
    assert_eq!(
        p.completions,
        vec!["trip".to_string()],
        "only what the row carries"
    );
    update(&mut s, code(KeyCode::Esc));
    s.set_status("something happened");
    for _ in 0..tally::app::STATUS_TICKS {
        update(&mut s, Action::Tick);
    }
    assert!(s.status.is_none(), "the message aged out");
}

/// Issue 12: `c` with a name the ledger does not have says it will create a new category before Enter does.
#[test]
fn a_new_category_is_announced_before_it_is_made() {
    let mut s = ready(10, true);
    s.data.capabilities.edit_category = true;
    update(
        &mut s,
        Action::Categories(Ok(vec![
            "expenses:dining".into(),
            "expenses:groceries".into(),
        ])),
    );
    update(&mut s, key('c'));
    for c in "expenses:dinnig".chars() {
        update(&mut s, key(c));
    }
    s.screen.size = (100, 30);
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).expect("terminal");
    terminal
        .draw(|f| {
            tally::ui::draw(f, &s);
        })
        .expect("draw");
    let screen: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(screen.contains("new category"), "{screen}");
}

/// Issue 12: an edit of the selection clears it (the next action starts afresh); `keep_selection` keeps it and says so.
#[test]
fn an_edit_of_the_selection_ends_it_unless_the_config_keeps_it() {
    for keep in [false, true] {
        let mut s = ready(10, true);
        s.settings.keep_selection = keep;
        update(&mut s, key(' '));
        update(&mut s, key(' '));
        assert_eq!(s.screen.selection.ids.len(), 2);
        let fx = update(&mut s, key('r'));
        assert!(
            fx.iter().any(|e| matches!(e, Effect::Edit { .. })),
            "the edit goes"
        );
        if keep {
            assert_eq!(s.screen.selection.ids.len(), 2);
            assert!(
                s.status
                    .as_ref()
                    .is_some_and(|m| m.text.contains("still selected"))
            );
        } else {
            assert!(s.screen.selection.ids.is_empty(), "cleared");
        }
    }
}

/// Issue 12: a transaction with more postings than the detail pane shows scrolls with PageDown on the focused detail,
/// and moving to another row starts it at the top again.
#[test]
fn a_long_detail_scrolls() {
    let mut s = ready(10, true);
    s.screen.size = (120, 34);
    let many: Vec<Posting> = (0..30)
        .map(|i| Posting {
            account: format!("expenses:split{i}"),
            amount: Money::new(Decimal::new(100, 2), "$"),
            cost: None,
            kind: PostingKind::Real,
            account_kind: None,
            tags: vec![],
            comment: String::new(),
        })
        .collect();
    s.txns.rows[0].postings = many;
    let draw = |s: &tally::app::State| {
        let mut t =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 34)).expect("terminal");
        t.draw(|f| {
            tally::ui::draw(f, s);
        })
        .expect("draw");
        t.backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect::<String>()
    };
    let first = draw(&s);
    assert!(
        first.contains("split0") && first.contains("more below"),
        "{first}"
    );
    update(&mut s, code(KeyCode::Tab)); // the detail pane
    update(&mut s, code(KeyCode::PageDown));
    update(&mut s, code(KeyCode::PageDown));
    let scrolled = draw(&s);
    assert!(
        !scrolled.contains("split0 ") && scrolled.contains("split1"),
        "{scrolled}"
    );
    update(&mut s, key('j'));
    assert_eq!(s.screen.detail_scroll, 0, "another row starts at the top");
}
