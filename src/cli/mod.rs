//! The command line: global options that choose a backend (`-f FILE`, `--remote URL`, `--profile NAME`, the default
//! profile, or the bundled demo), and the headless commands, each a thin layer over the `Backend` trait so they behave
//! the same on a journal and on a server. Output formats live in `output`. With no command, `main` opens the dashboard.

mod output;

use crate::backend::journal::JournalBackend;
use crate::backend::mirror::{MirrorBackend, MirrorOptions, Wait};
use crate::backend::rest::{RestBackend, RestOptions};
use crate::backend::{Backend, BackendError, Dimension, GroupBy, PageRequest, SortKey};
use crate::config::{Config, ConfigError, Dialect, ProfileBackend, RestProfile};
use crate::domain::{Status, Tag};
use crate::query::{self, Query};
use crate::text::clean;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "tally",
    version,
    about = "Review, filter, tag and analyse personal-finance data: hledger journals or REST finance servers",
    long_about = "Without a command, opens the dashboard. The data comes from -f FILE, --remote URL, --profile NAME, \
                  the config file's default_profile, or else the bundled demo ledger (copied to your data directory \
                  on first use, so edits never touch the bundled file).\n\n\
                  Queries (-q) are hledger's: a free word matches account names, description, payee or note; \
                  acct: desc: payee: note: code: tag:NAME[=VALUE] (case-insensitive regexes) amt:>50 amt:<=-20 \
                  cur:USD status: status:! status:* real: real:0 depth:N not:TERM, date: with hledger periods \
                  (2025, 2025-03, 2025q1, thismonth, lastweek, 2025-01..2025-04, \"from 2025-01 to 2025-03\"), and \
                  tally's is:review is:untagged. Quote values with spaces. Differences from hledger: several free \
                  words must all match (hledger ORs them) and also match text; `last N days` is tally's; cur: is \
                  literal; date2: inacct: expr: type: are refused (docs/queries.md).",
    after_help = "Environment: TALLY_CONFIG (config file), TALLY_DATA_DIR (data directory), TALLY_API_KEY (key for \
                  --remote), TALLY_SERVE_KEYS (keys `tally serve` accepts, comma-separated), TALLY_LOG (log filter, e.g. \
                  warn: the dashboard's log file, `tally serve`'s stderr), NO_COLOR."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Journal file to open (hledger format; includes are followed).
    #[arg(short = 'f', long = "file", global = true, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A finance server's base URL as its documents name it (e.g. http://127.0.0.1:8080 for `tally serve`,
    /// https://sure.example.org for Sure); the API key comes from $TALLY_API_KEY.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "file")]
    pub remote: Option<String>,
    /// Which API the --remote server speaks: tally (also `tally serve`), sure, finwise, finx, synci, hledger-web.
    #[arg(long, global = true, value_name = "API", requires = "remote", value_parser = parse_dialect)]
    pub dialect: Option<Dialect>,
    /// A profile from the config file.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Config file to use instead of the default location.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

fn parse_statement_date(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::reconcile::parse::date(s)
}

fn parse_statement_amount(s: &str) -> Result<crate::domain::Money, String> {
    crate::reconcile::parse::amount(s)
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    Dialect::parse(s).ok_or_else(|| {
        format!(
            "unknown dialect {s:?} (expected one of: {})",
            Dialect::ALL.map(Dialect::name).join(", ")
        )
    })
}

const FORMAT_HELP: &str =
    "Output format; JSON and CSV carry the data exactly when piped, escaped on a terminal";

/// Output formats. Text from the data never reaches a terminal raw; JSON and CSV are escaped only on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns; control characters in the data are shown as visible symbols (ESC as ␛).
    Table,
    /// Exact data when piped; on a terminal, DEL, C1 controls and bidi overrides are escaped as \u007f, \u009b, ….
    Json,
    /// Exact data when piped; on a terminal, control characters are shown as symbols, like the table.
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Cleared,
    Pending,
    Unmarked,
}

