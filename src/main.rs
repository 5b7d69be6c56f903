//! The `tally` binary: parses the command line, loads the config, then runs a headless command or opens the
//! dashboard. Errors are reported once, here, through color-eyre; nothing below `main` prints or exits.

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};
use tally::cli::{self, Cli};
use tally::config::Config;

fn main() -> Result<()> {
    color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install()?;
    let args = Cli::parse();
    let config =
        Config::load(args.global.config.as_deref()).wrap_err("cannot load the config file")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    match args.command {
        Some(command) => {
            let result = runtime.block_on(cli::run(command, &args.global, &config));
            if let Err(e) = result {
                eprintln!("tally: {e}");
                std::process::exit(1);
            }
            Ok(())
        }
        None => runtime.block_on(dashboard(args.global, config)),
    }
}

async fn dashboard(global: cli::GlobalArgs, config: Config) -> Result<()> {
    let source = cli::resolve_source(&global, &config)?;
    let source_label = source.label();
    let open = Box::pin(async move {
        cli::open_backend(&source, tally::backend::mirror::Wait::FirstPage)
            .await
            .map_err(|e| match e {
                cli::CliError::Backend(b) => b,
                other => tally::backend::BackendError::Io(other.to_string()),
            })
    });
    tally::app::run_dashboard(tally::app::DashboardOptions {
        open,
        config,
        source_label,
    })
    .await?;
    Ok(())
}
