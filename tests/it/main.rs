//! Every integration test in one binary: one link instead of one per file, which is most of what a cold
//! `cargo test` spends on 2 cores. Each module was a test file of its own and keeps its name; `rest_support` and
//! `servers` are the shared set-up (a `tally serve` on loopback; test servers for the finance APIs).

mod conformance_suite;
mod rest_support;
mod servers;

mod cli;
mod cli_control_chars;
mod cli_install;
mod config;
mod conformance;
mod e2e_dashboard;
mod edit_props;
mod import;
mod import_perf;
mod journal_safety;
mod mirror_dialects;
mod mirror_hledger_web;
mod mirror_perf;
mod mirror_sure;
mod oracle;
mod queries;
mod reconcile;
mod reconcile_servers;
mod register;
mod rest_auth;
mod rest_bulk_tag;
mod rest_cli;
mod rest_killed;
mod rest_params;
mod rest_patch;
mod rest_rate_limit;
mod review_perf;
mod save_races;
mod serve_concurrency;
mod serve_edges;
mod servers_selftest;
mod suggest;
mod sure_server_selftest;
mod ui_effects;
mod ui_perf;
mod ui_snapshots;
mod ui_update;
