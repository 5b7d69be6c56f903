//! Promote to rule (issue 13, point 5): a categorised transaction becomes an hledger CSV rule — an `if` block matching
//! its payee's leading words (regex-escaped, case-insensitive as hledger matches) that sets `account2` to its
//! category — appended to a rules file the person chooses, so the next import categorises such rows by itself. The
//! file is read with the new block by tally's own rules reader before anything is written, and written in one
//! checked, atomic replace (a rules file is the person's file too: nothing in it is lost).

use super::rules::{Rules, RulesError};
use crate::backend::journal::write::{self, Replaced};
use std::path::Path;

/// An `if` block: when a record matches `pattern`, posting 2 goes to `account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub pattern: String,
    pub account: String,
}

/// At most this many words of the payee go into the pattern.
const WORDS: usize = 3;

impl Rule {
    /// The rule for a transaction described `description` with category `category`: the payee's leading words up
    /// to the first that holds a digit or `#` (a store number or a date changes from row to row). `None` when no
    /// word is left.
    pub fn propose(description: &str, category: &str) -> Option<Rule> {
        let payee = description.split('|').next().unwrap_or(description);
        let words: Vec<&str> = payee
            .split_whitespace()
            .take_while(|w| !w.chars().any(|c| c.is_ascii_digit() || c == '#'))
            .take(WORDS)
            .collect();
        let category = category.trim();
        if words.is_empty() || category.is_empty() {
            return None;
        }
        Some(Rule {
            pattern: regex::escape(&words.join(" ")),
            account: category.to_string(),
        })
    }

    /// The block as it is written to the rules file.
    pub fn text(&self) -> String {
        format!("if {}\n  account2 {}\n", self.pattern, self.account)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error("{path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file with the block would not read (it did not before, or the block does not fit in it).
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error("{0} kept changing while tally was adding the rule; nothing was added — try again")]
    Changed(String),
}

/// What appending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    Added,
    /// The file holds this very block already.
    AlreadyThere,
}

/// Appends `rule` to the rules file at `path` (created when missing) after checking the result reads.
pub fn append(path: &Path, rule: &Rule) -> Result<Appended, PromoteError> {
    let file_error = |source| PromoteError::File {
        path: path.display().to_string(),
        source,
    };
    if !path.exists() {
        std::fs::write(path, "").map_err(file_error)?;
    }
    let _lock = write::lock(path).map_err(file_error)?;
    for _ in 0..3 {
        let (bytes, snapshot) = write::read_with_snapshot(path).map_err(file_error)?;
        let old = String::from_utf8_lossy(&bytes);
        if old.contains(&rule.text()) {
            return Ok(Appended::AlreadyThere);
        }
        let mut text = old.into_owned();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        if !text.is_empty() && !text.ends_with("\n\n") {
            text.push('\n');
        }
        text.push_str(&rule.text());
        Rules::parse(path, &text)?;
        match write::replace_if_unchanged(path, &snapshot, text.as_bytes()).map_err(file_error)? {
            Replaced::Changed => continue,
            Replaced::Done { .. } => return Ok(Appended::Added),
        }
    }
    Err(PromoteError::Changed(path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payee_words_before_a_number_escaped() {
        let r = Rule::propose("WHOLE FOODS #123 SAN JOSE", "expenses:groceries").expect("rule");
        assert_eq!(r.pattern, "WHOLE FOODS");
        assert_eq!(r.text(), "if WHOLE FOODS\n  account2 expenses:groceries\n");
        let r = Rule::propose("H.E.B. (web) STORE 4 AUSTIN", "expenses:groceries").expect("rule");
        assert_eq!(r.pattern, "H\\.E\\.B\\. \\(web\\) STORE");
        let r = Rule::propose("Trader Joe's | weekly shop", "expenses:groceries").expect("rule");
        assert_eq!(r.pattern, "Trader Joe's");
        assert_eq!(Rule::propose("#4411", "expenses:x"), None);
        assert_eq!(Rule::propose("Shell", ""), None);
    }

    #[test]
    fn appended_once_and_the_file_still_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bank.csv.rules");
        std::fs::write(&path, "skip 1\nfields date, description, amount").expect("write");
        let rule = Rule::propose("SHELL OIL 5521", "expenses:fuel").expect("rule");
        assert_eq!(append(&path, &rule).expect("append"), Appended::Added);
        assert_eq!(append(&path, &rule).expect("again"), Appended::AlreadyThere);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "skip 1\nfields date, description, amount\n\nif SHELL OIL\n  account2 expenses:fuel\n"
        );
        // A file that does not read is left alone, with the reason.
        std::fs::write(&path, "if\n").expect("write");
        assert!(append(&path, &rule).is_err());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "if\n");
    }
}
