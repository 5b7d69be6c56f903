//! A test server for the Sure finance API (we-promise/sure v0.7.x, prefix `/api/v1`), answering as
//! `/work/shared/api/sure.md` and Sure's public transactions page say, traps included: `X-Api-Key` auth where a bad
//! `Authorization` header wins, per-key fixed-window rate limits with `X-RateLimit-*` headers (or the self-hosted
//! "Infinity" strings), Rack::Attack's bare 429, transactions' `per_page` > 100 falling back to 25, Pagy's
//! past-the-end pages answering the last page, localized `amount` strings next to minor-unit cents, tags as a plain
//! array, `tag_ids` replacing the whole set, and the 500 for a missing `{"transaction":{…}}` wrapper. Data is
//! generated deterministically from a seed; every request is recorded, and faults can be queued per path prefix.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The read_write key every server accepts unless told otherwise.
pub const DEFAULT_KEY: &str = "sure-test-key-0123456789abcdef";
/// The last day of generated data.
pub const DATA_END: (i32, u32, u32) = (2026, 11, 15);
/// Generated data spans this many days, ending on [`DATA_END`].
pub const DATA_DAYS: i64 = 730;

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

/// How the server behaves. `..Default::default()` gives 300 transactions from seed 7, one read_write key, no limits.
#[derive(Debug, Clone)]
pub struct SureOptions {
    /// How many transactions to generate (deterministic for a given seed and count).
    pub transactions: usize,
    pub seed: u64,
    /// A key with scope `read_write`.
    pub api_key: String,
    /// A second key with scope `read` (writes → 403 insufficient_scope).
    pub read_only_key: Option<String>,
    /// Sure's ApiRateLimiter: N requests per fixed window per key, windows counted from server start. `None`: the
    /// headers still appear (limit 1,000,000 per hour) but nothing is refused.
    pub rate_limit: Option<(u32, Duration)>,
    /// Self-hosted: the X-RateLimit headers are "Infinity", "Infinity", "0" and nothing is limited.
    pub self_hosted: bool,
    /// After this many requests in total, answer Rack::Attack's 429 (`Retry-After: 60`) forever.
    pub rack_attack: Option<u32>,
    /// Added to every answer.
    pub latency: Duration,
}

