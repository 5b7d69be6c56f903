//! Saves racing other writers, on the real binary: while `tally tag -q '' --add …` (and bulk tags through
//! `tally serve`) rewrite a generated journal, another writer appends complete transactions the way a script or
//! `hledger add` does (`O_APPEND`, one write each) at seeded random moments — some while tally loads or patches,
//! some aimed at the pause `TALLY_SLOW_SAVE_MS` adds after the temp file is synced and before the last checks, the
//! moment the reported losses happened. Afterwards every appended transaction is in the file exactly once, the file
//! reads cleanly for tally (and `hledger check`, required with `TALLY_REQUIRE_HLEDGER=1`), every transaction that
//! was in the file when a CLI save started carries its tag, a bulk tag answered 200 tagged all its ids and one
//! answered 409 (with a message) none — never a 5xx, never a silent loss. An editor's atomic rewrite of the very
//! transaction being tagged, landed inside the pause, is either re-applied on top (a comment added: the id stays)
//! or refused with exit 1 and the file left exactly as the editor wrote it (the description changed: the id is gone).
//!
//! Nothing here asserts on timing: appends land wherever the scheduler puts them, and each outcome is checked to be
//! correct. The only counts checked — that some save had to start over — need just one write aimed at a pause of
//! `PAUSE_MS` or more to land within it. A save starts over at most once per append, so the CLI runs, with at most
//! 4 appends each, never exhaust tally's 5 attempts; the server's bulk tags share 10 appends, and one of them may
//! (all or nothing: 409 "kept changing").

use crate::cli::{hledger_available, tally};
use assert_cmd::cargo::CommandCargoExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use tally::generate::{GenerateOptions, generate};

/// Transactions in the generated journal: tagging all of them takes about 0.6 s in a debug build (each append that
/// lands in a save costs another such pass), which keeps each test under about 10 s on 2 busy cores.
const TXNS: usize = 3_000;
/// The test pause between syncing the temp file and the last checks (`TALLY_SLOW_SAVE_MS`).
const PAUSE_MS: u64 = 250;
const SLOW_SAVE_ENV: &str = "TALLY_SLOW_SAVE_MS";
/// What tally logs when a file changed under a save and the edit is re-applied.
const RETRIED: &str = "changed while saving";

fn generated(dir: &Path, transactions: usize, seed: u64) -> PathBuf {
    let path = dir.join("race.journal");
    let mut w = std::io::BufWriter::new(fs::File::create(&path).expect("create journal"));
    let opts = GenerateOptions {
        transactions,
        seed,
        ..GenerateOptions::default()
    };
    generate(&opts, &mut w).expect("generate");
    w.flush().expect("flush journal");
    path
}

/// Appends one complete transaction described `appended MARKER`, as a script or `hledger add` does.
fn append(journal: &Path, marker: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .open(journal)
        .expect("open for append");
    f.write_all(format!("\n2025-01-01 appended {marker}\n    a  1\n    b\n").as_bytes())
        .expect("append");
}

/// A tally temp file beside `journal` holding at least `min_len` bytes: the new text is written, and the save is
/// syncing it, pausing, checking or renaming.
fn written_temp(journal: &Path, min_len: u64) -> Option<String> {
    let dir = journal.parent().expect("journal dir");
    let name = journal.file_name().expect("file name").to_string_lossy();
    let prefix = format!(".{name}.tally-");
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let n = entry.file_name().to_string_lossy().into_owned();
        if n.starts_with(&prefix)
            && n.ends_with(".tmp")
            && entry.metadata().is_ok_and(|m| m.len() >= min_len)
        {
            return Some(n);
        }
    }
    None
}

/// Waits (until `done`) for a written temp file other than `last`; returns its name.
fn wait_for_new_temp(journal: &Path, last: &Option<String>, done: &AtomicBool) -> Option<String> {
    // The new text is the old one plus tags, so at least as long as the file is now.
    let min_len = fs::metadata(journal).map(|m| m.len()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
        if let Some(t) = written_temp(journal, min_len)
            && Some(&t) != last.as_ref()
        {
            return Some(t);
        }
        thread::sleep(Duration::from_millis(1));
    }
    None
}

