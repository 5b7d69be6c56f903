//! The dashboard keymap: every `Command` the dashboard understands, declared in one table (`commands!`: name, default
//! keys in the syntax users write under `[keys]` in the config file, help text, footer word, whether it waits for
//! rows), and user overrides merged over the defaults. An override
//! replaces all default keys of that command. Help (`?`) and the footer are generated from the active keymap, so they
//! never disagree with what the keys do. Shift+arrow bindings are refused: many terminals, tmux and SSH sessions
//! do not deliver them reliably, so no action may depend on them. `Ctrl-c` always quits (raw mode turns it into a key)
//! and cannot be bound to anything else.

use super::{ConfigError, KeySpec};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::fmt;

/// Declares the dashboard's commands from one table: each row gives the variant, its name in the config file's
/// `[keys]` table, its default keys (config syntax), its help text, its place in the footer (priority and word; 0 is
/// not in the footer) and whether it waits for rows on screen (pressed while a new query runs, it is kept until the
/// rows arrive). The keymap, help, footer, config validation and `update`'s deferral all read this table; adding a
/// command is one row here and one arm in `app::update::run_command`.
macro_rules! commands {
    ($($variant:ident: $name:literal, [$($key:literal),*], $help:literal, footer($prio:literal, $word:literal), rows($rows:literal);)*) => {
        /// One thing a key can do in the dashboard.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Command {
            $($variant,)*
        }

        /// Every command, in the order help lists them (the table's order).
        pub const COMMANDS: &[CommandInfo] = &[
            $(CommandInfo {
                command: Command::$variant,
                name: $name,
                keys: &[$($key),*],
                help: $help,
                footer: ($prio, $word),
                waits_for_rows: $rows,
            },)*
        ];
    };
}

/// One row of the command table.
#[derive(Debug)]
pub struct CommandInfo {
    pub command: Command,
    /// The name used in the config file's `[keys]` table.
    pub name: &'static str,
    /// The default keys, in the config file's syntax.
    pub keys: &'static [&'static str],
    /// What the command does, as help shows it.
    pub help: &'static str,
    /// The footer's priority (1 first; 0: not in the footer) and the short word it shows.
    pub footer: (u8, &'static str),
    /// Pressed while a new query is running, the command waits for its rows.
    pub waits_for_rows: bool,
}

