//! hledger 1.25's CSV rules files, read unchanged: `skip`, `fields`, `separator`, `date-format`, `decimal-mark`,
//! `newest-first`, `balance-type` (the first of a repeated one wins, as in hledger), field assignments
//! (`account1 assets:bank`, `account2: x`, `description %desc %2`; numbered fields for postings 1 to 99), `if` blocks
//! (lines of matchers — a regex on the whole record or `%field regex` — OR'd, a line starting with `&` AND'd to the
//! one before; indented assignments, `skip [N]` and `end`), `if` tables, `include`, and a top-level `end`. What
//! hledger 1.25 refuses (an unknown or later rule such as `timezone`, an `if` without rules, a comment inside one)
//! tally refuses too; a bad `skip` count, `decimal-mark` or `balance-type` is refused up front, where hledger waits
//! for a record to need it. A problem is reported as `RULES:LINE:COLUMN: what`.
use regex::{Regex, RegexBuilder};
use std::path::{Path, PathBuf};

/// The hledger fields a rule can assign besides the numbered ones (`account1`…`account99`, `amountN`,
/// `amountN-in`, `amountN-out`, `balanceN`, `commentN`, `currencyN`).
const FIELDS: &[&str] = &[
    "date",
    "date2",
    "status",
    "code",
    "description",
    "comment",
    "amount",
    "amount-in",
    "amount-out",
    "currency",
    "balance",
];

/// Fields that take a posting number from 1 to 99, as in hledger 1.25.
const NUMBERED: &[&str] = &["account", "amount", "balance", "comment", "currency"];

/// The highest posting number hledger 1.25 reads.
pub const MAX_POSTINGS: usize = 99;

/// The kind of balance assertion `balance`/`balanceN` make (`balance-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BalanceType {
    /// `=`: one commodity, subaccounts left out.
    #[default]
    Single,
    /// `=*`: one commodity, subaccounts included.
    SingleInclusive,
    /// `==`: every commodity, subaccounts left out.
    Total,
    /// `==*`: every commodity, subaccounts included.
    TotalInclusive,
}

impl BalanceType {
    pub fn symbol(self) -> &'static str {
        match self {
            BalanceType::Single => "=",
            BalanceType::SingleInclusive => "=*",
            BalanceType::Total => "==",
            BalanceType::TotalInclusive => "==*",
        }
    }
}

/// One matcher of an `if`: a regex on the whole record, or on one field (`%name`).
#[derive(Debug, Clone)]
pub struct Matcher {
    pub field: Option<String>,
    pub regex: Regex,
    /// Joined to the matcher before it with AND (`&` at the line's start).
    pub and: bool,
}

/// An `if` block or one row of an `if` table: when its matchers match, its assignments apply. `skip [N]` and `end`
/// are assignments too (to `skip` and `end`), as in hledger.
#[derive(Debug, Clone)]
pub struct Conditional {
    pub matchers: Vec<Matcher>,
    pub assignments: Vec<(String, String)>,
}

/// A rules file, with everything it includes.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Header lines to skip at the top of the CSV.
    pub skip: usize,
    /// The CSV's column names, in order (`fields`).
    pub fields: Vec<String>,
    pub separator: Option<u8>,
    pub date_format: Option<String>,
    /// `decimal-mark`: `.` or `,`; unset, a lone mark in a number is the decimal mark.
    pub decimal_mark: Option<char>,
    pub newest_first: bool,
    pub balance_type: BalanceType,
    /// Top-level assignments (`account1 assets:bank`, and the hledger fields a `fields` list names), in file order.
    pub assignments: Vec<(String, String)>,
    pub conditionals: Vec<Conditional>,
    pub path: PathBuf,
    /// The directives given so far: as in hledger, the first of a repeated directive wins.
    given: Vec<String>,
}

/// A problem in a rules file, `FILE:LINE:COLUMN: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct RulesError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

type ErrAt<'a> = &'a dyn Fn(usize, usize, String) -> RulesError;

