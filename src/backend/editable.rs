//! What an edit can change about a transaction, and the rules by which a `TxnPatch` changes it — the same rules the
//! journal editor follows (`journal::verify`): a tag is removed by name in any case, from the transaction and its
//! postings; an added tag replaces one of exactly that name; a note is trimmed; a category renames the category
//! posting. With them the operations layer works out, before writing, what each transaction will look like and the
//! patch that brings it back (`TxnPatch::between`), and the dashboard shows an edit before it is saved.

use super::{PostingAssertion, TxnPatch};
use crate::domain::{Money, Status, Tag, Transaction, TxnId};
use serde::{Deserialize, Serialize};

/// The editable part of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Editable {
    pub id: TxnId,
    pub status: Status,
    /// Transaction-level tags, as written.
    pub tags: Vec<Tag>,
    /// Tags written on postings (removing a tag removes these too).
    pub posting_tags: Vec<Tag>,
    pub category: Option<String>,
    /// A split: the accounts of its other category postings, in order (the first is `category`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split: Vec<String>,
    pub note: String,
    pub read_only: bool,
    /// A transfer between the holder's own accounts: it needs no category to leave the review queue.
    #[serde(default)]
    pub transfer: bool,
    /// The balance assertions its postings carry, by posting index (a journal's; servers have none). A journal
    /// fills it only for postings to accounts that some assertion names, which is all reconciling needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Asserted>,
    /// Postings whose amount is not written (a journal's, left to be inferred): an assertion written there brings
    /// its amount along (`PostingAssertion::amount`), and its undo takes both off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elided: Vec<usize>,
}

/// A balance assertion written on a posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asserted {
    pub posting: usize,
    pub account: String,
    pub balance: Money,
    #[serde(default)]
    pub inclusive: bool,
    /// The amount written with it on a posting that had none (`PostingAssertion::amount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

/// The assertions after `change`: the posting's assertion replaced, or removed when it asserts no balance.
fn patched_assertions(
    before: &[Asserted],
    change: &PostingAssertion,
    elided: &[usize],
) -> Vec<Asserted> {
    let mut out: Vec<Asserted> = before
        .iter()
        .filter(|a| a.posting != change.posting)
        .cloned()
        .collect();
    if let Some(balance) = &change.balance {
        out.push(Asserted {
            posting: change.posting,
            account: change.account.clone(),
            balance: balance.clone(),
            inclusive: change.inclusive,
            // Only where the posting has no written amount is one written with the assertion.
            amount: change
                .amount
                .clone()
                .filter(|_| elided.contains(&change.posting)),
        });
        out.sort_by_key(|a| a.posting);
    }
    out
}

/// The assertion change that turns `from`'s assertions into `to`'s, for the first posting where they differ.
fn assertion_between(from: &[Asserted], to: &[Asserted]) -> Option<Box<PostingAssertion>> {
    let mut postings: Vec<usize> = from.iter().chain(to).map(|a| a.posting).collect();
    postings.sort_unstable();
    postings.dedup();
    postings.into_iter().find_map(|k| {
        let (was, now) = (
            from.iter().find(|a| a.posting == k),
            to.iter().find(|a| a.posting == k),
        );
        if was == now {
            return None;
        }
        let account = now.or(was).map(|a| a.account.clone()).unwrap_or_default();
        Some(Box::new(PostingAssertion {
            posting: k,
            account,
            balance: now.map(|a| a.balance.clone()),
            inclusive: now.is_some_and(|a| a.inclusive),
            amount: now.or(was).and_then(|a| a.amount.clone()),
        }))
    })
}

impl Editable {
    pub fn of(t: &Transaction) -> Editable {
        Editable {
            id: t.id.clone(),
            status: t.status,
            tags: t.tags.clone(),
            posting_tags: t.postings.iter().flat_map(|p| p.tags.clone()).collect(),
            category: t.category.clone(),
            split: split_of(
                t.category.as_deref(),
                t.postings
                    .iter()
                    .filter(|p| p.account_kind().is_category())
                    .map(|p| p.account.as_str()),
            ),
            note: t.note.clone(),
            read_only: t.read_only,
            transfer: t.is_transfer(),
            assertions: Vec::new(),
            elided: Vec::new(),
        }
    }