impl From<StatusArg> for Status {
    fn from(s: StatusArg) -> Status {
        match s {
            StatusArg::Cleared => Status::Cleared,
            StatusArg::Pending => Status::Pending,
            StatusArg::Unmarked => Status::Unmarked,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GroupByArg {
    Day,
    Week,
    Month,
    Year,
}

impl From<GroupByArg> for GroupBy {
    fn from(g: GroupByArg) -> GroupBy {
        match g {
            GroupByArg::Day => GroupBy::Day,
            GroupByArg::Week => GroupBy::Week,
            GroupByArg::Month => GroupBy::Month,
            GroupByArg::Year => GroupBy::Year,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DimensionArg {
    Category,
    Tag,
    Account,
    Payee,
}

impl From<DimensionArg> for Dimension {
    fn from(d: DimensionArg) -> Dimension {
        match d {
            DimensionArg::Category => Dimension::Category,
            DimensionArg::Tag => Dimension::Tag,
            DimensionArg::Account => Dimension::Account,
            DimensionArg::Payee => Dimension::Payee,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    Date,
    Amount,
    Payee,
    Status,
    Category,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Balance of every account with postings (its own postings, not subaccounts), per commodity.
    Balances {
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Account names with their kind (asset, liability, equity, income, expense).
    Accounts {
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Transactions matching a query, newest first.
    Transactions {
        /// Query in tally's query language (see --help of tally).
        #[arg(short = 'q', long, default_value = "")]
        query: String,
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
        /// At most this many transactions.
        #[arg(long)]
        limit: Option<usize>,
        /// Order by this column (newest or largest first unless --ascending).
        #[arg(long, value_enum, default_value = "date")]
        sort: SortArg,
        /// Oldest (smallest) first instead of newest first.
        #[arg(long)]
        ascending: bool,
    },
    /// An account register, as `hledger register ACCT`: one row per posting to the accounts ACCT matches (a
    /// case-insensitive regex, so subaccounts too), oldest first, with the posting's amount and the running balance.
    Register {
        /// The account: a pattern as in `acct:` (`checking`, `^assets:`, `dining|groceries`).
        account: String,
        /// Only transactions (and postings, for acct: amt: cur: real: depth:) matching this query.
        #[arg(short = 'q', long, default_value = "")]
        query: String,
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Add and remove tags on every transaction matching a query; prints how many changed.
    Tag {
        /// The transactions to tag: a query (hledger's language; see `tally --help`).
        #[arg(short = 'q', long)]
        query: String,
        /// Tags to add: NAME or NAME:VALUE.
        #[arg(long, num_args = 1.., value_name = "TAG")]
        add: Vec<String>,
        /// Tag names to remove.
        #[arg(long, num_args = 1.., value_name = "TAG")]
        remove: Vec<String>,
        /// Show what would change without writing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Set the status of every transaction matching a query.
    Status {
        /// The transactions to mark: a query (hledger's language; see `tally --help`).
        #[arg(short = 'q', long)]
        query: String,
        /// The status to give them.
        #[arg(long, value_enum)]
        set: StatusArg,
        /// List what would change without writing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Income, spending and net per day, week, month or year.
    Summary {
        /// One row per day, week, month or year.
        #[arg(long, value_enum, default_value = "month")]
        group_by: GroupByArg,
        /// First date included (YYYY, YYYY-MM or YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// First date NOT included (end is exclusive, as in hledger).
        #[arg(long)]
        to: Option<String>,
        /// Only transactions matching this query.
        #[arg(short = 'q', long, default_value = "")]
        query: String,
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Totals by category, tag, account or payee, largest first.
    Breakdown {
        /// Group the totals by category, tag, account or payee.
        #[arg(long, value_enum, default_value = "category")]
        by: DimensionArg,
        /// Only transactions matching this query.
        #[arg(short = 'q', long, default_value = "")]
        query: String,
        /// First date included (YYYY, YYYY-MM or YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// First date NOT included (end is exclusive, as in hledger).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Recurring transactions found in the history (same payee, similar amount, regular interval), with their
    /// evidence, and each account's balance projected month by month from them.
    Projections {
        /// How many months ahead (1-24).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=24))]
        months: u32,
        /// Only transactions matching this query are searched for recurring ones.
        #[arg(short = 'q', long, default_value = "")]
        query: String,
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Reconcile an account against a bank statement: the cleared balance on DATE, the difference from the
    /// statement, and the smallest set of uncleared transactions (on or before DATE) that makes it up exactly, or
    /// else the closest one and a likely typo. `--apply` marks that set cleared and, when no uncleared transaction on
    /// or before DATE is left off the statement, writes the balance as an hledger assertion on the account's last
    /// posting, in one save. A server cannot hold assertions: it gets the statuses, and its mirror remembers the
    /// statement; every run first says the last statement reconciled.
    ///
    /// The account counts with its subaccounts, as `hledger bal ACCT` does; the balance is as the journal sees it (a
    /// card owing $500 is -500). "Cleared" is the transaction's status (`*`).
    Reconcile {
        /// The account, by its full name (`assets:bank:checking`).
        #[arg(long, value_name = "ACCT")]
        account: String,
        /// The statement's date (YYYY-MM-DD): its balance is at the end of that day.
        #[arg(long, value_name = "DATE", value_parser = parse_statement_date)]
        date: chrono::NaiveDate,
        /// The statement's balance, with its commodity as the journal writes it (`$1234.56`, `-80.10 EUR`); a bare
        /// number takes the account's commodity when it has one.
        #[arg(long, value_name = "AMOUNT", value_parser = parse_statement_amount, allow_hyphen_values = true)]
        balance: crate::domain::Money,
        /// Mark the proposed transactions cleared (and assert the balance); refused unless they make up the
        /// difference exactly.
        #[arg(long)]
        apply: bool,
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Write a realistic, deterministic sample journal (for tests and benchmarks).
    Generate {
        /// How many transactions to write.
        #[arg(long, default_value_t = 1000)]
        transactions: usize,
        /// The random seed: the same seed writes the same journal.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (stdout by default).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Serve the backend over the tally REST API (keys from [serve] api_keys or $TALLY_SERVE_KEYS).
    Serve(crate::server::ServeArgs),
    /// Import bank CSV into the journal (-f) with an hledger CSV rules file: rows the journal already holds are left
    /// out (the same import id, or the same date, amount, account and description), possible duplicates listed, rows
    /// a rule skips counted, the new ones appended in one write, each tagged with its `import-id`.
    Import {
        /// The CSV files.
        #[arg(required = true)]
        csv: Vec<PathBuf>,
        /// The hledger rules file (default: the CSV's name plus `.rules`, beside it, as hledger looks for it).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Show what would be added and what not, without writing.
        #[arg(long)]
        dry_run: bool,
        /// Import the possible duplicates too (same amount and account within 3 days, a similar payee); without it
        /// they are listed and left out.
        #[arg(long)]
        accept_possible: bool,
        /// Import at once even on a terminal (where `tally import` otherwise opens the dashboard's preview).
        #[arg(long)]
        yes: bool,
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Categories for uncategorised transactions (none, or `...:unknown`), learned from the ledger's own history:
    /// payee words and amount, with the evidence. `--apply` sets them in one write.
    Suggest {
        /// Only transactions matching this query get suggestions (the whole ledger is the history).
        #[arg(short = 'q', long, default_value = "")]
        query: String,
        /// Set the suggested categories (one write; `--min-confidence` leaves out the unsure ones).
        #[arg(long)]
        apply: bool,
        /// With --apply: only suggestions at least this sure (0 to 1).
        #[arg(long, default_value_t = 0.0)]
        min_confidence: f64,
        #[arg(long, value_enum, default_value = "table", help = FORMAT_HELP)]
        format: Format,
    },
    /// Print the shell completion script for tally (bash, zsh, fish, elvish, powershell).
    ///
    /// Written to stdout, e.g. `tally completions bash > ~/.local/share/bash-completion/completions/tally`. Reads no
    /// config and opens no data.
    Completions {
        /// The shell to complete tally's commands and options in.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print tally's man page (roff), or write one page per command with --out-dir.
    ///
    /// Written to stdout, e.g. `tally man > ~/.local/share/man/man1/tally.1`; with --out-dir, tally.1 and a
    /// tally-COMMAND.1 for each command. Reads no config and opens no data.
    Man {
        /// Write the pages into this directory (created if missing) and print their paths, instead of printing tally.1.
        #[arg(short = 'o', long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("query: {0}")]
    Query(#[from] query::QueryError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{path} has {count} error(s); fix them and run again")]
    JournalErrors { path: String, count: usize },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Server(#[from] crate::server::ServerError),
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error("reconcile: {0}")]
    Reconcile(#[from] crate::reconcile::ReconcileError),
}

/// Where the data comes from, resolved from the options and the config.
pub enum Source {
    /// A journal file, and where imports go when not to it (the profile's `import_file`).
    Journal(PathBuf, Option<PathBuf>),
    Rest(Box<RestProfile>),
}

impl Source {
    pub fn label(&self) -> String {
        match self {
            Source::Journal(p, _) => format!("journal {}", p.display()),
            Source::Rest(r) => format!("{} {}", r.dialect.name(), r.url),
        }
    }
}

/// Chooses the data source: `-f`, `--remote`, `--profile`, the default profile, or the demo ledger.
pub fn resolve_source(global: &GlobalArgs, config: &Config) -> Result<Source, CliError> {
    if let Some(f) = &global.file {
        return Ok(Source::Journal(f.clone(), None));
    }
    if let Some(url) = &global.remote {
        let profile = RestProfile::from_url(url, global.dialect.unwrap_or_default())?;
        return Ok(Source::Rest(Box::new(profile)));
    }
    match config.profile(global.profile.as_deref())? {
        Some((_, p)) => Ok(match &p.backend {
            ProfileBackend::Journal { file, import_file } => {
                Source::Journal(file.clone(), import_file.clone())
            }
            ProfileBackend::Rest(r) => Source::Rest(Box::new(r.clone())),
        }),
        None => Ok(Source::Journal(crate::config::demo_journal_path()?, None)),
    }
}

/// What the dashboard opens with: the source (opened in the background, waiting only for a first page), the config,
/// and the import preview to start in (`tally import` on a terminal).
pub fn dashboard_options(
    source: Source,
    config: Config,
    import: Option<crate::app::import::ImportRequest>,
) -> crate::tui::DashboardOptions {
    let source_label = source.label();
    let open = Box::pin(async move {
        open_backend(&source, Wait::FirstPage, false)
            .await
            .map_err(|e| match e {
                CliError::Backend(b) => b,
                other => BackendError::Io(other.to_string()),
            })
    });
    crate::tui::DashboardOptions {
        open,
        config,
        source_label,
        import,
    }
}

/// Opens the backend for a source. A server that cannot run tally's queries is opened through its mirror; `wait`
/// says whether to wait for a complete sync (headless commands) or only for the first page (the dashboard).
/// `one_shot`: a command that exits after its edit (a journal then skips following its own save).
pub async fn open_backend(
    source: &Source,
    wait: Wait,
    one_shot: bool,
) -> Result<Arc<dyn Backend>, CliError> {
    match source {
        Source::Journal(p, import_file) => {
            let (p, import_file) = (p.clone(), import_file.clone());
            let journal = tokio::task::spawn_blocking(move || {
                JournalBackend::open(p)
                    .map(|j| if one_shot { j.one_shot() } else { j })
                    .map(|j| j.with_import_file(import_file))
            })
            .await
            .map_err(|e| CliError::Usage(format!("loading failed: {e}")))??;
            Ok(Arc::new(journal))
        }
        Source::Rest(r) => {
            let api_key = if r.dialect.needs_api_key() {
                Some(r.api_key()?)
            } else {
                None
            };
            let opts = RestOptions {
                base_url: r.url.clone(),
                api_key,
                requests_per_minute: r.requests_per_minute,
                allow_http: r.allow_http,
                timeout: r.timeout,
            };
            let dialect: Box<dyn crate::backend::rest::dialect::Dialect> = match r.dialect {
                Dialect::Tally => return Ok(Arc::new(RestBackend::new(opts)?)),
                Dialect::Sure => Box::new(crate::backend::rest::sure::Sure::new(&opts)?),
                Dialect::HledgerWeb => {
                    Box::new(crate::backend::rest::hledger_web::HledgerWeb::new(&opts)?)
                }
                Dialect::Finwise => Box::new(crate::backend::rest::finwise::FinWise::new(&opts)?),
                Dialect::Finx => Box::new(crate::backend::rest::finx::FinX::new(&opts)?),
                Dialect::Synci => Box::new(crate::backend::rest::synci::Synci::new(&opts)?),
            };
            let path = crate::backend::mirror::default_path(
                dialect.name(),
                &r.url,
                opts.api_key.as_deref(),
            );
            let mirror = MirrorBackend::open(dialect, MirrorOptions { path, wait }).await?;
            Ok(Arc::new(mirror))
        }
    }
}

fn parse_query(text: &str) -> Result<Query, CliError> {
    query::parse(text).map_err(|e| {
        CliError::Usage(format!(
            "query {text:?}: column {}: {}",
            e.column, e.message
        ))
    })
}

/// `--from`/`--to` as a `date:` term joined to the query.
fn with_range(q: &str, from: &Option<String>, to: &Option<String>) -> Result<Query, CliError> {
    let mut text = q.to_string();
    if from.is_some() || to.is_some() {
        let range = format!(
            "date:{}..{}",
            from.as_deref().unwrap_or(""),
            to.as_deref().unwrap_or("")
        );
        text = if text.trim().is_empty() {
            range
        } else {
            format!("{text} {range}")
        };
    }
    parse_query(&text)
}

/// Fails a read command when the journal has errors, after printing each as FILE:LINE:COLUMN.
async fn check_diagnostics(
    backend: &dyn Backend,
    source: &Source,
    fatal: bool,
) -> Result<(), CliError> {
    let diags = backend.diagnostics().await;
    if diags.is_empty() {
        return Ok(());
    }
    let mut err = std::io::stderr().lock();
    for d in &diags {
        let _ = writeln!(err, "{}", clean(&d.to_string()));
    }
    if fatal {
        let path = match source {
            Source::Journal(p, _) => p.display().to_string(),
            Source::Rest(r) => r.url.clone(),
        };
        return Err(CliError::JournalErrors {
            path,
            count: diags.len(),
        });
    }
    Ok(())
}

/// Waits for edits to reach the server (a mirror's outbox), saying on stderr what it waits for when it takes a
/// while (a server's rate limit can hold edits for minutes; they are kept and sent later if tally is stopped).
async fn flush(backend: &dyn Backend) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let mut told = std::time::Instant::now();
    let done = backend.flush();
    tokio::pin!(done);
    loop {
        tokio::select! {
            r = &mut done => return r.map_err(CliError::from),
            () = tokio::time::sleep(std::time::Duration::from_secs(2)) => {
                let a = backend.activity();
                if started.elapsed() > std::time::Duration::from_secs(2)
                    && told.elapsed() >= std::time::Duration::from_secs(10)
                {
                    told = std::time::Instant::now();
                    let why = match a.paused_until {
                        Some(t) => format!(
                            "; the server's rate limit allows more at {}",
                            t.with_timezone(&chrono::Local).format("%H:%M:%S")
                        ),
                        None => String::new(),
                    };
                    eprintln!(
                        "tally: {} edit(s) sent, {} waiting{why} (Ctrl-C keeps them queued for the next run)",
                        a.sent, a.queued
                    );
                }
            }
        }
    }
}

/// Runs the commands made from the command line's definition alone (`completions`, `man`): they read no config
/// and open no data, so `main` runs them before loading the config. `None` for every other command.
pub fn run_without_config(command: &Command) -> Option<Result<(), CliError>> {
    match command {
        Command::Completions { shell } => Some(completions(*shell)),
        Command::Man { out_dir } => Some(man(out_dir.as_deref())),
        _ => None,
    }
}

/// Runs a headless command. `serve_keys` are the keys `tally serve` accepts.
pub async fn run(command: Command, global: &GlobalArgs, config: &Config) -> Result<(), CliError> {
    if let Some(done) = run_without_config(&command) {
        return done;
    }
    if let Command::Generate {
        transactions,
        seed,
        output,
    } = &command
    {
        return generate(*transactions, *seed, output.as_deref());
    }
    if std::env::var_os("TALLY_LOG").is_some() {
        // Headless commands log nothing unless asked: `TALLY_LOG=debug tally tag ...` shows how a save went
        // (retries when another program wrote meanwhile, the check-to-rename window, bytes carried over) on stderr.
        crate::server::init_stderr_log();
    }
    let source = resolve_source(global, config)?;
    if let Command::Import {
        csv,
        rules,
        dry_run,
        accept_possible,
        yes,
        format,
    } = &command
    {
        let stdin = std::io::IsTerminal::is_terminal(&std::io::stdin());
        let stdout = std::io::IsTerminal::is_terminal(&std::io::stdout());
        if !dry_run && !yes && *format == Format::Table && stdin && stdout {
            // On a terminal the person sees the preview and decides; scripts get the direct import.
            let request = crate::app::import::ImportRequest {
                csvs: csv.clone(),
                rules: rules.clone(),
            };
            let options = dashboard_options(source, config.clone(), Some(request));
            return crate::tui::run_dashboard(options)
                .await
                .map_err(|e| CliError::Usage(e.to_string()));
        }
        let how = ImportHow {
            dry_run: *dry_run,
            accept_possible: *accept_possible,
            format: *format,
        };
        return import(&source, (csv, rules.as_deref()), how).await;
    }
    let one_shot = !matches!(command, Command::Serve(_));
    let backend = open_backend(&source, Wait::Complete, one_shot).await?;
    let out = std::io::stdout();
    let terminal = std::io::IsTerminal::is_terminal(&out);
    let mut ctx = Ctx {
        backend,
        source: &source,
        out: std::io::BufWriter::new(out.lock()),
        terminal,
    };
    match command {
        Command::Generate { .. }
        | Command::Completions { .. }
        | Command::Man { .. }
        | Command::Import { .. } => {}
        Command::Serve(args) => serve(&ctx, args, config).await?,
        Command::Balances { format } => accounts(&mut ctx, format, output::balances).await?,
        Command::Accounts { format } => accounts(&mut ctx, format, output::accounts).await?,
        Command::Transactions {
            query,
            format,
            limit,
            sort,
            ascending,
        } => transactions(&mut ctx, &query, format, (limit, sort, ascending)).await?,
        Command::Register {
            account,
            query,
            format,
        } => register(&mut ctx, &account, &query, format).await?,
        Command::Reconcile {
            account,
            date,
            balance,
            apply,
            format,
        } => {
            let statement = crate::reconcile::Statement {
                account,
                date,
                balance,
            };
            reconcile(&mut ctx, &statement, apply, format).await?
        }
        Command::Suggest {
            query,
            apply,
            min_confidence,
            format,
        } => suggest(&mut ctx, &query, (apply, min_confidence), format).await?,
        Command::Tag {
            query,
            add,
            remove,
            dry_run,
        } => tag(&mut ctx, &query, (add, remove), dry_run).await?,
        Command::Status {
            query,
            set,
            dry_run,
        } => {
            ctx.checked(false).await?;
            let change = crate::ops::Change::status(set.into());
            let q = parse_query(&query)?;
            edit_matching(ctx.backend.as_ref(), &q, &change, dry_run, &mut ctx.out).await?;
        }
        Command::Summary {
            group_by,
            from,
            to,
            query,
            format,
        } => {
            ctx.checked(true).await?;
            let q = with_range(&query, &from, &to)?;
            let group = group_by.into();
            let rows = ctx.backend.summary(&q, group).await?;
            output::summary(&mut ctx.out, (&rows, group), format, ctx.terminal)?;
        }
        Command::Projections {
            months,
            query,
            format,
        } => {
            ctx.checked(true).await?;
            let p = ctx
                .backend
                .projections(&parse_query(&query)?, months)
                .await?;
            output::projections(&mut ctx.out, &p, format, ctx.terminal)?;
        }
        Command::Breakdown {
            by,
            query,
            from,
            to,
            format,
        } => {
            ctx.checked(true).await?;
            let q = with_range(&query, &from, &to)?;
            let rows = ctx.backend.breakdown(&q, by.into()).await?;
            output::breakdown(&mut ctx.out, &rows, format, ctx.terminal)?;
        }
    }
    ctx.out.flush()?;
    Ok(())
}

/// What a headless command works with: the backend, where its data came from, and where it prints.
struct Ctx<'a, W: Write> {
    backend: Arc<dyn Backend>,
    source: &'a Source,
    out: W,
    terminal: bool,
}

impl<W: Write> Ctx<'_, W> {
    /// Prints the ledger's problems on stderr; with `fatal` (read commands), any problem fails the command.
    async fn checked(&self, fatal: bool) -> Result<(), CliError> {
        check_diagnostics(self.backend.as_ref(), self.source, fatal).await
    }
}

/// `tally generate`: a deterministic sample journal to a file or stdout.
fn generate(
    transactions: usize,
    seed: u64,
    output: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let opts = crate::generate::GenerateOptions {
        transactions,
        seed,
        ..crate::generate::GenerateOptions::default()
    };
    let mut w: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    crate::generate::generate(&opts, &mut w)?;
    w.flush()?;
    Ok(())
}

/// `tally completions SHELL`: the shell's completion script for the `tally` command, from the same definition as
/// the parser. Made in memory first: clap_complete panics when its writer fails (a closed pipe), this reports it.
fn completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}

/// The command line as the man pages describe it: without clap's `help` subcommand, which gets no page of its own.
fn man_command() -> clap::Command {
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// One man page; every page's footer names tally and its version (clap_mangen would give a command's own name).
fn man_page(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("tally {}", env!("CARGO_PKG_VERSION")))
}

/// `tally man`: the man page of `tally` on stdout; with `out_dir`, `tally.1` and a `tally-COMMAND.1` for each
/// command written there, their paths printed.
fn man(out_dir: Option<&std::path::Path>) -> Result<(), CliError> {
    let cmd = man_command();
    let mut out = std::io::stdout().lock();
    match out_dir {
        None => {
            let mut page = Vec::new();
            man_page(cmd).render(&mut page)?;
            out.write_all(&page)?;
        }
        Some(dir) => {
            let pages = std::iter::once(cmd.clone())
                .chain(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
            let cannot = |e: std::io::Error| {
                CliError::Usage(format!("cannot write man pages to {}: {e}", dir.display()))
            };
            std::fs::create_dir_all(dir).map_err(cannot)?;
            for page in pages {
                let path = man_page(page).generate_to(dir).map_err(cannot)?;
                writeln!(out, "{}", clean(&path.display().to_string()))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `tally serve`: the backend behind the REST API until Ctrl-C or SIGTERM.
async fn serve<W: Write>(
    ctx: &Ctx<'_, W>,
    mut args: crate::server::ServeArgs,
    config: &Config,
) -> Result<(), CliError> {
    crate::server::init_stderr_log();
    for d in ctx.backend.diagnostics().await {
        tracing::warn!("{}", clean(&d.to_string()));
    }
    let keys = config.serve.accepted_keys();
    if args.requests_per_minute.is_none() {
        args.requests_per_minute = Some(config.serve.requests_per_minute);
    }
    crate::server::serve(args, keys, Arc::clone(&ctx.backend)).await?;
    Ok(())
}

async fn transactions<W: Write>(
    ctx: &mut Ctx<'_, W>,
    query: &str,
    format: Format,
    (limit, sort, ascending): (Option<usize>, SortArg, bool),
) -> Result<(), CliError> {
    let q = parse_query(query)?;
    ctx.checked(true).await?;
    let page = PageRequest {
        offset: 0,
        limit: limit.unwrap_or(usize::MAX),
        sort: SortKey::parse(&format!("{sort:?}").to_lowercase()).unwrap_or_default(),
        ascending,
    };
    let page = ctx.backend.transactions(&q, page).await?;
    output::transactions(&mut ctx.out, &page, format, ctx.terminal)?;
    Ok(())
}

type AccountsOutput<W> =
    fn(&mut W, &[crate::domain::Account], Format, bool) -> Result<(), CliError>;

/// `tally balances` and `tally accounts`: the accounts, printed by `print`.
async fn accounts<W: Write>(
    ctx: &mut Ctx<'_, W>,
    format: Format,
    print: AccountsOutput<W>,
) -> Result<(), CliError> {
    ctx.checked(true).await?;
    let accounts = ctx.backend.accounts().await?;
    print(&mut ctx.out, &accounts, format, ctx.terminal)
}

/// How `tally import` was asked to run.
#[derive(Debug, Clone, Copy)]
struct ImportHow {
    dry_run: bool,
    accept_possible: bool,
    format: Format,
}

/// `tally import`: the plan for each CSV against the journal (read once), and unless `dry_run` the one append.
async fn import(
    source: &Source,
    (csv, rules): (&[PathBuf], Option<&std::path::Path>),
    how: ImportHow,
) -> Result<(), CliError> {
    let ImportHow {
        dry_run,
        accept_possible,
        format,
    } = how;
    if !matches!(source, Source::Journal(..)) {
        return Err(CliError::Usage(
            "import: give the journal to import into with -f FILE".into(),
        ));
    }
    let backend = open_backend(source, Wait::Complete, true).await?;
    let backend = backend.as_ref();
    let mut plan = crate::import::plan(backend, csv, rules).await?;
    if accept_possible {
        plan.accept_possible();
    }
    let added = if dry_run {
        0
    } else {
        let applied = crate::import::apply(backend, &plan).await?;
        // The journal reads, but says something now (hledger would refuse failing assertions).
        for p in &applied.problems {
            eprintln!("tally: after the import: {}", crate::text::clean(p));
        }
        applied.added
    };
    let out = std::io::stdout();
    let terminal = std::io::IsTerminal::is_terminal(&out);
    let mut out = std::io::BufWriter::new(out.lock());
    output::import(&mut out, (&plan, added, dry_run), format, terminal)?;
    out.flush()?;
    Ok(())
}

/// `tally suggest`: suggestions for the uncategorised matches of `query`; with `apply`, set in one write.
async fn suggest<W: Write>(
    ctx: &mut Ctx<'_, W>,
    query: &str,
    (apply, min_confidence): (bool, f64),
    format: Format,
) -> Result<(), CliError> {
    let q = parse_query(query)?;
    ctx.checked(!apply).await?;
    let suggestions = ctx.backend.suggestions(&q).await?;
    output::suggestions(&mut ctx.out, &suggestions, format, ctx.terminal)?;
    if apply {
        let edits = crate::ops::categorise(
            suggestions
                .iter()
                .filter(|s| s.confidence >= min_confidence),
        );
        let applied = crate::ops::apply_all(ctx.backend.as_ref(), &edits).await?;
        flush(ctx.backend.as_ref()).await?;
        writeln!(
            ctx.out,
            "{} transactions categorised",
            applied.result.changed
        )?;
    }
    Ok(())
}

/// `tally reconcile`: the account set against the statement, and the last statement reconciled before; with
/// `apply`, the proposal cleared and the balance asserted in one write (a server: the statement remembered in its
/// mirror instead), then the ledger read again to say if anything no longer holds.
async fn reconcile<W: Write>(
    ctx: &mut Ctx<'_, W>,
    statement: &crate::reconcile::Statement,
    apply: bool,
    format: Format,
) -> Result<(), CliError> {
    use crate::reconcile::session;
    ctx.checked(!apply).await?;
    let backend = ctx.backend.as_ref();
    let loaded = session::load(backend, statement, &session::LoadOptions::default()).await?;
    // What the backend knew before this run: a journal's latest assertion, a mirror's remembered statement.
    let last = backend
        .last_statement(&loaded.reconciliation.statement.account)
        .await?;
    let caps = backend.capabilities();
    if apply && !loaded.reconciliation.exact {
        // Say what was found (the closest posting, a typo), then refuse: nothing is written.
        let planned = output::ReconcileOutcome::Planned(None);
        let shown = (&loaded, &planned, last.as_ref());
        output::reconcile(&mut ctx.out, shown, format, ctx.terminal)?;
        ctx.out.flush()?;
        session::plan(&loaded, &caps)?;
    }
    let outcome = if apply {
        let applied = session::apply(backend, &loaded).await?;
        flush(backend).await?;
        backend.reload().await?;
        for d in backend.diagnostics().await {
            eprintln!("tally: after reconciling: {}", clean(&d.to_string()));
        }
        output::ReconcileOutcome::Applied(applied)
    } else {
        output::ReconcileOutcome::Planned(session::plan(&loaded, &caps).ok())
    };
    let shown = (&loaded, &outcome, last.as_ref());
    output::reconcile(&mut ctx.out, shown, format, ctx.terminal)
}

/// `tally register ACCT`: the transactions touching ACCT (and the query), oldest first, as register rows.
async fn register<W: Write>(
    ctx: &mut Ctx<'_, W>,
    account: &str,
    query: &str,
    format: Format,
) -> Result<(), CliError> {
    let pattern = query::Pattern::new(account)
        .map_err(|e| CliError::Usage(format!("register: account {e}")))?;
    let q = parse_query(query)?;
    ctx.checked(true).await?;
    let touching = Query {
        terms: vec![query::Term::Account(pattern.clone())],
        source: String::new(),
    };
    let page = PageRequest {
        offset: 0,
        limit: usize::MAX,
        sort: SortKey::Date,
        ascending: true,
    };
    let txns = ctx.backend.transactions(&q.and(&touching), page).await?;
    let rows = crate::analytics::register::register(&txns.items, &pattern, &q);
    output::register(&mut ctx.out, &rows, format, ctx.terminal)?;
    Ok(())
}

async fn tag<W: Write>(
    ctx: &mut Ctx<'_, W>,
    query: &str,
    (add, remove): (Vec<String>, Vec<String>),
    dry_run: bool,
) -> Result<(), CliError> {
    ctx.checked(false).await?;
    if add.is_empty() && remove.is_empty() {
        return Err(CliError::Usage(
            "tag: give --add TAG and/or --remove TAG".into(),
        ));
    }
    let q = parse_query(query)?;
    let add: Vec<Tag> = add.iter().map(|t| Tag::parse(t)).collect();
    let change = crate::ops::Change::tags(add, remove);
    edit_matching(ctx.backend.as_ref(), &q, &change, dry_run, &mut ctx.out).await
}

/// What a patch does, in a few words: `+work -review status:cleared`.
fn patch_text(p: &crate::backend::TxnPatch) -> String {
    let mut parts: Vec<String> = p.add_tags.iter().map(|t| format!("+{t}")).collect();
    parts.extend(p.remove_tags.iter().map(|t| format!("-{t}")));
    if let Some(s) = p.status {
        parts.push(format!("status:{}", s.name()));
    }
    if let Some(c) = &p.category {
        parts.push(format!("category:{c}"));
    }
    if let Some(n) = &p.note {
        parts.push(format!("note:{n:?}"));
    }
    parts.join(" ")
}

/// Makes `change` to every transaction matching `q` through the operations layer (one write), or with `dry_run`
/// says how many would change. Prints `N transactions changed (M matched)`.
async fn edit_matching(
    backend: &dyn Backend,
    q: &Query,
    change: &crate::ops::Change,
    dry_run: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let (refs, matched) = backend.transaction_refs(q, PageRequest::all()).await?;
    let edit = crate::ops::Edit {
        ids: std::sync::Arc::new(refs.into_iter().map(|(id, _)| id).collect()),
        change: change.clone(),
    };
    if dry_run {
        let prepared = crate::ops::prepare(backend, std::slice::from_ref(&edit)).await?;
        // Each transaction that would change, where it is, and what would happen to it.
        for (id, patch) in &prepared.writes {
            let t = backend.transaction(id).await?;
            let line = format!(
                "{} {}  {}  {}",
                t.date,
                t.description,
                t.source,
                patch_text(patch)
            );
            writeln!(out, "{}", crate::text::clean(&line))?;
        }
        writeln!(
            out,
            "{} of {matched} matching transactions would change (dry run)",
            prepared.writes.len()
        )?;
        return Ok(());
    }
    let applied = crate::ops::apply_all(backend, std::slice::from_ref(&edit)).await?;
    flush(backend).await?;
    writeln!(
        out,
        "{} transactions changed ({matched} matched)",
        applied.result.changed
    )?;
    Ok(())
}
