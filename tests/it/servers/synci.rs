//! A test server for the Synci API (seed document 004: a Laravel app, prefix `/api/v1`), answering as Laravel does,
//! traps included: `Authorization: Bearer TOKEN` *and* `Accept: application/json` — without the Accept header a
//! missing or bad token is a 302 redirect to `/login` (an HTML page; `GET /login` answers 200 with the login form,
//! so a client following redirects sees a 200 HTML page), and every 404/422/429 is an HTML error page instead of
//! JSON; with it, 401 is `{"message":"Unauthenticated."}`. Lists are Laravel paginators,
//! `{"data","links":{first,last,prev,next},"meta":{current_page,from,last_page,per_page,to,total,path}}`, driven
//! by `page[number]` and `page[size]` (default 25, at most 100; validation errors are 422
//! `{"message","errors":{field:[…]}}`), a page past the end has empty `data`. Transactions carry `amount` as a JSON
//! number on about half the rows and a numeric string ("-12.50") on the rest (negative = outflow), `booked: false`
//! for pending ones (~6%), the bank's raw `remittance_information`, `creditor_name`/`debtor_name`, and the rule
//! engine's `generated` {payee, description, category} (null on ~15% of rows). A manual sync
//! (`POST …/accounts/{id}/sync`, 202) is allowed once per `sync_interval` per account; a second one inside it is
//! Laravel's throttle 429 `{"message":"Too Many Attempts."}` with `Retry-After` and `X-RateLimit-*` headers. Where
//! the document is silent: the shapes of accounts, transactions, the sync answer (`{"data":{"id": the account's id,
//! "status":"queued"}}`) and the paginator's query parameters come from the brief and Laravel's defaults (the
//! paginator's `meta.links` array is left out); a USD account has a null `iban`; a 422 without the Accept header
//! is an HTML page rather than Laravel's redirect back. Data comes from the shared household ledger (`ledger.rs`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::harness::{self, Api, Core, Incoming, Reply, Running, lock, major_text, major_units};
pub use super::harness::{Fault, Recorded};
use super::ledger::{self, Kind};

/// The personal access token every server accepts unless told otherwise.
pub const DEFAULT_KEY: &str = "1|synciTestToken0123456789abcdefghijklmnop";
/// `page[size]` when the request gives none.
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// The largest `page[size]` accepted.
pub const MAX_PAGE_SIZE: usize = 100;

/// How the server behaves. `..Default::default()` gives 300 transactions from seed 7 and one sync a minute.
#[derive(Debug, Clone)]
pub struct SynciOptions {
    pub transactions: usize,
    pub seed: u64,
    /// The personal access token.
    pub api_key: String,
    /// Laravel's `throttle`: N requests per fixed window per token; over it: 429 with `Retry-After`.
    pub rate_limit: Option<(u32, Duration)>,
    /// Added to every answer.
    pub latency: Duration,
    /// Terminal escapes and other hostile text in some remittance texts, names, payees and an account name.
    pub hostile: bool,
    /// One manual sync per account per this long.
    pub sync_interval: Duration,
}

