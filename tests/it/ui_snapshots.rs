//! Whole-screen snapshots of the dashboard on ratatui's `TestBackend`, at 80×24 and 160×48 (and a narrow size),
//! with a fixed clock, on the real journal backend over `tests/fixtures/ui.journal` (copied to a temp dir). Actions
//! go through `update` and the real `EffectRunner`; a screen is taken once the backend has gone quiet.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Duration;
use tally::app::{Action, EffectRunner, Mode, State, StateOptions, update};
use tally::backend::Backend;
use tally::backend::journal::JournalBackend;
use tally::config::Config;
use tally::config::keymap::Keymap;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui.journal");

struct Harness {
    state: State,
    runner: Option<EffectRunner>,
    rx: UnboundedReceiver<Action>,
    _dir: tempfile::TempDir,
}

fn new_state(size: (u16, u16)) -> State {
    let mut state = State::new(
        &Config::default(),
        StateOptions {
            source_label: "journal ui.journal".into(),
            today: chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("date"),
            keymap: Keymap::defaults(),
            no_color: true,
        },
    );
    state.size = size;
    state
}

impl Harness {
    async fn open(size: (u16, u16)) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ui.journal");
        std::fs::copy(FIXTURE, &path).expect("copy fixture");
        let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&path).expect("open"));
        let mut opened = EffectRunner::opened(backend.as_ref()).await;
        // The temp path would make every screen different.
        opened.capabilities.label = "journal ui.journal".into();
        let (tx, rx) = unbounded_channel();
        let mut h = Harness {
            state: new_state(size),
            runner: Some(EffectRunner::new(backend, tx)),
            rx,
            _dir: dir,
        };
        h.send(Action::Opened(Ok(opened))).await;
        // Background work (account sparklines, the review count) waits for a quiet moment: let it finish.
        h.settle(Duration::from_millis(1500)).await;
        h
    }

    async fn send(&mut self, action: Action) {
        let fx = update(&mut self.state, action);
        if let Some(r) = self.runner.as_mut() {
            fx.into_iter().for_each(|e| r.run(e));
        }
        self.settle(Duration::from_millis(400)).await;
    }

    /// Feeds backend replies back in until nothing arrives for `quiet`.
    async fn settle(&mut self, quiet: Duration) {
        while let Ok(Some(action)) = tokio::time::timeout(quiet, self.rx.recv()).await {
            let fx = update(&mut self.state, action);
            if let Some(r) = self.runner.as_mut() {
                fx.into_iter().for_each(|e| r.run(e));
            }
        }
    }

    async fn keys(&mut self, keys: &str) {
        for c in keys.chars() {
            self.key(KeyCode::Char(c)).await;
        }
    }

    async fn key(&mut self, code: KeyCode) {
        self.send(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
            .await;
    }

    fn screen(&self) -> String {
        screen(&self.state)
    }
}

fn screen(state: &State) -> String {
    let (w, h) = state.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| tally::ui::draw(f, state)).expect("draw");
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    assert!(
        !out.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters reached the terminal:\n{out}"
    );
    out
}

#[tokio::test]
async fn start() {
    for size in [(80, 24), (160, 48)] {
        let h = Harness::open(size).await;
        insta::assert_snapshot!(format!("start_{}x{}", size.0, size.1), h.screen());
    }
}

#[tokio::test]
async fn filtered() {
    for size in [(80, 24), (160, 48)] {
        let mut h = Harness::open(size).await;
        h.keys("/coffee").await;
        assert_eq!(h.state.total(), 7);
        insta::assert_snapshot!(format!("filtered_{}x{}", size.0, size.1), h.screen());
    }
}

#[tokio::test]
async fn bad_query() {
    for size in [(80, 24), (160, 48)] {
        let mut h = Harness::open(size).await;
        h.keys("/lyft amt:>1O").await;
        assert!(h.state.filter.error.is_some());
        assert_eq!(h.state.filter.applied.source, "lyft amt:>1");
        insta::assert_snapshot!(format!("bad_query_{}x{}", size.0, size.1), h.screen());
    }
}

#[tokio::test]
async fn review_queue() {
    for size in [(80, 24), (160, 48)] {
        let mut h = Harness::open(size).await;
        h.keys("R").await;
        assert!(h.state.filter.review);
        assert_eq!(Some(h.state.total()), h.state.review_count);
        insta::assert_snapshot!(format!("review_queue_{}x{}", size.0, size.1), h.screen());
    }
}

