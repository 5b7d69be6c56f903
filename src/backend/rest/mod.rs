//! The REST client backend for the tally API (`tally serve` and Refinal-style servers); the client is being written.

pub mod wire;