impl Default for SureOptions {
    fn default() -> Self {
        SureOptions {
            transactions: 300,
            seed: 7,
            api_key: DEFAULT_KEY.to_string(),
            read_only_key: None,
            rate_limit: None,
            self_hosted: false,
            rack_attack: None,
            latency: Duration::ZERO,
        }
    }
}

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` ("" when none).
    pub query: String,
    /// Lowercase names, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; a non-JSON body is kept as a JSON string; `None` when empty.
    pub body: Option<Value>,
}

impl Recorded {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The decoded query parameters, in order (`account_ids[]` keeps its brackets).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_query(&self.query)
    }
}

/// A fault for the next request whose path starts with `path_prefix` (given with or without `/api/v1`). Faults are a
/// queue: each request takes the first queued fault that matches it.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// An nginx-style HTML error page with that status, instead of the answer (the request is not processed).
    HtmlError { path_prefix: String, status: u16 },
    /// Drop `field` (a dotted path such as `account.name` reaches inside) from every item object of the answer's list
    /// (`transactions`, `accounts`, `categories` or a plain array), or from the object itself for a one-object answer.
    MissingField { path_prefix: String, field: String },
    /// Every JSON number of the answer (cents, page counts, …) is sent as a JSON string.
    NumbersAsStrings { path_prefix: String },
    /// The request is processed, then the answer's Content-Length promises the whole body but only the first half is
    /// sent before the connection is closed.
    CutMidBody { path_prefix: String },
    /// This literal answer instead of the real one (the request is not processed).
    Status {
        path_prefix: String,
        status: u16,
        body: Value,
    },
}

impl Fault {
    fn prefix(&self) -> &str {
        match self {
            Fault::HtmlError { path_prefix, .. }
            | Fault::MissingField { path_prefix, .. }
            | Fault::NumbersAsStrings { path_prefix }
            | Fault::CutMidBody { path_prefix }
            | Fault::Status { path_prefix, .. } => path_prefix,
        }
    }

    fn matches(&self, path: &str) -> bool {
        let prefix = self.prefix();
        path.starts_with(prefix)
            || path
                .strip_prefix("/api/v1")
                .is_some_and(|rest| rest.starts_with(prefix))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SureAccount {
    pub id: String,
    pub name: String,
    /// depository, credit_card, investment, loan, …
    pub account_type: String,
    pub subtype: Option<String>,
    /// asset | liability
    pub classification: String,
    pub currency: String,
    /// active | draft | disabled | pending_deletion
    pub status: String,
    /// Minor units. For a liability, positive = owed.
    pub opening_balance_cents: i64,
    pub institution_name: Option<String>,
    pub institution_domain: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SureCategory {
    pub id: String,
    pub name: String,
    /// income | expense
    pub classification: String,
    pub color: String,
    pub icon: String,
    pub parent_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SureTag {
    pub id: String,
    pub name: String,
    pub color: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SureMerchant {
    pub id: String,
    pub name: String,
    /// Rendered as `type`: "FamilyMerchant" or "ProviderMerchant".
    pub kind: String,
}

/// A transaction as Sure stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct SureTxn {
    pub id: String,
    pub date: NaiveDate,
    /// STORED the Sure way, in minor units: expense (outflow) positive, income (inflow) negative.
    pub amount_cents: i64,
    pub currency: String,
    pub name: String,
    pub notes: Option<String>,
    pub account_id: String,
    pub category_id: Option<String>,
    pub merchant_id: Option<String>,
    pub tag_ids: Vec<String>,
    /// For one side of a transfer: the other account's id.
    pub transfer: Option<String>,
    /// For one side of a transfer: the transfer's id, shared by both sides.
    pub transfer_id: Option<String>,
    pub external_id: Option<String>,
    pub source: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SureTxn {
    /// "income" when the stored amount is negative, else "expense".
    pub fn classification(&self) -> &'static str {
        if self.amount_cents < 0 {
            "income"
        } else {
            "expense"
        }
    }
}

/// Everything the server serves; tests may read and change it through [`SureServer::with_data`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SureData {
    pub accounts: Vec<SureAccount>,
    pub categories: Vec<SureCategory>,
    pub tags: Vec<SureTag>,
    pub merchants: Vec<SureMerchant>,
    pub transactions: Vec<SureTxn>,
}

impl SureData {
    pub fn account(&self, id: &str) -> Option<&SureAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn account_by_name(&self, name: &str) -> Option<&SureAccount> {
        self.accounts.iter().find(|a| a.name == name)
    }

    pub fn category(&self, id: &str) -> Option<&SureCategory> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn category_by_name(&self, name: &str) -> Option<&SureCategory> {
        self.categories.iter().find(|c| c.name == name)
    }

    pub fn tag(&self, id: &str) -> Option<&SureTag> {
        self.tags.iter().find(|t| t.id == id)
    }

    pub fn tag_by_name(&self, name: &str) -> Option<&SureTag> {
        self.tags.iter().find(|t| t.name == name)
    }

    pub fn merchant(&self, id: &str) -> Option<&SureMerchant> {
        self.merchants.iter().find(|m| m.id == id)
    }

    pub fn merchant_by_name(&self, name: &str) -> Option<&SureMerchant> {
        self.merchants.iter().find(|m| m.name == name)
    }

    pub fn txn(&self, id: &str) -> Option<&SureTxn> {
        self.transactions.iter().find(|t| t.id == id)
    }

    pub fn txn_mut(&mut self, id: &str) -> Option<&mut SureTxn> {
        self.transactions.iter_mut().find(|t| t.id == id)
    }

    /// The balance Sure would show: opening + the transactions signed from the holder's side. For an asset, income
    /// (stored negative) adds and expense subtracts; for a liability (owed = positive) expenses increase it.
    pub fn balance_cents(&self, account_id: &str) -> i64 {
        self.balances().get(account_id).copied().unwrap_or(0)
    }

    /// Every account's balance in one pass.
    pub fn balances(&self) -> HashMap<String, i64> {
        let mut sums: HashMap<&str, i64> = HashMap::new();
        for t in &self.transactions {
            *sums.entry(t.account_id.as_str()).or_default() += t.amount_cents;
        }
        self.accounts
            .iter()
            .map(|a| {
                let stored = sums.get(a.id.as_str()).copied().unwrap_or(0);
                let bal = if a.classification == "liability" {
                    a.opening_balance_cents + stored
                } else {
                    a.opening_balance_cents - stored
                };
                (a.id.clone(), bal)
            })
            .collect()
    }

    /// Whether the list endpoint shows this transaction (its account is neither disabled nor being deleted).
    pub fn visible(&self, t: &SureTxn) -> bool {
        self.account(&t.account_id)
            .is_none_or(|a| a.status != "disabled" && a.status != "pending_deletion")
    }

    /// Deterministic data for `count` transactions from `seed` (see the module's generator section).
    pub fn generate(count: usize, seed: u64) -> SureData {
        generate(count, seed)
    }
}

/// Sure's ordering for the transaction list: date desc, created_at desc, id desc.
pub fn txn_order(a: &SureTxn, b: &SureTxn) -> std::cmp::Ordering {
    b.date
        .cmp(&a.date)
        .then(b.created_at.cmp(&a.created_at))
        .then(b.id.cmp(&a.id))
}

/// Decimal places of a currency's minor unit (USD 2, JPY 0, KWD 3).
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "HUF" => 0,
        "KWD" | "BHD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The server handle
// ---------------------------------------------------------------------------------------------------------------

/// A running Sure test server on 127.0.0.1.
pub struct SureServer {
    /// "http://127.0.0.1:PORT" (no `/api/v1`).
    pub url: String,
    /// The read_write key.
    pub key: String,
    /// The read-only key, when configured.
    pub read_only_key: Option<String>,
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SureServer {
    /// Binds 127.0.0.1 on an OS-chosen port and serves in the background.
    pub async fn start(opts: SureOptions) -> SureServer {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), opts).await
    }

    /// Binds `addr` (for the example binary's `--port`) and serves in the background.
    pub async fn start_on(addr: SocketAddr, opts: SureOptions) -> SureServer {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the Sure test server");
        let addr = listener.local_addr().expect("the bound address");
        let data = SureData::generate(opts.transactions, opts.seed);
        let key = opts.api_key.clone();
        let read_only_key = opts.read_only_key.clone();
        let inner = Arc::new(Inner::new(opts, data));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            let _ = served.await;
        });
        SureServer {
            url: format!("http://{addr}"),
            key,
            read_only_key,
            addr,
            inner,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `url` + "/api/v1".
    pub fn api_url(&self) -> String {
        format!("{}/api/v1", self.url)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.inner.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.inner.requests).clear();
    }

    /// Reads or changes the served data (the server is blocked meanwhile).
    pub fn with_data<T>(&self, f: impl FnOnce(&mut SureData) -> T) -> T {
        f(&mut lock(&self.inner.data))
    }

    /// Queues a fault for the next request that matches it.
    pub fn inject(&self, fault: Fault) {
        lock(&self.inner.faults).push_back(fault);
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.inner.faults).iter().cloned().collect()
    }

    /// The most requests being handled at once so far.
    /// How many requests the per-key rate limiter answered 429.
    pub fn rate_limited(&self) -> usize {
        self.inner.refused.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::SeqCst)
    }

    /// Graceful shutdown, waiting (at most 5 s) for the server task.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SureServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------------------------------
// Shared state and the request pipeline
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Read,
    ReadWrite,
}

#[derive(Debug, Default)]
struct KeyUse {
    window: u64,
    count: u32,
    last_used_at: Option<DateTime<Utc>>,
}

struct Inner {
    opts: SureOptions,
    data: Mutex<SureData>,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Requests answered 429 by the per-key limiter.
    refused: AtomicUsize,
    rack_count: AtomicU64,
    keys: Mutex<HashMap<String, KeyUse>>,
    started: Instant,
    started_at: DateTime<Utc>,
}

/// Counts a request in flight for as long as it lives.
struct InFlight<'a>(&'a Inner);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a handler answers, before faults and serialization.
struct Reply {
    status: StatusCode,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: Some(body),
            headers: Vec::new(),
        }
    }

    fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }
}

/// `{"error":code,"message":message}` — the API's usual error.
fn api_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(status, json!({"error": code, "message": message}))
}

/// `{"error":text}` — tags, merchants and Rack::Attack.
fn human_error(status: u16, text: &str) -> Reply {
    Reply::json(status, json!({"error": text}))
}

fn internal_error() -> Reply {
    api_error(500, "internal_server_error", "An unexpected error occurred")
}

fn validation_error(message: &str, errors: Vec<String>) -> Reply {
    Reply::json(
        422,
        json!({"error": "validation_failed", "message": message, "errors": errors}),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    De,
}

/// What the handlers need from the request.
struct Ctx {
    params: Params,
    body: Option<Value>,
    lang: Lang,
    scopes: Scope,
    key: String,
}

impl Inner {
    fn new(opts: SureOptions, data: SureData) -> Inner {
        Inner {
            opts,
            data: Mutex::new(data),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(VecDeque::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            rack_count: AtomicU64::new(0),
            keys: Mutex::new(HashMap::new()),
            started: Instant::now(),
            started_at: Utc::now(),
        }
    }

    fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    fn record(&self, parts: &Parts, body: Option<Value>) {
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        lock(&self.requests).push(Recorded {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
            headers,
            body,
        });
    }

    fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let at = faults.iter().position(|f| f.matches(path))?;
        faults.remove(at)
    }

    /// Rack::Attack (blocklist, then the throttle), routing, auth, the API rate limiter, scope, then the action.
    fn process(&self, parts: &Parts, body: Option<Value>) -> Reply {
        if blocked_agent(&parts.headers) {
            return human_error(403, "Request blocked.");
        }
        if let Some(limit) = self.opts.rack_attack {
            let n = self.rack_count.fetch_add(1, Ordering::SeqCst) + 1;
            if n > u64::from(limit) {
                let mut r = human_error(429, "Rate limit exceeded. Try again later.");
                r.headers.push(("retry-after", "60".to_string()));
                return r;
            }
        }
        let Some(route) = route(&parts.method, parts.uri.path()) else {
            return api_error(404, "not_found", "The requested endpoint was not found");
        };
        let (key, scopes) = match self.authenticate(&parts.headers) {
            Ok(k) => k,
            Err(r) => return r,
        };
        let limit_headers = match self.rate_limit(&key) {
            Ok(h) => h,
            Err(r) => return r,
        };
        let ctx = Ctx {
            params: Params(parse_query(parts.uri.query().unwrap_or(""))),
            body: if is_json(&parts.headers) { body } else { None },
            lang: language(&parts.headers),
            scopes,
            key,
        };
        let mut reply = if route.writes() && scopes != Scope::ReadWrite {
            api_error(
                403,
                "insufficient_scope",
                "This action requires the 'write' scope",
            )
        } else {
            self.dispatch(route, &ctx)
        };
        reply.headers.extend(limit_headers);
        reply
    }

    /// A present `Authorization` header is tried first (this server knows no OAuth tokens, so it always fails);
    /// then `X-Api-Key`.
    fn authenticate(&self, headers: &HeaderMap) -> Result<(String, Scope), Reply> {
        let authorization = header_str(headers, "authorization");
        if authorization.is_some_and(|v| !v.trim().is_empty()) {
            return Err(api_error(
                401,
                "unauthorized",
                "Access token is invalid, expired, or missing required scope",
            ));
        }
        let presented = header_str(headers, "x-api-key").unwrap_or("");
        if !presented.is_empty() && presented == self.opts.api_key {
            return Ok((presented.to_string(), Scope::ReadWrite));
        }
        if !presented.is_empty() && Some(presented) == self.opts.read_only_key.as_deref() {
            return Ok((presented.to_string(), Scope::Read));
        }
        Err(api_error(
            401,
            "unauthorized",
            "Access token or API key is invalid, expired, or missing",
        ))
    }

    /// (limit, window) in force for API keys.
    fn limit_window(&self) -> (u32, Duration) {
        self.opts
            .rate_limit
            .unwrap_or((1_000_000, Duration::from_secs(3600)))
    }

    /// (current window index, whole seconds until it ends).
    fn window_now(&self) -> (u64, u64) {
        let (_, window) = self.limit_window();
        let window = window.as_nanos().max(1);
        let elapsed = self.started.elapsed().as_nanos();
        let index = elapsed / window;
        let left = (index + 1) * window - elapsed;
        let secs = left.div_ceil(1_000_000_000);
        (
            u64::try_from(index).unwrap_or(u64::MAX),
            u64::try_from(secs).unwrap_or(u64::MAX),
        )
    }

    /// Sure's ApiRateLimiter: refuse when count >= limit (without counting), else count and send the headers.
    fn rate_limit(&self, key: &str) -> Result<Vec<(&'static str, String)>, Reply> {
        let mut keys = lock(&self.keys);
        let used = keys.entry(key.to_string()).or_default();
        used.last_used_at = Some(Utc::now());
        if self.opts.self_hosted {
            return Ok(vec![
                ("x-ratelimit-limit", "Infinity".to_string()),
                ("x-ratelimit-remaining", "Infinity".to_string()),
                ("x-ratelimit-reset", "0".to_string()),
            ]);
        }
        let (limit, _) = self.limit_window();
        let (window, reset) = self.window_now();
        if used.window != window {
            used.window = window;
            used.count = 0;
        }
        if used.count >= limit {
            self.refused.fetch_add(1, Ordering::SeqCst);
            let mut r = Reply::json(
                429,
                json!({
                    "error": "rate_limit_exceeded",
                    "message": "Rate limit exceeded. Try again later.",
                    "details": {"limit": limit, "current": used.count, "reset_in_seconds": reset},
                }),
            );
            r.headers = vec![
                ("x-ratelimit-limit", limit.to_string()),
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-reset", reset.to_string()),
                ("retry-after", reset.to_string()),
            ];
            return Err(r);
        }
        used.count += 1;
        Ok(vec![
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", (limit - used.count).to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ])
    }

    fn dispatch(&self, route: Route, c: &Ctx) -> Reply {
        if let Route::Usage = route {
            return self.usage(c);
        }
        let mut data = lock(&self.data);
        let d = &mut *data;
        match route {
            Route::Accounts => accounts_index(d, c),
            Route::Account(id) => account_show(d, &id, c),
            Route::Txns => txn_index(d, c),
            Route::TxnCreate => txn_create(d, c),
            Route::Txn(id) => txn_show(d, &id, c),
            Route::TxnUpdate(id) => txn_update(d, &id, c),
            Route::TxnDelete(id) => txn_delete(d, &id),
            Route::Tags => tags_index(d),
            Route::TagCreate => tag_create(d, c),
            Route::Tag(id) => tag_show(d, &id),
            Route::TagUpdate(id) => tag_update(d, &id, c),
            Route::TagDelete(id) => tag_delete(d, &id),
            Route::Categories => categories_index(d, c),
            Route::CategoryCreate => category_create(d, c),
            Route::Category(id) => category_show(d, &id),
            Route::Merchants => merchants_index(d),
            Route::Merchant(id) => merchant_show(d, &id),
            Route::Usage => internal_error(), // answered above, without the data lock
        }
    }

    /// GET /usage: the key and its rate-limit status (self-hosted: Ruby's Infinity becomes JSON null).
    fn usage(&self, c: &Ctx) -> Reply {
        let keys = lock(&self.keys);
        let last_used = keys.get(&c.key).and_then(|k| k.last_used_at);
        let scopes = match c.scopes {
            Scope::Read => "read",
            Scope::ReadWrite => "read_write",
        };
        let api_key = json!({
            "name": if c.scopes == Scope::Read { "Tally read-only key" } else { "Tally test key" },
            "scopes": [scopes],
            "last_used_at": last_used.map(rails_time),
            "created_at": rails_time(self.started_at),
        });
        let rate_limit = if self.opts.self_hosted {
            json!({"tier": "noop", "limit": null, "current_count": 0, "remaining": null,
                   "reset_in_seconds": 0, "reset_at": rails_time(Utc::now())})
        } else {
            let (limit, _) = self.limit_window();
            let (_, reset) = self.window_now();
            let count = keys.get(&c.key).map_or(0, |k| k.count);
            let reset_at =
                Utc::now() + chrono::Duration::seconds(i64::try_from(reset).unwrap_or(0));
            json!({"tier": "standard", "limit": limit, "current_count": count,
                   "remaining": limit.saturating_sub(count), "reset_in_seconds": reset,
                   "reset_at": rails_time(reset_at)})
        };
        Reply::ok(json!({"api_key": api_key, "rate_limit": rate_limit}))
    }
}

/// The one handler: records, counts, waits, applies faults and answers.
async fn handle(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let _in_flight = inner.enter();
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = parse_body(&bytes);
    inner.record(&parts, body.clone());
    if !inner.opts.latency.is_zero() {
        tokio::time::sleep(inner.opts.latency).await;
    }
    let fault = inner.take_fault(parts.uri.path());
    match &fault {
        Some(Fault::HtmlError { status, .. }) => return html_error(*status),
        Some(Fault::Status { status, body, .. }) => {
            return finish(Reply::json(*status, body.clone()), None);
        }
        _ => {}
    }
    let reply = inner.process(&parts, body);
    finish(reply, fault)
}

fn parse_body(bytes: &[u8]) -> Option<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

/// Serializes the reply, applying a body fault.
fn finish(mut reply: Reply, fault: Option<Fault>) -> Response {
    if let Some(body) = reply.body.as_mut() {
        match &fault {
            Some(Fault::MissingField { field, .. }) => drop_field(body, field),
            Some(Fault::NumbersAsStrings { .. }) => numbers_to_strings(body),
            _ => {}
        }
    }
    let bytes = reply
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default());
    let mut builder = Response::builder().status(reply.status);
    if bytes.is_some() {
        builder = builder.header(header::CONTENT_TYPE, "application/json; charset=utf-8");
    }
    for (name, value) in &reply.headers {
        builder = builder.header(*name, value.as_str());
    }
    let body = match (bytes, fault) {
        (Some(bytes), Some(Fault::CutMidBody { .. })) => {
            builder = builder.header(header::CONTENT_LENGTH, bytes.len());
            cut_body(bytes)
        }
        (Some(bytes), _) => Body::from(bytes),
        (None, _) => Body::empty(),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// The first half of `bytes`, a pause so it goes out, then an error that makes the server drop the connection.
fn cut_body(bytes: Vec<u8>) -> Body {
    let half = bytes[..bytes.len() / 2].to_vec();
    let first = futures::stream::once(async move { Ok::<Vec<u8>, std::io::Error>(half) });
    let abort = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "CutMidBody fault",
        ))
    });
    Body::from_stream(futures::StreamExt::chain(first, abort))
}

fn html_error(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error")
    );
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n\
         <hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n"
    );
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/html")
        .header(header::SERVER, "nginx/1.24.0")
        .body(Body::from(page))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn drop_field(body: &mut Value, field: &str) {
    let items: Option<&mut Vec<Value>> = match body {
        Value::Array(items) => Some(items),
        Value::Object(map) => ["transactions", "accounts", "categories"]
            .iter()
            .find(|k| map.get(**k).is_some_and(Value::is_array))
            .and_then(|k| map.get_mut(*k))
            .and_then(Value::as_array_mut),
        _ => None,
    };
    match items {
        Some(items) => items.iter_mut().for_each(|item| drop_path(item, field)),
        None => drop_path(body, field),
    }
}

fn drop_path(v: &mut Value, path: &str) {
    let Some(map) = v.as_object_mut() else {
        return;
    };
    match path.split_once('.') {
        Some((head, rest)) => {
            if let Some(inner) = map.get_mut(head) {
                drop_path(inner, rest);
            }
        }
        None => {
            map.remove(path);
        }
    }
}

fn numbers_to_strings(v: &mut Value) {
    match v {
        Value::Number(n) => *v = Value::String(n.to_string()),
        Value::Array(items) => items.iter_mut().for_each(numbers_to_strings),
        Value::Object(map) => map.values_mut().for_each(numbers_to_strings),
        _ => {}
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
}

/// Rack::Attack's blocklist.
fn blocked_agent(headers: &HeaderMap) -> bool {
    let agent = header_str(headers, "user-agent")
        .unwrap_or("")
        .to_ascii_lowercase();
    ["sqlmap", "nmap", "nikto", "masscan"]
        .iter()
        .any(|bad| agent.contains(bad))
}

/// Rails parses a JSON body into params only when the request says it is JSON.
fn is_json(headers: &HeaderMap) -> bool {
    header_str(headers, "content-type").is_some_and(|v| v.to_ascii_lowercase().contains("json"))
}

fn language(headers: &HeaderMap) -> Lang {
    let first = header_str(headers, "accept-language")
        .unwrap_or("")
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if first == "de" || first.starts_with("de-") || first.starts_with("de;") {
        Lang::De
    } else {
        Lang::En
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Routing and parameters
// ---------------------------------------------------------------------------------------------------------------

enum Route {
    Accounts,
    Account(String),
    Txns,
    TxnCreate,
    Txn(String),
    TxnUpdate(String),
    TxnDelete(String),
    Tags,
    TagCreate,
    Tag(String),
    TagUpdate(String),
    TagDelete(String),
    Categories,
    CategoryCreate,
    Category(String),
    Merchants,
    Merchant(String),
    Usage,
}

impl Route {
    fn writes(&self) -> bool {
        matches!(
            self,
            Route::TxnCreate
                | Route::TxnUpdate(_)
                | Route::TxnDelete(_)
                | Route::TagCreate
                | Route::TagUpdate(_)
                | Route::TagDelete(_)
                | Route::CategoryCreate
        )
    }
}

fn route(method: &Method, path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/api/v1/")?.trim_end_matches('/');
    let segs: Vec<&str> = rest.split('/').collect();
    let id = |s: &&str| (*s).to_string();
    let r = match (method.as_str(), segs.as_slice()) {
        ("GET", ["accounts"]) => Route::Accounts,
        ("GET", ["accounts", i]) => Route::Account(id(i)),
        ("GET", ["transactions"]) => Route::Txns,
        ("POST", ["transactions"]) => Route::TxnCreate,
        ("GET", ["transactions", i]) => Route::Txn(id(i)),
        ("PATCH" | "PUT", ["transactions", i]) => Route::TxnUpdate(id(i)),
        ("DELETE", ["transactions", i]) => Route::TxnDelete(id(i)),
        ("GET", ["tags"]) => Route::Tags,
        ("POST", ["tags"]) => Route::TagCreate,
        ("GET", ["tags", i]) => Route::Tag(id(i)),
        ("PATCH" | "PUT", ["tags", i]) => Route::TagUpdate(id(i)),
        ("DELETE", ["tags", i]) => Route::TagDelete(id(i)),
        ("GET", ["categories"]) => Route::Categories,
        ("POST", ["categories"]) => Route::CategoryCreate,
        ("GET", ["categories", i]) => Route::Category(id(i)),
        ("GET", ["merchants"]) => Route::Merchants,
        ("GET", ["merchants", i]) => Route::Merchant(id(i)),
        ("GET", ["usage"]) => Route::Usage,
        _ => return None,
    };
    Some(r)
}

/// Decoded query pairs, in order.
fn parse_query(query: &str) -> Vec<(String, String)> {
    let uri = format!("/?{query}");
    uri.parse::<axum::http::Uri>()
        .ok()
        .and_then(|u| Query::<Vec<(String, String)>>::try_from_uri(&u).ok())
        .map(|Query(pairs)| pairs)
        .unwrap_or_default()
}

/// Query parameters read the way Rails reads them.
struct Params(Vec<(String, String)>);

impl Params {
    /// The last value of `key`, when not blank (Rails' `present?`).
    fn present(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// `key[]` values (or a lone `key`), blanks dropped.
    fn list(&self, key: &str) -> Vec<String> {
        let arr = format!("{key}[]");
        let many: Vec<String> = self
            .0
            .iter()
            .filter(|(k, v)| *k == arr && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
            .collect();
        if many.is_empty() {
            self.present(key)
                .map(|v| vec![v.to_string()])
                .unwrap_or_default()
        } else {
            many
        }
    }

    /// `params[:page].to_i`, 1 when not positive.
    fn page(&self) -> usize {
        let p = ruby_to_i(self.present("page").unwrap_or(""));
        usize::try_from(p).ok().filter(|p| *p > 0).unwrap_or(1)
    }

    /// 1–100 as given; otherwise `over` when above 100, else 25.
    fn per_page(&self, over: usize) -> usize {
        match ruby_to_i(self.present("per_page").unwrap_or("")) {
            n @ 1..=100 => usize::try_from(n).unwrap_or(25),
            n if n > 100 => over,
            _ => 25,
        }
    }

    /// ActiveModel's boolean cast of a present value.
    fn flag(&self, key: &str) -> bool {
        self.present(key).is_some_and(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "0" | "f" | "false" | "off"
            )
        })
    }
}

/// Ruby's `String#to_i`: leading whitespace, an optional sign, then digits; anything else ends it (0 if none).
fn ruby_to_i(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n = digits[..end].parse::<i64>().unwrap_or(0);
    if neg { -n } else { n }
}

