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
