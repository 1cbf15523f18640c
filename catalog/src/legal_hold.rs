//! A legal hold: an archivist's order that an asset be kept whatever else is asked of it
//! (litigation, an inquiry): while held it cannot be deleted, and a purge passes it by.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LegalHold {
    /// Who placed it.
    pub by: String,
    pub at: DateTime<Utc>,
    /// Why (a case number, an order): shown to whoever is refused a delete.
    pub reason: String,
}

/// A reason that cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadReason {
    #[error("a legal hold needs a reason (a case or an order): it is empty")]
    Empty,
    #[error("the reason has {0} characters: at most {MAX_REASON_CHARS}")]
    TooLong(usize),
}

/// The reason trimmed, or why it cannot be kept.
pub fn check_reason(reason: &str) -> Result<String, BadReason> {
    let reason = reason.trim();
    let chars = reason.chars().count();
    if chars == 0 {
        Err(BadReason::Empty)
    } else if chars > MAX_REASON_CHARS {
        Err(BadReason::TooLong(chars))
    } else {
        Ok(reason.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_trimmed_and_must_say_something_briefly() {
        assert_eq!(check_reason("  Causa 123/2026 \n").as_deref(), Ok("Causa 123/2026"));
        assert_eq!(check_reason(" \t"), Err(BadReason::Empty));
        let long = "ñ".repeat(MAX_REASON_CHARS + 1);
        assert_eq!(check_reason(&long), Err(BadReason::TooLong(MAX_REASON_CHARS + 1)));
        assert!(check_reason(&"ñ".repeat(MAX_REASON_CHARS)).is_ok(), "counted in characters");
    }
}
