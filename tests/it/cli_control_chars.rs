//! Control characters in the data never reach a terminal raw through the command line. A journal whose commodity,
//! tag values, payees and account names hold a window-title sequence (OSC 0), a clipboard write (OSC 52), a C1 CSI
//! (U+009B), DEL and lone ESC: every table command prints them as visible symbols; JSON and CSV piped to a program
//! carry them exactly, and on a pseudo-terminal (util-linux `script`, or tmux) come out escaped. Error messages —
//! journal diagnostics naming a file, the config file's problems, a server's error body — are cleaned too.

use crate::cli::tally;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TITLE: &str = "\u{1b}]0;pwned\u{7}";
const CLIPBOARD: &str = "\u{1b}]52;c;aGVsbG8=\u{7}";
/// hledger ends a quoted commodity symbol at `;`, so commodities carry sequences without one.
const COLOUR: &str = "\u{1b}[31m\u{9b}2J\u{7}";
const ICON_TITLE: &str = "\u{1b}]1\u{7}";

/// A journal where every kind of text holds control characters. Descriptions end at `;` (a comment), so payees
/// carry the sequences without one.
fn hostile_journal(dir: &Path) -> PathBuf {
    let mut j = format!(
        "2025-01-20 * Shop \u{1b}[2J\u{1b}]0\u{7} \u{9b}31m\u{7f} \u{1b}  ; trip:{TITLE}, note:{CLIPBOARD}\n    \
         expenses:food {CLIPBOARD}  10.00 \"EUR{COLOUR}\"\n    assets:bank\u{9b}2J\n\n"
    );
    for m in ["2024-10", "2024-11", "2024-12", "2025-01"] {
        j.push_str(&format!(
            "{m}-06 * Pay\u{9b}ee \u{1b}]0\u{7}\n    expenses:food {CLIPBOARD}  5 \"{ICON_TITLE}\"\n    \
             assets:bank\u{9b}2J\n\n"
        ));
    }
    let path = dir.join("hostile.journal");
    std::fs::write(&path, j).expect("write journal");
    path
}

/// The characters a terminal could act on: C0 controls but newline, DEL, C1 controls.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars().filter(|c| *c != '\n' && c.is_control()).collect()
}

fn run(args: &[&str], journal: &Path) -> (String, String) {
    let out = tally()
        .args(args)
        .arg("-f")
        .arg(journal)
        .output()
        .expect("run tally");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    (stdout, stderr)
}

const TABLE_COMMANDS: &[&[&str]] = &[
    &["balances"],
    &["accounts"],
    &["transactions"],
    &["summary"],
    &["breakdown", "--by", "category"],
    &["breakdown", "--by", "tag"],
    &["breakdown", "--by", "account"],
    &["breakdown", "--by", "payee"],
    &["projections"],
];

#[test]
fn table_output_shows_control_characters_as_symbols() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = hostile_journal(dir.path());
    let mut all = String::new();
    for args in TABLE_COMMANDS {
        let (stdout, stderr) = run(args, &journal);
        assert_eq!(
            raw_controls(&stdout),
            Vec::<char>::new(),
            "{args:?}:\n{stdout}"
        );
        assert_eq!(
            raw_controls(&stderr),
            Vec::<char>::new(),
            "{args:?}:\n{stderr}"
        );
        all.push_str(&stdout);
    }
    // What was there is shown, not dropped: commodity, tag value, account, payee.
    for shown in [
        "EUR␛[31m\u{fffd}2J␇",
        "trip:␛]0;pwned␇",
        "expenses:food ␛]52;c;aGVsbG8=␇",
        "assets:bank\u{fffd}2J",
        "Shop ␛[2J␛]0␇ \u{fffd}31m␡ ␛",
        "Pay\u{fffd}ee ␛]0␇",
    ] {
        assert!(all.contains(shown), "{shown:?} missing from:\n{all}");
    }
}