/// Ruby's `String#to_f` (the longest numeric prefix, 0.0 if none).
fn ruby_to_f(s: &str) -> f64 {
    let s = s.trim_start();
    let mut end = 0;
    let mut seen_dot = false;
    for (i, c) in s.char_indices() {
        let ok =
            c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')) || (c == '.' && !seen_dot);
        if !ok {
            break;
        }
        seen_dot |= c == '.';
        end = i + c.len_utf8();
    }
    s[..end].parse::<f64>().unwrap_or(0.0)
}

/// A Rails param from JSON as a string (numbers and booleans are turned into text; arrays and objects are not).
fn param_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn param_present(v: Option<&Value>) -> Option<String> {
    v.and_then(param_str).filter(|s| !s.trim().is_empty())
}

/// `params.require(name)`: the wrapper object, absent when missing, not an object, or empty.
fn wrapper<'a>(body: &'a Option<Value>, name: &str) -> Option<&'a Map<String, Value>> {
    body.as_ref()?
        .get(name)?
        .as_object()
        .filter(|m| !m.is_empty())
}

/// (page actually served, total pages, the items of that page) — Pagy with overflow = last page.
fn paginate<T>(items: &[T], page: usize, per_page: usize) -> (usize, usize, &[T]) {
    let pages = items.len().div_ceil(per_page).max(1);
    let page = page.min(pages);
    let start = ((page - 1) * per_page).min(items.len());
    let end = (start + per_page).min(items.len());
    (page, pages, &items[start..end])
}

