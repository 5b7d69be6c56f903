//! tally's configuration: the TOML config file (general settings, named profiles for journals and REST servers,
//! `tally serve` settings, keymap overrides), where it lives, and where tally keeps its own data (demo journal, logs).
//! The file is read through toml's span-preserving document tree rather than serde derive, so every problem can name
//! its dotted key *and* its `file:line:column` (serde's errors do not expose the key path); the price is a hand-written
//! schema walk in `schema.rs`. All problems in a file are reported together, in file order.
//! API keys are never stored here: a REST profile names the environment variable or the command that yields one.

use crate::backend::GroupBy;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub mod keymap;
mod schema;

/// Environment variable naming the config file (same effect as `--config PATH`).
pub const CONFIG_ENV: &str = "TALLY_CONFIG";
/// Environment variable overriding the data directory (demo journal, logs).
pub const DATA_DIR_ENV: &str = "TALLY_DATA_DIR";
/// Environment variable overriding the cache directory (server mirrors).
pub const CACHE_DIR_ENV: &str = "TALLY_CACHE_DIR";
/// Environment variable with extra comma-separated API keys accepted by `tally serve`.
pub const SERVE_KEYS_ENV: &str = "TALLY_SERVE_KEYS";
/// Default environment variable holding a REST profile's API key.
pub const DEFAULT_API_KEY_ENV: &str = "TALLY_API_KEY";
pub const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d";
pub const DEFAULT_REST_REQUESTS_PER_MINUTE: u32 = 0;
pub const DEFAULT_SERVE_REQUESTS_PER_MINUTE: u32 = 6000;
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The bundled demo ledger (`assets/demo.journal`), copied into the data directory on first use.
pub const BUNDLED_DEMO_JOURNAL: &str = include_str!("../../assets/demo.journal");

/// A place in the config file, shown as `FILE:LINE:COLUMN` (1-based; the column counts characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem in the config file: where, which dotted key (`profiles.home.file`), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    /// Dotted key path; empty for a syntax error that belongs to no key.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: {}: {}", self.location, self.key, self.message)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {} does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read config file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// One or more problems in the file, in file order, one per line.
    #[error("{}", join_problems(problems))]
    Invalid { problems: Vec<Problem> },
    #[error(
        "no profile named \"{name}\" in the config ({})",
        available_profiles(available)
    )]
    UnknownProfile {
        name: String,
        available: Vec<String>,
    },
    /// Several profiles and none chosen: opening the demo instead would hide the mistake.
    #[error(
        "the config has {} profiles ({}) and no default_profile: choose one with --profile NAME or set default_profile",
        available.len(),
        available.join(", ")
    )]
    NoDefaultProfile { available: Vec<String> },
    #[error("API key: environment variable {var} is not set or empty")]
    ApiKeyEnv { var: String },
    /// `program` is the first word of `api_key_cmd` only: the rest of a command line may carry secrets.
    #[error("API key: api_key_cmd `{program} …` {message}")]
    ApiKeyCmd { program: String, message: String },
    #[error("{0}")]
    Url(String),
}

impl ConfigError {
    /// A single problem at `location`, for validators outside this module (the keymap).
    pub fn invalid(location: Location, key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            problems: vec![Problem {
                location,
                key: key.into(),
                message: message.into(),
            }],
        }
    }
}

fn join_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn available_profiles(names: &[String]) -> String {
    if names.is_empty() {
        "no profiles are defined".to_string()
    } else {
        format!("profiles: {}", names.join(", "))
    }
}

/// The pane focused when the dashboard starts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, strum::EnumString, strum::IntoStaticStr,
)]
#[strum(serialize_all = "lowercase")]
pub enum View {
    Accounts,
    #[default]
    Transactions,
    Analytics,
    Review,
}

impl View {
    pub const ALL: [View; 4] = [
        View::Accounts,
        View::Transactions,
        View::Analytics,
        View::Review,
    ];

    pub fn parse(s: &str) -> Option<View> {
        s.parse().ok()
    }

    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The colour theme. `NO_COLOR` (see [`no_color`]) overrides any of these with monochrome.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, strum::EnumString, strum::IntoStaticStr,
)]
#[strum(serialize_all = "lowercase")]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
    /// Only the 16 basic ANSI colours, for terminals without 256/true colour.
    #[strum(serialize = "16")]
    Ansi16,
}

