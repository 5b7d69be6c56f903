//! The HTTP core every REST dialect shares: base URL checks (no plain `http://` to a non-loopback host unless the
//! profile allows it), the API key (held in a `Secret` whose `Debug` is redacted and sent as a sensitive header, so
//! it never reaches logs or error text), a client-side request budget, timeouts, and the retry policy:
//! - idempotent calls (GET) are retried with exponential backoff and jitter on connect errors, timeouts, broken
//!   connections and 5xx, up to `MAX_RETRIES` times;
//! - other calls are retried only when the request provably never reached the server (connection refused);
//!   a write that fails after it was sent is reported as "may or may not have been applied" (callers that can
//!   check, such as PATCH, verify and re-send themselves);
//! - any call answered 429 waits `Retry-After` (capped) and tries again: a 429 means the request was not processed.
//!
//! Every error names the server, the HTTP status and the server's own message.

use super::wire::ErrorBody;
use crate::backend::BackendError;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Retries after the first attempt for idempotent calls and for 429 answers.
pub const MAX_RETRIES: u32 = 3;
/// Longest `Retry-After` the client will sit out before reporting the rate limit instead.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
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

#[derive(Debug)]
pub struct HttpCore {
    client: reqwest::Client,
    /// Ends with `/`; endpoint paths are relative to it.
    base: Url,
    /// `scheme://host:port` as shown in messages.
    server: String,
    key: Option<Secret>,
    budget: Option<Budget>,
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

pub struct CoreOptions<'a> {
    pub base_url: &'a str,
    /// Path used when the base URL has none (`/api/v1/` for the tally API).
    pub default_path: &'a str,
    pub api_key: Option<&'a str>,
    pub requests_per_minute: u32,
    pub allow_http: bool,
    pub timeout: Duration,
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
        let path = base.path().trim_end_matches('/').to_string();
        if path.is_empty() {
            base.set_path(opts.default_path);
        } else {
            base.set_path(&format!("{path}/"));
        }
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
        Ok(HttpCore {
            client,
            base,
            server,
            key,
            budget,
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
        if let Some(k) = &self.key
            && let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {}", k.expose()))
        {
            v.set_sensitive(true);
            h.insert(AUTHORIZATION, v);
        }
        h
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

    /// Sends one request with the retry policy; returns the status and body of a 2xx answer, or the error.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        retry: Retry,
    ) -> Result<(StatusCode, Vec<u8>), BackendError> {
        let mut attempt = 0u32;
        loop {
            if let Some(b) = &self.budget {
                b.acquire().await;
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
                    let retry_after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    match resp.bytes().await {
                        Ok(bytes) => Ok((status, retry_after, bytes.to_vec())),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok((status, retry_after, bytes)) => {
                    if status.is_success() {
                        return Ok((status, bytes));
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS && attempt < MAX_RETRIES {
                        let wait = retry_after.unwrap_or_else(|| Self::backoff(attempt));
                        if wait <= MAX_RETRY_AFTER {
                            tracing::debug!(secs = wait.as_secs_f64(), "429: waiting Retry-After");
                            tokio::time::sleep(wait).await;
                            attempt += 1;
                            continue;
                        }
                    }
                    if status.is_server_error()
                        && retry == Retry::Idempotent
                        && attempt < MAX_RETRIES
                    {
                        tokio::time::sleep(Self::backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(self.status_error(status, &bytes, retry));
                }
                Err(e) => {
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

    /// The server's own message from an error body (the tally/Refinal format, else the text itself).
    pub fn server_message(status: StatusCode, bytes: &[u8]) -> (String, Option<String>, String) {
        if let Ok(body) = serde_json::from_slice::<ErrorBody>(bytes) {
            return (body.error.message, body.error.param, body.error.code);
        }
        let text: String = String::from_utf8_lossy(bytes)
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let text = if text.trim().is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            text.trim().to_string()
        };
        (text, None, String::new())
    }

    fn status_error(&self, status: StatusCode, bytes: &[u8], retry: Retry) -> BackendError {
        let (mut message, param, _) = Self::server_message(status, bytes);
        if let Some(p) = param {
            message.push_str(&format!(" (parameter {p})"));
        }
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
            default_path: "/api/v1/",
            api_key: Some("s3cret-key"),
            requests_per_minute: 0,
            allow_http,
            timeout: Duration::from_secs(5),
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
