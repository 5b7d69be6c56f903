//! Evaluates a `Query` against anything that looks like a transaction (`TxnView`). Text comparisons are
//! case-insensitive substring matches with lowercased needles; ASCII haystacks are compared without allocating,
//! which keeps a filter over a million journal entries fast.

use super::{Cmp, Pattern, Query, Term};
use crate::domain::{AccountKind, Status, Transaction};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One posting as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct PostingView<'a> {
    pub account: &'a str,
    pub quantity: Decimal,
    pub commodity: &'a str,
    /// What the account is (asset, expense, …), as the backend knows it.
    pub kind: AccountKind,
    /// A real posting (not a `()` or `[]` virtual one).
    pub real: bool,
    /// The account's number in the backend's table of names, when it has one (see `Query::index_accounts`).
    pub account_id: Option<u32>,
}

/// For each top-level term of a query that matches account names (free words, `acct:`), whether each account of
/// the backend's table matches it — worked out once per query, so a million postings are matched by a lookup, not
/// a text search.
pub type AccountIndex = Vec<Option<Vec<bool>>>;

/// Whether the posting's account matches `pattern`, by the index when there is one.
fn account_hit(p: &PostingView<'_>, pattern: &Pattern, hits: Option<&[bool]>) -> bool {
    match (p.account_id, hits) {
        (Some(id), Some(h)) => h.get(id as usize).copied().unwrap_or(false),
        _ => pattern.is_match(p.account),
    }
}