/// Appends `markers` one by one from another thread: each, by a seeded coin toss, either after a random sleep or
/// aimed at a save's pause (a temp file not seen before is written; a random part of the pause later). Once `done`
/// is set, the remaining ones are appended at once.
fn spawn_appender(
    journal: PathBuf,
    markers: Vec<String>,
    seed: u64,
    done: Arc<AtomicBool>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut last_temp = None;
        for marker in markers {
            if rng.random_bool(0.5) {
                if let Some(t) = wait_for_new_temp(&journal, &last_temp, &done) {
                    last_temp = Some(t);
                    thread::sleep(Duration::from_millis(rng.random_range(0..PAUSE_MS / 3)));
                }
            } else if !done.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(rng.random_range(0..700)));
            }
            append(&journal, &marker);
        }
    })
}

/// Every transaction in the file as (description, tag names), read by tally itself — which also proves the file
/// reads cleanly: a read command exits 1 on any journal error.
fn transactions(journal: &Path, query: &str) -> Vec<(String, Vec<String>)> {
    let out = tally()
        .args(["transactions", "--format", "json", "-q", query, "-f"])
        .arg(journal)
        .output()
        .expect("tally transactions");
    assert!(
        out.status.success(),
        "tally cannot read the saved journal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json.as_array()
        .expect("array")
        .iter()
        .map(|t| {
            let tags = t["tags"].as_array().expect("tags").iter();
            (
                t["description"].as_str().expect("description").to_string(),
                tags.map(|g| g["name"].as_str().expect("name").to_string())
                    .collect(),
            )
        })
        .collect()
}

/// Every marker's transaction is in the file exactly once, and the file reads cleanly for tally and hledger.
/// Returns the tags of each appended transaction by marker.
fn check_appends(journal: &Path, markers: &[String]) -> BTreeMap<String, Vec<String>> {
    let text = fs::read_to_string(journal).expect("read journal");
    for m in markers {
        let n = text.matches(&format!("appended {m}")).count();
        assert_eq!(n, 1, "appended transaction {m} is in the file {n} times");
    }
    let appended: BTreeMap<String, Vec<String>> = transactions(journal, "desc:appended")
        .into_iter()
        .map(|(d, tags)| (d.trim_start_matches("appended ").to_string(), tags))
        .collect();
    assert_eq!(
        appended.keys().collect::<Vec<_>>(),
        {
            let mut sorted: Vec<_> = markers.iter().collect();
            sorted.sort();
            sorted
        },
        "tally reads every appended transaction, once"
    );
    if hledger_available() {
        let check = Command::new("hledger")
            .arg("-f")
            .arg(journal)
            .arg("check")
            .output()
            .expect("hledger runs");
        assert!(
            check.status.success(),
            "hledger check: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let print = Command::new("hledger")
            .arg("-f")
            .arg(journal)
            .args(["print", "desc:appended"])
            .output()
            .expect("hledger runs");
        let printed = String::from_utf8_lossy(&print.stdout);
        assert_eq!(printed.matches(" appended ").count(), markers.len());
    }
    appended
}

/// The figures tally logged at debug level: how many saves started over, and each check-to-rename window.
fn save_log(log: &str) -> (usize, Vec<String>) {
    let retries = log.matches(RETRIED).count();
    let windows = log
        .lines()
        .filter_map(|l| l.split_once("check-to-rename window "))
        .map(|(_, w)| w.split(',').next().unwrap_or(w).to_string())
        .collect();
    (retries, windows)
}

/// `tally tag -q QUERY --add TAG` on `journal` with the test pause and the save log on stderr.
fn tag_slowly(journal: &Path, query: &str, tag: &str, pause_ms: u64) -> Output {
    tally()
        .env(SLOW_SAVE_ENV, pause_ms.to_string())
        .env("TALLY_LOG", "tally=debug")
        .args(["tag", "-q", query, "--add", tag, "-f"])
        .arg(journal)
        .output()
        .expect("tally tag runs")
}

#[test]
fn cli_saves_keep_every_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = generated(dir.path(), TXNS, 11);
    let per_run = [4, 3, 3];
    let mut markers: Vec<String> = Vec::new();
    let (mut retries, mut windows) = (0, Vec::new());
    for (run, &count) in per_run.iter().enumerate() {
        let before = markers.clone();
        let new: Vec<String> = (0..count).map(|i| format!("cli-{run}-{i:02}")).collect();
        let done = Arc::new(AtomicBool::new(false));
        let appender = spawn_appender(journal.clone(), new.clone(), 100 + run as u64, done.clone());
        let out = tag_slowly(&journal, "", &format!("x{run}"), PAUSE_MS);
        done.store(true, Ordering::SeqCst);
        appender.join().expect("appender");
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "tally tag failed: {log}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("transactions changed"),
            "{log}"
        );
        let (r, w) = save_log(&log);
        retries += r;
        windows.extend(w);
        markers.extend(new);
        // The transactions in the file before this run started (all but this run's appends) carry its tag.
        let appended = check_appends(&journal, &markers);
        for m in &before {
            assert!(
                appended[m].contains(&format!("x{run}")),
                "run {run}: {m} was in the file before the save but did not get the tag"
            );
        }
    }
    // Appended during a run: tagged only if the append came before tally read the file for its query (a re-read
    // re-applies the edit to the ids that query found, not to newcomers); either way is fine.
    for (description, tags) in transactions(&journal, "not:desc:appended") {
        for run in 0..per_run.len() {
            assert!(
                tags.contains(&format!("x{run}")),
                "'{description}' lacks x{run}"
            );
        }
    }
    eprintln!(
        "{} appends over {} saves: {retries} started over; check-to-rename windows {windows:?}",
        markers.len(),
        per_run.len()
    );
    assert!(
        retries >= 1,
        "no append landed inside a save: the race was not exercised"
    );
}

