//! What `tally import` will do with each CSV row — new, already in the journal (with its `FILE:LINE`), or skipped by a
//! rule — and doing it: every new row appended to the journal's main file in one checked, atomic write.

use super::dedup::{Fate, classify};
use super::reader::{CsvError, Imported, read};
use super::rules::{Rules, RulesError};
use crate::backend::journal::JournalBackend;
use crate::backend::{Backend, BackendError, PageRequest};
use crate::query::{DateRange, Query, Term};
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
    /// Perhaps already there (`dedup::Fate::Possible`): reported, not imported.
    Possible(String),
    /// A rule said `skip`.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// `CSV:LINE`.
    pub csv: String,
    pub txn: Option<Imported>,
    pub fate: RowFate,
}

/// Every row of every CSV, in order, with its fate.
#[derive(Debug, Default)]
pub struct Plan {
    pub rows: Vec<Row>,
}

impl Plan {
    pub fn count(&self, fate: &dyn Fn(&RowFate) -> bool) -> usize {
        self.rows.iter().filter(|r| fate(&r.fate)).count()
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
    backend: &JournalBackend,
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
        let (Some(first), Some(last)) = (
            got.imported.iter().map(|t| t.date).min(),
            got.imported.iter().map(|t| t.date).max(),
        ) else {
            plan.rows
                .extend(got.skipped.iter().map(|l| skipped(csv, *l)));
            continue;
        };
        let range = Query {
            terms: vec![Term::Date(DateRange {
                // Possible duplicates may be dated a few days apart.
                start: first.checked_sub_days(chrono::Days::new(3)),
                end: last.checked_add_days(chrono::Days::new(4)),
            })],
            source: String::new(),
        };
        let existing = backend
            .transactions(&range, PageRequest::all())
            .await?
            .items;
        let fates = classify(&got.imported, &existing);
        for (t, fate) in got.imported.into_iter().zip(fates) {
            plan.rows.push(Row {
                csv: format!("{}:{}", csv.display(), t.line),
                fate: match fate {
                    Fate::New => RowFate::New,
                    Fate::Duplicate(at) => RowFate::Duplicate(at),
                    Fate::Possible(at) => RowFate::Possible(at),
                },
                txn: Some(t),
            });
        }
        plan.rows
            .extend(got.skipped.iter().map(|l| skipped(csv, *l)));
    }
    Ok(plan)
}

fn skipped(csv: &Path, line: usize) -> Row {
    Row {
        csv: format!("{}:{line}", csv.display()),
        txn: None,
        fate: RowFate::Skipped,
    }
}

/// What appending did: how many transactions, and the journal's problems after it (a balance assertion from the
/// CSV's running balance that the journal's history does not reach, say), `FILE:LINE:COLUMN: message` each.
#[derive(Debug, Default)]
pub struct Applied {
    pub added: usize,
    pub problems: Vec<String>,
}

/// Appends the plan's new rows to the journal in one write.
pub async fn apply(backend: &JournalBackend, plan: &Plan) -> Result<Applied, ImportError> {
    let new: Vec<&Imported> = plan
        .rows
        .iter()
        .filter(|r| r.fate == RowFate::New)
        .filter_map(|r| r.txn.as_ref())
        .collect();
    if new.is_empty() {
        return Ok(Applied::default());
    }
    let text: String = new
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i == 0 {
                t.journal_text()
            } else {
                format!("\n{}", t.journal_text())
            }
        })
        .collect();
    let before = backend.load_diagnostics().len();
    backend.append(text, new.len()).await?;
    let problems = backend.load_diagnostics();
    Ok(Applied {
        added: new.len(),
        problems: if problems.len() > before {
            problems.iter().map(ToString::to_string).collect()
        } else {
            Vec::new()
        },
    })
}