commands! {
    MoveDown: "move_down", ["j", "Down"], "move down", footer(0, ""), rows(true);
    MoveUp: "move_up", ["k", "Up"], "move up", footer(0, ""), rows(true);
    Top: "top", ["g", "Home"], "go to the top", footer(0, ""), rows(true);
    Bottom: "bottom", ["G", "End"], "go to the bottom", footer(0, ""), rows(true);
    PageDown: "page_down", ["PageDown", "Ctrl-d"], "page down", footer(0, ""), rows(true);
    PageUp: "page_up", ["PageUp", "Ctrl-u"], "page up", footer(0, ""), rows(true);
    NextPane: "next_pane", ["Tab"], "next pane", footer(8, "pane"), rows(false);
    PrevPane: "prev_pane", ["BackTab"], "previous pane", footer(0, ""), rows(false);
    OpenDetail: "open_detail", ["Enter"], "detail / drill down", footer(0, ""), rows(true);
    Filter: "filter", ["/"], "filter (query language)", footer(2, "filter"), rows(false);
    Back: "back", ["Esc"], "unselect / clear filter", footer(0, ""), rows(false);
    ReviewQueue: "review_queue", ["R"], "review queue on/off", footer(3, "review"), rows(false);
    MarkReviewed: "mark_reviewed", ["r"], "mark reviewed (cleared)", footer(4, "reviewed"), rows(true);
    MarkPending: "mark_pending", ["!"], "mark pending", footer(0, ""), rows(true);
    ToggleSelect: "toggle_select", ["Space"], "select / unselect", footer(5, "select"), rows(true);
    RangeSelect: "range_select", ["v"], "select range to here", footer(0, ""), rows(true);
    SelectAll: "select_all", ["Ctrl-a"], "select all matching", footer(0, ""), rows(true);
    AddTag: "add_tag", ["t"], "add tag", footer(6, "tag"), rows(true);
    RemoveTag: "remove_tag", ["T"], "remove tag", footer(0, ""), rows(true);
    SetCategory: "set_category", ["c"], "set category", footer(0, ""), rows(true);
    SetNote: "set_note", ["n"], "set note", footer(0, ""), rows(true);
    Undo: "undo", ["u"], "undo", footer(7, "undo"), rows(false);
    Redo: "redo", ["Ctrl-r"], "redo", footer(0, ""), rows(false);
    Sort: "sort", ["s"], "sort by next column", footer(0, ""), rows(false);
    ReverseSort: "reverse_sort", ["o"], "reverse sort order", footer(0, ""), rows(false);
    GroupDay: "group_day", ["1"], "analytics by day", footer(0, ""), rows(false);
    GroupWeek: "group_week", ["2"], "analytics by week", footer(0, ""), rows(false);
    GroupMonth: "group_month", ["3"], "analytics by month", footer(0, ""), rows(false);
    GroupYear: "group_year", ["4"], "analytics by year", footer(0, ""), rows(false);
    PrevPeriod: "prev_period", ["["], "previous period", footer(0, ""), rows(false);
    NextPeriod: "next_period", ["]"], "next period", footer(0, ""), rows(false);
    NextDimension: "next_dimension", ["b"], "next breakdown dimension", footer(9, "breakdown"), rows(false);
    AccountsShallower: "accounts_shallower", ["-"], "accounts: one level less", footer(0, ""), rows(false);
    AccountsDeeper: "accounts_deeper", ["+", "="], "accounts: one level more", footer(0, ""), rows(false);
    AddTransaction: "add_transaction", ["a"], "add / take suggestion", footer(0, ""), rows(false);
    Import: "import", ["i"], "import bank CSV (preview)", footer(0, ""), rows(false);
    PromoteRule: "promote_rule", ["P"], "category to a CSV rule", footer(0, ""), rows(true);
    Reconcile: "reconcile", ["C"], "reconcile with a statement", footer(0, ""), rows(false);
    OpenEditor: "open_editor", ["E"], "open the row in $EDITOR", footer(0, ""), rows(true);
    Sync: "sync", ["S"], "sync with the server", footer(0, ""), rows(false);
    Archive: "archive", ["X"], "archive (asks; no undo)", footer(0, ""), rows(false);
    Help: "help", ["?", "F1"], "help", footer(1, "help"), rows(false);
    Quit: "quit", ["q", "Ctrl-c"], "quit", footer(10, "quit"), rows(false);
}

impl Command {
    /// Its row of the command table.
    pub fn info(self) -> &'static CommandInfo {
        // The enum is declared from the table in the same order.
        &COMMANDS[self as usize]
    }

    /// Every command, in the order help lists them.
    pub fn all() -> impl Iterator<Item = Command> {
        COMMANDS.iter().map(|c| c.command)
    }

    /// The name used in the config file's `[keys]` table.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn from_name(name: &str) -> Option<Command> {
        COMMANDS.iter().find(|c| c.name == name).map(|c| c.command)
    }

    /// What the command does, as help shows it.
    pub fn description(self) -> &'static str {
        self.info().help
    }

    /// Pressed while a new query runs, the command waits for the rows.
    pub fn waits_for_rows(self) -> bool {
        self.info().waits_for_rows
    }
}

