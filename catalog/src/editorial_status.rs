//! Where an asset stands in the newsroom's workflow, apart from its processing `status`:
//! `published` is an editorial decision that distribution rules fire on; a delivery never
//! changes it.

crate::names! {
    pub enum EditorialStatus / UnknownEditorialStatus ("editorial status") {
        Draft = "draft",
        InReview = "in_review",
        Approved = "approved",
        Published = "published",
        Archived = "archived",
    }
}

impl Default for EditorialStatus {
    /// A new asset, and one catalogued before editorial statuses existed: unpublished material
    /// is the sensitive default.
    fn default() -> Self {
        EditorialStatus::Draft
    }
}

impl EditorialStatus {
    /// The moves the workflow knows; who may make each is the policy's decision.
    pub fn can_move_to(self, to: EditorialStatus) -> bool {
        use EditorialStatus::*;
        matches!(
            (self, to),
            (Draft, InReview)
                | (InReview, Draft)
                | (InReview, Approved)
                | (Approved, InReview)
                | (Approved, Published)
                // Withdrawn: distribution rules see the retraction.
                | (Published, Approved)
                | (Published, Archived)
                | (Archived, Published)
        )
    }

    /// The statuses `self` may move to.
    pub fn next(self) -> Vec<EditorialStatus> {
        EditorialStatus::ALL.iter().copied().filter(|t| self.can_move_to(*t)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::EditorialStatus::*;

    #[test]
    fn publishing_goes_through_review_and_approval() {
        assert!(!Draft.can_move_to(Published));
        assert!(!Draft.can_move_to(Approved));
        assert!(Draft.can_move_to(InReview));
        assert!(InReview.can_move_to(Approved));
        assert!(Approved.can_move_to(Published));
        assert!(Published.can_move_to(Archived));
        assert!(!Archived.can_move_to(Draft));
        assert!(!Published.can_move_to(Published));
    }
}
