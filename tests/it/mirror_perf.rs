//! Issue 7's performance targets for a server mirror, measured through the real pieces (the Sure test server on
//! loopback, the mirror in SQLite, `update`, the `EffectRunner`, `ui::draw`): with 10,000 transactions on the
//! server, the first screen with data ≤ 300 ms after start on the first open and ≤ 200 ms on a later open; a filter
//! keystroke on a 100,000-transaction mirror ≤ 50 ms; tagging 500 rows on a server without a limit ≤ 5 s with at
//! most 8 requests in flight; and under a rate limit (100 requests per window, the window scaled from an hour to
//! 10 s) the outbox paces itself, never answered 429, and finishes after a restart. Slow, so ignored by default:
//! `cargo test --release --test it mirror_perf -- --ignored --nocapture --test-threads 1`.

use crate::servers;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use servers::sure::{SureOptions, SureServer};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally::app::{Action, EffectRunner, State, StateOptions, update};
use tally::backend::mirror::{MirrorBackend, MirrorOptions, Wait};
use tally::backend::rest::RestOptions;
use tally::backend::rest::sure::Sure;
use tally::backend::{Backend, PageRequest};
use tally::config::Config;
use tally::config::keymap::Keymap;
use tally::domain::Tag;
use tally::query::Query;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

struct Session {
    state: State,
    runner: EffectRunner,
    rx: UnboundedReceiver<Action>,
}

impl Session {
    fn new(backend: Arc<dyn Backend>) -> Session {
        let (tx, rx) = unbounded_channel();
        let mut state = State::new(
            &Config::default(),
            StateOptions {
                source_label: "sure".into(),
                today: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).expect("date"),
                keymap: Keymap::defaults(),
                no_color: false,
            },
        );
        state.screen.size = (120, 34);
        Session {
            state,
            runner: EffectRunner::new(backend, tx),
            rx,
        }
    }

    fn apply(&mut self, action: Action) {
        for e in update(&mut self.state, action) {
            self.runner.run(e);
        }
    }

    async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        while !done(&self.state) {
            match tokio::time::timeout(Duration::from_secs(60), self.rx.recv()).await {
                Ok(Some(a)) => self.apply(a),
                _ => panic!("no reply while waiting for {what}"),
            }
        }
    }
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

async fn open(server: &SureServer, dir: &Path, wait: Wait) -> MirrorBackend {
    let sure = Sure::new(&RestOptions {
        base_url: server.url.clone(),
        api_key: Some(server.key.clone()),
        ..RestOptions::default()
    })
    .expect("url");
    MirrorBackend::open(
        Box::new(sure),
        MirrorOptions {
            path: dir.join("mirror.sqlite"),
            wait,
        },
    )
    .await
    .expect("opens")
}

/// From start until the dashboard has drawn its first screen with data.
async fn first_screen(server: &SureServer, dir: &Path) -> (Duration, Arc<dyn Backend>) {
    let started = Instant::now();
    let backend: Arc<dyn Backend> = Arc::new(open(server, dir, Wait::FirstPage).await);
    let opened = EffectRunner::opened(backend.as_ref()).await;
    let mut s = Session::new(Arc::clone(&backend));
    s.apply(Action::Opened(Ok(opened)));
    s.until("the first page", |st| st.txns.total.is_some())
        .await;
    let mut terminal = Terminal::new(TestBackend::new(120, 34)).expect("terminal");
    terminal
        .draw(|f| {
            tally::ui::draw(f, &s.state);
        })
        .expect("draw");
    (started.elapsed(), backend)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "starts servers with 10,000 and 100,000 transactions; run with --release -- --ignored"]
