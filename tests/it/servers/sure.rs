//! A test server for the Sure finance API (we-promise/sure v0.7.x, prefix `/api/v1`), answering as
//! `/work/shared/api/sure.md` and Sure's public transactions page say, traps included: `X-Api-Key` auth where a bad
//! `Authorization` header wins, per-key fixed-window rate limits with `X-RateLimit-*` headers (or the self-hosted
//! "Infinity" strings), Rack::Attack's bare 429, transactions' `per_page` > 100 falling back to 25, Pagy's
//! past-the-end pages answering the last page, localized `amount` strings next to minor-unit cents, tags as a plain
//! array, `tag_ids` replacing the whole set, and the 500 for a missing `{"transaction":{…}}` wrapper. Data is
//! generated deterministically from a seed; every request is recorded, and faults can be queued per path prefix —
//! the serving, recording, faults, in-flight counts, latency and the fixed-window limiter come from the shared
//! harness (`harness.rs`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use chrono::{DateTime, NaiveDate, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::harness::{
    self, Api, Core, Incoming, Reply, Running, header_str, lock, parse_query, uuid,
};
pub use super::harness::{Fault, Recorded};

/// The deterministic data generator.
#[path = "sure_data.rs"]
mod data;
/// JSON and money rendering.
#[path = "sure_render.rs"]
mod render;
#[allow(unused_imports)] // used by the tests that check amounts
pub use render::format_money;
use render::{account_json, by_name, category_json, rails_time, tag_json, txn_json};

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
        data::generate(count, seed)
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
    running: Running,
}

impl SureServer {
    /// Binds 127.0.0.1 on an OS-chosen port and serves in the background.
    pub async fn start(opts: SureOptions) -> SureServer {
        Self::start_on(harness::any_port(), opts).await
    }

    /// Binds `addr` (for the example binary's `--port`) and serves in the background.
    pub async fn start_on(addr: SocketAddr, opts: SureOptions) -> SureServer {
        let data = SureData::generate(opts.transactions, opts.seed);
        let key = opts.api_key.clone();
        let read_only_key = opts.read_only_key.clone();
        let inner = Arc::new(Inner::new(opts, data));
        let running = harness::serve(addr, harness::router(inner.clone()), "Sure").await;
        SureServer {
            url: running.url.clone(),
            key,
            read_only_key,
            addr: running.addr,
            inner,
            running,
        }
    }

    /// `url` + "/api/v1".
    pub fn api_url(&self) -> String {
        format!("{}/api/v1", self.url)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.core.requests()
    }

    pub fn clear_requests(&self) {
        self.inner.core.clear_requests();
    }

    /// Reads or changes the served data (the server is blocked meanwhile).
    pub fn with_data<T>(&self, f: impl FnOnce(&mut SureData) -> T) -> T {
        f(&mut lock(&self.inner.data))
    }

    /// Queues a fault for the next request that matches it.
    pub fn inject(&self, fault: Fault) {
        self.inner.core.inject(fault);
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.inner.core.pending_faults()
    }

    /// How many requests the per-key rate limiter answered 429.
    pub fn rate_limited(&self) -> usize {
        self.inner.core.rate_limited()
    }

    /// The most requests being handled at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.inner.core.max_in_flight()
    }

    /// Graceful shutdown, waiting (at most 5 s) for the server task.
    pub async fn stop(self) {
        self.running.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared state and the request pipeline
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Read,
    ReadWrite,
}

struct Inner {
    opts: SureOptions,
    /// Recording, faults, in-flight counts, latency and the per-key limiter (`None` given: 1,000,000 per hour).
    core: Core,
    data: Mutex<SureData>,
    rack_count: AtomicU64,
    /// When each key was last used (for /usage).
    last_used: Mutex<HashMap<String, DateTime<Utc>>>,
    started_at: DateTime<Utc>,
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

impl Api for Inner {
    fn core(&self) -> &Core {
        &self.core
    }

    fn answer(&self, req: &Incoming<'_>) -> Reply {
        self.process(req.parts, req.body.clone())
    }
}

impl Inner {
    fn new(opts: SureOptions, data: SureData) -> Inner {
        let window = opts
            .rate_limit
            .unwrap_or((1_000_000, Duration::from_secs(3600)));
        Inner {
            core: Core::new("/api/v1", opts.latency, Some(window)),
            opts,
            data: Mutex::new(data),
            rack_count: AtomicU64::new(0),
            last_used: Mutex::new(HashMap::new()),
            started_at: Utc::now(),
        }
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
        self.core
            .limiter
            .as_ref()
            .map_or((0, 0), harness::Limiter::window_now)
    }

    /// Sure's ApiRateLimiter (the harness's fixed window): refuse when count >= limit (without counting), else
    /// count and send the headers.
    fn rate_limit(&self, key: &str) -> Result<Vec<(&'static str, String)>, Reply> {
        lock(&self.last_used).insert(key.to_string(), Utc::now());
        if self.opts.self_hosted {
            return Ok(vec![
                ("x-ratelimit-limit", "Infinity".to_string()),
                ("x-ratelimit-remaining", "Infinity".to_string()),
                ("x-ratelimit-reset", "0".to_string()),
            ]);
        }
        match self.core.limit(key) {
            Ok(q) => {
                let (limit, _) = self.limit_window();
                let (used, reset) = q.map_or((0, 0), |q| (q.used, q.reset_secs));
                Ok(vec![
                    ("x-ratelimit-limit", limit.to_string()),
                    (
                        "x-ratelimit-remaining",
                        limit.saturating_sub(used).to_string(),
                    ),
                    ("x-ratelimit-reset", reset.to_string()),
                ])
            }
            Err(q) => {
                let (limit, current, reset) = (q.limit, q.used, q.reset_secs);
                let mut r = Reply::json(
                    429,
                    json!({
                        "error": "rate_limit_exceeded",
                        "message": "Rate limit exceeded. Try again later.",
                        "details": {"limit": limit, "current": current, "reset_in_seconds": reset},
                    }),
                );
                r.headers = vec![
                    ("x-ratelimit-limit", limit.to_string()),
                    ("x-ratelimit-remaining", "0".to_string()),
                    ("x-ratelimit-reset", reset.to_string()),
                    ("retry-after", reset.to_string()),
                ];
                Err(r)
            }
        }
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
        let last_used = lock(&self.last_used).get(&c.key).copied();
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
            let count = self.core.limiter.as_ref().map_or(0, |l| l.used(&c.key));
            let reset_at =
                Utc::now() + chrono::Duration::seconds(i64::try_from(reset).unwrap_or(0));
            json!({"tier": "standard", "limit": limit, "current_count": count,
                   "remaining": limit.saturating_sub(count), "reset_in_seconds": reset,
                   "reset_at": rails_time(reset_at)})
        };
        Reply::ok(json!({"api_key": api_key, "rate_limit": rate_limit}))
    }
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
    Reply::empty(204)
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
