//! Criterion benchmarks of the dashboard's hot paths: drawing a full frame at 160×48 and 80×24 (every pane filled:
//! a loaded page of the table, accounts with sparklines, analytics with a breakdown), one `update` of a scroll key
//! on a million-match table, and a scroll step followed by a redraw — the "scroll frame" of the performance target.
//! No backend is involved: the state is fed the replies a backend would give, so the numbers are the UI's own.

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rust_decimal::Decimal;
use std::hint::black_box;
use tally::app::{AccountRow, Action, Effect, Opened, PAGE_ROWS, State, StateOptions, update};
use tally::backend::{BreakdownRow, Capabilities, PeriodSummary, TxnPage};
use tally::config::Config;
use tally::config::keymap::Keymap;
use tally::domain::{
    Account, AccountKind, Balance, Money, Posting, PostingKind, Status, Tag, Transaction, TxnId,
};

const TOTAL: usize = 1_000_000;

fn txn(i: usize) -> Transaction {
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
        - chrono::Duration::days((i / 40) as i64);
    let amount = Decimal::new(-((i as i64 * 7919) % 25_000 + 100), 2);
    let posting = |account: &str, q: Decimal| Posting {
        account: account.into(),
        amount: Money::new(q, "$"),
        cost: None,
        kind: PostingKind::Real,
        account_kind: None,
        tags: vec![],
        comment: String::new(),
    };
    Transaction {
        id: TxnId(format!("{i:016x}")),
        date,
        status: [Status::Cleared, Status::Pending, Status::Unmarked][i % 3],
        description: format!("Merchant number {} | weekly shop", i % 97),
        payee: format!("Merchant number {}", i % 97),
        note: "weekly shop".into(),
        code: String::new(),
        tags: if i.is_multiple_of(4) {
            vec![Tag::new("work", ""), Tag::new("trip", "lisbon")]
        } else {
            vec![]
        },
        postings: vec![
            posting("expenses:groceries", -amount),
            posting("assets:checking", amount),
        ],
        category: Some("expenses:groceries".into()),
        source: format!("bench.journal:{}", i * 4 + 1),
        needs_review: None,
        read_only: false,
    }
}

fn money(q: i64) -> Balance {
    let mut b = Balance::new();
    b.add(Decimal::new(q, 2), "$");
    b
}

/// A dashboard showing a million matches, with every pane filled.
fn loaded_state(size: (u16, u16)) -> State {
    let mut s = State::new(
        &Config::default(),
        StateOptions {
            source_label: "journal bench.journal".into(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).expect("date"),
            keymap: Keymap::defaults(),
            no_color: false,
        },
    );
    s.screen.size = size;
    let fx = update(
        &mut s,
        Action::Opened(Ok(Opened {
            capabilities: Capabilities::read_only("journal bench.journal"),
            diagnostics: 0,
            first_diagnostic: None,
        })),
    );
    for e in fx {
        match e {
            Effect::FetchPage {
                generation, page, ..
            } => {
                let items = (page.offset..page.offset + PAGE_ROWS).map(txn).collect();
                update(
                    &mut s,
                    Action::Page {
                        generation,
                        offset: page.offset,
                        reply: Ok(TxnPage {
                            items,
                            total: TOTAL,
                            sum: money(-123_456_789),
                            before: None,
                        }),
                    },
                );
            }
            Effect::FetchAnalytics { generation, .. } => {
                let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
                let periods = (0..36)
                    .map(|m| PeriodSummary {
                        start: start
                            .checked_add_months(chrono::Months::new(m))
                            .expect("month"),
                        income: money(500_000 + i64::from(m) * 1000),
                        spending: money(300_000 + i64::from(m % 7) * 20_000),
                        net: money(200_000 - i64::from(m % 7) * 20_000),
                        count: 4000,
                    })
                    .collect();
                let breakdown = (0..20)
                    .map(|k| BreakdownRow {
                        key: format!("expenses:category {k}"),
                        total: money(1_000_000 / (k + 1)),
                        count: 100,
                    })
                    .collect();
                update(
                    &mut s,
                    Action::Analytics {
                        generation,
                        reply: Ok((periods, breakdown)),
                    },
                );
            }
            Effect::FetchAccounts { generation } => {
                let rows = (0..12)
                    .map(|k| AccountRow {
                        account: Account {
                            name: format!("assets:bank {k}:checking"),
                            kind: AccountKind::Asset,
                            balance: money(1_234_567 * (k + 1)),
                            id: String::new(),
                        },
                        history: (0..12)
                            .map(|m| Decimal::new(1000 * (m % 5) + k, 0))
                            .collect(),
                    })
                    .collect();
                update(
                    &mut s,
                    Action::Accounts {
                        generation,
                        reply: Ok(rows),
                    },
                );
            }
            Effect::FetchReviewCount { generation } => {
                update(
                    &mut s,
                    Action::ReviewCount {
                        generation,
                        reply: Ok(333_333),
                    },
                );
            }
            _ => {}
        }
    }
    s
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn draw(c: &mut Criterion) {
    for size in [(160u16, 48u16), (80, 24)] {
        let state = loaded_state(size);
        let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("terminal");
        c.bench_function(&format!("draw_full_frame_{}x{}", size.0, size.1), |b| {
            b.iter(|| {
                terminal
                    .draw(|f| {
                        tally::ui::draw(f, black_box(&state));
                    })
                    .expect("draw");
            });
        });
    }
}

fn scroll(c: &mut Criterion) {
    let mut state = loaded_state((160, 48));
    c.bench_function("update_scroll_key_1M_matches", |b| {
        b.iter(|| {
            let down = update(&mut state, key('j'));
            let up = update(&mut state, key('k'));
            black_box((down, up));
        });
    });
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    c.bench_function("scroll_frame_update_and_draw_160x48", |b| {
        b.iter(|| {
            black_box(update(&mut state, key('j')));
            terminal
                .draw(|f| {
                    tally::ui::draw(f, &state);
                })
                .expect("draw");
            black_box(update(&mut state, key('k')));
        });
    });
}

criterion_group!(benches, draw, scroll);
criterion_main!(benches);