fn pagination(page: usize, per_page: usize, total: usize, pages: usize) -> Value {
    json!({"page": page, "per_page": per_page, "total_count": total, "total_pages": pages})
}

/// A date param as Rails' `Date.parse` would take it: `YYYY-MM-DD`, optionally followed by a time.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let head = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------------

/// `created_at.iso8601` as the jbuilder views write it: seconds, `Z`.
fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Time rendered by `render json:` (tags, usage): milliseconds, `Z`.
fn rails_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Money#format: "$1,234.56", "-$4,800.00", "¥1,200", "KWD 1.250"; German: "1.234,56 $", "1.200 ¥", "1,250 KWD".
pub fn format_money(cents: i64, currency: &str, german: bool) -> String {
    let digits = minor_digits(currency);
    let factor = 10u64.pow(digits);
    let abs = cents.unsigned_abs();
    let (whole, frac) = (abs / factor, abs % factor);
    let (delimiter, separator) = if german { ('.', ',') } else { (',', '.') };
    let raw = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in raw.chars().enumerate() {
        if i > 0 && (raw.len() - i) % 3 == 0 {
            grouped.push(delimiter);
        }
        grouped.push(ch);
    }
    let number = if digits == 0 {
        grouped
    } else {
        format!(
            "{grouped}{separator}{frac:0width$}",
            width = digits as usize
        )
    };
    let sign = if cents < 0 { "-" } else { "" };
    let symbol = match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        other => other,
    };
    if german {
        format!("{sign}{number} {symbol}")
    } else if symbol.chars().count() == 1 {
        format!("{sign}{symbol}{number}")
    } else {
        format!("{sign}{symbol} {number}")
    }
}

fn money(cents: i64, currency: &str, lang: Lang) -> String {
    format_money(cents, currency, lang == Lang::De)
}

fn account_ref(d: &SureData, account_id: &str) -> Value {
    match d.account(account_id) {
        Some(a) => json!({"id": a.id, "name": a.name, "account_type": a.account_type}),
        None => json!({"id": account_id, "name": null, "account_type": null}),
    }
}

fn account_json(a: &SureAccount, balance: i64, lang: Lang) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "balance": money(balance, &a.currency, lang),
        "balance_cents": balance,
        "cash_balance": money(balance, &a.currency, lang),
        "cash_balance_cents": balance,
        "currency": a.currency,
        "classification": a.classification,
        "account_type": a.account_type,
        "subtype": a.subtype,
        "status": a.status,
        "institution_name": a.institution_name,
        "institution_domain": a.institution_domain,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
    })
}

fn txn_json(d: &SureData, t: &SureTxn, lang: Lang) -> Value {
    let category = t
        .category_id
        .as_deref()
        .and_then(|id| d.category(id))
        .map(|c| json!({"id": c.id, "name": c.name, "color": c.color, "icon": c.icon}));
    let merchant = t
        .merchant_id
        .as_deref()
        .and_then(|id| d.merchant(id))
        .map(|m| json!({"id": m.id, "name": m.name}));
    let tags: Vec<Value> = t
        .tag_ids
        .iter()
        .filter_map(|id| d.tag(id))
        .map(|g| json!({"id": g.id, "name": g.name, "color": g.color}))
        .collect();
    json!({
        "id": t.id,
        "date": t.date.format("%Y-%m-%d").to_string(),
        "amount": money(t.amount_cents, &t.currency, lang),
        "amount_cents": t.amount_cents.abs(),
        "signed_amount_cents": -t.amount_cents,
        "currency": t.currency,
        "name": t.name,
        "notes": t.notes,
        "classification": t.classification(),
        "account": account_ref(d, &t.account_id),
        "category": category,
        "merchant": merchant,
        "tags": tags,
        "transfer": transfer_json(d, t, lang),
        "external_id": t.external_id,
        "source": t.source,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
    })
}

/// `{id, amount (the inflow side's absolute amount, formatted), currency, other_account}` or null.
fn transfer_json(d: &SureData, t: &SureTxn, lang: Lang) -> Value {
    let Some(other_account) = t.transfer.as_deref() else {
        return Value::Null;
    };
    let other = t.transfer_id.as_deref().and_then(|tid| {
        d.transactions
            .iter()
            .find(|o| o.id != t.id && o.transfer_id.as_deref() == Some(tid))
    });
    let inflow = match other {
        Some(o) if t.amount_cents >= 0 => o,
        _ => t,
    };
    let other_account_id = other.map_or(other_account, |o| o.account_id.as_str());
    json!({
        "id": t.transfer_id.clone().unwrap_or_else(|| t.id.clone()),
        "amount": money(inflow.amount_cents.abs(), &inflow.currency, lang),
        "currency": inflow.currency,
        "other_account": account_ref(d, other_account_id),
    })
}

