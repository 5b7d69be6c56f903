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
    state.screen.size = size;
    state
}

impl Harness {
    async fn open(size: (u16, u16)) -> Harness {
        let journal = std::fs::read_to_string(FIXTURE).expect("read fixture");
        Harness::open_journal(&journal, size).await
    }

    /// The dashboard over `journal` (written to a temp dir as `ui.journal`).
    async fn open_journal(journal: &str, size: (u16, u16)) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ui.journal");
        std::fs::write(&path, journal).expect("write journal");
        let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&path).expect("open"));
        let mut opened = EffectRunner::opened(backend.as_ref()).await;
        // The temp path would make every screen different.
        opened.capabilities.label = "journal ui.journal".into();
        let (tx, rx) = unbounded_channel();
        let mut h = Harness {
            state: new_state(size),
            runner: Some(EffectRunner::new(backend, tx).with_quiet(Duration::from_millis(20))),
            rx,
            _dir: dir,
        };
        h.send(Action::Opened(Ok(opened))).await;
        // Background work (account sparklines, the review count) waits for a quiet moment: let it finish.
        h.settle().await;
        h
    }

    async fn send(&mut self, action: Action) {
        let fx = update(&mut self.state, action);
        if let Some(r) = self.runner.as_mut() {
            fx.into_iter().for_each(|e| r.run(e));
        }
        self.settle().await;
    }

    /// Feeds backend replies back in until every task the runner started has finished and its reply is in.
    async fn settle(&mut self) {
        loop {
            let busy = self.runner.as_ref().is_some_and(EffectRunner::busy);
            let next = match tokio::time::timeout(Duration::from_millis(5), self.rx.recv()).await {
                Ok(Some(action)) => action,
                _ if busy => continue,
                // Finished tasks sent their replies before finishing: one more look, then it is quiet.
                _ => match self.rx.try_recv() {
                    Ok(action) => action,
                    Err(_) => return,
                },
            };
            let fx = update(&mut self.state, next);
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

    /// Waits (up to 2 s) until every write asked for has answered.
    async fn until_written(&mut self) {
        for _ in 0..100 {
            if self.state.writes.pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.settle().await;
        }
    }
}

fn screen(state: &State) -> String {
    let (w, h) = state.screen.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let mut laid_out = None;
    terminal
        .draw(|f| laid_out = Some(tally::ui::draw(f, state)))
        .expect("draw");
    // The table the person sees has exactly the rows `update` pages and scrolls by.
    if let Some(table) = laid_out.and_then(|a| a.transactions) {
        let drawn = usize::from(table.height.saturating_sub(3)).max(1);
        let filter_rows = state.filter_rows();
        assert_eq!(
            drawn,
            tally::layout::table_rows(state.screen.size, filter_rows)
        );
    }
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
        assert_eq!(Some(h.state.total()), h.state.data.review_count);
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
        assert!(matches!(h.state.screen.mode, Mode::Prompt(_)));
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
        h.state.screen.size = size;
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

/// Six months where some payees and account names hold zero-width characters (U+200B, U+200C, U+200D, U+2060,
/// U+FEFF, a combining accent) and others do not.
fn zero_width_journal() -> String {
    let mut j = String::from(
        "2024-10-01 * Opening\n    assets:checking  $1,000.00\n    assets:check\u{200b}ing  $200.00\n    \
         equity:opening\n\n",
    );
    for m in [
        "2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03",
    ] {
        j.push_str(&format!(
            "{m}-07 * Spotify\n    expenses:subscriptions  $9.99\n    assets:check\u{200b}ing\n\n\
             {m}-10 * Cafe\u{301} \u{feff}Zo\u{200d}e\u{200c}\n    expenses:dining  $4.50\n    assets:checking\n\n\
             {m}-28 * Net\u{200b}fl\u{2060}ix\n    expenses:subscrip\u{200b}tions  $15.49\n    assets:checking\n\n"
        ));
    }
    j
}

/// The display column where the last amount on `segment` ends; zero-width characters take no column.
fn amount_end(segment: &str) -> Option<usize> {
    let amount = regex::Regex::new(r"-?\$[0-9,]+\.[0-9]{2}").expect("regex");
    let visible: String = segment
        .chars()
        .filter(|c| unicode_width::UnicodeWidthChar::width(*c) != Some(0))
        .collect();
    amount
        .find_iter(&visible)
        .last()
        .map(|m| visible[..m.end()].chars().count())
}

#[tokio::test]
async fn zero_width_characters_keep_columns_aligned() {
    let mut h = Harness::open_journal(&zero_width_journal(), (160, 48)).await;
    let screen = h.screen();
    assert!(screen.contains("Net\u{200b}fl\u{2060}ix"), "{screen}");
    // Rows of each kind, some with zero-width characters (the journal has them in a payee, an account of a posting
    // and of the detail view, a category, a recurring payee), with the column where their amount ends.
    let mut kinds: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for line in screen.lines() {
        for (i, seg) in line.split(['┃', '│']).enumerate() {
            let kind = if i == 1 && seg.trim_start().starts_with("202") {
                "transaction row"
            } else if i == 1 && (seg.starts_with("  expenses:") || seg.starts_with("  assets:")) {
                "detail posting"
            } else if i > 1 && seg.starts_with("  check") {
                "account"
            } else if i > 1
                && seg.contains(['█', '▏', '▎', '▍', '▌', '▋', '▊', '▉'])
                && !["income", "spending", "net"]
                    .iter()
                    .any(|w| seg.starts_with(w))
            {
                "breakdown bar"
            } else if i > 1 && seg.contains("monthly") {
                "recurring"
            } else {
                continue;
            };
            if let Some(end) = amount_end(seg) {
                kinds.entry(kind).or_default().push(end);
            }
        }
    }
    for (kind, rows) in [
        ("transaction row", 19),
        ("detail posting", 2),
        ("account", 2),
        ("breakdown bar", 3),
        ("recurring", 3),
    ] {
        let ends = kinds.get(kind).cloned().unwrap_or_default();
        assert_eq!(ends.len(), rows, "{kind}: {ends:?}\n{screen}");
        assert!(
            ends.iter().all(|e| *e == ends[0]),
            "{kind}: amounts end in different columns {ends:?}\n{screen}"
        );
    }
    // The same on the accounts pane of a narrow screen (one pane at a time).
    h.send(Action::Resize(80, 24)).await;
    h.state.screen.focus = tally::app::Pane::Accounts;
    let screen = h.screen();
    let ends: Vec<usize> = screen
        .lines()
        .filter_map(|l| l.split(['┃', '│']).nth(1))
        .filter(|s| s.starts_with("  check"))
        .filter_map(amount_end)
        .collect();
    assert!(ends.len() == 2 && ends[0] == ends[1], "{ends:?}\n{screen}");
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
                assert!(matches!(st.screen.mode, Mode::Prompt(_)));
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
            st.screen.focus = pane;
            for w in (0..=125).step_by(5) {
                for hgt in (0..=50).step_by(5) {
                    st.screen.size = (w, hgt);
                    let _ = screen(st);
                }
            }
        }
    }
}

