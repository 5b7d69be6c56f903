//! tally's query language: hledger's (DESIGN §6, docs/queries.md) plus tally's own terms. Free words, `acct:`,
//! `desc:`, `payee:`, `note:`, `code:` take case-insensitive regular expressions; `tag:NAME[=VALUE]`, `amt:`,
//! `date:` (hledger's period expressions, `period`), `status:`, `cur:`, `real:`, `depth:`, `not:`, and tally's
//! `is:review`, `is:untagged`. `parse` turns text into a `Query`; errors carry the 1-based column where the bad
//! term starts. `Query::matches` tests anything that implements `TxnView`, so backends can filter their own compact
//! records without building `Transaction`s. As in hledger, several `acct:`, `desc:` or `status:` terms are OR'd
//! within their kind; everything else must all match. A free word matches an account name (as in hledger) or the
//! description, payee or note; unlike hledger, several free words must all match (the filter narrows as you type).

mod matcher;
mod parser;
mod pattern;
pub mod period;

pub use matcher::{AccountIndex, PostingView, TxnView, compare, contains_ci};
pub use parser::{parse, parse_on};
pub use pattern::Pattern;

use crate::domain::Status;
use chrono::NaiveDate;
use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A half-open date range `[start, end)`; either side may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateRange {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

impl DateRange {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start.is_none_or(|s| d >= s) && self.end.is_none_or(|e| d < e)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A free word: matches an account name, the description, payee or note (a pattern, as hledger's bare words match
    /// account names; tally also looks in the text).
    Text(Pattern),
    Account(Pattern),
    Desc(Pattern),
    Payee(Pattern),
    Note(Pattern),
    /// `code:`: the transaction's code (cheque number).
    Code(Pattern),
    /// `real:` / `real:1`: the transaction has a real posting; `real:0`: it has none (only virtual ones), as hledger.
    Real(bool),
    /// `depth:N`: a posting to an account at most N levels deep (as hledger's `print`); the account tree and registers
    /// also show accounts only that deep.
    Depth(usize),
    /// `tag:NAME[=VALUE]`: both patterns, as in hledger (`tag:ork` matches a `work` tag).
    Tag {
        name: Pattern,
        value: Option<Pattern>,
    },
    /// `amt:`: with a sign (or zero) the signed amounts are compared, otherwise magnitudes, as hledger does.
    Amount {
        cmp: Cmp,
        value: Decimal,
        signed: bool,
    },
    Date(DateRange),
    Status(Status),
    Commodity(String),
    Not(Box<Term>),
    IsReview,
    IsUntagged,
}

/// A parsed query: every group must match. An empty query matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub terms: Vec<Term>,
    /// The text it was parsed from, kept for display and for sending to servers (`q=`).
    pub source: String,
}

impl Query {
    pub fn all() -> Query {
        Query::default()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The accounts the query is about: its top-level `acct:` patterns. When there are some, a transaction's amount is
    /// what moved in those accounts (`amount_in`), as a register shows it.
    pub fn account_focus(&self) -> Vec<&Pattern> {
        self.terms
            .iter()
            .filter_map(|t| match t {
                Term::Account(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    /// The date range implied by the query's positive `date:` terms (their intersection).
    pub fn date_range(&self) -> DateRange {
        let mut r = DateRange::default();
        for t in &self.terms {
            if let Term::Date(d) = t {
                if let Some(s) = d.start {
                    r.start = Some(r.start.map_or(s, |x| x.max(s)));
                }
                if let Some(e) = d.end {
                    r.end = Some(r.end.map_or(e, |x| x.min(e)));
                }
            }
        }
        r
    }

    /// True when everything this query matches is sure to match `previous` too, so a backend may filter the previous
    /// matches instead of the whole ledger (typing forward in the filter). Conservative: false when unsure.
    pub fn narrows(&self, previous: &Query) -> bool {
        let old = &previous.terms;
        if self.terms.len() < old.len() {
            return false;
        }
        for (i, (o, n)) in old.iter().zip(&self.terms).enumerate() {
            if o == n {
                continue;
            }
            // Only the last old term may have grown, and only a longer needle of the same text kind.
            let grew = i + 1 == old.len()
                && match (o, n) {
                    (Term::Text(a), Term::Text(b))
                    | (Term::Desc(a), Term::Desc(b))
                    | (Term::Payee(a), Term::Payee(b))
                    | (Term::Note(a), Term::Note(b))
                    | (Term::Code(a), Term::Code(b))
                    | (Term::Account(a), Term::Account(b)) => match (a.text(), b.text()) {
                        (Some(a), Some(b)) => b.contains(a),
                        _ => false,
                    },
                    _ => false,
                };
            // A grown term in an OR group narrows only when it is alone in its group.
            if !grew
                || (o.or_group().is_some()
                    && old.iter().filter(|t| t.or_group() == o.or_group()).count() > 1)
            {
                return false;
            }
        }
        // Added terms narrow unless they join an OR group the previous query already had (that widens it).
        self.terms[old.len()..].iter().all(|t| {
            t.or_group()
                .is_none_or(|g| !old.iter().any(|o| o.or_group() == Some(g)))
        })
    }

    /// A new query that also requires `extra` (both sources joined with a space).
    pub fn and(&self, extra: &Query) -> Query {
        let mut terms = self.terms.clone();
        terms.extend(extra.terms.iter().cloned());
        let source = match (self.source.is_empty(), extra.source.is_empty()) {
            (true, _) => extra.source.clone(),
            (_, true) => self.source.clone(),
            _ => format!("{} {}", self.source, extra.source),
        };
        Query { terms, source }
    }
}

/// Adds to `sum` the postings of `t` to the accounts `accounts` match: the transaction seen from those accounts'
/// side (the money that left checking is negative there, whatever else the transaction did).
pub fn amount_in<T: TxnView + ?Sized>(
    t: &T,
    accounts: &[&Pattern],
    sum: &mut crate::domain::Balance,
) {
    t.for_each_posting(&mut |p| {
        if accounts.iter().any(|a| a.is_match(p.account)) {
            sum.add(p.quantity, p.commodity);
        }
        false
    });
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    /// 1-based character column where the offending term starts.
    pub column: usize,
    pub message: String,
}
