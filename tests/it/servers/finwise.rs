//! A test server for the FinWise API (seed document 001, no path prefix), answering as the document says, traps
//! included: the raw key in `Authorization` (no "Bearer"; "Bearer KEY" is refused like a missing key), a
//! `Request-Id` UUID header on every answer, `filters` and `pagination` as URL-encoded JSON objects validated
//! zod-style (400 `BadRequestError` with `errors[{code,message,path,received}]`; `pageSize` default 100, at most
//! 1000), lists as bare JSON arrays with the paging headers `x-page-number`, `x-page-size`, `x-count`,
//! `x-has-next-page` (option `paging_headers: false` drops them, as the document never shows them), amounts as JSON
//! numbers in major units (negative = money out, a credit card's balance negative while owed), `aggregated3` sums
//! in f64 per bucket starting at the user's local midnight expressed in UTC (option `utc_offset_hours`, weeks from
//! Monday), archive, and every error body optionally nested under `"error"`. Where the document is silent: the
//! paging headers come from client code; `received` carries the received value as text (as the document's sample
//! does) also for type errors; `archivedAt` is written like the sample (`2024-04-29T00:03:34`, no zone); a split
//! parent's `splits` lists `{id, amount, transactionCategoryId}` of its children; `isTransfer`/`isPending` are
//! null on the manual (EUR) account as on the sample's manual transaction; 429 is `TooManyRequestsError` with
//! `Retry-After`. Data comes from the shared household ledger (`ledger.rs`) and the seed.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::harness::{self, Api, Core, Incoming, Reply, Running, lock, major_units};
pub use super::harness::{Fault, Recorded};
use super::ledger::{self, Kind};

/// The key every server accepts unless told otherwise.
pub const DEFAULT_KEY: &str = "fw_live_test_0123456789abcdef";
/// `pageSize` when the request gives none.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest `pageSize` accepted.
pub const MAX_PAGE_SIZE: usize = 1000;

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

/// How the server behaves. `..Default::default()` gives 300 transactions from seed 7, paging headers, flat errors,
/// a user at UTC+1.
#[derive(Debug, Clone)]
pub struct FinWiseOptions {
    pub transactions: usize,
    pub seed: u64,
    pub api_key: String,
    /// N requests per fixed window per key; over it: 429 with `Retry-After`.
    pub rate_limit: Option<(u32, Duration)>,
    /// Added to every answer.
    pub latency: Duration,
    /// Terminal escapes and other hostile text in some descriptions, merchants, a note and an account name.
    pub hostile: bool,
    /// Send `x-page-number`, `x-page-size`, `x-count`, `x-has-next-page` on lists.
    pub paging_headers: bool,
    /// Wrap every error body as `{"error": {…}}`.
    pub nested_errors: bool,
    /// The user's time zone, for `aggregated3` buckets.
    pub utc_offset_hours: i32,
}

