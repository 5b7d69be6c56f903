//! tally: a keyboard-driven terminal dashboard for personal-finance data.
//!
//! - `domain`: money, transactions, accounts, tags, status (no I/O).
//! - `query`: the query language, its parser and matcher.
//! - `backend`: the `Backend` trait every data source implements, the journal file backend
//!   (`backend::journal`) and the REST client (`backend::rest`).
//! - `analytics`: summaries and breakdowns computed from transactions, for backends without server analytics.
//! - `config`: the config file, profiles, theme and keymap overrides.
//! - `app` and `ui`: the dashboard (state, actions, update, effects; drawing); `tui`: the terminal loop that joins them.
//! - `server`: `tally serve`, any backend behind the tally REST API.
//! - `ops`: every edit a person can make (status, review, tags, category, note, undo/redo) as one batch write;
//!   the CLI, the dashboard and `tally serve` all edit through it.
//! - `reconcile`: an account set against a bank statement — the cleared balance, the smallest set of uncleared
//!   postings that makes up the difference, a likely typo — and its one write (statuses and a balance assertion).
//! - `cli`: the headless commands; `generate`: deterministic sample journals.
//! - `text`: text made safe for a terminal (control characters shown, never sent), for `ui`, `cli` and `main`.

pub mod analytics;
pub mod app;
pub mod backend;
pub mod cli;
pub mod config;
pub mod domain;
pub mod generate;
pub mod import;
pub mod layout;
pub mod ops;
pub mod query;
pub mod reconcile;
pub mod server;
pub mod text;
pub mod tui;
pub mod ui;