impl ThemeName {
    pub fn parse(s: &str) -> Option<ThemeName> {
        s.parse().ok()
    }

    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Which REST API a server speaks (see `api/DIALECTS.md`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, strum::EnumString, strum::IntoStaticStr,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Dialect {
    /// tally's own API, also what `tally serve` speaks.
    #[default]
    Tally,
    Sure,
    Finwise,
    Finx,
    Synci,
    HledgerWeb,
}

impl Dialect {
    pub const ALL: [Dialect; 6] = [
        Dialect::Tally,
        Dialect::Sure,
        Dialect::Finwise,
        Dialect::Finx,
        Dialect::Synci,
        Dialect::HledgerWeb,
    ];

    pub fn parse(s: &str) -> Option<Dialect> {
        s.parse().ok()
    }

    pub fn name(self) -> &'static str {
        self.into()
    }

    /// hledger-web has no authentication (access is controlled by its bind address); every other dialect needs a key.
    pub fn needs_api_key(self) -> bool {
        self != Dialect::HledgerWeb
    }
}

/// A named data source from `[profiles.NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub backend: ProfileBackend,
    /// Where the profile's table is defined, for messages about it (`config.toml:12:11: profiles.home: …`).
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileBackend {
    /// A journal file; `~` is expanded and a relative path is taken relative to the config file's directory.
    Journal {
        file: PathBuf,
        /// Where `tally import` and the dashboard's import append (`import_file`): a file the journal includes.
        import_file: Option<PathBuf>,
    },
    Rest(RestProfile),
}

/// How to reach a REST server. Holds no secret: [`RestProfile::api_key`] fetches the key when needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestProfile {
    /// Base URL without a trailing slash.
    pub url: String,
    pub dialect: Dialect,
    pub api_key_env: String,
    /// A shell command whose first line of output is the key; when set it is used instead of `api_key_env`.
    pub api_key_cmd: Option<String>,
    /// Client-side request budget; 0 means unlimited.
    pub requests_per_minute: u32,
    /// Allow plain `http://` to a host that is not loopback.
    pub allow_http: bool,
    pub timeout: Duration,
}

impl RestProfile {
    /// A profile for `--remote URL` with default settings. The URL is checked as in the config file:
    /// http(s) only, and plain http only to a loopback host.
    pub fn from_url(url: &str, dialect: Dialect) -> Result<RestProfile, ConfigError> {
        let url = check_url(url, false).map_err(ConfigError::Url)?;
        Ok(RestProfile {
            url,
            dialect,
            api_key_env: DEFAULT_API_KEY_ENV.to_string(),
            api_key_cmd: None,
            requests_per_minute: DEFAULT_REST_REQUESTS_PER_MINUTE,
            allow_http: false,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        })
    }

    /// The API key: the first line printed by `api_key_cmd` when one is configured (it then wins, because it is
    /// the more specific setting and `api_key_env` always has a default), otherwise the value of the environment
    /// variable `api_key_env`. The key never appears in an error message.
    pub fn api_key(&self) -> Result<String, ConfigError> {
        match &self.api_key_cmd {
            Some(cmd) => key_from_command(cmd),
            None => match std::env::var(&self.api_key_env) {
                Ok(key) if !key.trim().is_empty() => Ok(key.trim().to_string()),
                _ => Err(ConfigError::ApiKeyEnv {
                    var: self.api_key_env.clone(),
                }),
            },
        }
    }
}

