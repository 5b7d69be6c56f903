//! The accept loop of `tally serve`, used instead of `axum::serve`, which has no header timeout, no idle timeout
//! and no connection limit: 600 silent sockets used to stop a server limited to 512 open files. Each connection
//! runs hyper's HTTP/1 server under a watchdog. The watchdog gives the client `header_timeout` to send a complete
//! request head, counted from the moment the connection opens or from the first byte of a later request. A
//! connection left idle between requests, or one whose client stops reading its answer, is closed after
//! `idle_timeout`. Handlers are never cut short. Bodies are timed by the router (`RequestBodyTimeoutLayer`). hyper's
//! own `header_read_timeout` is not used: in hyper 1.12 it also runs while a kept-alive connection waits for its
//! next request, so the idle time could not be longer than the header time. Past `max_connections`, a new
//! connection is answered 503 with `Retry-After` and closed. Graceful shutdown stops accepting, lets in-flight
//! requests finish (idle connections close at once), and waits until every connection has closed.

use crate::backend::rest::wire::{ErrorBody, ErrorDetail};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// How long a client past the cap is told to wait before retrying.
pub const RETRY_AFTER_SECS: u64 = 1;
/// The most 503 answers in flight at once. Past that, extra connections are closed without an answer, so a flood
/// cannot use up file descriptors through the refusals.
const REFUSALS_IN_FLIGHT: usize = 32;
/// How long a refused connection is kept: the time it has to send its request (answered 503), then for the client
/// to read the answer and close. A connection past the cap that sends nothing is closed after it.
const REFUSAL_TIME: Duration = Duration::from_millis(500);
/// Default `max_connections` when the open-file limit is unknown or high.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Connection limits of one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// The soft limit on open files, where the platform says.
pub fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// 256, or half the open-file limit if that is lower. The other half is left for refusals, the ledger's files,
/// the log and the runtime.
pub fn default_max_connections() -> usize {
    let half =
        open_file_limit().map_or(usize::MAX, |n| usize::try_from(n / 2).unwrap_or(usize::MAX));
    DEFAULT_MAX_CONNECTIONS.min(half).max(1)
}

/// Accepts connections on `listener` and serves `app` on each until `shutdown` resolves. Then it stops accepting,
/// lets in-flight requests finish and returns once every connection has closed.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let max = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let busy: Arc<[u8]> = busy_reply(max).into();
    let mut refused: u64 = 0;
    let (stop, stopping) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors or a connection reset while queued: the server carries on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Ok(slot) = slots.clone().try_acquire_owned() {
            let (app, stopping) = (app.clone(), stopping.clone());
            tokio::spawn(async move {
                connection(stream, app, limits, stopping).await;
                drop(slot);
            });
            continue;
        }
        refused += 1;
        if refused % 100 == 1 {
            tracing::warn!(
                max_connections = max,
                refused,
                "at the connection limit: answering 503"
            );
        }
        if let Ok(permit) = refusals.clone().try_acquire_owned() {
            let busy = busy.clone();
            tokio::spawn(async move {
                refuse(stream, &busy).await;
                drop(permit);
            });
        }
    }
    drop(listener);
    drop(stop);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _closed = slots.acquire_many(all).await;
}

/// The raw 503 sent to a connection past the cap, in the API's error format.
fn busy_reply(max: usize) -> Vec<u8> {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "unavailable".into(),
            message: format!(
                "the server has {max} connections open, its limit; retry after {RETRY_AFTER_SECS} s"
            ),
            param: None,
        },
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: {RETRY_AFTER_SECS}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    )
    .into_bytes()
}

/// Answers 503 once the request has started to arrive (an answer before the request makes HTTP clients fail
/// with "unexpected message"), then closes. What else the client sends is read and dropped until it closes, so
/// closing does not reset the connection before the client has read the answer. Bounded by `REFUSAL_TIME`.
async fn refuse(mut stream: TcpStream, reply: &[u8]) {
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        let mut sink = [0u8; 4096];
        if stream.read(&mut sink).await? == 0 {
            return Ok(());
        }
        stream.write_all(reply).await?;
        stream.shutdown().await?;
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    })
    .await;
}

/// Serves one connection until the client closes it, the watchdog closes it, or shutdown has let its in-flight
/// request finish.
async fn connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mut stopping: watch::Receiver<()>,
) {
    let watch = Arc::new(Watchdog::new());
    let io = TokioIo::new(Watched {
        stream,
        watch: watch.clone(),
    });
    let service = {
        let watch = watch.clone();
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let busy = Busy::start(watch.clone());
            let app = app.clone();
            async move {
                let response = app.oneshot(req).await;
                drop(busy);
                response
            }
        })
    };
    // hyper's own header timer is off: the watchdog times heads and idle time apart.
    let conn = http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stopping.changed(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            phase = watch.expired(limits) => {
                tracing::debug!(phase, "closing a connection: timed out");
                return;
            }
        }
    }
}