/// Replaces `journal` with `text` the way most editors save: a new file beside it, renamed over it.
fn editor_save(journal: &Path, text: &str) {
    let tmp = journal.with_extension("journal~");
    fs::write(&tmp, text).expect("editor writes");
    fs::rename(&tmp, journal).expect("editor renames");
}

/// Runs `tally tag -q '' --add TAG` with a long pause while an editor that read the file before tally started saves
/// `edited` inside that pause.
fn tag_while_editor_saves(journal: &Path, tag: &str, edited: String) -> Output {
    let done = Arc::new(AtomicBool::new(false));
    let editor = {
        let (journal, done) = (journal.to_path_buf(), done.clone());
        thread::spawn(move || {
            let landed = wait_for_new_temp(&journal, &None, &done).is_some();
            editor_save(&journal, &edited);
            landed
        })
    };
    let out = tag_slowly(journal, "", tag, 4 * PAUSE_MS);
    done.store(true, Ordering::SeqCst);
    assert!(
        editor.join().expect("editor"),
        "the editor's save did not land inside tally's"
    );
    out
}

/// `text` with `f` applied to its first transaction's header line.
fn edit_first_header(text: &str, f: impl Fn(&str) -> String) -> String {
    let at = text.find("\n20").map(|i| i + 1).expect("a transaction");
    let end = at + text[at..].find('\n').expect("header ends");
    format!("{}{}{}", &text[..at], f(&text[at..end]), &text[end..])
}

#[test]
fn an_editors_change_to_the_transaction_being_tagged_is_never_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = generated(dir.path(), 1_000, 5);
    let original = fs::read_to_string(&journal).expect("read");

    // A comment added to the header: the transaction keeps its id, so tally re-reads and tags it on top.
    let commented = edit_first_header(&original, |h| format!("{h}  ; reviewed: editor"));
    let out = tag_while_editor_saves(&journal, "x", commented);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains(RETRIED), "tally noticed the editor: {log}");
    let all = transactions(&journal, "");
    assert!(all.iter().all(|(_, tags)| tags.contains(&"x".to_string())));
    let reviewed: Vec<_> = all
        .iter()
        .filter(|(_, t)| t.contains(&"reviewed".into()))
        .collect();
    assert_eq!(
        reviewed.len(),
        1,
        "the editor's comment is kept: {reviewed:?}"
    );

    // The description changed: that id is gone, so tally refuses and the file stays exactly as the editor saved it.
    let before = fs::read_to_string(&journal).expect("read");
    let renamed = edit_first_header(&before, |h| match h.find("  ;") {
        Some(i) => format!("{} EDITED{}", &h[..i], &h[i..]),
        None => format!("{h} EDITED"),
    });
    let out = tag_while_editor_saves(&journal, "y", renamed.clone());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "tally must refuse: {message}");
    assert!(
        message.contains("no longer in") && message.contains("nothing was saved"),
        "{message}"
    );
    assert_eq!(fs::read_to_string(&journal).expect("read"), renamed);
    // Run again, it tags the editor's version.
    let out = tag_slowly(&journal, "", "y", 0);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let edited = transactions(&journal, "desc:EDITED");
    assert_eq!(edited.len(), 1);
    for tag in ["reviewed", "x", "y"] {
        assert!(edited[0].1.contains(&tag.to_string()), "{edited:?}");
    }
}

const KEY: &str = "save-race-key-4711";

