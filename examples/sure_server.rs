//! Runs the Sure API test server (`tests/servers/sure.rs`) standalone for manual tries against tally:
//! `cargo run --example sure_server -- --port 3000 --transactions 10000 [--rate-limit 100/3600] [--self-hosted]
//! [--key KEY] [--read-only-key KEY] [--seed N] [--rack-attack N] [--latency-ms N]`. Prints the URL and key, serves
//! until Ctrl-C.

#[path = "../tests/it/servers/harness.rs"]
mod harness;
#[path = "../tests/it/servers/sure.rs"]
mod sure;

use std::net::SocketAddr;
use std::time::Duration;
use sure::{SureOptions, SureServer};

const USAGE: &str = "usage: sure_server [--port N] [--transactions N] [--seed N] [--rate-limit N/SECS] \
[--self-hosted] [--key KEY] [--read-only-key KEY] [--rack-attack N] [--latency-ms N]";

/// The options and port from the command line, or a message for the user.
fn parse_args(args: &[String]) -> Result<(SureOptions, u16), String> {
    let mut opts = SureOptions::default();
    let mut port = 3000u16;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--self-hosted" {
            opts.self_hosted = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |what: &str| format!("{flag}: {what} expected, got {value:?}");
        match flag.as_str() {
            "--port" => port = value.parse().map_err(|_| bad("a port number"))?,
            "--transactions" => opts.transactions = value.parse().map_err(|_| bad("a count"))?,
            "--seed" => opts.seed = value.parse().map_err(|_| bad("a number"))?,
            "--key" => opts.api_key = value.clone(),
            "--read-only-key" => opts.read_only_key = Some(value.clone()),
            "--rack-attack" => opts.rack_attack = Some(value.parse().map_err(|_| bad("a count"))?),
            "--latency-ms" => {
                let ms: u64 = value.parse().map_err(|_| bad("milliseconds"))?;
                opts.latency = Duration::from_millis(ms);
            }
            "--rate-limit" => {
                let (n, secs) = value
                    .split_once('/')
                    .and_then(|(n, s)| Some((n.parse::<u32>().ok()?, s.parse::<u64>().ok()?)))
                    .ok_or_else(|| bad("N/SECONDS such as 100/3600"))?;
                opts.rate_limit = Some((n, Duration::from_secs(secs.max(1))));
            }
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok((opts, port))
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
    let read_only = opts.read_only_key.clone();
    let count = opts.transactions;
    let server = SureServer::start_on(SocketAddr::from(([127, 0, 0, 1], port)), opts).await;
    println!("Sure test server: {}/api/v1", server.url);
    println!("base URL: {}", server.url);
    println!("X-Api-Key (read_write): {}", server.key);
    if let Some(key) = read_only {
        println!("X-Api-Key (read): {key}");
    }
    println!("{count} transactions; Ctrl-C to stop");
    tokio::signal::ctrl_c().await.expect("listen for Ctrl-C");
    println!("stopping; {} requests served", server.requests().len());
    server.stop().await;
}
