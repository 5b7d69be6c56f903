//! hledger's CSV rules files, read unchanged: `skip`, `fields`, `separator`, `date-format`, `decimal-mark`,
//! `newest-first`, `currency`, field assignments (`account1 assets:bank`, `description %desc %2`), `if` blocks (lines
//! of matchers — a regex on the whole record or `%field regex` — OR'd, a line starting with `&` AND'd to the one
//! before) and `if` tables, and `include`. A problem is reported as `RULES:LINE:COLUMN: what`.

use regex::{Regex, RegexBuilder};
use std::path::{Path, PathBuf};

/// The hledger fields a rule can assign.
pub const FIELDS: &[&str] = &[
    "date",
    "date2",
    "status",
    "code",
    "description",
    "comment",
    "account1",
    "account2",
    "amount",
    "amount-in",
    "amount-out",
    "amount1",
    "amount2",
    "currency",
    "balance",
    "balance1",
];

/// One matcher of an `if`: a regex on the whole record, or on one field (`%name`).
#[derive(Debug, Clone)]
pub struct Matcher {
    pub field: Option<String>,
    pub regex: Regex,
    /// Joined to the matcher before it with AND (`&` at the line's start).
    pub and: bool,
}

/// An `if` block or one row of an `if` table: when its matchers match, its assignments apply (and `skip`).
#[derive(Debug, Clone)]
pub struct Conditional {
    pub matchers: Vec<Matcher>,
    pub assignments: Vec<(String, String)>,
    pub skip: bool,
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
    pub decimal_comma: bool,
    pub newest_first: bool,
    /// Top-level assignments (`account1 assets:bank`), in file order.
    pub assignments: Vec<(String, String)>,
    pub conditionals: Vec<Conditional>,
    pub path: PathBuf,
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

impl Rules {
    /// Reads the rules file at `path` (and what it includes).
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|e| RulesError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        let mut rules = Rules {
            path: path.to_path_buf(),
            ..Rules::default()
        };
        rules.read(path, &text, 0)?;
        Ok(rules)
    }

    /// Reads rules from `text` as the file `path` (tests, and `include`d files through `load`).
    pub fn parse(path: &Path, text: &str) -> Result<Rules, RulesError> {
        let mut rules = Rules {
            path: path.to_path_buf(),
            ..Rules::default()
        };
        rules.read(path, text, 0)?;
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
            let raw = lines[i];
            let n = i + 1;
            i += 1;
            let line = raw.trim_end();
            if line.trim().is_empty() || line.starts_with(['#', ';', '*']) {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                return Err(err(n, 1, "an indented line outside an `if` block".into()));
            }
            let (word, rest) = split_word(line);
            match word {
                "skip" => {
                    self.skip = if rest.is_empty() {
                        1
                    } else {
                        rest.parse()
                            .map_err(|_| err(n, 6, format!("skip: {rest:?} is not a number")))?
                    }
                }
                "fields" => {
                    self.fields = rest
                        .split(',')
                        .map(|f| f.trim().trim_matches('"').to_lowercase())
                        .collect();
                }
                "separator" => {
                    self.separator = Some(match rest {
                        "TAB" | "\\t" => b'\t',
                        "SPACE" => b' ',
                        s if s.len() == 1 => s.as_bytes()[0],
                        s => {
                            return Err(err(
                                n,
                                11,
                                format!("separator: {s:?} is not one character"),
                            ));
                        }
                    })
                }
                "date-format" => self.date_format = Some(rest.to_string()),
                "decimal-mark" => match rest {
                    "," => self.decimal_comma = true,
                    "." => self.decimal_comma = false,
                    s => return Err(err(n, 14, format!("decimal-mark: {s:?} is not `.` or `,`"))),
                },
                "newest-first" => self.newest_first = true,
                "include" => {
                    if depth > 8 {
                        return Err(err(n, 1, "include: nested too deep".into()));
                    }
                    let target = path.parent().unwrap_or(Path::new(".")).join(rest);
                    let included = std::fs::read_to_string(&target)
                        .map_err(|e| err(n, 9, format!("include {}: {e}", target.display())))?;
                    self.read(&target, &included, depth + 1)?;
                }
                _ if line.starts_with("if") && table_separator(line).is_some() => {
                    let sep = table_separator(line).unwrap_or(',');
                    i = self.read_table(&lines, i, (sep, n), &err)?;
                }
                "if" => i = self.read_block(&lines, i, (rest, n), &err)?,
                field if is_field(field) => {
                    self.assignments.push((field.to_string(), rest.to_string()));
                }
                other => {
                    return Err(err(
                        n,
                        1,
                        format!(
                            "unknown rule {other:?} (a field assignment, skip, fields, if, include, …)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// An `if` block: matcher lines (the first may be on the `if` line), then indented assignments.
    fn read_block(
        &mut self,
        lines: &[&str],
        mut i: usize,
        (first, n): (&str, usize),
        err: &dyn Fn(usize, usize, String) -> RulesError,
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
        let mut c = Conditional {
            matchers,
            assignments: Vec::new(),
            skip: false,
        };
        while i < lines.len() && lines[i].starts_with([' ', '\t']) && !lines[i].trim().is_empty() {
            let l = lines[i].trim();
            i += 1;
            if l.starts_with(['#', ';']) {
                continue;
            }
            let (word, rest) = split_word(l);
            match word {
                "skip" | "end" => c.skip = true,
                f if is_field(f) => c.assignments.push((f.to_string(), rest.to_string())),
                other => return Err(err(i, 2, format!("unknown field {other:?} in an if block"))),
            }
        }
        self.conditionals.push(c);
        Ok(i)
    }

    /// An `if` table: `if,FIELD,FIELD…` then rows `MATCHER,VALUE,VALUE…` until a blank line.
    fn read_table(
        &mut self,
        lines: &[&str],
        mut i: usize,
        (sep, n): (char, usize),
        err: &dyn Fn(usize, usize, String) -> RulesError,
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
                skip: false,
            });
        }
        Ok(i)
    }
}

/// `if,` / `if;` / `if|` … start an `if` table: the separator is the character right after `if`.
fn table_separator(line: &str) -> Option<char> {
    let c = line.strip_prefix("if")?.chars().next()?;
    (!c.is_alphanumeric() && !c.is_whitespace()).then_some(c)
}

fn split_word(line: &str) -> (&str, &str) {
    match line.split_once([' ', '\t']) {
        Some((w, rest)) => (w, rest.trim()),
        None => (line, ""),
    }
}

fn is_field(name: &str) -> bool {
    FIELDS.contains(&name)
        || name
            .strip_prefix("account")
            .or_else(|| name.strip_prefix("amount"))
            .or_else(|| name.strip_prefix("comment"))
            .or_else(|| name.strip_prefix("balance"))
            .is_some_and(|n| {
                n.trim_end_matches("-in")
                    .trim_end_matches("-out")
                    .parse::<u8>()
                    .is_ok()
            })
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
        assert!(r.decimal_comma && r.newest_first);
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
}
