//! tally's query language, a subset of hledger's plus tally's own terms (DESIGN §6): free words, `acct:`, `desc:`,
//! `payee:`, `note:`, `tag:NAME[=VALUE]`, `amt:`, `date:`, `status:`, `cur:`, `not:`, `is:review`, `is:untagged`.
//! `parse` turns text into a `Query`; errors carry the 1-based column where the bad term starts. `Query::matches`
//! tests anything that implements `TxnView`, so backends can filter their own compact records without building
//! `Transaction`s. As in hledger, terms of the same kind among `acct: desc: payee: note: status: cur:` are OR'd;
//! free words and all other terms must all match.

mod matcher;
mod parser;

pub use matcher::{PostingView, TxnView, contains_ci};
pub use parser::parse;

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
    /// A free word: matches description, payee or note (case-insensitive). Stored lowercased.
    Text(String),
    Account(String),
    Desc(String),
    Payee(String),
    Note(String),
    Tag {
        name: String,
        value: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    /// 1-based character column where the offending term starts.
    pub column: usize,
    pub message: String,
}
