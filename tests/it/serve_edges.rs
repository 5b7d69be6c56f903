//! `tally serve` at its connection edges, on 127.0.0.1 with timeouts of a second or two. A silent connection, a
//! half-sent request line or headers, a trickled head, a stalled body and an idle kept-alive connection are each
//! closed after their timeout, and the idle timeout is kept apart from the header timeout. Past the connection cap,
//! a new connection gets 503 + `Retry-After` in the error format and the server keeps serving. The exact failure of
//! the outside check is run against the real binary limited to 512 open files: 600 idle sockets must not lock out a
//! fresh client. The access log, read from the binary's stderr, names the method, path, status, time and key id,
//! and never the key.

use crate::rest_support;

use crate::conformance_suite::FIXTURE;
use rest_support::KEY;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally::backend::Backend;
use tally::backend::journal::JournalBackend;
use tally::server::{ServeArgs, serve_on};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GET_OPENAPI: &[u8] = b"GET /api/v1/openapi.json HTTP/1.1\r\nhost: tally\r\n\r\n";

/// `serve_on` over a copy of the fixture with `args` (bind is ignored: the listener is bound here).
async fn start(args: ServeArgs) -> (SocketAddr, tempfile::TempDir, tokio::task::JoinHandle<()>) {
    let (dir, path) = rest_support::journal_copy(FIXTURE);
    let backend: Arc<dyn Backend> = Arc::new(JournalBackend::open(&path).expect("opens"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        serve_on(listener, args, vec![KEY.into()], backend)
            .await
            .expect("serves");
    });
    (addr, dir, task)
}

fn quick(header: u64, idle: u64) -> ServeArgs {
    ServeArgs {
        header_timeout: header,
        idle_timeout: idle,
        requests_per_minute: Some(0),
        ..ServeArgs::default()
    }
}