fn key_from_command(cmd: &str) -> Result<String, ConfigError> {
    let program = cmd.split_whitespace().next().unwrap_or("").to_string();
    let fail = |message: String| ConfigError::ApiKeyCmd {
        program: program.clone(),
        message,
    };
    #[cfg(windows)]
    let mut command = {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(cmd);
        c
    };
    #[cfg(not(windows))]
    let mut command = {
        let mut c = Command::new("sh");
        c.arg("-c").arg(cmd);
        c
    };
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| fail(format!("could not be started: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let key = stdout.lines().next().unwrap_or("").trim().to_string();
    if !output.status.success() {
        // stderr helps ("not in the password store"), but must not leak what the command printed on stdout.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut detail = stderr.lines().next().unwrap_or("").trim().to_string();
        if !key.is_empty() {
            detail = detail.replace(&key, "***");
        }
        let mut message = format!("failed ({})", output.status);
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(&detail);
        }
        return Err(fail(message));
    }
    if key.is_empty() {
        return Err(fail("printed nothing on its first line".to_string()));
    }
    Ok(key)
}

/// Settings for `tally serve`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ServeConfig {
    /// Accepted bearer keys from the file; [`ServeConfig::accepted_keys`] adds `TALLY_SERVE_KEYS`.
    pub api_keys: Vec<String>,
    /// Per-client request budget; 0 means unlimited.
    pub requests_per_minute: u32,
}

impl fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeConfig")
            .field(
                "api_keys",
                &format_args!("[{} redacted]", self.api_keys.len()),
            )
            .field("requests_per_minute", &self.requests_per_minute)
            .finish()
    }
}

impl ServeConfig {
    /// The keys from the file plus those in `TALLY_SERVE_KEYS` (comma-separated), without blanks or duplicates.
    pub fn accepted_keys(&self) -> Vec<String> {
        let from_env = std::env::var(SERVE_KEYS_ENV).unwrap_or_default();
        let mut keys: Vec<String> = Vec::new();
        for key in self
            .api_keys
            .iter()
            .map(String::as_str)
            .chain(from_env.split(','))
        {
            let key = key.trim();
            if !key.is_empty() && !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
        keys
    }
}

/// One key string of a keymap override, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBinding {
    pub key: String,
    pub location: Location,
}

/// The keys bound to one command in `[keys]` (`quit = ["q", "ctrl-c"]` or `add_tag = "t"`). Only the shape is
/// checked here; key names and command names are checked by the keymap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub bindings: Vec<KeyBinding>,
    /// Where the command name is written.
    pub location: Location,
}

impl KeySpec {
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.bindings.iter().map(|b| b.key.as_str())
    }
}

/// The whole configuration. `Config::default()` is what applies without a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The profile used when neither a file, a URL nor `--profile` is given.
    pub default_profile: Option<String>,
    /// chrono strftime format for dates in the dashboard; validated at load.
    pub date_format: String,
    pub default_view: View,
    pub default_group_by: GroupBy,
    pub theme: ThemeName,
    /// Keep the selection after an edit of it (tag, status, category); by default it is cleared.
    pub keep_selection: bool,
    pub profiles: BTreeMap<String, Profile>,
    pub serve: ServeConfig,
    /// Keymap overrides by command name, merged over the embedded defaults by the keymap.
    pub keys: BTreeMap<String, KeySpec>,
    /// The file this was loaded from; `None` for built-in defaults.
    pub path: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_profile: None,
            date_format: DEFAULT_DATE_FORMAT.to_string(),
            default_view: View::default(),
            default_group_by: GroupBy::default(),
            theme: ThemeName::default(),
            keep_selection: false,
            profiles: BTreeMap::new(),
            serve: ServeConfig {
                api_keys: Vec::new(),
                requests_per_minute: DEFAULT_SERVE_REQUESTS_PER_MINUTE,
            },
            keys: BTreeMap::new(),
            path: None,
        }
    }
}

