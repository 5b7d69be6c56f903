//! Output of the headless commands as aligned text tables, JSON and CSV. JSON shapes are part of tally's scripting
//! surface and stay fixed: quantities are decimal strings, zero amounts are omitted. Text from the data is sanitised
//! before it reaches a terminal, so control characters in a description cannot drive the terminal.

use super::{CliError, Format};
use crate::backend::{BreakdownRow, PeriodSummary, TxnPage};
use crate::domain::{Account, Balance};
use serde::Serialize;
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

/// Replaces control characters (including ESC) with visible placeholders.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                char::from_u32(0x2400 + (c as u32 & 0x1f)).unwrap_or('?')
            } else {
                c
            }
        })
        .collect()
}

fn table(out: &mut impl Write, rows: &[Vec<String>], right_align: &[bool]) -> std::io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(unicode_width::UnicodeWidthStr::width(c.as_str()));
        }
    }
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            let w = unicode_width::UnicodeWidthStr::width(c.as_str());
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

/// One JSON document on one line.
fn json<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, value).map_err(|e| CliError::Io(e.into()))?;
    writeln!(out)?;
    Ok(())
}

fn csv_writer(out: &mut impl Write) -> csv::Writer<&mut dyn Write> {
    let w: &mut dyn Write = out;
    csv::Writer::from_writer(w)
}

fn csv_err(e: csv::Error) -> CliError {
    CliError::Io(std::io::Error::other(e.to_string()))
}

pub fn balances(
    out: &mut impl Write,
    accounts: &[Account],
    format: Format,
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
            json(out, &rows)?;
        }
        Format::Csv => {
            let mut w = csv_writer(out);
            w.write_record(["account", "commodity", "quantity"])
                .map_err(csv_err)?;
            for a in accounts {
                for m in a.balance.non_zero() {
                    w.write_record([
                        a.name.as_str(),
                        m.commodity.as_str(),
                        &m.quantity.to_string(),
                    ])
                    .map_err(csv_err)?;
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
                        sanitize(&a.name)
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
            json(out, &rows)?;
        }
        Format::Csv => {
            let mut w = csv_writer(out);
            w.write_record(["account", "kind"]).map_err(csv_err)?;
            for a in accounts {
                let kind = serde_json::to_value(a.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string));
                w.write_record([a.name.as_str(), kind.as_deref().unwrap_or("")])
                    .map_err(csv_err)?;
            }
            w.flush()?;
        }
        Format::Table => {
            for a in accounts {
                writeln!(out, "{}", sanitize(&a.name))?;
            }
        }
    }
    Ok(())
}

pub fn transactions(out: &mut impl Write, page: &TxnPage, format: Format) -> Result<(), CliError> {
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
            json(out, &rows)?;
        }
        Format::Csv => {
            let mut w = csv_writer(out);
            w.write_record([
                "id",
                "date",
                "status",
                "payee",
                "description",
                "category",
                "amount",
                "commodity",
                "tags",
            ])
            .map_err(csv_err)?;
            for t in &page.items {
                let amount = t.amount();
                let first = amount.non_zero().next();
                let tags: Vec<String> = t.tags.iter().map(ToString::to_string).collect();
                w.write_record([
                    t.id.0.as_str(),
                    &t.date.to_string(),
                    t.status.name(),
                    &t.payee,
                    &t.description,
                    t.category.as_deref().unwrap_or(""),
                    &first.map(|m| m.quantity.to_string()).unwrap_or_default(),
                    first.map(|m| m.commodity.as_str()).unwrap_or(""),
                    &tags.join(","),
                ])
                .map_err(csv_err)?;
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
                    sanitize(&t.description),
                    sanitize(t.category.as_deref().unwrap_or("")),
                    t.amount().to_string(),
                    sanitize(&tags.join(",")),
                ]);
            }
            table(out, &rows, &[false, false, false, false, true, false])?;
            writeln!(out, "{} transactions, sum {}", page.total, page.sum)?;
        }
    }
    Ok(())
}

pub fn summary(
    out: &mut impl Write,
    rows: &[PeriodSummary],
    format: Format,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            json(out, rows)?;
        }
        Format::Csv => {
            let mut w = csv_writer(out);
            w.write_record([
                "period",
                "commodity",
                "income",
                "spending",
                "net",
                "transactions",
            ])
            .map_err(csv_err)?;
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
                    w.write_record([
                        r.start.to_string(),
                        c.to_string(),
                        r.income.get(c).to_string(),
                        r.spending.get(c).to_string(),
                        r.net.get(c).to_string(),
                        r.count.to_string(),
                    ])
                    .map_err(csv_err)?;
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
                    r.start.to_string(),
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
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            json(out, rows)?;
        }
        Format::Csv => {
            let mut w = csv_writer(out);
            w.write_record(["key", "commodity", "total", "transactions"])
                .map_err(csv_err)?;
            for r in rows {
                for m in r.total.non_zero() {
                    w.write_record([
                        r.key.as_str(),
                        m.commodity.as_str(),
                        &m.quantity.to_string(),
                        &r.count.to_string(),
                    ])
                    .map_err(csv_err)?;
                }
            }
            w.flush()?;
        }
        Format::Table => {
            let mut t = Vec::new();
            for r in rows {
                t.push(vec![
                    sanitize(&r.key),
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
) -> Result<(), CliError> {
    use crate::domain::Money;
    match format {
        Format::Json => json(out, p)?,
        Format::Csv => {
            let mut w = csv_writer(out);
            w.write_record(["account", "commodity", "month", "balance"])
                .map_err(csv_err)?;
            for a in &p.accounts {
                for m in &a.months {
                    w.write_record([
                        a.account.as_str(),
                        a.commodity.as_str(),
                        &m.month.format("%Y-%m").to_string(),
                        &m.balance.to_string(),
                    ])
                    .map_err(csv_err)?;
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
                    sanitize(&r.payee),
                    r.cadence.name().to_string(),
                    Money::new(r.amount, r.commodity.clone()).to_string(),
                    r.next.to_string(),
                    sanitize(&r.evidence_text()),
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
                    sanitize(&a.account),
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
