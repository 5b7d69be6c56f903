//! The backend conformance suite: the same scenarios run against every `Backend` (the journal on a temp file, the
//! REST client against `tally serve`, each dialect against its test server). Tests call `run_all` with a backend
//! loaded from `FIXTURE`; every scenario panics with a message naming itself when the backend disagrees.

/// The fixture ledger every backend under test is loaded with.
pub const FIXTURE: &str = include_str!("../../tests/fixtures/conformance.journal");
