//! The HTTP core every REST dialect shares: base URL checks (no plain `http://` to a non-loopback host unless the
//! profile allows it), the API key (held in a `Secret` whose `Debug` is redacted and sent as a sensitive header, so
//! it never reaches logs or error text), a client-side request budget, timeouts, and the retry policy:
//! - idempotent calls (GET) are retried with exponential backoff and jitter on connect errors, timeouts, broken
//!   connections and 5xx, up to `MAX_RETRIES` times;
//! - other calls are retried only when the request provably never reached the server (connection refused);
//!   a write that fails after it was sent is reported as "may or may not have been applied" (callers that can
//!   check, such as PATCH, verify and re-send themselves);
//! - any call answered 429 waits `Retry-After` (capped) and tries again: a 429 means the request was not processed;
//!   a longer wait is reported as `RateLimited` with the time to wait, so a background sender can sleep it out;
//! - the server's own budget (`X-RateLimit-Remaining` / `X-RateLimit-Reset`, read leniently: Sure's self-hosted
//!   servers send the literal `Infinity`) is tracked per server, and requests wait for the reset instead of running
//!   into a 429.
//!
//! Dialects differ in how the key is sent (`Auth`), the path prefix their documents name, and their error bodies;
//! `server_message` reads every error shape the supported APIs use (and HTML error pages from proxies). Every error
//! names the server, the HTTP status and the server's own message.

use super::wire::ErrorBody;
use crate::backend::BackendError;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Retries after the first attempt for idempotent calls and for 429 answers.
pub const MAX_RETRIES: u32 = 3;
/// Longest `Retry-After` the client will sit out before reporting the rate limit instead (a background sender then
/// sleeps it out; a command says when to try again).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
const BACKOFF_BASE: Duration = Duration::from_millis(200);

/// A secret string: `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How a call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Safe to repeat (GET): retried on connect errors, timeouts, broken connections and 5xx.
    Idempotent,
    /// A write: retried only if it never reached the server (or was answered 429).
    UnlessSent,
}

/// Client-side token bucket: `per_minute` requests, refilled continuously. Waiters queue fairly.
#[derive(Debug)]
struct Budget {
    per_minute: u32,
    state: Mutex<(f64, Instant)>,
}

impl Budget {
    async fn acquire(&self) {
        let cap = f64::from(self.per_minute);
        let rate = cap / 60.0;
        let mut state = self.state.lock().await;
        loop {
            let now = Instant::now();
            let tokens = (state.0 + now.duration_since(state.1).as_secs_f64() * rate).min(cap);
            *state = (tokens, now);
            if tokens >= 1.0 {
                state.0 -= 1.0;
                return;
            }
            let wait = Duration::from_secs_f64((1.0 - tokens) / rate);
            tokio::time::sleep(wait).await;
        }
    }
}

/// The server's own request budget, as its `X-RateLimit-*` headers tell it. Until an answer has told, one request
/// goes alone (the probe), so a burst of concurrent requests cannot overrun a budget nobody knows yet; a server
/// that sends no such headers (or `Infinity`) is unlimited. `remaining` counts down as requests are sent, so
/// concurrent requests do not all spend the last one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ServerBudget {
    #[default]
    Unknown,
    Probing,
    Unlimited,
    Limited {
        remaining: u64,
        reset_at: Instant,
    },
}

/// How a dialect sends the API key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// `Authorization: Bearer KEY` (tally, Fin X, Synci).
    #[default]
    Bearer,
    /// The key alone in `Authorization` (FinWise).
    Raw,
    /// The key in a header of its own (`X-Api-Key` for Sure).
    Header(HeaderName),
}

pub struct HttpCore {
    client: reqwest::Client,
    /// Ends with `/`; endpoint paths are relative to it.
    base: Url,
    /// `scheme://host:port` as shown in messages.
    server: String,
    key: Option<Secret>,
    auth: Auth,
    extra: HeaderMap,
    budget: Option<Budget>,
    limits: std::sync::Mutex<ServerBudget>,
    /// Told what is left of a limited budget after each request is counted (a mirror remembers it).
    on_budget: std::sync::Mutex<Option<BudgetHook>>,
}

