//! The real binary end to end: `tally serve -f FILE` in one process, `tally --remote URL ...` in another. Every
//! read command prints exactly what `tally -f FILE ...` prints for the file behind the server; the same edits made
//! remotely and locally (on two copies of one ledger) leave byte-identical files; SIGTERM stops the server cleanly.

use assert_cmd::cargo::CommandCargoExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "cli-test-key-5150";
const FIXTURE: &str = include_str!("../fixtures/conformance.journal");

pub(crate) fn tally(home: &Path) -> Command {
    let mut c = Command::cargo_bin("tally").expect("tally binary");
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .env("TALLY_API_KEY", KEY)
        .env_remove("TALLY_SERVE_KEYS");
    c
}

pub(crate) fn run(mut c: Command) -> String {
    let out = c.output().expect("tally runs");
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

pub(crate) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start(home: &Path, journal: &Path) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let mut c = tally(home);
    c.env("TALLY_SERVE_KEYS", KEY)
        .arg("serve")
        .arg("-f")
        .arg(journal)
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--requests-per-minute",
            "0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = Server(c.spawn().expect("serve starts"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tally serve did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, format!("http://127.0.0.1:{port}"))
}

#[test]
fn remote_commands_print_what_local_ones_print() {
    let home = tempfile::tempdir().expect("tempdir");
    let served = home.path().join("served.journal");
    std::fs::write(&served, FIXTURE).expect("fixture");
    let (_server, url) = start(home.path(), &served);
    let reads: &[&[&str]] = &[
        &["balances", "--format", "json"],
        &["balances"],
        &["accounts", "--format", "json"],
        &["transactions", "--format", "json"],
        &[
            "transactions",
            "--format",
            "csv",
            "-q",
            "acct:food date:2024",
        ],
        &[
            "transactions",
            "--format",
            "json",
            "-q",
            "tag:work not:status:*",
            "--limit",
            "7",
        ],
        &[
            "transactions",
            "--format",
            "csv",
            "--sort",
            "amount",
            "--ascending",
        ],
        &["summary", "--group-by", "month", "--format", "json"],
        &["breakdown", "--by", "tag", "--format", "json"],
        &[
            "breakdown",
            "--by",
            "payee",
            "--from",
            "2024-03-01",
            "--to",
            "2024-09-01",
        ],
    ];
    for args in reads {
        let mut local = tally(home.path());
        local.arg("-f").arg(&served).args(*args);
        let mut remote = tally(home.path());
        remote.args(["--remote", &url]).args(*args);
        let (l, r) = (run(local), run(remote));
        assert!(!l.is_empty(), "{args:?} printed nothing");
        assert_eq!(l, r, "{args:?} differs between -f and --remote");
    }
}

#[test]
fn remote_edits_change_the_file_like_local_ones() {
    let home = tempfile::tempdir().expect("tempdir");
    let served = home.path().join("served.journal");
    let local = home.path().join("local.journal");
    std::fs::write(&served, FIXTURE).expect("fixture");
    std::fs::write(&local, FIXTURE).expect("fixture");
    let (mut server, url) = start(home.path(), &served);
    let edits: &[&[&str]] = &[
        &["tag", "-q", "acct:fuel date:2024-05", "--add", "roadtrip"],
        &[
            "tag",
            "-q",
            "tag:work date:2024-06",
            "--remove",
            "work",
            "--add",
            "client:acme",
        ],
        &["status", "-q", "payee:cinema", "--set", "cleared"],
    ];
    for args in edits {
        let mut l = tally(home.path());
        l.arg("-f").arg(&local).args(*args);
        let mut r = tally(home.path());
        r.args(["--remote", &url]).args(*args);
        assert_eq!(run(l), run(r), "{args:?} reports differently");
    }
    assert_ne!(std::fs::read(&served).expect("read"), FIXTURE.as_bytes());
    assert_eq!(
        std::fs::read(&served).expect("read"),
        std::fs::read(&local).expect("read"),
        "remote and local edits left different files"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = server.0.wait().expect("server exits");
    assert!(
        status.success(),
        "tally serve exits cleanly on SIGTERM: {status:?}"
    );
}
