//! Output of the headless commands as aligned text tables, JSON and CSV. JSON shapes are part of tally's scripting
//! surface and stay fixed: quantities are decimal strings, zero amounts are omitted. Text from the data never drives
//! the terminal: tables always show control characters as visible symbols; JSON and CSV carry the data byte for byte
//! into a file or a pipe, and escape it only when stdout is a terminal (`shown` decides, in one place).

use super::{CliError, Format};
use crate::analytics::register::RegisterRow;
use crate::backend::{BreakdownRow, PeriodSummary, TxnPage};
use crate::domain::{Account, Balance};
use crate::text::{clean, is_unsafe};
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;

#[derive(Serialize)]
struct AmountJson<'a> {
    commodity: &'a str,
    quantity: String,
}

fn amounts_json(b: &Balance) -> Vec<AmountJson<'_>> {
    b.non_zero()
        .map(|m| AmountJson {
            commodity: &m.commodity,
            quantity: m.quantity.to_string(),
        })
        .collect()
}

/// How text from the data is written in `format`. A table cell is always cleaned (control characters as control
/// pictures, see `crate::text`). CSV and JSON stay exact when stdout is not a terminal, so a file or a program gets
/// the data byte for byte; on a terminal (`terminal`) a CSV field is cleaned like a table cell, and a JSON document
/// escapes what serde_json leaves raw — DEL, the C1 controls (U+0080–U+009F) and bidirectional overrides — as
/// `\u007f`, `\u009b`, …: still valid JSON that parses back to the same data.
pub fn shown(format: Format, text: &str, terminal: bool) -> Cow<'_, str> {
    match (format, terminal) {
        (Format::Table, _) | (Format::Csv, true) => clean(text),
        (Format::Json, true) => json_escaped(text),
        (Format::Json | Format::Csv, false) => Cow::Borrowed(text),
    }
}

/// A serialised JSON document with every character `clean` would replace written as a `\uXXXX` escape. Outside its
/// strings a JSON document is ASCII, and serde_json has already escaped U+0000–U+001F, so only string contents change.
fn json_escaped(doc: &str) -> Cow<'_, str> {
    if !doc.chars().any(is_unsafe) {
        return Cow::Borrowed(doc);
    }
    let mut out = String::with_capacity(doc.len() + 32);
    for c in doc.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Rows as aligned columns (two spaces apart, padded by display width), every cell cleaned.
fn table(out: &mut impl Write, rows: &[Vec<String>], right_align: &[bool]) -> std::io::Result<()> {
    let rows: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c)).collect())
        .collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(unicode_width::UnicodeWidthStr::width(c.as_ref()));
        }
    }
    for r in &rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            let w = unicode_width::UnicodeWidthStr::width(c.as_ref());
            let pad = " ".repeat(widths[i] - w);
            if i > 0 {
                line.push_str("  ");
            }
            if right_align.get(i).copied().unwrap_or(false) {
                line.push_str(&pad);
                line.push_str(c);
            } else {
                line.push_str(c);
                if i + 1 < r.len() {
                    line.push_str(&pad);
                }
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// One line of table output that is not a cell (a total), cleaned like one.
fn line(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    writeln!(out, "{}", clean(text))
}

/// One JSON document on one line; streamed as it is when not on a terminal.
fn json<T: Serialize + ?Sized>(
    out: &mut impl Write,
    value: &T,
    terminal: bool,
) -> Result<(), CliError> {
    let err = |e: serde_json::Error| CliError::Io(e.into());
    if terminal {
        let doc = serde_json::to_string(value).map_err(err)?;
        out.write_all(shown(Format::Json, &doc, true).as_bytes())?;
    } else {
        serde_json::to_writer(&mut *out, value).map_err(err)?;
    }
    writeln!(out)?;
    Ok(())
}

/// A CSV writer whose fields go through `shown`.
struct Csv<'a> {
    w: csv::Writer<&'a mut dyn Write>,
    terminal: bool,
}

impl<'a> Csv<'a> {
    fn new(out: &'a mut impl Write, terminal: bool) -> Csv<'a> {
        let w: &mut dyn Write = out;
        Csv {
            w: csv::Writer::from_writer(w),
            terminal,
        }
    }

    fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) -> Result<(), CliError> {
        for f in fields {
            let f = shown(Format::Csv, f.as_ref(), self.terminal);
            self.w.write_field(f.as_bytes()).map_err(csv_err)?;
        }
        self.w
            .write_record(std::iter::empty::<&[u8]>())
            .map_err(csv_err)
    }

