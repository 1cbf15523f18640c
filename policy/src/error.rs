//! What can go wrong loading or evaluating a policy, with the file or rule concerned.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the policy file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The first line of regorus's message names the file, line and column.
    #[error("the policy does not parse: {0}")]
    Parse(String),
    #[error("the policy {origin} does not define the rule {rule} (package acervo)")]
    MissingRule { origin: String, rule: &'static str },
    #[error("evaluating {rule}: {reason}")]
    Eval { rule: &'static str, reason: String },
    #[error("{rule} gave {value}, which is not {expected}")]
    Shape { rule: &'static str, value: String, expected: &'static str },
}