/// Receives what is left of the server's budget and when its window resets.
pub type BudgetHook = Box<dyn Fn(u64, std::time::SystemTime) + Send + Sync>;

impl std::fmt::Debug for HttpCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCore")
            .field("server", &self.server)
            .field("base", &self.base.as_str())
            .field("key", &self.key)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// How one request treats the server's rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Count it against (and learn from its answer) the server's general request budget. Off for an endpoint
    /// with a limit of its own whose `X-RateLimit-*` headers describe only that endpoint (Synci's bank sync).
    pub budget: bool,
    /// Sit out a short `Retry-After` and try again; off where the caller would rather say when to try.
    pub wait: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            budget: true,
            wait: true,
        }
    }
}

/// A 2xx answer: status, headers and body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Plain HTTP is allowed to loopback hosts without asking.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let d = host.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

/// Where endpoint paths start below the server's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// Used when the URL has no path; a URL with a path is taken as the API's base (the tally API: `/api/v1/`).
    Default(&'static str),
    /// Appended to the URL's path unless it already ends with it (Sure: `/api/v1`; hledger-web: none).
    Append(&'static str),
}

pub struct CoreOptions<'a> {
    pub base_url: &'a str,
    pub prefix: Prefix,
    pub api_key: Option<&'a str>,
    pub auth: Auth,
    /// Headers sent with every request (`Accept-Language: en` for Sure).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub requests_per_minute: u32,
    pub allow_http: bool,
    pub timeout: Duration,
}

