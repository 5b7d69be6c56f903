//! Importing bank CSV (issue 13, first part): hledger's CSV rules files read unchanged (`rules`) and CSV records
//! made into transactions the way hledger's CSV reader makes them (`reader`, with `amount`, `date` and `postings`
//! for the fields), which `tally import` appends to a journal after leaving out what it already holds (`dedup`).

pub mod amount;
mod date;
pub mod dedup;
mod plan;
pub mod postings;
pub mod reader;
pub mod rules;

pub use plan::{Applied, ImportError, Plan, Row, RowFate, apply, plan};
