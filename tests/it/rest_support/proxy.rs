//! A TCP proxy in front of a real server that plays "server killed mid-request": per request (one per connection),
//! it can hang up before forwarding (the server never saw it), or forward it and hang up before relaying the answer
//! (the server applied it, the client never hears). It records every request line it received.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection without forwarding the request.
    DropBeforeForward,
    /// Forward the request, let the server finish it, then close without answering.
    DropAfterForward,
    Forward,
    /// Answer 503 in the API's error format without forwarding.
    Unavailable,
}

pub struct Proxy {
    pub url: String,
    pub seen: Arc<Mutex<Vec<String>>>,
    plan: Arc<Mutex<Vec<Fault>>>,
}

impl Proxy {
    /// `plan` applies to the first requests in order; later requests are forwarded.
    pub async fn start(upstream: std::net::SocketAddr, plan: Vec<Fault>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let plan = Arc::new(Mutex::new(plan));
        let (seen2, plan2) = (seen.clone(), plan.clone());
        tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                let (seen, plan) = (seen2.clone(), plan2.clone());
                tokio::spawn(async move {
                    let _ = handle(conn, upstream, seen, plan).await;
                });
            }
        });
        Proxy {
            url: format!("http://{addr}"),
            seen,
            plan,
        }
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn set_plan(&self, plan: Vec<Fault>) {
        *self.plan.lock().expect("lock") = plan;
    }
}

async fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(Some(buf));
            }
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn handle(
    mut conn: TcpStream,
    upstream: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    plan: Arc<Mutex<Vec<Fault>>>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut conn).await? else {
        return Ok(());
    };
    let line_end = request.iter().position(|&b| b == b'\r').unwrap_or(0);
    let line = String::from_utf8_lossy(&request[..line_end]).into_owned();
    let fault = {
        let mut p = plan.lock().expect("lock");
        if p.is_empty() {
            Fault::Forward
        } else {
            p.remove(0)
        }
    };
    seen.lock().expect("lock").push(line);
    if fault == Fault::DropBeforeForward {
        return Ok(());
    }
    if fault == Fault::Unavailable {
        let body = r#"{"error":{"code":"internal_error","message":"backend restarting"}}"#;
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(answer.as_bytes()).await?;
        return conn.shutdown().await;
    }
    // One request per connection: ask the server to close, so its answer ends at EOF and says so to the client.
    let mut forwarded = request[..line_end + 2].to_vec();
    forwarded.extend_from_slice(b"connection: close\r\n");
    forwarded.extend_from_slice(&request[line_end + 2..]);
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(&forwarded).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    if fault == Fault::DropAfterForward {
        return Ok(());
    }
    conn.write_all(&answer).await?;
    conn.shutdown().await
}
