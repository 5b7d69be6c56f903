//! What an installed tally brings besides the binary: `tally completions SHELL` and `tally man`, both generated from
//! the clap definition the parser uses. They run with no config and no data: every run here points the config,
//! the data and cache directories and the journal at places that cannot be read, which fail any other command.

use assert_cmd::Command;
use std::path::Path;
use std::process::Command as Std;

/// `tally` where the config file is missing, the data and cache directories cannot be created (their parent is a
/// file) and `-f` names a journal that does not exist.
fn tally_without_setup(dir: &Path) -> Command {
    let blocker = dir.join("not-a-directory");
    std::fs::write(&blocker, "").expect("write");
    let mut c = Command::cargo_bin("tally").expect("tally binary");
    c.env("TALLY_CONFIG", dir.join("missing-config.toml"))
        .env("TALLY_DATA_DIR", blocker.join("data"))
        .env("TALLY_CACHE_DIR", blocker.join("cache"))
        .arg("-f")
        .arg(dir.join("missing.journal"));
    c
}

fn stdout_of(c: &mut Command) -> String {
    let out = c.output().expect("run tally");
    assert!(
        out.status.success(),
        "tally failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

fn completions(shell: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    stdout_of(tally_without_setup(dir.path()).args(["completions", shell]))
}

/// Runs `program args… FILE` on `text` written to a file; `None` when the program is not installed.
fn check_with(program: &str, args: &[&str], text: &str) -> Option<std::process::Output> {
    if Std::new(program).arg("--version").output().is_err() {
        eprintln!("{program} not found: skipping its check");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("input");
    std::fs::write(&file, text).expect("write");
    Some(
        Std::new(program)
            .args(args)
            .arg(&file)
            .output()
            .expect("run shell"),
    )
}

#[test]
fn the_environment_here_fails_an_ordinary_command() {
    // The premise of the other tests: what they run without is what a data command needs.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tally_without_setup(dir.path())
        .arg("balances")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing-config.toml"), "{err}");
}

#[test]
fn completions_for_bash_zsh_and_fish_name_tally_its_commands_and_options() {
    for (shell, marker) in [
        ("bash", "complete -F _tally"),
        ("zsh", "#compdef tally"),
        ("fish", "complete -c tally"),
    ] {
        let script = completions(shell);
        assert!(script.len() > 1000, "{shell}: short script:\n{script}");
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for word in [
            "transactions",
            "balances",
            "breakdown",
            "serve",
            "completions",
            "man",
            "format",
            "dry-run",
            "out-dir",
        ] {
            assert!(script.contains(word), "{shell}: {word:?} is not completed");
        }
    }
}

#[test]
fn bash_completion_is_valid_bash_and_completes_commands_options_and_shells() {
    let script = completions("bash");
    let Some(out) = check_with("bash", &["-n"], &script) else {
        return;
    };
    assert!(
        out.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Source it and ask it what bash would ask: `tally tra<Tab>`, `tally transactions --fo<Tab>`,
    // `tally completions <Tab>`.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("tally.bash");
    std::fs::write(&file, &script).expect("write");
    let complete = |words: &[&str]| -> Vec<String> {
        let cword = words.len() - 1;
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "source \"$1\"; COMP_WORDS=({}); COMP_CWORD={cword}; _tally tally {} {}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            quoted.join(" "),
            quoted[cword],
            quoted[cword - 1],
        );
        let out = Std::new("bash")
            .args(["-c", &program, "bash"])
            .arg(&file)
            .output()
            .expect("run bash");
        assert!(
            out.status.success(),
            "{words:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf8")
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(complete(&["tally", "tra"]), ["transactions"]);
    assert!(complete(&["tally", "transactions", "--fo"]).contains(&"--format".to_string()));
    let shells = complete(&["tally", "completions", ""]);
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&shell.to_string()), "{shells:?}");
    }
}

#[test]
fn zsh_and_fish_completions_parse_where_those_shells_are_installed() {
    for (shell, args) in [("zsh", &["-n"][..]), ("fish", &["--no-execute"][..])] {
        if let Some(out) = check_with(shell, args, &completions(shell)) {
            assert!(
                out.status.success(),
                "{shell} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error_listing_the_shells() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tally_without_setup(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
    assert!(
        err.contains("[possible values: bash, elvish, fish, powershell, zsh]"),
        "{err}"
    );
}

/// The first lines of a page: clap_mangen defines the `Aq` string (`.ie`/`.el`), then the `.TH` header.
fn th_line(page: &str) -> &str {
    let mut lines = page
        .lines()
        .skip_while(|l| l.starts_with(".ie ") || l.starts_with(".el "));
    lines.next().unwrap_or_default()
}

#[test]
fn man_page_has_a_roff_header_the_name_commands_and_option_descriptions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = stdout_of(tally_without_setup(dir.path()).arg("man"));
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(th_line(&page), format!(".TH tally 1  \"tally {version}\" "));
    assert!(
        page.contains(
            ".SH NAME\ntally \\- Review, filter, tag and analyse personal\\-finance data"
        ),
        "{page}"
    );
    // An option with its description, and the commands with theirs.
    assert!(
        page.contains(
            "\\fB\\-f\\fR, \\fB\\-\\-file\\fR \\fI<FILE>\\fR\nJournal file to open (hledger format; includes are followed)"
        ),
        "{page}"
    );
    assert!(
        page.contains("tally\\-transactions(1)\nTransactions matching a query, newest first"),
        "{page}"
    );
    assert!(page.contains("tally\\-completions(1)"), "{page}");
    assert!(page.contains("tally\\-man(1)"), "{page}");
    // No page exists for clap's `help` command, so none is referred to.
    assert!(!page.contains("tally\\-help(1)"), "{page}");
    // The environment variables (after_help) are in the page too.
    assert!(page.contains("TALLY_DATA_DIR"), "{page}");
    // groff (what `man` formats with) reads it without a warning, where it is installed.
    if let Some(out) = check_with("groff", &["-man", "-Tutf8", "-ww", "-z"], &page) {
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "groff: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn man_out_dir_writes_one_page_per_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages = dir.path().join("man1");
    let listed = stdout_of(
        tally_without_setup(dir.path())
            .args(["man", "--out-dir"])
            .arg(&pages),
    );
    let mut written: Vec<String> = std::fs::read_dir(&pages)
        .expect("out dir created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut expected: Vec<String> = [
        "tally",
        "tally-accounts",
        "tally-balances",
        "tally-breakdown",
        "tally-completions",
        "tally-generate",
        "tally-import",
        "tally-man",
        "tally-projections",
        "tally-reconcile",
        "tally-register",
        "tally-serve",
        "tally-status",
        "tally-suggest",
        "tally-summary",
        "tally-tag",
        "tally-transactions",
    ]
    .iter()
    .map(|n| format!("{n}.1"))
    .collect();
    expected.sort();
    assert_eq!(written, expected);
    // Each path is printed, one a line.
    let mut printed: Vec<String> = listed
        .lines()
        .map(|l| {
            let p = Path::new(l);
            assert_eq!(p.parent(), Some(pages.as_path()));
            p.file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    printed.sort();
    assert_eq!(printed, expected);

    let read = |name: &str| std::fs::read_to_string(pages.join(name)).expect("read page");
    let version = env!("CARGO_PKG_VERSION");
    let top = read("tally.1");
    assert_eq!(th_line(&top), format!(".TH tally 1  \"tally {version}\" "));
    let transactions = read("tally-transactions.1");
    assert_eq!(
        th_line(&transactions),
        format!(".TH tally-transactions 1  \"tally {version}\" ")
    );
    assert!(
        transactions.contains(".SH NAME\ntally\\-transactions \\- Transactions matching a query")
    );
    assert!(
        transactions
            .contains("\\fB\\-\\-ascending\\fR\nOldest (smallest) first instead of newest first")
    );
    let completions = read("tally-completions.1");
    assert!(completions.contains("<\\fISHELL\\fR>"), "{completions}");
    assert!(completions.contains("bash"), "{completions}");
}