impl Default for CoreOptions<'_> {
    fn default() -> Self {
        CoreOptions {
            base_url: "",
            prefix: Prefix::Default("/api/v1/"),
            api_key: None,
            auth: Auth::Bearer,
            headers: Vec::new(),
            requests_per_minute: 0,
            allow_http: false,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The base path for `path` (the URL's own) under `prefix`, ending with `/`.
fn base_path(path: &str, prefix: Prefix) -> String {
    let path = path.trim_end_matches('/');
    match prefix {
        Prefix::Default(default) if path.is_empty() => default.to_string(),
        Prefix::Default(_) => format!("{path}/"),
        Prefix::Append(p) => {
            let p = p.trim_end_matches('/');
            if p.is_empty() || path.ends_with(p) {
                format!("{path}/")
            } else {
                format!("{path}{p}/")
            }
        }
    }
}

fn invalid(param: &str, message: impl Into<String>) -> BackendError {
    BackendError::Invalid {
        param: param.into(),
        message: message.into(),
    }
}

impl HttpCore {
    pub fn new(opts: CoreOptions<'_>) -> Result<HttpCore, BackendError> {
        let mut base = Url::parse(opts.base_url.trim())
            .map_err(|e| invalid("base_url", format!("{:?} is not a URL: {e}", opts.base_url)))?;
        match base.scheme() {
            "https" => {}
            "http" if opts.allow_http || is_loopback(&base) => {}
            "http" => {
                return Err(invalid(
                    "base_url",
                    format!(
                        "refusing plain http:// to {}: the API key and your data would cross the network \
                         unencrypted; use https:// (e.g. behind a TLS reverse proxy) or set allow_http = true \
                         in the profile",
                        base.host_str().unwrap_or("that host")
                    ),
                ));
            }
            other => {
                return Err(invalid(
                    "base_url",
                    format!(
                        "unsupported URL scheme {other:?}: use https:// (or http:// to localhost)"
                    ),
                ));
            }
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(invalid(
                "base_url",
                "put credentials in the API key setting, not in the URL",
            ));
        }
        base.set_query(None);
        base.set_fragment(None);
        let path = base_path(base.path(), opts.prefix);
        base.set_path(&path);
        let server = match base.port() {
            Some(p) => format!(
                "{}://{}:{p}",
                base.scheme(),
                base.host_str().unwrap_or_default()
            ),
            None => format!(
                "{}://{}",
                base.scheme(),
                base.host_str().unwrap_or_default()
            ),
        };
        let key = match opts.api_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => {
                if HeaderValue::from_str(&format!("Bearer {k}")).is_err() {
                    return Err(invalid(
                        "api_key",
                        "the API key holds characters that cannot be sent in an HTTP header",
                    ));
                }
                Some(Secret::new(k))
            }
            None => None,
        };
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(16)
            .tcp_nodelay(true)
            .user_agent(concat!("tally/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BackendError::Network {
                server: server.clone(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        let budget = (opts.requests_per_minute > 0).then(|| Budget {
            per_minute: opts.requests_per_minute,
            state: Mutex::new((f64::from(opts.requests_per_minute), Instant::now())),
        });
        let mut extra = HeaderMap::new();
        for (name, value) in opts.headers {
            extra.insert(name, value);
        }
        Ok(HttpCore {
            client,
            base,
            server,
            key,
            auth: opts.auth,
            extra,
            budget,
            limits: std::sync::Mutex::new(ServerBudget::default()),
            on_budget: std::sync::Mutex::new(None),
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// The URL of an endpoint: `segments` are percent-encoded one by one (ids may hold `/` or `:`).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in &self.extra {
            h.insert(name.clone(), value.clone());
        }
        if let Some(k) = &self.key {
            let (name, text) = match &self.auth {
                Auth::Bearer => (AUTHORIZATION, format!("Bearer {}", k.expose())),
                Auth::Raw => (AUTHORIZATION, k.expose().to_string()),
                Auth::Header(name) => (name.clone(), k.expose().to_string()),
            };
            if let Ok(mut v) = HeaderValue::from_str(&text) {
                v.set_sensitive(true);
                h.insert(name, v);
            }
        }
        h
    }

    /// Waits until the server's budget allows one more request, and counts it. A wait longer than
    /// `MAX_RETRY_AFTER` is not sat out here: it is reported as `RateLimited` so the caller can schedule.
    async fn server_budget(&self) -> Result<(), BackendError> {
        loop {
            let wait = {
                let Ok(mut b) = self.limits.lock() else {
                    return Ok(());
                };
                let now = Instant::now();
                match *b {
                    ServerBudget::Unlimited => return Ok(()),
                    ServerBudget::Unknown => {
                        *b = ServerBudget::Probing;
                        return Ok(());
                    }
                    ServerBudget::Probing => Duration::from_millis(5),
                    ServerBudget::Limited {
                        remaining: 0,
                        reset_at,
                    } if reset_at > now => reset_at - now,
                    ServerBudget::Limited { remaining: 0, .. } => {
                        // The window has reset: this request asks how much the new one holds.
                        *b = ServerBudget::Probing;
                        return Ok(());
                    }
                    ServerBudget::Limited {
                        remaining,
                        reset_at,
                    } => {
                        *b = ServerBudget::Limited {
                            remaining: remaining - 1,
                            reset_at,
                        };
                        drop(b);
                        self.tell_budget();
                        return Ok(());
                    }
                }
            };
            if wait > MAX_RETRY_AFTER {
                return Err(self.rate_limited(wait, "the server's request budget is spent"));
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// A request that got no answer: if it was the probe, the next request probes instead.
    fn no_answer(&self) {
        if let Ok(mut b) = self.limits.lock()
            && *b == ServerBudget::Probing
        {
            *b = ServerBudget::Unknown;
        }
    }

    /// Reads `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the reset, or a Unix time) leniently:
    /// `Infinity`, absent or unreadable values mean no limit.
    fn note_limits(&self, headers: &HeaderMap) {
        let number = |name: &str| -> Option<f64> {
            let v = headers.get(name)?.to_str().ok()?.trim().to_string();
            let n: f64 = v.parse().ok()?;
            n.is_finite().then_some(n)
        };
        let remaining = number("x-ratelimit-remaining").map(|n| n.max(0.0) as u64);
        let reset = number("x-ratelimit-reset").map(|n| {
            let unix_now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            let secs = if n > 1.0e9 { n - unix_now } else { n };
            Instant::now() + Duration::from_secs_f64(secs.clamp(0.0, 86_400.0))
        });
        let Ok(mut b) = self.limits.lock() else {
            return;
        };
        *b = match (remaining, *b) {
            (None, _) => ServerBudget::Unlimited,
            (Some(r), old) => {
                let reset_at = reset.unwrap_or_else(|| Instant::now() + Duration::from_secs(60));
                // Answers to concurrent requests arrive out of order: within one window keep the lowest count.
                let remaining = match old {
                    ServerBudget::Limited {
                        remaining: left,
                        reset_at: at,
                    } if at.max(reset_at) - at.min(reset_at) < Duration::from_secs(2) => {
                        left.min(r)
                    }
                    _ => r,
                };
                ServerBudget::Limited {
                    remaining,
                    reset_at,
                }
            }
        };
    }

    /// What is left of the server's budget and when it resets, when the server has a limit: kept by a mirror so
    /// the next run does not start by overrunning it.
    pub fn budget_left(&self) -> Option<(u64, std::time::SystemTime)> {
        let b = *self.limits.lock().ok()?;
        match b {
            ServerBudget::Limited {
                remaining,
                reset_at,
            } => {
                let left = reset_at.saturating_duration_since(Instant::now());
                Some((remaining, std::time::SystemTime::now() + left))
            }
            _ => None,
        }
    }

    /// Calls `hook` with what is left of the budget each time a request is counted against a known limit.
    pub fn on_budget(&self, hook: BudgetHook) {
        if let Ok(mut h) = self.on_budget.lock() {
            *h = Some(hook);
        }
    }

    fn tell_budget(&self) {
        if let Some((left, reset)) = self.budget_left()
            && let Ok(hook) = self.on_budget.lock()
            && let Some(hook) = hook.as_ref()
        {
            hook(left, reset);
        }
    }

    /// Starts from a budget remembered from an earlier run (ignored once its window is over).
    pub fn assume_budget(&self, remaining: u64, reset: std::time::SystemTime) {
        let Ok(left) = reset.duration_since(std::time::SystemTime::now()) else {
            return;
        };
        if let Ok(mut b) = self.limits.lock()
            && *b == ServerBudget::Unknown
        {
            *b = ServerBudget::Limited {
                remaining,
                reset_at: Instant::now() + left,
            };
        }
    }

    fn rate_limited(&self, wait: Duration, message: &str) -> BackendError {
        BackendError::RateLimited {
            server: self.server.clone(),
            retry_after: wait.as_secs().max(1),
            message: message.to_string(),
        }
    }

    fn backoff(attempt: u32) -> Duration {
        let base = BACKOFF_BASE * 2u32.saturating_pow(attempt);
        let jitter = rand::random_range(0..=base.as_millis() as u64 / 2);
        base + Duration::from_millis(jitter)
    }

    /// What went wrong with the connection, in words (no URL, no headers).
    fn describe(e: &reqwest::Error) -> String {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else if e.is_body() || e.is_decode() {
            "the connection broke while reading the answer"
        } else {
            "the connection failed"
        };
        let mut detail = String::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        if detail.is_empty() {
            kind.to_string()
        } else {
            format!("{kind} ({detail})")
        }
    }

    /// Sends one request with the retry policy; returns a 2xx answer, or the error.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        retry: Retry,
    ) -> Result<Answer, BackendError> {
        self.send_with(method, url, body, (retry, Limits::default()))
            .await
    }

    /// `send`, with how the request treats the server's rate limits.
    pub async fn send_with(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        (retry, limits): (Retry, Limits),
    ) -> Result<Answer, BackendError> {
        let mut attempt = 0u32;
        loop {
            if let Some(b) = &self.budget {
                b.acquire().await;
            }
            if limits.budget {
                self.server_budget().await?;
            }
            let mut req = self
                .client
                .request(method.clone(), url.clone())
                .headers(self.headers());
            if let Some(b) = body {
                req = req.json(b);
            }
            tracing::debug!(%method, path = url.path(), attempt, "REST request");
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    if limits.budget {
                        self.note_limits(&headers);
                    }
                    match resp.bytes().await {
                        Ok(bytes) => Ok(Answer {
                            status,
                            headers,
                            body: bytes.to_vec(),
                        }),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(answer) => {
                    let status = answer.status;
                    if status.is_success() {
                        return Ok(answer);
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait =
                            retry_after(&answer.headers).unwrap_or_else(|| Self::backoff(attempt));
                        if !limits.wait || wait > MAX_RETRY_AFTER || attempt >= MAX_RETRIES {
                            let message = server_message(status, &answer.headers, &answer.body);
                            return Err(self.rate_limited(wait, &message));
                        }
                        tracing::debug!(secs = wait.as_secs_f64(), "429: waiting Retry-After");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    if status.is_server_error()
                        && retry == Retry::Idempotent
                        && attempt < MAX_RETRIES
                    {
                        tokio::time::sleep(Self::backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(self.status_error(&answer, retry));
                }
                Err(e) => {
                    if limits.budget {
                        self.no_answer();
                    }
                    let never_sent = e.is_connect();
                    if (retry == Retry::Idempotent || never_sent) && attempt < MAX_RETRIES {
                        tracing::debug!(error = %Self::describe(&e), "REST request failed; retrying");
                        tokio::time::sleep(Self::backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    let mut message = Self::describe(&e);
                    if attempt > 0 {
                        message.push_str(&format!(" after {} attempts", attempt + 1));
                    }
                    if retry == Retry::UnlessSent && !never_sent {
                        message.push_str(
                            "; the change may or may not have been applied (not retried: reload to check)",
                        );
                    }
                    return Err(BackendError::Network {
                        server: self.server.clone(),
                        message,
                    });
                }
            }
        }
    }

    /// The server's own message from a tally-API error body: message, parameter and code.
    pub fn server_message(status: StatusCode, bytes: &[u8]) -> (String, Option<String>, String) {
        if let Ok(body) = serde_json::from_slice::<ErrorBody>(bytes) {
            return (body.error.message, body.error.param, body.error.code);
        }
        (
            server_message(status, &HeaderMap::new(), bytes),
            None,
            String::new(),
        )
    }

    fn status_error(&self, answer: &Answer, retry: Retry) -> BackendError {
        let status = answer.status;
        let mut message = match serde_json::from_slice::<ErrorBody>(&answer.body) {
            Ok(body) => match body.error.param {
                Some(p) => format!("{} (parameter {p})", body.error.message),
                None => body.error.message,
            },
            Err(_) => server_message(status, &answer.headers, &answer.body),
        };
        if status.is_server_error() && retry == Retry::UnlessSent {
            message.push_str(
                "; the change may or may not have been applied (not retried: reload to check)",
            );
        }
        BackendError::Http {
            server: self.server.clone(),
            status: status.as_u16(),
            message,
        }
    }
}

/// `Retry-After` in seconds (an HTTP date is not used by any supported API; it counts as absent).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Text fit for one line of an error message: control characters dropped, blanks collapsed, at most 300 characters.
fn one_line(text: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let line = words.join(" ");
    if line.chars().count() > 300 {
        let cut: String = line.chars().take(299).collect();
        format!("{cut}…")
    } else {
        line
    }
}

/// The text of an HTML page: its `<title>`, else its text without tags.
fn html_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    if let (Some(a), Some(b)) = (lower.find("<title>"), lower.find("</title>"))
        && a + 7 <= b
    {
        let title = one_line(&html[a + 7..b]);
        if !title.is_empty() {
            return title;
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    one_line(&out)
}

/// The server's own message from an error answer, whatever shape the API uses: tally's
/// `{"error":{"code","message","param"}}`, Sure's `{"error":"code","message":"…","errors":[…]}` or
/// `{"error":"text"}`, FinWise's `{"name","message","errors":[{message,path}]}` (possibly under `"error"`), a bare
/// JSON string (hledger-web), an HTML error page (a proxy), or plain text. A `Request-Id` header is added, so a
/// support request can name the call.
pub fn server_message(status: StatusCode, headers: &HeaderMap, bytes: &[u8]) -> String {
    let mut message = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => json_message(&v),
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            if text.trim_start().starts_with('<') {
                html_text(&text)
            } else {
                one_line(&text)
            }
        }
    };
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_string();
    }
    if let Some(id) = headers
        .get("request-id")
        .or_else(|| headers.get("x-request-id"))
        .and_then(|v| v.to_str().ok())
    {
        message.push_str(&format!(" (request id {})", one_line(id)));
    }
    message
}

fn json_message(v: &serde_json::Value) -> String {
    use serde_json::Value;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(one_line);
    match v {
        Value::String(s) => one_line(s),
        Value::Object(o) => {
            // An error object nested under "error" (tally, FinWise): read it the same way.
            if let Some(inner @ Value::Object(_)) = o.get("error") {
                return json_message(inner);
            }
            let main = text(o.get("message"))
                .or_else(|| text(o.get("error")))
                .or_else(|| text(o.get("detail")))
                .unwrap_or_default();
            let code = text(o.get("error")).filter(|c| Some(c) != Some(&main) && !c.contains(' '));
            let details: Vec<String> = o
                .get("errors")
                .and_then(Value::as_array)
                .map(|errors| {
                    errors
                        .iter()
                        .filter_map(|e| match e {
                            Value::String(s) => Some(one_line(s)),
                            Value::Object(d) => {
                                let m = text(d.get("message"))?;
                                Some(match text(d.get("path")).or_else(|| text(d.get("field"))) {
                                    Some(p) => format!("{p}: {m}"),
                                    None => m,
                                })
                            }
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut out = main;
            if let Some(c) = code {
                out = if out.is_empty() {
                    c
                } else {
                    format!("{out} ({c})")
                };
            }
            if !details.is_empty() {
                let d = details.join("; ");
                out = if out.is_empty() {
                    d
                } else {
                    format!("{out}: {d}")
                };
            }
            out
        }
        other => one_line(&other.to_string()),
    }
}

/// Turns a generic `Http` error into the backend error callers act on (not found, invalid, unsupported,
/// read-only, conflict), keeping server and status in the text.
pub fn classify(e: BackendError, id: Option<&str>) -> BackendError {
    let BackendError::Http {
        server,
        status,
        message,
    } = e
    else {
        return e;
    };
    let context = format!("{server}: HTTP {status}");
    match (status, id) {
        (404, Some(id)) => BackendError::NotFound(format!("{id} on {server} (HTTP 404)")),
        (403 | 501, _) => BackendError::Unsupported(format!("{message} ({context})")),
        (409, Some(id)) if message.contains("read-only") => {
            BackendError::ReadOnly(id.to_string(), format!("{message} ({context})"))
        }
        (409, _) => BackendError::Conflict(format!("{context}: {message}")),
        _ => BackendError::Http {
            server,
            status,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(url: &str, allow_http: bool) -> Result<HttpCore, BackendError> {
        HttpCore::new(CoreOptions {
            base_url: url,
            api_key: Some("s3cret-key"),
            allow_http,
            timeout: Duration::from_secs(5),
            ..CoreOptions::default()
        })
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        assert!(core("http://127.0.0.1:8080", false).is_ok());
        assert!(core("http://localhost:8080", false).is_ok());
        assert!(core("http://[::1]:8080", false).is_ok());
        assert!(core("https://ledger.example.org", false).is_ok());
        let e = core("http://192.168.1.20:8080", false).expect_err("LAN over http");
        assert!(e.to_string().contains("refusing plain http://"), "{e}");
        assert!(core("http://192.168.1.20:8080", true).is_ok());
        assert!(core("ftp://example.org", true).is_err());
    }

    #[test]
    fn base_path_defaults_to_api_v1_and_ids_are_encoded() {
        let c = core("http://127.0.0.1:8080", false).expect("ok");
        assert_eq!(
            c.url(&["transactions", "a/b c"]).as_str(),
            "http://127.0.0.1:8080/api/v1/transactions/a%2Fb%20c"
        );
        let c = core("https://api.example.org/v1/", false).expect("ok");
        assert_eq!(c.url(&["tags"]).as_str(), "https://api.example.org/v1/tags");
        assert_eq!(c.server(), "https://api.example.org");
    }

    #[test]
    fn a_dialect_s_prefix_is_added_unless_the_url_has_it() {
        let sure = |url: &str| {
            HttpCore::new(CoreOptions {
                base_url: url,
                prefix: Prefix::Append("/api/v1"),
                ..CoreOptions::default()
            })
            .expect("ok")
            .url(&["transactions"])
            .to_string()
        };
        assert_eq!(
            sure("http://127.0.0.1:3000"),
            "http://127.0.0.1:3000/api/v1/transactions"
        );
        assert_eq!(
            sure("http://127.0.0.1:3000/api/v1/"),
            "http://127.0.0.1:3000/api/v1/transactions"
        );
        assert_eq!(
            sure("http://127.0.0.1:3000/finance"),
            "http://127.0.0.1:3000/finance/api/v1/transactions"
        );
    }

    #[test]
    fn every_api_s_error_body_gives_its_message() {
        let m = |body: &str| {
            server_message(StatusCode::BAD_REQUEST, &HeaderMap::new(), body.as_bytes())
        };
        assert_eq!(
            m(
                r#"{"error":"validation_failed","message":"Date is invalid","errors":["Date is invalid"]}"#
            ),
            "Date is invalid (validation_failed): Date is invalid"
        );
        assert_eq!(
            m(r#"{"error":"Rate limit exceeded. Try again later."}"#),
            "Rate limit exceeded. Try again later."
        );
        assert_eq!(
            m(
                r#"{"error":{"name":"ValidationError","message":"bad filter","errors":[{"message":"unknown","path":"filters.x"}]}}"#
            ),
            "bad filter: filters.x: unknown"
        );
        assert_eq!(
            m(r#""could not parse the transaction""#),
            "could not parse the transaction"
        );
        assert_eq!(
            m("<html><head><title>502 Bad Gateway</title></head></html>"),
            "502 Bad Gateway"
        );
        let mut h = HeaderMap::new();
        h.insert("request-id", HeaderValue::from_static("req-42"));
        assert_eq!(
            server_message(StatusCode::NOT_FOUND, &h, br#"{"message":"nope"}"#),
            "nope (request id req-42)"
        );
    }

    #[test]
    fn http_errors_become_the_errors_callers_act_on() {
        let http = |status: u16, message: &str| BackendError::Http {
            server: "https://h".into(),
            status,
            message: message.into(),
        };
        let e = classify(http(404, "transaction x not found"), Some("x"));
        assert!(
            matches!(&e, BackendError::NotFound(m) if m.contains("https://h")),
            "{e:?}"
        );
        let e = classify(
            http(403, "not supported by this backend: creating tags"),
            None,
        );
        assert!(
            matches!(&e, BackendError::Unsupported(m) if m.contains("HTTP 403")),
            "{e:?}"
        );
        let e = classify(
            http(409, "transaction x is read-only: generated"),
            Some("x"),
        );
        assert!(matches!(e, BackendError::ReadOnly(..)), "{e:?}");
        let e = classify(http(409, "the file changed"), None);
        assert!(matches!(e, BackendError::Conflict(_)), "{e:?}");
        let e = classify(http(404, "no such endpoint"), None);
        assert!(matches!(e, BackendError::Http { status: 404, .. }), "{e:?}");
        let e = classify(http(500, "boom"), Some("x"));
        assert_eq!(e.to_string(), "https://h: HTTP 500: boom");
    }

    #[test]
    fn server_messages_come_from_the_error_body_or_the_text() {
        let (m, p, c) = HttpCore::server_message(
            StatusCode::BAD_REQUEST,
            br#"{"error":{"code":"invalid_parameter","message":"bad limit","param":"limit"}}"#,
        );
        assert_eq!(
            (m.as_str(), p.as_deref(), c.as_str()),
            ("bad limit", Some("limit"), "invalid_parameter")
        );
        let (m, _, _) =
            HttpCore::server_message(StatusCode::BAD_GATEWAY, b"<html>\x1b[31mproxy down</html>");
        assert!(!m.contains('\x1b'), "control characters are dropped: {m:?}");
        let (m, _, _) = HttpCore::server_message(StatusCode::SERVICE_UNAVAILABLE, b"");
        assert_eq!(m, "Service Unavailable");
    }

    #[test]
    fn the_key_never_shows_in_debug() {
        let c = core("http://127.0.0.1:8080", false).expect("ok");
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret-key"), "{shown}");
    }
}
