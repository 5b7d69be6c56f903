//! The terminal loop of the dashboard: it owns the terminal (restored on every exit path, on error and on panic),
//! reads terminal events on a thread of its own, opens the backend in the background so the first frame (a loading
//! indicator) shows at once, feeds every event and backend reply to `app::update`, hands the effects to the
//! `EffectRunner`, and draws the state with `ui::draw` — only when it changed, once per burst of replies. `app`
//! (what happens) and `ui` (what it looks like) meet here and nowhere else.

use crate::app::{Action, EffectRunner, Opened, Phase, State, StateOptions, update};
use crate::backend::{Backend, BackendError};
use crate::config::keymap::Keymap;
use crate::config::{Config, ConfigError};
use crossterm::event::{self, Event};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

/// How often the run loop ticks (spinners; every `RELOAD_EVERY_TICKS` ticks a live-reload check).
pub const TICK: Duration = Duration::from_millis(250);

type OpenFuture = Pin<Box<dyn Future<Output = Result<Arc<dyn Backend>, BackendError>> + Send>>;

pub struct DashboardOptions {
    /// Opens the backend; awaited in the background so the first frame (a loading indicator) shows at once.
    pub open: OpenFuture,
    pub config: Config,
    /// e.g. "journal ~/.local/share/tally/demo.journal" or "tally https://host"
    pub source_label: String,
    /// Open straight into the import preview of these files (`tally import` on a terminal).
    pub import: Option<crate::app::import::ImportRequest>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Backend(#[from] BackendError),
    /// The data source could not be opened (the dashboard showed why until the user quit).
    #[error("{0}")]
    Open(String),
    /// Something panicked (its message was printed after the terminal was restored).
    #[error("the dashboard stopped after an internal error (see the message above)")]
    Panicked,
}

/// Set by the panic hook: a panic on any thread (a backend task included) ends the dashboard, because the hook has
/// already handed the terminal back.
static PANICKED: AtomicBool = AtomicBool::new(false);

fn install_panic_flag() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // `previous` is ratatui's hook: it restores the terminal, then prints the message.
        previous(info);
        PANICKED.store(true, Ordering::SeqCst);
    }));
}

/// Restores the terminal when dropped: normal return, `?` error, or unwinding panic.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// The thread reading terminal events; paused while an editor has the terminal (it would read the editor's keys).
struct InputReader {
    tx: UnboundedSender<Action>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InputReader {
    fn start(tx: UnboundedSender<Action>) -> InputReader {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = Some(spawn_input_reader(tx.clone(), Arc::clone(&stop)));
        InputReader { tx, stop, thread }
    }

    /// Stops reading and waits for the thread (it looks at the flag every 100 ms).
    fn pause(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn resume(&mut self) {
        self.stop = Arc::new(AtomicBool::new(false));
        self.thread = Some(spawn_input_reader(self.tx.clone(), Arc::clone(&self.stop)));
    }
}

impl Drop for InputReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The editor command: `$VISUAL`, else `$EDITOR`, else `vi`, split into words (`code -w` works).
fn editor_command() -> Vec<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|e| e.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|words| !words.is_empty())
        .unwrap_or_else(|| vec!["vi".to_string()])
}

/// Gives the terminal to the editor on `path` at `line` (`+LINE FILE`, which vi, vim, nano, emacs and kakoune all
/// read), and takes it back when the editor exits.
fn run_editor(
    terminal: &mut ratatui::DefaultTerminal,
    input: &mut InputReader,
    (path, line): (&std::path::Path, u32),
) -> Result<(), String> {
    input.pause();
    ratatui::restore();
    let words = editor_command();
    let status = std::process::Command::new(&words[0])
        .args(&words[1..])
        .arg(format!("+{line}"))
        .arg(path)
        .status();
    *terminal = ratatui::init();
    let _ = terminal.clear();
    input.resume();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{} exited with {s}", words[0])),
        Err(e) => Err(format!("could not start {}: {e}", words[0])),
    }
}

/// Reads terminal events on a thread of its own (crossterm's reader blocks) until `stop` is set.
fn spawn_input_reader(
    tx: UnboundedSender<Action>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!("terminal poll failed: {e}");
                    return;
                }
            }
            let action = match event::read() {
                Ok(Event::Key(k)) => Action::Key(k),
                Ok(Event::Resize(w, h)) => Action::Resize(w, h),
                Ok(Event::Paste(s)) => Action::Paste(s),
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!("terminal read failed: {e}");
                    return;
                }
            };
            if tx.send(action).is_err() {
                return;
            }
        }
    })
}

/// Logs go to `tally.log` in the data directory, never to the terminal. Keeps an existing subscriber (the CLI
/// may have set one up).
fn init_file_logging() {
    let dir = Config::log_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("tally.log"))
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
}

