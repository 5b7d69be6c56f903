//! Bank CSV through a rules file into transactions, as hledger 1.25's CSV reader makes them. The CSV (a leading BOM
//! and CRLF line endings allowed, quoted fields may hold separators and new lines, quoting as strict as hledger's
//! RFC 4180: a stray quote is an error) is read into records; empty ones
//! are dropped, the first `skip` are headers, and a record of fewer than two fields is an error. Each record's
//! hledger fields come from the top-level assignments (a `fields` list assigns the hledger fields it names) and then
//! every matching `if` (later ones win); templates take `%name` and `%N`. A matching `end` stops reading, `skip N`
//! leaves out this record and the N-1 after it. Dates as `date` says (`date-format`), the description on one line,
//! comments with `\n` as new lines, status `*`, `!` or nothing; postings as `postings` says. Transactions come out
//! in date order, same-day ones in CSV order (a newest-first file reversed). A problem names `CSV:LINE` and the field.

use super::amount::{Amount, Cost};
use super::postings::{self, Assigned, FieldError};
use super::rules::{BalanceType, Conditional, Rules};
use crate::domain::PostingKind;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::Path;

/// One CSV record made into a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The CSV line it came from (1-based).
    pub line: usize,
    /// A hash of the record's fields as the bank wrote them (not as the rules made them): with its occurrence in
    /// the file, the import id (`plan`).
    pub fingerprint: u64,
    pub date: NaiveDate,
    pub date2: Option<NaiveDate>,
    pub status: String,
    pub code: String,
    pub description: String,
    /// The transaction's comment (lines joined by `\n`).
    pub comment: String,
    pub postings: Vec<ImportedPosting>,
}

/// One posting: account, amount (with its cost), balance assertion and comment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportedPosting {
    /// The account name, without the brackets of a virtual posting.
    pub account: String,
    pub currency: String,
    pub quantity: Decimal,
    /// The balance assertion after the amount (`balance`, `balanceN`), or a balance assignment when `inferred`.
    pub balance: Option<Assertion>,
    pub kind: PostingKind,
    pub cost: Option<Cost>,
    pub comment: String,
    /// No amount was given: the journal infers it (`quantity` holds it when one commodity balances the others).
    pub inferred: bool,
}

/// A balance assertion: `= AMOUNT`, or `=*`, `==`, `==*` as `balance-type` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub amount: Amount,
    pub kind: BalanceType,
}

/// A CSV problem: `FILE:LINE: field: what`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {field}: {message}")]
pub struct CsvError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// What reading one CSV file gave: the transactions, and the records a rule skipped (by line).
#[derive(Debug, Default)]
pub struct Read {
    pub imported: Vec<Imported>,
    pub skipped: Vec<usize>,
}

/// What the rules make of one record.
enum Fate {
    Keep(Assigned),
    /// `skip N`: this record and N-1 more.
    Skip(usize),
    /// `end`: no more records.
    End,
}

/// Reads `csv` (the text of the file `path`) with `rules`.
pub fn read(path: &Path, csv: &str, rules: &Rules) -> Result<Read, CsvError> {
    let fail = |line: usize, (field, message): FieldError| CsvError {
        file: path.display().to_string(),
        line,
        field,
        message,
    };
    let separator = rules
        .separator
        .unwrap_or(match path.extension().and_then(|e| e.to_str()) {
            Some("tsv") => b'\t',
            Some("ssv") => b';',
            _ => b',',
        });
    let csv = csv.trim_start_matches('\u{feff}');
    check_quoting(csv, char::from(separator))
        .map_err(|(line, why)| fail(line, ("record".into(), why)))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .from_reader(csv.as_bytes());
    let names = column_names(rules);
    let (mut out, mut headers, mut skipping) = (Read::default(), rules.skip, 0);
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            fail(line, ("record".into(), e.to_string()))
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if headers > 0 {
            headers -= 1;
            continue;
        }
        if record.len() < 2 {
            let why = "has fewer than two fields (is the separator right?)".to_string();
            return Err(fail(line, ("record".into(), why)));
        }
        if skipping > 0 {
            skipping -= 1;
            out.skipped.push(line);
            continue;
        }
        let values: Vec<String> = record.iter().map(str::to_string).collect();
        match fate(rules, &names, &values) {
            Fate::End => {
                out.skipped.push(line);
                break;
            }
            Fate::Skip(n) => {
                out.skipped.push(line);
                skipping = n.saturating_sub(1);
            }
            Fate::Keep(fields) => {
                let mut t = transaction(rules, &fields).map_err(|e| fail(line, e))?;
                t.line = line;
                t.fingerprint = fingerprint(&values);
                out.imported.push(t);
            }
        }
    }
    // hledger lists a file in date order: newest-first files (or ones whose dates run backwards) are reversed so
    // same-day records keep their order.
    let backwards = out
        .imported
        .first()
        .zip(out.imported.last())
        .is_some_and(|(a, b)| a.date > b.date);
    if rules.newest_first || backwards {
        out.imported.reverse();
    }
    out.imported.sort_by_key(|t| t.date);
    Ok(out)
}