/// What the matcher needs to know about a transaction. Both `Transaction` and the journal's compact records
/// implement it.
pub trait TxnView {
    fn date(&self) -> NaiveDate;
    fn status(&self) -> Status;
    fn description(&self) -> &str;
    fn payee(&self) -> &str;
    fn note(&self) -> &str;
    /// The transaction's code (a cheque number); empty when it has none.
    fn code(&self) -> &str;
    /// What `note:` searches: the note, or — as hledger reads a journal description without `|` — the whole
    /// description when the view has no note of its own.
    fn query_note(&self) -> &str {
        self.note()
    }
    fn for_each_posting(&self, f: &mut dyn FnMut(PostingView<'_>) -> bool) -> bool;
    /// Calls `f(name, value)` for the transaction's and its postings' tags until `f` returns true.
    fn any_tag(&self, f: &mut dyn FnMut(&str, &str) -> bool) -> bool;
    fn needs_review(&self) -> bool;
    /// A free word's text part: the description, payee or note matches. Views whose payee and note are parts of
    /// the description (journal entries) override this to search once.
    fn has_text(&self, word: &Pattern) -> bool {
        word.is_match(self.description())
            || word.is_match(self.payee())
            || word.is_match(self.note())
    }
}

impl TxnView for Transaction {
    fn date(&self) -> NaiveDate {
        self.date
    }
    fn status(&self) -> Status {
        self.status
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn payee(&self) -> &str {
        &self.payee
    }
    fn note(&self) -> &str {
        &self.note
    }
    fn code(&self) -> &str {
        &self.code
    }
    fn for_each_posting(&self, f: &mut dyn FnMut(PostingView<'_>) -> bool) -> bool {
        self.postings.iter().any(|p| {
            f(PostingView {
                account: &p.account,
                quantity: p.amount.quantity,
                commodity: &p.amount.commodity,
                kind: p.account_kind(),
                real: p.kind == crate::domain::PostingKind::Real,
                account_id: None,
            })
        })
    }
    fn any_tag(&self, f: &mut dyn FnMut(&str, &str) -> bool) -> bool {
        self.tags.iter().any(|t| f(&t.name, &t.value))
            || self
                .postings
                .iter()
                .any(|p| p.tags.iter().any(|t| f(&t.name, &t.value)))
    }
    fn needs_review(&self) -> bool {
        Transaction::needs_review(self)
    }
}

/// Case-insensitive substring test; `needle` must already be lowercase.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() && needle.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        if n.len() > h.len() {
            return false;
        }
        // Candidates for the first byte in either case, found with SIMD; then compare the rest.
        let last_start = h.len() - n.len();
        memchr::memchr2_iter(n[0], n[0].to_ascii_uppercase(), &h[..=last_start])
            .any(|i| h[i + 1..i + n.len()].eq_ignore_ascii_case(&n[1..]))
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

/// `a CMP b`.
pub fn compare(cmp: Cmp, a: Decimal, b: Decimal) -> bool {
    match cmp {
        Cmp::Eq => a == b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
    }
}

impl Term {
    pub fn matches<T: TxnView + ?Sized>(&self, t: &T) -> bool {
        self.matches_with(t, None)
    }

    /// `matches`, with the account names this term matches already known (`hits`, by account number).
    fn matches_with<T: TxnView + ?Sized>(&self, t: &T, hits: Option<&[bool]>) -> bool {
        match self {
            Term::Text(w) => t.has_text(w) || t.for_each_posting(&mut |p| account_hit(&p, w, hits)),
            Term::Account(a) => t.for_each_posting(&mut |p| account_hit(&p, a, hits)),
            Term::Desc(w) => w.is_match(t.description()),
            Term::Payee(w) => w.is_match(t.payee()),
            Term::Note(w) => w.is_match(t.query_note()),
            Term::Code(w) => w.is_match(t.code()),
            Term::Real(real) => t.for_each_posting(&mut |p| p.real) == *real,
            Term::Depth(n) => t.for_each_posting(&mut |p| p.account.split(':').count() <= *n),
            Term::Tag { name, value } => t.any_tag(&mut |n, v| {
                name.is_match(n) && value.as_ref().is_none_or(|want| want.is_match(v))
            }),
            Term::Amount { cmp, value, signed } => t.for_each_posting(&mut |p| {
                if *signed {
                    compare(*cmp, p.quantity, *value)
                } else {
                    compare(*cmp, p.quantity.abs(), value.abs())
                }
            }),
            Term::Date(r) => r.contains(t.date()),
            Term::Status(s) => t.status() == *s,
            Term::Commodity(c) => t.for_each_posting(&mut |p| p.commodity.eq_ignore_ascii_case(c)),
            Term::Not(inner) => !inner.matches(t),
            Term::IsReview => t.needs_review(),
            Term::IsUntagged => !t.any_tag(&mut |_, _| true),
        }
    }

    /// Terms of these kinds are OR'd with others of the same kind (hledger's rule: `acct:`, `desc:`, `status:`); the
    /// rest are AND'd.
    pub(crate) fn or_group(&self) -> Option<u8> {
        match self {
            Term::Account(_) => Some(0),
            Term::Desc(_) => Some(1),
            Term::Status(_) => Some(2),
            _ => None,
        }
    }
}

impl Query {
    /// Which of `accounts` (a backend's table of names, by number) each term matching account names matches.
    pub fn index_accounts(&self, accounts: &[String]) -> AccountIndex {
        self.terms
            .iter()
            .map(|t| match t {
                Term::Text(p) | Term::Account(p) => {
                    Some(accounts.iter().map(|a| p.is_match(a)).collect())
                }
                _ => None,
            })
            .collect()
    }

    pub fn matches<T: TxnView + ?Sized>(&self, t: &T) -> bool {
        self.matches_indexed(t, &[])
    }

    /// `matches`, with account matches looked up in `index` (from `index_accounts`; empty: matched as text).
    pub fn matches_indexed<T: TxnView + ?Sized>(&self, t: &T, index: &[Option<Vec<bool>>]) -> bool {
        let mut group_seen = [false; 3];
        let mut group_hit = [false; 3];
        for (i, term) in self.terms.iter().enumerate() {
            let hits = index.get(i).and_then(|h| h.as_deref());
            match term.or_group() {
                Some(g) => {
                    let g = g as usize;
                    group_seen[g] = true;
                    if !group_hit[g] && term.matches_with(t, hits) {
                        group_hit[g] = true;
                    }
                }
                None => {
                    if !term.matches_with(t, hits) {
                        return false;
                    }
                }
            }
        }
        group_seen
            .iter()
            .zip(group_hit)
            .all(|(seen, hit)| !seen || hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Money, Posting, PostingKind, Tag, TxnId};
    use crate::query::parse;
    use std::str::FromStr;

    fn txn() -> Transaction {
        let dec = |s: &str| Decimal::from_str(s).expect("decimal");
        let posting = |a: &str, q: &str, c: &str| Posting {
            account: a.into(),
            amount: Money::new(dec(q), c),
            cost: None,
            kind: PostingKind::Real,
            account_kind: None,
            tags: vec![],
            comment: String::new(),
        };
        Transaction {
            id: TxnId("t1".into()),
            date: NaiveDate::from_ymd_opt(2025, 3, 14).expect("date"),
            status: Status::Pending,
            description: "Whole Foods | weekly shop".into(),
            payee: "Whole Foods".into(),
            note: "weekly shop".into(),
            code: String::new(),
            tags: vec![Tag::new("trip", "Paris")],
            postings: vec![
                posting("expenses:groceries", "54.20", "$"),
                posting("assets:checking", "-54.20", "$"),
            ],
            category: Some("expenses:groceries".into()),
            source: String::new(),
            needs_review: None,
            read_only: false,
        }
    }

    fn m(q: &str) -> bool {
        parse(q).expect("query parses").matches(&txn())
    }

    #[test]
    fn text_and_prefixes() {
        assert!(m("whole"));
        assert!(m("WHOLE foods"));
        assert!(!m("whole target"));
        assert!(m("desc:weekly"));
        assert!(m("payee:foods"));
        assert!(!m("payee:weekly"));
        assert!(m("note:shop"));
        assert!(m("acct:groceries"));
        assert!(!m("acct:rent"));
        assert!(m("cur:$"));
        assert!(!m("cur:EUR"));
    }

    #[test]
    fn same_kind_terms_are_ored() {
        assert!(m("acct:rent acct:groceries"));
        assert!(m("status:* status:!"));
        assert!(!m("status:* status:"));
    }

    #[test]
    fn tags_amounts_dates_status() {
        assert!(m("tag:trip"));
        assert!(m("tag:trip=paris"));
        assert!(!m("tag:trip=rome"));
        assert!(m("amt:>50"));
        assert!(m("amt:54.20"));
        assert!(m("amt:<=-20"));
        assert!(!m("amt:>100"));
        assert!(!m("amt:<-100"));
        assert!(m("date:2025"));
        assert!(m("date:2025-03"));
        assert!(m("date:2025-03-14"));
        assert!(!m("date:2025-03-15.."));
        assert!(m("date:2025-01..2025-04"));
        assert!(!m("date:2025-01..2025-03"));
        assert!(m("status:!"));
        assert!(!m("status:*"));
    }

    #[test]
    fn not_and_is() {
        assert!(m("not:tag:work"));
        assert!(!m("not:tag:trip"));
        assert!(m("is:review"));
        assert!(!m("is:untagged"));
        assert!(m("not:is:untagged"));
    }

    #[test]
    fn narrowing_is_detected_only_when_safe() {
        let n = |new: &str, old: &str| parse(new).expect("new").narrows(&parse(old).expect("old"));
        assert!(n("co", "c"));
        assert!(n("coffee shop", "coffee"));
        assert!(n("c acct:food", "c"));
        assert!(n("acct:foods", "acct:food"));
        assert!(n("desc:ab", "desc:a"));
        assert!(!n("c", "co"));
        assert!(!n("d", "c"));
        assert!(!n("acct:a acct:b", "acct:a"), "a second acct: term widens");
        assert!(
            !n("acct:a acct:bc", "acct:a acct:b"),
            "grown term in a shared OR group"
        );
        assert!(!n("amt:>50", "amt:>5"));
        assert!(!n("", "c"));
        assert!(n("c", ""));
    }

    #[test]
    fn contains_ci_handles_unicode() {
        assert!(contains_ci("Café Zürich", "zürich"));
        assert!(contains_ci("abc", ""));
        assert!(!contains_ci("ab", "abc"));
    }
}
