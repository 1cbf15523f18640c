//! The asset status state machine.
//!
//! ```text
//! uploading ──► processing ──► ready
//!     │             │  ▲         │
//!     └──► failed ◄─┘  └─────────┘ (reprocess)
//!            │ ▲ retry
//! any live status ──► deleted (soft, with a retention deadline) ──► restored to processing
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssetStatus {
    Uploading,
    Processing,
    Ready,
    Failed,
    Deleted,
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal asset status transition from {from} to {to}")]
pub struct IllegalTransition {
    pub from: AssetStatus,
    pub to: AssetStatus,
}

impl AssetStatus {
    pub const ALL: [AssetStatus; 5] = [
        AssetStatus::Uploading,
        AssetStatus::Processing,
        AssetStatus::Ready,
        AssetStatus::Failed,
        AssetStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssetStatus::Uploading => "uploading",
            AssetStatus::Processing => "processing",
            AssetStatus::Ready => "ready",
            AssetStatus::Failed => "failed",
            AssetStatus::Deleted => "deleted",
        }
    }

    /// Whether the state machine allows going from `self` to `to`. Staying put is not a
    /// transition: callers that replay events treat it as a no-op.
    pub fn can_become(self, to: AssetStatus) -> bool {
        use AssetStatus::*;
        matches!(
            (self, to),
            (Uploading, Processing)
                | (Uploading, Failed)
                | (Processing, Ready)
                | (Processing, Failed)
                | (Ready, Processing)
                | (Failed, Processing)
                | (Uploading | Processing | Ready | Failed, Deleted)
                | (Deleted, Processing)
        )
    }

    /// The status after a transition to `to`, or the typed error saying why not.
    pub fn transition(self, to: AssetStatus) -> Result<AssetStatus, IllegalTransition> {
        if self.can_become(to) { Ok(to) } else { Err(IllegalTransition { from: self, to }) }
    }
}

impl fmt::Display for AssetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown asset status {0:?} (expected uploading, processing, ready, failed or deleted)")]
pub struct UnknownStatus(pub String);

impl FromStr for AssetStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AssetStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}
