//! End to end: the real `tally` binary in a tmux pseudo-terminal on a temporary copy of the demo journal. It filters,
//! selects all matches, adds a tag, undoes and redoes it, and quits; after each step `hledger` (the reference
//! implementation) reads the file and must see exactly the filtered transactions carry the tag — or none after undo,
//! with the file byte-identical to the original.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo.journal");
const TAG: &str = "e2ebatch";

struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// A tmux server of its own (`-L`), so tests running at once and the user's tmux never meet.
    fn start(name: &str, shell_command: &str) -> Tmux {
        let id = std::process::id();
        let t = Tmux {
            socket: format!("tally-e2e-{name}-{id}"),
            session: format!("{name}{id}"),
        };
        let status = t
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                &t.session,
                "-x",
                "100",
                "-y",
                "30",
            ])
            .arg(shell_command)
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        t
    }

    fn send(&self, keys: &[&str]) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    fn type_text(&self, text: &str) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", &self.session, "-l", text])
            .status()
            .expect("tmux send-keys -l");
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn alive(&self) -> bool {
        self.cmd()
            .args(["has-session", "-t", &self.session])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Waits until the screen satisfies `ok`; panics with the screen after `secs`.
    fn wait_for(&self, what: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(secs) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        || Command::new(program)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// `DATE DESCRIPTION` of every transaction hledger prints for `query`.
fn hledger_headers(file: &Path, query: &str) -> Vec<String> {
    let out = Command::new("hledger")
        .args(["-f"])
        .arg(file)
        .args(["print", query])
        .output()
        .expect("run hledger");
    assert!(
        out.status.success(),
        "hledger failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut headers: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            // Drop the comment (where the tag goes): compare date, status and description.
            l.split(';').next().unwrap_or(l).trim_end().to_string()
        })
        .collect();
    headers.sort();
    headers
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// A copy of the demo journal and an empty config in a temp dir (both tests need tmux and hledger).
fn demo_copy() -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    if !have("tmux") || !have("hledger") {
        eprintln!("skipped: tmux and hledger are needed");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let journal: PathBuf = dir.path().join("demo.journal");
    std::fs::copy(DEMO, &journal).expect("copy demo");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").expect("config");
    Some((dir, journal, config))
}

#[test]
fn filter_select_all_tag_undo_redo_quit() {
    let Some((dir, journal, config)) = demo_copy() else {
        return;
    };
    let original = std::fs::read(&journal).expect("read");
    let command = format!(
        "env TALLY_DATA_DIR={} TALLY_CONFIG={} {} -f {}",
        quote(&dir.path().join("data")),
        quote(&config),
        quote(Path::new(env!("CARGO_BIN_EXE_tally"))),
        quote(&journal)
    );
    let expected = hledger_headers(&journal, "desc:coffee");
    assert!(!expected.is_empty(), "the demo has coffee purchases");

    let tmux = Tmux::start("tag", &command);
    tmux.wait_for("the first page", 20, |s| s.contains(" matches "));

    tmux.send(&["/"]);
    tmux.type_text("coffee");
    tmux.send(&["Enter"]);
    let n = expected.len();
    let count = format!("{n} matches");
    tmux.wait_for("the filtered count", 10, |s| s.contains(&count));

    tmux.send(&["C-a"]);
    let selected = format!("{n} selected");
    tmux.wait_for("select all", 10, |s| s.contains(&selected));

    tmux.send(&["t"]);
    tmux.wait_for("the tag prompt", 5, |s| s.contains("Add tags"));
    tmux.type_text(TAG);
    tmux.send(&["Enter"]);
    tmux.wait_for("the write", 15, |s| s.contains("(u to undo)"));
    assert_eq!(hledger_headers(&journal, &format!("tag:{TAG}")), expected);

    tmux.send(&["u"]);
    tmux.wait_for("the undo", 15, |s| s.contains("undone:"));
    assert!(hledger_headers(&journal, &format!("tag:{TAG}")).is_empty());
    assert!(
        std::fs::read(&journal).expect("read") == original,
        "undo restores the file byte for byte"
    );

    tmux.send(&["C-r"]);
    tmux.wait_for("the redo", 15, |s| s.contains("redone:"));
    assert_eq!(hledger_headers(&journal, &format!("tag:{TAG}")), expected);

    tmux.send(&["q"]);
    let start = Instant::now();
    while tmux.alive() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!tmux.alive(), "tally did not quit on q");
    // Only the tag was added: everything else in the file is as it was.
    let after = std::fs::read_to_string(&journal).expect("read");
    let original = String::from_utf8(original).expect("utf-8");
    assert_eq!(after.lines().count(), original.lines().count());
    let changed = after
        .lines()
        .zip(original.lines())
        .filter(|(a, b)| a != b)
        .inspect(|(a, b)| {
            assert!(
                a.contains(TAG) && a.starts_with(b.split(';').next().unwrap_or(b).trim_end()),
                "{b:?} became {a:?}"
            )
        })
        .count();
    assert_eq!(changed, n);
}

#[test]
fn a_missing_file_is_explained_and_the_terminal_is_restored() {
    if !have("tmux") {
        eprintln!("skipped: tmux is needed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").expect("config");
    let missing = dir.path().join("missing.journal");
    // After tally exits the shell reports its status and whether the terminal is back in cooked mode.
    let command = format!(
        "env RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 TALLY_DATA_DIR={} TALLY_CONFIG={} {} -f {}; echo EXIT=$?; stty -a | grep -o -- '-\\?icanon' | sed 's/^/MODE=/'; sleep 30",
        quote(&dir.path().join("data")),
        quote(&config),
        quote(Path::new(env!("CARGO_BIN_EXE_tally"))),
        quote(&missing)
    );
    let tmux = Tmux::start("missing", &command);
    tmux.wait_for("the error", 20, |s| {
        s.contains("Could not open the data source")
    });
    tmux.send(&["q"]);
    let screen = tmux.wait_for("the shell", 10, |s| s.contains("MODE="));
    assert!(screen.contains("EXIT=1"), "{screen}");
    assert!(
        screen.contains("MODE=icanon"),
        "raw mode left on:\n{screen}"
    );
    assert!(
        screen.contains("missing.journal"),
        "the error is printed:\n{screen}"
    );
    assert!(
        !screen.contains('┏'),
        "the dashboard's screen is gone:\n{screen}"
    );
}

/// Issue 12: `E` hands the terminal to `$EDITOR` at the row's file and line (`+LINE FILE`), takes it back when the
/// editor exits, and shows what was changed there at once. The editor is a script that appends a word to the line
/// it was sent to; hledger must read the result.
#[test]
fn e_opens_the_editor_at_the_row_and_reloads_after() {
    let Some((dir, journal, config)) = demo_copy() else {
        return;
    };
    let args = dir.path().join("editor-args");
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\necho \"$@\" > {}\nline=${{1#+}}\nsed -i \"${{line}}s/\\$/ EDITEDHERE/\" \"$2\"\n",
            quote(&args)
        ),
    )
    .expect("editor script");
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(&editor)
        .status()
        .expect("chmod");
    let command = format!(
        "env VISUAL= EDITOR={} TALLY_DATA_DIR={} TALLY_CONFIG={} {} -f {}",
        quote(&editor),
        quote(&dir.path().join("data")),
        quote(&config),
        quote(Path::new(env!("CARGO_BIN_EXE_tally"))),
        quote(&journal)
    );
    let tmux = Tmux::start("editor", &command);
    tmux.wait_for("the first page", 20, |s| s.contains(" matches "));
    tmux.send(&["E"]);
    let screen = tmux.wait_for("the edit to show", 15, |s| s.contains("EDITEDHERE"));
    let sent = std::fs::read_to_string(&args).expect("the editor ran");
    let (line, file) = sent.trim().split_once(' ').expect("+LINE FILE");
    let line: usize = line.trim_start_matches('+').parse().expect("a line number");
    assert_eq!(Path::new(file), journal.as_path());
    let text = std::fs::read_to_string(&journal).expect("read");
    let edited = text.lines().nth(line - 1).expect("the line exists");
    assert!(
        edited.starts_with("20") && edited.ends_with("EDITEDHERE"),
        "the editor was sent the transaction's header line: {edited}"
    );
    let first_row = screen
        .lines()
        .find(|l| l.contains("EDITEDHERE"))
        .expect("row");
    assert!(first_row.contains(&edited[..10]), "{first_row}");
    assert_eq!(hledger_headers(&journal, "desc:EDITEDHERE").len(), 1);
    assert!(tmux.alive(), "the dashboard is still running");
    tmux.send(&["q"]);
}