impl Config {
    /// Loads the config: `explicit` (from `--config`), else `$TALLY_CONFIG`, else [`Config::default_path`].
    /// An explicitly named file must exist; a missing default file just means built-in defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let from_env = std::env::var_os(CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let (path, required) = match (explicit, from_env) {
            (Some(p), _) => (p.to_path_buf(), true),
            (None, Some(p)) => (p, true),
            (None, None) => match Config::default_path() {
                Some(p) => (p, false),
                None => return Ok(Config::default()),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::from_str(&text, &path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if required {
                    Err(ConfigError::Missing { path })
                } else {
                    Ok(Config::default())
                }
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Parses and validates config text; `origin` names the file in messages and anchors relative journal paths.
    pub fn from_str(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let mut config =
            schema::parse(text, origin).map_err(|problems| ConfigError::Invalid { problems })?;
        config.path = Some(origin.to_path_buf());
        Ok(config)
    }

    /// The profile to open: `name` if given (it must exist), else `default_profile`, else the only profile when
    /// exactly one is defined. `Ok(None)` means there is nothing configured: the caller opens the demo journal.
    pub fn profile(&self, name: Option<&str>) -> Result<Option<(String, &Profile)>, ConfigError> {
        let chosen = match name.or(self.default_profile.as_deref()) {
            Some(n) => n,
            None if self.profiles.len() == 1 => {
                return Ok(self.profiles.iter().next().map(|(n, p)| (n.clone(), p)));
            }
            None if self.profiles.len() > 1 => {
                return Err(ConfigError::NoDefaultProfile {
                    available: self.profiles.keys().cloned().collect(),
                });
            }
            None => return Ok(None),
        };
        match self.profiles.get(chosen) {
            Some(p) => Ok(Some((chosen.to_string(), p))),
            None => Err(ConfigError::UnknownProfile {
                name: chosen.to_string(),
                available: self.profiles.keys().cloned().collect(),
            }),
        }
    }

    /// Where tally keeps its own files: `$TALLY_DATA_DIR`, else the platform data directory
    /// (`~/.local/share/tally` on Linux), else `tally` under the temp directory when there is no home directory.
    pub fn data_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
            return PathBuf::from(dir);
        }
        match project_dirs() {
            Some(dirs) => dirs.data_dir().to_path_buf(),
            None => std::env::temp_dir().join("tally"),
        }
    }

    /// Where tally keeps what it can rebuild (the mirrors of servers): `$TALLY_CACHE_DIR`, else the platform cache
    /// directory (`~/.cache/tally` on Linux), else `tally-cache` under the temp directory.
    pub fn cache_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|v| !v.is_empty()) {
            return PathBuf::from(dir);
        }
        match project_dirs() {
            Some(dirs) => dirs.cache_dir().to_path_buf(),
            None => std::env::temp_dir().join("tally-cache"),
        }
    }

    /// Where log files go: `logs` in the data directory.
    pub fn log_dir() -> PathBuf {
        Config::data_dir().join("logs")
    }

    /// The platform's config file path (`~/.config/tally/config.toml` on Linux), if there is a home directory.
    pub fn default_path() -> Option<PathBuf> {
        project_dirs().map(|dirs| dirs.config_dir().join("config.toml"))
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "tally")
}

/// True when the `NO_COLOR` environment variable is set to a non-empty value (<https://no-color.org>).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// How many colours the terminal shows, from `COLORTERM` (`truecolor`/`24bit`) and `TERM` (`*-256color`; `dumb`,
/// `linux` and the like have the basic 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    True,
    Indexed256,
    Basic16,
}

pub fn color_depth() -> ColorDepth {
    color_depth_from(
        std::env::var("COLORTERM").ok().as_deref(),
        std::env::var("TERM").ok().as_deref(),
    )
}

/// `color_depth` for given values of `COLORTERM` and `TERM`.
pub fn color_depth_from(colorterm: Option<&str>, term: Option<&str>) -> ColorDepth {
    let colorterm = colorterm.unwrap_or_default().to_ascii_lowercase();
    let term = term.unwrap_or_default().to_ascii_lowercase();
    if colorterm == "truecolor" || colorterm == "24bit" || term.contains("direct") {
        ColorDepth::True
    } else if term.contains("256") {
        ColorDepth::Indexed256
    } else if term.is_empty() {
        // No TERM (a test, a service): assume a modern terminal.
        ColorDepth::True
    } else {
        ColorDepth::Basic16
    }
}

/// The demo journal in the data directory. On first use the bundled demo is copied there, so edits made in the
/// demo never touch the bundled file; an existing copy (perhaps edited) is used as it is.
pub fn demo_journal_path() -> io::Result<PathBuf> {
    let dir = Config::data_dir();
    let path = dir.join("demo.journal");
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(".demo.journal.{}.tmp", std::process::id()));
    std::fs::write(&tmp, BUNDLED_DEMO_JOURNAL)?;
    // hard_link fails if another process created the copy meanwhile; theirs is kept.
    let linked = std::fs::hard_link(&tmp, &path);
    let removed = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(_) => {
            // Filesystems without hard links: fall back to a plain create-new write.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => io::Write::write_all(&mut f, BUNDLED_DEMO_JOURNAL.as_bytes())?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }
    removed?;
    Ok(path)
}

