//! Runs the FinWise API test server (`tests/servers/finwise.rs`) standalone for manual tries against tally:
//! `cargo run --example finwise_server -- --port 3001 --transactions 10000 [--seed N] [--rate-limit N/SECS]
//! [--key KEY] [--hostile] [--latency-ms N] [--no-paging-headers] [--nested-errors] [--utc-offset HOURS]`. Prints
//! the URL and key, serves until Ctrl-C.

#[path = "../tests/it/servers/finwise.rs"]
mod finwise;
#[path = "../tests/it/servers/harness.rs"]
mod harness;
#[path = "../tests/it/servers/ledger.rs"]
mod ledger;

use std::net::SocketAddr;

use finwise::{FinWiseOptions, FinWiseServer};

const USAGE: &str = "usage: finwise_server [--port N] [--transactions N] [--seed N] [--rate-limit N/SECS] \
[--key KEY] [--hostile] [--latency-ms N] [--no-paging-headers] [--nested-errors] [--utc-offset HOURS]";

/// The options and port from the command line, or a message for the user.
fn parse_args(args: &[String]) -> Result<(FinWiseOptions, u16), String> {
    let parsed = harness::parse_serve_args(
        args,
        &["--no-paging-headers", "--nested-errors"],
        &["--utc-offset"],
        USAGE,
    )?;
    let mut opts = FinWiseOptions::default();
    opts.transactions = parsed.transactions.unwrap_or(opts.transactions);
    opts.seed = parsed.seed.unwrap_or(opts.seed);
    opts.api_key = parsed.key.unwrap_or(opts.api_key);
    opts.rate_limit = parsed.rate_limit;
    opts.latency = parsed.latency.unwrap_or_default();
    opts.hostile = parsed.hostile;
    for (flag, value) in parsed.extra {
        match (flag.as_str(), value) {
            ("--no-paging-headers", _) => opts.paging_headers = false,
            ("--nested-errors", _) => opts.nested_errors = true,
            (_, Some(v)) => {
                opts.utc_offset_hours = v
                    .parse()
                    .map_err(|_| format!("--utc-offset: hours expected, got {v:?}"))?;
            }
            _ => {}
        }
    }
    Ok((opts, parsed.port))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, port) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let count = opts.transactions;
    let server = FinWiseServer::start_on(SocketAddr::from(([127, 0, 0, 1], port)), opts).await;
    println!("FinWise test server: {} (no path prefix)", server.url);
    println!("Authorization (the raw key, no Bearer): {}", server.key);
    println!("{count} transactions; Ctrl-C to stop");
    tokio::signal::ctrl_c().await.expect("listen for Ctrl-C");
    println!("stopping; {} requests served", server.requests().len());
    server.stop().await;
}
