//! tally: a keyboard-driven terminal dashboard for personal-finance data.
//!
//! - `domain`: money, transactions, accounts, tags, status (no I/O).
//! - `query`: the query language, its parser and matcher.
//! - `backend`: the `Backend` trait every data source implements, and its conformance suite.

pub mod backend;
pub mod domain;
pub mod query;
