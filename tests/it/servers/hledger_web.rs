//! The real `hledger-web` (the Debian package, 1.25) serving a journal's JSON API on 127.0.0.1, for the tests of
//! the hledger-web dialect. `HledgerWeb::start` picks a free port, waits until `/version` answers and kills the
//! process when dropped. Without `hledger-web` on the PATH it returns `None` (a notice is printed), unless
//! `TALLY_REQUIRE_HLEDGER=1`, when that is a failure.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct HledgerWeb {
    pub url: String,
    child: Child,
}

impl Drop for HledgerWeb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether hledger-web can be run here (and must be, with `TALLY_REQUIRE_HLEDGER=1`).
pub fn available() -> bool {
    let found = Command::new("hledger-web")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("TALLY_REQUIRE_HLEDGER").as_deref() != Ok("1"),
            "hledger-web is not installed but TALLY_REQUIRE_HLEDGER=1"
        );
        eprintln!("notice: hledger-web not found on PATH; skipping");
    }
    found
}

impl HledgerWeb {
    /// Serves `journal`; `None` when hledger-web is not installed (and not required).
    pub fn start(journal: &Path) -> Option<HledgerWeb> {
        if !available() {
            return None;
        }
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new("hledger-web")
                .arg("-f")
                .arg(journal)
                .args([
                    "--serve-api",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("hledger-web starts");
            let server = HledgerWeb {
                url: format!("http://127.0.0.1:{port}"),
                child,
            };
            if server.ready() {
                return Some(server);
            }
        }
        panic!("hledger-web did not start serving {}", journal.display());
    }

    fn ready(&self) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let answered = std::net::TcpStream::connect(self.url.trim_start_matches("http://"))
                .ok()
                .and_then(|mut s| {
                    use std::io::{Read, Write};
                    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
                    s.write_all(b"GET /version HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                        .ok()?;
                    let mut buf = String::new();
                    s.read_to_string(&mut buf).ok()?;
                    Some(buf.starts_with("HTTP/1.") && buf.contains(" 200 "))
                })
                .unwrap_or(false);
            if answered {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}
