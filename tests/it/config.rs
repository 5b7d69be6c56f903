//! Config file tests: discovery, the example file, every kind of error with its exact line and column, API keys,
//! profile lookup, NO_COLOR and the demo journal copy. Tests that need environment variables re-run this test binary
//! as a child process with that environment (the crate forbids `unsafe`, so `std::env::set_var` is not available),
//! which also keeps them from disturbing tests running in parallel.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tally::backend::GroupBy;
use tally::config::{
    BUNDLED_DEMO_JOURNAL, Config, ConfigError, Dialect, ProfileBackend, RestProfile, ThemeName,
    View, demo_journal_path, no_color,
};

const CHILD_ENV: &str = "TALLY_CONFIG_TEST_CHILD";

/// True inside the child process started by [`run_child`] for `test`.
fn is_child(test: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == test)
}

/// Runs test `test` of this binary again in a child process with `set` added to and `unset` removed from the
/// environment, and fails if the child's assertions fail.
fn run_child(test: &str, set: &[(&str, &str)], unset: &[&str]) {
    // The test's full name in this binary: `config::NAME`.
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let full = format!("{module}::{test}");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([full.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test);
    for var in unset {
        cmd.env_remove(var);
    }
    for (k, v) in set {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child {test} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The filter must have matched exactly this test, or the child proved nothing.
    assert!(stdout.contains("1 passed"), "child ran no test:\n{stdout}");
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_str(text, Path::new("config.toml"))
}

fn error_of(text: &str) -> String {
    match parse(text) {
        Ok(c) => panic!("expected an error for:\n{text}\ngot {c:?}"),
        Err(e) => e.to_string(),
    }
}

fn rest(config: &Config, name: &str) -> RestProfile {
    match &config.profiles[name].backend {
        ProfileBackend::Rest(r) => r.clone(),
        other => panic!("{name} is not a rest profile: {other:?}"),
    }
}

#[test]
fn defaults_apply_without_a_config_file() {
    if is_child("defaults_apply_without_a_config_file") {
        let home = std::env::var("XDG_CONFIG_HOME").unwrap();
        assert_eq!(
            Config::default_path(),
            Some(Path::new(&home).join("tally").join("config.toml"))
        );
        let config = Config::load(None).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.path, None);
        assert_eq!(config.date_format, "%Y-%m-%d");
        assert_eq!(config.default_view, View::Transactions);
        assert_eq!(config.default_group_by, GroupBy::Month);
        assert_eq!(config.theme, ThemeName::Dark);
        assert_eq!(config.serve.requests_per_minute, 6000);
        assert!(config.profiles.is_empty() && config.keys.is_empty());
        assert!(config.profile(None).unwrap().is_none());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    run_child(
        "defaults_apply_without_a_config_file",
        &[("XDG_CONFIG_HOME", dir.path().to_str().unwrap())],
        &["TALLY_CONFIG"],
    );
}

#[test]
fn the_default_config_file_is_found_in_the_config_dir() {
    if is_child("the_default_config_file_is_found_in_the_config_dir") {
        let config = Config::load(None).unwrap();
        assert_eq!(config.theme, ThemeName::Light);
        assert_eq!(config.path, Config::default_path());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tally")).unwrap();
    std::fs::write(dir.path().join("tally/config.toml"), "theme = \"light\"\n").unwrap();
    run_child(
        "the_default_config_file_is_found_in_the_config_dir",
        &[("XDG_CONFIG_HOME", dir.path().to_str().unwrap())],
        &["TALLY_CONFIG"],
    );
}

#[test]
fn an_explicit_config_file_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let err = Config::load(Some(&missing)).unwrap_err();
    assert!(matches!(err, ConfigError::Missing { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("config file {} does not exist", missing.display())
    );
}

#[test]
fn tally_config_env_names_the_file() {
    if is_child("tally_config_env_names_the_file") {
        let path = PathBuf::from(std::env::var("TALLY_CONFIG").unwrap());
        let config = Config::load(None).unwrap();
        assert_eq!(config.theme, ThemeName::Ansi16);
        assert_eq!(config.path.as_deref(), Some(path.as_path()));
        // --config wins over the environment variable.
        let other = path.with_file_name("other.toml");
        std::fs::write(&other, "theme = \"light\"\n").unwrap();
        assert_eq!(Config::load(Some(&other)).unwrap().theme, ThemeName::Light);
        // A file named by TALLY_CONFIG must exist.
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            Config::load(None),
            Err(ConfigError::Missing { .. })
        ));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tally.toml");
    std::fs::write(&path, "theme = 16\n").unwrap();
    run_child(
        "tally_config_env_names_the_file",
        &[("TALLY_CONFIG", path.to_str().unwrap())],
        &[],
    );
}

#[test]
fn the_example_config_loads_with_every_setting() {
    let config = Config::load(Some(&example_path())).unwrap();
    assert_eq!(config.path.as_deref(), Some(example_path().as_path()));
    assert_eq!(config.default_profile.as_deref(), Some("home"));
    assert_eq!(config.date_format, "%Y-%m-%d");
    assert_eq!(config.default_view, View::Transactions);
    assert_eq!(config.default_group_by, GroupBy::Month);
    assert_eq!(config.theme, ThemeName::Dark);
    assert_eq!(
        config.profiles.keys().collect::<Vec<_>>(),
        ["hledger", "home", "server", "sure"]
    );
    let home = directories::BaseDirs::new()
        .unwrap()
        .home_dir()
        .to_path_buf();
    assert_eq!(
        config.profiles["home"].backend,
        ProfileBackend::Journal {
            file: home.join("finance/main.journal"),
            import_file: None,
        }
    );
    let server = rest(&config, "server");
    assert_eq!(
        server,
        RestProfile {
            url: "https://finance.example.org".into(),
            dialect: Dialect::Tally,
            api_key_env: "TALLY_API_KEY".into(),
            api_key_cmd: Some("pass show tally".into()),
            requests_per_minute: 100,
            allow_http: false,
            timeout: Duration::from_secs(30),
        }
    );
    let sure = rest(&config, "sure");
    assert_eq!(
        (sure.dialect, sure.url.as_str(), sure.api_key_env.as_str()),
        (Dialect::Sure, "https://sure.home.lan", "SURE_API_KEY")
    );
    let hledger = rest(&config, "hledger");
    assert_eq!(hledger.dialect, Dialect::HledgerWeb);
    assert_eq!(hledger.url, "http://127.0.0.1:5000");
    assert!(config.serve.api_keys.is_empty());
    assert_eq!(config.serve.requests_per_minute, 6000);
    let quit: Vec<&str> = config.keys["quit"].keys().collect();
    assert_eq!(quit, ["q", "Ctrl-c"]);
    assert_eq!(config.keys["add_tag"].keys().collect::<Vec<_>>(), ["t"]);
    let (name, profile) = config.profile(None).unwrap().unwrap();
    assert_eq!(name, "home");
    assert!(matches!(profile.backend, ProfileBackend::Journal { .. }));
}

#[test]
fn the_example_documents_every_setting_and_keymap_command() {
    let example = std::fs::read_to_string(example_path()).unwrap();
    for key in [
        "default_profile",
        "date_format",
        "default_view",
        "default_group_by",
        "theme",
        "backend",
        "file",
        "url",
        "dialect",
        "api_key_env",
        "api_key_cmd",
        "requests_per_minute",
        "allow_http",
        "timeout_secs",
        "api_keys",
        "NO_COLOR",
        "TALLY_CONFIG",
        "TALLY_DATA_DIR",
        "TALLY_SERVE_KEYS",
    ] {
        assert!(
            example.contains(&format!("{key} ")) || example.contains(&format!("{key}:")),
            "config.example.toml does not mention {key}"
        );
    }
    for command in tally::config::keymap::COMMANDS.iter().map(|c| c.name) {
        assert!(
            example.contains(&format!(" {command} ")),
            "config.example.toml does not list keymap command {command}"
        );
    }
    let config = Config::load(Some(&example_path())).unwrap();
    tally::config::keymap::Keymap::with_overrides(&config.keys).unwrap();
}

#[test]
fn each_kind_of_error_names_the_key_and_its_line_and_column() {
    let cases: &[(&str, &str)] = &[
        (
            "date_format = \"%d.%m.%Y\"\n\ncolour = \"red\"\n",
            "config.toml:3:1: colour: unknown key (expected default_profile, date_format, default_view, \
             default_group_by, theme, keep_selection, profiles, serve or keys)",
        ),
        (
            "# comment\n\n\n\n\n\ntheme = \"purple\"\n",
            "config.toml:7:9: theme: unknown theme \"purple\" (expected dark, light or 16)",
        ),
        (
            "theme = true\n",
            "config.toml:1:9: theme: expected a string, found a boolean",
        ),
        (
            "date_format = \"%Q\"\n",
            "config.toml:1:15: date_format: invalid date format \"%Q\" (chrono strftime for dates, e.g. \
             \"%Y-%m-%d\" or \"%d.%m.%Y\")",
        ),
        (
            "date_format = \"%H:%M\"\n",
            "config.toml:1:15: date_format: date format \"%H:%M\" asks for a time or time zone, which dates \
             do not have (chrono strftime for dates, e.g. \"%Y-%m-%d\" or \"%d.%m.%Y\")",
        ),
        (
            "default_view = \"graphs\"\n",
            "config.toml:1:16: default_view: unknown view \"graphs\" (expected accounts, transactions, \
             analytics or review)",
        ),
        (
            "default_group_by = \"quarter\"\n",
            "config.toml:1:20: default_group_by: unknown period \"quarter\" (expected day, week, month or year)",
        ),
        (
            "[profiles.home]\nbackend = \"ftp\"\nfile = \"x\"\n",
            "config.toml:2:11: profiles.home.backend: unknown backend \"ftp\" (expected journal or rest)",
        ),
        (
            "[profiles.server]\nbackend = \"rest\"\ndialect = \"sure\"\n",
            "config.toml:1:11: profiles.server: a rest profile needs url = \"https://…\"",
        ),
        (
            "[profiles.home]\nbackend = \"journal\"\n",
            "config.toml:1:11: profiles.home: a journal profile needs file = \"PATH\"",
        ),
        (
            "[profiles.x]\ndialect = \"tally\"\n",
            "config.toml:1:11: profiles.x: missing backend = \"journal\" or backend = \"rest\"",
        ),
        (
            "[profiles.home]\nfile = \"a.journal\"\nurl = \"https://x\"\nbackend = \"journal\"\n",
            "config.toml:3:1: profiles.home.url: only used by rest profiles",
        ),
        (
            "[profiles.s]\nurl = \"https://x\"\n  dialekt = \"sure\"\n",
            "config.toml:3:3: profiles.s.dialekt: unknown key (expected backend, url, dialect, api_key_env, \
             api_key_cmd, requests_per_minute, allow_http or timeout_secs)",
        ),
        (
            "[profiles.s]\nurl = \"https://x\"\ndialect = \"ynab\"\n",
            "config.toml:3:11: profiles.s.dialect: unknown dialect \"ynab\" (expected tally, sure, finwise, \
             finx, synci or hledger-web)",
        ),
        (
            "[profiles.s]\nurl = \"http://finance.example.org\"\n",
            "config.toml:2:7: profiles.s.url: plain http:// to finance.example.org would send the API key \
             unencrypted; use https:// or set allow_http = true",
        ),
        (
            "[profiles.s]\nurl = \"https://x\"\nrequests_per_minute = -1\n",
            "config.toml:3:23: profiles.s.requests_per_minute: must be a whole number from 0 to 4294967295",
        ),
        (
            "[profiles.s]\nurl = \"https://x\"\ntimeout_secs = 0\n",
            "config.toml:3:16: profiles.s.timeout_secs: must be a whole number from 1 to 4294967295",
        ),
        (
            "[profiles.s]\nurl = \"https://x\"\nallow_http = \"yes\"\n",
            "config.toml:3:14: profiles.s.allow_http: expected true or false, found a string",
        ),
        (
            "profiles = 3\n",
            "config.toml:1:12: profiles: expected a table, found an integer",
        ),
        (
            "default_profile = \"work\"\n[profiles.home]\nfile = \"a.journal\"\n",
            "config.toml:1:19: default_profile: no profile named \"work\" (profiles: home)",
        ),
        (
            "default_profile = \"work\"\n",
            "config.toml:1:19: default_profile: no profile named \"work\" (no profiles are defined)",
        ),
        (
            "[serve]\napi_keys = \"k\"\n",
            "config.toml:2:12: serve.api_keys: expected an array of strings, found a string",
        ),
        (
            "[serve]\nlisten = \"0.0.0.0:80\"\n",
            "config.toml:2:1: serve.listen: unknown key (expected api_keys or requests_per_minute)",
        ),
        (
            "[keys]\nquit = 5\n",
            "config.toml:2:8: keys.quit: expected a key (\"q\") or an array of keys ([\"q\", \"ctrl-c\"]), \
             found an integer",
        ),
        (
            "[keys]\nquit = [\"q\", 7]\n",
            "config.toml:2:14: keys.quit: expected a string, found an integer",
        ),
        (
            "[keys]\nquit = []\n",
            "config.toml:2:8: keys.quit: empty array: give at least one key (a key (\"q\") or an array of \
             keys ([\"q\", \"ctrl-c\"]))",
        ),
        (
            "theme = \"dark\"\ntheme = \"light\"\n",
            "config.toml:2:1: duplicate key",
        ),
        (
            "theme = dark\n",
            "config.toml:1:9: string values must be quoted, expected literal string",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(&error_of(text), expected, "for config:\n{text}");
    }
}

#[test]
fn all_problems_are_reported_in_file_order() {
    let text =
        "theme = \"purple\"\n[profiles.a]\nfile = 3\n[serve]\nrequests_per_minute = \"many\"\n";
    let err = parse(text).unwrap_err();
    let ConfigError::Invalid { problems } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(problems.len(), 3);
    assert_eq!(
        err.to_string(),
        "config.toml:1:9: theme: unknown theme \"purple\" (expected dark, light or 16)\n\
         config.toml:3:8: profiles.a.file: expected a string, found an integer\n\
         config.toml:5:23: serve.requests_per_minute: expected an integer, found a string"
    );
}

#[test]
fn errors_name_the_file_they_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my.toml");
    std::fs::write(&path, "\n\ntheme = \"purple\"\n").unwrap();
    let err = Config::load(Some(&path)).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:3:9: theme:", path.display())),
        "{err}"
    );
}

#[test]
fn journal_paths_are_relative_to_the_config_file() {
    let origin = Path::new("/srv/tally/config.toml");
    let text = "[profiles.a]\nfile = \"books/a.journal\"\nimport_file = \"books/bank.journal\"\n\
                [profiles.b]\nfile = \"/data/b.journal\"\n[profiles.c]\nfile = \"~/c.journal\"\n";
    let config = Config::from_str(text, origin).unwrap();
    let file = |name: &str| match &config.profiles[name].backend {
        ProfileBackend::Journal { file, .. } => file.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(file("a"), PathBuf::from("/srv/tally/books/a.journal"));
    // The import file too (where `tally import` and the dashboard's `i` append).
    match &config.profiles["a"].backend {
        ProfileBackend::Journal { import_file, .. } => assert_eq!(
            import_file.as_deref(),
            Some(Path::new("/srv/tally/books/bank.journal"))
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(file("b"), PathBuf::from("/data/b.journal"));
    let home = directories::BaseDirs::new()
        .unwrap()
        .home_dir()
        .to_path_buf();
    assert_eq!(file("c"), home.join("c.journal"));
    // The backend is inferred from `file` when not given.
    assert_eq!(config.profiles["a"].location.line, 1);
    assert_eq!(config.profiles["a"].location.column, 11);
}

#[test]
fn rest_settings_and_inferred_backend() {
    let text = "[profiles.s]\nurl = \"http://localhost:8080/\"\ndialect = \"finx\"\napi_key_env = \"FINX_KEY\"\n\
                requests_per_minute = 0\ntimeout_secs = 5\n\
                [profiles.lan]\nbackend = \"rest\"\nurl = \"http://192.168.1.5\"\nallow_http = true\n";
    let config = parse(text).unwrap();
    let s = rest(&config, "s");
    assert_eq!(s.url, "http://localhost:8080");
    assert_eq!(s.dialect, Dialect::Finx);
    assert_eq!(s.api_key_env, "FINX_KEY");
    assert_eq!(s.api_key_cmd, None);
    assert_eq!(s.requests_per_minute, 0);
    assert_eq!(s.timeout, Duration::from_secs(5));
    let lan = rest(&config, "lan");
    assert!(lan.allow_http);
    assert_eq!(lan.url, "http://192.168.1.5");
}

#[test]
fn remote_url_profiles_get_defaults_and_the_same_checks() {
    let p = RestProfile::from_url("https://f.example.org/", Dialect::Sure).unwrap();
    assert_eq!(p.url, "https://f.example.org");
    assert_eq!(p.dialect, Dialect::Sure);
    assert_eq!(p.api_key_env, "TALLY_API_KEY");
    assert_eq!(p.requests_per_minute, 0);
    assert_eq!(p.timeout, Duration::from_secs(30));
    let err = RestProfile::from_url("http://f.example.org", Dialect::Tally).unwrap_err();
    assert!(err.to_string().contains("allow_http"), "{err}");
}

#[test]
fn keymap_overrides_keep_the_position_of_every_key() {
    let config = parse("[keys]\nquit = [\"q\",  \"Ctrl-c\"]\nadd_tag = \"t\"\n").unwrap();
    let quit = &config.keys["quit"];
    assert_eq!((quit.location.line, quit.location.column), (2, 1));
    let positions: Vec<(&str, usize, usize)> = quit
        .bindings
        .iter()
        .map(|b| (b.key.as_str(), b.location.line, b.location.column))
        .collect();
    assert_eq!(positions, [("q", 2, 9), ("Ctrl-c", 2, 15)]);
    let add = &config.keys["add_tag"];
    assert_eq!(add.bindings[0].location.to_string(), "config.toml:3:11");
    // The keymap reports bad key names at the key's own position.
    let bad = parse("[keys]\nquit = [\"q\", \"Hyper-q\"]\n").unwrap();
    let err = tally::config::keymap::Keymap::with_overrides(&bad.keys)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("config.toml:2:14: "), "{err}");
}

fn server_with(api_key_env: &str, api_key_cmd: Option<&str>) -> RestProfile {
    RestProfile {
        api_key_env: api_key_env.to_string(),
        api_key_cmd: api_key_cmd.map(str::to_string),
        ..RestProfile::from_url("https://f.example.org", Dialect::Tally).unwrap()
    }
}

#[test]
fn api_key_comes_from_the_environment() {
    if is_child("api_key_comes_from_the_environment") {
        assert_eq!(server_with("MY_FIN_KEY", None).api_key().unwrap(), "k-123");
        let err = server_with("MY_MISSING_KEY", None).api_key().unwrap_err();
        assert!(matches!(err, ConfigError::ApiKeyEnv { .. }));
        assert_eq!(
            err.to_string(),
            "API key: environment variable MY_MISSING_KEY is not set or empty"
        );
        let err = server_with("MY_EMPTY_KEY", None).api_key().unwrap_err();
        assert!(err.to_string().contains("MY_EMPTY_KEY"));
        // A configured command wins over the environment variable.
        assert_eq!(
            server_with("MY_FIN_KEY", Some("echo from-cmd"))
                .api_key()
                .unwrap(),
            "from-cmd"
        );
        return;
    }
    run_child(
        "api_key_comes_from_the_environment",
        &[("MY_FIN_KEY", "k-123"), ("MY_EMPTY_KEY", "")],
        &["MY_MISSING_KEY"],
    );
}

#[test]
fn api_key_comes_from_a_command() {
    let p = server_with("TALLY_TEST_UNUSED_VAR", Some("echo secret"));
    assert_eq!(p.api_key().unwrap(), "secret");
    // Only the first line counts.
    let p = server_with("X", Some("printf 'first\\nsecond\\n'"));
    assert_eq!(p.api_key().unwrap(), "first");
}

#[test]
fn api_key_errors_never_show_the_key() {
    let failing = [
        // Prints the key, then fails: the key must not leak through the message or stderr.
        "printf 'topsecret-1\\n'; echo 'cannot confirm topsecret-1' >&2; exit 4",
        // Prints nothing.
        "true",
        // Cannot run.
        "/nonexistent/tally-key-helper --get topsecret-1",
    ];
    for cmd in failing {
        let err = server_with("X", Some(cmd)).api_key().unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("topsecret-1"), "{cmd}: {shown}");
        assert!(matches!(err, ConfigError::ApiKeyCmd { .. }), "{err:?}");
    }
    let err = server_with("X", Some(failing[0])).api_key().unwrap_err();
    assert_eq!(
        err.to_string(),
        "API key: api_key_cmd `printf …` failed (exit status: 4): cannot confirm ***"
    );
    let err = server_with("X", Some("true")).api_key().unwrap_err();
    assert_eq!(
        err.to_string(),
        "API key: api_key_cmd `true …` printed nothing on its first line"
    );
}

#[test]
fn profiles_are_found_by_name_default_or_uniqueness() {
    let text = "default_profile = \"b\"\n[profiles.a]\nfile = \"a.journal\"\n[profiles.b]\nurl = \"https://b\"\n";
    let config = parse(text).unwrap();
    let (name, _) = config.profile(None).unwrap().unwrap();
    assert_eq!(name, "b");
    let (name, profile) = config.profile(Some("a")).unwrap().unwrap();
    assert_eq!(name, "a");
    assert!(matches!(profile.backend, ProfileBackend::Journal { .. }));
    let err = config.profile(Some("c")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no profile named \"c\" in the config (profiles: a, b)"
    );

    let two = parse("[profiles.a]\nfile = \"a\"\n[profiles.b]\nfile = \"b\"\n").unwrap();
    // Two profiles and none chosen is a mistake to say, not a reason to open the demo.
    let err = two.profile(None).unwrap_err().to_string();
    assert!(
        err.contains("2 profiles (a, b)") && err.contains("default_profile"),
        "{err}"
    );
    let one = parse("[profiles.only]\nfile = \"a\"\n").unwrap();
    assert_eq!(one.profile(None).unwrap().unwrap().0, "only");
    let none = Config::default();
    assert!(none.profile(None).unwrap().is_none());
    assert_eq!(
        none.profile(Some("x")).unwrap_err().to_string(),
        "no profile named \"x\" in the config (no profiles are defined)"
    );
}

#[test]
fn no_color_needs_a_non_empty_value() {
    if is_child("no_color_needs_a_non_empty_value") {
        let expected = std::env::var("EXPECT_NO_COLOR").unwrap() == "yes";
        assert_eq!(no_color(), expected);
        return;
    }
    let name = "no_color_needs_a_non_empty_value";
    run_child(name, &[("NO_COLOR", "1"), ("EXPECT_NO_COLOR", "yes")], &[]);
    run_child(name, &[("NO_COLOR", ""), ("EXPECT_NO_COLOR", "no")], &[]);
    run_child(name, &[("EXPECT_NO_COLOR", "no")], &["NO_COLOR"]);
}

#[test]
fn serve_keys_from_file_and_environment() {
    if is_child("serve_keys_from_file_and_environment") {
        let config =
            parse("[serve]\napi_keys = [\"file-key\", \"shared\"]\nrequests_per_minute = 0\n")
                .unwrap();
        assert_eq!(config.serve.requests_per_minute, 0);
        assert_eq!(
            config.serve.accepted_keys(),
            ["file-key", "shared", "env-key"]
        );
        assert!(!format!("{config:?}").contains("file-key"));
        return;
    }
    run_child(
        "serve_keys_from_file_and_environment",
        &[("TALLY_SERVE_KEYS", " env-key, shared,,")],
        &[],
    );
}

#[test]
fn demo_journal_is_copied_once_into_the_data_dir() {
    if is_child("demo_journal_is_copied_once_into_the_data_dir") {
        let dir = PathBuf::from(std::env::var("TALLY_DATA_DIR").unwrap());
        assert_eq!(Config::data_dir(), dir);
        assert_eq!(Config::log_dir(), dir.join("logs"));
        let path = demo_journal_path().unwrap();
        assert_eq!(path, dir.join("demo.journal"));
        // Compared with the text compiled in, not the file on disk, which may be newer than this build.
        assert!(
            std::fs::read_to_string(&path).unwrap() == BUNDLED_DEMO_JOURNAL,
            "the copy differs from the bundled demo journal"
        );
        // The user's edits survive the next start.
        let edited = format!(
            "{BUNDLED_DEMO_JOURNAL}\n2025-01-01 my own edit\n    assets:cash  1 EUR\n    income\n"
        );
        std::fs::write(&path, &edited).unwrap();
        assert_eq!(demo_journal_path().unwrap(), path);
        assert!(
            std::fs::read_to_string(&path).unwrap() == edited,
            "the user's edit was overwritten"
        );
        // No temporary files are left behind.
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["demo.journal"]);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    run_child(
        "demo_journal_is_copied_once_into_the_data_dir",
        &[("TALLY_DATA_DIR", data.to_str().unwrap())],
        &[],
    );
}

#[test]
fn keys_table_accepts_every_shape_the_keymap_understands() {
    let config = parse("[keys]\nhelp = \"?\"\nquit = [\"q\"]\n").unwrap();
    let expected: BTreeMap<&str, Vec<&str>> =
        BTreeMap::from([("help", vec!["?"]), ("quit", vec!["q"])]);
    let got: BTreeMap<&str, Vec<&str>> = config
        .keys
        .iter()
        .map(|(k, v)| (k.as_str(), v.keys().collect()))
        .collect();
    assert_eq!(got, expected);
}