    fn flush(mut self) -> Result<(), CliError> {
        Ok(self.w.flush()?)
    }
}

fn csv_err(e: csv::Error) -> CliError {
    CliError::Io(std::io::Error::other(e.to_string()))
}

pub fn balances(
    out: &mut impl Write,
    accounts: &[Account],
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Row<'a> {
                account: &'a str,
                amounts: Vec<AmountJson<'a>>,
            }
            let rows: Vec<Row> = accounts
                .iter()
                .map(|a| Row {
                    account: &a.name,
                    amounts: amounts_json(&a.balance),
                })
                .collect();
            json(out, &rows, terminal)?;
        }
        Format::Csv => {
            let mut w = Csv::new(out, terminal);
            w.row(["account", "commodity", "quantity"])?;
            for a in accounts {
                for m in a.balance.non_zero() {
                    w.row([
                        a.name.as_str(),
                        m.commodity.as_str(),
                        &m.quantity.to_string(),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Table => {
            let mut rows = Vec::new();
            let mut total = Balance::new();
            for a in accounts {
                if a.balance.is_zero() {
                    continue;
                }
                total.merge(&a.balance);
                for (i, m) in a.balance.non_zero().enumerate() {
                    let name = if i == 0 {
                        a.name.clone()
                    } else {
                        String::new()
                    };
                    rows.push(vec![m.to_string(), name]);
                }
            }
            rows.push(vec!["--------------------".into(), String::new()]);
            if total.is_zero() {
                rows.push(vec!["0".into(), String::new()]);
            }
            for m in total.non_zero() {
                rows.push(vec![m.to_string(), String::new()]);
            }
            table(out, &rows, &[true, false])?;
        }
    }
    Ok(())
}

pub fn accounts(
    out: &mut impl Write,
    accounts: &[Account],
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Row<'a> {
                account: &'a str,
                kind: crate::domain::AccountKind,
            }
            let rows: Vec<Row> = accounts
                .iter()
                .map(|a| Row {
                    account: &a.name,
                    kind: a.kind,
                })
                .collect();
            json(out, &rows, terminal)?;
        }
        Format::Csv => {
            let mut w = Csv::new(out, terminal);
            w.row(["account", "kind"])?;
            for a in accounts {
                let kind = serde_json::to_value(a.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string));
                w.row([a.name.as_str(), kind.as_deref().unwrap_or("")])?;
            }
            w.flush()?;
        }
        Format::Table => {
            for a in accounts {
                line(out, &a.name)?;
            }
        }
    }
    Ok(())
}

