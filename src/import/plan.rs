//! What `tally import` will do with each CSV row — new, already in the journal (with its `FILE:LINE`), possibly there,
//! or skipped by a rule — and doing it: every accepted row (new rows unless the person says otherwise) appended to
//! the journal (its main file, or the profile's `import_file`) in one checked, atomic write, each with its import id
//! as a tag.

use super::dedup::{Fate, IMPORT_ID_TAG, Wanted, classify};
use super::reader::{CsvError, Imported, read};
use super::rules::{Rules, RulesError};
use crate::backend::{Backend, BackendError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What happens to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowFate {
    New,
    /// Already in the journal at this `FILE:LINE`.
    Duplicate(String),
    /// Perhaps already there (`dedup::Fate::Possible`): not imported unless accepted.
    Possible(String),
    /// A rule said `skip`.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `CSV:LINE`.
    pub csv: String,
    pub txn: Option<Imported>,
    pub fate: RowFate,
    /// Appended when the plan is applied: new rows unless the person says otherwise.
    pub accept: bool,
    /// Kept as the `import-id` tag of the transaction it becomes.
    pub import_id: String,
    /// The journal transaction a duplicate or possible duplicate is of, as a person recognises it (date,
    /// description, amount), so the choice can be made without opening the file.
    pub matched: Option<String>,
}

/// Every row of every CSV, in order, with its fate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub rows: Vec<Row>,
}

impl Plan {
    pub fn count(&self, fate: &dyn Fn(&RowFate) -> bool) -> usize {
        self.rows.iter().filter(|r| fate(&r.fate)).count()
    }

    /// The rows that will be appended.
    pub fn accepted(&self) -> usize {
        self.rows.iter().filter(|r| r.accept).count()
    }

    /// Takes the possible duplicates too (`--accept-possible`; the preview's choice row by row).
    pub fn accept_possible(&mut self) {
        for r in &mut self.rows {
            if matches!(r.fate, RowFate::Possible(_)) {
                r.accept = true;
            }
        }
    }
}

/// The rules file for `csv`: the one given, else `CSV.rules` beside it (as hledger looks for it).
fn rules_for(csv: &Path, given: Option<&Path>) -> PathBuf {
    given.map_or_else(
        || PathBuf::from(format!("{}.rules", csv.display())),
        Path::to_path_buf,
    )
}

/// Reads each CSV with its rules and sets each row against the journal.
pub async fn plan(
    backend: &dyn Backend,
    csvs: &[PathBuf],
    rules: Option<&Path>,
) -> Result<Plan, ImportError> {
    let mut plan = Plan::default();
    for csv in csvs {
        let rules = Rules::load(&rules_for(csv, rules))?;
        let text = std::fs::read_to_string(csv).map_err(|source| ImportError::Read {
            path: csv.display().to_string(),
            source,
        })?;
        let got = read(csv, &text, &rules)?;
        let ids = import_ids(&got.imported);
        let rows: Vec<(&Imported, &str)> = got
            .imported
            .iter()
            .zip(ids.iter().map(String::as_str))
            .collect();
        let held = backend.held(Wanted::of(&rows)).await?;
        let fates = classify(&rows, &held);
        for ((t, id), fate) in got.imported.iter().zip(&ids).zip(fates) {
            let fate = match fate {
                Fate::New => RowFate::New,
                Fate::Duplicate(at) => RowFate::Duplicate(at),
                Fate::Possible(at) => RowFate::Possible(at),
            };
            let matched = match &fate {
                RowFate::Duplicate(at) | RowFate::Possible(at) => described(&held, at),
                _ => None,
            };
            plan.rows.push(Row {
                csv: format!("{}:{}", csv.display(), t.line),
                accept: fate == RowFate::New,
                fate,
                matched,
                import_id: id.clone(),
                txn: Some(t.clone()),
            });
        }
        plan.rows
            .extend(got.skipped.iter().map(|l| skipped(csv, *l)));
    }
    Ok(plan)
}

