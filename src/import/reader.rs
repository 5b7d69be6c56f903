//! Bank CSV through a rules file into transactions, as hledger's CSV reader makes them: each record's fields are
//! named by `fields` (a name that is an hledger field assigns it), then the top-level assignments and every matching
//! `if` apply in order (later ones win); templates take `%name` and `%N`. Amounts: `amount`, or `amount-in` /
//! `amount-out` (the one that is not empty or zero), parentheses or a leading `-` for negative, the `currency`
//! prefixed, `decimal-mark ,` read; posting 2 balances posting 1; an account left unset is `expenses:unknown` or
//! `income:unknown` by its amount's sign. A problem names `CSV:LINE` and the field.

use super::rules::{Conditional, Rules};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

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
    pub comment: String,
    /// (account, commodity text, quantity, balance assertion text) of each posting.
    pub postings: Vec<ImportedPosting>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPosting {
    pub account: String,
    pub currency: String,
    pub quantity: Decimal,
    /// `= AMOUNT` after the amount, from `balance`.
    pub balance: Option<(String, Decimal)>,
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

/// Reads `csv` (the text of the file `path`) with `rules`.
pub fn read(path: &Path, csv: &str, rules: &Rules) -> Result<Read, CsvError> {
    let separator = rules
        .separator
        .unwrap_or(match path.extension().and_then(|e| e.to_str()) {
            Some("tsv") => b'\t',
            Some("ssv") => b';',
            _ => b',',
        });
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .from_reader(csv.as_bytes());
    let mut out = Read::default();
    for (index, record) in reader.records().enumerate() {
        let line = index + 1;
        let record = record.map_err(|e| CsvError {
            file: path.display().to_string(),
            line,
            field: "record".into(),
            message: e.to_string(),
        })?;
        if index < rules.skip || record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let values: Vec<String> = record.iter().map(str::to_string).collect();
        match transaction(rules, &values).map_err(|(field, message)| CsvError {
            file: path.display().to_string(),
            line,
            field,
            message,
        })? {
            Some(mut t) => {
                t.line = line;
                t.fingerprint = fingerprint(&values);
                out.imported.push(t);
            }
            None => out.skipped.push(line),
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

/// The hledger fields of one record after every rule; `None` when a rule skips it.
fn assigned(rules: &Rules, values: &[String]) -> Option<HashMap<String, String>> {
    let names: HashMap<String, usize> = rules
        .fields
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.is_empty())
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let mut fields: HashMap<String, String> = HashMap::new();
    for (name, &i) in &names {
        if super::rules::FIELDS.contains(&name.as_str()) {
            fields.insert(name.clone(), values.get(i).cloned().unwrap_or_default());
        }
    }
    for (field, template) in &rules.assignments {
        fields.insert(field.clone(), interpolate(template, &names, values));
    }
    for c in rules
        .conditionals
        .iter()
        .filter(|c| matches(c, &names, values))
    {
        if c.skip {
            return None;
        }
        for (field, template) in &c.assignments {
            fields.insert(field.clone(), interpolate(template, &names, values));
        }
    }
    Some(fields)
}

type FieldError = (String, String);

fn transaction(rules: &Rules, values: &[String]) -> Result<Option<Imported>, FieldError> {
    let Some(f) = assigned(rules, values) else {
        return Ok(None);
    };
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let date = parse_date(&get("date"), rules.date_format.as_deref())
        .map_err(|m| ("date".to_string(), m))?;
    let date2 = match get("date2") {
        d if d.is_empty() => None,
        d => Some(
            parse_date(&d, rules.date_format.as_deref()).map_err(|m| ("date2".to_string(), m))?,
        ),
    };
    let currency = f.get("currency").cloned().unwrap_or_default();
    let amount = amount1(&get, rules.decimal_comma)?;
    let balance = match get("balance") {
        b if b.is_empty() => None,
        b => Some((
            currency.clone(),
            number(&b, rules.decimal_comma).map_err(|m| ("balance".to_string(), m))?,
        )),
    };
    let account = |name: &str, q: Decimal| match get(name) {
        a if a.is_empty() => if q.is_sign_negative() {
            "income:unknown"
        } else {
            "expenses:unknown"
        }
        .to_string(),
        a => a,
    };
    let postings = vec![
        ImportedPosting {
            account: account("account1", amount),
            currency: currency.clone(),
            quantity: amount,
            balance,
        },
        ImportedPosting {
            account: account("account2", -amount),
            currency,
            quantity: -amount,
            balance: None,
        },
    ];
    Ok(Some(Imported {
        line: 0,
        fingerprint: 0,
        date,
        date2,
        status: get("status"),
        code: get("code"),
        description: get("description"),
        comment: get("comment"),
        postings,
    }))
}

/// Posting 1's amount: `amount` (or `amount1`), else `amount-in` minus `amount-out`, whichever is given.
fn amount1(get: &dyn Fn(&str) -> String, decimal_comma: bool) -> Result<Decimal, FieldError> {
    let parse = |field: &str| -> Result<Option<Decimal>, FieldError> {
        let text = get(field);
        if text.is_empty() {
            return Ok(None);
        }
        number(&text, decimal_comma)
            .map(Some)
            .map_err(|m| (field.to_string(), m))
    };
    if let Some(a) = parse("amount")?.or(parse("amount1")?) {
        return Ok(a);
    }
    let (inflow, outflow) = (parse("amount-in")?, parse("amount-out")?);
    match (
        inflow.filter(|q| !q.is_zero()),
        outflow.filter(|q| !q.is_zero()),
    ) {
        (Some(i), None) => Ok(i),
        (None, Some(o)) => Ok(-o),
        (None, None) => Ok(inflow.or(outflow).unwrap_or_default()),
        (Some(_), Some(_)) => Err((
            "amount-in".into(),
            "both amount-in and amount-out have a value".into(),
        )),
    }
}

/// A number as a bank writes it: `-4.50`, `(4.50)`, `+4.50`, `$4.50`, `1,234.56` (or `1.234,56` with
/// `decimal-mark ,`), `--4.50` (a negated negative).
fn number(text: &str, decimal_comma: bool) -> Result<Decimal, String> {
    let mut t = text.trim().to_string();
    let mut negative = false;
    if t.starts_with('(') && t.ends_with(')') {
        negative = true;
        t = t[1..t.len() - 1].to_string();
    }
    let digits: String = t
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | ','))
        .collect();
    let mut body = digits.as_str();
    while let Some(rest) = body.strip_prefix(['-', '+']) {
        if body.starts_with('-') {
            negative = !negative;
        }
        body = rest;
    }
    let (group, decimal) = if decimal_comma {
        ('.', ',')
    } else {
        (',', '.')
    };
    let plain: String = body
        .chars()
        .filter(|c| *c != group)
        .map(|c| if c == decimal { '.' } else { c })
        .collect();
    let q = Decimal::from_str(&plain).map_err(|_| format!("{text:?} is not an amount"))?;
    Ok(if negative { -q } else { q })
}

fn parse_date(text: &str, format: Option<&str>) -> Result<NaiveDate, String> {
    if text.is_empty() {
        return Err("no date".into());
    }
    if let Some(f) = format {
        // hledger's `%-d`/`%-m` (no padding) read as chrono's `%d`/`%m`, which accept one digit too.
        let f = f.replace("%-", "%");
        return NaiveDate::parse_from_str(text, &f)
            .map_err(|e| format!("{text:?} does not match date-format {f:?} ({e})"));
    }
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
        .ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD; or give date-format)"))
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
        if !self.comment.is_empty() {
            head.push_str(&format!("  ; {}", self.comment));
        }
        let mut text = head + "\n";
        for p in &self.postings {
            let money = |c: &str, q: Decimal| format!("{c}{q}");
            text.push_str(&format!(
                "    {}  {}",
                p.account,
                money(&p.currency, p.quantity)
            ));
            if let Some((c, b)) = &p.balance {
                text.push_str(&format!(" = {}", money(c, *b)));
            }
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_numbers_read() {
        let d = |s: &str| Decimal::from_str(s).expect("decimal");
        assert_eq!(number("-4.50", false), Ok(d("-4.50")));
        assert_eq!(number("(4.50)", false), Ok(d("-4.50")));
        assert_eq!(number("$1,234.56", false), Ok(d("1234.56")));
        assert_eq!(number("1.234,56", true), Ok(d("1234.56")));
        assert_eq!(number("--4.50", false), Ok(d("4.50")));
        assert!(number("abc", false).is_err());
    }

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