#[test]
fn json_and_csv_piped_keep_the_data_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = hostile_journal(dir.path());
    let (json, _) = run(&["transactions", "--format", "json"], &journal);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let newest = &v[0];
    assert_eq!(
        newest["payee"],
        "Shop \u{1b}[2J\u{1b}]0\u{7} \u{9b}31m\u{7f} \u{1b}"
    );
    assert_eq!(newest["tags"][0]["value"], TITLE);
    assert_eq!(newest["tags"][1]["value"], CLIPBOARD);
    assert_eq!(newest["amount"][0]["commodity"], format!("EUR{COLOUR}"));
    assert_eq!(newest["account"], "assets:bank\u{9b}2J");
    // serde_json's own escaping, untouched: C0 escaped, C1 and DEL raw.
    assert!(json.contains("Shop \\u001b[2J\\u001b]0\\u0007 \u{9b}31m\u{7f} \\u001b"));

    let (csv, _) = run(&["transactions", "--format", "csv"], &journal);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let first = reader.records().next().expect("a row").expect("CSV row");
    assert_eq!(
        &first[3],
        "Shop \u{1b}[2J\u{1b}]0\u{7} \u{9b}31m\u{7f} \u{1b}"
    );
    assert_eq!(&first[5], format!("expenses:food {CLIPBOARD}"));
    assert_eq!(&first[7], format!("EUR{COLOUR}"));
    assert_eq!(&first[8], format!("trip:{TITLE},note:{CLIPBOARD}"));

    let (balances, _) = run(&["balances", "--format", "csv"], &journal);
    assert!(balances.contains(&format!("assets:bank\u{9b}2J,EUR{COLOUR},-10.00\n")));
}

#[test]
fn json_and_csv_on_a_terminal_are_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = hostile_journal(dir.path());
    let (piped, _) = run(&["transactions", "--format", "json"], &journal);
    let Some(on_tty) = on_pty(&["transactions", "--format", "json"], &journal) else {
        return;
    };
    assert_eq!(raw_controls(&on_tty), Vec::<char>::new(), "{on_tty}");
    assert!(on_tty.contains("Shop \\u001b[2J\\u001b]0\\u0007 \\u009b31m\\u007f \\u001b"));
    let a: serde_json::Value = serde_json::from_str(&piped).expect("piped JSON");
    let b: serde_json::Value = serde_json::from_str(&on_tty).expect("terminal JSON");
    assert_eq!(a, b, "the same data either way");

    for args in [
        &["transactions", "--format", "csv"][..],
        &["balances", "--format", "csv"],
        &["breakdown", "--by", "tag", "--format", "csv"],
    ] {
        let Some(csv) = on_pty(args, &journal) else {
            return;
        };
        assert_eq!(raw_controls(&csv), Vec::<char>::new(), "{args:?}:\n{csv}");
        assert!(csv.contains("EUR␛[31m\u{fffd}2J␇"), "{args:?}:\n{csv}");
    }
}

#[test]
fn error_messages_show_control_characters_as_symbols() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A journal error in a file whose name holds a title sequence: the diagnostic and the final error name it.
    let bad = dir.path().join(format!("bad{TITLE}.journal"));
    std::fs::write(&bad, "2025-01-0x broken \u{1b}]0;t\u{7}\n    a  1\n    b\n").expect("write");
    let out = tally()
        .arg("balances")
        .arg("-f")
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(raw_controls(&err), Vec::<char>::new(), "{err}");
    assert!(err.contains("bad␛]0;pwned␇.journal:1:10:"), "{err}");
    assert!(err.contains("tally: "), "{err}");

    // A file that does not exist, named with a clipboard write.
    let missing = dir.path().join(format!("missing{CLIPBOARD}\u{9b}.journal"));
    let out = tally()
        .arg("balances")
        .arg("-f")
        .arg(&missing)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(raw_controls(&err), Vec::<char>::new(), "{err}");
    assert!(
        err.contains("missing␛]52;c;aGVsbG8=␇\u{fffd}.journal"),
        "{err}"
    );

    // A config file problem that quotes a key from the file.
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "\"key\\u001b]0;pwned\\u0007\\u009b\" = 1\n").expect("write");
    let out = tally()
        .arg("--config")
        .arg(&config)
        .arg("balances")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(raw_controls(&err), Vec::<char>::new(), "{err}");
    assert!(
        err.starts_with("tally: cannot load the config file: "),
        "{err}"
    );
    assert!(err.contains("key␛]0;pwned␇\u{fffd}"), "{err}");
}