/// Moves the cursor to the first row whose description contains `text` and whose date is `date`.
async fn cursor_to(h: &mut Harness, date: &str, text: &str) {
    h.keys("g").await;
    for _ in 0..h.state.total() {
        if h.state
            .current()
            .is_some_and(|t| t.date.to_string() == date && t.description.contains(text))
        {
            return;
        }
        h.keys("j").await;
    }
    panic!("no {date} {text} in the table:\n{}", h.screen());
}

/// Issue 10, on the path a person uses: the review queue drains. `r` on a row in the queue for its `review` tag
/// shows it reviewed at once, then clears the status and takes the tag off in one save, and the row leaves the
/// queue; a row still without a category stays, saying so in the Why column, and `c` takes it out.
#[tokio::test]
async fn the_review_queue_drains() {
    let mut h = Harness::open((120, 40)).await;
    let path = h._dir.path().join("ui.journal");
    h.keys("R").await;
    let queued = h.state.total();
    cursor_to(&mut h, "2025-03-09", "Netflix").await;
    assert!(h.screen().contains("review tag"), "{}", h.screen());
    // On the next frame, before the write answers: shown reviewed.
    let fx = update(
        &mut h.state,
        Action::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)),
    );
    let reviewed = h
        .state
        .txns
        .rows
        .iter()
        .find(|t| t.date.to_string() == "2025-03-09")
        .expect("row");
    assert!(!reviewed.has_tag("review"), "{reviewed:?}");
    let runner = h.runner.as_mut().expect("runner");
    fx.into_iter().for_each(|e| runner.run(e));
    h.settle().await;
    assert_eq!(h.state.total(), queued - 1, "{}", h.screen());
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("2025-03-09 * Netflix  ; trip:lisbon\n"),
        "{text}"
    );

    // Reviewed but still uncategorised: it stays, and says why.
    cursor_to(&mut h, "2025-03-11", "POS DEBIT").await;
    h.keys("r").await;
    assert_eq!(h.state.total(), queued - 1, "stays: no category");
    cursor_to(&mut h, "2025-03-11", "POS DEBIT").await;
    let row = h.screen();
    let line = row
        .lines()
        .find(|l| l.contains("2025-03-11"))
        .expect("row on screen");
    assert!(
        line.contains("no category") && !line.contains("pending"),
        "{line}"
    );
    // A category takes it out.
    h.keys("c").await;
    let Mode::Prompt(p) = &mut h.state.screen.mode else {
        panic!("category prompt");
    };
    p.input = tui_input::Input::new("expenses:fees".into());
    h.key(KeyCode::Enter).await;
    assert_eq!(h.state.total(), queued - 2, "{}", h.screen());
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("2025-03-11 * POS DEBIT 4821\n    expenses:fees"),
        "{text}"
    );
    // hledger reads what the dashboard wrote.
    let out = std::process::Command::new("hledger")
        .arg("-f")
        .arg(&path)
        .args(["print", "desc:netflix", "date:2025-03-09"])
        .output()
        .expect("run hledger");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And u undoes the category, then the review, one write each.
    h.keys("u").await;
    assert_eq!(h.state.total(), queued - 1);
    h.keys("u").await;
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("2025-03-11 ! POS DEBIT 4821\n    expenses:unknown"),
        "{text}"
    );
}