fn tag_json(t: &SureTag) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "color": t.color,
        "created_at": rails_time(t.created_at),
        "updated_at": rails_time(t.updated_at),
    })
}

fn category_json(d: &SureData, c: &SureCategory) -> Value {
    let parent = c
        .parent_id
        .as_deref()
        .map(|pid| json!({"id": pid, "name": d.category(pid).map(|p| p.name.clone())}));
    let subs = d
        .categories
        .iter()
        .filter(|s| s.parent_id.as_deref() == Some(c.id.as_str()))
        .count();
    json!({
        "id": c.id,
        "name": c.name,
        "classification": c.classification,
        "color": c.color,
        "icon": c.icon,
        "parent": parent,
        "subcategories_count": subs,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    })
}

/// PostgreSQL's en_US ordering, near enough: case-insensitive, then as written.
fn by_name(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b))
}

// ---------------------------------------------------------------------------------------------------------------
// Accounts, categories, merchants
// ---------------------------------------------------------------------------------------------------------------

fn accounts_index(d: &SureData, c: &Ctx) -> Reply {
    let include_disabled = c.params.flag("include_disabled");
    let mut list: Vec<&SureAccount> = d
        .accounts
        .iter()
        .filter(|a| a.status != "pending_deletion")
        .filter(|a| include_disabled || a.status != "disabled")
        .collect();
    list.sort_by(|a, b| by_name(&a.name, &b.name));
    let per_page = c.params.per_page(100);
    let (page, pages, items) = paginate(&list, c.params.page(), per_page);
    let balances = d.balances();
    let accounts: Vec<Value> = items
        .iter()
        .map(|a| account_json(a, balances.get(&a.id).copied().unwrap_or(0), c.lang))
        .collect();
    Reply::ok(json!({
        "accounts": accounts,
        "pagination": pagination(page, per_page, list.len(), pages),
    }))
}

fn account_show(d: &SureData, id: &str, c: &Ctx) -> Reply {
    match d.account(id) {
        Some(a) => Reply::ok(account_json(a, d.balance_cents(id), c.lang)),
        None => api_error(
            404,
            "record_not_found",
            "The requested resource was not found",
        ),
    }
}

fn categories_index(d: &SureData, c: &Ctx) -> Reply {
    let roots_only = c.params.flag("roots_only");
    let parent = c.params.present("parent_id");
    let classification = c.params.present("classification");
    let mut list: Vec<&SureCategory> = d
        .categories
        .iter()
        .filter(|k| !roots_only || k.parent_id.is_none())
        .filter(|k| parent.is_none_or(|p| k.parent_id.as_deref() == Some(p)))
        .filter(|k| classification.is_none_or(|x| k.classification == x))
        .collect();
    list.sort_by(|a, b| by_name(&a.name, &b.name));
    let per_page = c.params.per_page(100);
    let (page, pages, items) = paginate(&list, c.params.page(), per_page);
    let categories: Vec<Value> = items.iter().map(|k| category_json(d, k)).collect();
    Reply::ok(json!({
        "categories": categories,
        "pagination": pagination(page, per_page, list.len(), pages),
    }))
}

fn category_show(d: &SureData, id: &str) -> Reply {
    match d.category(id) {
        Some(k) => Reply::ok(category_json(d, k)),
        None => api_error(404, "not_found", "Category not found"),
    }
}

/// POST /categories `{"category":{name, classification, color, icon, parent_id}}`.
fn category_create(d: &mut SureData, c: &Ctx) -> Reply {
    let Some(w) = wrapper(&c.body, "category") else {
        return api_error(
            500,
            "internal_server_error",
            "Error: param is missing or the value is empty: category",
        );
    };
    let parent_id = param_present(w.get("parent_id"));
    if let Some(pid) = &parent_id {
        match d.category(pid) {
            None => return api_error(422, "validation_failed", "Parent category not found"),
            Some(p) if p.parent_id.is_some() => {
                return api_error(422, "validation_failed", "Parent must be a root category");
            }
            Some(_) => {}
        }
    }
    let name = param_present(w.get("name")).unwrap_or_default();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push("Name can't be blank".to_string());
    } else if d
        .categories
        .iter()
        .any(|k| k.name.eq_ignore_ascii_case(&name))
    {
        errors.push("Name has already been taken".to_string());
    }
    if !errors.is_empty() {
        return validation_error("Category could not be created", errors);
    }
    let now = Utc::now();
    let category = SureCategory {
        id: now_uuid(d.categories.len() as u64),
        name,
        classification: param_present(w.get("classification"))
            .unwrap_or_else(|| "expense".to_string()),
        color: param_present(w.get("color")).unwrap_or_else(|| "#6172F3".to_string()),
        icon: param_present(w.get("icon")).unwrap_or_else(|| "shapes".to_string()),
        parent_id,
        created_at: now,
        updated_at: now,
    };
    let body = category_json(d, &category);
    d.categories.push(category);
    Reply::json(201, body)
}

fn merchants_index(d: &SureData) -> Reply {
    let mut list: Vec<&SureMerchant> = d.merchants.iter().collect();
    list.sort_by(|a, b| by_name(&a.name, &b.name));
    Reply::ok(Value::Array(
        list.iter()
            .map(|m| json!({"id": m.id, "name": m.name, "type": m.kind}))
            .collect(),
    ))
}

