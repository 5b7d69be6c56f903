//! The config file's schema, checked by walking toml's span-preserving document tree (`toml::de::DeTable`).
//! Each value is checked for its type and allowed values and every key not in the schema is refused, like serde's
//! `deny_unknown_fields`, but each problem carries its dotted key and `line:column`. The walk collects every problem
//! instead of stopping at the first, then sorts them into file order.

use super::{
    Config, DEFAULT_API_KEY_ENV, DEFAULT_REST_REQUESTS_PER_MINUTE, DEFAULT_TIMEOUT_SECS, Dialect,
    KeyBinding, KeySpec, Location, Problem, Profile, ProfileBackend, RestProfile, ThemeName, View,
    check_url,
};
use crate::backend::GroupBy;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

type Value<'i> = Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "default_profile",
    "date_format",
    "default_view",
    "default_group_by",
    "theme",
    "keep_selection",
    "profiles",
    "serve",
    "keys",
];
const JOURNAL_KEYS: &[&str] = &["backend", "file", "import_file"];
const REST_KEYS: &[&str] = &[
    "backend",
    "url",
    "dialect",
    "api_key_env",
    "api_key_cmd",
    "requests_per_minute",
    "allow_http",
    "timeout_secs",
];
const SERVE_KEYS: &[&str] = &["api_keys", "requests_per_minute"];

pub(super) fn parse(text: &str, origin: &Path) -> Result<Config, Vec<Problem>> {
    let mut walker = Walker {
        text,
        file: origin.display().to_string(),
        problems: Vec::new(),
    };
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            walker.problem(span, "", e.message().to_string());
            return Err(walker.problems);
        }
    };
    let base_dir = origin.parent().unwrap_or(Path::new(""));
    let config = walker.root(root.get_ref(), base_dir);
    if walker.problems.is_empty() {
        Ok(config)
    } else {
        let mut problems = walker.problems;
        problems.sort_by_key(|p| (p.location.line, p.location.column));
        Err(problems)
    }
}

struct Walker<'t> {
    text: &'t str,
    file: String,
    problems: Vec<Problem>,
}

