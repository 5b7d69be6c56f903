//! Importing bank CSV (issue 13, first part): hledger's CSV rules files read unchanged (`rules`) and CSV records
//! made into transactions the way hledger's CSV reader makes them (`reader`, with `amount`, `date` and `postings`
//! for the fields), which `tally import` appends to a journal after leaving out what it already holds (`dedup`) —
//! all at once (`plan`), or after the dashboard's preview, whose file prompt completes paths (`paths`). A categorised
//! transaction can become a rule for the next import (`promote`).

pub mod amount;
mod date;
pub mod dedup;
mod paths;
mod plan;
pub mod postings;
pub mod promote;
pub mod reader;
pub mod rules;

pub use paths::complete_path;
pub use plan::{Applied, ImportError, Plan, Row, RowFate, apply, plan};