/// Issue 12, on the path a person uses: Enter on an account in the accounts pane turns the table into that account's
/// register — each row the account's own amount (the transfer to savings is money out of checking), a running
/// balance newest first, and the status bar's Σ equal to the account's balance — on the demo, checked against
/// hledger's own balance for the account.
#[tokio::test]
async fn drilling_into_an_account_shows_its_register() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo.journal");
    let journal = std::fs::read_to_string(demo).expect("read demo");
    let mut h = Harness::open_journal(&journal, (160, 48)).await;
    while h.state.screen.focus != tally::layout::Pane::Accounts {
        h.key(KeyCode::Tab).await;
    }
    let at = h
        .state
        .data
        .tree
        .iter()
        .position(|a| a.name == "assets:checking")
        .expect("checking in the accounts pane");
    for _ in 0..at {
        h.keys("j").await;
    }
    let balance = h.state.data.tree[at].total.clone();
    h.key(KeyCode::Enter).await;
    assert_eq!(h.state.txns.sum, balance, "Σ is the account's balance");
    assert_eq!(
        balance.to_string(),
        "$20679.95",
        "the demo's checking balance"
    );
    let newest = h.state.txns.get(0).expect("first row").id.clone();
    assert_eq!(h.state.txns.balances.get(&newest), Some(&balance));
    let screen = h.screen();
    assert!(screen.contains("Balance"), "a Balance column:\n{screen}");
    let transfer = screen
        .lines()
        .find(|l| l.contains("Transfer to savings"))
        .expect("a transfer on screen");
    assert!(
        transfer.contains("-$"),
        "money out of checking shows negative: {transfer}"
    );
    assert!(screen.contains("$20,679.95"), "{screen}");
    // Each row's balance is the one below it plus the row's amount (newest first).
    let rows: Vec<_> = (0..20).filter_map(|i| h.state.txns.get(i)).collect();
    for pair in rows.windows(2) {
        let (upper, lower) = (&pair[0], &pair[1]);
        let mut expected = h.state.txns.balances[&lower.id].clone();
        for p in upper
            .postings
            .iter()
            .filter(|p| p.account == "assets:checking")
        {
            expected.add_money(&p.amount);
        }
        assert_eq!(
            h.state.txns.balances[&upper.id], expected,
            "{}",
            upper.description
        );
    }
}

