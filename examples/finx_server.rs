//! Runs the Fin X API test server (`tests/servers/finx.rs`) standalone for manual tries against tally:
//! `cargo run --example finx_server -- --port 3002 --transactions 10000 [--seed N] [--rate-limit N/SECS]
//! [--key KEY] [--hostile] [--latency-ms N] [--descriptions]`. Prints the URL and key, serves until Ctrl-C.

#[path = "../tests/it/servers/finx.rs"]
mod finx;
#[path = "../tests/it/servers/harness.rs"]
mod harness;
#[path = "../tests/it/servers/ledger.rs"]
mod ledger;

use std::net::SocketAddr;

use finx::{FinXOptions, FinXServer};

const USAGE: &str = "usage: finx_server [--port N] [--transactions N] [--seed N] [--rate-limit N/SECS] \
[--key KEY] [--hostile] [--latency-ms N] [--descriptions]";

/// The options and port from the command line, or a message for the user.
fn parse_args(args: &[String]) -> Result<(FinXOptions, u16), String> {
    let parsed = harness::parse_serve_args(args, &["--descriptions"], &[], USAGE)?;
    let mut opts = FinXOptions::default();
    opts.transactions = parsed.transactions.unwrap_or(opts.transactions);
    opts.seed = parsed.seed.unwrap_or(opts.seed);
    opts.api_key = parsed.key.unwrap_or(opts.api_key);
    opts.rate_limit = parsed.rate_limit;
    opts.latency = parsed.latency.unwrap_or_default();
    opts.hostile = parsed.hostile;
    opts.descriptions = parsed.extra.iter().any(|(f, _)| f == "--descriptions");
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
    let server = FinXServer::start_on(SocketAddr::from(([127, 0, 0, 1], port)), opts).await;
    println!("Fin X test server: {}", server.api_url());
    println!("base URL: {}", server.url);
    println!("Authorization: Bearer {}", server.key);
    println!("{count} transactions; Ctrl-C to stop");
    tokio::signal::ctrl_c().await.expect("listen for Ctrl-C");
    println!("stopping; {} requests served", server.requests().len());
    server.stop().await;
}
