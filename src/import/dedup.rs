//! Which imported rows the journal already holds. A row is a duplicate of a transaction that carries its import id
//! (the `import-id` tag tally writes on what it imports, so a transaction renamed or re-dated since is still
//! recognised), or that has the same date, the same amount on the same account and the same description once case,
//! blanks and punctuation are set aside. Matching is one to one — two equal coffees on one day in the CSV are two
//! transactions, and are both duplicates only when the journal has two — so importing the same file twice adds nothing
//! the second time. The journal is asked only for the postings that could match (`Wanted`), never for every
//! transaction of the CSV's dates.

use super::reader::Imported;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// The tag an imported transaction carries its import id in.
pub const IMPORT_ID_TAG: &str = "import-id";

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
pub const NEAR_DAYS: u64 = 3;

/// What a set of rows could duplicate: postings dated `from..=to` with one of `amounts` (account, quantity), and
/// transactions tagged with one of `ids`.
#[derive(Debug, Default)]
pub struct Wanted {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub amounts: HashSet<(String, Decimal)>,
    pub ids: HashSet<String>,
}

impl Wanted {
    /// What `rows` (with their import ids) could duplicate.
    pub fn of(rows: &[(&Imported, &str)]) -> Wanted {
        let near = chrono::Days::new(NEAR_DAYS);
        let mut w = Wanted::default();
        for (row, id) in rows {
            let first = row.date.checked_sub_days(near);
            w.from = match (w.from, first) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            w.to = w.to.max(row.date.checked_add_days(near));
            if let Some(p) = row.postings.first() {
                w.amounts
                    .insert((p.account.clone(), p.quantity.normalize()));
            }
            if !id.is_empty() {
                w.ids.insert((*id).to_string());
            }
        }
        w
    }
}

/// A journal transaction's posting a row may duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub date: NaiveDate,
    pub account: String,
    pub commodity: String,
    pub quantity: Decimal,
    pub description: String,
    /// `FILE:LINE`.
    pub source: String,
    /// The transaction's `import-id` tag, if it has one.
    pub import_id: Option<String>,
}

type Key = (NaiveDate, String, String, Decimal, String);

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

/// The fate of each of `rows` (a row and its import id), against `held` (what the journal gave for `Wanted::of`).
pub fn classify(rows: &[(&Imported, &str)], held: &[Held]) -> Vec<Fate> {
    let mut by_id: HashMap<&str, &str> = HashMap::new();
    let mut by_key: HashMap<Key, Vec<&str>> = HashMap::new();
    // (account, commodity, quantity) → the postings a row may be a possible duplicate of.
    let mut near: HashMap<(&str, &str, Decimal), Vec<NearTxn>> = HashMap::new();
    for h in held {
        if let Some(id) = &h.import_id {
            by_id.entry(id).or_insert(&h.source);
        }
        let key = (
            h.date,
            h.account.clone(),
            h.commodity.trim().to_string(),
            h.quantity.normalize(),
            normalised(&h.description),
        );
        by_key.entry(key).or_default().push(&h.source);
        near.entry((&h.account, h.commodity.trim(), h.quantity.normalize()))
            .or_default()
            .push(NearTxn {
                date: h.date,
                description: normalised(&h.description),
                first_word: first_word(&h.description),
                source: &h.source,
            });
    }
    let mut claimed: HashSet<&str> = HashSet::new();
    // Import ids first, then exact matches, each claiming what it matched; possible duplicates from what is left.
    let mut fates: Vec<Option<Fate>> = rows
        .iter()
        .map(|(_, id)| {
            let source = by_id.get(id).copied().filter(|s| claimed.insert(s))?;
            Some(Fate::Duplicate(source.to_string()))
        })
        .collect();
    for ((row, _), fate) in rows.iter().zip(fates.iter_mut()) {
        if fate.is_none() {
            let sources = key_of(row).and_then(|k| by_key.get_mut(&k));
            let source = sources.and_then(|s| {
                let at = s.iter().position(|s| !claimed.contains(s))?;
                Some(s.remove(at))
            });
            if let Some(s) = source {
                claimed.insert(s);
                *fate = Some(Fate::Duplicate(s.to_string()));
            }
        }
    }
    rows.iter()
        .zip(fates)
        .map(|((row, _), fate)| {
            fate.unwrap_or_else(|| match possible(row, &near, &claimed) {
                Some(source) => {
                    claimed.insert(source);
                    Fate::Possible(source.to_string())
                }
                None => Fate::New,
            })
        })
        .collect()
}

/// A journal transaction as a possible duplicate is looked for.
struct NearTxn<'h> {
    date: NaiveDate,
    description: String,
    first_word: Option<String>,
    source: &'h str,
}

/// The first word of a description, lowercase.
fn first_word(d: &str) -> Option<String> {
    d.split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A transaction not matched yet with the row's amount and account within `NEAR_DAYS`, and a similar payee: one
/// description starts the other, or they share their first word.
fn possible<'h>(
    row: &Imported,
    near: &HashMap<(&str, &str, Decimal), Vec<NearTxn<'h>>>,
    claimed: &HashSet<&str>,
) -> Option<&'h str> {
    let p = row.postings.first()?;
    let candidates = near.get(&(
        p.account.as_str(),
        p.currency.trim(),
        p.quantity.normalize(),
    ))?;
    let mine = normalised(&row.description);
    let my_word = first_word(&row.description);
    candidates
        .iter()
        .filter(|t| {
            (t.date - row.date).num_days().unsigned_abs() <= NEAR_DAYS
                && !claimed.contains(t.source)
        })
        .find(|t| {
            mine.starts_with(t.description.as_str())
                || t.description.starts_with(mine.as_str())
                || (my_word.is_some() && t.first_word == my_word)
        })
        .map(|t| t.source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::reader::ImportedPosting;

    fn row(date: u32, description: &str, cents: i64) -> Imported {
        Imported {
            line: 1,
            fingerprint: 0,
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

    fn held(date: u32, description: &str, cents: i64, source: &str) -> Held {
        Held {
            date: chrono::NaiveDate::from_ymd_opt(2025, 1, date).expect("date"),
            account: "assets:checking".into(),
            commodity: "$".into(),
            quantity: Decimal::new(cents, 2),
            description: description.into(),
            source: source.into(),
            import_id: None,
        }
    }

    fn with_ids(rows: &[Imported]) -> Vec<(&Imported, &str)> {
        rows.iter().map(|r| (r, "")).collect()
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
            classify(&with_ids(&rows), &existing),
            vec![
                Fate::Duplicate("j:1".into()),
                Fate::New,
                Fate::Possible("j:5".into()),
                Fate::New,
            ]
        );
    }

    #[test]
    fn an_import_id_finds_a_renamed_and_redated_transaction() {
        let mut renamed = held(9, "Coffee with Ann", -450, "j:7");
        renamed.import_id = Some("abc".into());
        let rows = [row(5, "STARBUCKS", -450), row(5, "STARBUCKS", -450)];
        let with: Vec<(&Imported, &str)> = vec![(&rows[0], "abc"), (&rows[1], "abc-2")];
        assert_eq!(
            classify(&with, &[renamed]),
            vec![Fate::Duplicate("j:7".into()), Fate::New]
        );
        let wanted = Wanted::of(&with);
        assert_eq!(wanted.ids.len(), 2);
        assert_eq!(wanted.from, chrono::NaiveDate::from_ymd_opt(2025, 1, 2));
        assert_eq!(wanted.to, chrono::NaiveDate::from_ymd_opt(2025, 1, 8));
    }
}