fn merchant_show(d: &SureData, id: &str) -> Reply {
    match d.merchant(id) {
        Some(m) => Reply::ok(json!({"id": m.id, "name": m.name, "type": m.kind})),
        None => human_error(404, "Merchant not found"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------------------------

const TAG_COLORS: [&str; 8] = [
    "#e99537", "#4da568", "#6471eb", "#db5a54", "#df4e92", "#c44fe9", "#eb5429", "#61c9ea",
];

fn tags_index(d: &SureData) -> Reply {
    let mut list: Vec<&SureTag> = d.tags.iter().collect();
    list.sort_by(|a, b| by_name(&a.name, &b.name));
    Reply::ok(Value::Array(list.into_iter().map(tag_json).collect()))
}

fn tag_show(d: &SureData, id: &str) -> Reply {
    match d.tag(id) {
        Some(t) => Reply::ok(tag_json(t)),
        None => human_error(404, "Tag not found"),
    }
}

/// The validation text for a tag name, if it is not acceptable (`except`: the tag being renamed).
fn tag_name_error(d: &SureData, name: &str, except: Option<&str>) -> Option<&'static str> {
    if name.trim().is_empty() {
        return Some("Name can't be blank");
    }
    let taken = d
        .tags
        .iter()
        .any(|t| Some(t.id.as_str()) != except && t.name.to_lowercase() == name.to_lowercase());
    taken.then_some("Name has already been taken")
}

fn tag_create(d: &mut SureData, c: &Ctx) -> Reply {
    let Some(w) = wrapper(&c.body, "tag") else {
        return human_error(500, "Failed to create tag");
    };
    let name = w.get("name").and_then(param_str).unwrap_or_default();
    if let Some(e) = tag_name_error(d, &name, None) {
        return human_error(422, e);
    }
    let color = param_present(w.get("color"))
        .unwrap_or_else(|| TAG_COLORS[d.tags.len() % TAG_COLORS.len()].to_string());
    let now = Utc::now();
    let tag = SureTag {
        id: now_uuid(d.tags.len() as u64),
        name,
        color,
        created_at: now,
        updated_at: now,
    };
    let body = tag_json(&tag);
    d.tags.push(tag);
    Reply::json(201, body)
}

fn tag_update(d: &mut SureData, id: &str, c: &Ctx) -> Reply {
    let Some(at) = d.tags.iter().position(|t| t.id == id) else {
        return human_error(404, "Tag not found");
    };
    let Some(w) = wrapper(&c.body, "tag") else {
        return human_error(500, "Failed to update tag");
    };
    let name = w.get("name").and_then(param_str);
    if let Some(e) = name.as_deref().and_then(|n| tag_name_error(d, n, Some(id))) {
        return human_error(422, e);
    }
    let color = w.get("color").and_then(param_str);
    let tag = &mut d.tags[at];
    let changed = name.as_ref().is_some_and(|n| *n != tag.name)
        || color.as_ref().is_some_and(|k| *k != tag.color);
    if let Some(n) = name {
        tag.name = n;
    }
    if let Some(k) = color {
        tag.color = k;
    }
    if changed {
        tag.updated_at = bumped(tag.updated_at);
    }
    Reply::ok(tag_json(tag))
}

fn tag_delete(d: &mut SureData, id: &str) -> Reply {
    let Some(at) = d.tags.iter().position(|t| t.id == id) else {
        return human_error(404, "Tag not found");
    };
    d.tags.remove(at);
    for t in &mut d.transactions {
        t.tag_ids.retain(|g| g != id);
    }
    Reply {
        status: StatusCode::NO_CONTENT,
        body: None,
        headers: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------------------------

/// The list filters; each present one must hold (Rails chains `where`s).
struct TxnFilter {
    account_sets: Vec<Vec<String>>,
    category_sets: Vec<Vec<String>>,
    merchant_sets: Vec<Vec<String>>,
    tag_ids: Vec<String>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    min: Option<f64>,
    max: Option<f64>,
    income: Option<bool>,
    search: Option<String>,
}

impl TxnFilter {
    /// `Err` for an unparseable date (Sure answers 500).
    fn parse(p: &Params) -> Result<TxnFilter, ()> {
        let sets = |one: &str, many: &str| -> Vec<Vec<String>> {
            let mut out = Vec::new();
            if let Some(v) = p.present(one) {
                out.push(vec![v.to_string()]);
            }
            let list = p.list(many);
            if !list.is_empty() {
                out.push(list);
            }
            out
        };
        let date = |key: &str| -> Result<Option<NaiveDate>, ()> {
            p.present(key).map(|v| parse_date(v).ok_or(())).transpose()
        };
        Ok(TxnFilter {
            account_sets: sets("account_id", "account_ids"),
            category_sets: sets("category_id", "category_ids"),
            merchant_sets: sets("merchant_id", "merchant_ids"),
            tag_ids: p.list("tag_ids"),
            start: date("start_date")?,
            end: date("end_date")?,
            min: p.present("min_amount").map(ruby_to_f),
            max: p.present("max_amount").map(ruby_to_f),
            income: match p.present("type").map(str::to_ascii_lowercase).as_deref() {
                Some("income") => Some(true),
                Some("expense") => Some(false),
                _ => None,
            },
            search: p.present("search").map(str::to_lowercase),
        })
    }

    fn matches(&self, d: &SureData, t: &SureTxn) -> bool {
        let within = |sets: &Vec<Vec<String>>, v: Option<&str>| {
            sets.iter()
                .all(|s| v.is_some_and(|v| s.iter().any(|x| x == v)))
        };
        let stored = t.amount_cents as f64 / 10f64.powi(minor_digits(&t.currency) as i32);
        within(&self.account_sets, Some(t.account_id.as_str()))
            && within(&self.category_sets, t.category_id.as_deref())
            && within(&self.merchant_sets, t.merchant_id.as_deref())
            && (self.tag_ids.is_empty() || t.tag_ids.iter().any(|g| self.tag_ids.contains(g)))
            && self.start.is_none_or(|s| t.date >= s)
            && self.end.is_none_or(|e| t.date <= e)
            && self.min.is_none_or(|m| stored >= m)
            && self.max.is_none_or(|m| stored <= m)
            && self.income.is_none_or(|inc| {
                if inc {
                    t.amount_cents < 0
                } else {
                    t.amount_cents > 0
                }
            })
            && self.search.as_deref().is_none_or(|s| search_hit(d, t, s))
    }
}

fn search_hit(d: &SureData, t: &SureTxn, needle: &str) -> bool {
    t.name.to_lowercase().contains(needle)
        || t.notes
            .as_deref()
            .is_some_and(|n| n.to_lowercase().contains(needle))
        || t.merchant_id
            .as_deref()
            .and_then(|id| d.merchant(id))
            .is_some_and(|m| m.name.to_lowercase().contains(needle))
}

fn txn_index(d: &SureData, c: &Ctx) -> Reply {
    let Ok(filter) = TxnFilter::parse(&c.params) else {
        return internal_error();
    };
    let mut hits: Vec<&SureTxn> = d
        .transactions
        .iter()
        .filter(|t| d.visible(t) && filter.matches(d, t))
        .collect();
    hits.sort_by(|a, b| txn_order(a, b));
    // Transactions: per_page above 100 falls back to the default 25.
    let per_page = c.params.per_page(25);
    let (page, pages, items) = paginate(&hits, c.params.page(), per_page);
    let list: Vec<Value> = items.iter().map(|t| txn_json(d, t, c.lang)).collect();
    Reply::ok(json!({
        "transactions": list,
        "pagination": pagination(page, per_page, hits.len(), pages),
    }))
}

fn txn_not_found() -> Reply {
    api_error(404, "not_found", "Record not found")
}

fn txn_show(d: &SureData, id: &str, c: &Ctx) -> Reply {
    match d.txn(id) {
        Some(t) => Reply::ok(txn_json(d, t, c.lang)),
        None => txn_not_found(),
    }
}

/// The fields a create or update body may set, validated against the data.
#[derive(Default)]
struct TxnChanges {
    date: Option<NaiveDate>,
    name: Option<String>,
    notes: Option<Option<String>>,
    amount_cents: Option<i64>,
    category_id: Option<String>,
    merchant_id: Option<String>,
    tag_ids: Option<Vec<String>>,
}

/// Reads `{"transaction":{…}}` the way the controller does. `Err(None)`: a 500 (unparseable date); `Err(Some(e))`:
/// validation messages (422).
fn read_changes(
    d: &SureData,
    w: &Map<String, Value>,
    currency: &str,
) -> Result<TxnChanges, Option<Vec<String>>> {
    let mut errors = Vec::new();
    let mut ch = TxnChanges::default();
    match w.get("date") {
        None | Some(Value::Null) => {}
        Some(v) => match param_str(v).filter(|s| !s.trim().is_empty()) {
            None => errors.push("Date can't be blank".to_string()),
            Some(s) => ch.date = Some(parse_date(&s).ok_or(None)?),
        },
    }
    let name = w
        .get("name")
        .filter(|v| !v.is_null())
        .or_else(|| w.get("description").filter(|v| !v.is_null()));
    if let Some(v) = name {
        match param_str(v).filter(|s| !s.trim().is_empty()) {
            Some(s) => ch.name = Some(s),
            None => errors.push("Name can't be blank".to_string()),
        }
    }
    if let Some(v) = w.get("notes").filter(|v| !v.is_null()) {
        ch.notes = Some(param_str(v).filter(|s| !s.is_empty()));
    }
    if let Some(amount) = param_present(w.get("amount")) {
        let major = ruby_to_f(&amount);
        let signed = match param_str(w.get("nature").unwrap_or(&Value::Null))
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            Some("income" | "inflow") => -major.abs(),
            Some("expense" | "outflow") => major.abs(),
            _ => major,
        };
        let cents = (signed * 10f64.powi(minor_digits(currency) as i32)).round();
        ch.amount_cents = Some(cents as i64);
    }
    ch.category_id = param_present(w.get("category_id"));
    if let Some(id) = &ch.category_id
        && d.category(id).is_none()
    {
        errors.push(format!("Category {id} not found"));
    }
    ch.merchant_id = param_present(w.get("merchant_id"));
    if let Some(id) = &ch.merchant_id
        && d.merchant(id).is_none()
    {
        errors.push(format!("Merchant {id} not found"));
    }
    if w.contains_key("tag_ids") {
        let ids = read_tag_ids(w.get("tag_ids"));
        errors.extend(
            ids.iter()
                .filter(|id| d.tag(id).is_none())
                .map(|id| format!("Tag {id} not found")),
        );
        ch.tag_ids = Some(ids);
    }
    if errors.is_empty() {
        Ok(ch)
    } else {
        Err(Some(errors))
    }
}

/// `permit(tag_ids: [])`: an array of scalars (blanks dropped, duplicates removed); anything else means `[]`.
fn read_tag_ids(v: Option<&Value>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    if let Some(Value::Array(items)) = v {
        for id in items.iter().filter_map(param_str) {
            if !id.trim().is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// Applies the changes; whether anything changed.
fn apply_changes(t: &mut SureTxn, ch: TxnChanges) -> bool {
    let before = t.clone();
    if let Some(v) = ch.date {
        t.date = v;
    }
    if let Some(v) = ch.name {
        t.name = v;
    }
    if let Some(v) = ch.notes {
        t.notes = v;
    }
    if let Some(v) = ch.amount_cents {
        t.amount_cents = v;
    }
    if let Some(v) = ch.category_id {
        t.category_id = Some(v);
    }
    if let Some(v) = ch.merchant_id {
        t.merchant_id = Some(v);
    }
    if let Some(v) = ch.tag_ids {
        t.tag_ids = v;
    }
    *t != before
}

fn txn_update(d: &mut SureData, id: &str, c: &Ctx) -> Reply {
    let Some(at) = d.transactions.iter().position(|t| t.id == id) else {
        return txn_not_found();
    };
    let Some(w) = wrapper(&c.body, "transaction") else {
        return internal_error();
    };
    let currency = d.transactions[at].currency.clone();
    let ch = match read_changes(d, w, &currency) {
        Ok(ch) => ch,
        Err(None) => return internal_error(),
        Err(Some(errors)) => return validation_error("Transaction could not be updated", errors),
    };
    let t = &mut d.transactions[at];
    if apply_changes(t, ch) {
        t.updated_at = bumped(t.updated_at);
    }
    Reply::ok(txn_json(d, &d.transactions[at], c.lang))
}

/// POST /transactions: 201 with the transaction; an existing `external_id` (+ source) on that account answers 200
/// with the existing one.
fn txn_create(d: &mut SureData, c: &Ctx) -> Reply {
    let Some(w) = wrapper(&c.body, "transaction") else {
        return internal_error();
    };
    let Some(account_id) = param_present(w.get("account_id")) else {
        let msg = "Account ID is required";
        return validation_error(msg, vec![msg.to_string()]);
    };
    if d.account(&account_id).is_none() {
        return internal_error();
    }
    let external_id = param_present(w.get("external_id"));
    let source = external_id
        .as_ref()
        .map(|_| param_present(w.get("source")).unwrap_or_else(|| "api".to_string()));
    if let Some(ext) = &external_id {
        let existing = d.transactions.iter().find(|t| {
            t.account_id == account_id && t.external_id.as_ref() == Some(ext) && t.source == source
        });
        if let Some(t) = existing {
            return Reply::ok(txn_json(d, t, c.lang));
        }
    }
    let currency = param_present(w.get("currency")).unwrap_or_else(|| "USD".to_string());
    let mut ch = match read_changes(d, w, &currency) {
        Ok(ch) => ch,
        Err(None) => return internal_error(),
        Err(Some(errors)) => return validation_error("Transaction could not be created", errors),
    };
    let mut errors = Vec::new();
    if ch.date.is_none() {
        errors.push("Date can't be blank".to_string());
    }
    if ch.name.is_none() {
        errors.push("Name can't be blank".to_string());
    }
    if !errors.is_empty() {
        return validation_error("Transaction could not be created", errors);
    }
    let now = Utc::now();
    let t = SureTxn {
        id: now_uuid(d.transactions.len() as u64),
        date: ch.date.unwrap_or(now.date_naive()),
        amount_cents: ch.amount_cents.unwrap_or(0),
        currency,
        name: ch.name.take().unwrap_or_default(),
        notes: ch.notes.take().flatten(),
        account_id,
        category_id: ch.category_id.take(),
        merchant_id: ch.merchant_id.take(),
        tag_ids: ch.tag_ids.take().unwrap_or_default(),
        transfer: None,
        transfer_id: None,
        external_id,
        source,
        created_at: now,
        updated_at: now,
    };
    let body = txn_json(d, &t, c.lang);
    d.transactions.push(t);
    Reply::json(201, body)
}

/// DELETE: removes it; the other side of a transfer stays, no longer a transfer.
fn txn_delete(d: &mut SureData, id: &str) -> Reply {
    let Some(at) = d.transactions.iter().position(|t| t.id == id) else {
        return txn_not_found();
    };
    let gone = d.transactions.remove(at);
    if let Some(tid) = gone.transfer_id {
        for t in d
            .transactions
            .iter_mut()
            .filter(|t| t.transfer_id.as_deref() == Some(tid.as_str()))
        {
            t.transfer = None;
            t.transfer_id = None;
        }
    }
    Reply::ok(json!({"message": "Transaction deleted successfully"}))
}

/// A new updated_at: now, but always at least a second later than before, so the change shows in ISO 8601 seconds.
fn bumped(before: DateTime<Utc>) -> DateTime<Utc> {
    Utc::now().max(before + chrono::Duration::seconds(1))
}

/// A fresh UUID-shaped id for records created through the API.
fn now_uuid(salt: u64) -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(nanos ^ salt.rotate_left(32));
    uuid(&mut rng)
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic data
// ---------------------------------------------------------------------------------------------------------------

/// A UUID v4-shaped id from the rng.
fn uuid(rng: &mut ChaCha8Rng) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

fn stamp(date: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    date.and_hms_opt(h, m, s).expect("a valid time").and_utc()
}

fn data_end() -> NaiveDate {
    ymd(DATA_END.0, DATA_END.1, DATA_END.2)
}

fn data_start() -> NaiveDate {
    data_end() - chrono::Duration::days(DATA_DAYS - 1)
}

/// (name, account_type, subtype, classification, currency, status, balance cents once generated (a liability's
/// positive = owed; the opening balance is derived from it and the transactions), (institution, domain))
type AccountSpec = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<(&'static str, &'static str)>,
);

const ACCOUNTS: [AccountSpec; 6] = [
    (
        "Chase Checking",
        "depository",
        Some("checking"),
        "asset",
        "USD",
        "active",
        325_017,
        Some(("Chase", "chase.com")),
    ),
    (
        "Ally Savings",
        "depository",
        Some("savings"),
        "asset",
        "USD",
        "active",
        1_240_000,
        Some(("Ally Bank", "ally.com")),
    ),
    (
        "Amex Gold",
        "credit_card",
        None,
        "liability",
        "USD",
        "active",
        184_255,
        Some(("American Express", "americanexpress.com")),
    ),
    (
        "Tokyo Wallet",
        "depository",
        Some("checking"),
        "asset",
        "JPY",
        "active",
        84_500,
        Some(("MUFG Bank", "mufg.jp")),
    ),
    (
        "Kuwait Account",
        "depository",
        Some("savings"),
        "asset",
        "KWD",
        "active",
        412_750,
        Some(("National Bank of Kuwait", "nbk.com")),
    ),
    (
        "Old Brokerage",
        "investment",
        Some("brokerage"),
        "asset",
        "USD",
        "disabled",
        1_234_500,
        None,
    ),
];

/// (name, classification, color, icon, parent)
const CATEGORIES: [(&str, &str, &str, &str, Option<&str>); 9] = [
    ("Groceries", "expense", "#407706", "shopping-basket", None),
    ("Food & Drink", "expense", "#f97316", "utensils", None),
    (
        "Coffee Shops",
        "expense",
        "#c2410c",
        "coffee",
        Some("Food & Drink"),
    ),
    ("Rent", "expense", "#6471eb", "home", None),
    ("Transport", "expense", "#df4e92", "bus", None),
    ("Utilities", "expense", "#db5a54", "lightbulb", None),
    ("Shopping", "expense", "#e99537", "shopping-cart", None),
    ("Salary", "income", "#22c55e", "circle-dollar-sign", None),
    ("Interest", "income", "#0ea5e9", "piggy-bank", None),
];

const TAGS: [(&str, &str); 4] = [
    ("Work expense", "#3b82f6"),
    ("Vacation", "#10b981"),
    ("review", "#f59e0b"),
    ("reimbursable", "#8b5cf6"),
];

/// (merchant, category, min minor units, max minor units)
type Spend = (&'static str, &'static str, i64, i64);

const SPEND_USD: [Spend; 11] = [
    ("Starbucks", "Coffee Shops", 350, 950),
    ("Blue Bottle Coffee", "Coffee Shops", 450, 900),
    ("Whole Foods", "Groceries", 2_000, 18_000),
    ("Trader Joe's", "Groceries", 1_500, 9_000),
    ("Shell", "Transport", 2_500, 7_000),
    ("Uber", "Transport", 800, 4_500),
    ("Chipotle", "Food & Drink", 1_000, 2_500),
    ("Amazon", "Shopping", 1_000, 25_000),
    ("Target", "Shopping", 1_500, 12_000),
    ("Con Edison", "Utilities", 6_000, 18_000),
    ("Delta Air Lines", "Transport", 15_000, 60_000),
];
const SPEND_JPY: [Spend; 2] = [
    ("FamilyMart", "Food & Drink", 150, 2_500),
    ("JR East", "Transport", 200, 12_000),
];
const SPEND_KWD: [Spend; 2] = [
    ("Talabat", "Food & Drink", 1_250, 15_000),
    ("The Sultan Center", "Groceries", 3_000, 45_000),
];
const LANDLORD: &str = "Greenpoint Properties";

const NOTES: [&str; 8] = [
    "Coffee meeting",
    "Split with Sam",
    "Client dinner - reimburse",
    "Birthday gift",
    "Returned one item",
    "Weekly shop",
    "Airport ride",
    "Annual plan",
];

/// Ids of the generated reference data, by name.
struct Ids {
    accounts: HashMap<&'static str, String>,
    categories: HashMap<&'static str, String>,
    tags: Vec<String>,
    merchants: HashMap<&'static str, String>,
}

impl Ids {
    fn account(&self, name: &str) -> String {
        self.accounts.get(name).cloned().unwrap_or_default()
    }

    fn category(&self, name: &str) -> Option<String> {
        self.categories.get(name).cloned()
    }

    fn merchant(&self, name: &str) -> Option<String> {
        self.merchants.get(name).cloned()
    }
}

fn generate(count: usize, seed: u64) -> SureData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut data = SureData::default();
    let ids = reference_data(&mut rng, &mut data);
    let mut txns = recurring(&mut rng, &ids, count / 3);
    let mut prev: Option<(NaiveDate, DateTime<Utc>)> = None;
    while txns.len() < count {
        let t = random_txn(&mut rng, &ids, prev);
        prev = Some((t.date, t.created_at));
        txns.push(t);
    }
    txns.sort_by(txn_order);
    data.transactions = txns;
    let computed = data.balances();
    for a in &mut data.accounts {
        // balances() took the table's figure as the opening balance; shift it so the figure is the current balance.
        let moved = computed.get(&a.id).copied().unwrap_or(0) - a.opening_balance_cents;
        a.opening_balance_cents -= moved;
    }
    data
}

/// Accounts, categories, tags and merchants (ids drawn first, so they do not depend on the transaction count).
fn reference_data(rng: &mut ChaCha8Rng, data: &mut SureData) -> Ids {
    let created = stamp(ymd(2024, 10, 1), 9, 0, 0);
    let mut ids = Ids {
        accounts: HashMap::new(),
        categories: HashMap::new(),
        tags: Vec::new(),
        merchants: HashMap::new(),
    };
    for (name, kind, subtype, class, currency, status, opening, inst) in ACCOUNTS {
        let id = uuid(rng);
        ids.accounts.insert(name, id.clone());
        data.accounts.push(SureAccount {
            id,
            name: name.to_string(),
            account_type: kind.to_string(),
            subtype: subtype.map(str::to_string),
            classification: class.to_string(),
            currency: currency.to_string(),
            status: status.to_string(),
            opening_balance_cents: opening,
            institution_name: inst.map(|i| i.0.to_string()),
            institution_domain: inst.map(|i| i.1.to_string()),
            created_at: created,
            updated_at: created,
        });
    }
    for (name, class, color, icon, parent) in CATEGORIES {
        let id = uuid(rng);
        ids.categories.insert(name, id.clone());
        data.categories.push(SureCategory {
            id,
            name: name.to_string(),
            classification: class.to_string(),
            color: color.to_string(),
            icon: icon.to_string(),
            parent_id: parent.and_then(|p| ids.category(p)),
            created_at: created,
            updated_at: created,
        });
    }
    for (name, color) in TAGS {
        let id = uuid(rng);
        ids.tags.push(id.clone());
        let made = stamp(ymd(2024, 11, 1), 12, 0, 0);
        data.tags.push(SureTag {
            id,
            name: name.to_string(),
            color: color.to_string(),
            created_at: made,
            updated_at: made,
        });
    }
    let spends = SPEND_USD.iter().chain(&SPEND_JPY).chain(&SPEND_KWD);
    for name in spends.map(|s| s.0).chain([LANDLORD]) {
        let id = uuid(rng);
        ids.merchants.insert(name, id.clone());
        let kind = if name == LANDLORD {
            "FamilyMerchant"
        } else {
            "ProviderMerchant"
        };
        data.merchants.push(SureMerchant {
            id,
            name: name.to_string(),
            kind: kind.to_string(),
        });
    }
    ids
}

/// A bare transaction; the caller fills in category, merchant and the rest.
fn base_txn(
    rng: &mut ChaCha8Rng,
    date: NaiveDate,
    cents: i64,
    account: (&str, &str),
    name: &str,
) -> SureTxn {
    let created = stamp(
        date,
        rng.random_range(7..23),
        rng.random_range(0..60),
        rng.random_range(0..60),
    );
    SureTxn {
        id: uuid(rng),
        date,
        amount_cents: cents,
        currency: account.1.to_string(),
        name: name.to_string(),
        notes: None,
        account_id: account.0.to_string(),
        category_id: None,
        merchant_id: None,
        tag_ids: Vec::new(),
        transfer: None,
        transfer_id: None,
        external_id: None,
        source: None,
        created_at: created,
        updated_at: created,
    }
}

/// Monthly salary and rent (the 1st), interest (the 28th) and, every third month, a $500 Checking→Savings transfer
/// (two transactions, the 15th), newest month first, while they fit in `budget`.
fn recurring(rng: &mut ChaCha8Rng, ids: &Ids, budget: usize) -> Vec<SureTxn> {
    let (start, end) = (data_start(), data_end());
    let checking = ids.account("Chase Checking");
    let savings = ids.account("Ally Savings");
    let mut out: Vec<SureTxn> = Vec::new();
    let (mut year, mut month) = (DATA_END.0, DATA_END.1);
    for k in 0..25u32 {
        let in_range = |d: NaiveDate| d >= start && d <= end;
        let first = ymd(year, month, 1);
        if in_range(first) && out.len() < budget {
            let mut t = base_txn(
                rng,
                first,
                -480_000,
                (&checking, "USD"),
                "ACME Corp Payroll",
            );
            t.category_id = ids.category("Salary");
            out.push(t);
        }
        if in_range(first) && out.len() < budget {
            let mut t = base_txn(
                rng,
                first,
                210_000,
                (&checking, "USD"),
                "Rent - Greenpoint Properties",
            );
            t.category_id = ids.category("Rent");
            t.merchant_id = ids.merchant(LANDLORD);
            out.push(t);
        }
        let day28 = ymd(year, month, 28);
        if in_range(day28) && out.len() < budget {
            let cents = -rng.random_range(800..4_000);
            let mut t = base_txn(rng, day28, cents, (&savings, "USD"), "Interest Payment");
            t.category_id = ids.category("Interest");
            out.push(t);
        }
        let day15 = ymd(year, month, 15);
        if k % 3 == 0 && in_range(day15) && out.len() + 2 <= budget {
            out.extend(transfer_pair(rng, day15, (&checking, &savings)));
        }
        (year, month) = if month == 1 {
            (year - 1, 12)
        } else {
            (year, month - 1)
        };
    }
    out
}

/// Both sides of a $500 transfer `from` → `to`, with the same created_at.
fn transfer_pair(rng: &mut ChaCha8Rng, date: NaiveDate, (from, to): (&str, &str)) -> [SureTxn; 2] {
    let transfer_id = uuid(rng);
    let mut out = base_txn(rng, date, 50_000, (from, "USD"), "Transfer to Ally Savings");
    let mut inn = base_txn(
        rng,
        date,
        -50_000,
        (to, "USD"),
        "Transfer from Chase Checking",
    );
    inn.created_at = out.created_at;
    inn.updated_at = out.updated_at;
    out.transfer = Some(to.to_string());
    inn.transfer = Some(from.to_string());
    out.transfer_id = Some(transfer_id.clone());
    inn.transfer_id = Some(transfer_id);
    [out, inn]
}

/// One everyday transaction: mostly card and checking spending with a merchant and category; some ATM
/// withdrawals (no merchant, no category), refunds (income), JPY and KWD spending, tags and notes. About 5% copy
/// the previous one's date and created_at, so ties are ordered by id.
fn random_txn(
    rng: &mut ChaCha8Rng,
    ids: &Ids,
    prev: Option<(NaiveDate, DateTime<Utc>)>,
) -> SureTxn {
    let offset = rng.random_range(0..DATA_DAYS);
    let date = data_start() + chrono::Duration::days(offset);
    let (account, currency, pool): (&str, &str, &[Spend]) = match rng.random_range(0..100) {
        0..50 => ("Chase Checking", "USD", &SPEND_USD),
        50..85 => ("Amex Gold", "USD", &SPEND_USD),
        85..93 => ("Tokyo Wallet", "JPY", &SPEND_JPY),
        93..98 => ("Kuwait Account", "KWD", &SPEND_KWD),
        _ => ("Ally Savings", "USD", &SPEND_USD),
    };
    let account_id = ids.account(account);
    let (merchant, category, lo, hi) = pool[rng.random_range(0..pool.len())];
    let roll = rng.random_range(0..100);
    let mut t = if roll < 3 && account == "Chase Checking" {
        let cents = rng.random_range(1..11) * 2_000;
        base_txn(rng, date, cents, (&account_id, currency), "ATM Withdrawal")
    } else {
        let refund = roll >= 97 && currency == "USD";
        let cents = rng.random_range(lo..=hi) * if refund { -1 } else { 1 };
        let name = if refund {
            format!("Refund: {merchant}")
        } else {
            merchant.to_string()
        };
        let mut t = base_txn(rng, date, cents, (&account_id, currency), &name);
        t.merchant_id = ids.merchant(merchant);
        t.category_id = if rng.random_bool(0.05) {
            None
        } else {
            ids.category(category)
        };
        t
    };
    if let Some((d, created)) = prev.filter(|_| rng.random_bool(0.05)) {
        t.date = d;
        t.created_at = created;
        t.updated_at = created;
    }
    decorate(rng, ids, &mut t, account);
    t
}

/// Tags (15%: one, 5%: two), notes (12%) and, for the US accounts, a provider's external id.
fn decorate(rng: &mut ChaCha8Rng, ids: &Ids, t: &mut SureTxn, account: &str) {
    let roll = rng.random_range(0..100);
    let wanted = match roll {
        0..15 => 1,
        15..20 => 2,
        _ => 0,
    };
    while t.tag_ids.len() < wanted {
        let tag = ids.tags[rng.random_range(0..ids.tags.len())].clone();
        if !t.tag_ids.contains(&tag) {
            t.tag_ids.push(tag);
        }
    }
    if rng.random_bool(0.12) {
        t.notes = Some(NOTES[rng.random_range(0..NOTES.len())].to_string());
    }
    if account == "Chase Checking" || account == "Amex Gold" {
        let ext: u64 = rng.random();
        t.external_id = Some(format!("plaid_{ext:016x}"));
        t.source = Some("plaid".to_string());
    }
}
