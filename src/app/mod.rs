//! The dashboard's application core, in the Elm style (DESIGN §3): terminal events and backend replies become
//! `Action`s on one channel; `update(&mut State, Action) -> Vec<Effect>` changes the state without doing I/O; the
//! `EffectRunner` turns effects into backend calls on tokio and sends their results back as actions. Drawing
//! (`ui`) reads the state; the loop that owns the terminal and ties the two together is `crate::tui`.

mod action;
mod batch;
mod commands;
mod edits;
mod effects;
pub mod form;
pub mod import;
mod navigate;
pub mod reconcile;
mod requests;
mod state;
pub mod tree;
mod undo;
mod update;

pub use action::{Action, Effect, Opened, Reply, Slot, WriteKind};
pub use effects::EffectRunner;
pub use state::{
    AccountRow, Analytics, Filter, Generations, MAX_PERIODS, MAX_WINDOW, Mode, PAGE_ROWS,
    PROJECTION_MONTHS, Pane, Phase, Prompt, PromptKind, Requests, SPARK_MONTHS, STATUS_TICKS,
    Selection, Settings, State, StateOptions, StatusMessage, TableView, TxnWindow, Writes,
};
pub use undo::{UNDO_LIMIT, UndoEntry, UndoStack};
pub use update::{RELOAD_EVERY_TICKS, update};