/// Checks a server URL: `http://` or `https://` with a host; plain http only to loopback unless `allow_http`.
/// Returns it without a trailing slash.
fn check_url(url: &str, allow_http: bool) -> Result<String, String> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => {
            return Err(format!(
                "\"{url}\" is not a URL (expected http:// or https://…)"
            ));
        }
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "unsupported scheme \"{scheme}\" (expected http or https)"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err(format!("\"{url}\" has no host"));
    }
    if scheme == "http" && !allow_http && !is_loopback_host(host) {
        return Err(format!(
            "plain http:// to {host} would send the API key unencrypted; use https:// or set allow_http = true"
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `~` and `~/…` become the home directory; anything else is taken as written.
pub fn expand_tilde(raw: &str) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    if raw == "~" {
        home().unwrap_or_else(|| PathBuf::from(raw))
    } else if let Some(rest) = raw.strip_prefix("~/") {
        home().map_or_else(|| PathBuf::from(raw), |h| h.join(rest))
    } else {
        PathBuf::from(raw)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn setting_names_parse_back() {
        for v in View::ALL {
            assert_eq!(View::parse(v.name()), Some(v));
        }
        for d in Dialect::ALL {
            assert_eq!(Dialect::parse(d.name()), Some(d));
        }
        assert_eq!(Dialect::HledgerWeb.name(), "hledger-web");
        assert_eq!(
            (ThemeName::parse("16"), ThemeName::Ansi16.name()),
            (Some(ThemeName::Ansi16), "16")
        );
        assert_eq!(ThemeName::parse("dark"), Some(ThemeName::Dark));
        assert_eq!(ThemeName::parse("ansi16"), None);
    }

    #[test]
    fn url_checks() {
        assert_eq!(
            check_url("https://finance.example.org/", false).unwrap(),
            "https://finance.example.org"
        );
        assert!(check_url("http://127.0.0.1:8080", false).is_ok());
        assert!(check_url("http://[::1]:8080/api", false).is_ok());
        assert!(check_url("http://localhost", false).is_ok());
        let err = check_url("http://finance.example.org", false).unwrap_err();
        assert!(err.contains("allow_http"), "{err}");
        assert!(check_url("http://finance.example.org", true).is_ok());
        assert!(check_url("ftp://x", false).unwrap_err().contains("scheme"));
        assert!(
            check_url("finance.example.org", false)
                .unwrap_err()
                .contains("not a URL")
        );
        assert!(
            check_url("https:///path", false)
                .unwrap_err()
                .contains("no host")
        );
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback_host("127.0.0.2"));
        assert!(is_loopback_host("LOCALHOST"));
        assert!(is_loopback_host("[::1]"));
        assert!(!is_loopback_host("10.0.0.1"));
        assert!(!is_loopback_host("localhost.example.org"));
    }

    #[test]
    fn enum_names_round_trip() {
        for v in View::ALL {
            assert_eq!(View::parse(v.name()), Some(v));
        }
        for d in Dialect::ALL {
            assert_eq!(Dialect::parse(d.name()), Some(d));
        }
        for t in [ThemeName::Dark, ThemeName::Light, ThemeName::Ansi16] {
            assert_eq!(ThemeName::parse(t.name()), Some(t));
        }
        assert!(!Dialect::HledgerWeb.needs_api_key());
        assert!(Dialect::Sure.needs_api_key());
    }

    #[test]
    fn serve_debug_redacts_keys() {
        let serve = ServeConfig {
            api_keys: vec!["hunter2".into()],
            requests_per_minute: 5,
        };
        let shown = format!("{serve:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("1 redacted"), "{shown}");
    }

    #[test]
    fn failing_key_command_redacts_its_output() {
        let err =
            key_from_command("printf 'sekrit\\n'; echo 'bad sekrit' >&2; exit 3").unwrap_err();
        let shown = err.to_string();
        assert!(!shown.contains("sekrit"), "{shown}");
        assert!(shown.contains("`printf …`"), "{shown}");
        assert!(shown.contains("bad ***"), "{shown}");
    }
}