pub fn transactions(
    out: &mut impl Write,
    page: &TxnPage,
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            /// A transaction as the table shows it: every field, plus its signed amount from the holder's side and
            /// the holder's account it moved.
            #[derive(Serialize)]
            struct Row<'a> {
                #[serde(flatten)]
                txn: &'a crate::domain::Transaction,
                amount: Vec<AmountJson<'a>>,
                account: Option<&'a str>,
            }
            let amounts: Vec<Balance> = page.items.iter().map(|t| t.amount()).collect();
            let rows: Vec<Row> = page
                .items
                .iter()
                .zip(&amounts)
                .map(|(t, a)| Row {
                    txn: t,
                    amount: amounts_json(a),
                    account: t.account(),
                })
                .collect();
            json(out, &rows, terminal)?;
        }
        Format::Csv => {
            let mut w = Csv::new(out, terminal);
            w.row([
                "id",
                "date",
                "status",
                "payee",
                "description",
                "category",
                "amount",
                "commodity",
                "tags",
            ])?;
            for t in &page.items {
                let amount = t.amount();
                let first = amount.non_zero().next();
                let tags: Vec<String> = t.tags.iter().map(ToString::to_string).collect();
                w.row([
                    t.id.0.as_str(),
                    &t.date.to_string(),
                    t.status.name(),
                    &t.payee,
                    &t.description,
                    t.category.as_deref().unwrap_or(""),
                    &first.map(|m| m.quantity.to_string()).unwrap_or_default(),
                    first.map(|m| m.commodity.as_str()).unwrap_or(""),
                    &tags.join(","),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut rows = Vec::with_capacity(page.items.len() + 1);
            for t in &page.items {
                let tags: Vec<String> = t.tags.iter().map(ToString::to_string).collect();
                rows.push(vec![
                    t.date.to_string(),
                    t.status.mark().to_string(),
                    t.description.clone(),
                    t.category.clone().unwrap_or_default(),
                    t.amount().to_string(),
                    tags.join(","),
                ]);
            }
            table(out, &rows, &[false, false, false, false, true, false])?;
            line(
                out,
                &format!("{} transactions, sum {}", page.total, page.sum),
            )?;
        }
    }
    Ok(())
}

/// `tally register`: JSON objects `{date, description, account, amount, balance}` (amounts as lists of
/// `{commodity, quantity}`); CSV one line per posting with its commodity; a table with the running balance.
pub fn register(
    out: &mut impl Write,
    rows: &[RegisterRow],
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Row<'a> {
                date: String,
                description: &'a str,
                account: &'a str,
                amount: Vec<AmountJson<'a>>,
                balance: Vec<AmountJson<'a>>,
            }
            let rows: Vec<Row> = rows
                .iter()
                .map(|r| Row {
                    date: r.date.to_string(),
                    description: &r.description,
                    account: &r.account,
                    amount: amounts_json(&r.amount),
                    balance: amounts_json(&r.balance),
                })
                .collect();
            json(out, &rows, terminal)?;
        }
        Format::Csv => {
            let mut w = Csv::new(out, terminal);
            w.row([
                "date",
                "description",
                "account",
                "commodity",
                "amount",
                "balance",
            ])?;
            for r in rows {
                for m in r.amount.amounts() {
                    w.row([
                        r.date.to_string().as_str(),
                        &r.description,
                        &r.account,
                        &m.commodity,
                        &m.quantity.to_string(),
                        &r.balance.get(&m.commodity).to_string(),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.date.to_string(),
                        r.description.clone(),
                        r.account.clone(),
                        r.amount.to_string(),
                        r.balance.to_string(),
                    ]
                })
                .collect();
            table(out, &cells, &[false, false, false, true, true])?;
            let end = rows
                .last()
                .map(|r| r.balance.to_string())
                .unwrap_or_default();
            line(out, &format!("{} postings, balance {end}", rows.len()))?;
        }
    }
    Ok(())
}

/// A row's fate as the output names it, with the `FILE:LINE` of the transaction it duplicates.
fn import_fate(f: &crate::import::RowFate) -> (&'static str, Option<&str>) {
    use crate::import::RowFate;
    match f {
        RowFate::New => ("new", None),
        RowFate::Duplicate(at) => ("duplicate", Some(at.as_str())),
        RowFate::Possible(at) => ("possible duplicate", Some(at.as_str())),
        RowFate::Skipped => ("skipped", None),
    }
}

/// `tally import`: each row's fate (new, duplicate of `FILE:LINE`, skipped by a rule) and the counts; JSON is
/// `{"rows":[{"csv","fate","of","transaction"}],"new","duplicates","possible","skipped","added"}`.
pub fn import(
    out: &mut impl Write,
    (plan, added, dry_run): (&crate::import::Plan, usize, bool),
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    use crate::import::RowFate;
    let new = plan.count(&|f| *f == RowFate::New);
    let dups = plan.count(&|f| matches!(f, RowFate::Duplicate(_)));
    let possible = plan.count(&|f| matches!(f, RowFate::Possible(_)));
    let skipped = plan.count(&|f| *f == RowFate::Skipped);
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct RowJson<'a> {
                csv: &'a str,
                fate: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                of: Option<&'a str>,
                #[serde(skip_serializing_if = "Option::is_none")]
                transaction: Option<String>,
                #[serde(skip_serializing_if = "str::is_empty")]
                import_id: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                matched: Option<&'a str>,
                accepted: bool,
            }
            #[derive(Serialize)]
            struct Summary<'a> {
                rows: Vec<RowJson<'a>>,
                new: usize,
                duplicates: usize,
                possible: usize,
                skipped: usize,
                added: usize,
            }
            let rows = plan
                .rows
                .iter()
                .map(|r| {
                    let (f, of) = import_fate(&r.fate);
                    RowJson {
                        csv: &r.csv,
                        fate: f,
                        of,
                        transaction: r.txn.as_ref().map(|t| t.journal_text()),
                        import_id: &r.import_id,
                        matched: r.matched.as_deref(),
                        accepted: r.accept,
                    }
                })
                .collect();
            let summary = Summary {
                rows,
                new,
                duplicates: dups,
                possible,
                skipped,
                added,
            };
            json(out, &summary, terminal)?;
        }
        Format::Csv | Format::Table => {
            import_table(out, plan, (new, dups, possible, skipped), (added, dry_run))?
        }
    }
    Ok(())
}