#[tokio::test]
async fn multi_select_with_tag_popup() {
    for size in [(80, 24), (160, 48)] {
        let mut h = Harness::open(size).await;
        h.keys("   jj ").await;
        h.key(KeyCode::Char('v')).await;
        h.keys("tw").await;
        assert!(matches!(h.state.mode, Mode::Prompt(_)));
        insta::assert_snapshot!(format!("tag_popup_{}x{}", size.0, size.1), h.screen());
    }
}

#[tokio::test]
async fn help() {
    for size in [(80, 24), (160, 48)] {
        let mut h = Harness::open(size).await;
        h.keys("?").await;
        insta::assert_snapshot!(format!("help_{}x{}", size.0, size.1), h.screen());
    }
}

#[tokio::test]
async fn narrow_terminal_and_panes() {
    let mut h = Harness::open((60, 16)).await;
    insta::assert_snapshot!("narrow_60x16", h.screen());
    h.key(KeyCode::Tab).await;
    insta::assert_snapshot!("narrow_detail_60x16", h.screen());
    h.key(KeyCode::Tab).await;
    insta::assert_snapshot!("narrow_analytics_60x16", h.screen());
    h.send(Action::Resize(80, 24)).await;
    h.key(KeyCode::Tab).await;
    insta::assert_snapshot!("accounts_80x24", h.screen());
    // Tiny sizes must draw without panicking.
    for size in [(20, 6), (1, 1), (0, 0)] {
        h.state.size = size;
        let _ = screen(&h.state);
    }
}

#[tokio::test]
async fn analytics_by_month_with_a_period() {
    let mut h = Harness::open((160, 48)).await;
    h.keys("/acct:expenses").await;
    h.key(KeyCode::Enter).await;
    h.keys("[").await;
    insta::assert_snapshot!("analytics_period_160x48", h.screen());
}

#[tokio::test]
async fn backend_error() {
    for size in [(80, 24), (160, 48)] {
        let mut state = new_state(size);
        let err = match JournalBackend::open("/nonexistent/dir/missing.journal") {
            Ok(_) => panic!("opened a missing file"),
            Err(e) => e.to_string(),
        };
        update(&mut state, Action::Opened(Err(err)));
        insta::assert_snapshot!(
            format!("backend_error_{}x{}", size.0, size.1),
            screen(&state)
        );
    }
}

#[tokio::test]
async fn loading() {
    let state = new_state((80, 24));
    insta::assert_snapshot!("loading_80x24", screen(&state));
}

#[tokio::test]
async fn escape_sequences_in_data_are_shown_harmlessly() {
    let mut h = Harness::open((160, 48)).await;
    h.keys("/evil").await;
    h.key(KeyCode::Enter).await;
    let s = h.screen();
    assert!(s.contains("Evil ␛[31mRED␛[0m shop ␇"), "{s}");
}

#[tokio::test]
async fn every_size_mode_and_pane_draws() {
    let mut h = Harness::open((80, 24)).await;
    h.keys("/coffee").await;
    h.key(KeyCode::Enter).await;
    h.keys(" ").await;
    // A query error line as well (it changes the layout).
    h.state.filter.error = Some(tally::query::QueryError {
        column: 3,
        message: "a bad term".into(),
    });
    let mut states = Vec::new();
    for mode in ["normal", "help", "tag", "filter"] {
        let mut st = h.state.clone();
        match mode {
            "help" => {
                update(
                    &mut st,
                    Action::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)),
                );
            }
            "tag" => {
                update(
                    &mut st,
                    Action::Key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::NONE)),
                );
                assert!(matches!(st.mode, Mode::Prompt(_)));
            }
            "filter" => {
                update(
                    &mut st,
                    Action::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE)),
                );
            }
            _ => {}
        }
        states.push(st);
    }
    for st in &mut states {
        for pane in tally::app::Pane::ORDER {
            st.focus = pane;
            for w in (0..=125).step_by(5) {
                for hgt in (0..=50).step_by(5) {
                    st.size = (w, hgt);
                    let _ = screen(st);
                }
            }
        }
    }
}