#[test]
fn a_server_error_body_is_shown_cleaned() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let body = r#"{"error":{"code":"forbidden","message":"no \u001b]52;c;aGVsbG8=\u0007 \u009b2J entry"}}"#;
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            read_head(&mut stream);
            let answer = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tally()
        .env("TALLY_API_KEY", "k")
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .args(["--remote", &url, "balances"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(raw_controls(&err), Vec::<char>::new(), "{err}");
    assert!(
        err.contains("HTTP 403: no ␛]52;c;aGVsbG8=␇ \u{fffd}2J entry"),
        "{err}"
    );
}

/// Reads a request's head (enough for a GET).
fn read_head(stream: &mut std::net::TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match std::io::Read::read(stream, &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `tally ARGS -f JOURNAL` as a POSIX shell command line, in the environment `cli::tally` gives.
fn shell_command(args: &[&str], journal: &Path) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let data = std::env::temp_dir().join("tally-cli-tests-data");
    let bin = assert_cmd::cargo::cargo_bin("tally");
    let mut words = vec![
        "env -u TALLY_CONFIG".to_string(),
        format!("TALLY_DATA_DIR={}", quote(&data.to_string_lossy())),
        quote(&bin.to_string_lossy()),
    ];
    words.extend(args.iter().map(|a| quote(a)));
    words.push("-f".into());
    words.push(quote(&journal.to_string_lossy()));
    words.join(" ")
}

/// What `tally ARGS -f JOURNAL` writes when its stdout is a pseudo-terminal (line ends as `\n`), through util-linux
/// `script` or else tmux; `None` after saying so when neither is installed.
fn on_pty(args: &[&str], journal: &Path) -> Option<String> {
    let command = shell_command(args, journal);
    let raw = if have("script", "--version") {
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .output()
            .expect("run script");
        assert!(out.status.success(), "script: {out:?}");
        out.stdout
    } else if have("tmux", "-V") {
        tmux_pty(&command)
    } else {
        eprintln!(
            "skipped: neither util-linux `script` nor tmux is installed to give tally a terminal"
        );
        return None;
    };
    Some(String::from_utf8(raw).expect("utf-8").replace("\r\n", "\n"))
}

/// Runs `command` in a detached tmux pane and returns the bytes it wrote there (`pipe-pane`, attached before the
/// command starts).
fn tmux_pty(command: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ready, done, out) = (
        dir.path().join("ready"),
        dir.path().join("done"),
        dir.path().join("pane.out"),
    );
    let socket = format!("tally-ctl-{}", std::process::id());
    let tmux = |args: &[&str]| {
        let ok = Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux {args:?} failed");
    };
    let script = format!(
        "while [ ! -e '{r}' ]; do sleep 0.05; done; {command}; touch '{d}'; sleep 30",
        r = ready.display(),
        d = done.display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "ctl",
        "-x",
        "200",
        "-y",
        "50",
        &script,
    ]);
    tmux(&[
        "pipe-pane",
        "-t",
        "ctl",
        "-O",
        &format!("cat > '{}'", out.display()),
    ]);
    std::fs::write(&ready, "").expect("write");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    tmux(&["kill-server"]);
    assert!(done.exists(), "the command did not finish in tmux");
    std::fs::read(&out).expect("pane output")
}
