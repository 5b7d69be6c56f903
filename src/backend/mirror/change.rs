//! An edit applied to a mirrored transaction locally, before the server confirms it: what makes the screen answer
//! at once, and what a sync re-applies on top of the server's copy while the edit is still queued. Tags are matched
//! by name without case (as the query language does); adding a tag that is there with another value replaces the
//! value. Setting a category moves the category posting to the new category (or adds one balancing the
//! transaction's own posting); the server's review verdict is then recomputed by the dialect.

use crate::backend::TxnPatch;
use crate::backend::rest::dialect::{CatalogData, Dialect};
use crate::domain::{AccountKind, Money, Posting, PostingKind, Tag, Transaction};

/// Whether `patch` would change `t` at all.
pub fn changes(t: &Transaction, patch: &TxnPatch) -> bool {
    patch.status.is_some_and(|s| s != t.status)
        || patch.note.as_ref().is_some_and(|n| n != &t.note)
        || patch
            .category
            .as_ref()
            .is_some_and(|c| t.category.as_deref() != Some(c.as_str()))
        || patch.add_tags.iter().any(|a| !t.tags.contains(a))
        || patch
            .remove_tags
            .iter()
            .any(|r| t.tags.iter().any(|x| x.name.eq_ignore_ascii_case(r)))
}

fn set_tags(tags: &mut Vec<Tag>, patch: &TxnPatch) {
    tags.retain(|t| {
        !patch
            .remove_tags
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&t.name))
    });
    for add in &patch.add_tags {
        match tags
            .iter_mut()
            .find(|t| t.name.eq_ignore_ascii_case(&add.name))
        {
            Some(t) => t.value = add.value.clone(),
            None => tags.push(add.clone()),
        }
    }
}

fn set_category(t: &mut Transaction, name: &str, catalog: &CatalogData) {
    let kind = catalog
        .category(name)
        .map(|c| c.kind)
        .unwrap_or(AccountKind::Expense);
    let name = catalog
        .category(name)
        .map_or(name.to_string(), |c| c.name.clone());
    match t
        .postings
        .iter_mut()
        .find(|p| p.account_kind().is_category())
    {
        Some(p) => {
            p.account = name.clone();
            p.account_kind = Some(kind);
        }
        None => {
            let own = t.amount();
            for m in own.non_zero() {
                t.postings.push(Posting {
                    account: name.clone(),
                    amount: Money::new(-m.quantity, m.commodity.clone()),
                    cost: None,
                    kind: PostingKind::Real,
                    account_kind: Some(kind),
                    tags: Vec::new(),
                    comment: String::new(),
                });
            }
        }
    }
    t.category = Some(name);
}

/// `t` with `patch` applied, as the mirror shows it until the server answers.
pub fn apply(
    t: &Transaction,
    patch: &TxnPatch,
    catalog: &CatalogData,
    dialect: &dyn Dialect,
) -> Transaction {
    let mut t = t.clone();
    if let Some(s) = patch.status {
        t.status = s;
    }
    if let Some(n) = &patch.note {
        t.note = n.clone();
    }
    set_tags(&mut t.tags, patch);
    if let Some(c) = &patch.category {
        set_category(&mut t, c, catalog);
    }
    t.needs_review = dialect.review_flag(&t);
    t
}
