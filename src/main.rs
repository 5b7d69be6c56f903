//! The `tally` binary: parses the command line, loads the config, then runs a headless command or opens the
//! dashboard (`completions` and `man` run before the config is loaded: they need none). Errors are reported once,
//! here, as `tally: MESSAGE` with their causes, through the terminal-safe `text::clean_lines`: a message can quote a
//! journal line, a file name or a server's reply, and none of it may reach the terminal as raw control characters.
//! color-eyre carries the error context and reports panics.

use clap::Parser;
use color_eyre::eyre::{Report, Result, WrapErr};
use std::process::ExitCode;
use tally::cli::{self, Cli};
use tally::config::Config;
use tally::text::{clean_lines, is_unsafe};

fn main() -> ExitCode {
    if let Err(e) = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install()
    {
        report(&e);
    }
    match run(parse_args()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// The command line, or exit as clap does (usage errors, `--help`, `--version`). clap's messages echo arguments and
/// are coloured on a terminal; when an argument holds control characters, the message is printed plain and cleaned.
fn parse_args() -> Cli {
    match Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let safe =
                std::env::args_os().all(|a| a.to_str().is_some_and(|s| !s.chars().any(is_unsafe)));
            if safe {
                e.exit();
            }
            let text = e.render().to_string();
            if e.use_stderr() {
                eprint!("{}", clean_lines(&text));
            } else {
                print!("{}", clean_lines(&text));
            }
            std::process::exit(e.exit_code());
        }
    }
}

/// Prints an error and its causes on one line (`tally: what: why`), cleaned. A cause whose text the line already
/// holds is left out (`#[error("{0}")]` around a `#[from]` error would otherwise say everything twice).
fn report(e: &Report) {
    let mut text = String::new();
    for cause in e.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    eprintln!("tally: {}", clean_lines(&text));
}

fn run(args: Cli) -> Result<()> {
    // Completions and the man page come from the command line's definition: no config is read, no data opened.
    if let Some(done) = args.command.as_ref().and_then(cli::run_without_config) {
        return done.map_err(|e| Report::msg(e.to_string()));
    }
    let config =
        Config::load(args.global.config.as_deref()).wrap_err("cannot load the config file")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    match args.command {
        // A command's error is reported by its own message: its causes are already part of it.
        Some(command) => runtime
            .block_on(cli::run(command, &args.global, &config))
            .map_err(|e| Report::msg(e.to_string())),
        None => runtime.block_on(dashboard(args.global, config)),
    }
}

async fn dashboard(global: cli::GlobalArgs, config: Config) -> Result<()> {
    let source = cli::resolve_source(&global, &config)?;
    tally::tui::run_dashboard(cli::dashboard_options(source, config, None)).await?;
    Ok(())
}
