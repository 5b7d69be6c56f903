//! A test server for the Fin X API (seed document 003, prefix `/v1`), answering as the document says, traps
//! included: `Authorization: Bearer KEY`; lists as `{"has_more", "data"}` with `limit` (default 10, at most 100)
//! and the cursor `starting_after` (an id: the page after it), newest first (created_at desc, id desc);
//! transactions with a positive `amount` in major units whose sign is in `type` ("credit" | "debit"), a `status`
//! ("pending" | "completed" | "failed"), unix-second `created_at`/`updated_at`, and no description or payee at
//! all (option `descriptions` adds one); `PUT /v1/transactions/:id` taking a JSON body or a form body as the
//! document's curl sends (`-d status=completed`). The document shows no error bodies and no account endpoint: errors
//! here use a Stripe-like `{"error":{"type","message","param"?}}` (401 `authentication_error`, 400/404
//! `invalid_request_error`, 429 `rate_limit_error` with `Retry-After`), and `/v1/accounts` (from DIALECTS.md) pages
//! like the transactions with types checking | savings | investment and lowercase currencies. A created or updated
//! transaction's time is the later of now and just after the newest one, so it sorts first even though the data
//! ends in the future (2026-11-15). Data comes from the shared household ledger (`ledger.rs`) and the seed.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::harness::{self, Api, Core, Incoming, Reply, Running, cents_of, lock, major_units};
pub use super::harness::{Fault, Recorded};
use super::ledger::{self, Kind};

/// The key every server accepts unless told otherwise.
pub const DEFAULT_KEY: &str = "finx_test_sk_0123456789abcdef";
/// `limit` when the request gives none.
pub const DEFAULT_LIMIT: usize = 10;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 100;
pub const STATUSES: [&str; 3] = ["pending", "completed", "failed"];
pub const TYPES: [&str; 2] = ["credit", "debit"];

/// How the server behaves. `..Default::default()` gives 300 transactions from seed 7 without descriptions.
#[derive(Debug, Clone)]
pub struct FinXOptions {
    pub transactions: usize,
    pub seed: u64,
    pub api_key: String,
    /// N requests per fixed window per key; over it: 429 with `Retry-After`.
    pub rate_limit: Option<(u32, Duration)>,
    /// Added to every answer.
    pub latency: Duration,
    /// Terminal escapes and other hostile text in an account name and (with `descriptions`) some descriptions.
    pub hostile: bool,
    /// Add a `description` string to every transaction (the document has none).
    pub descriptions: bool,
}