/// A `tally serve` child process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tally serve -f JOURNAL` on a free loopback port with the test pause; its log (debug for saves, no
/// access log) goes to `log`. Returns the server and its base URL.
fn serve_slowly(home: &Path, journal: &Path, log: &Path) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let mut c = Command::cargo_bin("tally").expect("tally binary");
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("TALLY_DATA_DIR", home.join("data"))
        .env_remove("TALLY_CONFIG")
        .env("TALLY_SERVE_KEYS", KEY)
        .env(SLOW_SAVE_ENV, PAUSE_MS.to_string())
        .env("TALLY_LOG", "tally=debug,tally::access=off")
        .arg("serve")
        .arg("-f")
        .arg(journal)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--requests-per-minute", "0"])
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).expect("log file"));
    let server = Server(c.spawn().expect("serve starts"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tally serve did not listen");
        thread::sleep(Duration::from_millis(50));
    }
    (server, format!("http://127.0.0.1:{port}/api/v1"))
}

/// One page of transaction ids (200 a page, newest first).
async fn page_of_ids(base: &str, page: usize) -> Vec<String> {
    let url = format!("{base}/transactions?limit=200&page={page}");
    let (status, _, body) =
        crate::rest_support::raw(reqwest::Method::GET, &url, Some(KEY), None).await;
    assert_eq!(status, 200, "{body}");
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect()
}

/// Sends the bulk tags (set `i` gets tag `s{i}`, a little after the one before) and some reads, all at once;
/// returns each bulk tag's status and body.
async fn bulk_tags_under_load(base: &str, sets: &[Vec<String>]) -> Vec<(u16, serde_json::Value)> {
    use crate::rest_support::raw;
    let mut writes = Vec::new();
    let mut reads = Vec::new();
    for (i, ids) in sets.iter().enumerate() {
        let url = format!("{base}/transactions/bulk-tag");
        let body = serde_json::json!({ "ids": ids, "add": [format!("s{i}")] });
        writes.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150 * i as u64)).await;
            let (status, _, body) = raw(reqwest::Method::POST, &url, Some(KEY), Some(body)).await;
            (status, body)
        }));
        let url = format!("{base}/transactions?limit=50&q=desc:appended");
        reads.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150 * i as u64 + 75)).await;
            raw(reqwest::Method::GET, &url, Some(KEY), None).await.0
        }));
    }
    for r in reads {
        assert_eq!(
            r.await.expect("read task"),
            200,
            "reads succeed during saves"
        );
    }
    let mut answers = Vec::new();
    for w in writes {
        answers.push(w.await.expect("write task"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_bulk_tags_keep_every_append() {
    let home = tempfile::tempdir().expect("tempdir");
    let journal = generated(home.path(), TXNS, 13);
    let log = home.path().join("serve.log");
    let (server, base) = serve_slowly(home.path(), &journal, &log);
    let mut sets = Vec::new();
    for page in 1..=6 {
        sets.push(page_of_ids(&base, page).await);
    }
    let markers: Vec<String> = (0..10).map(|i| format!("serve-{i:02}")).collect();
    let done = Arc::new(AtomicBool::new(false));
    let appender = spawn_appender(journal.clone(), markers.clone(), 7, done.clone());
    let answers = bulk_tags_under_load(&base, &sets).await;
    done.store(true, Ordering::SeqCst);
    tokio::task::spawn_blocking(move || appender.join().expect("appender"))
        .await
        .expect("join");
    drop(server);

    check_appends(&journal, &markers);
    // Each bulk tag is all or nothing: 200 and every id tagged, or 409 with a message and none tagged.
    for (i, ((status, body), ids)) in answers.iter().zip(&sets).enumerate() {
        let tagged = transactions(&journal, &format!("tag:s{i}")).len();
        match status {
            200 => {
                assert_eq!(body["data"]["changed"], ids.len(), "{body}");
                assert_eq!(tagged, ids.len(), "bulk tag {i} answered 200");
            }
            409 => {
                let message = body["error"]["message"].as_str().unwrap_or_default();
                assert!(!message.is_empty(), "{body}");
                assert_eq!(tagged, 0, "bulk tag {i} answered 409: {message}");
            }
            other => panic!("bulk tag {i} answered {other}: {body}"),
        }
    }
    let (retries, windows) = save_log(&fs::read_to_string(&log).expect("log"));
    let statuses: Vec<String> = answers
        .iter()
        .map(|(s, b)| match b["error"]["message"].as_str() {
            Some(m) => format!("{s} ({m})"),
            None => s.to_string(),
        })
        .collect();
    eprintln!(
        "{} appends during {} bulk tags {statuses:?}: {retries} started over; check-to-rename windows {windows:?}",
        markers.len(),
        sets.len()
    );
    assert!(
        retries >= 1,
        "no append landed inside a save: the race was not exercised"
    );
}
