//! `tally serve`: any `Backend` (normally a journal) behind the tally REST API described by `assets/openapi.json`,
//! on axum. Every endpoint but the OpenAPI document needs a bearer key; keys are held as SHA-256 digests and
//! compared in constant time; each key has its own request budget (429 + `Retry-After`). Request bodies are capped,
//! pages hold at most 200 transactions, and every bad parameter is answered 400 naming it. Writes run in their own
//! task under a shared lock: a client that disconnects cannot cancel a half-done write, and graceful shutdown
//! (Ctrl-C / SIGTERM) stops accepting, lets in-flight requests finish, then waits for every write before returning.
//! Connections are accepted by `listen` and not by `axum::serve`: a request head must arrive within
//! `--header-timeout`, an idle connection is closed after `--idle-timeout`, and past `--max-connections` a client is
//! answered 503 with `Retry-After`. Each request is one line of the access log (`access`), which names the key by
//! a digest prefix and never logs the key itself.
//! `serve` also polls `Backend::reload` every `RELOAD_INTERVAL`, so edits made to the file by other programs reach
//! remote clients. The server adds no per-request work proportional to the ledger: filtering, sorting and summing are the backend's.

mod access;
mod auth;
mod error;
mod handlers;
mod listen;
mod params;

pub use access::init_stderr_log;
pub use auth::{KeyId, KeyRing, RateLimiter};
pub use error::ApiError;
pub use listen::{Limits, default_max_connections};
pub use params::{DEFAULT_LIMIT, MAX_LIMIT};

use crate::backend::{Backend, BackendError};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::RwLock;

/// The OpenAPI 3 document of the tally REST API, served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../../assets/openapi.json");

/// Environment variable with extra accepted keys, comma-separated.
pub const KEYS_ENV: &str = "TALLY_SERVE_KEYS";

/// How often `serve` asks the backend whether its data changed underneath (a stat of the ledger files).
pub const RELOAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// Largest request body accepted (bulk-tag of 10,000 ids fits comfortably).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Default `--header-timeout`: seconds to send a complete request head.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Default `--idle-timeout`: seconds a connection may sit idle between requests.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;

#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct ServeArgs {
    /// Address to listen on. Keep the loopback default unless a TLS reverse proxy or a trusted LAN is in front.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Requests per minute allowed per API key (answered 429 with Retry-After beyond it); 0 = unlimited.
    #[arg(long)]
    pub requests_per_minute: Option<u32>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Seconds a client has to send a complete request head (request line and headers), counted from when it
    /// connects or starts sending a request; a silent or stalled connection is closed after it.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_HEADER_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout: u64,
    /// Seconds a connection may stay idle between requests (keep-alive), or a client may pause while sending a
    /// body or reading an answer, before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_IDLE_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout: u64,
    /// Most connections open at once; past it a new connection is answered 503 with Retry-After and closed.
    /// Defaults to 256, or to half the open-file limit (ulimit -n) if that is lower.
    #[arg(long, value_name = "N", default_value_t = default_max_connections(),
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections: usize,
    /// Do not log requests. By default each request is one line on stderr: method, path, status, milliseconds and
    /// the key's id (the start of its SHA-256 digest, never the key). TALLY_LOG=warn also silences it.
    #[arg(long)]
    pub no_access_log: bool,
}

impl Default for ServeArgs {
    /// What `tally serve` runs with when no flag is given.
    fn default() -> Self {
        ServeArgs {
            bind: "127.0.0.1:8080".into(),
            requests_per_minute: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_timeout: DEFAULT_HEADER_TIMEOUT_SECS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT_SECS,
            max_connections: default_max_connections(),
            no_access_log: false,
        }
    }
}

