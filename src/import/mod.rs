//! Importing bank CSV (issue 13, first part): hledger's CSV rules files read unchanged (`rules`) and CSV records
//! made into transactions the way hledger's CSV reader makes them (`reader`), which `tally import` appends to a
//! journal after leaving out what it already holds (`dedup`).

pub mod dedup;
mod plan;
pub mod reader;
pub mod rules;

pub use plan::{Applied, ImportError, Plan, Row, RowFate, apply, plan};