/// Runs the dashboard until the user quits.
pub async fn run_dashboard(opts: DashboardOptions) -> Result<(), AppError> {
    let keymap = Keymap::with_overrides(&opts.config.keys)?;
    init_file_logging();
    let today = chrono::Local::now().date_naive();
    let mut state = State::new(
        &opts.config,
        StateOptions {
            source_label: opts.source_label.clone(),
            today,
            keymap,
            no_color: crate::config::no_color(),
        },
    );

    // ratatui::try_init also installs a panic hook that restores the terminal before the panic message prints.
    // The guard first: if setting the terminal up fails halfway, it is still put back.
    let _guard = TerminalGuard;
    let mut terminal = ratatui::try_init()?;
    install_panic_flag();
    let size = terminal.size()?;
    state.screen.size = (size.width, size.height);
    if let Some(request) = opts.import {
        state.screen.mode =
            crate::app::Mode::Import(crate::app::import::ImportPreview::reading(request));
    }

    let (tx, rx) = mpsc::unbounded_channel();
    let mut input = InputReader::start(tx.clone());

    let (open_tx, open_rx) = tokio::sync::oneshot::channel();
    let open = opts.open;
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let result = match open.await {
            Ok(backend) => {
                let opened = EffectRunner::opened(backend.as_ref()).await;
                Ok((backend, opened))
            }
            Err(e) => Err(e.to_string()),
        };
        tracing::info!("backend opened in {:?}", started.elapsed());
        let _ = open_tx.send(result);
    });

    let result = event_loop((&mut terminal, &mut input), &mut state, (tx, rx), open_rx).await;
    drop(input);
    result?;
    if let Phase::Failed(message) = &state.phase {
        return Err(AppError::Open(message.clone()));
    }
    Ok(())
}

type OpenResult = Result<(Arc<dyn Backend>, Opened), String>;

async fn event_loop(
    (terminal, input): (&mut ratatui::DefaultTerminal, &mut InputReader),
    state: &mut State,
    (tx, mut rx): (UnboundedSender<Action>, UnboundedReceiver<Action>),
    mut open_rx: tokio::sync::oneshot::Receiver<OpenResult>,
) -> Result<(), AppError> {
    let mut runner: Option<EffectRunner> = None;
    let mut opening = true;
    let started = std::time::Instant::now();
    let mut first_data_logged = false;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;

    loop {
        if PANICKED.load(Ordering::SeqCst) {
            return Err(AppError::Panicked);
        }
        if state.take_changed() {
            terminal.draw(|frame| {
                crate::ui::draw(frame, state);
            })?;
            if !first_data_logged && state.txns.total.is_some() {
                first_data_logged = true;
                tracing::info!("first frame with data after {:?}", started.elapsed());
            }
        }
        if state.quit {
            return Ok(());
        }
        #[cfg(unix)]
        let signalled = async {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = hangup.recv() => {}
            }
        };
        #[cfg(not(unix))]
        let signalled = std::future::pending::<()>();
        let action = tokio::select! {
            Some(action) = rx.recv() => action,
            opened = &mut open_rx, if opening => {
                opening = false;
                match opened {
                    Ok(Ok((backend, info))) => {
                        runner = Some(EffectRunner::new(backend, tx.clone()));
                        Action::Opened(Ok(info))
                    }
                    Ok(Err(e)) => Action::Opened(Err(e)),
                    Err(_) => Action::Opened(Err("the backend task ended without an answer".into())),
                }
            }
            _ = ticker.tick() => Action::Tick,
            () = signalled => {
                state.quit = true;
                continue;
            }
        };
        let mut editor = dispatch(state, action, runner.as_mut());
        // Apply everything already queued before drawing again: a burst of replies costs one frame.
        while let Ok(action) = rx.try_recv() {
            editor = editor.or(dispatch(state, action, runner.as_mut()));
            if state.quit {
                break;
            }
        }
        if let Some((path, line)) = editor {
            let closed = run_editor(terminal, input, (&path, line));
            dispatch(state, Action::EditorClosed(closed), runner.as_mut());
        }
    }
}

/// Runs `update` and hands its effects to the runner, except opening an editor, which is returned: the loop owns the
/// terminal the editor needs.
fn dispatch(
    state: &mut State,
    action: Action,
    runner: Option<&mut EffectRunner>,
) -> Option<(std::path::PathBuf, u32)> {
    let mut effects = update(state, action);
    let mut editor = None;
    effects.retain(|e| match e {
        crate::app::Effect::OpenEditor { path, line } => {
            editor = Some((path.clone(), *line));
            false
        }
        _ => true,
    });
    match runner {
        Some(runner) => effects.into_iter().for_each(|e| runner.run(e)),
        None if !effects.is_empty() => {
            tracing::warn!("{} effect(s) before the backend opened", effects.len());
        }
        None => {}
    }
    editor
}