/// The journal transaction at `source` as a person recognises it: `2025-01-08 PG&E -$85.79`.
fn described(held: &[super::dedup::Held], source: &str) -> Option<String> {
    let h = held.iter().find(|h| h.source == source)?;
    let amount = crate::domain::Money::new(h.quantity, h.commodity.clone());
    Some(format!("{} {} {amount}", h.date, h.description))
}

/// Each row's import id: its record's fingerprint, and its occurrence when the file holds the same record again
/// (two equal coffees on one day are `…` and `…-2`).
fn import_ids(imported: &[Imported]) -> Vec<String> {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    imported
        .iter()
        .map(|t| {
            let n = seen.entry(t.fingerprint).or_default();
            *n += 1;
            match *n {
                1 => format!("{:016x}", t.fingerprint),
                n => format!("{:016x}-{n}", t.fingerprint),
            }
        })
        .collect()
}

fn skipped(csv: &Path, line: usize) -> Row {
    Row {
        csv: format!("{}:{line}", csv.display()),
        txn: None,
        fate: RowFate::Skipped,
        matched: None,
        accept: false,
        import_id: String::new(),
    }
}

/// What appending did: how many transactions, and the journal's problems after it (a balance assertion from the
/// CSV's running balance that the journal's history does not reach, say), `FILE:LINE:COLUMN: message` each.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub added: usize,
    /// Of those, how many the review queue holds (unmarked or pending, or without a category): rules that clear
    /// and categorise leave the rest nothing to review.
    pub to_review: usize,
    pub problems: Vec<String>,
}

/// Whether the transaction `t` becomes is in the review queue: unmarked or pending, or without a category.
fn needs_review(t: &Imported) -> bool {
    use crate::domain::{Status, account_kind, category_of, review_needed};
    let status = match t.status.trim() {
        "*" => Status::Cleared,
        "!" => Status::Pending,
        _ => Status::Unmarked,
    };
    let category = category_of(t.postings.iter().map(|p| p.account.as_str()));
    let transfer = t.postings.len() >= 2
        && t.postings
            .iter()
            .all(|p| account_kind(&p.account).is_real());
    review_needed(status, false, category, transfer, None)
}

/// The journal text of an accepted row: the transaction with its import id as a tag on a comment line of its own
/// (the rules' comment stays as it is).
fn entry_text(row: &Row, t: &Imported) -> String {
    let text = t.journal_text();
    let (header, rest) = text.split_once('\n').unwrap_or((&text, ""));
    format!("{header}\n    ; {IMPORT_ID_TAG}:{}\n{rest}", row.import_id)
}

/// Appends the plan's accepted rows to the journal in one write.
pub async fn apply(backend: &dyn Backend, plan: &Plan) -> Result<Applied, ImportError> {
    let new: Vec<(&Row, &Imported)> = plan
        .rows
        .iter()
        .filter(|r| r.accept)
        .filter_map(|r| Some((r, r.txn.as_ref()?)))
        .collect();
    if new.is_empty() {
        return Ok(Applied::default());
    }
    let text = new
        .iter()
        .map(|(r, t)| entry_text(r, t))
        .collect::<Vec<_>>()
        .join("\n");
    // Only a balance assertion can make the journal say something new: without one it is not read again.
    let asserts = new
        .iter()
        .any(|(_, t)| t.postings.iter().any(|p| p.balance.is_some()));
    let before = if asserts {
        backend.diagnostics().await.len()
    } else {
        0
    };
    backend.append_entries(text, new.len()).await?;
    let problems = if asserts {
        backend.diagnostics().await
    } else {
        Vec::new()
    };
    Ok(Applied {
        added: new.len(),
        to_review: new.iter().filter(|(_, t)| needs_review(t)).count(),
        problems: if problems.len() > before {
            problems.iter().map(ToString::to_string).collect()
        } else {
            Vec::new()
        },
    })
}
