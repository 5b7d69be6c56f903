//! Adding a transaction to the journal (`a` in the dashboard): the entry is written in hledger's layout, read back
//! with the journal's own parser on its own first (it must parse and balance, or nothing is written and the reason
//! says where), then appended to the main file under the write lock with the same checked, atomic replace every
//! edit uses — a file another program changed meanwhile is read again and the entry appended to that.

use super::write::{self, Replaced};
use super::{Store, poisoned};
use crate::backend::{BackendError, NewTransaction, Result};
use crate::domain::Transaction;
use std::path::Path;

/// How often an append is tried again when another program keeps writing the file.
const ATTEMPTS: usize = 3;

/// The entry as hledger writes one: date and description, then each posting indented, amounts aligned.
pub fn entry_text(txn: &NewTransaction) -> std::result::Result<String, String> {
    let description = txn.description.trim();
    if description.is_empty() {
        return Err("a description is needed".into());
    }
    if description.contains(['\n', '\r']) {
        return Err("the description must be one line".into());
    }
    let postings: Vec<(&str, &str)> = txn
        .postings
        .iter()
        .map(|(a, m)| (a.trim(), m.trim()))
        .filter(|(a, m)| !a.is_empty() || !m.is_empty())
        .collect();
    if postings.len() < 2 {
        return Err("a transaction needs two postings (accounts)".into());
    }
    for (i, (account, amount)) in postings.iter().enumerate() {
        if account.is_empty() {
            return Err(format!(
                "posting {}: an account is needed for {amount}",
                i + 1
            ));
        }
        if account.contains("  ") || account.contains(['\t', '\n', ';']) {
            return Err(format!(
                "posting {}: {account:?}: an account name has no double spaces, tabs or `;`",
                i + 1
            ));
        }
    }
    if postings.iter().filter(|(_, m)| m.is_empty()).count() > 1 {
        return Err("only one posting may leave its amount out".into());
    }
    let width = postings
        .iter()
        .map(|(a, _)| a.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = format!("{} {description}\n", txn.date);
    for (account, amount) in postings {
        if amount.is_empty() {
            text.push_str(&format!("    {account}\n"));
        } else {
            text.push_str(&format!("    {account:width$}  {amount}\n"));
        }
    }
    Ok(text)
}

/// Reads `entries` alone with the journal's parser: they must make `count` transactions without problems.
pub fn check_entries(path: &Path, entries: &str, count: usize) -> Result<()> {
    let loaded = super::parse::load_text(path, entries);
    // Alone, the entries start from empty balances: their assertions are checked where they land, by the reload.
    if let Some(d) = loaded
        .diagnostics
        .iter()
        .find(|d| !d.message.starts_with("balance assertion failed"))
    {
        return Err(BackendError::Invalid {
            param: "transaction".into(),
            message: format!("line {}: {}", d.line, d.message),
        });
    }
    if loaded.journal.entries.len() != count {
        return Err(BackendError::Invalid {
            param: "transaction".into(),
            message: format!(
                "the text makes {} transactions, not {count}",
                loaded.journal.entries.len()
            ),
        });
    }
    Ok(())
}

/// Reads `entry` alone with the journal's parser: it must make exactly one transaction without problems.
fn check(path: &Path, entry: &str) -> Result<()> {
    let loaded = super::parse::load_text(path, entry);
    if let Some(d) = loaded.diagnostics.first() {
        return Err(BackendError::Invalid {
            param: "transaction".into(),
            message: format!("line {}: {}", d.line, d.message),
        });
    }
    if loaded.journal.entries.len() != 1 {
        return Err(BackendError::Invalid {
            param: "transaction".into(),
            message: "the text does not make one transaction".into(),
        });
    }
    Ok(())
}

impl Store {
    /// Appends `txn` to the main file and reads the journal again; returns the new transaction as read back.
    pub(super) fn add(&self, txn: &NewTransaction) -> Result<Transaction> {
        let entry = entry_text(txn).map_err(|message| BackendError::Invalid {
            param: "transaction".into(),
            message,
        })?;
        check(&self.path, &entry)?;
        self.append(&entry, false)?;
        self.read(|l| {
            let journal = &l.journal;
            // The new entry is the main file's last.
            let last = (0..journal.entries.len() as u32)
                .rev()
                .find(|&i| journal.entries[i as usize].file == 0)
                .ok_or_else(|| BackendError::Io("the added entry was not read back".into()))?;
            Ok(journal.view(last).to_transaction())
        })
    }

    /// Where an added entry goes: the import file when there is one (it must be one of the journal's files), else
    /// the main file.
    fn append_target(&self, import: bool) -> Result<std::path::PathBuf> {
        let Some(file) = self.import_file.as_ref().filter(|_| import) else {
            return Ok(self.path.clone());
        };
        let wanted = std::fs::canonicalize(file).map_err(|source| BackendError::File {
            path: file.clone(),
            source,
        })?;
        let included = self.read(|l| {
            Ok(l.journal
                .files
                .iter()
                .any(|f| std::fs::canonicalize(&f.path).is_ok_and(|p| p == wanted)))
        })?;
        if included {
            Ok(file.clone())
        } else {
            Err(BackendError::Invalid {
                param: "import_file".into(),
                message: format!(
                    "{} is not included by {}: add `include {}` to it, or remove import_file from the profile",
                    file.display(),
                    self.path.display(),
                    file.display()
                ),
            })
        }
    }

    /// Appends `entries` (journal text of whole transactions, already checked) to the main file (or, for an
    /// `import`, the import file) in one checked, atomic write, and reads the journal again — or, for a command that exits after it,
    /// leaves the index stale.
    pub(super) fn append(&self, entry: &str, import: bool) -> Result<()> {
        let _saving = self.saving.lock().map_err(poisoned)?;
        let target = self.append_target(import)?;
        let file_error = |source| BackendError::File {
            path: target.clone(),
            source,
        };
        let _lock = write::lock(&target).map_err(file_error)?;
        for _ in 0..ATTEMPTS {
            let (bytes, snapshot) = write::read_with_snapshot(&target).map_err(file_error)?;
            let mut text = bytes;
            if !text.is_empty() && !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            if !text.is_empty() && !text.ends_with(b"\n\n") {
                text.push(b'\n');
            }
            text.extend_from_slice(entry.as_bytes());
            match write::replace_if_unchanged(&target, &snapshot, &text).map_err(file_error)? {
                Replaced::Changed => continue,
                Replaced::Done { .. } => {
                    let mut l = self.loaded.write().map_err(poisoned)?;
                    if self.follow {
                        self.reload_now(&mut l)?;
                    } else {
                        l.stale = true;
                        self.matches.clear();
                    }
                    return Ok(());
                }
            }
        }
        Err(BackendError::Conflict(format!(
            "{} kept changing while tally was adding to it; nothing was added — try again",
            target.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn txn(postings: &[(&str, &str)]) -> NewTransaction {
        NewTransaction {
            date: NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
            description: "Corner Cafe | lunch".into(),
            postings: postings
                .iter()
                .map(|(a, m)| (a.to_string(), m.to_string()))
                .collect(),
        }
    }

    #[test]
    fn entries_are_written_as_hledger_writes_them() {
        let text = entry_text(&txn(&[
            ("expenses:dining", "$12.50"),
            ("assets:checking", ""),
        ]))
        .expect("valid");
        assert_eq!(
            text,
            "2026-11-30 Corner Cafe | lunch\n    expenses:dining  $12.50\n    assets:checking\n"
        );
        assert!(check(Path::new("x.journal"), &text).is_ok());
    }

    #[test]
    fn bad_entries_say_why() {
        assert!(
            entry_text(&txn(&[("expenses:dining", "$1")])).is_err(),
            "one posting"
        );
        assert!(
            entry_text(&txn(&[("a", ""), ("b", "")])).is_err(),
            "two elided"
        );
        assert!(
            entry_text(&txn(&[("", "$1"), ("b", "")])).is_err(),
            "no account"
        );
        let unbalanced = entry_text(&txn(&[("a", "$1"), ("b", "$2")])).expect("shape is fine");
        let e = check(Path::new("x.journal"), &unbalanced).expect_err("does not balance");
        assert!(e.to_string().contains("line 1"), "{e}");
        let bad_amount = entry_text(&txn(&[("a", "$1x2"), ("b", "")])).expect("shape is fine");
        assert!(check(Path::new("x.journal"), &bad_amount).is_err());
    }
}