impl Walker<'_> {
    fn location(&self, span: Range<usize>) -> Location {
        let offset = span.start.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        // A byte-order mark is invisible in editors, so it does not count as a column.
        let line_text = before[line_start..].trim_start_matches('\u{feff}');
        Location {
            file: self.file.clone(),
            line: before.matches('\n').count() + 1,
            column: line_text.chars().count() + 1,
        }
    }

    fn problem(&mut self, span: Range<usize>, key: &str, message: String) {
        let location = self.location(span);
        self.problems.push(Problem {
            location,
            key: key.to_string(),
            message,
        });
    }

    fn unknown_key(
        &mut self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        path: &str,
        expected: &[&str],
    ) {
        self.problem(
            key.span(),
            path,
            format!("unknown key (expected {})", one_of(expected)),
        );
    }

    fn wrong_type(&mut self, value: &Value<'_>, path: &str, expected: &str) {
        self.problem(
            value.span(),
            path,
            format!(
                "expected {expected}, found {}",
                article(value.get_ref().type_str())
            ),
        );
    }

    fn string(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(value, path, "a string");
                None
            }
        }
    }

    fn non_empty_string(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        let s = self.string(value, path)?;
        if s.trim().is_empty() {
            self.problem(value.span(), path, "must not be empty".to_string());
            return None;
        }
        Some(s)
    }

    fn bool(&mut self, value: &Value<'_>, path: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(value, path, "true or false");
                None
            }
        }
    }

    fn integer(&mut self, value: &Value<'_>, path: &str, min: u32) -> Option<u32> {
        let DeValue::Integer(i) = value.get_ref() else {
            self.wrong_type(value, path, "an integer");
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .and_then(|n| u32::try_from(n).ok())
        {
            Some(n) if n >= min => Some(n),
            _ => {
                self.problem(
                    value.span(),
                    path,
                    format!("must be a whole number from {min} to {}", u32::MAX),
                );
                None
            }
        }
    }

    fn table<'a, 'i>(&mut self, value: &'a Value<'i>, path: &str) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(value, path, "a table");
                None
            }
        }
    }

    fn root(&mut self, root: &DeTable<'_>, base_dir: &Path) -> Config {
        let mut config = Config::default();
        let mut default_profile: Option<&Value<'_>> = None;
        for (key, value) in root.iter() {
            let name = key.get_ref().as_ref();
            match name {
                "default_profile" => default_profile = Some(value),
                "date_format" => {
                    if let Some(format) = self.string(value, name) {
                        match check_date_format(&format) {
                            Ok(()) => config.date_format = format,
                            Err(message) => self.problem(value.span(), name, message),
                        }
                    }
                }
                "default_view" => {
                    let expected = one_of(&View::ALL.map(View::name));
                    if let Some(v) = self.choice(value, name, View::parse, ("view", &expected)) {
                        config.default_view = v;
                    }
                }
                "default_group_by" => {
                    let expected = one_of(&["day", "week", "month", "year"]);
                    if let Some(g) = self.choice(value, name, GroupBy::parse, ("period", &expected))
                    {
                        config.default_group_by = g;
                    }
                }
                "keep_selection" => {
                    if let Some(keep) = self.bool(value, name) {
                        config.keep_selection = keep;
                    }
                }
                "theme" => {
                    let expected = "dark, light or 16";
                    if let Some(t) = self.choice(value, name, ThemeName::parse, ("theme", expected))
                    {
                        config.theme = t;
                    }
                }
                "profiles" => self.profiles(value, base_dir, &mut config),
                "serve" => {
                    if let Some(table) = self.table(value, name) {
                        self.serve(table, &mut config);
                    }
                }
                "keys" => {
                    if let Some(table) = self.table(value, name) {
                        self.keys(table, &mut config);
                    }
                }
                _ => self.unknown_key(key, name, TOP_KEYS),
            }
        }
        if let Some(value) = default_profile {
            self.default_profile(value, root, &mut config);
        }
        config
    }

    /// A setting that takes one of a few names (for `theme` a number is read as its text: `theme = 16`); `what`
    /// names the kind of value and the expected ones for the message.
    fn choice<T>(
        &mut self,
        value: &Value<'_>,
        name: &str,
        parse: fn(&str) -> Option<T>,
        (what, expected): (&str, &str),
    ) -> Option<T> {
        let text = match value.get_ref() {
            DeValue::Integer(i) if name == "theme" => Some(i.as_str().to_string()),
            _ => self.string(value, name),
        }?;
        let parsed = parse(&text);
        if parsed.is_none() {
            self.problem(
                value.span(),
                name,
                format!("unknown {what} \"{text}\" (expected {expected})"),
            );
        }
        parsed
    }

    fn profiles(&mut self, value: &Value<'_>, base_dir: &Path, config: &mut Config) {
        let Some(table) = self.table(value, "profiles") else {
            return;
        };
        for (pkey, pvalue) in table.iter() {
            let pname = pkey.get_ref().as_ref();
            let path = format!("profiles.{pname}");
            if let Some(ptable) = self.table(pvalue, &path)
                && let Some(profile) = self.profile(ptable, pkey.span(), &path, base_dir)
            {
                config.profiles.insert(pname.to_string(), profile);
            }
        }
    }

    /// `default_profile` must name a profile of the file.
    fn default_profile(&mut self, value: &Value<'_>, root: &DeTable<'_>, config: &mut Config) {
        let Some(name) = self.non_empty_string(value, "default_profile") else {
            return;
        };
        // A profile that failed its own checks is already reported; don't report it twice.
        let defined = root
            .get("profiles")
            .and_then(|p| p.get_ref().as_table())
            .is_some_and(|t| t.get(name.as_str()).is_some());
        if defined {
            config.default_profile = Some(name);
        } else {
            let names: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
            let known = if names.is_empty() {
                "no profiles are defined".to_string()
            } else {
                format!("profiles: {}", names.join(", "))
            };
            self.problem(
                value.span(),
                "default_profile",
                format!("no profile named \"{name}\" ({known})"),
            );
        }
    }

    fn profile(
        &mut self,
        table: &DeTable<'_>,
        name_span: Range<usize>,
        path: &str,
        base_dir: &Path,
    ) -> Option<Profile> {
        let location = self.location(name_span.clone());
        let backend = match table.get("backend") {
            Some(value) => {
                let kind = self.string(value, &format!("{path}.backend"))?;
                if kind != "journal" && kind != "rest" {
                    self.problem(
                        value.span(),
                        &format!("{path}.backend"),
                        format!("unknown backend \"{kind}\" (expected journal or rest)"),
                    );
                    return None;
                }
                kind
            }
            // Without `backend`, the one of `file` / `url` that is present decides.
            None => match (table.get("file").is_some(), table.get("url").is_some()) {
                (true, false) => "journal".to_string(),
                (false, true) => "rest".to_string(),
                _ => {
                    self.problem(
                        name_span,
                        path,
                        "missing backend = \"journal\" or backend = \"rest\"".to_string(),
                    );
                    return None;
                }
            },
        };
        let backend = if backend == "journal" {
            self.journal_profile(table, name_span, path, base_dir)?
        } else {
            self.rest_profile(table, name_span, path)?
        };
        Some(Profile { backend, location })
    }

    fn journal_profile(
        &mut self,
        table: &DeTable<'_>,
        name_span: Range<usize>,
        path: &str,
        base_dir: &Path,
    ) -> Option<ProfileBackend> {
        let (mut file, mut import_file) = (None, None);
        let mut ok = true;
        for (key, value) in table.iter() {
            let kpath = format!("{path}.{}", key.get_ref());
            match key.get_ref().as_ref() {
                "backend" => {}
                "file" => {
                    file = self.non_empty_string(value, &kpath);
                    ok &= file.is_some();
                }
                "import_file" => {
                    import_file = self.non_empty_string(value, &kpath);
                    ok &= import_file.is_some();
                }
                other => {
                    ok = false;
                    if REST_KEYS.contains(&other) {
                        self.problem(key.span(), &kpath, "only used by rest profiles".to_string());
                    } else {
                        self.unknown_key(key, &kpath, JOURNAL_KEYS);
                    }
                }
            }
        }
        if file.is_none() && table.get("file").is_none() {
            self.problem(
                name_span,
                path,
                "a journal profile needs file = \"PATH\"".to_string(),
            );
        }
        let file = file?;
        ok.then(|| ProfileBackend::Journal {
            file: expand_path(&file, base_dir),
            import_file: import_file.map(|f| expand_path(&f, base_dir)),
        })
    }

    fn rest_profile(
        &mut self,
        table: &DeTable<'_>,
        name_span: Range<usize>,
        path: &str,
    ) -> Option<ProfileBackend> {
        let mut ok = true;
        let mut url: Option<(String, Range<usize>)> = None;
        let mut profile = RestProfile {
            url: String::new(),
            dialect: Dialect::default(),
            api_key_env: DEFAULT_API_KEY_ENV.to_string(),
            api_key_cmd: None,
            requests_per_minute: DEFAULT_REST_REQUESTS_PER_MINUTE,
            allow_http: false,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        };
        for (key, value) in table.iter() {
            let kpath = format!("{path}.{}", key.get_ref());
            let field_ok = match key.get_ref().as_ref() {
                "backend" => true,
                "url" => self
                    .non_empty_string(value, &kpath)
                    .map(|u| url = Some((u, value.span())))
                    .is_some(),
                "dialect" => {
                    let expected = one_of(&Dialect::ALL.map(Dialect::name));
                    self.choice(value, &kpath, Dialect::parse, ("dialect", &expected))
                        .map(|d| profile.dialect = d)
                        .is_some()
                }
                "api_key_env" => self
                    .env_var_name(value, &kpath)
                    .map(|var| profile.api_key_env = var)
                    .is_some(),
                "api_key_cmd" => self
                    .non_empty_string(value, &kpath)
                    .map(|cmd| profile.api_key_cmd = Some(cmd))
                    .is_some(),
                "requests_per_minute" => self
                    .integer(value, &kpath, 0)
                    .map(|n| profile.requests_per_minute = n)
                    .is_some(),
                "allow_http" => self
                    .bool(value, &kpath)
                    .map(|b| profile.allow_http = b)
                    .is_some(),
                "timeout_secs" => self
                    .integer(value, &kpath, 1)
                    .map(|n| profile.timeout = Duration::from_secs(u64::from(n)))
                    .is_some(),
                other if JOURNAL_KEYS.contains(&other) => {
                    let message = "only used by journal profiles".to_string();
                    self.problem(key.span(), &kpath, message);
                    false
                }
                _ => {
                    self.unknown_key(key, &kpath, REST_KEYS);
                    false
                }
            };
            ok &= field_ok;
        }
        let Some((url, url_span)) = url else {
            if table.get("url").is_none() {
                self.problem(
                    name_span,
                    path,
                    "a rest profile needs url = \"https://…\"".to_string(),
                );
            }
            return None;
        };
        match check_url(&url, profile.allow_http) {
            Ok(url) => profile.url = url,
            Err(message) => {
                self.problem(url_span, &format!("{path}.url"), message);
                return None;
            }
        }
        ok.then_some(ProfileBackend::Rest(profile))
    }

    /// The name of an environment variable (no `=`, NUL or surrounding blanks).
    fn env_var_name(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        let var = self.non_empty_string(value, path)?;
        if var.contains(['=', '\0']) || var.trim() != var {
            self.problem(
                value.span(),
                path,
                format!("\"{var}\" is not an environment variable name"),
            );
            return None;
        }
        Some(var)
    }

    fn serve(&mut self, table: &DeTable<'_>, config: &mut Config) {
        for (key, value) in table.iter() {
            let kpath = format!("serve.{}", key.get_ref());
            match key.get_ref().as_ref() {
                "api_keys" => {
                    let DeValue::Array(items) = value.get_ref() else {
                        self.wrong_type(value, &kpath, "an array of strings");
                        continue;
                    };
                    let mut keys = Vec::new();
                    for item in items.iter() {
                        if let Some(k) = self.non_empty_string(item, &kpath) {
                            keys.push(k);
                        }
                    }
                    config.serve.api_keys = keys;
                }
                "requests_per_minute" => {
                    if let Some(n) = self.integer(value, &kpath, 0) {
                        config.serve.requests_per_minute = n;
                    }
                }
                _ => self.unknown_key(key, &kpath, SERVE_KEYS),
            }
        }
    }

    fn keys(&mut self, table: &DeTable<'_>, config: &mut Config) {
        const EXPECTED: &str = "a key (\"q\") or an array of keys ([\"q\", \"ctrl-c\"])";
        for (key, value) in table.iter() {
            let command = key.get_ref().to_string();
            let kpath = format!("keys.{command}");
            let values: Vec<&Value<'_>> = match value.get_ref() {
                DeValue::String(_) => vec![value],
                DeValue::Array(items) if !items.is_empty() => items.iter().collect(),
                DeValue::Array(_) => {
                    self.problem(
                        value.span(),
                        &kpath,
                        format!("empty array: give at least one key ({EXPECTED})"),
                    );
                    continue;
                }
                _ => {
                    self.wrong_type(value, &kpath, EXPECTED);
                    continue;
                }
            };
            let mut bindings = Vec::new();
            for item in values {
                if let Some(k) = self.non_empty_string(item, &kpath) {
                    bindings.push(KeyBinding {
                        key: k,
                        location: self.location(item.span()),
                    });
                }
            }
            if !bindings.is_empty() {
                let location = self.location(key.span());
                config.keys.insert(command, KeySpec { bindings, location });
            }
        }
    }
}