async fn mirror_targets() {
    let server = SureServer::start(SureOptions {
        transactions: 10_000,
        ..SureOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, backend) = first_screen(&server, dir.path()).await;
    println!("first open, 10,000 on the server: first screen with data after {first:?}");
    let started = Instant::now();
    while backend.activity().syncing.is_some() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("  … all 10,000 mirrored after {:?} more", started.elapsed());
    assert!(first <= Duration::from_millis(300), "first open {first:?}");
    drop(backend);
    let (later, backend) = first_screen(&server, dir.path()).await;
    println!("later open: first screen with data after {later:?}");
    assert!(later <= Duration::from_millis(200), "later open {later:?}");

    // Tag 500 rows on a server without a limit.
    let ids: Vec<_> = backend
        .transactions(
            &Query::all(),
            PageRequest {
                limit: 500,
                ..PageRequest::default()
            },
        )
        .await
        .expect("rows")
        .items
        .into_iter()
        .map(|t| t.id)
        .collect();
    let t = Instant::now();
    backend
        .bulk_tag(&ids, &[Tag::new("bench", "")], &[])
        .await
        .expect("queued");
    let shown = t.elapsed();
    backend.flush().await.expect("sent");
    let sent = t.elapsed();
    let in_flight = server.max_in_flight();
    println!(
        "tag 500 rows: on screen after {shown:?}, confirmed by the server after {sent:?}, at most {in_flight} requests in flight"
    );
    assert!(sent <= Duration::from_secs(5), "500 tags {sent:?}");
    assert!(in_flight <= 8, "{in_flight} in flight");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "mirrors 100,000 transactions; run with --release -- --ignored"]
async fn filter_keystroke_on_a_100k_mirror() {
    let server = SureServer::start(SureOptions {
        transactions: 100_000,
        ..SureOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    drop(open(&server, dir.path(), Wait::Complete).await);
    println!("100,000 mirrored in {:?}", t.elapsed());
    let backend: Arc<dyn Backend> = Arc::new(open(&server, dir.path(), Wait::FirstPage).await);
    let opened = EffectRunner::opened(backend.as_ref()).await;
    let mut s = Session::new(backend);
    s.apply(Action::Opened(Ok(opened)));
    s.until("the first page", |st| st.txns.total.is_some())
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut terminal = Terminal::new(TestBackend::new(120, 34)).expect("terminal");
    s.apply(key('/'));
    let mut times = Vec::new();
    for c in "starbucks".chars() {
        let t = Instant::now();
        s.apply(key(c));
        let generation = s.state.requests.gens.page;
        s.until("a filter page", |st| {
            st.txns.pending_offset.is_none() && st.requests.gens.page == generation
        })
        .await;
        terminal
            .draw(|f| {
                tally::ui::draw(f, &s.state);
            })
            .expect("draw");
        let took = t.elapsed();
        println!("keystroke {c:?}: {took:?} → {} matches", s.state.total());
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "filter keystroke on 100,000: median {median:?}, slowest {:?}",
        times[times.len() - 1]
    );
    assert!(median <= Duration::from_millis(50), "median {median:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "waits out rate-limit windows; run with --release -- --ignored"]
async fn the_outbox_paces_a_100_request_window_across_a_restart() {
    let window = Duration::from_secs(10);
    let server = SureServer::start(SureOptions {
        transactions: 300,
        rate_limit: Some((100, window)),
        ..SureOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    {
        let mirror = open(&server, dir.path(), Wait::Complete).await;
        let ids: Vec<_> = mirror
            .transactions(
                &Query::all(),
                PageRequest {
                    limit: 120,
                    ..PageRequest::default()
                },
            )
            .await
            .expect("rows")
            .items
            .into_iter()
            .map(|t| t.id)
            .collect();
        mirror
            .bulk_tag(&ids, &[Tag::new("paced", "")], &[])
            .await
            .expect("queued");
        tokio::time::sleep(Duration::from_secs(3)).await;
        println!("quit with {} edits unsent", mirror.activity().queued);
    }
    let mirror = open(&server, dir.path(), Wait::FirstPage).await;
    mirror.flush().await.expect("finished after the restart");
    let tagged = server.with_data(|d| {
        let tag = d.tag_by_name("paced").expect("created").id.clone();
        d.transactions
            .iter()
            .filter(|t| t.tag_ids.contains(&tag))
            .count()
    });
    println!(
        "120 edits (240+ requests) under 100 per {window:?}: done after {:?} across a restart, {} answered 429",
        t.elapsed(),
        server.rate_limited()
    );
    assert_eq!(tagged, 120);
    assert_eq!(server.rate_limited(), 0);
    server.stop().await;
}

/// How long a first complete sync of `server`'s 10,000 transactions takes, and a query on the result.
async fn timed_sync(
    name: &str,
    dialect: Box<dyn tally::backend::rest::dialect::Dialect>,
    dir: &Path,
) {
    let t = Instant::now();
    let m = MirrorBackend::open(
        dialect,
        MirrorOptions {
            path: dir.join(format!("{name}.sqlite")),
            wait: Wait::Complete,
        },
    )
    .await
    .expect("opens");
    let took = t.elapsed();
    let all = m
        .transactions(
            &Query::all(),
            PageRequest {
                limit: 0,
                ..PageRequest::default()
            },
        )
        .await
        .expect("count");
    let q = tally::query::parse("amt:>20 not:is:review").expect("query");
    let t = Instant::now();
    let hits = m
        .transactions(&q, PageRequest::default())
        .await
        .expect("query")
        .total;
    println!(
        "{name}: {} transactions paged into the mirror in {took:?}; a query over them: {hits} matches in {:?}",
        all.total,
        t.elapsed()
    );
    // Split parents (FinWise) and transactions of disabled accounts (Sure) are not listed.
    assert!(all.total >= 9_900, "{name}: {}", all.total);
    assert!(took <= Duration::from_secs(3), "{name}: {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "starts three servers with 10,000 transactions each; run with --release -- --ignored"]
async fn every_dialect_pages_10000_into_the_mirror_within_3_seconds() {
    use servers::finwise::{FinWiseOptions, FinWiseServer};
    use servers::finx::{FinXOptions, FinXServer};
    use servers::synci::{SynciOptions, SynciServer};
    use tally::backend::rest::{finwise::FinWise, finx::FinX, synci::Synci};
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = |url: &str, key: &str| RestOptions {
        base_url: url.to_string(),
        api_key: Some(key.to_string()),
        ..RestOptions::default()
    };
    let fw = FinWiseServer::start(FinWiseOptions {
        transactions: 10_000,
        ..FinWiseOptions::default()
    })
    .await;
    timed_sync(
        "finwise",
        Box::new(FinWise::new(&opts(&fw.url, &fw.key)).expect("url")),
        dir.path(),
    )
    .await;
    fw.stop().await;
    let fx = FinXServer::start(FinXOptions {
        transactions: 10_000,
        ..FinXOptions::default()
    })
    .await;
    timed_sync(
        "finx",
        Box::new(FinX::new(&opts(&fx.url, &fx.key)).expect("url")),
        dir.path(),
    )
    .await;
    fx.stop().await;
    let sy = SynciServer::start(SynciOptions {
        transactions: 10_000,
        ..SynciOptions::default()
    })
    .await;
    timed_sync(
        "synci",
        Box::new(Synci::new(&opts(&sy.url, &sy.key)).expect("url")),
        dir.path(),
    )
    .await;
    sy.stop().await;
    let su = SureServer::start(SureOptions {
        transactions: 10_000,
        ..SureOptions::default()
    })
    .await;
    let sure = Sure::new(&opts(&su.url, &su.key)).expect("url");
    timed_sync("sure", Box::new(sure), dir.path()).await;
    su.stop().await;
}