impl Default for SynciOptions {
    fn default() -> Self {
        SynciOptions {
            transactions: 300,
            seed: 7,
            api_key: DEFAULT_KEY.to_string(),
            rate_limit: None,
            latency: Duration::ZERO,
            hostile: false,
            sync_interval: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynciAccount {
    /// A UUID.
    pub id: String,
    pub name: String,
    /// None for the USD accounts.
    pub iban: Option<String>,
    /// Upper case ISO code.
    pub currency: String,
    /// Minor units.
    pub balance_cents: i64,
    /// Serve `balance` as a numeric string instead of a number.
    pub balance_as_text: bool,
    pub institution_name: String,
    pub institution_bic: String,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What Synci's rules made of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct SynciGenerated {
    pub payee: String,
    pub description: String,
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynciTxn {
    /// A UUID.
    pub id: String,
    pub bank_account_id: String,
    /// Minor units, negative = outflow.
    pub amount_cents: i64,
    /// Serve `amount` as a numeric string ("-12.50") instead of a number.
    pub amount_as_text: bool,
    pub currency: String,
    pub booking_date: NaiveDate,
    pub value_date: NaiveDate,
    /// false = pending.
    pub booked: bool,
    pub remittance_information: Option<String>,
    pub creditor_name: Option<String>,
    pub debtor_name: Option<String>,
    pub generated: Option<SynciGenerated>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One manual sync request.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncCall {
    pub account_id: String,
    /// false: refused with 429 (inside the sync interval).
    pub accepted: bool,
    pub at: DateTime<Utc>,
}

/// Everything the server serves; tests may read and change it through [`SynciServer::with_data`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SynciData {
    pub accounts: Vec<SynciAccount>,
    pub transactions: Vec<SynciTxn>,
}

impl SynciData {
    pub fn account(&self, id: &str) -> Option<&SynciAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn account_by_name(&self, name: &str) -> Option<&SynciAccount> {
        self.accounts.iter().find(|a| a.name == name)
    }

    pub fn txn(&self, id: &str) -> Option<&SynciTxn> {
        self.transactions.iter().find(|t| t.id == id)
    }

    pub fn txn_mut(&mut self, id: &str) -> Option<&mut SynciTxn> {
        self.transactions.iter_mut().find(|t| t.id == id)
    }

    /// Deterministic data for `count` transactions from `seed`.
    pub fn generate(count: usize, seed: u64, hostile: bool) -> SynciData {
        generate(count, seed, hostile)
    }
}

/// Synci's list order: booking_date desc, created_at desc, id desc.
pub fn txn_order(a: &SynciTxn, b: &SynciTxn) -> std::cmp::Ordering {
    b.booking_date
        .cmp(&a.booking_date)
        .then(b.created_at.cmp(&a.created_at))
        .then(b.id.cmp(&a.id))
}

// ---------------------------------------------------------------------------------------------------------------
// The server handle
// ---------------------------------------------------------------------------------------------------------------

/// A running Synci test server on 127.0.0.1.
pub struct SynciServer {
    /// "http://127.0.0.1:PORT" (no `/api/v1`).
    pub url: String,
    pub key: String,
    pub addr: SocketAddr,
    state: Arc<State>,
    running: Running,
}

impl SynciServer {
    /// Binds 127.0.0.1 on an OS-chosen port and serves in the background.
    pub async fn start(opts: SynciOptions) -> SynciServer {
        Self::start_on(harness::any_port(), opts).await
    }

    /// Binds `addr` (for the example binary's `--port`) and serves in the background.
    pub async fn start_on(addr: SocketAddr, opts: SynciOptions) -> SynciServer {
        let data = SynciData::generate(opts.transactions, opts.seed, opts.hostile);
        let key = opts.api_key.clone();
        let state = Arc::new(State {
            core: Core::new("/api/v1", opts.latency, opts.rate_limit),
            data: Mutex::new(data),
            syncs: Mutex::new(Vec::new()),
            last_sync: Mutex::new(HashMap::new()),
            opts,
        });
        let running = harness::serve(addr, harness::router(state.clone()), "Synci").await;
        SynciServer {
            url: running.url.clone(),
            key,
            addr: running.addr,
            state,
            running,
        }
    }

    /// `url` + "/api/v1".
    pub fn api_url(&self) -> String {
        format!("{}/api/v1", self.url)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.core.requests()
    }

    pub fn clear_requests(&self) {
        self.state.core.clear_requests();
    }

    /// Every manual sync request (accepted or refused), in order.
    pub fn syncs(&self) -> Vec<SyncCall> {
        lock(&self.state.syncs).clone()
    }

    /// Reads or changes the served data (the server is blocked meanwhile).
    pub fn with_data<T>(&self, f: impl FnOnce(&mut SynciData) -> T) -> T {
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

    /// How many requests the rate limiter answered 429 (refused syncs are in [`SynciServer::syncs`] instead).
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
    opts: SynciOptions,
    core: Core,
    data: Mutex<SynciData>,
    syncs: Mutex<Vec<SyncCall>>,
    /// When each account's last accepted sync happened.
    last_sync: Mutex<HashMap<String, Instant>>,
}

enum Route {
    Login,
    User,
    Accounts,
    Account(String),
    Sync(String),
    Txns,
    Txn(String),
}

fn route(method: &str, path: &str) -> Option<Route> {
    if method == "GET" && path.trim_end_matches('/') == "/login" {
        return Some(Route::Login);
    }
    let rest = path.strip_prefix("/api/v1/")?.trim_end_matches('/');
    let segs: Vec<&str> = rest.split('/').collect();
    let id = |s: &&str| (*s).to_string();
    let r = match (method, segs.as_slice()) {
        ("GET", ["user"]) => Route::User,
        ("GET", ["banks", "accounts"]) => Route::Accounts,
        ("GET", ["banks", "accounts", i]) => Route::Account(id(i)),
        ("POST", ["banks", "accounts", i, "sync"]) => Route::Sync(id(i)),
        ("GET", ["banks", "transactions"]) => Route::Txns,
        ("GET", ["banks", "transactions", i]) => Route::Txn(id(i)),
        _ => return None,
    };
    Some(r)
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, json!({"message": text}))
}

fn model_not_found(model: &str, id: &str) -> Reply {
    message(
        404,
        &format!("No query results for model [App\\Models\\{model}] {id}"),
    )
}

/// Laravel's `expectsJson()`: an Accept header whose preferred type is JSON, or an XHR that accepts anything.
fn expects_json(req: &Incoming<'_>) -> bool {
    let accept = req.header("accept").unwrap_or("").trim();
    let mut types: Vec<(f32, &str)> = accept
        .split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            let mut parts = t.split(';');
            let kind = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                .unwrap_or(1.0);
            (q, kind)
        })
        .collect();
    types.sort_by(|a, b| b.0.total_cmp(&a.0));
    let first = types.first().map_or("", |t| t.1);
    let wants_json = first.contains("/json") || first.contains("+json");
    let xhr = req.header("x-requested-with") == Some("XMLHttpRequest");
    wants_json || (xhr && (first.is_empty() || first == "*/*" || first == "*"))
}

/// The site root as the client addressed it (for redirects and paginator links).
fn base_url(req: &Incoming<'_>) -> String {
    format!("http://{}", req.header("host").unwrap_or("localhost"))
}

impl Api for State {
    fn core(&self) -> &Core {
        &self.core
    }

    fn answer(&self, req: &Incoming<'_>) -> Reply {
        let reply = self.handle(req);
        if expects_json(req) || !matches!(reply.status.as_u16(), 401 | 404 | 422 | 429) {
            return reply;
        }
        if reply.status.as_u16() == 401 {
            return redirect_to_login(req);
        }
        let mut page = Reply::html(reply.status.as_u16(), error_page(reply.status.as_u16()));
        page.headers = reply.headers;
        page
    }
}

impl State {
    /// Routing, auth, the throttle, then the action (Laravel matches the route before running its middleware).
    fn handle(&self, req: &Incoming<'_>) -> Reply {
        let Some(route) = route(req.parts.method.as_str(), req.path()) else {
            let path = req.path().trim_start_matches('/');
            return message(404, &format!("The route {path} could not be found."));
        };
        if let Route::Login = route {
            return Reply::html(200, login_page(&base_url(req)));
        }
        let token = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        if token.is_empty() || token != self.opts.api_key {
            return message(401, "Unauthenticated.");
        }
        let quota = match self.core.limit(token) {
            Ok(q) => q,
            Err(q) => {
                return throttled(q.limit, q.reset_secs);
            }
        };
        let mut reply = self.act(route, req);
        if let Some(q) = quota
            && reply.header("x-ratelimit-limit").is_none()
        {
            reply
                .headers
                .push(("x-ratelimit-limit", q.limit.to_string()));
            reply
                .headers
                .push(("x-ratelimit-remaining", q.remaining.to_string()));
        }
        reply
    }

    fn act(&self, route: Route, req: &Incoming<'_>) -> Reply {
        let pairs = req.query();
        match route {
            Route::Login => Reply::html(200, login_page(&base_url(req))),
            Route::User => Reply::ok(user_json()),
            Route::Accounts => {
                let d = lock(&self.data);
                let mut v = Validation::default();
                let page = page_params(&pairs, &mut v);
                if let Some(r) = v.reply() {
                    return r;
                }
                let items = page_of(&d.accounts, page)
                    .iter()
                    .map(account_json)
                    .collect();
                Reply::ok(paginated(req, &pairs, items, page, d.accounts.len()))
            }
            Route::Account(id) => match lock(&self.data).account(&id) {
                Some(a) => Reply::ok(json!({"data": account_json(a)})),
                None => model_not_found("BankAccount", &id),
            },
            Route::Sync(id) => self.sync(&id),
            Route::Txns => self.transactions(req, &pairs),
            Route::Txn(id) => match lock(&self.data).txn(&id) {
                Some(t) => Reply::ok(json!({"data": txn_json(t)})),
                None => model_not_found("BankTransaction", &id),
            },
        }
    }

    fn transactions(&self, req: &Incoming<'_>, pairs: &[(String, String)]) -> Reply {
        let d = lock(&self.data);
        let mut v = Validation::default();
        let page = page_params(pairs, &mut v);
        let account = last(pairs, "bank_account_id").filter(|a| !a.is_empty());
        if let Some(a) = account
            && d.account(a).is_none()
        {
            v.add(
                "bank_account_id",
                "The selected bank account id is invalid.",
            );
        }
        if let Some(r) = v.reply() {
            return r;
        }
        let mut hits: Vec<&SynciTxn> = d
            .transactions
            .iter()
            .filter(|t| account.is_none_or(|a| t.bank_account_id == a))
            .collect();
        hits.sort_by(|a, b| txn_order(a, b));
        let items = page_of(&hits, page).iter().map(|t| txn_json(t)).collect();
        Reply::ok(paginated(req, pairs, items, page, hits.len()))
    }

    /// POST …/accounts/{id}/sync: 202 once per interval per account, else the throttle's 429.
    fn sync(&self, id: &str) -> Reply {
        let exists = lock(&self.data).account(id).is_some();
        if !exists {
            return model_not_found("BankAccount", id);
        }
        let mut last = lock(&self.last_sync);
        let now = Instant::now();
        let left = last
            .get(id)
            .map(|at| {
                self.opts
                    .sync_interval
                    .saturating_sub(now.duration_since(*at))
            })
            .filter(|left| !left.is_zero());
        let accepted = left.is_none();
        lock(&self.syncs).push(SyncCall {
            account_id: id.to_string(),
            accepted,
            at: Utc::now(),
        });
        if let Some(left) = left {
            let secs = left.as_millis().div_ceil(1000).max(1);
            return throttled(1, u64::try_from(secs).unwrap_or(u64::MAX));
        }
        last.insert(id.to_string(), now);
        if let Some(a) = lock(&self.data).accounts.iter_mut().find(|a| a.id == id) {
            a.last_synced_at = Some(Utc::now());
        }
        Reply::json(202, json!({"data": {"id": id, "status": "queued"}}))
            .with_header("x-ratelimit-limit", "1")
            .with_header("x-ratelimit-remaining", "0")
    }
}

/// Laravel's throttle answer.
fn throttled(limit: u32, retry_after: u64) -> Reply {
    let reset = Utc::now().timestamp() + i64::try_from(retry_after).unwrap_or(0);
    message(429, "Too Many Attempts.")
        .with_header("retry-after", retry_after.to_string())
        .with_header("x-ratelimit-limit", limit.to_string())
        .with_header("x-ratelimit-remaining", "0")
        .with_header("x-ratelimit-reset", reset.to_string())
}

fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------------------------------
// Validation and pagination
// ---------------------------------------------------------------------------------------------------------------

/// Laravel's validation errors, in order.
#[derive(Default)]
struct Validation(Vec<(String, String)>);

impl Validation {
    fn add(&mut self, field: &str, text: &str) {
        self.0.push((field.to_string(), text.to_string()));
    }

    /// 422 `{"message": first (and N more errors), "errors": {field: [messages]}}`, when any.
    fn reply(self) -> Option<Reply> {
        let (_, first) = self.0.first()?;
        let more = self.0.len() - 1;
        let message = match more {
            0 => first.clone(),
            1 => format!("{first} (and 1 more error)"),
            n => format!("{first} (and {n} more errors)"),
        };
        let mut errors = Map::new();
        for (field, text) in &self.0 {
            let list = errors.entry(field.clone()).or_insert_with(|| json!([]));
            if let Value::Array(items) = list {
                items.push(json!(text));
            }
        }
        Some(Reply::json(
            422,
            json!({"message": message, "errors": errors}),
        ))
    }
}

#[derive(Debug, Clone, Copy)]
struct Page {
    number: usize,
    size: usize,
}

/// `page[number]` (integer ≥ 1) and `page[size]` (integer 1..=100).
fn page_params(pairs: &[(String, String)], v: &mut Validation) -> Page {
    let mut read = |key: &str, field: &str, default: usize, max: Option<usize>| -> usize {
        let Some(raw) = last(pairs, key).filter(|s| !s.trim().is_empty()) else {
            return default;
        };
        let Ok(n) = raw.trim().parse::<i64>() else {
            v.add(field, &format!("The {field} field must be an integer."));
            return default;
        };
        if n < 1 {
            v.add(field, &format!("The {field} field must be at least 1."));
            return default;
        }
        if let Some(max) = max.filter(|m| n > *m as i64) {
            v.add(
                field,
                &format!("The {field} field must not be greater than {max}."),
            );
            return default;
        }
        usize::try_from(n).unwrap_or(default)
    };
    let number = read("page[number]", "page.number", 1, None);
    let size = read(
        "page[size]",
        "page.size",
        DEFAULT_PAGE_SIZE,
        Some(MAX_PAGE_SIZE),
    );
    Page { number, size }
}

fn page_of<T>(items: &[T], page: Page) -> &[T] {
    let start = (page.number - 1).saturating_mul(page.size).min(items.len());
    let end = start.saturating_add(page.size).min(items.len());
    &items[start..end]
}

/// The paginator envelope around one page's `data`, out of `total` items.
fn paginated(
    req: &Incoming<'_>,
    pairs: &[(String, String)],
    data: Vec<Value>,
    page: Page,
    total: usize,
) -> Value {
    let path = format!("{}{}", base_url(req), req.path());
    let kept: String = pairs
        .iter()
        .filter(|(k, _)| k != "page[number]")
        .map(|(k, v)| {
            format!(
                "{}={}&",
                harness::encode_component(k),
                harness::encode_component(v)
            )
        })
        .collect();
    let last_page = total.div_ceil(page.size).max(1);
    let url = |n: usize| json!(format!("{path}?{kept}page%5Bnumber%5D={n}"));
    let start = (page.number - 1).saturating_mul(page.size);
    let shown = data.len();
    let (from, to) = if shown == 0 {
        (Value::Null, Value::Null)
    } else {
        (json!(start + 1), json!(start + shown))
    };
    json!({
        "data": data,
        "links": {
            "first": url(1),
            "last": url(last_page),
            "prev": if page.number > 1 { url(page.number - 1) } else { Value::Null },
            "next": if page.number < last_page { url(page.number + 1) } else { Value::Null },
        },
        "meta": {
            "current_page": page.number,
            "from": from,
            "last_page": last_page,
            "path": path,
            "per_page": page.size,
            "to": to,
            "total": total,
        },
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------------

/// A Laravel timestamp: microseconds, `Z`.
fn laravel_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn user_json() -> Value {
    let joined = laravel_time(ledger::stamp(ledger::ymd(2024, 5, 1), 9, 0, 0));
    json!({"id": 1, "name": "Alex Morgan", "email": "alex.morgan@example.com",
           "email_verified_at": joined, "created_at": joined, "updated_at": joined})
}

fn account_json(a: &SynciAccount) -> Value {
    let balance = if a.balance_as_text {
        json!(major_text(a.balance_cents))
    } else {
        major_units(a.balance_cents)
    };
    let slug = a.institution_name.to_lowercase().replace(' ', "-");
    json!({
        "id": a.id,
        "name": a.name,
        "iban": a.iban,
        "currency": a.currency,
        "balance": balance,
        "institution": {
            "id": slug.to_uppercase().replace('-', "_"),
            "name": a.institution_name,
            "bic": a.institution_bic,
            "logo": format!("https://cdn.synci.io/institutions/{slug}.png"),
        },
        "last_synced_at": a.last_synced_at.map(laravel_time),
        "created_at": laravel_time(a.created_at),
        "updated_at": laravel_time(a.created_at),
    })
}

fn txn_json(t: &SynciTxn) -> Value {
    let amount = if t.amount_as_text {
        json!(major_text(t.amount_cents))
    } else {
        major_units(t.amount_cents)
    };
    let generated = t
        .generated
        .as_ref()
        .map(|g| json!({"payee": g.payee, "description": g.description, "category": g.category}));
    json!({
        "id": t.id,
        "bank_account_id": t.bank_account_id,
        "amount": amount,
        "currency": t.currency,
        "booking_date": t.booking_date.format("%Y-%m-%d").to_string(),
        "value_date": t.value_date.format("%Y-%m-%d").to_string(),
        "booked": t.booked,
        "remittance_information": t.remittance_information,
        "creditor_name": t.creditor_name,
        "debtor_name": t.debtor_name,
        "generated": generated,
        "created_at": laravel_time(t.created_at),
        "updated_at": laravel_time(t.updated_at),
    })
}

/// Laravel's redirect response to the login page.
fn redirect_to_login(req: &Incoming<'_>) -> Reply {
    let to = format!("{}/login", base_url(req));
    let page = format!(
        "<!DOCTYPE html>\n<html>\n    <head>\n        <meta charset=\"UTF-8\" />\n        \
         <meta http-equiv=\"refresh\" content=\"0;url='{to}'\" />\n\n        <title>Redirecting to {to}</title>\n    \
         </head>\n    <body>\n        Redirecting to <a href=\"{to}\">{to}</a>.\n    </body>\n</html>"
    );
    Reply::html(302, page).with_header("location", to)
}

/// Laravel's minimal error page.
fn error_page(status: u16) -> String {
    let title = match status {
        404 => "Not Found",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        _ => "Error",
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n</head>\n\
         <body class=\"antialiased\">\n<div class=\"flex items-center\">\n<div class=\"px-4 text-lg\">{status}</div>\n\
         <div class=\"ml-4 text-lg uppercase\">{title}</div>\n</div>\n</body>\n</html>\n"
    )
}

fn login_page(base: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Synci - Log in</title>\n\
         </head>\n<body>\n<form method=\"POST\" action=\"{base}/login\">\n\
         <input type=\"hidden\" name=\"_token\" value=\"tXz2l1Yt9bJq3W0sVb0v4k6yB8Qn1mPzR5cA7dEf\">\n\
         <label for=\"email\">Email</label><input id=\"email\" type=\"email\" name=\"email\">\n\
         <label for=\"password\">Password</label><input id=\"password\" type=\"password\" name=\"password\">\n\
         <button type=\"submit\">Log in</button>\n</form>\n</body>\n</html>\n"
    )
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic data
// ---------------------------------------------------------------------------------------------------------------

/// An IBAN with valid check digits for `country` and the national account number `bban` (digits).
pub fn iban(country: &str, bban: &str) -> String {
    let digits: String = format!("{bban}{country}00")
        .chars()
        .map(|c| match c.to_digit(36) {
            Some(v) => v.to_string(),
            None => String::new(),
        })
        .collect();
    let rem = digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    format!("{country}{:02}{bban}", 98 - rem)
}

fn bic_of(institution: &str) -> &'static str {
    match institution {
        "N26" => "NTSBDEB1XXX",
        "Ally Bank" => "ALLYUS31XXX",
        _ => "CHASUS33XXX",
    }
}

/// What the rules would call the transaction.
fn describe(e: &ledger::Entry) -> String {
    let p = &e.payee;
    match e.category {
        _ if p == "Amazon" => "Amazon order".to_string(),
        Some("Groceries") => format!("Groceries at {p}"),
        Some("Dining") => format!("Meal at {p}"),
        Some("Rent") => "Monthly rent".to_string(),
        Some("Utilities") => format!("{p} bill"),
        Some("Subscriptions") => format!("{p} subscription"),
        Some("Transport") => format!("Travel with {p}"),
        Some("Shopping") => format!("{p} purchase"),
        Some("Cash") => "Cash withdrawal".to_string(),
        Some("Salary") => format!("Salary from {p}"),
        Some("Interest") => format!("Interest from {p}"),
        _ => p.clone(),
    }
}

fn generate(count: usize, seed: u64, hostile: bool) -> SynciData {
    let specs = [
        ledger::CHECKING,
        ledger::SAVINGS,
        ledger::CARD,
        ledger::EURO,
    ];
    let book = ledger::generate(&specs, count, seed, hostile);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(4);
    let linked = ledger::stamp(ledger::ymd(2024, 5, 2), 18, 4, 11);
    let mut d = SynciData::default();
    for (i, a) in book.accounts.iter().enumerate() {
        let id = harness::uuid(&mut rng);
        let iban = (a.currency == "EUR").then(|| iban("DE", &format!("10011001{:0>10}", a.last4)));
        d.accounts.push(SynciAccount {
            id,
            name: a.name.clone(),
            iban,
            currency: a.currency.to_string(),
            balance_cents: a.balance_cents,
            balance_as_text: a.currency == "EUR" || a.kind == Kind::Card,
            institution_name: a.institution.to_string(),
            institution_bic: bic_of(a.institution).to_string(),
            last_synced_at: Some(ledger::stamp(ledger::data_end(), 6, 0, 0)),
            created_at: linked + chrono::Duration::seconds(i as i64),
        });
    }
    for e in &book.entries {
        let t = txn_from(&mut rng, &d, e);
        d.transactions.push(t);
    }
    d.transactions.sort_by(txn_order);
    d
}

fn txn_from(rng: &mut ChaCha8Rng, d: &SynciData, e: &ledger::Entry) -> SynciTxn {
    let outflow = e.cents < 0;
    let named = e.counterparty.clone().filter(|_| rng.random_bool(0.8));
    let generated = rng.random_bool(0.85).then(|| SynciGenerated {
        payee: e.payee.clone(),
        description: describe(e),
        category: e.category.map(str::to_string),
    });
    let value_date = e.date - chrono::Duration::days(rng.random_range(0..2));
    SynciTxn {
        id: harness::uuid(rng),
        bank_account_id: d.accounts[e.account].id.clone(),
        amount_cents: e.cents,
        amount_as_text: rng.random_bool(0.5),
        currency: e.currency.to_string(),
        booking_date: e.date,
        value_date,
        booked: !rng.random_bool(0.06),
        remittance_information: Some(e.raw.clone()),
        creditor_name: if outflow { named.clone() } else { None },
        debtor_name: if outflow { None } else { named },
        generated,
        created_at: e.created_at,
        updated_at: e.created_at,
    }
}