impl ServeArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout),
            max_connections: self.max_connections,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "no API keys: set {KEYS_ENV} (comma-separated) or [serve].api_keys in the config file; \
         tally serve never runs without authentication"
    )]
    NoKeys,
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct ServerState {
    pub(crate) backend: Arc<dyn Backend>,
    keys: Arc<KeyRing>,
    limiter: Option<Arc<RateLimiter>>,
    /// Writes hold a read guard; shutdown takes the write guard to wait for them all.
    writes: Arc<RwLock<()>>,
    /// Bumped whenever the ledger changes (a write through the API, or the file changed on disk); clients poll it
    /// through `/api/v1/changes` to know when to refresh.
    generation: Arc<std::sync::atomic::AtomicU64>,
    max_body_bytes: usize,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState")
            .field("backend", &self.backend.capabilities().label)
            .field("keys", &self.keys)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl ServerState {
    /// `keys` are the plain accepted keys (hashed here, the plain text is not kept);
    /// `requests_per_minute` 0 means unlimited.
    pub fn new<S: AsRef<str>>(
        backend: Arc<dyn Backend>,
        keys: &[S],
        requests_per_minute: u32,
    ) -> Self {
        let keys = KeyRing::new(keys);
        let limiter = (requests_per_minute > 0)
            .then(|| Arc::new(RateLimiter::new(requests_per_minute, keys.len())));
        ServerState {
            backend,
            keys: Arc::new(keys),
            limiter,
            writes: Arc::new(RwLock::new(())),
            generation: Arc::new(std::sync::atomic::AtomicU64::new(1)),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Runs a write to completion in its own task, even if the request that started it is dropped.
    pub(crate) async fn write<T, F>(&self, fut: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, BackendError>> + Send + 'static,
    {
        let guard = self.writes.clone().read_owned().await;
        let task = tokio::spawn(async move {
            let _guard = guard;
            fut.await
        });
        match task.await {
            Ok(r) => {
                if r.is_ok() {
                    self.bump();
                }
                r.map_err(ApiError::from)
            }
            Err(e) => Err(ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                format!("the write task failed: {e}"),
            )),
        }
    }

    fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Asks the backend whether its data changed underneath (another program edited the file), unless a write is
    /// running (its own changes must not be mistaken for someone else's); bumps the generation when it did.
    pub async fn reload_if_idle(&self) -> Result<bool, BackendError> {
        let Ok(_idle) = self.writes.try_write() else {
            return Ok(false);
        };
        let changed = self.backend.reload().await?;
        if changed {
            self.bump();
        }
        Ok(changed)
    }

    /// Resolves once no write is running (and blocks new ones while held).
    pub async fn writes_finished(&self) {
        let _all = self.writes.write().await;
    }
}

/// Bearer key check and per-key budget, in front of every endpoint but the OpenAPI document.
async fn authorize(State(s): State<ServerState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
        });
    let unauthorized = |msg: &str| {
        ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "unauthorized", msg).into_response()
    };
    let Some(key) = presented else {
        return unauthorized("Missing API key: send 'Authorization: Bearer <key>'");
    };
    let Some(index) = s.keys.find(key) else {
        return unauthorized("Invalid API key");
    };
    let mut response = match &s.limiter {
        Some(limiter) => match limiter.check(index) {
            Ok(()) => next.run(req).await,
            Err(wait) => {
                let mut e = ApiError::new(
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("Rate limit exceeded: retry after {wait} s"),
                );
                e.retry_after = Some(wait);
                e.into_response()
            }
        },
        None => next.run(req).await,
    };
    // For the access log, which runs outside this layer.
    if let Some(id) = s.keys.id(index) {
        response.extensions_mut().insert(id);
    }
    response
}

