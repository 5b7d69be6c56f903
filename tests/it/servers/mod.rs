//! Test servers that stand in for the hosted finance APIs tally's REST backends speak. Each one answers exactly as
//! its API document (`/work/shared/api/*.md` and the seed pages) says — envelopes, paging rules, auth headers, error
//! bodies, rate limits and their traps — records every request it receives so tests can assert what the client
//! sent, and can inject faults (HTML error pages, truncated bodies, missing fields) on demand. The machinery they
//! share (serving, recording, faults, in-flight counts, the fixed-window rate limiter, latency) is in `harness`;
//! FinWise, Fin X and Synci serve the same deterministic household from `ledger`. Include with `mod servers;` from
//! an integration test; the example binaries load the same files with `#[path]`.
#![allow(dead_code)]

pub mod finwise;
pub mod finx;
pub mod harness;
pub mod hledger_web;
pub mod ledger;
pub mod sure;
pub mod synci;
