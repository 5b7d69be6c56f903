//! The read-back check every edit passes before anything is written: the patched entry is read by the production
//! reader (with the directive state the entry was loaded with) and must read as exactly the intended change of the
//! original and nothing else — same date, code, payee, postings, amounts and costs; the status, note, tags,
//! category and balance assertions as the edit asks; the id unchanged unless the note, category or an assertion
//! (amount text, which the id covers) changed. A difference refuses the save with the reason, so a mistake in the
//! editor can cost an edit but never a ledger.

use super::parse::{AssertionReading, EntryReading, PostingReading};
use super::patch::EntryEdit;

/// What `before` should read as after `edit`.
fn expected(before: &EntryReading, edit: &EntryEdit) -> EntryReading {
    let mut want = before.clone();
    if let Some(s) = edit.status {
        want.status = s;
    }
    if let Some(n) = &edit.note {
        want.note = n.trim().to_string();
    }
    want.tags = expected_tags(&before.tags, edit);
    for p in &mut want.postings {
        p.tags.retain(|(n, _)| !edit.removes_tag(n));
        if let Some((old, new)) = &edit.category
            && p.account == *old
        {
            p.account = new.clone();
        }
    }
    if let Some(a) = &edit.assertion
        && let Some(p) = want.postings.get_mut(a.posting)
    {
        p.assertion = a.balance.as_ref().map(|b| AssertionReading {
            quantity: b.quantity,
            commodity: b.commodity.clone(),
            total: false,
            inclusive: a.inclusive,
            assignment: false,
        });
    }
    want
}

/// Transaction tags after `edit`: removal by name case-insensitively, adding by exact name; an added tag occurs
/// exactly once afterwards (unless it was there with that value and not also asked to be removed).
pub fn expected_tags(before: &[(String, String)], edit: &EntryEdit) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = before
        .iter()
        .filter(|(n, _)| !edit.removes_tag(n))
        .cloned()
        .collect();
    for add in &edit.add_tags {
        let (name, value) = (add.name.trim(), add.value.trim());
        let exclusive = edit
            .remove_tags
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name));
        if !exclusive && tags.iter().any(|(n, v)| n == name && v == value) {
            continue;
        }
        tags.retain(|(n, _)| n != name);
        tags.push((name.to_string(), value.to_string()));
    }
    tags.sort();
    tags
}

fn posting_difference(n: usize, want: &PostingReading, got: &PostingReading) -> Option<String> {
    let p = n + 1;
    if want.account != got.account {
        return Some(format!(
            "posting {p} would be to {:?}, not {:?}",
            got.account, want.account
        ));
    }
    if (want.quantity, &want.commodity, &want.cost) != (got.quantity, &got.commodity, &got.cost)
        || want.kind != got.kind
    {
        return Some(format!(
            "the amount of posting {p} ({}) would read as {} {}",
            want.account, got.quantity, got.commodity
        ));
    }
    if want.assertion != got.assertion {
        return Some(format!(
            "the balance assertion of posting {p} would read as {:?}, not {:?}",
            got.assertion, want.assertion
        ));
    }
    (want.tags != got.tags).then(|| {
        format!(
            "the tags of posting {p} would be {:?}, not {:?}",
            got.tags, want.tags
        )
    })
}

/// `Ok` when `after` reads as exactly `before` changed by `edit`; otherwise what differs.
pub fn check(before: &EntryReading, after: &EntryReading, edit: &EntryEdit) -> Result<(), String> {
    let want = expected(before, edit);
    let differs = |what: &str, want: &dyn std::fmt::Debug, got: &dyn std::fmt::Debug| {
        Err(format!("the {what} would read as {got:?}, not {want:?}"))
    };
    if (want.date, &want.code) != (after.date, &after.code) {
        return differs(
            "date and code",
            &(want.date, &want.code),
            &(after.date, &after.code),
        );
    }
    if want.status != after.status {
        return differs("status", &want.status, &after.status);
    }
    if want.payee != after.payee {
        return differs("payee", &want.payee, &after.payee);
    }
    if want.note != after.note {
        return differs("note", &want.note, &after.note);
    }
    if want.tags != after.tags {
        return differs("transaction's tags", &want.tags, &after.tags);
    }
    if want.postings.len() != after.postings.len() {
        return Err(format!(
            "it would have {} postings, not {}",
            after.postings.len(),
            want.postings.len()
        ));
    }
    if let Some(d) = want
        .postings
        .iter()
        .zip(&after.postings)
        .enumerate()
        .find_map(|(n, (w, g))| posting_difference(n, w, g))
    {
        return Err(d);
    }
    if edit.note.is_none()
        && edit.category.is_none()
        && edit.assertion.is_none()
        && before.hash != after.hash
    {
        return Err("its id would change although only its status or tags were edited".into());
    }
    Ok(())
}