/// A stable hash of a record's fields (the same on every machine and run).
fn fingerprint(values: &[String]) -> u64 {
    let joined = values.join("\u{1f}");
    crate::backend::ledger::content_hash(joined.trim().as_bytes()) as u64
}

/// RFC 4180 quoting, which hledger holds to and the `csv` crate forgives: a quote only opens a field, a closing
/// quote ends it (`""` inside is a quote), and every opened quote is closed. The problem's line, and what it is.
fn check_quoting(text: &str, separator: char) -> Result<(), (usize, String)> {
    let (mut line, mut opened_at) = (1, 0);
    let (mut field_start, mut quoted) = (true, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                '"' => {
                    quoted = false;
                    if chars
                        .peek()
                        .is_some_and(|n| !matches!(n, '\n' | '\r') && *n != separator)
                    {
                        return Err((line, "a character after a field's closing quote".into()));
                    }
                }
                '\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if field_start => (quoted, opened_at, field_start) = (true, line, false),
            '"' => {
                return Err((
                    line,
                    "a quote inside a field that does not start with one".into(),
                ));
            }
            '\n' => (line, field_start) = (line + 1, true),
            c => field_start = c == separator,
        }
    }
    if quoted {
        return Err((opened_at, "a quoted field is never closed".into()));
    }
    Ok(())
}

/// The CSV's column names (`fields`) → their index.
fn column_names(rules: &Rules) -> HashMap<String, usize> {
    let mut names = HashMap::new();
    for (i, n) in rules.fields.iter().enumerate() {
        if !n.is_empty() {
            names.entry(n.clone()).or_insert(i);
        }
    }
    names
}