/// Issue 12: the accounts pane is a tree of every account kind; `-` folds a level (the parent's total still counts its
/// subaccounts), `+` unfolds it, and Enter on a folded parent gives the register of it and its subaccounts, whose Σ
/// is the total the tree shows — equal to what `hledger balance expenses` says on the demo.
#[tokio::test]
async fn the_account_tree_folds_and_its_totals_are_registers() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo.journal");
    let journal = std::fs::read_to_string(demo).expect("read demo");
    let mut h = Harness::open_journal(&journal, (160, 48)).await;
    while h.state.screen.focus != tally::layout::Pane::Accounts {
        h.key(KeyCode::Tab).await;
    }
    let tops: Vec<&str> = h
        .state
        .data
        .tree
        .iter()
        .filter(|r| r.depth == 1)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        tops,
        ["assets", "liabilities", "equity", "income", "expenses"],
        "every kind, balance-sheet order"
    );
    h.keys("-").await;
    assert!(
        h.state.data.tree.iter().all(|r| r.depth == 1),
        "folded to one level"
    );
    let screen = h.screen();
    assert!(
        screen.contains("expenses+"),
        "a folded parent is marked:\n{screen}"
    );
    let at = h
        .state
        .data
        .tree
        .iter()
        .position(|r| r.name == "expenses")
        .expect("expenses");
    h.keys("g").await;
    for _ in 0..at {
        h.keys("j").await;
    }
    let total = h.state.data.tree[at].total.clone();
    h.key(KeyCode::Enter).await;
    assert_eq!(h.state.filter.input.value(), "acct:^expenses(:|$)");
    assert_eq!(h.state.txns.sum, total, "Σ is the folded total");
    if crate::oracle::hledger_present() {
        let out = std::process::Command::new("hledger")
            .args(["-f", demo, "balance", "expenses", "-N", "--depth", "1"])
            .output()
            .expect("hledger");
        let text = String::from_utf8_lossy(&out.stdout);
        // One line per commodity, the account name after the last one.
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                l.trim()
                    .trim_end_matches("expenses")
                    .trim()
                    .replace(',', "")
            })
            .filter(|l| !l.is_empty())
            .collect();
        let hledger_total = lines.join(", ");
        assert_eq!(total.to_string(), hledger_total, "hledger says {text}");
    }
    while h.state.screen.focus != tally::layout::Pane::Accounts {
        h.key(KeyCode::Tab).await;
    }
    h.keys("+").await;
    assert!(
        h.state
            .data
            .tree
            .iter()
            .any(|r| r.name == "expenses:dining"),
        "unfolded"
    );
}

/// Issue 12: `a` adds a transaction through the form — description and accounts completed from the ledger, one
/// amount left out — written to the file, read by hledger, and shown in the table; an entry that does not balance is
/// refused with the parser's reason and the file is left as it was.
#[tokio::test]
async fn a_adds_a_transaction_through_the_form() {
    let mut h = Harness::open((120, 40)).await;
    let path = h._dir.path().join("ui.journal");
    let before = std::fs::read(&path).expect("read");
    h.keys("a").await;
    assert!(
        matches!(h.state.screen.mode, Mode::Form(_)),
        "the form opens"
    );
    h.keys("Corner Cafe").await;
    h.key(KeyCode::Down).await;
    h.keys("dinin").await;
    h.key(KeyCode::Tab).await; // completes to expenses:dining
    h.key(KeyCode::Down).await;
    h.keys("$4.50").await;
    h.key(KeyCode::Down).await;
    h.keys("checki").await;
    h.key(KeyCode::Tab).await; // assets:checking
    h.key(KeyCode::Down).await;
    h.keys("$3").await; // does not balance
    let form = h.screen();
    assert!(
        form.contains("expenses:dining") && form.contains("assets:checking"),
        "{form}"
    );
    h.key(KeyCode::Enter).await;
    let Mode::Form(f) = &h.state.screen.mode else {
        panic!("an unbalanced entry keeps the form open:\n{}", h.screen());
    };
    let why = f.error.clone().unwrap_or_default();
    assert!(why.contains("line"), "the parser's reason: {why}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "nothing written"
    );
    h.key(KeyCode::Backspace).await;
    h.key(KeyCode::Backspace).await;
    h.key(KeyCode::Enter).await;
    assert!(
        matches!(h.state.screen.mode, Mode::Normal),
        "saved and closed:\n{}",
        h.screen()
    );
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.ends_with("2025-03-31 Corner Cafe\n    expenses:dining  $4.50\n    assets:checking\n"),
        "appended in hledger's layout:\n{}",
        &text[text.len().saturating_sub(200)..]
    );
    assert!(
        text.starts_with(std::str::from_utf8(&before).expect("utf8")),
        "the rest untouched"
    );
    if crate::oracle::hledger_present() {
        let out = std::process::Command::new("hledger")
            .arg("-f")
            .arg(&path)
            .args(["print", "-x", "desc:Corner Cafe"])
            .output()
            .expect("hledger");
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && printed.contains("$-4.50"),
            "{printed}"
        );
    }
    assert!(h.screen().contains("Corner Cafe"), "{}", h.screen());
}

