//! The thumbnail of a picture (a poster frame of a video, or the image itself, upright) at its
//! content-addressed key, reused when that key already holds one (a replay after a crash). A
//! missing thumbnail is shown on its stage but leaves the asset usable.

use std::sync::atomic::AtomicBool;

use acervo_catalog::rendition::THUMBNAIL_PROFILE;
use acervo_catalog::{MediaKind, Rendition, Stage as StageName, WorkResult};
use acervo_lakehouse::keys;
use acervo_operators::{ThumbnailSource, thumbnail};
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::Probed;
use crate::context::StageContext;
use crate::stage::{Done, FailurePolicy, JobKey, Stage, StageError};

pub struct ThumbnailStage;

const STAGE: StageName = StageName::Thumbnail;

impl Stage for ThumbnailStage {
    type Input = Probed;
    /// The thumbnail, or `None` when there is no picture to take it from.
    type Output = Option<Rendition>;

    fn name(&self) -> StageName {
        STAGE
    }

    fn job(&self, input: &Probed) -> JobKey {
        JobKey::Asset(input.job.asset.id)
    }

    fn policy(&self) -> FailurePolicy {
        FailurePolicy { retry: false, dead_letter: false }
    }

    fn run(
        &self,
        p: &Probed,
        ctx: &StageContext,
        _cancel: &AtomicBool,
    ) -> Result<Option<Rendition>, StageError> {
        let asset = &p.job.asset;
        let technical = &p.technical;
        let source = match asset.kind {
            MediaKind::Video => {
                technical.duration_seconds.map(|d| ThumbnailSource::Video { duration_seconds: d })
            }
            _ => Some(ThumbnailSource::Image {
                orientation: technical.exif.as_ref().and_then(|e| e.orientation),
            }),
        };
        if source.is_none() && technical.width.is_none() {
            return Ok(None);
        }
        let store = |e: acervo_lakehouse::MasterError| {
            StageError::from_error(STAGE, format!("storing the thumbnail: {e}"), e)
        };
        let key = keys::thumbnail(asset.id, &asset.sha256, THUMBNAIL_PROFILE, "jpg");
        let (jpeg, width, height) = match ctx
            .runtime
            .block_on(ctx.masters.get_if_exists(&key))
            .map_err(store)?
        {
            Some(bytes) => {
                // Written before a crash: reuse it rather than decode the master again.
                let size = imagesize::blob_size(&bytes).map_err(|e| {
                    StageError::permanent(STAGE, format!("the stored thumbnail is unreadable: {e}"))
                })?;
                (bytes.to_vec(), size.width as u32, size.height as u32)
            }
            None => {
                let source = source.unwrap_or(ThumbnailSource::Video { duration_seconds: 0.0 });
                let thumb = thumbnail(p.master.path(), source, ctx.limits)
                    .map_err(|e| StageError::operator(STAGE, &asset.original_filename, e))?;
                ctx.runtime
                    .block_on(ctx.masters.put_small(&key, thumb.jpeg.clone()))
                    .map_err(store)?;
                (thumb.jpeg, thumb.width, thumb.height)
            }
        };
        Ok(Some(Rendition {
            asset_id: asset.id,
            profile: THUMBNAIL_PROFILE.into(),
            key,
            mime: "image/jpeg".into(),
            width: Some(width),
            height: Some(height),
            size: jpeg.len() as u64,
            sha256: hex::encode(Sha256::digest(&jpeg)),
            created_at: Utc::now(),
        }))
    }

    fn record(&self, done: &Done<Probed, Option<Rendition>>) -> Vec<WorkResult> {
        let id = done.input.job.asset.id;
        vec![match &done.outcome {
            Ok(Some(rendition)) => WorkResult::RenditionWritten { rendition: rendition.clone() },
            Ok(None) => {
                WorkResult::StageSkipped { id, stage: STAGE, reason: "no picture stream".into() }
            }
            Err(e) if e.is_cancelled() => {
                WorkResult::StageCancelled { id, stage: STAGE, reason: e.reason.clone() }
            }
            Err(e) => WorkResult::StageFailed { id, stage: STAGE, reason: e.reason.clone() },
        }]
    }
}