impl Default for FinXOptions {
    fn default() -> Self {
        FinXOptions {
            transactions: 300,
            seed: 7,
            api_key: DEFAULT_KEY.to_string(),
            rate_limit: None,
            latency: Duration::ZERO,
            hostile: false,
            descriptions: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinXAccount {
    /// 16 letters and digits.
    pub id: String,
    pub name: String,
    /// checking | savings | investment
    pub account_type: String,
    /// Minor units.
    pub balance_cents: i64,
    /// Lower case: "usd", "eur".
    pub currency: String,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinXTxn {
    /// 16 letters and digits.
    pub id: String,
    pub account_id: String,
    /// Minor units, never negative; the direction is `kind`.
    pub amount_cents: i64,
    /// "credit" (money in) | "debit" (money out); rendered as `type`.
    pub kind: String,
    /// pending | completed | failed
    pub status: String,
    /// Unix seconds, UTC.
    pub created_at: i64,
    pub updated_at: i64,
    /// Served only with the `descriptions` option.
    pub description: String,
}

/// Everything the server serves; tests may read and change it through [`FinXServer::with_data`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FinXData {
    pub accounts: Vec<FinXAccount>,
    pub transactions: Vec<FinXTxn>,
}

impl FinXData {
    pub fn account(&self, id: &str) -> Option<&FinXAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn account_by_name(&self, name: &str) -> Option<&FinXAccount> {
        self.accounts.iter().find(|a| a.name == name)
    }

    pub fn txn(&self, id: &str) -> Option<&FinXTxn> {
        self.transactions.iter().find(|t| t.id == id)
    }

    pub fn txn_mut(&mut self, id: &str) -> Option<&mut FinXTxn> {
        self.transactions.iter_mut().find(|t| t.id == id)
    }

    /// Deterministic data for `count` transactions from `seed`.
    pub fn generate(count: usize, seed: u64, hostile: bool) -> FinXData {
        generate(count, seed, hostile)
    }
}

/// Fin X's list order: created_at desc, id desc.
pub fn txn_order(a: &FinXTxn, b: &FinXTxn) -> std::cmp::Ordering {
    b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
}

// ---------------------------------------------------------------------------------------------------------------
// The server handle
// ---------------------------------------------------------------------------------------------------------------

/// A running Fin X test server on 127.0.0.1.
pub struct FinXServer {
    /// "http://127.0.0.1:PORT" (no `/v1`).
    pub url: String,
    pub key: String,
    pub addr: SocketAddr,
    state: Arc<State>,
    running: Running,
}

impl FinXServer {
    /// Binds 127.0.0.1 on an OS-chosen port and serves in the background.
    pub async fn start(opts: FinXOptions) -> FinXServer {
        Self::start_on(harness::any_port(), opts).await
    }

    /// Binds `addr` (for the example binary's `--port`) and serves in the background.
    pub async fn start_on(addr: SocketAddr, opts: FinXOptions) -> FinXServer {
        let data = FinXData::generate(opts.transactions, opts.seed, opts.hostile);
        let key = opts.api_key.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(99);
        let state = Arc::new(State {
            core: Core::new("/v1", opts.latency, opts.rate_limit),
            data: Mutex::new(data),
            rng: Mutex::new(rng),
            opts,
        });
        let running = harness::serve(addr, harness::router(state.clone()), "Fin X").await;
        FinXServer {
            url: running.url.clone(),
            key,
            addr: running.addr,
            state,
            running,
        }
    }

    /// `url` + "/v1".
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.core.requests()
    }

    pub fn clear_requests(&self) {
        self.state.core.clear_requests();
    }

    /// Reads or changes the served data (the server is blocked meanwhile).
    pub fn with_data<T>(&self, f: impl FnOnce(&mut FinXData) -> T) -> T {
        f(&mut lock(&self.state.data))
    }

    /// Queues a fault for the next request that matches it.
    pub fn inject(&self, fault: Fault) {
        self.state.core.inject(fault);
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.state.core.pending_faults()
    }

    /// The most requests being handled at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.state.core.max_in_flight()
    }

    /// How many requests the rate limiter answered 429.
    pub fn rate_limited(&self) -> usize {
        self.state.core.rate_limited()
    }

    /// Graceful shutdown, waiting (at most 5 s) for the server task.
    pub async fn stop(self) {
        self.running.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The request pipeline
// ---------------------------------------------------------------------------------------------------------------

struct State {
    opts: FinXOptions,
    core: Core,
    data: Mutex<FinXData>,
    /// Ids for created transactions.
    rng: Mutex<ChaCha8Rng>,
}

enum Route {
    Accounts,
    Account(String),
    Txns,
    Create,
    Show(String),
    Update(String),
    Delete(String),
}

fn route(method: &str, path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/v1/")?.trim_end_matches('/');
    let segs: Vec<&str> = rest.split('/').collect();
    let id = |s: &&str| (*s).to_string();
    let r = match (method, segs.as_slice()) {
        ("GET", ["accounts"]) => Route::Accounts,
        ("GET", ["accounts", i]) => Route::Account(id(i)),
        ("GET", ["transactions"]) => Route::Txns,
        ("POST", ["transactions"]) => Route::Create,
        ("GET", ["transactions", i]) => Route::Show(id(i)),
        ("PUT", ["transactions", i]) => Route::Update(id(i)),
        ("DELETE", ["transactions", i]) => Route::Delete(id(i)),
        _ => return None,
    };
    Some(r)
}

/// `{"error":{"type","message","param"?}}`.
fn error(status: u16, kind: &str, message: &str, param: Option<&str>) -> Reply {
    let mut e = json!({"type": kind, "message": message});
    if let Some(p) = param {
        e["param"] = json!(p);
    }
    Reply::json(status, json!({"error": e}))
}

fn invalid(message: &str, param: &str) -> Reply {
    error(400, "invalid_request_error", message, Some(param))
}

fn no_such(what: &str, id: &str) -> Reply {
    let message = format!("No such {what}: '{id}'");
    error(404, "invalid_request_error", &message, None)
}

impl Api for State {
    fn core(&self) -> &Core {
        &self.core
    }

    /// Auth, the rate limiter, routing, then the action.
    fn answer(&self, req: &Incoming<'_>) -> Reply {
        let key = match self.authenticate(req) {
            Ok(k) => k,
            Err(r) => return r,
        };
        if let Err(q) = self.core.limit(&key) {
            let msg = "Too many requests hit the API too quickly. We recommend an exponential backoff of \
                       your requests.";
            return error(429, "rate_limit_error", msg, None)
                .with_header("retry-after", q.reset_secs.to_string());
        }
        let Some(route) = route(req.parts.method.as_str(), req.path()) else {
            let msg = format!(
                "Unrecognized request URL ({}: {}).",
                req.parts.method,
                req.path()
            );
            return error(404, "invalid_request_error", &msg, None);
        };
        let pairs = req.query();
        let mut data = lock(&self.data);
        match route {
            Route::Accounts => self.accounts(&data, &pairs),
            Route::Account(id) => match data.account(&id) {
                Some(a) => Reply::ok(account_json(a)),
                None => no_such("account", &id),
            },
            Route::Txns => self.transactions(&data, &pairs),
            Route::Create => self.create(&mut data, req),
            Route::Show(id) => match data.txn(&id) {
                Some(t) => Reply::ok(self.txn_json(t)),
                None => no_such("transaction", &id),
            },
            Route::Update(id) => self.update(&mut data, &id, req),
            Route::Delete(id) => delete(&mut data, &id),
        }
    }
}

impl State {
    fn authenticate(&self, req: &Incoming<'_>) -> Result<String, Reply> {
        let header = req.header("authorization").unwrap_or("").trim();
        if header.is_empty() {
            let msg = "You did not provide an API key. You need to provide your API key in the Authorization \
                       header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";
            return Err(error(401, "authentication_error", msg, None));
        }
        match header.strip_prefix("Bearer ") {
            Some(key) if key.trim() == self.opts.api_key => Ok(key.trim().to_string()),
            Some(key) => {
                let shown: String = key
                    .chars()
                    .skip(key.chars().count().saturating_sub(4))
                    .collect();
                let msg = format!("Invalid API Key provided: ****{shown}");
                Err(error(401, "authentication_error", &msg, None))
            }
            None => {
                let msg = "Invalid Authorization header. Use Bearer auth (e.g. 'Authorization: Bearer \
                           YOUR_SECRET_KEY').";
                Err(error(401, "authentication_error", msg, None))
            }
        }
    }

    fn txn_json(&self, t: &FinXTxn) -> Value {
        let mut v = json!({
            "id": t.id,
            "account_id": t.account_id,
            "amount": major_units(t.amount_cents),
            "type": t.kind,
            "status": t.status,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
        });
        if self.opts.descriptions {
            v["description"] = json!(t.description);
        }
        v
    }

    fn accounts(&self, d: &FinXData, pairs: &[(String, String)]) -> Reply {
        let mut all: Vec<&FinXAccount> = d.accounts.iter().collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        match cursor_page(&all, pairs, |a| &a.id, |_| true) {
            Ok((items, has_more)) => Reply::ok(json!({
                "has_more": has_more,
                "data": items.iter().map(|a| account_json(a)).collect::<Vec<_>>(),
            })),
            Err(r) => r,
        }
    }

    fn transactions(&self, d: &FinXData, pairs: &[(String, String)]) -> Reply {
        let get = |k: &str| {
            pairs
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        let account = get("account_id").filter(|v| !v.is_empty());
        let kind = get("type").filter(|v| !v.is_empty());
        let status = get("status").filter(|v| !v.is_empty());
        if let Some(k) = kind.filter(|k| !TYPES.contains(k)) {
            return invalid(
                &format!("Invalid type: '{k}' (must be one of credit, debit)"),
                "type",
            );
        }
        if let Some(s) = status.filter(|s| !STATUSES.contains(s)) {
            let msg = format!("Invalid status: '{s}' (must be one of pending, completed, failed)");
            return invalid(&msg, "status");
        }
        let mut all: Vec<&FinXTxn> = d.transactions.iter().collect();
        all.sort_by(|a, b| txn_order(a, b));
        let keep = |t: &&FinXTxn| {
            account.is_none_or(|a| t.account_id == a)
                && kind.is_none_or(|k| t.kind == k)
                && status.is_none_or(|s| t.status == s)
        };
        match cursor_page(&all, pairs, |t| &t.id, keep) {
            Ok((items, has_more)) => Reply::ok(json!({
                "has_more": has_more,
                "data": items.iter().map(|t| self.txn_json(t)).collect::<Vec<_>>(),
            })),
            Err(r) => r,
        }
    }

    /// POST /v1/transactions: account_id, amount, type and status are required.
    fn create(&self, d: &mut FinXData, req: &Incoming<'_>) -> Reply {
        let fields = match body_fields(req, &["account_id", "amount", "type", "status"]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        for required in ["account_id", "amount", "type", "status"] {
            if !fields.contains_key(required) {
                return invalid(&format!("Missing required param: {required}."), required);
            }
        }
        let account_id = text(&fields["account_id"]);
        if d.account(&account_id).is_none() {
            return invalid(&format!("No such account: '{account_id}'"), "account_id");
        }
        let now = fresh_time(d, 0);
        let mut t = FinXTxn {
            id: harness::alphanumeric(&mut lock(&self.rng), 16),
            account_id,
            amount_cents: 0,
            kind: String::new(),
            status: String::new(),
            created_at: now,
            updated_at: now,
            description: String::new(),
        };
        if let Err(r) = apply(&mut t, &fields) {
            return r;
        }
        let body = self.txn_json(&t);
        d.transactions.push(t);
        Reply::ok(body)
    }

    /// PUT /v1/transactions/:id: any of amount, type, status; `updated_at` moves on.
    fn update(&self, d: &mut FinXData, id: &str, req: &Incoming<'_>) -> Reply {
        let fields = match body_fields(req, &["amount", "type", "status"]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let Some(at) = d.transactions.iter().position(|t| t.id == id) else {
            return no_such("transaction", id);
        };
        let mut t = d.transactions[at].clone();
        if let Err(r) = apply(&mut t, &fields) {
            return r;
        }
        t.updated_at = fresh_time(d, t.updated_at + 1);
        let body = self.txn_json(&t);
        d.transactions[at] = t;
        Reply::ok(body)
    }
}

fn delete(d: &mut FinXData, id: &str) -> Reply {
    let Some(at) = d.transactions.iter().position(|t| t.id == id) else {
        return no_such("transaction", id);
    };
    d.transactions.remove(at);
    Reply::ok(json!({"id": id, "deleted": true}))
}

/// Unix seconds for a write: now, but at least `floor` and later than every transaction's creation.
fn fresh_time(d: &FinXData, floor: i64) -> i64 {
    let newest = d
        .transactions
        .iter()
        .map(|t| t.created_at)
        .max()
        .unwrap_or(0);
    Utc::now().timestamp().max(floor).max(newest + 1)
}

/// The page of `all` (already ordered) after `starting_after`, keeping what `keep` accepts: (items, has_more).
fn cursor_page<'a, T>(
    all: &[&'a T],
    pairs: &[(String, String)],
    id: impl Fn(&T) -> &String,
    keep: impl Fn(&&'a T) -> bool,
) -> Result<(Vec<&'a T>, bool), Reply> {
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let limit = match get("limit").filter(|v| !v.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(v) => match v.trim().parse::<i64>() {
            Err(_) => return Err(invalid(&format!("Invalid integer: {v}"), "limit")),
            Ok(n) if n < 1 => return Err(invalid("limit must be at least 1", "limit")),
            Ok(n) if n > MAX_LIMIT as i64 => {
                return Err(invalid("limit must be at most 100", "limit"));
            }
            Ok(n) => n as usize,
        },
    };
    let start = match get("starting_after").filter(|v| !v.is_empty()) {
        None => 0,
        Some(cursor) => match all.iter().position(|x| id(x) == cursor) {
            Some(at) => at + 1,
            None => {
                let msg = format!("Invalid starting_after id: no such object: '{cursor}'");
                return Err(invalid(&msg, "starting_after"));
            }
        },
    };
    let mut rest = all[start..].iter().copied().filter(|x| keep(x));
    let items: Vec<&T> = rest.by_ref().take(limit).collect();
    let has_more = rest.next().is_some();
    Ok((items, has_more))
}

/// The body's fields as JSON values (a form body's values stay strings); unknown fields are refused.
fn body_fields(req: &Incoming<'_>, allowed: &[&str]) -> Result<Map<String, Value>, Reply> {
    let fields: Map<String, Value> = match &req.body {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            let text = String::from_utf8_lossy(req.raw);
            harness::parse_query(text.trim())
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        }
    };
    if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(
            &format!("Received unknown parameter: {unknown}"),
            unknown,
        ));
    }
    Ok(fields)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Validates and applies amount, type and status.
fn apply(t: &mut FinXTxn, fields: &Map<String, Value>) -> Result<(), Reply> {
    if let Some(v) = fields.get("amount") {
        match cents_of(v).filter(|c| *c > 0) {
            Some(c) => t.amount_cents = c,
            None => {
                let msg = format!("Invalid amount: {} (must be a positive number)", text(v));
                return Err(invalid(&msg, "amount"));
            }
        }
    }
    if let Some(v) = fields.get("type") {
        let k = text(v);
        if !TYPES.contains(&k.as_str()) {
            return Err(invalid(
                &format!("Invalid type: '{k}' (must be one of credit, debit)"),
                "type",
            ));
        }
        t.kind = k;
    }
    if let Some(v) = fields.get("status") {
        let s = text(v);
        if !STATUSES.contains(&s.as_str()) {
            let msg = format!("Invalid status: '{s}' (must be one of pending, completed, failed)");
            return Err(invalid(&msg, "status"));
        }
        t.status = s;
    }
    Ok(())
}

fn account_json(a: &FinXAccount) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "type": a.account_type,
        "balance": major_units(a.balance_cents),
        "currency": a.currency,
        "created_at": a.created_at,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic data
// ---------------------------------------------------------------------------------------------------------------

fn generate(count: usize, seed: u64, hostile: bool) -> FinXData {
    let specs = [
        ledger::CHECKING,
        ledger::SAVINGS,
        ledger::BROKERAGE,
        ledger::EURO,
    ];
    let book = ledger::generate(&specs, count, seed, hostile);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(3);
    let opened = ledger::stamp(ledger::ymd(2024, 5, 1), 9, 15, 46).timestamp();
    let mut d = FinXData::default();
    for (i, a) in book.accounts.iter().enumerate() {
        let kind = match a.kind {
            Kind::Savings => "savings",
            Kind::Investment => "investment",
            Kind::Checking | Kind::Card => "checking",
        };
        d.accounts.push(FinXAccount {
            id: harness::alphanumeric(&mut rng, 16),
            name: a.name.clone(),
            account_type: kind.to_string(),
            balance_cents: a.balance_cents,
            currency: a.currency.to_ascii_lowercase(),
            created_at: opened + 60 * i as i64,
        });
    }
    for e in &book.entries {
        let created = e.created_at.timestamp();
        let (status, updated) = match rng.random_range(0..100) {
            0..2 => ("failed", created + rng.random_range(60..900)),
            2..10 => ("pending", created),
            _ => ("completed", created + rng.random_range(0..3 * 86_400)),
        };
        d.transactions.push(FinXTxn {
            id: harness::alphanumeric(&mut rng, 16),
            account_id: d.accounts[e.account].id.clone(),
            amount_cents: e.cents.abs(),
            kind: if e.cents < 0 { "debit" } else { "credit" }.to_string(),
            status: status.to_string(),
            created_at: created,
            updated_at: updated,
            description: e.payee.clone(),
        });
    }
    d.transactions.sort_by(txn_order);
    d
}