/// Issue 12: `c` on a split asks which of its category postings to change; the one picked is renamed where it stands
/// (the other keeps its account and amount), hledger reads the result, and `u` restores the file byte for byte.
#[tokio::test]
async fn c_on_a_split_asks_which_posting() {
    let journal = "2025-03-30 * Costco\n    expenses:groceries       $50.00\n    expenses:household       $20.00\n    \
                   assets:checking\n\n2025-03-01 * Safeway\n    expenses:groceries  $10.00\n    assets:checking\n";
    let mut h = Harness::open_journal(journal, (120, 40)).await;
    let path = h._dir.path().join("ui.journal");
    let before = std::fs::read(&path).expect("read");
    h.keys("c").await;
    let screen = h.screen();
    assert!(
        screen.contains("1 expenses:groceries  2 expenses:household"),
        "the split's postings to pick from:\n{screen}"
    );
    h.keys("2").await;
    let Mode::Prompt(p) = &h.state.screen.mode else {
        panic!("the category prompt follows");
    };
    assert_eq!(p.input.value(), "expenses:household");
    for _ in 0.."household".len() {
        h.key(KeyCode::Backspace).await;
    }
    h.keys("garden").await;
    h.key(KeyCode::Enter).await;
    h.until_written().await;
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("    expenses:groceries       $50.00\n    expenses:garden          $20.00\n"),
        "only the picked posting renamed, amounts in place:\n{text}"
    );
    if crate::oracle::hledger_present() {
        let out = std::process::Command::new("hledger")
            .arg("-f")
            .arg(&path)
            .args(["bal", "expenses", "-N", "--flat"])
            .output()
            .expect("hledger");
        let bal = String::from_utf8_lossy(&out.stdout);
        assert!(
            bal.contains("expenses:garden") && bal.contains("$60.00"),
            "{bal}"
        );
    }
    h.keys("u").await;
    h.until_written().await;
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "undo restores the file"
    );
}

/// Issue 13: in the review queue an uncategorised row shows the category its payee had before, with the evidence, and
/// `a` takes it — one write, undone by `u` byte for byte.
#[tokio::test]
async fn the_review_queue_suggests_categories_and_a_takes_them() {
    let journal = "2025-01-02 * Trader Joe's #552\n    expenses:groceries  $80.00\n    assets:checking\n\n\
                   2025-01-09 * TRADER JOE'S #14\n    expenses:groceries  $62.10\n    assets:checking\n\n\
                   2025-01-16 * Trader Joe's\n    expenses:unknown        $71.00\n    assets:checking\n";
    let mut h = Harness::open_journal(journal, (120, 40)).await;
    let path = h._dir.path().join("ui.journal");
    let before = std::fs::read(&path).expect("read");
    h.keys("R").await;
    assert_eq!(
        h.state.total(),
        1,
        "only the uncategorised row is in the queue"
    );
    let screen = h.screen();
    assert!(
        screen.contains("suggested expenses:groceries") && screen.contains("2 of 2 earlier"),
        "the suggestion and its evidence:\n{screen}"
    );
    h.keys("a").await;
    h.until_written().await;
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("expenses:unknown"), "{text}");
    assert_eq!(text.matches("expenses:groceries").count(), 3, "{text}");
    h.keys("u").await;
    h.until_written().await;
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "undo restores the file"
    );
}

