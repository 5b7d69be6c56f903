//! Which imported rows the journal already holds: a row is a duplicate of a transaction with the same date, the same
//! amount on the same account and the same description once case, blanks and punctuation are set aside. Matching is
//! one to one — two equal coffees on one day in the CSV are two transactions, and are both duplicates only when the
//! journal has two — so importing the same file twice adds nothing the second time.

use super::reader::Imported;
use crate::domain::Transaction;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// What becomes of one CSV row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    New,
    /// Already in the journal, at this `FILE:LINE`.
    Duplicate(String),
    /// Perhaps already there: the same amount on the same account within three days, a similar payee (the bank
    /// may date it differently or shorten the name). Not imported unless the person says so.
    Possible(String),
}

/// Days apart a possible duplicate may be.
const NEAR_DAYS: i64 = 3;

type Key = (chrono::NaiveDate, String, String, Decimal, String);

/// Lowercase letters and digits only: `WHOLE FOODS #123` and `Whole Foods 123` are the same description.
pub fn normalised(description: &str) -> String {
    description
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn key_of(imported: &Imported) -> Option<Key> {
    let p = imported.postings.first()?;
    Some((
        imported.date,
        p.account.clone(),
        p.currency.trim().to_string(),
        p.quantity.normalize(),
        normalised(&imported.description),
    ))
}

/// The fate of each of `imported`, against `existing` (the journal's transactions over the same dates, and three
/// days either side).
pub fn classify(imported: &[Imported], existing: &[Transaction]) -> Vec<Fate> {
    let mut held: HashMap<Key, Vec<String>> = HashMap::new();
    // (account, commodity, quantity) → the transactions a row may be a possible duplicate of.
    let mut near: Near = HashMap::new();
    for t in existing {
        for p in &t.postings {
            let (commodity, quantity) = (
                p.amount.commodity.trim().to_string(),
                p.amount.quantity.normalize(),
            );
            let key = (
                t.date,
                p.account.clone(),
                commodity.clone(),
                quantity,
                normalised(&t.description),
            );
            held.entry(key).or_default().push(t.source.clone());
            near.entry((p.account.clone(), commodity, quantity))
                .or_default()
                .push(NearTxn {
                    date: t.date,
                    description: normalised(&t.description),
                    first_word: first_word(&t.description),
                    source: t.source.clone(),
                });
        }
    }
    let mut claimed: HashSet<String> = HashSet::new();
    let exact: Vec<Option<String>> = imported
        .iter()
        .map(|row| {
            let source = key_of(row)
                .and_then(|k| held.get_mut(&k))
                .and_then(|sources| sources.pop());
            if let Some(s) = &source {
                claimed.insert(s.clone());
            }
            source
        })
        .collect();
    imported
        .iter()
        .zip(exact)
        .map(|(row, exact)| match exact {
            Some(source) => Fate::Duplicate(source),
            None => match possible(row, &near, &claimed) {
                Some(source) => {
                    claimed.insert(source.clone());
                    Fate::Possible(source)
                }
                None => Fate::New,
            },
        })
        .collect()
}

/// A journal transaction as a possible duplicate is looked for.
struct NearTxn {
    date: chrono::NaiveDate,
    description: String,
    first_word: Option<String>,
    source: String,
}

type Near = HashMap<(String, String, Decimal), Vec<NearTxn>>;

/// The first word of a description, lowercase.
fn first_word(d: &str) -> Option<String> {
    d.split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A transaction not matched yet with the row's amount and account within `NEAR_DAYS`, and a similar payee: one
/// description starts the other, or they share their first word.
fn possible(row: &Imported, near: &Near, claimed: &HashSet<String>) -> Option<String> {
    let p = row.postings.first()?;
    let candidates = near.get(&(
        p.account.clone(),
        p.currency.trim().to_string(),
        p.quantity.normalize(),
    ))?;
    let mine = normalised(&row.description);
    let my_word = first_word(&row.description);
    candidates
        .iter()
        .filter(|t| {
            (t.date - row.date).num_days().abs() <= NEAR_DAYS && !claimed.contains(&t.source)
        })
        .find(|t| {
            mine.starts_with(t.description.as_str())
                || t.description.starts_with(mine.as_str())
                || (my_word.is_some() && t.first_word == my_word)
        })
        .map(|t| t.source.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::reader::ImportedPosting;

    fn row(date: u32, description: &str, cents: i64) -> Imported {
        Imported {
            line: 1,
            date: chrono::NaiveDate::from_ymd_opt(2025, 1, date).expect("date"),
            date2: None,
            status: String::new(),
            code: String::new(),
            description: description.into(),
            comment: String::new(),
            postings: vec![ImportedPosting {
                account: "assets:checking".into(),
                currency: "$".into(),
                quantity: Decimal::new(cents, 2),
                balance: None,
                ..ImportedPosting::default()
            }],
        }
    }

    fn held(date: u32, description: &str, cents: i64, source: &str) -> Transaction {
        let mut t = Transaction {
            id: crate::domain::TxnId(source.into()),
            date: chrono::NaiveDate::from_ymd_opt(2025, 1, date).expect("date"),
            status: crate::domain::Status::Unmarked,
            description: description.into(),
            payee: description.into(),
            note: String::new(),
            code: String::new(),
            tags: vec![],
            postings: vec![],
            category: None,
            source: source.into(),
            needs_review: None,
            read_only: false,
        };
        t.postings.push(crate::domain::Posting {
            account: "assets:checking".into(),
            amount: crate::domain::Money::new(Decimal::new(cents, 2), "$"),
            cost: None,
            kind: crate::domain::PostingKind::Real,
            account_kind: None,
            tags: vec![],
            comment: String::new(),
        });
        t
    }

    #[test]
    fn exact_one_to_one_and_possible_within_three_days() {
        let existing = vec![
            held(5, "Starbucks", -450, "j:1"),
            held(8, "WHOLE FOODS MKT", -5420, "j:5"),
        ];
        let rows = vec![
            row(5, "STARBUCKS", -450),
            row(5, "Starbucks", -450),
            row(6, "Whole Foods #12", -5420),
            row(20, "Whole Foods #12", -5420),
        ];
        assert_eq!(
            classify(&rows, &existing),
            vec![
                Fate::Duplicate("j:1".into()),
                Fate::New,
                Fate::Possible("j:5".into()),
                Fate::New,
            ]
        );
    }
}