/// A key plus modifiers, normalised so that `T` and `Shift-t` are the same chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyChord {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            // Terminals report `T` as Shift+`T`; the character already says it.
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        KeyChord { code, mods }
    }

    pub fn from_event(ev: &KeyEvent) -> Self {
        KeyChord::new(ev.code, ev.modifiers)
    }

    /// Parses `j`, `T`, `Ctrl-a`, `Alt-x`, `Space`, `Enter`, `PageDown`, `F1`, ...
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix_len, m) = if lower.starts_with("ctrl-") || lower.starts_with("ctrl+") {
                (5, KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") || lower.starts_with("alt+") {
                (4, KeyModifiers::ALT)
            } else if lower.starts_with("shift-") || lower.starts_with("shift+") {
                (6, KeyModifiers::SHIFT)
            } else {
                break;
            };
            if rest.len() == prefix_len {
                break;
            }
            mods |= m;
            rest = &rest[prefix_len..];
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "" => return Err("empty key".into()),
            "space" => KeyCode::Char(' '),
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n = f[1..].parse::<u8>().map_err(|e| e.to_string())?;
                if !(1..=12).contains(&n) {
                    return Err(format!("no function key {rest}"));
                }
                KeyCode::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("unknown key {rest:?}")),
                }
            }
        };
        let is_arrow = matches!(
            code,
            KeyCode::Up | KeyCode::Down | KeyCode::Left | KeyCode::Right
        );
        if is_arrow && mods.contains(KeyModifiers::SHIFT) {
            return Err(format!(
                "{text}: Shift+arrow keys are not delivered reliably over SSH and tmux; pick another key"
            ));
        }
        Ok(KeyChord::new(code, mods))
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The active bindings: for each command its keys, in the order they were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<(Command, Vec<KeyChord>)>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

impl Keymap {
    /// The default keys of the command table (`COMMANDS`).
    pub fn defaults() -> Keymap {
        // The table's keys are checked by the `every_command_has_a_default_key` test.
        let bindings = COMMANDS
            .iter()
            .map(|c| {
                let keys = c
                    .keys
                    .iter()
                    .filter_map(|k| KeyChord::parse(k).ok())
                    .collect();
                (c.command, keys)
            })
            .collect();
        Keymap { bindings }
    }

    /// The defaults with the config file's `[keys]` overrides merged over them: an override replaces every default
    /// key of its command, and a key taken by an override is removed from whatever other command had it by default.
    /// A bad command name or key is reported with its dotted name (`keys.add_tag`) and `file:line:column`.
    pub fn with_overrides(overrides: &BTreeMap<String, KeySpec>) -> Result<Keymap, ConfigError> {
        let mut map = Keymap::defaults();
        let mut parsed: Vec<(Command, Vec<KeyChord>)> = Vec::new();
        for (name, spec) in overrides {
            let key = format!("keys.{name}");
            let command = Command::from_name(name).ok_or_else(|| {
                ConfigError::invalid(
                    spec.location.clone(),
                    key.clone(),
                    format!("unknown command \"{name}\""),
                )
            })?;
            let mut chords = Vec::new();
            for binding in &spec.bindings {
                let chord = KeyChord::parse(&binding.key).map_err(|message| {
                    ConfigError::invalid(binding.location.clone(), key.clone(), message)
                })?;
                if command != Command::Quit
                    && chord == KeyChord::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
                {
                    return Err(ConfigError::invalid(
                        binding.location.clone(),
                        key.clone(),
                        "Ctrl-c always quits; pick another key",
                    ));
                }
                if let Some((other, _)) = parsed.iter().find(|(_, keys)| keys.contains(&chord)) {
                    return Err(ConfigError::invalid(
                        binding.location.clone(),
                        key.clone(),
                        format!("{chord} is already bound to {}", other.name()),
                    ));
                }
                chords.push(chord);
            }
            parsed.push((command, chords));
        }
        for (command, chords) in parsed {
            for (_, keys) in map.bindings.iter_mut() {
                keys.retain(|k| !chords.contains(k));
            }
            if let Some(slot) = map.bindings.iter_mut().find(|(c, _)| *c == command) {
                slot.1 = chords;
            }
        }
        Ok(map)
    }

    pub fn command_for(&self, ev: &KeyEvent) -> Option<Command> {
        let chord = KeyChord::from_event(ev);
        self.bindings
            .iter()
            .find(|(_, keys)| keys.contains(&chord))
            .map(|(c, _)| *c)
    }