/// Issue 13, point 3: `i` asks for a CSV (Tab completes its path), the preview marks each row new, duplicate (of
/// FILE:LINE), possible duplicate or skipped, new rows accepted; Space takes the possible one too, Enter appends the
/// accepted rows in one write that hledger reads (each with its import id), and the review queue shows them. The
/// same file again: every row is already there.
#[tokio::test]
async fn i_previews_an_import_and_appends_what_is_accepted() {
    let mut h = Harness::open((140, 40)).await;
    let dir = h._dir.path().to_path_buf();
    let path = dir.join("ui.journal");
    let before = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        dir.join("bank.csv"),
        "Date,Description,Amount\n2025-01-06,PHO 24,-34.53\n2025-01-09,PG&E ONLINE,-85.79\n\
         2025-03-30,Corner Cafe,-4.50\n2025-03-30,Corner Cafe,-4.50\n2025-03-30,INTERNAL TRANSFER,-100\n",
    )
    .expect("csv");
    std::fs::write(
        dir.join("bank.csv.rules"),
        "skip 1\nfields date, description, amount\ncurrency $\naccount1 assets:checking\n\n\
         if INTERNAL TRANSFER\n  skip\n",
    )
    .expect("rules");
    h.keys("i").await;
    assert!(
        matches!(h.state.screen.mode, Mode::Import(_)),
        "the prompt opens"
    );
    h.keys(&format!("{}/ba", dir.display())).await;
    h.key(KeyCode::Tab).await; // bank.csv and bank.csv.rules share `bank.csv`
    assert!(
        h.screen().contains("bank.csv.rules"),
        "completions listed:\n{}",
        h.screen()
    );
    h.key(KeyCode::Enter).await;
    let screen = h.screen();
    for what in [
        "2 new · 1 already in the ledger · 1 possible duplicates · 1 skipped by a rule — 2 to import",
        "duplicate of",
        "possible dup. of",
        "[x] new",
        "Corner Cafe",
    ] {
        assert!(screen.contains(what), "{what}:\n{screen}");
    }
    // The cursor starts on the first new row; the possible duplicate (PG&E) is the row above it, and shows the
    // journal transaction it is taken for.
    h.key(KeyCode::Up).await;
    assert!(
        h.screen().contains("≈ ")
            && h.screen()
                .contains("ui.journal:24: 2025-01-08 PG&E -$85.79"),
        "{}",
        h.screen()
    );
    h.keys(" ").await;
    assert!(h.screen().contains("— 3 to import"), "{}", h.screen());
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        before,
        "nothing written yet"
    );
    h.key(KeyCode::Enter).await;
    h.until_written().await;
    assert!(
        matches!(h.state.screen.mode, Mode::Normal),
        "{}",
        h.screen()
    );
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.starts_with(&before),
        "the journal's own text is untouched"
    );
    let added = &text[before.len()..];
    assert_eq!(added.matches("; import-id:").count(), 3, "{added}");
    assert!(
        added.contains("PG&E ONLINE") && !added.contains("PHO 24"),
        "{added}"
    );
    if crate::oracle::hledger_present() {
        let printed = crate::cli::hledger(&path, &["print", "tag:import-id"]);
        assert_eq!(printed.matches("import-id").count(), 3, "{printed}");
    }
    assert!(h.state.filter.review, "the review queue shows");
    let screen = h.screen();
    assert!(
        screen.contains("Corner Cafe") && screen.contains("imported 3"),
        "{screen}"
    );
    // The same file again: nothing new.
    h.keys("i").await;
    h.keys(&format!("{}/bank.csv", dir.display())).await;
    h.key(KeyCode::Enter).await;
    assert!(
        h.screen().contains("0 new · 4 already in the ledger · 0 possible duplicates · 1 skipped by a rule — 0 to import"),
        "{}",
        h.screen()
    );
    h.key(KeyCode::Enter).await;
    assert!(matches!(h.state.screen.mode, Mode::Normal));
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        text,
        "nothing written"
    );
}

