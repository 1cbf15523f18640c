//! The asset status state machine.
//!
//! ```text
//! offline ──► uploading ──► processing ──► ready
//!    │            │             │  ▲         │
//!    │            └──► failed ◄─┘  └─────────┘ (reprocess)
//!    │                   │ ▲ retry
//!    └─────► any live status ──► deleted (soft, restorable) ──► purged (tombstone)
//!                                    └──► restored: ready, failed or processing, as it was
//! ```
//!
//! `offline`: catalogued without a master yet (an archive record); `purged`: the master and
//! renditions are gone after the retention period, the row stays as a tombstone.

crate::names! {
    pub enum AssetStatus / UnknownStatus ("asset status") {
        Uploading = "uploading",
        Processing = "processing",
        Ready = "ready",
        Failed = "failed",
        /// Soft-deleted: out of listings and search, restorable until its retention deadline.
        Deleted = "deleted",
        /// Deleted for good: master and renditions removed, the row kept as a tombstone.
        Purged = "purged",
        /// Catalogued with no master yet.
        Offline = "offline",
    }
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal asset status transition from {from} to {to}")]
pub struct IllegalTransition {
    pub from: AssetStatus,
    pub to: AssetStatus,
}

impl AssetStatus {
    /// Whether the state machine allows going from `self` to `to`. Staying put is not a
    /// transition: callers that replay events treat it as a no-op.
    pub fn can_become(self, to: AssetStatus) -> bool {
        use AssetStatus::*;
        matches!(
            (self, to),
            (Offline, Uploading | Processing)
                | (Uploading, Processing)
                | (Uploading, Failed)
                | (Processing, Ready)
                | (Processing, Failed)
                | (Ready, Processing)
                | (Failed, Processing)
                | (Offline | Uploading | Processing | Ready | Failed, Deleted)
                | (Deleted, Processing | Ready | Failed)
                | (Deleted, Purged)
        )
    }

    /// The status after a transition to `to`, or the typed error saying why not.
    pub fn transition(self, to: AssetStatus) -> Result<AssetStatus, IllegalTransition> {
        if self.can_become(to) { Ok(to) } else { Err(IllegalTransition { from: self, to }) }
    }

    /// Whether the asset is gone from listings and search (deleted or purged).
    pub fn is_removed(self) -> bool {
        matches!(self, AssetStatus::Deleted | AssetStatus::Purged)
    }
}

#[cfg(test)]
mod tests {
    use super::AssetStatus::{self, *};

    #[test]
    fn the_lifecycle_transitions_are_allowed() {
        assert_eq!(Uploading.transition(Processing), Ok(Processing));
        assert_eq!(Processing.transition(Ready), Ok(Ready));
        assert_eq!(Processing.transition(Failed), Ok(Failed));
        assert_eq!(Ready.transition(Processing), Ok(Processing));
        assert_eq!(Failed.transition(Processing), Ok(Processing));
        assert_eq!(Ready.transition(Deleted), Ok(Deleted));
        // A restore goes back to what the asset was.
        for was in [Processing, Ready, Failed] {
            assert_eq!(Deleted.transition(was), Ok(was));
        }
        assert_eq!(Deleted.transition(Purged), Ok(Purged));
        assert_eq!(Offline.transition(Uploading), Ok(Uploading));
    }

    #[test]
    fn a_refused_transition_names_both_ends() {
        let err = Ready.transition(Uploading).unwrap_err();
        assert_eq!((err.from, err.to), (Ready, Uploading));
        assert_eq!(err.to_string(), "illegal asset status transition from ready to uploading");
        for (from, to) in [
            (Deleted, Uploading),
            (Deleted, Offline),
            (Uploading, Ready),
            (Failed, Ready),
            (Purged, Processing),
            (Purged, Deleted),
            (Ready, Purged),
        ] {
            assert!(from.transition(to).is_err(), "{from} -> {to}");
        }
    }

    #[test]
    fn a_tombstone_never_comes_back() {
        assert!(AssetStatus::ALL.iter().all(|to| !Purged.can_become(*to)));
    }
}
