//! The subcommands.

pub mod audit;
pub mod ingest;
pub mod reindex;
pub mod search;
pub mod serve;
pub mod sql;
pub mod verify;
