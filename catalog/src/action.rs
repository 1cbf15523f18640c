//! What a principal asks to do, by name: the audit trail and the policy (`acervo-policy`, which
//! decides which roles allow what) use the same names.

crate::names! {
    pub enum Action / UnknownAction ("action") {
        /// Find, watch and download an asset, its renditions, transcript and frames.
        AssetRead = "asset_read",
        /// Upload a new asset.
        AssetCreate = "asset_create",
        /// Edit metadata, reprocess, make on-demand renditions, accept AI suggestions, cancel jobs.
        AssetEdit = "asset_edit",
        /// Soft-delete (restorable within retention).
        AssetDelete = "asset_delete",
        /// Reindex, restore and purge.
        AssetArchive = "asset_archive",
        /// Publish and distribute.
        AssetPublish = "asset_publish",
        /// Move an asset in the editorial workflow (which moves, the policy decides).
        AssetTransition = "asset_transition",
        /// Create, rename, move and delete collections; put assets in them.
        CollectionEdit = "collection_edit",
        /// Restrict a collection and grant it to users.
        CollectionRestrict = "collection_restrict",
        /// Read the audit trail.
        AuditRead = "audit_read",
        /// Create and change users, projects and memberships.
        Administer = "administer",
    }
}

impl Action {
    /// The action in words, for a refusal ("… may not edit assets in project …").
    pub fn describe(self) -> &'static str {
        match self {
            Action::AssetRead => "read assets",
            Action::AssetCreate => "upload assets",
            Action::AssetEdit => "edit assets",
            Action::AssetDelete => "delete assets",
            Action::AssetArchive => "reindex, restore or purge assets",
            Action::AssetPublish => "publish assets",
            Action::AssetTransition => "make this workflow move",
            Action::CollectionEdit => "edit collections",
            Action::CollectionRestrict => "restrict collections",
            Action::AuditRead => "read the audit trail",
            Action::Administer => "administer users and projects",
        }
    }
}
