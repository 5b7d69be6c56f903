//! The dashboard's performance targets on a generated 1,000,000-transaction journal, measured through the real
//! pieces (`update`, the `EffectRunner`, the journal backend, `ui::draw` on a `TestBackend`): first data after
//! start ≤ 1.5 s, a filter keystroke applied ≤ 50 ms, a scroll frame ≤ 5 ms, "select all" of a million matches
//! without blocking. Slow (it generates ~110 MB), so ignored by default; run it in release mode:
//! `cargo test --release --test it ui_perf -- --ignored --nocapture`. `TALLY_PERF_JOURNAL=FILE` reuses a journal.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally::app::{Action, EffectRunner, State, StateOptions, update};
use tally::backend::Backend;
use tally::backend::journal::JournalBackend;
use tally::config::Config;
use tally::config::keymap::Keymap;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

struct Session {
    state: State,
    runner: EffectRunner,
    rx: UnboundedReceiver<Action>,
}

impl Session {
    fn apply(&mut self, action: Action) {
        for e in update(&mut self.state, action) {
            self.runner.run(e);
        }
    }

    /// Feeds replies until `done(state)` holds; returns how long it took.
    async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) -> Duration {
        let start = Instant::now();
        while !done(&self.state) {
            match tokio::time::timeout(Duration::from_secs(60), self.rx.recv()).await {
                Ok(Some(a)) => self.apply(a),
                _ => panic!("no reply while waiting for {what}"),
            }
        }
        start.elapsed()
    }
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "generates a 1M-transaction journal; run with --release -- --ignored"]
async fn million_transaction_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = match std::env::var_os("TALLY_PERF_JOURNAL") {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let p = dir.path().join("1m.journal");
            let mut f = std::fs::File::create(&p).expect("create");
            let opts = tally::generate::GenerateOptions {
                transactions: 1_000_000,
                ..Default::default()
            };
            tally::generate::generate(&opts, &mut f).expect("generate");
            p
        }
    };

    let started = Instant::now();
    let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&path).expect("open"));
    let opened = EffectRunner::opened(backend.as_ref()).await;
    let (tx, rx) = unbounded_channel();
    let mut s = Session {
        state: State::new(
            &Config::default(),
            StateOptions {
                source_label: "journal 1m.journal".into(),
                today: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).expect("date"),
                keymap: Keymap::defaults(),
                no_color: false,
            },
        ),
        runner: EffectRunner::new(backend, tx),
        rx,
    };
    s.state.screen.size = (160, 48);
    s.apply(Action::Opened(Ok(opened)));
    s.until("the first page", |st| st.txns.total.is_some())
        .await;
    let first = started.elapsed();
    println!("first data after start: {first:?}");
    assert!(first <= Duration::from_millis(1500), "first data {first:?}");
    assert!(s.state.total() >= 1_000_000);

    // Filter as you type: each keystroke until its page (count and sum) is applied and drawn.
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    s.apply(key('/'));
    let mut times = Vec::new();
    for c in "safeway".chars() {
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
        "filter keystroke: median {median:?}, slowest {:?}",
        times[times.len() - 1]
    );
    // The backend does the filtering; on a loaded 2-core machine single keystrokes can exceed the target.
    assert!(
        median <= Duration::from_millis(50),
        "median keystroke {median:?}"
    );
    s.apply(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));

    // Scroll frames: update plus a full redraw at 160×48.
    let mut slowest = Duration::ZERO;
    for i in 0..200 {
        let t = Instant::now();
        s.apply(key(if i % 50 < 25 { 'j' } else { 'k' }));
        terminal
            .draw(|f| {
                tally::ui::draw(f, &s.state);
            })
            .expect("draw");
        slowest = slowest.max(t.elapsed());
    }
    println!("slowest scroll frame: {slowest:?}");
    assert!(
        slowest <= Duration::from_millis(5),
        "scroll frame {slowest:?}"
    );

    // Jump to the end of the whole ledger: only the last page is fetched.
    s.apply(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    s.until("unfiltered", |st| {
        st.total() >= 1_000_000 && st.txns.pending_offset.is_none()
    })
    .await;
    let t = Instant::now();
    s.apply(key('G'));
    s.until("the last page", |st| st.current().is_some()).await;
    println!(
        "jump to the last of {} rows: {:?}",
        s.state.total(),
        t.elapsed()
    );

    // Select all of a million: collected in the background in pages.
    let t = Instant::now();
    s.apply(Action::Key(KeyEvent::new(
        KeyCode::Char('a'),
        KeyModifiers::CONTROL,
    )));
    s.until("select all", |st| st.screen.selection.collecting.is_none())
        .await;
    println!(
        "select all {} matches: {:?}",
        s.state.screen.selection.ids.len(),
        t.elapsed()
    );
    assert_eq!(s.state.screen.selection.ids.len(), s.state.total());

    // The first keystroke once the dashboard has settled (its background analytics done): a whole-ledger scan.
    // Typed right after loading, it shares the two cores with those analytics (the `s` above).
    tokio::time::sleep(Duration::from_secs(3)).await;
    s.apply(key('/'));
    let t = Instant::now();
    s.apply(key('e'));
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
    println!(
        "first keystroke after settling ('e', {} matches): {:?}",
        s.state.total(),
        t.elapsed()
    );
}
