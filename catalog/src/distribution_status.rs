//! The state of one publication of an asset's rendition to one channel (`asset_distributions`,
//! seed 001 §4.3.5).

crate::names! {
    pub enum DistributionStatus / UnknownDistributionStatus ("distribution status") {
        /// A rule matched; not yet tried.
        Pending = "pending",
        /// Waiting for an embargo's time.
        Scheduled = "scheduled",
        Publishing = "publishing",
        Published = "published",
        /// The last attempt failed; another one is due.
        Failed = "failed",
        /// Gave up: a dead letter with the reason and a retry action.
        Dead = "dead",
        /// Taken down after the asset or the rule stopped matching.
        Retracted = "retracted",
    }
}
