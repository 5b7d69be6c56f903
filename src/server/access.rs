//! The access log. Each request gives one `tracing` event at INFO with target `tally::access`. The event holds the
//! method, the path with its query string, the status, the time in milliseconds until the answer was ready (answers
//! are built whole, so writing one adds only the socket's time), and the key's id (`KeyRing::id`, a prefix of the
//! key's SHA-256 digest, or `-` without a valid key). It never holds the `Authorization` header or the key.
//! `tally serve` writes the log to stderr (`init_stderr_log`). `TALLY_LOG` filters it (`TALLY_LOG=warn`, or
//! `TALLY_LOG=info,tally::access=off`), and `--no-access-log` leaves the layer out altogether.

use super::auth::KeyId;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Logs one request after its answer is ready.
pub async fn log_request(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let response = next.run(req).await;
    let ms = started.elapsed().as_micros() as f64 / 1000.0;
    let key = response
        .extensions()
        .get::<KeyId>()
        .map_or("-", |k| k.0.as_str());
    tracing::info!(
        target: "tally::access",
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        ms,
        key = %key,
    );
    response
}

/// `tally serve`'s log on stderr, at INFO unless `TALLY_LOG` says otherwise; colours only on a terminal and
/// without `NO_COLOR`. Keeps a subscriber already installed.
pub fn init_stderr_log() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !crate::config::no_color())
        .with_env_filter(filter)
        .try_init();
}