/// The whole API as a router, for `serve` and for tests that bind their own listener.
pub fn router(state: ServerState) -> Router {
    let api = Router::new()
        .route("/capabilities", get(handlers::capabilities))
        .route("/accounts", get(handlers::accounts))
        .route("/diagnostics", get(handlers::diagnostics))
        .route("/changes", get(handlers::changes))
        .route("/transactions", get(handlers::list_transactions))
        .route("/transactions/bulk-tag", post(handlers::bulk_tag))
        .route(
            "/transactions/{id}",
            get(handlers::get_transaction).patch(handlers::patch_transaction),
        )
        .route("/tags", get(handlers::list_tags).post(handlers::create_tag))
        .route(
            "/tags/{id}",
            patch(handlers::rename_tag).delete(handlers::delete_tag),
        )
        .route("/analytics/summary", get(handlers::summary))
        .route("/analytics/breakdown", get(handlers::breakdown))
        .route("/analytics/query", get(handlers::analytics_query))
        .route("/analytics/projections", get(handlers::projections))
        .route("/sources", get(handlers::sources))
        .route("/sources/{provider}/sync", post(handlers::sync_source))
        .route("/sources/{provider}/status", get(handlers::source_status))
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize));
    Router::new()
        .route("/api/v1/openapi.json", get(handlers::openapi))
        .nest("/api/v1", api)
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .with_state(state)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

/// Serves `backend` on `args.bind` until Ctrl-C or SIGTERM. `keys` are the plain accepted keys (config file
/// `[serve].api_keys` plus `TALLY_SERVE_KEYS`); with none, refuses to start.
pub async fn serve(
    args: ServeArgs,
    keys: Vec<String>,
    backend: Arc<dyn Backend>,
) -> Result<(), ServerError> {
    if keys.iter().all(|k| k.trim().is_empty()) {
        return Err(ServerError::NoKeys);
    }
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .map_err(|source| ServerError::Bind {
            addr: args.bind.clone(),
            source,
        })?;
    serve_on(listener, args, keys, backend).await
}

/// `serve` on a listener already bound (tests bind port 0 and serve on what they got).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    args: ServeArgs,
    keys: Vec<String>,
    backend: Arc<dyn Backend>,
) -> Result<(), ServerError> {
    let state = ServerState::new(backend, &keys, args.requests_per_minute.unwrap_or(0))
        .with_max_body_bytes(args.max_body_bytes);
    if state.keys.is_empty() {
        return Err(ServerError::NoKeys);
    }
    let addr = listener.local_addr()?;
    let limits = args.limits();
    tracing::info!(
        label = %crate::text::clean(&state.backend.capabilities().label),
        header_timeout_s = args.header_timeout,
        idle_timeout_s = args.idle_timeout,
        max_connections = args.max_connections,
        "tally serve listening on http://{addr}/api/v1 (OpenAPI at /api/v1/openapi.json); Ctrl-C to stop"
    );
    if let Some(files) = listen::open_file_limit()
        && args.max_connections as u64 + 64 > files
    {
        tracing::warn!(
            max_connections = args.max_connections,
            open_file_limit = files,
            "--max-connections is close to the open-file limit (ulimit -n): new clients may be refused by the system"
        );
    }
    // Edits made to the ledger by other programs (an editor, hledger-ui) reach remote clients within seconds.
    let watcher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RELOAD_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match state.reload_if_idle().await {
                    Ok(true) => tracing::info!("ledger changed on disk: reloaded"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "reloading the ledger failed"),
                }
            }
        })
    };
    let mut app = router(state.clone()).layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.idle_timeout,
    ));
    if !args.no_access_log {
        app = app.layer(middleware::from_fn(access::log_request));
    }
    listen::run(listener, app, limits, shutdown_signal()).await;
    watcher.abort();
    state.writes_finished().await;
    tracing::info!("tally serve stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn default_args_are_what_the_command_line_gives() {
        let parsed = Cmd::try_parse_from(["serve"]).expect("no flags");
        assert_eq!(parsed.serve, ServeArgs::default());
        let limits = parsed.serve.limits();
        assert_eq!(limits.header_timeout.as_secs(), DEFAULT_HEADER_TIMEOUT_SECS);
        assert_eq!(limits.idle_timeout.as_secs(), DEFAULT_IDLE_TIMEOUT_SECS);
        for bad in [
            ["serve", "--header-timeout", "0"],
            ["serve", "--idle-timeout", "0"],
            ["serve", "--max-connections", "0"],
        ] {
            assert!(Cmd::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