/// `tally import`'s table: a line per row (where, its fate, what it is), then the counts.
fn import_table(
    out: &mut impl Write,
    plan: &crate::import::Plan,
    (new, dups, possible, skipped): (usize, usize, usize, usize),
    (added, dry_run): (usize, bool),
) -> Result<(), CliError> {
    let cells: Vec<Vec<String>> = plan
        .rows
        .iter()
        .map(|r| {
            let (f, of) = import_fate(&r.fate);
            let what = r.txn.as_ref().map_or(String::new(), |t| {
                let amount = t
                    .postings
                    .first()
                    .map(|p| crate::domain::Money::new(p.quantity, p.currency.trim()).to_string())
                    .unwrap_or_default();
                let accounts: Vec<&str> = t.postings.iter().map(|p| p.account.as_str()).collect();
                format!(
                    "{} {} {amount} {}",
                    t.date,
                    t.description,
                    accounts.join(" / ")
                )
            });
            let f = match of {
                Some(at) => format!("{f} of {at}"),
                None => f.to_string(),
            };
            vec![r.csv.clone(), f, what]
        })
        .collect();
    table(out, &cells, &[false, false, false])?;
    let taken = if plan.accepted() > new {
        "imported"
    } else {
        "not imported"
    };
    let done = if dry_run {
        "dry run: nothing written".to_string()
    } else {
        format!("{added} added")
    };
    line(
        out,
        &format!(
            "{new} new, {dups} already in the journal, {possible} possible duplicates ({taken}), {skipped} \
             skipped by a rule ({done})"
        ),
    )?;
    Ok(())
}