/// Reads until the server closes the connection (EOF or reset); returns what came and how long it took.
async fn until_closed(s: &mut TcpStream, started: Instant) -> (String, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(15), s.read(&mut buf))
            .await
            .expect("the server closes the connection within 15 s");
        match read {
            Ok(0) | Err(_) => return (String::from_utf8_lossy(&got).into(), started.elapsed()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one whole answer (head and a `content-length` body) without waiting for the connection to close.
async fn one_answer(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("an answer")
            .expect("read");
        assert!(n > 0, "closed before the answer was complete");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .expect("content-length");
            if body.len() >= len {
                return text;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_stalled_connections_are_closed() {
    let (addr, _dir, server) = start(quick(1, 2)).await;
    let send_then_wait = |bytes: &'static [u8]| async move {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let started = Instant::now();
        s.write_all(bytes).await.expect("write");
        until_closed(&mut s, started).await
    };
    let trickle = async move {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        let started = Instant::now();
        for b in GET_OPENAPI {
            if s.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        until_closed(&mut s, started).await
    };
    let (silent, half_line, half_headers, trickled, body) = tokio::join!(
        send_then_wait(b""),
        send_then_wait(b"GET /api/v1/openapi.json HT"),
        send_then_wait(b"GET /api/v1/openapi.json HTTP/1.1\r\nhost: tally\r\n"),
        trickle,
        send_then_wait(
            b"POST /api/v1/tags HTTP/1.1\r\nhost: tally\r\nauthorization: Bearer test-key-0123456789\r\n\
              content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"na"
        ),
    );
    for (what, (answer, took)) in [
        ("silent", &silent),
        ("half a request line", &half_line),
        ("half the headers", &half_headers),
        ("a head trickled a byte at a time", &trickled),
    ] {
        eprintln!("{what}: closed after {took:?}");
        assert!(answer.is_empty(), "{what}: {answer}");
        assert!(
            (Duration::from_millis(900)..Duration::from_secs(4)).contains(took),
            "{what}: closed after {took:?}, header timeout 1 s"
        );
    }
    let (answer, took) = body;
    eprintln!("stalled body: closed after {took:?}");
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains(r#""param":"body""#), "{answer}");
    assert!(
        (Duration::from_millis(1900)..Duration::from_secs(5)).contains(&took),
        "stalled body closed after {took:?}, idle timeout 2 s"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_connections_close_after_the_idle_timeout_not_the_header_one() {
    let (addr, _dir, server) = start(quick(1, 2)).await;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(GET_OPENAPI).await.expect("write");
    assert!(one_answer(&mut s).await.starts_with("HTTP/1.1 200 "));
    // Longer than the header timeout, shorter than the idle one: the connection is still there.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.write_all(GET_OPENAPI).await.expect("write");
    assert!(one_answer(&mut s).await.starts_with("HTTP/1.1 200 "));
    let (rest, took) = until_closed(&mut s, Instant::now()).await;
    eprintln!("idle kept-alive connection closed after {took:?}");
    assert!(rest.is_empty(), "{rest}");
    assert!(
        (Duration::from_millis(1900)..Duration::from_secs(5)).contains(&took),
        "closed after {took:?}, idle timeout 2 s"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_a_connection_gets_503_and_the_server_carries_on() {
    let (addr, _dir, server) = start(ServeArgs {
        max_connections: 2,
        ..quick(30, 30)
    })
    .await;
    let first = TcpStream::connect(addr).await.expect("connect");
    let second = TcpStream::connect(addr).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut third = TcpStream::connect(addr).await.expect("connect");
    let started = Instant::now();
    third.write_all(GET_OPENAPI).await.expect("write");
    let (answer, took) = until_closed(&mut third, started).await;
    assert!(
        took < Duration::from_secs(2),
        "answered and closed, not left hanging: {took:?}"
    );
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
    assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    let body: serde_json::Value = serde_json::from_str(body).expect("JSON error");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        !body["error"]["message"]
            .as_str()
            .expect("message")
            .is_empty()
    );

    let fresh = fresh_client;
    let url = format!("http://{addr}/api/v1/transactions?limit=1");
    let resp = fresh()
        .get(&url)
        .bearer_auth(KEY)
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");

    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = fresh()
            .get(&url)
            .bearer_auth(KEY)
            .send()
            .await
            .expect("an answer")
            .status();
        if status.as_u16() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a freed slot is used again: still {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(second);
    server.abort();
}

/// `tally serve` as a child process; killed when dropped.
struct ServeProcess(Child);

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on a copy of the fixture in `dir` with the open-file limit `files`, stderr into `dir/stderr`.
fn spawn_serve(dir: &Path, files: u32, flags: &[&str]) -> (ServeProcess, SocketAddr) {
    let journal = dir.join("ledger.journal");
    std::fs::write(&journal, FIXTURE).expect("fixture");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr");
    let stderr = std::fs::File::create(dir.join("stderr")).expect("stderr file");
    let child = Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_tally"))
        .arg("serve")
        .arg("-f")
        .arg(&journal)
        .args(["--bind", &addr.to_string(), "--requests-per-minute", "0"])
        .args(flags)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("TALLY_SERVE_KEYS", KEY)
        .env("NO_COLOR", "1")
        .env_remove("TALLY_LOG")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("tally serve starts");
    let mut child = ServeProcess(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        let exited = child.0.try_wait().expect("status");
        if exited.is_some() || Instant::now() > deadline {
            let stderr = std::fs::read_to_string(dir.join("stderr")).unwrap_or_default();
            panic!("tally serve did not listen ({exited:?}): {stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, addr)
}

fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(3))
        .build()
        .expect("client")
}

/// The outside check's failure: before, the 600 sockets held every file descriptor the server had, and a fresh
/// client waited forever in the listen queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_idle_sockets_do_not_lock_out_a_fresh_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut server, addr) = spawn_serve(
        dir.path(),
        512,
        &["--header-timeout", "3", "--no-access-log"],
    );
    let started = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..600 {
        idle.push(
            TcpStream::connect(addr)
                .await
                .expect("the kernel queues the connection"),
        );
    }
    eprintln!("600 idle sockets opened in {:?}", started.elapsed());
    let closing: Vec<_> = idle
        .into_iter()
        .map(|mut s| tokio::spawn(async move { until_closed(&mut s, started).await }))
        .collect();
    // Let the refusals of the sockets past the cap (which send nothing) run out.
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let client = fresh_client();
    let url = format!("http://{addr}/api/v1/transactions?limit=1");
    // While the idle sockets hold every slot the answer is 503 (200 if they were already closed): an answer, not
    // a hang.
    let status = client
        .get(&url)
        .bearer_auth(KEY)
        .send()
        .await
        .expect("a fresh client is answered while 600 sockets are open")
        .status()
        .as_u16();
    assert!(status == 503 || status == 200, "{status}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let served_at = loop {
        match client.get(&url).bearer_auth(KEY).send().await {
            Ok(r) if r.status().as_u16() == 200 => break started.elapsed(),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the fresh client was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("fresh client served {served_at:?} after the 600 sockets began to open");
    let mut closed_at = Vec::new();
    for c in closing {
        let (answer, took) = c.await.expect("task");
        assert!(answer.is_empty(), "idle sockets are not answered: {answer}");
        closed_at.push(took);
    }
    closed_at.sort();
    let held = closed_at
        .iter()
        .filter(|t| **t >= Duration::from_secs(3))
        .count();
    eprintln!(
        "idle sockets closed by the server: {} past the cap within {:?}, {held} held until the header timeout, \
         the last {:?} after the first was opened",
        600 - held,
        closed_at[599 - held],
        closed_at[599]
    );
    assert!(
        (1..=256).contains(&held),
        "at most the cap (256 at 512 files) is held: {held}"
    );
    assert!(
        closed_at[599] < Duration::from_secs(6),
        "{:?}",
        closed_at[599]
    );
    assert!(
        server.0.try_wait().expect("status").is_none(),
        "the server is still running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_names_the_request_and_the_key_id_but_never_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut server, addr) = spawn_serve(dir.path(), 1024, &[]);
    let client = fresh_client();
    let base = format!("http://{addr}/api/v1");
    for (path, key, status) in [
        ("transactions?limit=1&q=coffee", KEY, 200),
        ("transactions?limit=999", KEY, 400),
        ("accounts", "not-the-key-4242", 401),
    ] {
        let resp = client
            .get(format!("{base}/{path}"))
            .bearer_auth(key)
            .send()
            .await
            .expect("answer");
        assert_eq!(resp.status().as_u16(), status, "{path}");
    }
    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    assert!(server.0.wait().expect("exits").success(), "clean shutdown");
    let log = std::fs::read_to_string(dir.path().join("stderr")).expect("stderr");

    let key_id: String = Sha256::digest(KEY.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let access: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("tally::access"))
        .collect();
    assert_eq!(access.len(), 3, "one line per request:\n{log}");
    let ok = access[0];
    for part in [
        " INFO ",
        "method=GET",
        "path=/api/v1/transactions?limit=1&q=coffee",
        "status=200",
        &format!("key={key_id}"),
    ] {
        assert!(ok.contains(part), "{part:?} missing from {ok:?}");
    }
    let ms: f64 = ok
        .split_once("ms=")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("ms=<number>");
    assert!((0.0..10_000.0).contains(&ms), "{ms}");
    assert!(access[1].contains("status=400"), "{}", access[1]);
    assert!(
        access[1].contains(&format!("key={key_id}")),
        "{}",
        access[1]
    );
    assert!(access[2].contains("status=401"), "{}", access[2]);
    assert!(access[2].contains("key=-"), "{}", access[2]);
    assert!(!log.contains(KEY), "the key is never logged:\n{log}");
    assert!(!log.contains("not-the-key-4242"), "nor a wrong one:\n{log}");
    assert!(!log.to_ascii_lowercase().contains("bearer"), "{log}");

    let quiet = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = spawn_serve(quiet.path(), 1024, &["--no-access-log"]);
    let resp = client
        .get(format!("http://{addr}/api/v1/accounts"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 200);
    let log = std::fs::read_to_string(quiet.path().join("stderr")).expect("stderr");
    assert!(log.contains("tally serve listening"), "{log}");
    assert!(!log.contains("tally::access"), "--no-access-log: {log}");
}
