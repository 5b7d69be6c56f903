//! FinWise, Fin X and Synci through their mirrors, each against a test server that answers as its seed document
//! says (`tests/it/servers/`): the conformance suite with the server's own data as the oracle (minus what each
//! dialect says it cannot do), what the client sends (auth header, paging parameters and cursors, bodies), money
//! and signs read exactly, each API's particular features (FinWise's server sums and archiving, Fin X's status
//! writes, Synci's bank sync and its once-a-minute limit), error bodies with the server's message, and hostile text
//! from a server drawn harmlessly by the dashboard.

use crate::servers;

use crate::conformance_suite::{Balances, Oracle, run_all};
use async_trait::async_trait;
use rust_decimal::Decimal;
use servers::finwise::{FinWiseOptions, FinWiseServer};
use servers::finx::{FinXOptions, FinXServer};
use servers::synci::{SynciOptions, SynciServer};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tally::backend::mirror::{MirrorBackend, MirrorOptions, Wait};
use tally::backend::rest::RestOptions;
use tally::backend::rest::dialect::Dialect;
use tally::backend::rest::finwise::FinWise;
use tally::backend::rest::finx::FinX;
use tally::backend::rest::synci::Synci;
use tally::backend::{Backend, BackendError, GroupBy, PageRequest, TxnPatch};
use tally::domain::{Status, Transaction};
use tally::query::{self, Query};

fn opts(url: &str, key: &str) -> RestOptions {
    RestOptions {
        base_url: url.to_string(),
        api_key: Some(key.to_string()),
        timeout: Duration::from_secs(10),
        ..RestOptions::default()
    }
}

async fn mirror(dialect: Box<dyn Dialect>, dir: &Path, wait: Wait) -> MirrorBackend {
    MirrorBackend::open(
        dialect,
        MirrorOptions {
            path: dir.join("mirror.sqlite"),
            wait,
        },
    )
    .await
    .expect("the mirror opens")
}