/// A strftime format is usable for dates if chrono understands every specifier and it needs no time or zone.
fn check_date_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    use std::fmt::Write;
    const HINT: &str = "chrono strftime for dates, e.g. \"%Y-%m-%d\" or \"%d.%m.%Y\"";
    if format.is_empty() {
        return Err(format!("must not be empty ({HINT})"));
    }
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(format!("invalid date format \"{format}\" ({HINT})"));
    }
    let sample = chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap_or_default();
    let mut out = String::new();
    if write!(out, "{}", sample.format_with_items(items.into_iter())).is_err() {
        return Err(format!(
            "date format \"{format}\" asks for a time or time zone, which dates do not have ({HINT})"
        ));
    }
    Ok(())
}

/// `~` and `~/…` become the home directory; a relative path is taken relative to the config file's directory.
fn expand_path(raw: &str, base_dir: &Path) -> PathBuf {
    let path = super::expand_tilde(raw);
    if path.is_relative() {
        base_dir.join(path)
    } else {
        path
    }
}

fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn article(type_name: &str) -> String {
    match type_name {
        "integer" | "array" => format!("an {type_name}"),
        "boolean" => "a boolean".to_string(),
        other => format!("a {other}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn date_formats() {
        assert!(check_date_format("%Y-%m-%d").is_ok());
        assert!(check_date_format("%d %b %Y").is_ok());
        assert!(
            check_date_format("%Q")
                .unwrap_err()
                .contains("invalid date format")
        );
        assert!(check_date_format("%Y %H:%M").unwrap_err().contains("time"));
        assert!(check_date_format("").is_err());
    }

    #[test]
    fn path_expansion() {
        let base = Path::new("/etc/tally");
        assert_eq!(
            expand_path("main.journal", base),
            PathBuf::from("/etc/tally/main.journal")
        );
        assert_eq!(
            expand_path("/data/x.journal", base),
            PathBuf::from("/data/x.journal")
        );
        let home = directories::BaseDirs::new()
            .unwrap()
            .home_dir()
            .to_path_buf();
        assert_eq!(expand_path("~/f.journal", base), home.join("f.journal"));
        assert_eq!(expand_path("~", base), home);
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn columns_count_characters() {
        let text = "# é\nthéme = 1\n";
        let w = Walker {
            text,
            file: "c.toml".into(),
            problems: Vec::new(),
        };
        let offset = text.find('=').unwrap();
        let loc = w.location(offset..offset + 1);
        assert_eq!((loc.line, loc.column), (2, 7));
        let bom = "\u{feff}theme = 1\r\n";
        let w = Walker {
            text: bom,
            file: "c.toml".into(),
            problems: Vec::new(),
        };
        let offset = bom.find('1').unwrap();
        let loc = w.location(offset..offset + 1);
        assert_eq!((loc.line, loc.column), (1, 9));
    }
}