/// Issue 13, point 3: `tally import CSV` on a terminal opens the dashboard in the import preview (a script without a
/// terminal gets the direct import); Enter appends the new rows in one write and the review queue shows them.
#[test]
fn tally_import_on_a_terminal_opens_the_preview() {
    let Some((dir, journal, config)) = demo_copy() else {
        return;
    };
    let csv = dir.path().join("bank.csv");
    std::fs::write(
        &csv,
        "Date,Description,Amount\n2026-11-27,TERMINAL TEST CAFE,-4.50\n2026-11-28,TERMINAL TEST BAKERY,-7.25\n",
    )
    .expect("csv");
    std::fs::write(
        dir.path().join("bank.csv.rules"),
        "skip 1\nfields date, description, amount\ncurrency $\naccount1 assets:checking\n",
    )
    .expect("rules");
    let before = std::fs::read_to_string(&journal).expect("read");
    let command = format!(
        "env TALLY_DATA_DIR={} TALLY_CONFIG={} {} -f {} import {}",
        quote(&dir.path().join("data")),
        quote(&config),
        quote(Path::new(env!("CARGO_BIN_EXE_tally"))),
        quote(&journal),
        quote(&csv)
    );
    let tmux = Tmux::start("import", &command);
    tmux.wait_for("the preview", 20, |s| s.contains("2 to import"));
    assert_eq!(
        std::fs::read_to_string(&journal).expect("read"),
        before,
        "nothing written yet"
    );
    tmux.send(&["Enter"]);
    tmux.wait_for("the review queue with the new rows", 15, |s| {
        s.contains("imported 2") && s.contains("TERMINAL TEST BAKERY")
    });
    let text = std::fs::read_to_string(&journal).expect("read");
    assert!(text.starts_with(&before));
    assert_eq!(text[before.len()..].matches("; import-id:").count(), 2);
    assert_eq!(hledger_headers(&journal, "desc:TERMINAL TEST").len(), 2);
    tmux.send(&["q"]);
}
