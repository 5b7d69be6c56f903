//! The editor's rule, checked on text in memory: for tests and the `cargo fuzz` target, which cannot afford a file,
//! a lock and a rename per input. `edit_in_memory` reads the text as a journal file, patches one transaction and reads
//! it back exactly as a save does (`save::patch_checked`: `patch`, the production `Reader`, `verify`), splices it in
//! as a save does (`patch::apply_edits`), and then reads the whole result again: every other entry must keep its
//! text byte for byte and read as before, the edited one must read as the intended change, and the journal's
//! problems must stay the same. A save that the read-back check refuses is an outcome, not a violation.

use super::parse::{self, Loaded};
use super::patch::{self, EntryEdit};
use super::verify;
use crate::domain::Transaction;
use std::path::Path;

/// What an edit of text in memory came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryEdit {
    /// The text has no transaction to edit, or the edit changes nothing.
    Unchanged,
    /// The save was refused, with the message a user would see (the patcher's or the read-back check's).
    Refused(String),
    /// The edited journal text: every check passed.
    Edited(String),
}

/// Applies `edit` to the transaction `entry` (counted in file order, modulo the number of transactions) of the
/// journal `text`, as a save would. `Err` is a violation of the editor's rule: the save would have written a file
/// that does not read as exactly the intended change.
pub fn edit_in_memory(text: &str, entry: usize, edit: &EntryEdit) -> Result<MemoryEdit, String> {
    let name = Path::new("memory.journal");
    let before = parse::load_text(name, text);
    let j = &before.journal;
    let mut visible = j.by_date.clone();
    visible.sort_unstable();
    let Some(&index) = visible.get(entry % visible.len().max(1)) else {
        return Ok(MemoryEdit::Unchanged);
    };
    let id = j.id_of(index);
    let new_entry = match super::save::patch_checked(j, &before.reader, &id, index, edit) {
        Ok(None) => return Ok(MemoryEdit::Unchanged),
        Ok(Some((t, _))) => t,
        Err(e) => return Ok(MemoryEdit::Refused(e.to_string())),
    };
    let e = &j.entries[index as usize];
    let span = e.span.0 as usize..e.span.1 as usize;
    let new_text = patch::apply_edits(&j.files[0].text, &[(span, new_entry.clone())])
        .map_err(|err| format!("splicing the edited entry: {err}"))?;
    let after = parse::load_text(name, &new_text);
    same_but_for(&before, &after, index, &new_entry, edit)?;
    Ok(MemoryEdit::Edited(new_text))
}

/// A transaction without what may differ while it stays the same: its id's occurrence number (another entry may
/// now share its hash) and its `FILE:LINE` (lines above it may have come or gone).
fn comparable(mut t: Transaction) -> Transaction {
    t.id.0.clear();
    t.source.clear();
    t
}