/// Issue 13, point 5: `P` on a categorised row shows the `if` block that would categorise it at the next import and
/// appends it to the rules file typed; hledger's own CSV reader then gives such a row that category, and `P` again
/// says the rule is there already.
#[tokio::test]
async fn p_promotes_a_category_to_a_csv_rule() {
    let mut h = Harness::open((120, 40)).await;
    let dir = h._dir.path().to_path_buf();
    let rules = dir.join("bank.csv.rules");
    std::fs::write(
        &rules,
        "skip 1\nfields date, description, amount\ncurrency $\naccount1 assets:checking\n",
    )
    .expect("rules");
    cursor_to(&mut h, "2025-01-06", "Pho 24").await;
    h.keys("P").await;
    let screen = h.screen();
    assert!(
        screen.contains("if Pho") && screen.contains("account2 expenses:dining"),
        "the block is shown:\n{screen}"
    );
    h.keys(&rules.display().to_string()).await;
    h.key(KeyCode::Enter).await;
    assert!(h.screen().contains("rule added to"), "{}", h.screen());
    let text = std::fs::read_to_string(&rules).expect("read");
    assert!(
        text.ends_with("\n\nif Pho\n  account2 expenses:dining\n"),
        "{text}"
    );
    if crate::oracle::hledger_present() {
        let csv = dir.join("next.csv");
        std::fs::write(
            &csv,
            "Date,Description,Amount\n2025-04-02,PHO 24 #2,-12.00\n",
        )
        .expect("csv");
        let rules = rules.to_str().expect("utf-8 path");
        let printed = crate::cli::hledger(&csv, &["--rules-file", rules, "print"]);
        assert!(printed.contains("expenses:dining"), "{printed}");
    }
    // The prompt now offers the same file; the block is not added twice.
    h.keys("P").await;
    h.key(KeyCode::Enter).await;
    assert!(
        h.screen().contains("has this rule already"),
        "{}",
        h.screen()
    );
    assert_eq!(std::fs::read_to_string(&rules).expect("read"), text);
}