/// Where a connection stands, and since when.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request head to complete (a new connection, or the first bytes of a request have arrived).
    Head(Instant),
    /// Handlers are running (one at a time on HTTP/1).
    Busy(usize),
    /// Between requests, or writing an answer; writing moves `since` forward, so only a stalled reader times out.
    Idle(Instant),
}

struct Watchdog {
    phase: Mutex<Phase>,
}

impl Watchdog {
    fn new() -> Self {
        Watchdog {
            phase: Mutex::new(Phase::Head(Instant::now())),
        }
    }

    fn update(&self, f: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        *phase = f(*phase);
    }

    fn read_some(&self) {
        self.update(|p| match p {
            Phase::Idle(_) => Phase::Head(Instant::now()),
            other => other,
        });
    }

    fn wrote_some(&self) {
        self.update(|p| match p {
            Phase::Idle(_) => Phase::Idle(Instant::now()),
            other => other,
        });
    }

    /// When the connection is to be closed, and which phase it is in; `None` while a handler runs.
    fn deadline(&self, limits: Limits) -> Option<(Instant, &'static str)> {
        match *self.phase.lock().unwrap_or_else(PoisonError::into_inner) {
            Phase::Head(since) => Some((since + limits.header_timeout, "header")),
            Phase::Idle(since) => Some((since + limits.idle_timeout, "idle")),
            Phase::Busy(_) => None,
        }
    }

    /// Resolves when the connection has overstayed its phase, with the phase's name.
    async fn expired(&self, limits: Limits) -> &'static str {
        loop {
            match self.deadline(limits) {
                Some((at, phase)) if at <= Instant::now() => return phase,
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => tokio::time::sleep(limits.header_timeout).await,
            }
        }
    }
}

/// Marks the connection busy while a handler runs, including when hyper drops the handler because the client left.
struct Busy(Arc<Watchdog>);

impl Busy {
    fn start(watch: Arc<Watchdog>) -> Self {
        watch.update(|p| match p {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        });
        Busy(watch)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.update(|p| match p {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }
}

/// The socket, telling the watchdog when bytes move.
struct Watched {
    stream: TcpStream,
    watch: Arc<Watchdog>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.watch.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.watch.wrote_some();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.watch.wrote_some();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4,
        }
    }

    #[tokio::test]
    async fn phases_follow_the_traffic() {
        let w = Arc::new(Watchdog::new());
        let (at, phase) = w
            .deadline(limits())
            .expect("a new connection has a deadline");
        assert_eq!(phase, "header");
        assert!(at <= Instant::now() + Duration::from_secs(10));
        let busy = Busy::start(w.clone());
        assert!(
            w.deadline(limits()).is_none(),
            "handlers are never cut short"
        );
        w.read_some();
        assert!(
            w.deadline(limits()).is_none(),
            "a body arriving keeps it busy"
        );
        drop(busy);
        let (idle_at, phase) = w.deadline(limits()).expect("idle");
        assert_eq!(phase, "idle");
        tokio::time::sleep(Duration::from_millis(20)).await;
        w.wrote_some();
        let (later, _) = w.deadline(limits()).expect("idle");
        assert!(
            later >= idle_at + Duration::from_millis(20),
            "writing is progress"
        );
        w.read_some();
        assert_eq!(w.deadline(limits()).map(|d| d.1), Some("header"));
        let quick = Limits {
            header_timeout: Duration::from_millis(30),
            ..limits()
        };
        let started = Instant::now();
        assert_eq!(w.expired(quick).await, "header");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn the_503_is_a_complete_answer_in_the_error_format() {
        let reply = String::from_utf8(busy_reply(7)).expect("ascii");
        let (head, body) = reply.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("retry-after: {RETRY_AFTER_SECS}")));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(json["error"]["code"], "unavailable");
        assert!(
            json["error"]["message"]
                .as_str()
                .expect("message")
                .contains('7')
        );
    }

    #[test]
    fn the_default_cap_fits_the_open_file_limit() {
        let cap = default_max_connections();
        assert!((1..=DEFAULT_MAX_CONNECTIONS).contains(&cap));
        if let Some(limit) = open_file_limit() {
            assert!(cap as u64 <= limit / 2 || cap == 1);
        }
    }
}