    pub fn keys_for(&self, command: Command) -> &[KeyChord] {
        self.bindings
            .iter()
            .find(|(c, _)| *c == command)
            .map(|(_, k)| k.as_slice())
            .unwrap_or(&[])
    }

    /// `j/↓` style text for a command's keys; empty when the command is unbound.
    pub fn key_text(&self, command: Command) -> String {
        self.keys_for(command)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Help lines: `(keys, description)` for every bound command, in the command table's order. The four grouping
    /// commands and the two period commands share one line each, so help fits an 80×24 terminal.
    pub fn help_lines(&self) -> Vec<(String, String)> {
        const GROUPS: [Command; 4] = [
            Command::GroupDay,
            Command::GroupWeek,
            Command::GroupMonth,
            Command::GroupYear,
        ];
        const PERIODS: [Command; 2] = [Command::PrevPeriod, Command::NextPeriod];
        const DEPTH: [Command; 2] = [Command::AccountsShallower, Command::AccountsDeeper];
        let merged = |set: &[Command], what: &str| {
            let keys: Vec<String> = set.iter().map(|c| self.key_text(*c)).collect();
            if keys.iter().all(|k| !k.is_empty()) {
                Some((keys.join(" "), what.to_string()))
            } else {
                None
            }
        };
        let mut out = Vec::new();
        for c in Command::all() {
            if self.keys_for(c).is_empty() {
                continue;
            }
            if GROUPS.contains(&c) || PERIODS.contains(&c) || DEPTH.contains(&c) {
                let (set, what): (&[Command], &str) = if GROUPS.contains(&c) {
                    (&GROUPS, "analytics by day/wk/mon/yr")
                } else if PERIODS.contains(&c) {
                    (&PERIODS, "previous / next period")
                } else {
                    (&DEPTH, "tree: fewer/more levels")
                };
                if let Some(line) = merged(set, what) {
                    if c == set[0] {
                        out.push(line);
                    }
                    continue;
                }
            }
            out.push((self.key_text(c), c.description().to_string()));
        }
        out
    }

    /// The footer's items: the most useful commands with their first key (`/ filter`), most important first.
    pub fn footer_items(&self) -> Vec<(Command, String)> {
        let mut shown: Vec<&CommandInfo> = COMMANDS.iter().filter(|c| c.footer.0 > 0).collect();
        shown.sort_by_key(|c| c.footer.0);
        shown
            .into_iter()
            .filter_map(|c| {
                self.keys_for(c.command)
                    .first()
                    .map(|k| (c.command, format!("{k} {}", c.footer.1)))
            })
            .collect()
    }

    /// The footer as text: as many items as fit in `width` columns, two spaces apart.
    pub fn footer(&self, width: usize) -> String {
        let mut out = String::new();
        for (_, item) in self.footer_items() {
            let extra = if out.is_empty() { 0 } else { 2 };
            if unicode_width::UnicodeWidthStr::width(out.as_str())
                + extra
                + unicode_width::UnicodeWidthStr::width(item.as_str())
                > width
            {
                break;
            }
            if !out.is_empty() {
                out.push_str("  ");
            }
            out.push_str(&item);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{KeyBinding, Location};

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn every_command_has_a_default_key() {
        let map = Keymap::defaults();
        for c in Command::all() {
            assert!(!map.keys_for(c).is_empty(), "{} unbound", c.name());
            assert_eq!(
                map.keys_for(c).len(),
                c.info().keys.len(),
                "{}: a default key does not parse",
                c.name()
            );
        }
    }

    #[test]
    fn shifted_letters_and_ctrl_keys_resolve() {
        let map = Keymap::defaults();
        assert_eq!(
            map.command_for(&key(KeyCode::Char('T'), KeyModifiers::SHIFT)),
            Some(Command::RemoveTag)
        );
        assert_eq!(
            map.command_for(&key(KeyCode::Char('a'), KeyModifiers::CONTROL)),
            Some(Command::SelectAll)
        );
        assert_eq!(
            map.command_for(&key(KeyCode::Char(' '), KeyModifiers::NONE)),
            Some(Command::ToggleSelect)
        );
        assert_eq!(
            map.command_for(&key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Command::PrevPane)
        );
    }

    fn overrides(entries: &[(&str, &[&str], usize)]) -> BTreeMap<String, KeySpec> {
        let loc = |line: usize, column: usize| Location {
            file: "config.toml".into(),
            line,
            column,
        };
        entries
            .iter()
            .map(|(name, keys, line)| {
                let spec = KeySpec {
                    bindings: keys
                        .iter()
                        .enumerate()
                        .map(|(i, k)| KeyBinding {
                            key: (*k).to_string(),
                            location: loc(*line, 10 + 5 * i),
                        })
                        .collect(),
                    location: loc(*line, 1),
                };
                ((*name).to_string(), spec)
            })
            .collect()
    }

    #[test]
    fn override_replaces_defaults_and_steals_the_key() {
        let map = Keymap::with_overrides(&overrides(&[("add_tag", &["Ctrl-t", "a"], 7)]))
            .expect("valid override");
        assert_eq!(map.key_text(Command::AddTag), "Ctrl-t/a");
        assert_eq!(
            map.command_for(&key(KeyCode::Char('t'), KeyModifiers::NONE)),
            None
        );
        let map = Keymap::with_overrides(&overrides(&[("quit", &["j"], 3)])).expect("valid");
        assert_eq!(map.key_text(Command::MoveDown), "↓");
        assert_eq!(
            map.command_for(&key(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Command::Quit)
        );
    }

    #[test]
    fn bad_overrides_name_the_key_and_line() {
        let e = Keymap::with_overrides(&overrides(&[("fly", &["f"], 12)])).expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "config.toml:12:1: keys.fly: unknown command \"fly\""
        );
        let e = Keymap::with_overrides(&overrides(&[("move_up", &["k", "shift-Up"], 4)]))
            .expect_err("shift arrows refused");
        let shown = e.to_string();
        assert!(
            shown.starts_with("config.toml:4:15: keys.move_up: "),
            "{shown}"
        );
        assert!(shown.contains("Shift+arrow"), "{shown}");
        let e = Keymap::with_overrides(&overrides(&[("help", &["Hyper-x"], 9)])).expect_err("bad");
        assert!(e.to_string().contains("unknown key"), "{e}");
        let e = Keymap::with_overrides(&overrides(&[("help", &["x"], 2), ("quit", &["x"], 3)]))
            .expect_err("duplicate");
        assert!(e.to_string().contains("x is already bound to help"), "{e}");
        let e =
            Keymap::with_overrides(&overrides(&[("undo", &["ctrl-C"], 5)])).expect_err("ctrl-c");
        assert!(e.to_string().contains("Ctrl-c always quits"), "{e}");
    }

    #[test]
    fn the_example_config_keymap_is_valid() {
        let text = include_str!("../../config.example.toml");
        let config =
            crate::config::Config::from_str(text, std::path::Path::new("config.example.toml"))
                .expect("example config parses");
        let map = Keymap::with_overrides(&config.keys).expect("example keys are valid");
        assert_eq!(
            map.command_for(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
    }

    #[test]
    fn footer_and_help_follow_the_keymap() {
        let map = Keymap::with_overrides(&overrides(&[("help", &["h"], 1)])).expect("valid");
        assert!(map.footer(80).starts_with("h help  / filter  R review"));
        assert!(map.footer(12).len() <= 12);
        let help = map.help_lines();
        assert!(help.contains(&("h".to_string(), "help".to_string())));
        assert!(help.contains(&(
            "1 2 3 4".to_string(),
            "analytics by day/wk/mon/yr".to_string()
        )));
        assert!(help.contains(&("Ctrl-a".to_string(), "select all matching".to_string())));
    }
}