/// Issue 14, point 1 and 2, on the path a person uses: `C` on a row of the checking account asks for the statement
/// (account filled in); the list shows its uncleared postings up to the date, the header the statement, cleared
/// balance and difference live, and tally proposes the set that makes up the difference (`p` ticks it). `Enter` is
/// refused until the difference is zero, then writes the statuses and the balance assertion in one save that hledger
/// checks; `u` restores the file byte for byte; `Esc` writes nothing; a mistyped amount is pointed out.
#[tokio::test]
async fn c_reconciles_an_account_against_a_statement() {
    let journal = "2025-03-01 * Opening\n    assets:checking  $1000.00\n    equity:opening\n\n\
                   2025-03-05 Coffee\n    expenses:dining  $4.50\n    assets:checking\n\n\
                   2025-03-10 Groceries\n    expenses:groceries  $54.20\n    assets:checking\n\n\
                   2025-03-20 Rent\n    expenses:rent  $800.00\n    assets:checking\n\n\
                   2025-04-02 Later\n    expenses:dining  $10.00\n    assets:checking\n";
    let mut h = Harness::open_journal(journal, (120, 40)).await;
    let path = h._dir.path().join("ui.journal");
    let before = std::fs::read(&path).expect("read");
    // A statement one posting was mistyped against: $45.20 at the shop, $54.20 in the journal.
    h.keys("C").await;
    assert!(h.screen().contains("assets:checking"), "{}", h.screen());
    h.keys("$150.30").await;
    h.key(KeyCode::Enter).await;
    let screen = h.screen();
    assert!(screen.contains("difference -$849.70"), "{screen}");
    assert!(
        screen.contains("No exact set") && screen.contains("Likely typo: Groceries -$54.20"),
        "{screen}"
    );
    h.key(KeyCode::Esc).await;
    assert!(matches!(h.state.screen.mode, Mode::Normal));
    // The right statement.
    h.keys("C").await;
    h.keys("$141.30").await;
    h.key(KeyCode::Enter).await;
    let screen = h.screen();
    assert!(
        screen.contains("statement $141.30   cleared $1000.00   difference -$858.70"),
        "{screen}"
    );
    assert!(
        screen.contains("3 open posting(s) make up the difference exactly"),
        "{screen}"
    );
    assert!(
        !screen.contains("Later"),
        "after the statement date:\n{screen}"
    );
    h.keys(" ").await; // Coffee, the oldest
    assert!(
        h.screen().contains("cleared $995.50   difference -$854.20"),
        "{}",
        h.screen()
    );
    h.key(KeyCode::Enter).await;
    assert!(h.screen().contains("must be zero"), "{}", h.screen());
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "nothing written while ticking"
    );
    h.keys("p").await;
    assert!(h.screen().contains("difference $0.00"), "{}", h.screen());
    h.key(KeyCode::Enter).await;
    h.until_written().await;
    assert!(
        matches!(h.state.screen.mode, Mode::Normal),
        "{}",
        h.screen()
    );
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("2025-03-05 * Coffee") && text.contains("2025-03-20 * Rent"),
        "{text}"
    );
    assert!(
        text.contains("2025-04-02 Later"),
        "after the date: untouched\n{text}"
    );
    // Rent's checking posting had its amount left to hledger: it is written out with the assertion.
    assert!(
        text.contains("2025-03-20 * Rent\n    expenses:rent  $800.00\n    assets:checking  -$800.00 = $141.30\n"),
        "{text}"
    );
    if crate::oracle::hledger_present() {
        let args = ["bal", "assets:checking", "-e", "2025-04-01", "-C", "-N"];
        let printed = crate::cli::hledger(&path, &args);
        assert!(printed.contains("$141.30"), "{printed}");
    }
    assert!(h.screen().contains("balance asserted"), "{}", h.screen());
    // The next time, the form says what was reconciled last (a journal keeps it as its assertion).
    h.keys("C").await;
    assert!(
        h.screen()
            .contains("Last reconciled: 2025-03-20 at $141.30"),
        "{}",
        h.screen()
    );
    h.key(KeyCode::Esc).await;
    h.keys("u").await;
    h.until_written().await;
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "one undo restores the file"
    );
    // Leaving without finishing writes nothing.
    h.keys("C").await;
    h.keys("$141.30").await;
    h.key(KeyCode::Enter).await;
    h.keys("p").await;
    h.key(KeyCode::Esc).await;
    assert_eq!(std::fs::read(&path).expect("read"), before);
    // A statement the cleared balance already matches, nothing to tick: Enter asserts the balance alone.
    h.keys("C").await;
    h.key(KeyCode::Up).await;
    for _ in 0..10 {
        h.key(KeyCode::Backspace).await;
    }
    h.keys("2025-03-01").await;
    h.key(KeyCode::Down).await;
    h.keys("$1000").await;
    h.key(KeyCode::Enter).await;
    assert!(h.screen().contains("difference $0.00"), "{}", h.screen());
    h.key(KeyCode::Enter).await;
    h.until_written().await;
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.starts_with("2025-03-01 * Opening\n    assets:checking  $1000.00 = $1000.00\n"),
        "{text}"
    );
}

/// Rules that clear and categorise every row leave nothing to review: the import says so and the table stays as it
/// was instead of opening an empty review queue.
#[tokio::test]
async fn an_import_the_rules_fully_settle_says_nothing_needs_review() {
    let mut h = Harness::open((140, 40)).await;
    let dir = h._dir.path().to_path_buf();
    std::fs::write(
        dir.join("cafe.csv"),
        "Date,Description,Amount\n2025-03-30,Corner Cafe,-4.50\n",
    )
    .expect("csv");
    std::fs::write(
        dir.join("cafe.csv.rules"),
        "skip 1\nfields date, description, amount\ncurrency $\naccount1 assets:checking\n\
         account2 expenses:dining\nstatus *\n",
    )
    .expect("rules");
    h.keys("i").await;
    h.keys(&format!("{}/cafe.csv", dir.display())).await;
    h.key(KeyCode::Enter).await;
    h.key(KeyCode::Enter).await;
    h.until_written().await;
    assert!(!h.state.filter.review, "no empty review queue");
    assert!(
        h.screen()
            .contains("all cleared and categorised by the rules"),
        "{}",
        h.screen()
    );
    let text = std::fs::read_to_string(dir.join("ui.journal")).expect("read");
    assert!(text.contains("2025-03-30 * Corner Cafe"), "{text}");
}