/// `%name` and `%N` in `template`, from the record.
fn interpolate(template: &str, names: &HashMap<String, usize>, values: &[String]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        let key = &after[..len];
        let value = match key.parse::<usize>() {
            Ok(n) if n >= 1 => values.get(n - 1).cloned(),
            _ => names
                .get(&key.to_lowercase())
                .and_then(|&i| values.get(i).cloned()),
        };
        match value {
            Some(v) if !key.is_empty() => out.push_str(v.trim()),
            _ => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

fn matches(c: &Conditional, names: &HashMap<String, usize>, values: &[String]) -> bool {
    let whole = values.join(",");
    // OR of AND-groups: a matcher with `and` joins the group of the one before it.
    let mut any = false;
    let mut group = true;
    for (i, m) in c.matchers.iter().enumerate() {
        if i > 0 && !m.and {
            any |= group;
            group = true;
        }
        let hay = match &m.field {
            Some(f) => interpolate(&format!("%{f}"), names, values),
            None => whole.clone(),
        };
        group &= m.regex.is_match(&hay);
    }
    any | group
}

/// The hledger fields of one record after every rule, or its `skip` / `end`.
fn fate(rules: &Rules, names: &HashMap<String, usize>, values: &[String]) -> Fate {
    let matched = rules
        .conditionals
        .iter()
        .filter(|c| matches(c, names, values))
        .flat_map(|c| c.assignments.iter());
    let mut fields = Assigned::new();
    for (field, template) in rules.assignments.iter().chain(matched) {
        fields.insert(
            field.clone(),
            interpolate(template, names, values).trim().to_string(),
        );
    }
    if fields.contains_key("end") {
        return Fate::End;
    }
    match fields.get("skip") {
        // The rules parser took only numbers (or nothing) for `skip`.
        Some(n) => Fate::Skip(n.parse().unwrap_or(1)),
        None => Fate::Keep(fields),
    }
}

fn transaction(rules: &Rules, f: &Assigned) -> Result<Imported, FieldError> {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let date_format = rules.date_format.as_deref();
    let date =
        super::date::parse(&get("date"), date_format).map_err(|m| ("date".to_string(), m))?;
    let date2 = match get("date2") {
        d if d.is_empty() => None,
        d => Some(super::date::parse(&d, date_format).map_err(|m| ("date2".to_string(), m))?),
    };
    let status = get("status");
    if !matches!(status.as_str(), "" | "*" | "!") {
        let why = format!("{status:?} is not a status (*, ! or nothing)");
        return Err(("status".into(), why));
    }
    let mut postings = postings::postings(rules, f)?;
    postings::balance(&mut postings).map_err(|m| ("postings".to_string(), m))?;
    Ok(Imported {
        line: 0,
        fingerprint: 0,
        date,
        date2,
        status,
        code: get("code"),
        // hledger keeps a description on one line: its lines trimmed and joined by spaces.
        description: get("description")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        comment: get("comment").replace("\\n", "\n"),
        postings,
    })
}

/// `text` as a journal comment: after `  ; ` on the line, then each further line as an indented `; ` line.
fn comment_text(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut lines = text.split('\n');
    let mut out = match lines.next() {
        Some(first) if !first.is_empty() => format!("  ; {first}"),
        _ => String::new(),
    };
    for l in lines {
        out.push_str(&format!("\n    ; {l}"));
    }
    out
}

impl ImportedPosting {
    /// The posting as a journal line (and its comment lines).
    fn journal_text(&self) -> String {
        let account = match self.kind {
            PostingKind::Real => self.account.clone(),
            PostingKind::Virtual => format!("({})", self.account),
            PostingKind::BalancedVirtual => format!("[{}]", self.account),
        };
        let mut text = format!("    {account}");
        if !self.inferred {
            let amount = Amount {
                currency: self.currency.clone(),
                quantity: self.quantity,
                cost: self.cost.clone(),
            };
            text.push_str(&format!("  {}", amount.journal_text()));
        }
        if let Some(b) = &self.balance {
            let gap = if self.inferred { "  " } else { " " };
            text.push_str(&format!(
                "{gap}{} {}",
                b.kind.symbol(),
                b.amount.journal_text()
            ));
        }
        text + &comment_text(&self.comment)
    }
}

impl Imported {
    /// The transaction as journal text, in hledger's layout (amounts with `.` as decimal mark).
    pub fn journal_text(&self) -> String {
        let mut head = self.date.to_string();
        if let Some(d2) = self.date2 {
            head.push_str(&format!("={d2}"));
        }
        if !self.status.is_empty() {
            head.push_str(&format!(" {}", self.status));
        }
        if !self.code.is_empty() {
            head.push_str(&format!(" ({})", self.code));
        }
        if !self.description.is_empty() {
            head.push_str(&format!(" {}", self.description));
        }
        let mut text = head + &comment_text(&self.comment) + "\n";
        for p in &self.postings {
            text.push_str(&p.journal_text());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_take_names_and_numbers() {
        let names: HashMap<String, usize> = [("desc".to_string(), 1)].into_iter().collect();
        let values = vec!["2025-01-05".to_string(), " Coffee ".to_string()];
        assert_eq!(
            interpolate("%desc at %1 (%x)", &names, &values),
            "Coffee at 2025-01-05 (%x)"
        );
    }
}
