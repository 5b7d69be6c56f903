//! Importing bank CSV (issue 13, first part): hledger's CSV rules files read unchanged (`rules`) and CSV records
//! made into transactions the way hledger's CSV reader makes them (`reader`), which `tally import` appends to a
//! journal after leaving out what it already holds.

pub mod reader;
pub mod rules;
