//! Which imported rows the journal already holds: a row is a duplicate of a transaction with the same date, the same
//! amount on the same account and the same description once case, blanks and punctuation are set aside. Matching is
//! one to one — two equal coffees on one day in the CSV are two transactions, and are both duplicates only when the
//! journal has two — so importing the same file twice adds nothing the second time.

use super::reader::Imported;
use crate::domain::Transaction;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// What becomes of one CSV row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    New,
    /// Already in the journal, at this `FILE:LINE`.
    Duplicate(String),
}

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

/// The fate of each of `imported`, against `existing` (the journal's transactions over the same dates).
pub fn classify(imported: &[Imported], existing: &[Transaction]) -> Vec<Fate> {
    let mut held: HashMap<Key, Vec<String>> = HashMap::new();
    for t in existing {
        for p in &t.postings {
            let key = (
                t.date,
                p.account.clone(),
                p.amount.commodity.trim().to_string(),
                p.amount.quantity.normalize(),
                normalised(&t.description),
            );
            held.entry(key).or_default().push(t.source.clone());
        }
    }
    imported
        .iter()
        .map(|row| {
            match key_of(row)
                .and_then(|k| held.get_mut(&k))
                .and_then(|sources| sources.pop())
            {
                Some(source) => Fate::Duplicate(source),
                None => Fate::New,
            }
        })
        .collect()
}