    /// Whether it stays in the review queue for want of a category (none, or an "unknown" one) once reviewed.
    pub fn needs_category(&self) -> bool {
        crate::domain::review_reasons(
            Status::Cleared,
            false,
            self.category.as_deref(),
            self.transfer,
            None,
        )
        .contains(&"no category")
    }

    pub fn has_tag(&self, name: &str) -> bool {
        self.tags
            .iter()
            .chain(&self.posting_tags)
            .any(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// The transaction after `patch`.
    pub fn patched(&self, patch: &TxnPatch) -> Editable {
        let mut after = self.clone();
        if let Some(s) = patch.status {
            after.status = s;
        }
        after.tags = patched_tags(&self.tags, patch);
        after.posting_tags.retain(|t| !removes(patch, &t.name));
        match (&patch.category, &patch.category_from) {
            // Another posting of a split: renamed where it stands.
            (Some(c), Some(from)) if self.category.as_ref() != Some(from) => {
                for a in after.split.iter_mut().filter(|a| *a == from) {
                    *a = c.clone();
                }
            }
            (Some(c), _) if self.category.is_some() => after.category = Some(c.clone()),
            _ => {}
        }
        if let Some(n) = &patch.note {
            after.note = n.trim().to_string();
        }
        if let Some(change) = &patch.assertion {
            after.assertions = patched_assertions(&self.assertions, change, &self.elided);
        }
        after
    }
}

/// A split's other category accounts: the category postings' accounts after the first (`category`), each once.
pub fn split_of<'a>(
    category: Option<&str>,
    accounts: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in accounts {
        if Some(a) != category && !out.iter().any(|x| x == a) {
            out.push(a.to_string());
        }
    }
    out
}

fn removes(patch: &TxnPatch, name: &str) -> bool {
    patch
        .remove_tags
        .iter()
        .any(|r| r.trim().eq_ignore_ascii_case(name.trim()))
}

/// Transaction-level tags after `patch` (as `journal::verify::expected_tags`, keeping the written order).
pub fn patched_tags(before: &[Tag], patch: &TxnPatch) -> Vec<Tag> {
    let mut tags: Vec<Tag> = before
        .iter()
        .filter(|t| !removes(patch, &t.name))
        .cloned()
        .collect();
    for add in &patch.add_tags {
        let (name, value) = (add.name.trim(), add.value.trim());
        let exclusive = removes(patch, name);
        if !exclusive && tags.iter().any(|t| t.name == name && t.value == value) {
            continue;
        }
        tags.retain(|t| t.name != name);
        tags.push(Tag::new(name, value));
    }
    tags
}

impl TxnPatch {
    /// The patch that turns `from` into `to` (both the same transaction): what undo sends, and the smallest write
    /// of an edit. Tags are compared by name in any case; a name whose tags differ is removed and its tags in `to`
    /// added back (a tag that was on a posting comes back on the transaction). Empty when they are the same.
    pub fn between(from: &Editable, to: &Editable) -> TxnPatch {
        let mut p = TxnPatch::default();
        if from.status != to.status {
            p.status = Some(to.status);
        }
        let lower = |t: &Tag| t.name.trim().to_lowercase();
        let mut names: Vec<String> = from
            .tags
            .iter()
            .chain(&from.posting_tags)
            .chain(&to.tags)
            .chain(&to.posting_tags)
            .map(lower)
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            let of = |e: &Editable, posting: bool| {
                let list = if posting { &e.posting_tags } else { &e.tags };
                let mut v: Vec<(String, String)> = list
                    .iter()
                    .filter(|t| lower(t) == name)
                    .map(|t| (t.name.trim().to_string(), t.value.trim().to_string()))
                    .collect();
                v.sort();
                v
            };
            if of(from, false) == of(to, false) && of(from, true) == of(to, true) {
                continue;
            }
            if from.has_tag(&name) {
                p.remove_tags.push(name.clone());
            }
            let mut back = of(to, false);
            for t in of(to, true) {
                if !back.contains(&t) {
                    back.push(t);
                }
            }
            p.add_tags
                .extend(back.into_iter().map(|(n, v)| Tag::new(n, v)));
        }
        if from.category != to.category
            && let Some(c) = &to.category
        {
            p.category = Some(c.clone());
        } else if let Some((was, now)) = from.split.iter().zip(&to.split).find(|(a, b)| a != b) {
            p.category = Some(now.clone());
            p.category_from = Some(was.clone());
        }
        if from.note != to.note {
            p.note = Some(to.note.clone());
        }
        p.assertion = assertion_between(&from.assertions, &to.assertions);
        p
    }
}