impl Default for FinWiseOptions {
    fn default() -> Self {
        FinWiseOptions {
            transactions: 300,
            seed: 7,
            api_key: DEFAULT_KEY.to_string(),
            rate_limit: None,
            latency: Duration::ZERO,
            hostile: false,
            paging_headers: true,
            nested_errors: false,
            utc_offset_hours: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinWiseAccount {
    pub id: String,
    pub name: String,
    /// depository | credit | loan | investment | other
    pub account_type: String,
    /// checking, savings, credit card, brokerage
    pub sub_type: String,
    pub currency: String,
    /// Minor units; negative on a credit card while money is owed.
    pub balance_cents: i64,
    pub available_cents: Option<i64>,
    pub account_number: Option<String>,
    pub emoji: Option<String>,
    pub is_linked: bool,
    pub institution_id: Option<String>,
    /// The `data` object (`invertAmounts` and friends), or null.
    pub data: Option<Value>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinWiseCategory {
    pub id: String,
    pub name: String,
    pub group_id: Option<String>,
    pub emoji: Option<String>,
    pub color: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinWiseMerchant {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinWiseTag {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinWiseTxn {
    pub id: String,
    pub account_id: String,
    /// Rendered as an ISO timestamp (midnight UTC of the booking day for generated data).
    pub date: DateTime<Utc>,
    /// Minor units, negative = money out.
    pub amount_cents: i64,
    pub currency: String,
    pub description: String,
    pub original_description: String,
    pub category_id: Option<String>,
    pub merchant_id: Option<String>,
    pub is_manual: bool,
    pub is_transfer: Option<bool>,
    pub is_pending: Option<bool>,
    pub needs_review: Option<bool>,
    pub notes: Option<String>,
    pub archived_at: Option<DateTime<Utc>>,
    pub parent_id: Option<String>,
    pub tag_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Everything the server serves; tests may read and change it through [`FinWiseServer::with_data`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FinWiseData {
    pub user_id: String,
    pub accounts: Vec<FinWiseAccount>,
    pub categories: Vec<FinWiseCategory>,
    pub merchants: Vec<FinWiseMerchant>,
    pub tags: Vec<FinWiseTag>,
    pub transactions: Vec<FinWiseTxn>,
}

impl FinWiseData {
    pub fn account(&self, id: &str) -> Option<&FinWiseAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn account_by_name(&self, name: &str) -> Option<&FinWiseAccount> {
        self.accounts.iter().find(|a| a.name == name)
    }

    pub fn category(&self, id: &str) -> Option<&FinWiseCategory> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn category_by_name(&self, name: &str) -> Option<&FinWiseCategory> {
        self.categories.iter().find(|c| c.name == name)
    }

    pub fn merchant(&self, id: &str) -> Option<&FinWiseMerchant> {
        self.merchants.iter().find(|m| m.id == id)
    }

    pub fn tag(&self, id: &str) -> Option<&FinWiseTag> {
        self.tags.iter().find(|t| t.id == id)
    }

    pub fn txn(&self, id: &str) -> Option<&FinWiseTxn> {
        self.transactions.iter().find(|t| t.id == id)
    }

    pub fn txn_mut(&mut self, id: &str) -> Option<&mut FinWiseTxn> {
        self.transactions.iter_mut().find(|t| t.id == id)
    }

    /// Deterministic data for `count` transactions from `seed`.
    pub fn generate(count: usize, seed: u64, hostile: bool) -> FinWiseData {
        generate(count, seed, hostile)
    }
}

/// FinWise's list order: date desc, createdAt desc, id desc.
pub fn txn_order(a: &FinWiseTxn, b: &FinWiseTxn) -> std::cmp::Ordering {
    b.date
        .cmp(&a.date)
        .then(b.created_at.cmp(&a.created_at))
        .then(b.id.cmp(&a.id))
}

/// A timestamp as FinWise writes it: milliseconds, `Z`.
pub fn iso_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ---------------------------------------------------------------------------------------------------------------
// The server handle
// ---------------------------------------------------------------------------------------------------------------

/// A running FinWise test server on 127.0.0.1.
pub struct FinWiseServer {
    /// "http://127.0.0.1:PORT" (FinWise has no path prefix).
    pub url: String,
    pub key: String,
    pub addr: SocketAddr,
    state: Arc<State>,
    running: Running,
}

impl FinWiseServer {
    /// Binds 127.0.0.1 on an OS-chosen port and serves in the background.
    pub async fn start(opts: FinWiseOptions) -> FinWiseServer {
        Self::start_on(harness::any_port(), opts).await
    }

    /// Binds `addr` (for the example binary's `--port`) and serves in the background.
    pub async fn start_on(addr: SocketAddr, opts: FinWiseOptions) -> FinWiseServer {
        let data = FinWiseData::generate(opts.transactions, opts.seed, opts.hostile);
        let key = opts.api_key.clone();
        let state = Arc::new(State {
            core: Core::new("", opts.latency, opts.rate_limit),
            data: Mutex::new(data),
            answered: AtomicU64::new(0),
            opts,
        });
        let running = harness::serve(addr, harness::router(state.clone()), "FinWise").await;
        FinWiseServer {
            url: running.url.clone(),
            key,
            addr: running.addr,
            state,
            running,
        }
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.core.requests()
    }

    pub fn clear_requests(&self) {
        self.state.core.clear_requests();
    }

    /// Reads or changes the served data (the server is blocked meanwhile).
    pub fn with_data<T>(&self, f: impl FnOnce(&mut FinWiseData) -> T) -> T {
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
    opts: FinWiseOptions,
    core: Core,
    data: Mutex<FinWiseData>,
    /// Answers so far (seeds the request ids).
    answered: AtomicU64,
}

enum Route {
    Accounts,
    Account(String),
    Categories,
    Txns,
    Aggregated,
    Archive(String),
}

fn route(method: &str, path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let r = match (method, segs.as_slice()) {
        ("GET", ["accounts"]) => Route::Accounts,
        ("GET", ["accounts", id]) => Route::Account((*id).to_string()),
        ("GET", ["transaction-categories"]) => Route::Categories,
        ("GET", ["transactions"]) => Route::Txns,
        ("GET", ["transactions", "aggregated3"]) => Route::Aggregated,
        ("POST", ["transactions", id, "archive"]) => Route::Archive((*id).to_string()),
        _ => return None,
    };
    Some(r)
}

impl Api for State {
    fn core(&self) -> &Core {
        &self.core
    }

    /// Auth, the rate limiter, routing, then the action.
    fn answer(&self, req: &Incoming<'_>) -> Reply {
        let presented = req.header("authorization").unwrap_or("").trim();
        if presented.is_empty() {
            return self.error(401, "UnauthenticatedError", "No API key provided", vec![]);
        }
        if presented != self.opts.api_key {
            return self.error(401, "UnauthenticatedError", "Invalid API key", vec![]);
        }
        if let Err(q) = self.core.limit(presented) {
            let msg = "Too many requests, please try again later";
            return self
                .error(429, "TooManyRequestsError", msg, vec![])
                .with_header("retry-after", q.reset_secs.to_string());
        }
        let Some(route) = route(req.parts.method.as_str(), req.path()) else {
            let msg = format!("Cannot {} {}", req.parts.method, req.path());
            return self.error(404, "NotFoundError", &msg, vec![]);
        };
        let pairs = req.query();
        let mut data = lock(&self.data);
        let result = match route {
            Route::Accounts => self.accounts(&data, &pairs),
            Route::Account(id) => account_show(&data, &id),
            Route::Categories => self.categories(&data, &pairs),
            Route::Txns => self.transactions(&data, &pairs),
            Route::Aggregated => self.aggregated(&data, &pairs),
            Route::Archive(id) => archive(&mut data, &id),
        };
        result.unwrap_or_else(|e| self.error(e.status, e.name, &e.message, e.errors))
    }

    fn decorate(&self, reply: &mut Reply) {
        let n = self.answered.fetch_add(1, Ordering::SeqCst);
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.opts.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        reply.headers.push(("request-id", harness::uuid(&mut rng)));
    }
}

/// An error before it is shaped (flat or nested).
struct ApiError {
    status: u16,
    name: &'static str,
    message: String,
    errors: Vec<Value>,
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError {
        status: 404,
        name: "NotFoundError",
        message: format!("{what} with id {id} not found"),
        errors: vec![],
    }
}

fn bad_request(issues: Vec<Value>) -> ApiError {
    ApiError {
        status: 400,
        name: "BadRequestError",
        message: "Invalid query parameters specified".to_string(),
        errors: issues,
    }
}

type Answer = Result<Reply, ApiError>;

impl State {
    fn error(&self, status: u16, name: &str, message: &str, errors: Vec<Value>) -> Reply {
        let body = json!({"name": name, "message": message, "errors": errors});
        let body = if self.opts.nested_errors {
            json!({"error": body})
        } else {
            body
        };
        Reply::json(status, body)
    }

    /// A bare array of one page, with the paging headers unless they are switched off.
    fn page_reply(&self, items: Vec<Value>, page: Page, total: usize) -> Reply {
        let mut reply = Reply::ok(Value::Array(items));
        if self.opts.paging_headers {
            let has_next = page.number * page.size < total;
            reply.headers.extend([
                ("x-page-number", page.number.to_string()),
                ("x-page-size", page.size.to_string()),
                ("x-count", total.to_string()),
                ("x-has-next-page", has_next.to_string()),
            ]);
        }
        reply
    }

    fn accounts(&self, d: &FinWiseData, pairs: &[(String, String)]) -> Answer {
        let mut is = Issues::default();
        let filters = json_object(pairs, "filters", &mut is).unwrap_or_default();
        let page = pagination(pairs, &mut is);
        let id = string(&filters, "filters", "id", &mut is);
        let search = string(&filters, "filters", "search", &mut is).map(|s| s.to_lowercase());
        let archived = boolean(&filters, "filters", "isArchived", &mut is);
        is.check()?;
        let list: Vec<&FinWiseAccount> = d
            .accounts
            .iter()
            .filter(|a| id.as_ref().is_none_or(|i| *i == a.id))
            .filter(|a| {
                search
                    .as_ref()
                    .is_none_or(|s| a.name.to_lowercase().contains(s))
            })
            .filter(|a| archived.is_none_or(|x| x == a.archived_at.is_some()))
            .collect();
        let items = page
            .slice(&list)
            .iter()
            .map(|a| account_json(d, a))
            .collect();
        Ok(self.page_reply(items, page, list.len()))
    }

    fn categories(&self, d: &FinWiseData, pairs: &[(String, String)]) -> Answer {
        let mut is = Issues::default();
        let filters = json_object(pairs, "filters", &mut is).unwrap_or_default();
        let page = pagination(pairs, &mut is);
        let id = string(&filters, "filters", "id", &mut is);
        let name = string(&filters, "filters", "name", &mut is);
        let groups = strings(&filters, "filters", "transactionCategoryGroupIds", &mut is);
        is.check()?;
        let list: Vec<&FinWiseCategory> = d
            .categories
            .iter()
            .filter(|c| id.as_ref().is_none_or(|i| *i == c.id))
            .filter(|c| name.as_ref().is_none_or(|n| *n == c.name))
            .filter(|c| {
                groups
                    .as_ref()
                    .is_none_or(|g| c.group_id.as_ref().is_some_and(|x| g.contains(x)))
            })
            .collect();
        let items = page
            .slice(&list)
            .iter()
            .map(|c| category_json(d, c))
            .collect();
        Ok(self.page_reply(items, page, list.len()))
    }

    fn transactions(&self, d: &FinWiseData, pairs: &[(String, String)]) -> Answer {
        let mut is = Issues::default();
        let filters = json_object(pairs, "filters", &mut is).unwrap_or_default();
        let page = pagination(pairs, &mut is);
        let filter = TxnFilter::read(&filters, &mut is);
        is.check()?;
        let hits = filter.select(d, false);
        let splits = children_of(d);
        let items = page
            .slice(&hits)
            .iter()
            .map(|t| txn_json(d, t, &splits))
            .collect();
        Ok(self.page_reply(items, page, hits.len()))
    }

    /// `[{date: bucket start, amount: f64 sum}]`, ascending; archived ones left out unless `excludeArchived: false`.
    fn aggregated(&self, d: &FinWiseData, pairs: &[(String, String)]) -> Answer {
        let mut is = Issues::default();
        let by = aggregate_by(pairs, &mut is);
        aggregate_fn(pairs, &mut is);
        let target = currency_param(pairs, &mut is);
        let filters = json_object(pairs, "filters", &mut is).unwrap_or_default();
        pagination(pairs, &mut is);
        let filter = TxnFilter::read(&filters, &mut is);
        is.check()?;
        let offset = chrono::Duration::hours(i64::from(self.opts.utc_offset_hours));
        let mut sums: Vec<(DateTime<Utc>, f64)> = Vec::new();
        let mut at: HashMap<DateTime<Utc>, usize> = HashMap::new();
        for t in filter.select(d, true) {
            let start = bucket_start(t.date, by.unwrap_or(Bucket::Day), offset);
            let amount = convert(t.amount_cents as f64 / 100.0, &t.currency, target);
            let slot = *at.entry(start).or_insert_with(|| {
                sums.push((start, 0.0));
                sums.len() - 1
            });
            sums[slot].1 += amount;
        }
        sums.sort_by_key(|(date, _)| *date);
        let body = sums
            .into_iter()
            .map(|(date, amount)| json!({"date": iso_millis(date), "amount": amount}))
            .collect();
        Ok(Reply::ok(Value::Array(body)))
    }
}

fn account_show(d: &FinWiseData, id: &str) -> Answer {
    let a = d.account(id).ok_or_else(|| not_found("Account", id))?;
    Ok(Reply::ok(account_json(d, a)))
}

/// POST /transactions/:id/archive: stamps `archivedAt` (once) and answers the transaction.
fn archive(d: &mut FinWiseData, id: &str) -> Answer {
    let now = Utc::now();
    let t = d.txn_mut(id).ok_or_else(|| not_found("Transaction", id))?;
    if t.archived_at.is_none() {
        t.archived_at = Some(now);
        t.updated_at = now;
    }
    let t = d.txn(id).ok_or_else(|| not_found("Transaction", id))?;
    Ok(Reply::ok(txn_json(d, t, &children_of(d))))
}

// ---------------------------------------------------------------------------------------------------------------
// Query validation, zod-style
// ---------------------------------------------------------------------------------------------------------------

/// Field errors collected while reading the query; any makes the answer a 400.
#[derive(Default)]
struct Issues(Vec<Value>);

impl Issues {
    fn push(&mut self, code: &str, message: impl Into<String>, path: Value, got: &Value) {
        let received = match got {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.0.push(
            json!({"code": code, "message": message.into(), "path": path, "received": received}),
        );
    }

    fn wrong_type(&mut self, expected: &str, path: Value, got: &Value) {
        let message = format!("Expected {expected}, received {}", type_name(got));
        self.push("invalid_type", message, path, got);
    }

    fn check(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(bad_request(self.0))
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Query parameter `name` as a JSON object (absent or `null`: none).
fn json_object(
    pairs: &[(String, String)],
    name: &str,
    is: &mut Issues,
) -> Option<Map<String, Value>> {
    let text = last(pairs, name)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Some(map),
        Ok(Value::Null) => None,
        Ok(other) => {
            is.wrong_type("object", json!([name]), &other);
            None
        }
        Err(_) => {
            let msg = "Expected object, received string (not valid JSON)";
            is.push(
                "invalid_type",
                msg,
                json!([name]),
                &Value::String(text.to_string()),
            );
            None
        }
    }
}

fn present<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

fn string(m: &Map<String, Value>, root: &str, key: &str, is: &mut Issues) -> Option<String> {
    match present(m, key)? {
        Value::String(s) => Some(s.clone()),
        other => {
            is.wrong_type("string", json!([root, key]), other);
            None
        }
    }
}

fn strings(m: &Map<String, Value>, root: &str, key: &str, is: &mut Issues) -> Option<Vec<String>> {
    let Value::Array(items) = present(m, key)? else {
        is.wrong_type("array", json!([root, key]), &m[key]);
        return None;
    };
    let mut out = Vec::new();
    for (i, v) in items.iter().enumerate() {
        match v {
            Value::String(s) => out.push(s.clone()),
            other => is.wrong_type("string", json!([root, key, i]), other),
        }
    }
    Some(out)
}

fn boolean(m: &Map<String, Value>, root: &str, key: &str, is: &mut Issues) -> Option<bool> {
    match present(m, key)? {
        Value::Bool(b) => Some(*b),
        other => {
            is.wrong_type("boolean", json!([root, key]), other);
            None
        }
    }
}

fn number(m: &Map<String, Value>, root: &str, key: &str, is: &mut Issues) -> Option<f64> {
    match present(m, key)? {
        Value::Number(n) => n.as_f64(),
        other => {
            is.wrong_type("number", json!([root, key]), other);
            None
        }
    }
}

/// An ISO date or timestamp: the instant it starts (`end`: the last millisecond of a bare date).
fn date(m: &Map<String, Value>, key: &str, end: bool, is: &mut Issues) -> Option<DateTime<Utc>> {
    let text = string(m, "filters", key, is)?;
    let parsed = parse_instant(&text, end);
    if parsed.is_none() {
        let msg = "Invalid date format, must use ISO format.";
        is.push(
            "invalid_type",
            msg,
            json!(["filters", key]),
            &Value::String(text),
        );
    }
    parsed
}

fn parse_instant(text: &str, end: bool) -> Option<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = d.and_hms_opt(0, 0, 0)?.and_utc();
        return Some(if end {
            start + chrono::Duration::days(1) - chrono::Duration::milliseconds(1)
        } else {
            start
        });
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

#[derive(Debug, Clone, Copy)]
struct Page {
    number: usize,
    size: usize,
}

impl Page {
    fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = ((self.number - 1).saturating_mul(self.size)).min(items.len());
        let end = start.saturating_add(self.size).min(items.len());
        &items[start..end]
    }
}

/// `pagination={"pageNumber":N,"pageSize":M}`: whole numbers, pageNumber ≥ 1, pageSize 1..=1000.
fn pagination(pairs: &[(String, String)], is: &mut Issues) -> Page {
    let map = json_object(pairs, "pagination", is).unwrap_or_default();
    let mut read = |key: &str, default: usize, max: Option<usize>| -> usize {
        let Some(v) = present(&map, key) else {
            return default;
        };
        let path = json!(["pagination", key]);
        let Some(n) = v.as_f64() else {
            is.wrong_type("number", path, v);
            return default;
        };
        if n.fract() != 0.0 {
            is.push("invalid_type", "Expected integer, received float", path, v);
            return default;
        }
        if n < 1.0 {
            is.push(
                "too_small",
                "Number must be greater than or equal to 1",
                path,
                v,
            );
            return default;
        }
        if let Some(max) = max.filter(|m| n > *m as f64) {
            let msg = format!("Number must be less than or equal to {max}");
            is.push("too_big", msg, path, v);
            return default;
        }
        n as usize
    };
    let number = read("pageNumber", 1, None);
    let size = read("pageSize", DEFAULT_PAGE_SIZE, Some(MAX_PAGE_SIZE));
    Page { number, size }
}

/// The transaction filters (`filters={…}`).
#[derive(Default)]
struct TxnFilter {
    id: Option<String>,
    ids: Option<Vec<String>>,
    account_id: Option<String>,
    account_ids: Option<Vec<String>>,
    category_ids: Option<Vec<String>>,
    search: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    needs_review: Option<bool>,
    /// (debit wanted, credit wanted)
    types: Option<(bool, bool)>,
    amount_gte: Option<f64>,
    amount_lte: Option<f64>,
    exclude_parents: Option<bool>,
    exclude_transfers: Option<bool>,
    exclude_archived: Option<bool>,
}

impl TxnFilter {
    fn read(m: &Map<String, Value>, is: &mut Issues) -> TxnFilter {
        let f = "filters";
        TxnFilter {
            id: string(m, f, "id", is),
            ids: strings(m, f, "ids", is),
            account_id: string(m, f, "accountId", is),
            account_ids: strings(m, f, "accountIds", is),
            category_ids: strings(m, f, "transactionCategoryIds", is),
            search: string(m, f, "search", is).map(|s| s.to_lowercase()),
            from: date(m, "fromDate", false, is),
            to: date(m, "toDate", true, is),
            needs_review: boolean(m, f, "needsReview", is),
            types: transaction_types(m, is),
            amount_gte: number(m, f, "amountGte", is),
            amount_lte: number(m, f, "amountLte", is),
            exclude_parents: boolean(m, f, "excludeParentTransactions", is),
            exclude_transfers: boolean(m, f, "excludeTransfers", is),
            exclude_archived: boolean(m, f, "excludeArchived", is),
        }
    }

    /// The matching transactions, newest first. `archived_by_default`: leave archived ones out unless the filter
    /// says `excludeArchived: false` (the aggregation's rule).
    fn select<'a>(&self, d: &'a FinWiseData, archived_by_default: bool) -> Vec<&'a FinWiseTxn> {
        let parents: HashSet<&str> = d
            .transactions
            .iter()
            .filter_map(|t| t.parent_id.as_deref())
            .collect();
        let merchants: HashMap<&str, String> = d
            .merchants
            .iter()
            .map(|m| (m.id.as_str(), m.name.to_lowercase()))
            .collect();
        let drop_archived = self.exclude_archived.unwrap_or(archived_by_default);
        let mut hits: Vec<&FinWiseTxn> = d
            .transactions
            .iter()
            .filter(|t| !(drop_archived && t.archived_at.is_some()))
            .filter(|t| !(self.exclude_parents == Some(true) && parents.contains(t.id.as_str())))
            .filter(|t| !(self.exclude_transfers == Some(true) && t.is_transfer == Some(true)))
            .filter(|t| self.matches(t, &merchants))
            .collect();
        hits.sort_by(|a, b| txn_order(a, b));
        hits
    }

    fn matches(&self, t: &FinWiseTxn, merchants: &HashMap<&str, String>) -> bool {
        let one_of = |list: &Option<Vec<String>>, v: Option<&String>| {
            list.as_ref()
                .is_none_or(|l| v.is_some_and(|v| l.contains(v)))
        };
        let amount = t.amount_cents as f64 / 100.0;
        self.id.as_ref().is_none_or(|i| *i == t.id)
            && one_of(&self.ids, Some(&t.id))
            && self.account_id.as_ref().is_none_or(|a| *a == t.account_id)
            && one_of(&self.account_ids, Some(&t.account_id))
            && one_of(&self.category_ids, t.category_id.as_ref())
            && self.from.is_none_or(|f| t.date >= f)
            && self.to.is_none_or(|e| t.date <= e)
            && self
                .needs_review
                .is_none_or(|n| t.needs_review.unwrap_or(false) == n)
            && self
                .types
                .is_none_or(|(debit, credit)| (debit && amount < 0.0) || (credit && amount > 0.0))
            && self.amount_gte.is_none_or(|v| amount >= v)
            && self.amount_lte.is_none_or(|v| amount <= v)
            && self.search.as_ref().is_none_or(|s| {
                t.description.to_lowercase().contains(s)
                    || t.merchant_id
                        .as_deref()
                        .and_then(|m| merchants.get(m))
                        .is_some_and(|name| name.contains(s))
            })
    }
}

/// `transactionTypes`: an array of "debit" | "credit".
fn transaction_types(m: &Map<String, Value>, is: &mut Issues) -> Option<(bool, bool)> {
    let list = strings(m, "filters", "transactionTypes", is)?;
    let mut wanted = (false, false);
    for (i, t) in list.iter().enumerate() {
        match t.as_str() {
            "debit" => wanted.0 = true,
            "credit" => wanted.1 = true,
            other => {
                let msg =
                    format!("Invalid enum value. Expected 'debit' | 'credit', received '{other}'");
                let path = json!(["filters", "transactionTypes", i]);
                is.push(
                    "invalid_enum_value",
                    msg,
                    path,
                    &Value::String(other.to_string()),
                );
            }
        }
    }
    Some(wanted)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Day,
    Week,
    Month,
    Year,
}

/// `aggregateBy[]=day|week|Month|Year` (exactly one).
fn aggregate_by(pairs: &[(String, String)], is: &mut Issues) -> Option<Bucket> {
    let values: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| {
            k == "aggregateBy[]" || k == "aggregateBy" || k.starts_with("aggregateBy[")
        })
        .map(|(_, v)| v.as_str())
        .collect();
    let Some(first) = values.first() else {
        is.push(
            "invalid_type",
            "Required",
            json!(["aggregateBy"]),
            &json!("undefined"),
        );
        return None;
    };
    if values.len() > 1 {
        let msg = "Array must contain at most 1 element(s)";
        is.push("too_big", msg, json!(["aggregateBy"]), &json!(values));
        return None;
    }
    let bucket = match *first {
        "day" => Bucket::Day,
        "week" => Bucket::Week,
        "Month" => Bucket::Month,
        "Year" => Bucket::Year,
        other => {
            let msg = format!(
                "Invalid enum value. Expected 'day' | 'week' | 'Month' | 'Year', received '{other}'"
            );
            is.push(
                "invalid_enum_value",
                msg,
                json!(["aggregateBy", 0]),
                &json!(other),
            );
            return None;
        }
    };
    Some(bucket)
}

/// `aggregateFn`: required, only "sum".
fn aggregate_fn(pairs: &[(String, String)], is: &mut Issues) {
    match last(pairs, "aggregateFn") {
        Some("sum") => {}
        None => is.push(
            "invalid_type",
            "Required",
            json!(["aggregateFn"]),
            &json!("undefined"),
        ),
        Some(other) => {
            let msg = format!("Invalid enum value. Expected 'sum', received '{other}'");
            is.push(
                "invalid_enum_value",
                msg,
                json!(["aggregateFn"]),
                &json!(other),
            );
        }
    }
}

/// Units of USD per unit of each currency the server converts (fixed rates).
const RATES: [(&str, f64); 4] = [
    ("USD", 1.0),
    ("EUR", 1.0837),
    ("GBP", 1.2674),
    ("CAD", 0.7312),
];

fn rate(currency: &str) -> Option<f64> {
    RATES.iter().find(|(c, _)| *c == currency).map(|(_, r)| *r)
}

/// `currencyCode` (optional): one of the currencies in [`RATES`].
fn currency_param(pairs: &[(String, String)], is: &mut Issues) -> Option<&'static str> {
    let code = last(pairs, "currencyCode").filter(|c| !c.is_empty())?;
    match RATES.iter().find(|(c, _)| *c == code) {
        Some((c, _)) => Some(c),
        None => {
            let msg = format!(
                "Invalid enum value. Expected 'USD' | 'EUR' | 'GBP' | 'CAD', received '{code}'"
            );
            is.push(
                "invalid_enum_value",
                msg,
                json!(["currencyCode"]),
                &json!(code),
            );
            None
        }
    }
}

/// `amount` in `from`, converted to `to` when asked (unknown currencies stay as they are).
fn convert(amount: f64, from: &str, to: Option<&str>) -> f64 {
    match (to, rate(from)) {
        (Some(to), Some(from_rate)) if to != from => amount * from_rate / rate(to).unwrap_or(1.0),
        _ => amount,
    }
}

/// Where the bucket holding `t` starts: local midnight (of the day, the week's Monday, the month's or the year's
/// first day) in a zone `offset` east of UTC, expressed in UTC.
fn bucket_start(t: DateTime<Utc>, bucket: Bucket, offset: chrono::Duration) -> DateTime<Utc> {
    use chrono::Datelike;
    let local = (t + offset).date_naive();
    let day = match bucket {
        Bucket::Day => local,
        Bucket::Week => ledger::monday_of(local),
        Bucket::Month => local.with_day(1).unwrap_or(local),
        Bucket::Year => ledger::ymd(local.year(), 1, 1),
    };
    ledger::stamp(day, 0, 0, 0) - offset
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------------

/// `archivedAt` as the document's samples write it: seconds, no zone.
fn archived_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn money(cents: i64, currency: &str) -> Value {
    json!({"amount": major_units(cents), "currencyCode": currency})
}

fn account_json(d: &FinWiseData, a: &FinWiseAccount) -> Value {
    json!({
        "id": a.id,
        "createdAt": iso_millis(a.created_at),
        "updatedAt": iso_millis(a.updated_at),
        "userId": d.user_id,
        "name": a.name,
        "displayName": null,
        "friendlyName": null,
        "accountNumber": a.account_number,
        "currentBalance": money(a.balance_cents, &a.currency),
        "availableBalance": a.available_cents.map(|c| money(c, &a.currency)),
        "accountType": null,
        "archivedAt": a.archived_at.map(archived_text),
        "isLinked": a.is_linked,
        "institutionId": a.institution_id,
        "type": a.account_type,
        "subType": a.sub_type,
        "logoBase64": null,
        "data": a.data,
        "interestRate": null,
        "interestRateType": null,
        "lastPaymentDate": null,
        "lastPaymentAmount": null,
        "minimumAmountDue": null,
        "originationDate": null,
        "amountDue": null,
        "originalLoanAmount": null,
        "institutionUserId": null,
        "emoji": a.emoji,
        "institution": null,
    })
}

fn category_json(d: &FinWiseData, c: &FinWiseCategory) -> Value {
    json!({
        "id": c.id,
        "createdAt": iso_millis(c.created_at),
        "updatedAt": iso_millis(c.created_at),
        "name": c.name,
        "userId": d.user_id,
        "transactionCategoryGroupId": c.group_id,
        "color": c.color,
        "emoji": c.emoji,
        "markTransactionsAsTransfers": if c.name == "Transfers" { json!(true) } else { Value::Null },
        "excludeTransactionsFromBudget": null,
        "consolidateInBudget": null,
        "enableRollover": null,
        "rolloverFromDate": null,
    })
}

/// Each split parent's children, by the parent's id.
fn children_of(d: &FinWiseData) -> HashMap<&str, Vec<&FinWiseTxn>> {
    let mut out: HashMap<&str, Vec<&FinWiseTxn>> = HashMap::new();
    for c in &d.transactions {
        if let Some(parent) = c.parent_id.as_deref() {
            out.entry(parent).or_default().push(c);
        }
    }
    out
}

fn txn_json(d: &FinWiseData, t: &FinWiseTxn, splits: &HashMap<&str, Vec<&FinWiseTxn>>) -> Value {
    let children: Vec<Value> = splits
        .get(t.id.as_str())
        .into_iter()
        .flatten()
        .map(|c| json!({"id": c.id, "amount": money(c.amount_cents, &c.currency), "transactionCategoryId": c.category_id}))
        .collect();
    let tags: Vec<Value> = t
        .tag_ids
        .iter()
        .filter_map(|id| d.tag(id))
        .map(|g| json!({"id": g.id, "name": g.name}))
        .collect();
    json!({
        "id": t.id,
        "createdAt": iso_millis(t.created_at),
        "updatedAt": iso_millis(t.updated_at),
        "description": t.description,
        "originalDescription": t.original_description,
        "accountId": t.account_id,
        "amount": money(t.amount_cents, &t.currency),
        "date": iso_millis(t.date),
        "transactionCategoryId": t.category_id,
        "originalTransactionCategoryId": t.category_id,
        "merchantId": t.merchant_id,
        "originalMerchantId": t.merchant_id,
        "parentTransactionId": t.parent_id,
        "splits": if children.is_empty() { Value::Null } else { Value::Array(children) },
        "isManual": t.is_manual,
        "isTransfer": t.is_transfer,
        "notes": t.notes,
        "userId": d.user_id,
        "archivedAt": t.archived_at.map(archived_text),
        "effectiveDate": null,
        "dataImportId": null,
        "needsReview": t.needs_review,
        "isPending": t.is_pending,
        "pendingTransactionId": null,
        "transactionTags": tags,
        "fileRecords": [],
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic data
// ---------------------------------------------------------------------------------------------------------------

/// (category, group, emoji, color)
const CATEGORY_LOOK: [(&str, Option<&str>, &str, &str); 11] = [
    ("Groceries", Some("Food"), "🥙", "#407706"),
    ("Dining", Some("Food"), "🍽️", "#f97316"),
    ("Rent", Some("Bills"), "🏠", "#6471eb"),
    ("Utilities", Some("Bills"), "💡", "#db5a54"),
    ("Subscriptions", Some("Bills"), "📺", "#c44fe9"),
    ("Transport", None, "🚕", "#df4e92"),
    ("Shopping", None, "🛍️", "#e99537"),
    ("Cash", None, "💵", "#61c9ea"),
    ("Salary", Some("Income"), "💰", "#22c55e"),
    ("Interest", Some("Income"), "🏦", "#0ea5e9"),
    ("Transfers", None, "🔁", "#64748b"),
];

const TAG_NAMES: [&str; 4] = ["Vacation", "Work", "Reimbursable", "Tax"];

/// The ids drawn for the reference data.
struct Ids {
    accounts: Vec<String>,
    categories: HashMap<&'static str, String>,
    merchants: HashMap<String, String>,
    tags: Vec<String>,
}

fn generate(count: usize, seed: u64, hostile: bool) -> FinWiseData {
    let specs = [
        ledger::CHECKING,
        ledger::SAVINGS,
        ledger::CARD,
        ledger::EURO,
    ];
    // Two slots go to the children of one split purchase.
    let split = count >= 10;
    let book = ledger::generate(&specs, count - if split { 2 } else { 0 }, seed, hostile);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1);
    let mut d = FinWiseData {
        user_id: harness::uuid(&mut rng),
        ..Default::default()
    };
    let mut ids = reference_data(&mut rng, &mut d, &book);
    for e in &book.entries {
        let t = txn_from(&mut rng, &mut d, &mut ids, &book, e);
        d.transactions.push(t);
    }
    if split {
        split_one(&mut rng, &mut d);
    }
    d.transactions.sort_by(txn_order);
    d
}

/// Accounts, categories and tags (ids drawn before any transaction, so they do not depend on the count).
fn reference_data(rng: &mut ChaCha8Rng, d: &mut FinWiseData, book: &ledger::Ledger) -> Ids {
    let opened =
        ledger::stamp(ledger::ymd(2024, 5, 1), 9, 15, 46) + chrono::Duration::milliseconds(724);
    let mut ids = Ids {
        accounts: Vec::new(),
        categories: HashMap::new(),
        merchants: HashMap::new(),
        tags: Vec::new(),
    };
    for (i, a) in book.accounts.iter().enumerate() {
        let id = harness::uuid(rng);
        ids.accounts.push(id.clone());
        let (kind, sub, emoji) = match a.kind {
            Kind::Checking => ("depository", "checking", "🏦"),
            Kind::Savings => ("depository", "savings", "🐷"),
            Kind::Card => ("credit", "credit card", "💳"),
            Kind::Investment => ("investment", "brokerage", "📈"),
        };
        let manual = a.currency == "EUR";
        let created = opened + chrono::Duration::minutes(i as i64);
        d.accounts.push(FinWiseAccount {
            id,
            name: a.name.clone(),
            account_type: kind.to_string(),
            sub_type: sub.to_string(),
            currency: a.currency.to_string(),
            balance_cents: a.balance_cents,
            available_cents: match a.kind {
                Kind::Card => Some(1_000_000 + a.balance_cents),
                Kind::Investment => None,
                _ => Some(a.balance_cents),
            },
            account_number: Some(format!("27541{}", a.last4)),
            emoji: Some(emoji.to_string()),
            is_linked: !manual,
            institution_id: (!manual).then(|| harness::uuid(rng)),
            data: manual.then(|| {
                json!({"excludeFromBudget": false, "excludeFromNetWorth": false,
                       "excludeTransactions": false, "invertAmounts": false})
            }),
            archived_at: None,
            created_at: created,
            updated_at: created,
        });
    }
    let mut groups: HashMap<&str, String> = HashMap::new();
    for (name, group, emoji, color) in CATEGORY_LOOK {
        let id = harness::uuid(rng);
        let group_id = group.map(|g| {
            groups
                .entry(g)
                .or_insert_with(|| harness::uuid(rng))
                .clone()
        });
        ids.categories.insert(name, id.clone());
        d.categories.push(FinWiseCategory {
            id,
            name: name.to_string(),
            group_id,
            emoji: Some(emoji.to_string()),
            color: Some(color.to_string()),
            created_at: opened - chrono::Duration::seconds(30),
        });
    }
    for name in TAG_NAMES {
        let id = harness::uuid(rng);
        ids.tags.push(id.clone());
        d.tags.push(FinWiseTag {
            id,
            name: name.to_string(),
        });
    }
    ids
}

/// One ledger entry as a FinWise transaction; merchants are created as payees first appear.
fn txn_from(
    rng: &mut ChaCha8Rng,
    d: &mut FinWiseData,
    ids: &mut Ids,
    book: &ledger::Ledger,
    e: &ledger::Entry,
) -> FinWiseTxn {
    let manual = book.accounts[e.account].currency == "EUR";
    let merchant_id = (!e.transfer).then(|| {
        ids.merchants
            .entry(e.payee.clone())
            .or_insert_with(|| {
                let id = harness::uuid(rng);
                d.merchants.push(FinWiseMerchant {
                    id: id.clone(),
                    name: e.payee.clone(),
                });
                id
            })
            .clone()
    });
    let mut tag_ids = Vec::new();
    let wanted = match rng.random_range(0..100) {
        0..12 => 1,
        12..15 => 2,
        _ => 0,
    };
    while tag_ids.len() < wanted {
        let tag = ids.tags[rng.random_range(0..ids.tags.len())].clone();
        if !tag_ids.contains(&tag) {
            tag_ids.push(tag);
        }
    }
    let pending = rng.random_bool(0.03);
    FinWiseTxn {
        id: harness::uuid(rng),
        account_id: ids.accounts[e.account].clone(),
        date: ledger::stamp(e.date, 0, 0, 0),
        amount_cents: e.cents,
        currency: e.currency.to_string(),
        description: e.payee.clone(),
        original_description: e.raw.clone(),
        category_id: e.category.and_then(|c| ids.categories.get(c).cloned()),
        merchant_id,
        is_manual: manual,
        is_transfer: (!manual).then_some(e.transfer),
        is_pending: (!manual).then_some(pending),
        needs_review: Some(rng.random_bool(0.10)),
        notes: e.note.clone(),
        archived_at: None,
        parent_id: None,
        tag_ids,
        created_at: e.created_at + chrono::Duration::milliseconds(rng.random_range(0..1000)),
        updated_at: e.created_at + chrono::Duration::seconds(1),
    }
}

/// Splits the newest Shopping purchase of at least $20 into a Groceries and a Shopping child.
fn split_one(rng: &mut ChaCha8Rng, d: &mut FinWiseData) {
    let shopping = d
        .categories
        .iter()
        .find(|c| c.name == "Shopping")
        .map(|c| c.id.clone());
    let groceries = d
        .categories
        .iter()
        .find(|c| c.name == "Groceries")
        .map(|c| c.id.clone());
    d.transactions.sort_by(txn_order);
    let Some(parent) = d
        .transactions
        .iter()
        .find(|t| t.category_id == shopping && t.amount_cents <= -2_000 && t.parent_id.is_none())
        .cloned()
    else {
        return;
    };
    let first = (parent.amount_cents as f64 * 0.6).round() as i64;
    for (cents, category) in [(first, groceries), (parent.amount_cents - first, shopping)] {
        let mut child = parent.clone();
        child.id = harness::uuid(rng);
        child.amount_cents = cents;
        child.category_id = category;
        child.parent_id = Some(parent.id.clone());
        child.tag_ids.clear();
        child.created_at = parent.created_at + chrono::Duration::seconds(2);
        child.updated_at = child.created_at;
        d.transactions.push(child);
    }
}