/// Checks that `after` is `before` with only entry `index` changed, to `new_entry`, reading as `edit` intends.
fn same_but_for(
    before: &Loaded,
    after: &Loaded,
    index: u32,
    new_entry: &str,
    edit: &EntryEdit,
) -> Result<(), String> {
    let (b, a) = (&before.journal, &after.journal);
    if a.entries.len() != b.entries.len() {
        return Err(format!(
            "the journal would hold {} entries, not {}",
            a.entries.len(),
            b.entries.len()
        ));
    }
    // Which entries each reading lists (a valid transaction), by entry index.
    let listed = |j: &crate::backend::ledger::Journal| {
        let mut v = vec![false; j.entries.len()];
        j.by_date.iter().for_each(|&i| v[i as usize] = true);
        v
    };
    let (in_index_before, in_index_after) = (listed(b), listed(a));
    for (i, (eb, ea)) in b.entries.iter().zip(&a.entries).enumerate() {
        let (tb, ta) = (b.text(eb.file, eb.span), a.text(ea.file, ea.span));
        if i == index as usize {
            if ta != new_entry {
                return Err(format!(
                    "the edited entry would be read as {ta:?}, not {new_entry:?}"
                ));
            }
            let want = before.reader.read_entry(index, b.text(eb.file, eb.span))?;
            let got = after.reader.read_entry(index, ta)?;
            verify::check(&want, &got, edit)
                .map_err(|why| format!("re-read with the whole journal: {why}"))?;
        } else if tb != ta || eb.kind != ea.kind {
            return Err(format!(
                "entry {} would change from {tb:?} to {ta:?}",
                i + 1
            ));
        } else if in_index_before[i] != in_index_after[i] {
            return Err(format!("entry {} would be read as valid or not", i + 1));
        } else if in_index_before[i]
            && comparable(b.view(i as u32).to_transaction())
                != comparable(a.view(i as u32).to_transaction())
        {
            return Err(format!("entry {} would read differently: {tb:?}", i + 1));
        }
    }
    let problems = |l: &Loaded| {
        let mut v: Vec<String> = l.diagnostics.iter().map(|d| d.message.clone()).collect();
        v.sort();
        v
    };
    if problems(before) != problems(after) {
        return Err(format!(
            "the journal's problems would change from {:?} to {:?}",
            problems(before),
            problems(after)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Status, Tag};

    const TEXT: &str = "\u{feff}; top\r\n2024-01-01 * (a;b) Shop | note  ; Tst:X, a,b:c\r\n    expenses:food  $5  ; tst:\r\n    assets:cash\r\n\r\n2024-01-02 Other\r\n    expenses:food  $1\r\n    assets:cash";

    #[test]
    fn edits_are_checked_against_the_whole_journal() {
        let edit = EntryEdit {
            status: Some(Status::Pending),
            add_tags: vec![Tag::new("tst", "y")],
            remove_tags: vec!["TST".into()],
            ..EntryEdit::default()
        };
        // `tst` is added under exactly that name, so the posting's `tst:` stays; `Tst:X` goes.
        assert_eq!(
            edit_in_memory(TEXT, 0, &edit),
            Ok(MemoryEdit::Edited(TEXT.replace(
                "* (a;b) Shop | note  ; Tst:X, a,b:c",
                "! (a;b) Shop | note  ; a,b:c, tst:y"
            )))
        );
        let none = EntryEdit {
            remove_tags: vec!["absent".into()],
            ..EntryEdit::default()
        };
        assert_eq!(edit_in_memory(TEXT, 1, &none), Ok(MemoryEdit::Unchanged));
        assert_eq!(
            edit_in_memory("; no transactions\n", 3, &edit),
            Ok(MemoryEdit::Unchanged)
        );
        let bad = EntryEdit {
            note: Some("a;b".into()),
            ..EntryEdit::default()
        };
        assert!(matches!(
            edit_in_memory(TEXT, 1, &bad),
            Ok(MemoryEdit::Refused(m)) if m.contains("invalid note")
        ));
    }

    /// Found by the fuzz target: a posting indented with a vertical tab (a space to hledger) had the tab in its
    /// account's span, so renaming the account moved the posting to column 1 and the read-back check refused it;
    /// and `2024-01-02\v*\vx` read as the description `* x` where hledger reads the status `*`.
    #[test]
    fn vertical_tabs_and_form_feeds_are_blanks() {
        let text = "2024-01-02\x0b*\x0cx\n\x0bexpenses:food\t\t$10.00\n\tassets:cash\n";
        let rename = EntryEdit {
            category: Some(("expenses:food".into(), "expenses:new".into())),
            ..EntryEdit::default()
        };
        assert_eq!(
            edit_in_memory(text, 0, &rename),
            Ok(MemoryEdit::Edited(text.replace("food", "new")))
        );
        let unmark = EntryEdit {
            status: Some(Status::Unmarked),
            ..EntryEdit::default()
        };
        assert_eq!(
            edit_in_memory(text, 0, &unmark),
            Ok(MemoryEdit::Edited(text.replace("\x0b*\x0c", "\x0b")))
        );
    }

    /// Found by the fuzz target: `-$3333… @ 3333…` (each number within 28 digits) made the reader panic with a
    /// multiplication overflow; sums past 28 digits would have panicked the same way.
    #[test]
    fn amounts_too_large_to_add_up_are_problems_not_crashes() {
        let max = "79228162514264337593543950335";
        let text = format!(
            "2024-01-01 cost\n    a  -3333333333333333333 X @ $33333333333333\n    b\n\n\
             2024-01-02 sum\n    a  ${max}\n    a  ${max}\n    b\n\n\
             2024-01-03 running\n    a  ${max}\n    b  $-{max}\n\n\
             2024-01-04 running\n    a  ${max} = $1\n    b  $-{max}\n"
        );
        let loaded = parse::load_text(Path::new("memory.journal"), &text);
        let problems: Vec<&str> = loaded
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].contains("the cost's total has more digits"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("the amounts add up to more digits"),
            "{problems:?}"
        );
        assert!(
            problems[2].contains("balance assertion failed"),
            "{problems:?}"
        );
        let edit = EntryEdit {
            status: Some(Status::Cleared),
            ..EntryEdit::default()
        };
        assert!(matches!(
            edit_in_memory(&text, 0, &edit),
            Ok(MemoryEdit::Edited(_))
        ));
    }

    #[test]
    fn includes_are_not_followed() {
        let text = "include /etc/passwd\n2024-01-01 x\n    a  1\n    b\n";
        let loaded = parse::load_text(Path::new("memory.journal"), text);
        assert_eq!(loaded.journal.files.len(), 1);
        assert!(loaded.diagnostics[0].message.contains("not followed"));
    }

    /// A rename that reads back right in its entry but would make another entry's balance assertion fail (or, with
    /// `=*`, a parent's) is refused, as a save refuses it; the whole-journal check here would catch it otherwise.
    #[test]
    fn renaming_an_account_asserted_elsewhere_is_refused() {
        let text = "2024-01-01 a\n    expenses:food  $5\n    assets:cash\n\n2024-01-02 b\n    expenses:food  $5 = $10\n    assets:cash\n\n2024-01-03 c\n    expenses:misc  $1\n    assets:cash\n\n2024-01-04 d\n    expenses:misc:x  $1\n    assets:cash  =* $-12\n";
        let rename = |from: &str, to: &str| EntryEdit {
            category: Some((from.into(), to.into())),
            ..EntryEdit::default()
        };
        for (entry, from, to) in [
            (0, "expenses:food", "expenses:new"),
            (2, "expenses:misc", "expenses:food"),
            (2, "assets:cash", "assets:bank"),
            (2, "assets:cash", "assets:cash:sub"),
        ] {
            let out = edit_in_memory(text, entry, &rename(from, to));
            assert!(
                matches!(&out, Ok(MemoryEdit::Refused(m)) if m.contains("balance assertion or assignment on")),
                "{from} -> {to}: {out:?}"
            );
        }
        let loaded = parse::load_text(Path::new("memory.journal"), text);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        // Accounts no assertion looks at are renamed.
        let out = edit_in_memory(text, 2, &rename("expenses:misc", "expenses:other"));
        assert!(matches!(out, Ok(MemoryEdit::Edited(_))), "{out:?}");
    }
}
