//! The subcommands.

pub mod admin;
pub mod audit;
pub mod ingest;
pub mod policy;
pub mod purge;
pub mod reindex;
pub mod search;
pub mod serve;
pub mod session;
pub mod sql;
pub mod tls;
pub mod verify;
