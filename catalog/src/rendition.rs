//! Renditions: derived files (thumbnails, proxies) generated from a master.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::asset_id::AssetId;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rendition {
    pub asset_id: AssetId,
    /// Profile name, unique per asset (`thumbnail`, `proxy`, …).
    pub profile: String,
    /// Object-store key of the rendition.
    pub key: String,
    pub mime: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub size: u64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// The profile name of the poster frame / image thumbnail.
pub const THUMBNAIL_PROFILE: &str = "thumbnail";
