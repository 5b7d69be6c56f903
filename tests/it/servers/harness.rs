//! The machinery every test server shares, so each API's module only says how that API answers. [`serve`] binds
//! 127.0.0.1 (port 0 for an OS-chosen one) and runs an axum app with graceful shutdown ([`Running`] stops it when
//! dropped). [`Core`] is the per-server bookkeeping: every request is recorded as a [`Recorded`], a queue of
//! [`Fault`]s (matched by path prefix, with or without the API's own prefix) is applied to the answers, requests in
//! flight are counted, a fixed-window [`Limiter`] counts requests per key, and an optional latency delays every
//! answer. An API implements [`Api`] (`core` + `answer`) and [`router`] turns it into the app; handlers build a
//! [`Reply`] (JSON, raw text such as an HTML page, or nothing) and [`finish`] applies body faults and serializes it.
//! Included from `tests/it/servers/mod.rs` and, with `#[path]`, from the example binaries; the servers reach it as
//! `super::harness`.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------------------------------
// Recorded requests and faults
// ---------------------------------------------------------------------------------------------------------------

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

/// A fault for the next request whose path starts with `path_prefix` (given with or without the API's prefix, such
/// as `/api/v1`). Faults are a queue: each request takes the first queued fault that matches it.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// An nginx-style HTML error page with that status, instead of the answer (the request is not processed).
    HtmlError { path_prefix: String, status: u16 },
    /// Drop `field` (a dotted path such as `account.name` reaches inside) from every item object of the answer's list
    /// (`transactions`, `accounts`, `categories`, `data` or a plain array), or from the object itself for a
    /// one-object answer.
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
    pub fn prefix(&self) -> &str {
        match self {
            Fault::HtmlError { path_prefix, .. }
            | Fault::MissingField { path_prefix, .. }
            | Fault::NumbersAsStrings { path_prefix }
            | Fault::CutMidBody { path_prefix }
            | Fault::Status { path_prefix, .. } => path_prefix,
        }
    }

    /// Whether the fault applies to `path`, whose API prefix (`""` for none) may be left out of the fault's.
    pub fn matches(&self, path: &str, api_prefix: &str) -> bool {
        let prefix = self.prefix();
        path.starts_with(prefix)
            || (!api_prefix.is_empty()
                && path
                    .strip_prefix(api_prefix)
                    .is_some_and(|rest| rest.starts_with(prefix)))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------------------------

/// What a handler answers, before faults and serialization.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    /// A JSON body.
    pub body: Option<Value>,
    /// A non-JSON body (content type, text), sent instead of `body` when set; faults that edit JSON skip it.
    pub raw: Option<(&'static str, String)>,
    /// Extra headers, lowercase names.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status: status_code(status),
            body: Some(body),
            raw: None,
            headers: Vec::new(),
        }
    }

    pub fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    /// No body at all (204 and the like).
    pub fn empty(status: u16) -> Reply {
        Reply {
            status: status_code(status),
            body: None,
            raw: None,
            headers: Vec::new(),
        }
    }

    /// An HTML page.
    pub fn html(status: u16, page: String) -> Reply {
        Reply {
            status: status_code(status),
            body: None,
            raw: Some(("text/html; charset=UTF-8", page)),
            headers: Vec::new(),
        }
    }

    /// Adds a header (builder style).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of header `name` already set on the reply.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_error(&self) -> bool {
        self.status.is_client_error() || self.status.is_server_error()
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Serializes the reply, applying a body fault.
pub fn finish(mut reply: Reply, fault: Option<Fault>) -> Response {
    if let Some(body) = reply.body.as_mut() {
        match &fault {
            Some(Fault::MissingField { field, .. }) => drop_field(body, field),
            Some(Fault::NumbersAsStrings { .. }) => numbers_to_strings(body),
            _ => {}
        }
    }
    let (bytes, content_type) = match (&reply.raw, &reply.body) {
        (Some((kind, text)), _) => (Some(text.clone().into_bytes()), Some(*kind)),
        (None, Some(body)) => (
            Some(serde_json::to_vec(body).unwrap_or_default()),
            Some("application/json; charset=utf-8"),
        ),
        (None, None) => (None, None),
    };
    let mut builder = Response::builder().status(reply.status);
    if let Some(kind) = content_type {
        builder = builder.header(header::CONTENT_TYPE, kind);
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

/// An nginx error page (the `HtmlError` fault: a proxy in front of the API answering instead of it).
pub fn html_error(status: u16) -> Response {
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
        Value::Object(map) => ["transactions", "accounts", "categories", "data"]
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

// ---------------------------------------------------------------------------------------------------------------
// The fixed-window rate limiter
// ---------------------------------------------------------------------------------------------------------------

/// Where a key stands in the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    /// Requests counted in this window (including this one when it was let through).
    pub used: u32,
    pub remaining: u32,
    /// Whole seconds until the window ends (what `Retry-After` says).
    pub reset_secs: u64,
}

#[derive(Debug, Default)]
struct KeyUse {
    window: u64,
    count: u32,
}

/// N requests per fixed window per key, windows counted from the limiter's creation (server start). A request over
/// the limit is refused without being counted.
#[derive(Debug)]
pub struct Limiter {
    limit: u32,
    window: Duration,
    started: Instant,
    keys: Mutex<HashMap<String, KeyUse>>,
}

impl Limiter {
    pub fn new(limit: u32, window: Duration) -> Limiter {
        Limiter {
            limit,
            window,
            started: Instant::now(),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// (current window index, whole seconds until it ends).
    pub fn window_now(&self) -> (u64, u64) {
        let window = self.window.as_nanos().max(1);
        let elapsed = self.started.elapsed().as_nanos();
        let index = elapsed / window;
        let left = (index + 1) * window - elapsed;
        let secs = left.div_ceil(1_000_000_000);
        (
            u64::try_from(index).unwrap_or(u64::MAX),
            u64::try_from(secs).unwrap_or(u64::MAX),
        )
    }

    /// Counts one request for `key`: `Ok` with the quota after counting, or `Err` (not counted) when the window's
    /// allowance is used up.
    pub fn check(&self, key: &str) -> Result<Quota, Quota> {
        let (window, reset_secs) = self.window_now();
        let mut keys = lock(&self.keys);
        let used = keys.entry(key.to_string()).or_default();
        if used.window != window {
            used.window = window;
            used.count = 0;
        }
        let quota = |count: u32| Quota {
            limit: self.limit,
            used: count,
            remaining: self.limit.saturating_sub(count),
            reset_secs,
        };
        if used.count >= self.limit {
            return Err(quota(used.count));
        }
        used.count += 1;
        Ok(quota(used.count))
    }

    /// Requests counted for `key` in the window it last used (0 for a key never seen).
    pub fn used(&self, key: &str) -> u32 {
        lock(&self.keys).get(key).map_or(0, |k| k.count)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Core: per-server bookkeeping
// ---------------------------------------------------------------------------------------------------------------

/// What every server keeps: recorded requests, queued faults, in-flight counts, the rate limiter and the latency.
#[derive(Debug)]
pub struct Core {
    /// The API's own path prefix (`"/api/v1"`, `"/v1"`, or `""`), which faults may leave out.
    pub api_prefix: &'static str,
    pub latency: Duration,
    pub limiter: Option<Limiter>,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    refused: AtomicUsize,
}

/// Counts a request in flight for as long as it lives.
pub struct InFlight<'a>(&'a Core);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Core {
    /// `rate_limit`: N requests per window per key (`None`: no limiter).
    pub fn new(
        api_prefix: &'static str,
        latency: Duration,
        rate_limit: Option<(u32, Duration)>,
    ) -> Core {
        Core {
            api_prefix,
            latency,
            limiter: rate_limit.map(|(n, window)| Limiter::new(n, window)),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(VecDeque::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        }
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    /// Queues a fault for the next request that matches it.
    pub fn inject(&self, fault: Fault) {
        lock(&self.faults).push_back(fault);
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.faults).iter().cloned().collect()
    }

    /// The most requests being handled at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// How many requests the rate limiter refused (429).
    pub fn rate_limited(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Counts one more refusal (for a server-specific limit, such as Synci's one sync a minute).
    pub fn count_refusal(&self) {
        self.refused.fetch_add(1, Ordering::SeqCst);
    }

    /// Passes `key` through the rate limiter: `Ok(None)` without a limiter, `Ok(Some(quota))` when counted, `Err`
    /// (counted as a refusal) when over the limit — the caller answers its API's 429 with `Retry-After`.
    pub fn limit(&self, key: &str) -> Result<Option<Quota>, Quota> {
        let Some(limiter) = &self.limiter else {
            return Ok(None);
        };
        match limiter.check(key) {
            Ok(q) => Ok(Some(q)),
            Err(q) => {
                self.count_refusal();
                Err(q)
            }
        }
    }

    pub fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    pub fn record(&self, parts: &Parts, body: Option<Value>) {
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

    pub fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let at = faults
            .iter()
            .position(|f| f.matches(path, self.api_prefix))?;
        faults.remove(at)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------------------------------------------

/// A request as handed to [`Api::answer`].
pub struct Incoming<'a> {
    pub parts: &'a Parts,
    /// The body as received.
    pub raw: &'a [u8],
    /// The body parsed as JSON (a non-JSON body as a JSON string), `None` when empty — what was recorded.
    pub body: Option<Value>,
}

impl Incoming<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_str(&self.parts.headers, name)
    }

    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// Decoded query pairs, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        parse_query(self.parts.uri.query().unwrap_or(""))
    }
}

/// One API: its bookkeeping and how it answers a request (auth, limits, routing, the action).
pub trait Api: Send + Sync + 'static {
    fn core(&self) -> &Core;

    /// The answer to a request that no fault replaced.
    fn answer(&self, req: &Incoming<'_>) -> Reply;

    /// Last touches on every answer from the API itself (including a `Fault::Status` one), such as a request id.
    fn decorate(&self, _reply: &mut Reply) {}
}

/// The app for `api`: one fallback handler that records, counts, waits, applies faults and answers.
pub fn router<A: Api>(api: Arc<A>) -> Router {
    Router::new().fallback(handle::<A>).with_state(api)
}

async fn handle<A: Api>(State(api): State<Arc<A>>, req: Request) -> Response {
    let core = api.core();
    let _in_flight = core.enter();
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = parse_body(&bytes);
    core.record(&parts, body.clone());
    if !core.latency.is_zero() {
        tokio::time::sleep(core.latency).await;
    }
    let fault = core.take_fault(parts.uri.path());
    match &fault {
        Some(Fault::HtmlError { status, .. }) => return html_error(*status),
        Some(Fault::Status { status, body, .. }) => {
            let mut reply = Reply::json(*status, body.clone());
            api.decorate(&mut reply);
            return finish(reply, None);
        }
        _ => {}
    }
    let incoming = Incoming {
        parts: &parts,
        raw: &bytes,
        body,
    };
    let mut reply = api.answer(&incoming);
    api.decorate(&mut reply);
    finish(reply, fault)
}

/// A body as recorded: JSON, else the text as a JSON string, `None` when blank.
pub fn parse_body(bytes: &[u8]) -> Option<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

/// A server task on a bound address; dropping it stops the server.
pub struct Running {
    /// "http://127.0.0.1:PORT".
    pub url: String,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Binds `addr` (port 0: any free one) and serves `app` in the background until stopped or dropped.
pub async fn serve(addr: SocketAddr, app: Router, what: &str) -> Running {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("bind the {what} test server on {addr}: {e}"));
    let addr = listener.local_addr().expect("the bound address");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        let _ = served.await;
    });
    Running {
        url: format!("http://{addr}"),
        addr,
        stop: Some(stop),
        task: Some(task),
    }
}

/// 127.0.0.1 on an OS-chosen port.
pub fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Running {
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

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------------

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Decoded query pairs (or a form body), in order; `+` is a space.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let uri = format!("/?{query}");
    uri.parse::<axum::http::Uri>()
        .ok()
        .and_then(|u| Query::<Vec<(String, String)>>::try_from_uri(&u).ok())
        .map(|Query(pairs)| pairs)
        .unwrap_or_default()
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A UUID v4-shaped id from the rng.
pub fn uuid(rng: &mut ChaCha8Rng) -> String {
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

/// `len` random letters and digits (Fin X's ids).
pub fn alphanumeric(rng: &mut ChaCha8Rng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// Whole cents as a JSON number in major units with at most two decimals: -5600 → -56, -1234 → -12.34.
pub fn major_units(cents: i64) -> Value {
    if cents % 100 == 0 {
        Value::from(cents / 100)
    } else {
        Value::from(cents as f64 / 100.0)
    }
}

/// Whole cents as text with two decimals: -1250 → "-12.50".
pub fn major_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A decimal amount (JSON number or numeric string, at most two decimals) as whole cents.
pub fn cents_of(v: &Value) -> Option<i64> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let f: f64 = text.parse().ok()?;
    let cents = (f * 100.0).round();
    (f.is_finite() && (f * 100.0 - cents).abs() < 1e-6 && cents.abs() < 1e15)
        .then_some(cents as i64)
}

// ---------------------------------------------------------------------------------------------------------------
// The example binaries' command line
// ---------------------------------------------------------------------------------------------------------------

/// Flags every example server binary takes, plus the server-specific ones it declared.
#[derive(Debug, Clone, Default)]
pub struct ServeArgs {
    pub port: u16,
    pub transactions: Option<usize>,
    pub seed: Option<u64>,
    /// `--rate-limit N/SECS`.
    pub rate_limit: Option<(u32, Duration)>,
    pub key: Option<String>,
    pub hostile: bool,
    pub latency: Option<Duration>,
    /// Server-specific flags in order: (flag, value for a valued one).
    pub extra: Vec<(String, Option<String>)>,
}

/// Parses `--port N --transactions N --seed N --rate-limit N/SECS --key KEY --hostile --latency-ms N`, plus the
/// server's own `switches` (no value) and `valued` flags; `Err` holds a message for the user (with `usage`).
pub fn parse_serve_args(
    args: &[String],
    switches: &[&str],
    valued: &[&str],
    usage: &str,
) -> Result<ServeArgs, String> {
    let mut out = ServeArgs {
        port: 3000,
        ..Default::default()
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--help" | "-h" => return Err(usage.to_string()),
            "--hostile" => {
                out.hostile = true;
                continue;
            }
            f if switches.contains(&f) => {
                out.extra.push((f.to_string(), None));
                continue;
            }
            _ => {}
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{usage}"))?;
        let bad = |what: &str| format!("{flag}: {what} expected, got {value:?}");
        match flag.as_str() {
            "--port" => out.port = value.parse().map_err(|_| bad("a port number"))?,
            "--transactions" => out.transactions = Some(value.parse().map_err(|_| bad("a count"))?),
            "--seed" => out.seed = Some(value.parse().map_err(|_| bad("a number"))?),
            "--key" => out.key = Some(value.clone()),
            "--latency-ms" => {
                let ms: u64 = value.parse().map_err(|_| bad("milliseconds"))?;
                out.latency = Some(Duration::from_millis(ms));
            }
            "--rate-limit" => {
                let (n, secs) = value
                    .split_once('/')
                    .and_then(|(n, s)| Some((n.parse::<u32>().ok()?, s.parse::<u64>().ok()?)))
                    .ok_or_else(|| bad("N/SECONDS such as 100/3600"))?;
                out.rate_limit = Some((n, Duration::from_secs(secs.max(1))));
            }
            f if valued.contains(&f) => out.extra.push((f.to_string(), Some(value.clone()))),
            _ => return Err(format!("unknown option {flag}\n{usage}")),
        }
    }
    Ok(out)
}