impl Rules {
    /// Reads the rules file at `path` (and what it includes).
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|e| RulesError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        Rules::parse(path, &text)
    }

    /// Reads rules from `text` as the file `path` (tests, and `include`d files through `load`).
    pub fn parse(path: &Path, text: &str) -> Result<Rules, RulesError> {
        let mut rules = Rules {
            path: path.to_path_buf(),
            ..Rules::default()
        };
        rules.read(path, text.trim_start_matches('\u{feff}'), 0)?;
        Ok(rules)
    }

    fn read(&mut self, path: &Path, text: &str, depth: usize) -> Result<(), RulesError> {
        let err = |line: usize, column: usize, message: String| RulesError {
            file: path.display().to_string(),
            line,
            column,
            message,
        };
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let (n, line) = (i + 1, lines[i].trim_end());
            i += 1;
            if line.trim().is_empty() || line.trim_start().starts_with(['#', ';', '*']) {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                return Err(err(n, 1, "an indented line outside an `if` block".into()));
            }
            if let Some(target) = line.strip_prefix("include ") {
                self.include(path, target.trim(), depth, &|c, m| err(n, c, m))?;
            } else if let Some(sep) = table_separator(line) {
                i = self.read_table(&lines, i, (sep, n), &err)?;
            } else if line == "if" || line.starts_with("if ") || line.starts_with("if\t") {
                i = self.read_block(&lines, i, (line[2..].trim(), n), &err)?;
            } else {
                self.rule(line, &|c, m| err(n, c, m))?;
            }
        }
        Ok(())
    }

    /// One top-level line: a directive, a `fields` list or a field assignment.
    fn rule(
        &mut self,
        line: &str,
        err: &dyn Fn(usize, String) -> RulesError,
    ) -> Result<(), RulesError> {
        let (word, rest) = split_rule(line);
        let at = line.len() - rest.len() + 1;
        match word {
            d if DIRECTIVES.contains(&d) => {
                // hledger keeps the first of a repeated directive.
                if !self.given.iter().any(|g| g == d) {
                    self.given.push(d.to_string());
                    self.directive(d, rest).map_err(|m| err(at, m))?;
                }
            }
            "fields" => self.set_fields(rest),
            "end" => self.assignments.push(("end".into(), String::new())),
            field if is_field(field) => {
                self.assignments.push((field.to_string(), rest.to_string()))
            }
            "timezone" | "intra-day-reversed" | "encoding" | "source" | "archive" => {
                let why = format!(
                    "{word}: not a rule of hledger 1.25, whose CSV rules tally reads (it came later)"
                );
                return Err(err(1, why));
            }
            other => {
                return Err(err(
                    1,
                    format!(
                        "unknown rule {other:?} (a field assignment, skip, fields, if, include, …)"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn directive(&mut self, word: &str, value: &str) -> Result<(), String> {
        match word {
            "skip" => self.skip = skip_count(value)?,
            "separator" => {
                self.separator = Some(match value.to_lowercase().as_str() {
                    "tab" | "\\t" => b'\t',
                    "space" => b' ',
                    s if s.len() == 1 => s.as_bytes()[0],
                    s => {
                        return Err(format!(
                            "separator: {s:?} is not one character, TAB or SPACE"
                        ));
                    }
                })
            }
            "date-format" => self.date_format = Some(value.to_string()),
            "decimal-mark" => {
                self.decimal_mark = Some(match value {
                    "." => '.',
                    "," => ',',
                    s => return Err(format!("decimal-mark: {s:?} is not `.` or `,`")),
                })
            }
            "balance-type" => {
                self.balance_type = match value {
                    "=" => BalanceType::Single,
                    "=*" => BalanceType::SingleInclusive,
                    "==" => BalanceType::Total,
                    "==*" => BalanceType::TotalInclusive,
                    s => {
                        return Err(format!(
                            "balance-type {s:?} is invalid: use =, ==, =* or ==*"
                        ));
                    }
                }
            }
            _ => self.newest_first = true,
        }
        Ok(())
    }

    /// `fields`: names the CSV's columns; a column named like an hledger field assigns it from here on.
    fn set_fields(&mut self, list: &str) {
        self.fields = list
            .split(',')
            .map(|f| f.trim().trim_matches('"').to_lowercase())
            .collect();
        for (i, name) in self.fields.iter().enumerate() {
            if is_field(name) {
                self.assignments.push((name.clone(), format!("%{}", i + 1)));
            }
        }
    }

    fn include(
        &mut self,
        path: &Path,
        target: &str,
        depth: usize,
        err: &dyn Fn(usize, String) -> RulesError,
    ) -> Result<(), RulesError> {
        if depth > 8 {
            return Err(err(1, "include: nested too deep".into()));
        }
        let target = path.parent().unwrap_or(Path::new(".")).join(target);
        let included = std::fs::read_to_string(&target)
            .map_err(|e| err(9, format!("include {}: {e}", target.display())))?;
        self.read(&target, &included, depth + 1)
    }

    /// An `if` block: matcher lines (the first may be on the `if` line), then indented rules.
    fn read_block(
        &mut self,
        lines: &[&str],
        mut i: usize,
        (first, n): (&str, usize),
        err: ErrAt,
    ) -> Result<usize, RulesError> {
        let mut matchers = Vec::new();
        if !first.is_empty() {
            matchers.push(matcher(first, false).map_err(|e| err(n, 4, e))?);
        }
        while i < lines.len() && !lines[i].trim().is_empty() && !lines[i].starts_with([' ', '\t']) {
            let l = lines[i].trim_end();
            let (and, text) = match l.strip_prefix('&') {
                Some(t) => (true, t.trim_start()),
                None => (false, l),
            };
            matchers.push(matcher(text, and).map_err(|e| err(i + 1, 1, e))?);
            i += 1;
        }
        if matchers.is_empty() {
            return Err(err(n, 1, "if: no matcher".into()));
        }
        let mut assignments = Vec::new();
        while i < lines.len() && lines[i].starts_with([' ', '\t']) {
            let (l, line_no) = (lines[i].trim(), i + 1);
            i += 1;
            if l.is_empty() {
                continue;
            }
            let col = lines[i - 1].len() - lines[i - 1].trim_start().len() + 1;
            let (word, rest) = split_rule(l);
            match word {
                "skip" => {
                    skip_count(rest).map_err(|m| err(line_no, col + 5, m))?;
                    assignments.push(("skip".to_string(), rest.to_string()));
                }
                "end" => assignments.push(("end".to_string(), String::new())),
                f if is_field(f) => assignments.push((f.to_string(), rest.to_string())),
                _ if l.starts_with(['#', ';']) => {
                    return Err(err(
                        line_no,
                        col,
                        "hledger reads no comment inside an if block".into(),
                    ));
                }
                other => {
                    return Err(err(
                        line_no,
                        col,
                        format!("unknown field {other:?} in an if block"),
                    ));
                }
            }
        }
        if assignments.is_empty() {
            return Err(err(
                n,
                1,
                "if: no rules after it (they must be indented)".into(),
            ));
        }
        self.conditionals.push(Conditional {
            matchers,
            assignments,
        });
        Ok(i)
    }

    /// An `if` table: `if,FIELD,FIELD…` then rows `MATCHER,VALUE,VALUE…` until a blank line.
    fn read_table(
        &mut self,
        lines: &[&str],
        mut i: usize,
        (sep, n): (char, usize),
        err: ErrAt,
    ) -> Result<usize, RulesError> {
        let head: Vec<String> = lines[n - 1]
            .split(sep)
            .skip(1)
            .map(|f| f.trim().to_string())
            .collect();
        if let Some(bad) = head.iter().find(|f| !is_field(f)) {
            return Err(err(n, 1, format!("if table: {bad:?} is not a field")));
        }
        while i < lines.len() && !lines[i].trim().is_empty() {
            let l = lines[i].trim_end();
            i += 1;
            if l.starts_with(['#', ';']) {
                continue;
            }
            let cells: Vec<&str> = l.split(sep).collect();
            if cells.len() != head.len() + 1 {
                return Err(err(
                    i,
                    1,
                    format!(
                        "if table: {} values, the header has {}",
                        cells.len() - 1,
                        head.len()
                    ),
                ));
            }
            let m = matcher(cells[0], false).map_err(|e| err(i, 1, e))?;
            self.conditionals.push(Conditional {
                matchers: vec![m],
                assignments: head
                    .iter()
                    .cloned()
                    .zip(cells[1..].iter().map(|v| v.trim().to_string()))
                    .collect(),
            });
        }
        Ok(i)
    }
}

const DIRECTIVES: &[&str] = &[
    "skip",
    "separator",
    "date-format",
    "decimal-mark",
    "balance-type",
    "newest-first",
];

/// `skip`'s count: none is 1.
fn skip_count(value: &str) -> Result<usize, String> {
    if value.is_empty() {
        return Ok(1);
    }
    value
        .parse()
        .map_err(|_| format!("skip: {value:?} is not a number"))
}

/// `if,` / `if;` / `if|` … start an `if` table: the separator is the character right after `if`.
fn table_separator(line: &str) -> Option<char> {
    let c = line.strip_prefix("if")?.chars().next()?;
    (!c.is_alphanumeric() && !c.is_whitespace()).then_some(c)
}

/// `NAME VALUE`, `NAME: VALUE` or `NAME:VALUE` (hledger's three spellings); a name is letters, digits and `-`.
fn split_rule(line: &str) -> (&str, &str) {
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    match rest.strip_prefix(':') {
        Some(value) => (name, value.trim()),
        None if rest.is_empty() || rest.starts_with([' ', '\t']) => (name, rest.trim()),
        None => (line, ""),
    }
}

/// `account7` → 7, for the numbered fields.
pub fn posting_number(name: &str) -> Option<usize> {
    let base = name.trim_end_matches("-in").trim_end_matches("-out");
    let digits = base.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let stem = &base[..base.len() - digits.len()];
    let n: usize = digits.parse().ok()?;
    let numbered = NUMBERED.contains(&stem) && (base == name || stem == "amount");
    (numbered && (1..=MAX_POSTINGS).contains(&n) && !digits.starts_with('0')).then_some(n)
}

/// Whether `name` is an hledger field a rule can assign.
pub fn is_field(name: &str) -> bool {
    FIELDS.contains(&name) || posting_number(name).is_some()
}

/// A matcher line: `%field REGEX` or a regex on the whole record (case-insensitive, as hledger).
fn matcher(text: &str, and: bool) -> Result<Matcher, String> {
    let text = text.trim();
    let (field, pattern) = match text.strip_prefix('%') {
        Some(rest) => match rest.split_once([' ', '\t']) {
            Some((f, p)) => (Some(f.to_lowercase()), p.trim()),
            None => return Err(format!("{text:?}: a field matcher needs a pattern")),
        },
        None => (None, text),
    };
    let regex = RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .map_err(|e| format!("{pattern:?} is not a regular expression: {e}"))?;
    Ok(Matcher { field, regex, and })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_directive_reads() {
        let text = "skip 1\nfields date, desc, amount\nseparator ;\ndate-format %d/%m/%Y\ndecimal-mark ,\n\
                    newest-first\ncurrency $\naccount1 assets:bank\ndescription %desc\n\n\
                    if WHOLE FOODS\n& %amount -\n  account2 expenses:groceries\n  comment groceries\n\n\
                    if,account2,comment\nnetflix,expenses:subscriptions,tv\nspotify,expenses:subscriptions,music\n";
        let r = Rules::parse(Path::new("bank.rules"), text).expect("reads");
        assert_eq!(r.skip, 1);
        assert_eq!(r.fields, ["date", "desc", "amount"]);
        assert_eq!(r.separator, Some(b';'));
        assert!(r.decimal_mark == Some(',') && r.newest_first);
        assert_eq!(r.conditionals.len(), 3);
        assert!(r.conditionals[0].matchers[1].and);
        assert_eq!(
            r.conditionals[0].matchers[1].field.as_deref(),
            Some("amount")
        );
        assert_eq!(
            r.conditionals[2].assignments[1],
            ("comment".into(), "music".into())
        );
    }

    #[test]
    fn problems_say_where() {
        let e = Rules::parse(Path::new("x.rules"), "skip 1\nbogus thing\n").expect_err("unknown");
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.to_string().starts_with("x.rules:2:1:"), "{e}");
        let e =
            Rules::parse(Path::new("x.rules"), "if (unclosed\n  account2 a\n").expect_err("regex");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn hledger_spellings_read() {
        let text = "skip: 2\nskip 5\nfields: date, Amount1\naccount2:b\naccount3: c\nbalance-type ==*\n\
                    date-format %d\ndate-format %Y\n  # an indented comment\nif x\n skip 3\n end\n account10 d\n";
        let r = Rules::parse(Path::new("x.rules"), text).expect("reads");
        assert_eq!(r.skip, 2, "the first skip wins");
        assert_eq!(
            r.date_format.as_deref(),
            Some("%d"),
            "the first date-format wins"
        );
        assert_eq!(r.balance_type, BalanceType::TotalInclusive);
        let top: Vec<(&str, &str)> = r
            .assignments
            .iter()
            .map(|(f, v)| (f.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            top,
            [
                ("date", "%1"),
                ("amount1", "%2"),
                ("account2", "b"),
                ("account3", "c")
            ]
        );
        let inner: Vec<&str> = r.conditionals[0]
            .assignments
            .iter()
            .map(|(f, _)| f.as_str())
            .collect();
        assert_eq!(inner, ["skip", "end", "account10"]);
    }

    #[test]
    fn numbered_fields_go_to_99() {
        assert!(is_field("account99") && is_field("amount7-out") && is_field("currency2"));
        assert!(!is_field("account0") && !is_field("account100") && !is_field("account1-in"));
        assert!(!is_field("account") && !is_field("amount01"));
    }

    #[test]
    fn what_hledger_refuses_says_where() {
        let at = |text: &str| {
            let e = Rules::parse(Path::new("x.rules"), text).expect_err(text);
            (e.line, e.column)
        };
        assert_eq!(at("fields a, b\ntimezone +0100\n"), (2, 1));
        assert_eq!(at("balance-type =!\n"), (1, 14));
        assert_eq!(at("if x\n # note\n account2 b\n"), (2, 2));
        assert_eq!(at("if x\n\n account2 b\n"), (1, 1));
        assert_eq!(at("if x\n skip many\n"), (2, 7));
        assert_eq!(at("account100 x\n"), (1, 1));
        assert_eq!(at("  account1 x\n"), (1, 1));
    }
}
