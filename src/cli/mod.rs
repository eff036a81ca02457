//! Command-line subcommands; `main.rs` only dispatches here.

pub mod replay;