impl Transaction {
    /// The transaction as it will be after `patch` (what the dashboard shows before the write confirms it).
    pub fn patched(&self, patch: &TxnPatch) -> Transaction {
        let after = Editable::of(self).patched(patch);
        let mut t = self.clone();
        t.status = after.status;
        t.tags = after.tags;
        for p in &mut t.postings {
            p.tags.retain(|tag| !removes(patch, &tag.name));
        }
        let renamed = match (&patch.category, &patch.category_from) {
            (Some(new), Some(from)) if self.category.as_ref() != Some(from) => {
                Some((from.clone(), new.clone()))
            }
            _ => self
                .category
                .clone()
                .zip(after.category.clone())
                .filter(|(old, new)| old != new),
        };
        if let Some((old, new)) = renamed {
            for p in t.postings.iter_mut().filter(|p| p.account == old) {
                p.account = new.clone();
            }
        }
        t.category = after.category;
        t.note = after.note;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editable(tags: &[(&str, &str)], posting: &[(&str, &str)]) -> Editable {
        Editable {
            id: TxnId::from("a"),
            status: Status::Unmarked,
            tags: tags.iter().map(|(n, v)| Tag::new(*n, *v)).collect(),
            posting_tags: posting.iter().map(|(n, v)| Tag::new(*n, *v)).collect(),
            category: Some("expenses:food".into()),
            split: vec![],
            note: String::new(),
            read_only: false,
            transfer: false,
            assertions: Vec::new(),
            elided: Vec::new(),
        }
    }

    #[test]
    fn a_split_posting_is_renamed_where_it_stands_and_comes_back() {
        let mut before = editable(&[], &[]);
        before.split = vec!["expenses:household".into()];
        let patch = TxnPatch {
            category: Some("expenses:garden".into()),
            category_from: Some("expenses:household".into()),
            ..TxnPatch::default()
        };
        let after = before.patched(&patch);
        assert_eq!(
            after.category.as_deref(),
            Some("expenses:food"),
            "the first stays"
        );
        assert_eq!(after.split, vec!["expenses:garden".to_string()]);
        let back = TxnPatch::between(&after, &before);
        assert_eq!(back.category.as_deref(), Some("expenses:household"));
        assert_eq!(back.category_from.as_deref(), Some("expenses:garden"));
        assert_eq!(after.patched(&back), before);
    }

    #[test]
    fn between_undoes_what_a_patch_did() {
        let before = editable(&[("Review", ""), ("trip", "paris")], &[("review", "x")]);
        let patch = TxnPatch {
            status: Some(Status::Cleared),
            add_tags: vec![Tag::new("trip", "rome"), Tag::new("work", "")],
            remove_tags: vec!["review".into()],
            category: Some("expenses:dining".into()),
            note: Some(" lunch ".into()),
            ..TxnPatch::default()
        };
        let after = before.patched(&patch);
        assert_eq!(after.status, Status::Cleared);
        assert_eq!(
            after.tags,
            vec![Tag::new("trip", "rome"), Tag::new("work", "")]
        );
        assert!(after.posting_tags.is_empty());
        assert_eq!(after.note, "lunch");
        let back = TxnPatch::between(&after, &before);
        let restored = after.patched(&back);
        assert_eq!(restored.status, before.status);
        assert_eq!(restored.category, before.category);
        assert_eq!(restored.note, before.note);
        let mut tags: Vec<Tag> = restored
            .tags
            .iter()
            .chain(&restored.posting_tags)
            .cloned()
            .collect();
        tags.sort();
        // The posting's tag comes back on the transaction: same names and values, one level up.
        let mut want = vec![
            Tag::new("Review", ""),
            Tag::new("review", "x"),
            Tag::new("trip", "paris"),
        ];
        want.sort();
        assert_eq!(tags, want);
        assert!(TxnPatch::between(&before, &before).is_empty());
    }

    #[test]
    fn adding_a_tag_that_is_there_changes_nothing() {
        let before = editable(&[("work", "")], &[]);
        let patch = TxnPatch {
            add_tags: vec![Tag::new("work", "")],
            ..TxnPatch::default()
        };
        assert!(TxnPatch::between(&before, &before.patched(&patch)).is_empty());
    }
}
