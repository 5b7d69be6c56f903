//! Runs the Synci API test server (`tests/servers/synci.rs`) standalone for manual tries against tally:
//! `cargo run --example synci_server -- --port 3003 --transactions 10000 [--seed N] [--rate-limit N/SECS]
//! [--key TOKEN] [--hostile] [--latency-ms N] [--sync-interval SECS]`. Prints the URL and token, serves until
//! Ctrl-C.

#[path = "../tests/it/servers/harness.rs"]
mod harness;
#[path = "../tests/it/servers/ledger.rs"]
mod ledger;
#[path = "../tests/it/servers/synci.rs"]
mod synci;

use std::net::SocketAddr;
use std::time::Duration;

use synci::{SynciOptions, SynciServer};

const USAGE: &str = "usage: synci_server [--port N] [--transactions N] [--seed N] [--rate-limit N/SECS] \
[--key TOKEN] [--hostile] [--latency-ms N] [--sync-interval SECS]";

/// The options and port from the command line, or a message for the user.
fn parse_args(args: &[String]) -> Result<(SynciOptions, u16), String> {
    let parsed = harness::parse_serve_args(args, &[], &["--sync-interval"], USAGE)?;
    let mut opts = SynciOptions::default();
    opts.transactions = parsed.transactions.unwrap_or(opts.transactions);
    opts.seed = parsed.seed.unwrap_or(opts.seed);
    opts.api_key = parsed.key.unwrap_or(opts.api_key);
    opts.rate_limit = parsed.rate_limit;
    opts.latency = parsed.latency.unwrap_or_default();
    opts.hostile = parsed.hostile;
    for (_, value) in parsed.extra {
        let v = value.unwrap_or_default();
        let secs: u64 = v
            .parse()
            .map_err(|_| format!("--sync-interval: seconds expected, got {v:?}"))?;
        opts.sync_interval = Duration::from_secs(secs);
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
    let server = SynciServer::start_on(SocketAddr::from(([127, 0, 0, 1], port)), opts).await;
    println!("Synci test server: {}", server.api_url());
    println!("base URL: {}", server.url);
    println!(
        "Authorization: Bearer {}  (and Accept: application/json)",
        server.key
    );
    println!("{count} transactions; Ctrl-C to stop");
    tokio::signal::ctrl_c().await.expect("listen for Ctrl-C");
    println!("stopping; {} requests served", server.requests().len());
    server.stop().await;
}
