//! Fuzz target for the editor's rule (issue 9), on bytes: the first six bytes choose an edit, the rest (as UTF-8,
//! lossily) is a journal. The edit is built from the chosen transaction's own tag names and accounts as well as
//! fixed odd ones (case variants, `a,b`, invalid values), then applied in memory exactly as a save would
//! (`edit_in_memory`: patch, read back with the production reader, splice, re-read the whole journal). A save that
//! would write anything but the intended change is a violation and panics; so does an edit that, applied again to
//! its own result, changes the text again (saves re-apply edits by id after a concurrent write). Refusals are fine;
//! with `TALLY_FUZZ_STRICT=1` a refusal by the read-back check panics too, to look for edits the patcher gets wrong
//! (some cannot be written at all, so this mode finds candidates, not only bugs). See README.md for how to run it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tally::backend::journal::patch::EntryEdit;
use tally::backend::journal::{MemoryEdit, edit_in_memory, parse};
use tally::domain::{Status, Tag, Transaction};

const NAMES: &[&str] = &["tst", "Tst", "TST", "a,b", "trip", "x"];
const VALUES: &[&str] = &["", "X", "a:b", "v w", " padded ", "x,y", "Ünï"];
const NOTES: &[&str] = &["", "note", "a | b", " spaced ", "semi;colon", "(x)"];
const ACCOUNTS: &[&str] = &["expenses:new", "a b", "Ünï:café", "bad  name", "(paren)"];

/// The transaction `entry` (modulo their number, in file order) as `edit_in_memory` will pick it.
fn transaction(text: &str, entry: usize) -> Option<Transaction> {
    let loaded = parse::load_text(Path::new("fuzz.journal"), text);
    let j = &loaded.journal;
    let mut visible = j.by_date.clone();
    visible.sort_unstable();
    let index = *visible.get(entry % visible.len().max(1))?;
    Some(j.view(index).to_transaction())
}

/// Candidate tag names: fixed odd ones, then the transaction's own (its postings' too).
fn names(t: &Transaction) -> Vec<String> {
    let own = t.tags.iter().chain(t.postings.iter().flat_map(|p| &p.tags));
    NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(own.map(|tag| tag.name.clone()))
        .collect()
}

fn pick<T: Clone>(list: &[T], byte: u8) -> Option<T> {
    (!list.is_empty()).then(|| list[byte as usize % list.len()].clone())
}

/// The edit the selector bytes `s` ask for: `s[1]` says which parts, the others which values.
fn edit(s: &[u8; 6], t: &Transaction) -> EntryEdit {
    let names = names(t);
    let mut edit = EntryEdit {
        status: match s[1] & 3 {
            0 => None,
            1 => Some(Status::Unmarked),
            2 => Some(Status::Pending),
            _ => Some(Status::Cleared),
        },
        ..EntryEdit::default()
    };
    if s[1] & 4 != 0 {
        edit.note = pick(NOTES, s[4]).map(str::to_string);
    }
    if s[1] & 8 != 0
        && let (Some(name), Some(value)) = (pick(&names, s[2]), pick(VALUES, s[2] >> 4))
    {
        edit.add_tags.push(Tag::new(name, value));
    }
    if s[1] & 16 != 0
        && let Some(name) = pick(&names, s[3])
    {
        // Now and then in another case: removal matches names case-insensitively.
        let name = if s[3] & 128 != 0 {
            name.to_uppercase()
        } else {
            name
        };
        edit.remove_tags.push(name);
    }
    if s[1] & 32 != 0 {
        let accounts: Vec<&str> = t.postings.iter().map(|p| p.account.as_str()).collect();
        let old = pick(&accounts, s[4] >> 3);
        let new = if s[5] & 1 == 0 {
            pick(ACCOUNTS, s[5] >> 1)
        } else {
            pick(&accounts, s[5] >> 1)
        };
        edit.category = old.zip(new).map(|(o, n)| (o.to_string(), n.to_string()));
    }
    if s[1] & 64 != 0
        && let (Some(name), Some(value)) = (pick(&names, s[5]), pick(VALUES, s[3]))
    {
        edit.add_tags.push(Tag::new(name, value));
    }
    edit
}

/// Whether a refusal could not be helped: a description starting with `*`, `!` or `(` right after the status mark
/// reads as a status or a code (or an unclosed one) once the mark is gone: `2024-01-01 *(a) x`, `2024-01-01 * * x`.
fn cannot_unmark(edit: &EntryEdit, why: &str) -> bool {
    let reasons = [
        "the status would",
        "the date and code would",
        "the payee would",
        "closing the transaction code",
    ];
    edit.status == Some(Status::Unmarked) && reasons.iter().any(|w| why.contains(w))
}

/// Whether a refusal by the read-back check is a failure (`TALLY_FUZZ_STRICT=1`).
fn strict() -> bool {
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRICT.get_or_init(|| std::env::var("TALLY_FUZZ_STRICT").as_deref() == Ok("1"))
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, rest)) = data.split_first_chunk::<6>() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let entry = selector[0] as usize;
    let Some(t) = transaction(&text, entry) else {
        return;
    };
    let edit = edit(selector, &t);
    match edit_in_memory(&text, entry, &edit) {
        Err(violation) => panic!("{violation}\nedit {edit:?}\njournal {text:?}"),
        Ok(MemoryEdit::Edited(new)) => match edit_in_memory(&new, entry, &edit) {
            Ok(MemoryEdit::Unchanged) => {}
            again => panic!(
                "applied again, the edit is not a no-op: {again:?}\nedit {edit:?}\njournal {text:?}\nafter {new:?}"
            ),
        },
        Ok(MemoryEdit::Refused(why))
            if strict() && why.contains("would not read back") && !cannot_unmark(&edit, &why) =>
        {
            panic!("{why}\nedit {edit:?}\njournal {text:?}")
        }
        Ok(MemoryEdit::Unchanged | MemoryEdit::Refused(_)) => {}
    }
});