/// `tally suggest`: JSON `[{"id","category","confidence","evidence"}]`; a table otherwise.
pub fn suggestions(
    out: &mut impl Write,
    rows: &[crate::analytics::suggest::Suggestion],
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    match format {
        Format::Json => json(out, rows, terminal)?,
        Format::Csv => {
            let mut w = Csv::new(out, terminal);
            w.row(["id", "category", "confidence", "evidence"])?;
            for s in rows {
                w.row([
                    s.id.0.as_str(),
                    &s.category,
                    &format!("{:.2}", s.confidence),
                    &s.evidence,
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|s| {
                    vec![
                        s.id.0.clone(),
                        s.category.clone(),
                        format!("{:.0}%", s.confidence * 100.0),
                        s.evidence.clone(),
                    ]
                })
                .collect();
            table(out, &cells, &[false, false, true, false])?;
            line(out, &format!("{} suggestions", rows.len()))?;
        }
    }
    Ok(())
}

/// A period's label as hledger writes it: `2024` for a year, `2024-03` for a month, the first day otherwise.
pub fn period_label(start: chrono::NaiveDate, group: crate::backend::GroupBy) -> String {
    use crate::backend::GroupBy;
    match group {
        GroupBy::Year => start.format("%Y").to_string(),
        GroupBy::Month => start.format("%Y-%m").to_string(),
        GroupBy::Week | GroupBy::Day => start.to_string(),
    }
}

/// `tally summary`: JSON keeps each period's first day (`start`); the table and CSV label it by its length.
pub fn summary(
    out: &mut impl Write,
    (rows, group): (&[PeriodSummary], crate::backend::GroupBy),
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            json(out, rows, terminal)?;
        }
        Format::Csv => {
            let mut w = Csv::new(out, terminal);
            w.row([
                "period",
                "commodity",
                "income",
                "spending",
                "net",
                "transactions",
            ])?;
            for r in rows {
                let mut commodities: Vec<&str> = r
                    .net
                    .amounts()
                    .iter()
                    .map(|m| m.commodity.as_str())
                    .collect();
                commodities.extend(r.spending.amounts().iter().map(|m| m.commodity.as_str()));
                commodities.sort_unstable();
                commodities.dedup();
                for c in commodities {
                    w.row([
                        period_label(r.start, group),
                        c.to_string(),
                        r.income.get(c).to_string(),
                        r.spending.get(c).to_string(),
                        r.net.get(c).to_string(),
                        r.count.to_string(),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Table => {
            let mut t = vec![vec![
                "period".to_string(),
                "income".into(),
                "spending".into(),
                "net".into(),
                "txns".into(),
            ]];
            for r in rows {
                t.push(vec![
                    period_label(r.start, group),
                    r.income.to_string(),
                    r.spending.to_string(),
                    r.net.to_string(),
                    r.count.to_string(),
                ]);
            }
            table(out, &t, &[false, true, true, true, true])?;
        }
    }
    Ok(())
}

pub fn breakdown(
    out: &mut impl Write,
    rows: &[BreakdownRow],
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            json(out, rows, terminal)?;
        }
        Format::Csv => {
            let mut w = Csv::new(out, terminal);
            w.row(["key", "commodity", "total", "transactions"])?;
            for r in rows {
                for m in r.total.non_zero() {
                    w.row([
                        r.key.as_str(),
                        m.commodity.as_str(),
                        &m.quantity.to_string(),
                        &r.count.to_string(),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Table => {
            let mut t = Vec::new();
            for r in rows {
                t.push(vec![
                    r.key.clone(),
                    r.total.to_string(),
                    r.count.to_string(),
                ]);
            }
            table(out, &t, &[false, true, true])?;
        }
    }
    Ok(())
}

pub fn projections(
    out: &mut impl Write,
    p: &crate::analytics::recurring::Projections,
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    use crate::domain::Money;
    match format {
        Format::Json => json(out, p, terminal)?,
        Format::Csv => {
            let mut w = Csv::new(out, terminal);
            w.row(["account", "commodity", "month", "balance"])?;
            for a in &p.accounts {
                for m in &a.months {
                    w.row([
                        a.account.as_str(),
                        a.commodity.as_str(),
                        &m.month.format("%Y-%m").to_string(),
                        &m.balance.to_string(),
                    ])?;
                }
            }
            w.flush()?;
        }
        Format::Table => {
            let mut rows = vec![vec![
                "recurring".to_string(),
                "every".into(),
                "amount".into(),
                "next".into(),
                "evidence".into(),
            ]];
            for r in &p.recurring {
                rows.push(vec![
                    r.payee.clone(),
                    r.cadence.name().to_string(),
                    Money::new(r.amount, r.commodity.clone()).to_string(),
                    r.next.to_string(),
                    r.evidence_text(),
                ]);
            }
            if p.recurring.is_empty() {
                rows.push(vec!["(none found)".into()]);
            }
            table(out, &rows, &[false, false, true, false, false])?;
            writeln!(out)?;
            let months: Vec<String> = p
                .accounts
                .first()
                .map(|a| {
                    a.months
                        .iter()
                        .map(|m| m.month.format("%Y-%m").to_string())
                        .collect()
                })
                .unwrap_or_default();
            let as_of = p.as_of.map_or("—".to_string(), |d| d.to_string());
            let mut head = vec!["account".to_string(), format!("now ({as_of})")];
            head.extend(months);
            let mut rows = vec![head];
            for a in &p.accounts {
                let mut row = vec![
                    a.account.clone(),
                    Money::new(a.balance, a.commodity.clone()).to_string(),
                ];
                row.extend(
                    a.months
                        .iter()
                        .map(|m| Money::new(m.balance, a.commodity.clone()).to_string()),
                );
                rows.push(row);
            }
            let right: Vec<bool> = (0..rows[0].len()).map(|i| i > 0).collect();
            table(out, &rows, &right)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Account, AccountKind};
    use rust_decimal::Decimal;

    const TITLE: &str = "\u{1b}]0;pwned\u{7}";
    const CLIPBOARD: &str = "\u{1b}]52;c;aGVsbG8=\u{7}";

    /// True when `s` holds no character a terminal could act on (newlines end lines and are fine).
    fn harmless(s: &str) -> bool {
        !s.chars()
            .any(|c| c != '\n' && (c.is_control() || crate::text::is_unsafe(c)))
    }

    fn hostile_accounts() -> Vec<Account> {
        let mut balance = Balance::new();
        balance.add(Decimal::new(1050, 2), &format!("EUR{TITLE}"));
        vec![Account {
            name: format!("assets:bank{CLIPBOARD}\u{9b}2J\u{7f}"),
            kind: AccountKind::Asset,
            balance,
            id: String::new(),
        }]
    }

    fn render(format: Format, terminal: bool) -> String {
        let mut out = Vec::new();
        balances(&mut out, &hostile_accounts(), format, terminal).expect("balances");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn tables_are_clean_on_a_terminal_and_off_it() {
        for terminal in [false, true] {
            let table = render(Format::Table, terminal);
            assert!(harmless(&table), "{table:?}");
            assert!(table.contains("10.50 EUR␛]0;pwned␇"), "{table}");
            assert!(
                table.contains("assets:bank␛]52;c;aGVsbG8=␇\u{fffd}2J␡"),
                "{table}"
            );
        }
    }

    #[test]
    fn csv_is_exact_when_piped_and_visible_on_a_terminal() {
        let piped = render(Format::Csv, false);
        assert_eq!(
            piped,
            format!(
                "account,commodity,quantity\nassets:bank{CLIPBOARD}\u{9b}2J\u{7f},EUR{TITLE},10.50\n"
            )
        );
        let shown = render(Format::Csv, true);
        assert!(harmless(&shown), "{shown:?}");
        assert_eq!(
            shown,
            "account,commodity,quantity\nassets:bank␛]52;c;aGVsbG8=␇\u{fffd}2J␡,EUR␛]0;pwned␇,10.50\n"
        );
    }

    #[test]
    fn json_is_exact_when_piped_and_escaped_on_a_terminal() {
        let piped = render(Format::Json, false);
        assert!(
            piped.contains("\\u001b]52;c;aGVsbG8=\\u0007\u{9b}2J\u{7f}"),
            "{piped}"
        );
        let shown = render(Format::Json, true);
        assert!(harmless(&shown), "{shown:?}");
        assert!(
            shown.contains("\\u001b]52;c;aGVsbG8=\\u0007\\u009b2J\\u007f"),
            "{shown}"
        );
        let a: serde_json::Value = serde_json::from_str(&piped).expect("piped JSON");
        let b: serde_json::Value = serde_json::from_str(&shown).expect("terminal JSON");
        assert_eq!(a, b);
        assert_eq!(a[0]["amounts"][0]["commodity"], format!("EUR{TITLE}"));
    }

    #[test]
    fn shown_decides_per_format_and_terminal() {
        let s = "a\u{1b}[2J\u{9b}\u{7f}\u{202e}\u{200b}b";
        assert_eq!(
            shown(Format::Table, s, false),
            "a␛[2J\u{fffd}␡\u{fffd}\u{200b}b"
        );
        assert_eq!(
            shown(Format::Table, s, true),
            shown(Format::Table, s, false)
        );
        assert_eq!(shown(Format::Csv, s, true), shown(Format::Table, s, false));
        assert!(matches!(shown(Format::Csv, s, false), Cow::Borrowed(x) if x == s));
        assert!(matches!(shown(Format::Json, s, false), Cow::Borrowed(x) if x == s));
        let doc = serde_json::to_string(s).expect("json");
        let escaped = shown(Format::Json, &doc, true);
        assert_eq!(escaped, "\"a\\u001b[2J\\u009b\\u007f\\u202e\u{200b}b\"");
        assert_eq!(serde_json::from_str::<String>(&escaped).expect("parse"), s);
    }
}

/// What `tally reconcile` did besides looking: the write (`--apply`), or what it would write.
pub enum ReconcileOutcome {
    Applied(crate::reconcile::session::Applied),
    /// `None` when nothing could be written (no exact set).
    Planned(Option<crate::reconcile::session::Plan>),
}

impl ReconcileOutcome {
    /// Where the assertion goes (or went), or why there is none; `None` without an exact set.
    fn assertion(&self) -> Option<&Result<crate::reconcile::AccountPosting, String>> {
        match self {
            ReconcileOutcome::Applied(a) => Some(&a.assertion),
            ReconcileOutcome::Planned(p) => p.as_ref().map(|p| &p.assertion),
        }
    }
}

#[derive(Serialize)]
struct MoneyJson<'a> {
    commodity: &'a str,
    quantity: String,
}

fn money_json(m: &crate::domain::Money) -> MoneyJson<'_> {
    MoneyJson {
        commodity: &m.commodity,
        quantity: m.quantity.normalize().to_string(),
    }
}

#[derive(Serialize)]
struct PostingJson<'a> {
    date: String,
    description: &'a str,
    amount: MoneyJson<'a>,
    location: &'a str,
    status: &'static str,
    id: &'a str,
}

fn posting_json(p: &crate::reconcile::AccountPosting) -> PostingJson<'_> {
    PostingJson {
        date: p.date.to_string(),
        description: &p.description,
        amount: money_json(&p.amount),
        location: &p.location,
        status: p.status.name(),
        id: &p.id.0,
    }
}

/// `tally reconcile`'s JSON document; `last` is the statement reconciled before this run, if one is known.
fn reconcile_json<'a>(
    loaded: &'a crate::reconcile::session::Loaded,
    outcome: &'a ReconcileOutcome,
    last: Option<&crate::reconcile::Statement>,
) -> serde_json::Value {
    let r = &loaded.reconciliation;
    let list = |v: &'a [crate::reconcile::AccountPosting]| -> Vec<PostingJson<'a>> {
        v.iter().map(posting_json).collect()
    };
    let applied = match outcome {
        ReconcileOutcome::Applied(a) => serde_json::json!({
            "cleared": r.proposal.len(),
            "changed": a.applied.result.changed,
        }),
        ReconcileOutcome::Planned(_) => serde_json::Value::Null,
    };
    let remembered = match outcome {
        ReconcileOutcome::Applied(a) => match &a.remembered {
            Some(Ok(())) => serde_json::json!({ "written": true }),
            Some(Err(why)) => serde_json::json!({ "written": false, "reason": why }),
            None => serde_json::Value::Null,
        },
        ReconcileOutcome::Planned(_) => serde_json::Value::Null,
    };
    let assertion = match outcome.assertion() {
        Some(Ok(at)) => serde_json::json!({
            "written": matches!(outcome, ReconcileOutcome::Applied(_)),
            "location": at.location,
            "balance": money_json(&r.statement.balance),
            "inclusive": loaded.inclusive,
        }),
        Some(Err(why)) => serde_json::json!({ "written": false, "reason": why }),
        None => serde_json::Value::Null,
    };
    serde_json::json!({
        "account": r.statement.account,
        "date": r.statement.date.to_string(),
        "balance": money_json(&r.statement.balance),
        "cleared": money_json(&r.cleared),
        "difference": money_json(&r.difference),
        "exact": r.exact,
        "proposal": list(&r.proposal),
        "search": r.search,
        "closest": r.closest.as_ref().map(posting_json),
        "typo": r.typo.as_ref().map(|t| serde_json::json!({
            "posting": posting_json(&t.posting),
            "likely": money_json(&t.likely),
            "kind": t.kind,
            "with": list(&t.with),
        })),
        "outstanding": list(&r.outstanding),
        "assertion": assertion,
        "applied": applied,
        "last_statement": last.map(|s| serde_json::json!({
            "date": s.date.to_string(),
            "balance": money_json(&s.balance),
        })),
        "remembered": remembered,
    })
}

/// The typo hint in a sentence: which posting, what it reads, what it likely is.
fn typo_text(t: &crate::reconcile::Typo) -> String {
    let with = if t.with.is_empty() {
        String::new()
    } else {
        let others: Vec<String> = t
            .with
            .iter()
            .map(|p| format!("{} at {}", p.amount, p.location))
            .collect();
        format!(" (with {})", others.join(", "))
    };
    format!(
        "likely typo: {} {:?} at {} reads {}, probably {} ({}){with}",
        t.posting.date,
        t.posting.description,
        t.posting.location,
        t.posting.amount,
        t.likely,
        t.kind.describe()
    )
}

fn posting_cells(p: &crate::reconcile::AccountPosting) -> Vec<String> {
    vec![
        format!("  {}", p.date),
        p.description.clone(),
        p.amount.to_string(),
        p.location.clone(),
    ]
}

/// The statement reconciled before this run, in a line.
fn last_text(last: Option<&crate::reconcile::Statement>) -> String {
    match last {
        Some(s) => format!("last reconciled: {} {}", s.date, s.balance),
        None => "last reconciled: none known".into(),
    }
}

/// What became of the statement on a backend without assertions, in a line (none for a journal, or before a write).
fn remembered_text(outcome: &ReconcileOutcome, s: &crate::reconcile::Statement) -> Option<String> {
    let ReconcileOutcome::Applied(a) = outcome else {
        return None;
    };
    Some(match a.remembered.as_ref()? {
        Ok(()) => format!(
            "statement remembered as the last reconciled: {} {}",
            s.date, s.balance
        ),
        Err(why) => format!("statement not remembered: {why}"),
    })
}

/// `tally reconcile` as text: the balances and the last statement reconciled, the proposal (or the closest posting
/// and a typo), what is outstanding, and what was (or would be) written or remembered.
fn reconcile_table(
    out: &mut impl Write,
    (loaded, outcome, last): Shown<'_>,
) -> Result<(), CliError> {
    let r = &loaded.reconciliation;
    let s = &r.statement;
    table(
        out,
        &[
            vec!["account".into(), s.account.clone()],
            vec!["statement".into(), format!("{}  {}", s.date, s.balance)],
            vec!["cleared".into(), r.cleared.to_string()],
            vec!["difference".into(), r.difference.to_string()],
        ],
        &[false, false],
    )?;
    line(out, &last_text(last))?;
    let cells = |v: &[crate::reconcile::AccountPosting]| -> Vec<Vec<String>> {
        v.iter().map(posting_cells).collect()
    };
    if r.exact && r.proposal.is_empty() {
        line(
            out,
            "proposal: nothing to clear, the cleared balance agrees",
        )?;
    } else if r.exact {
        line(
            out,
            &format!(
                "proposal: {} posting(s) make up the difference exactly:",
                r.proposal.len()
            ),
        )?;
        table(out, &cells(&r.proposal), &[false, false, true, false])?;
    } else {
        line(
            out,
            &format!("proposal: no exact set — {}", r.why_not_exact()),
        )?;
        if let Some(c) = &r.closest {
            line(out, "closest single posting:")?;
            table(out, &[posting_cells(c)], &[false, false, true, false])?;
        }
    }
    if let Some(t) = &r.typo {
        line(out, &typo_text(t))?;
    }
    if !r.outstanding.is_empty() {
        // The table lists the newest few (the oldest are rarely the ones a statement is missing); JSON lists all.
        const SHOWN: usize = 25;
        let n = r.outstanding.len();
        let more = if n > SHOWN {
            format!(", the newest {SHOWN} (--format json lists all)")
        } else {
            String::new()
        };
        line(
            out,
            &format!("outstanding: {n} uncleared posting(s) not on the statement{more}:"),
        )?;
        let newest = &r.outstanding[n.saturating_sub(SHOWN)..];
        table(out, &cells(newest), &[false, false, true, false])?;
    }
    let applied = matches!(outcome, ReconcileOutcome::Applied(_));
    if applied {
        line(
            out,
            &format!("marked {} transaction(s) cleared", r.proposal.len()),
        )?;
    }
    match outcome.assertion() {
        Some(Ok(at)) => line(
            out,
            &format!(
                "balance assertion {} {} on the posting at {}",
                if applied {
                    "written:"
                } else {
                    "to write with --apply:"
                },
                s.balance,
                at.location
            ),
        )?,
        Some(Err(why)) => line(out, &format!("no balance assertion: {why}"))?,
        None => {}
    }
    if let Some(text) = remembered_text(outcome, s) {
        line(out, &text)?;
    }
    Ok(())
}

/// What `tally reconcile` shows: the reconciliation, what was done with it, and the statement reconciled before.
pub type Shown<'a> = (
    &'a crate::reconcile::session::Loaded,
    &'a ReconcileOutcome,
    Option<&'a crate::reconcile::Statement>,
);

pub fn reconcile(
    out: &mut impl Write,
    shown: Shown<'_>,
    format: Format,
    terminal: bool,
) -> Result<(), CliError> {
    let (loaded, outcome, last) = shown;
    match format {
        Format::Json => json(out, &reconcile_json(loaded, outcome, last), terminal),
        Format::Table => reconcile_table(out, shown),
        Format::Csv => {
            let r = &loaded.reconciliation;
            let mut w = Csv::new(out, terminal);
            w.row([
                "role",
                "date",
                "description",
                "commodity",
                "amount",
                "location",
            ])?;
            let roles = [("proposal", &r.proposal), ("outstanding", &r.outstanding)];
            for (role, list) in roles {
                for p in list.iter() {
                    w.row([
                        role,
                        p.date.to_string().as_str(),
                        &p.description,
                        &p.amount.commodity,
                        &p.amount.quantity.to_string(),
                        &p.location,
                    ])?;
                }
            }
            w.flush()
        }
    }
}