async fn everything(b: &dyn Backend) -> Vec<Transaction> {
    b.transactions(&Query::all(), PageRequest::all())
        .await
        .expect("listing")
        .items
}

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// Balances as the oracle sees them: non-zero, by account name.
fn balances<'a>(rows: impl Iterator<Item = (&'a str, &'a str, i64)>) -> Balances {
    rows.filter(|(_, _, c)| *c != 0)
        .map(|(name, currency, cents)| {
            (
                name.to_string(),
                vec![(currency.to_ascii_uppercase(), money(cents))],
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------- FinWise

struct FinWiseOracle<'a>(&'a FinWiseServer);

#[async_trait]
impl Oracle for FinWiseOracle<'_> {
    async fn balances(&self, _b: &dyn Backend) -> Balances {
        self.0.with_data(|d| {
            let rows: Vec<(String, String, i64)> = d
                .accounts
                .iter()
                .filter(|a| a.archived_at.is_none())
                .map(|a| {
                    let invert = a
                        .data
                        .as_ref()
                        .and_then(|v| v.get("invertAmounts"))
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(false);
                    let cents = if invert {
                        -a.balance_cents
                    } else {
                        a.balance_cents
                    };
                    (a.name.clone(), a.currency.clone(), cents)
                })
                .collect();
            balances(rows.iter().map(|(n, c, q)| (n.as_str(), c.as_str(), *q)))
        })
    }

    async fn count(&self, _b: &dyn Backend, query: &str) -> Option<usize> {
        let tag = match query.strip_prefix("tag:") {
            Some(t) if !t.contains('=') => Some(t.to_lowercase()),
            Some(_) => return None,
            None if query.is_empty() => None,
            None => return None,
        };
        Some(self.0.with_data(|d| {
            let parents: HashSet<&str> = d
                .transactions
                .iter()
                .filter_map(|t| t.parent_id.as_deref())
                .collect();
            d.transactions
                .iter()
                .filter(|t| t.archived_at.is_none() && !parents.contains(t.id.as_str()))
                .filter(|t| {
                    tag.as_ref().is_none_or(|want| {
                        t.tag_ids
                            .iter()
                            .filter_map(|i| d.tag(i))
                            .any(|g| g.name.to_lowercase() == *want)
                    })
                })
                .count()
        }))
    }

    fn hledger_names(&self) -> bool {
        false
    }
}

fn finwise(server: &FinWiseServer) -> Box<FinWise> {
    Box::new(FinWise::new(&opts(&server.url, &server.key)).expect("url"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finwise_conforms_and_sends_what_its_document_shows() {
    let server = FinWiseServer::start(FinWiseOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(finwise(&server), dir.path(), Wait::Complete).await;
    run_all(&m, &FinWiseOracle(&server)).await;
    for r in server.requests() {
        assert_eq!(
            r.header("authorization"),
            Some(server.key.as_str()),
            "the raw key, no Bearer"
        );
        if r.path == "/transactions" {
            let q = r.query_pairs();
            let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let pagination: serde_json::Value =
                serde_json::from_str(&get("pagination").expect("pagination")).expect("JSON");
            assert_eq!(pagination["pageSize"], 1000, "{pagination}");
            let filters: serde_json::Value =
                serde_json::from_str(&get("filters").expect("filters")).expect("JSON");
            assert_eq!(filters["excludeArchived"], true);
        }
    }
    // The review queue is FinWise's own flag; edits are unavailable with the reason.
    let queue = m
        .transactions(&query::parse("is:review").expect("q"), PageRequest::all())
        .await
        .expect("queue");
    let flagged = server.with_data(|d| {
        d.transactions
            .iter()
            .filter(|t| t.archived_at.is_none() && t.needs_review == Some(true))
            .filter(|t| {
                !d.transactions
                    .iter()
                    .any(|c| c.parent_id.as_deref() == Some(&t.id))
            })
            .count()
    });
    assert_eq!(queue.total, flagged);
    let e = m
        .update_transaction(
            &queue.items[0].id,
            &TxnPatch {
                status: Some(Status::Cleared),
                ..TxnPatch::default()
            },
        )
        .await
        .expect_err("no edits");
    assert!(
        e.to_string().contains("documents no transaction edits"),
        "{e}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finwise_amounts_signs_and_server_sums_agree_with_the_mirror() {
    let server = FinWiseServer::start(FinWiseOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(finwise(&server), dir.path(), Wait::Complete).await;
    let listed = everything(&m).await;
    server.with_data(|d| {
        for t in &listed {
            let s = d.txn(&t.id.0).expect("on the server");
            assert_eq!(
                t.amount().get(&s.currency.to_ascii_uppercase()),
                Decimal::new(s.amount_cents, 2)
            );
            assert_eq!(t.date, s.date.date_naive());
            assert_eq!(t.needs_review, Some(s.needs_review == Some(true)));
            let pending = if s.is_pending == Some(true) {
                Status::Pending
            } else {
                Status::Cleared
            };
            assert_eq!(t.status, pending);
        }
    });
    // The server's own sums per month and per day equal what the mirror sums from the same transactions.
    let dialect = FinWise::new(&opts(&server.url, &server.key)).expect("url");
    let filters = serde_json::json!({"excludeArchived": true, "excludeParentTransactions": true});
    for group_by in [GroupBy::Month, GroupBy::Day] {
        let theirs = dialect
            .aggregated(group_by, &filters)
            .await
            .expect("aggregated3");
        assert!(!theirs.is_empty());
        for (start, amount) in &theirs {
            let end = tally::analytics::next_period(*start, group_by);
            let q = query::parse(&format!("date:{start}..{end} cur:USD")).expect("q");
            let ours = m
                .transactions(
                    &q,
                    PageRequest {
                        limit: 0,
                        ..PageRequest::default()
                    },
                )
                .await
                .expect("sum");
            // FinWise converts every currency to one; the test data's USD dominates each bucket's sum.
            let usd_only = server.with_data(|d| {
                d.transactions.iter().all(|t| {
                    t.archived_at.is_some() || t.currency.eq_ignore_ascii_case("USD") || {
                        let day = t.date.date_naive();
                        day < *start || day >= end
                    }
                })
            });
            if usd_only {
                assert_eq!(
                    ours.sum.get("USD"),
                    *amount,
                    "{} by {}",
                    start,
                    group_by.name()
                );
            }
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finwise_archiving_hides_the_row_at_once_and_on_the_server() {
    let server = FinWiseServer::start(FinWiseOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(finwise(&server), dir.path(), Wait::Complete).await;
    assert!(m.capabilities().archive);
    let before = everything(&m).await;
    let id = before[2].id.clone();
    let archive = TxnPatch {
        archive: true,
        ..TxnPatch::default()
    };
    m.bulk_update(std::slice::from_ref(&id), &archive)
        .await
        .expect("archived");
    assert_eq!(
        everything(&m).await.len(),
        before.len() - 1,
        "hidden at once"
    );
    m.flush().await.expect("sent");
    assert!(server.with_data(|d| d.txn(&id.0).expect("txn").archived_at.is_some()));
    m.sync("mirror").await.expect("refresh");
    assert!(matches!(
        m.transaction(&id).await,
        Err(BackendError::NotFound(_))
    ));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finwise_without_paging_headers_and_with_nested_errors() {
    let server = FinWiseServer::start(FinWiseOptions {
        paging_headers: false,
        nested_errors: true,
        transactions: 2500,
        ..FinWiseOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(finwise(&server), dir.path(), Wait::Complete).await;
    assert_eq!(
        everything(&m).await.len(),
        FinWiseOracle(&server).count(&m, "").await.expect("count"),
        "a short page ends the listing"
    );
    let wrong = FinWise::new(&opts(&server.url, "Bearer nope")).expect("url");
    let e = MirrorBackend::open(
        Box::new(wrong),
        MirrorOptions {
            path: dir.path().join("bad.sqlite"),
            wait: Wait::Complete,
        },
    )
    .await
    .err()
    .expect("401");
    let shown = e.to_string();
    assert!(
        shown.contains("HTTP 401") && shown.contains("request id"),
        "{shown}"
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------------- Fin X

struct FinXOracle<'a>(&'a FinXServer);

#[async_trait]
impl Oracle for FinXOracle<'_> {
    async fn balances(&self, _b: &dyn Backend) -> Balances {
        self.0.with_data(|d| {
            let rows: Vec<(String, String, i64)> = d
                .accounts
                .iter()
                .map(|a| (a.name.clone(), a.currency.clone(), a.balance_cents))
                .collect();
            balances(rows.iter().map(|(n, c, q)| (n.as_str(), c.as_str(), *q)))
        })
    }

    async fn count(&self, b: &dyn Backend, query: &str) -> Option<usize> {
        b.flush().await.expect("every edit reaches the server");
        let status = match query {
            "" => None,
            "status:*" => Some("completed"),
            "status:!" => Some("pending"),
            _ => return None,
        };
        Some(self.0.with_data(|d| {
            d.transactions
                .iter()
                .filter(|t| status.is_none_or(|s| t.status == s))
                .count()
        }))
    }

    fn hledger_names(&self) -> bool {
        false
    }
}

fn finx(server: &FinXServer) -> Box<FinX> {
    Box::new(FinX::new(&opts(&server.url, &server.key)).expect("url"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finx_conforms_pages_by_cursor_and_writes_status() {
    let server = FinXServer::start(FinXOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(finx(&server), dir.path(), Wait::Complete).await;
    run_all(&m, &FinXOracle(&server)).await;
    let pages: Vec<Vec<(String, String)>> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/transactions" && r.method == "GET")
        .map(|r| r.query_pairs())
        .collect();
    assert!(pages.len() >= 3, "300 transactions, 100 a page");
    for (i, q) in pages.iter().enumerate().take(3) {
        assert!(q.contains(&("limit".into(), "100".into())), "{q:?}");
        assert_eq!(q.iter().any(|(k, _)| k == "starting_after"), i > 0, "{q:?}");
    }
    for r in server.requests() {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", server.key).as_str())
        );
    }
    // r completes a pending transaction (PUT status=completed), ! puts it back.
    let queue = m
        .transactions(&query::parse("is:review").expect("q"), PageRequest::all())
        .await
        .expect("queue");
    let pending = server.with_data(|d| {
        d.transactions
            .iter()
            .filter(|t| t.status == "pending")
            .count()
    });
    assert_eq!(queue.total, pending);
    let id = queue.items[0].id.clone();
    server.clear_requests();
    let done = m
        .update_transaction(
            &id,
            &TxnPatch {
                status: Some(Status::Cleared),
                ..TxnPatch::default()
            },
        )
        .await
        .expect("completed");
    assert!(!done.needs_review(), "it left the queue at once");
    m.flush().await.expect("sent");
    let put = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("a PUT");
    assert_eq!(put.body.expect("body")["status"], "completed");
    assert_eq!(
        server.with_data(|d| d.txn(&id.0).expect("txn").status.clone()),
        "completed"
    );
    m.update_transaction(
        &id,
        &TxnPatch {
            status: Some(Status::Pending),
            ..TxnPatch::default()
        },
    )
    .await
    .expect("pending again");
    m.flush().await.expect("sent");
    assert_eq!(
        server.with_data(|d| d.txn(&id.0).expect("txn").status.clone()),
        "pending"
    );
    let e = m
        .bulk_tag(
            std::slice::from_ref(&id),
            &[tally::domain::Tag::new("x", "")],
            &[],
        )
        .await
        .expect_err("no tags");
    assert!(e.to_string().contains("Fin X has no tags"), "{e}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finx_dates_signs_and_text_for_transactions_without_any() {
    let server = FinXServer::start(FinXOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(finx(&server), dir.path(), Wait::Complete).await;
    let listed = everything(&m).await;
    server.with_data(|d| {
        for t in &listed {
            let s = d.txn(&t.id.0).expect("on the server");
            let a = d.account(&s.account_id).expect("account");
            let q = Decimal::new(s.amount_cents, 2);
            let want = if s.kind == "credit" { q } else { -q };
            assert_eq!(
                t.amount().get(&a.currency.to_ascii_uppercase()),
                want,
                "{}",
                t.id
            );
            let day = chrono::DateTime::from_timestamp(s.created_at, 0)
                .expect("time")
                .date_naive();
            assert_eq!(t.date, day);
            assert_eq!(t.description, format!("{} · {}", s.kind, a.name));
        }
    });
    server.stop().await;
    let server = FinXServer::start(FinXOptions {
        descriptions: true,
        ..FinXOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(finx(&server), dir.path(), Wait::Complete).await;
    let listed = everything(&m).await;
    server.with_data(|d| {
        for t in listed.iter().take(20) {
            assert_eq!(t.description, d.txn(&t.id.0).expect("txn").description);
        }
    });
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------------- Synci

struct SynciOracle<'a>(&'a SynciServer);

#[async_trait]
impl Oracle for SynciOracle<'_> {
    async fn balances(&self, _b: &dyn Backend) -> Balances {
        self.0.with_data(|d| {
            let rows: Vec<(String, String, i64)> = d
                .accounts
                .iter()
                .map(|a| (a.name.clone(), a.currency.clone(), a.balance_cents))
                .collect();
            balances(rows.iter().map(|(n, c, q)| (n.as_str(), c.as_str(), *q)))
        })
    }

    async fn count(&self, _b: &dyn Backend, query: &str) -> Option<usize> {
        query
            .is_empty()
            .then(|| self.0.with_data(|d| d.transactions.len()))
    }

    fn hledger_names(&self) -> bool {
        false
    }
}

fn synci(server: &SynciServer) -> Box<Synci> {
    Box::new(Synci::new(&opts(&server.url, &server.key)).expect("url"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synci_conforms_and_reads_amounts_as_numbers_or_strings() {
    let server = SynciServer::start(SynciOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(synci(&server), dir.path(), Wait::Complete).await;
    run_all(&m, &SynciOracle(&server)).await;
    for r in server.requests() {
        assert_eq!(r.header("accept"), Some("application/json"));
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", server.key).as_str())
        );
        if r.path == "/api/v1/banks/transactions" {
            assert!(
                r.query_pairs()
                    .contains(&("page[size]".into(), "100".into())),
                "{}",
                r.query
            );
        }
    }
    let listed = everything(&m).await;
    let (mut as_text, mut pending) = (0, 0);
    server.with_data(|d| {
        for t in &listed {
            let s = d.txn(&t.id.0).expect("on the server");
            as_text += usize::from(s.amount_as_text);
            assert_eq!(t.amount().get(&s.currency), Decimal::new(s.amount_cents, 2));
            assert_eq!(t.date, s.booking_date);
            if !s.booked {
                pending += 1;
                assert!(t.needs_review() && t.status == Status::Pending);
            }
            match &s.generated {
                Some(g) => assert_eq!(
                    (t.payee.as_str(), t.description.as_str()),
                    (g.payee.as_str(), g.description.as_str())
                ),
                None => assert!(
                    !t.payee.is_empty(),
                    "a counterparty or the bank's text stands in"
                ),
            }
        }
    });
    assert!(
        as_text > 0 && pending > 0,
        "the data has string amounts and pending rows"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synci_bank_sync_says_when_the_next_is_possible() {
    let server = SynciServer::start(SynciOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let m = mirror(synci(&server), dir.path(), Wait::Complete).await;
    let account = m
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .next()
        .expect("an account");
    let first = m.sync(&account.id).await.expect("asked");
    assert!(first.status.starts_with("sync"), "{first:?}");
    let second = m.sync(&account.id).await.expect("not a failure");
    assert!(
        second.status.starts_with("next sync possible in "),
        "{second:?}"
    );
    let calls = server.syncs();
    assert_eq!(calls.len(), 2);
    assert!(calls[0].accepted && !calls[1].accepted);
    assert_eq!(calls[0].account_id, account.id);
    let all = m.sync_all().await.expect("sync all");
    assert!(all.contains("next sync possible"), "{all}");
    server.stop().await;
}

// ------------------------------------------------------------------------------------------------- hostile text

/// Draws the dashboard over `backend` and checks the screen holds no escape sequence, no bidirectional override,
/// no control character, and that hostile names did not push a line past the edge.
async fn drawn_harmlessly(backend: Arc<dyn Backend>) {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use tally::app::{Action, EffectRunner, State, StateOptions, update};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let opened = EffectRunner::opened(backend.as_ref()).await;
    let mut runner = EffectRunner::new(backend, tx);
    let mut state = State::new(
        &tally::config::Config::default(),
        StateOptions {
            source_label: "server".into(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).expect("date"),
            keymap: tally::config::keymap::Keymap::defaults(),
            no_color: true,
        },
    );
    state.screen.size = (120, 34);
    for e in update(&mut state, Action::Opened(Ok(opened))) {
        runner.run(e);
    }
    while state.txns.total.is_none() || state.data.accounts.is_empty() {
        let a = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("a reply")
            .expect("open channel");
        for e in update(&mut state, a) {
            runner.run(e);
        }
    }
    let mut terminal = Terminal::new(TestBackend::new(120, 34)).expect("terminal");
    terminal
        .draw(|f| {
            tally::ui::draw(f, &state);
        })
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    for y in 0..34 {
        let line: String = (0..120)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        for c in line.chars() {
            assert!(
                !c.is_control() && !('\u{202a}'..='\u{202e}').contains(&c) && c != '\u{2067}',
                "line {y} holds {c:?}: {line:?}"
            );
        }
        assert!(
            unicode_width::UnicodeWidthStr::width(line.as_str()) <= 120,
            "line {y}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_from_any_server_is_drawn_harmlessly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fw = FinWiseServer::start(FinWiseOptions {
        hostile: true,
        ..FinWiseOptions::default()
    })
    .await;
    let m = mirror(finwise(&fw), &dir.path().join("fw"), Wait::Complete).await;
    let hostile = everything(&m).await.into_iter().any(|t| {
        t.description.contains('\u{1b}')
            || t.description.contains('\u{202e}')
            || t.description.chars().count() >= 300
    });
    assert!(hostile, "the data is hostile");
    drawn_harmlessly(Arc::new(m)).await;
    fw.stop().await;
    let sy = SynciServer::start(SynciOptions {
        hostile: true,
        ..SynciOptions::default()
    })
    .await;
    drawn_harmlessly(Arc::new(
        mirror(synci(&sy), &dir.path().join("sy"), Wait::Complete).await,
    ))
    .await;
    sy.stop().await;
    let fx = FinXServer::start(FinXOptions {
        hostile: true,
        descriptions: true,
        ..FinXOptions::default()
    })
    .await;
    drawn_harmlessly(Arc::new(
        mirror(finx(&fx), &dir.path().join("fx"), Wait::Complete).await,
    ))
    .await;
    fx.stop().await;
}
