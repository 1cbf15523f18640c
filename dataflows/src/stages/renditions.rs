//! The renditions of an asset: finds which of its kind's renditions are already stored (a
//! folder's commit marker), makes the missing ones in one pass over the master into a local
//! work folder, then commits each: its files first, the marker last. A reader never sees a
//! partial rendition, a cancelled job leaves nothing, and a re-run reuses what is stored.
//! Without its renditions (proxies are what editors work on) an asset is failed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use acervo_catalog::{AssetId, MediaKind, Rendition, Stage as StageName, WorkResult};
use acervo_lakehouse::{MasterError, keys};
use acervo_operators::transcode::{Control, Produced, audio_pass, image_pass, video_pass};
use chrono::Utc;

use super::Probed;
use crate::context::StageContext;
use crate::retry::final_reason;
use crate::stage::{CANCELLED_ON_REQUEST, Done, FailurePolicy, JobKey, Stage, StageError};

pub struct RenditionsStage;

const STAGE: StageName = StageName::Renditions;

impl Stage for RenditionsStage {
    type Input = Probed;
    type Output = Vec<Rendition>;

    fn name(&self) -> StageName {
        STAGE
    }

    fn job(&self, input: &Probed) -> JobKey {
        JobKey::Asset(input.job.asset.id)
    }

    fn policy(&self) -> FailurePolicy {
        FailurePolicy { retry: true, dead_letter: true }
    }

    fn run(
        &self,
        p: &Probed,
        ctx: &StageContext,
        cancel: &AtomicBool,
    ) -> Result<Vec<Rendition>, StageError> {
        make(ctx, p, cancel)
    }

    fn record(&self, done: &Done<Probed, Vec<Rendition>>) -> Vec<WorkResult> {
        let id = done.input.job.asset.id;
        vec![match &done.outcome {
            Ok(renditions) => WorkResult::RenditionsMade { id, renditions: renditions.clone() },
            Err(e) if e.is_cancelled() => {
                WorkResult::StageCancelled { id, stage: STAGE, reason: e.reason.clone() }
            }
            Err(e) => {
                WorkResult::StageFailed { id, stage: STAGE, reason: final_reason(e, done.attempts) }
            }
        }]
    }
}

fn store_err(stage: StageName) -> impl Fn(MasterError) -> StageError {
    move |e| StageError::from_error(stage, format!("storing a rendition: {e}"), e)
}

/// A temporary folder under the configured work directory, removed when dropped.
pub(crate) fn work_dir(
    ctx: &StageContext,
    stage: StageName,
) -> Result<tempfile::TempDir, StageError> {
    std::fs::create_dir_all(&ctx.work_dir)
        .and_then(|_| tempfile::Builder::new().prefix("acervo-renditions-").tempdir_in(&ctx.work_dir))
        .map_err(|e| {
            tracing::warn!(dir = %ctx.work_dir.display(), error = %e, "cannot create a work folder");
            StageError::transient(stage, format!("cannot create a work folder for the renditions: {}", e.kind()))
        })
}

/// Every rendition of the asset, made now or reused.
fn make(ctx: &StageContext, p: &Probed, cancel: &AtomicBool) -> Result<Vec<Rendition>, StageError> {
    let asset = &p.job.asset;
    let technical = &p.technical;
    let has_audio = technical.audio_codec.is_some();
    let mut done = Vec::new();
    let mut missing: HashMap<String, String> = HashMap::new();
    for (profile, fp) in ctx.profiles.outputs(asset.kind, has_audio) {
        let dir = keys::rendition_dir(asset.id, &asset.sha256, &profile, &fp);
        let marker = format!("{dir}/{}", keys::RENDITION_MARKER);
        match ctx.runtime.block_on(ctx.masters.get_if_exists(&marker)).map_err(store_err(STAGE))? {
            // A marker that does not parse is redone rather than trusted.
            Some(bytes) => match serde_json::from_slice::<Rendition>(&bytes) {
                Ok(r) => done.push(r),
                Err(_) => {
                    missing.insert(profile, dir);
                }
            },
            None => {
                missing.insert(profile, dir);
            }
        }
    }
    ctx.metrics.renditions.with_label_values(&["reused"]).inc_by(done.len() as u64);
    if missing.is_empty() {
        return Ok(done);
    }
    let work = work_dir(ctx, STAGE)?;
    let id = asset.id;
    let metrics_job = id.to_string();
    let progress = |f: f32| {
        ctx.jobs.progress(id, STAGE, f);
        ctx.metrics
            .job_progress
            .with_label_values(&[&metrics_job, STAGE.as_str(), "batch"])
            .set(f64::from(f));
    };
    let wanted = |name: &str| missing.contains_key(name);
    let ctl = Control { cancel, progress: &progress, wanted: &wanted };
    let duration = technical.duration_seconds.unwrap_or(0.0);
    let master = p.master.path();
    let produced = match asset.kind {
        MediaKind::Video => video_pass(master, work.path(), &ctx.profiles, duration, &ctl),
        MediaKind::Audio => audio_pass(master, work.path(), &ctx.profiles, duration, &ctl),
        MediaKind::Image => {
            let orientation = technical.exif.as_ref().and_then(|e| e.orientation);
            image_pass(master, work.path(), &ctx.profiles, orientation, ctx.limits, &ctl)
        }
        MediaKind::Document => Ok(Vec::new()),
    };
    let _ = ctx.metrics.job_progress.remove_label_values(&[&metrics_job, STAGE.as_str(), "batch"]);
    let produced =
        produced.map_err(|e| StageError::operator(STAGE, &asset.original_filename, e))?;
    for p in produced {
        let Some(dir) = missing.get(&p.profile) else { continue };
        let rendition = commit(ctx, STAGE, id, work.path(), dir, &p, cancel)?;
        ctx.metrics.renditions.with_label_values(&["made"]).inc();
        done.push(rendition);
    }
    Ok(done)
}

/// Uploads one rendition's files under `dir`, then its marker. On cancellation or failure the
/// files already uploaded are removed again.
pub(crate) fn commit(
    ctx: &StageContext,
    stage: StageName,
    asset: AssetId,
    work: &Path,
    dir: &str,
    p: &Produced,
    cancel: &AtomicBool,
) -> Result<Rendition, StageError> {
    let mut uploaded: Vec<String> = Vec::new();
    let store = store_err(stage);
    let result = (|| {
        let mut main = None;
        for file in &p.files {
            if cancel.load(Ordering::Relaxed) {
                return Err(StageError::cancelled(stage, CANCELLED_ON_REQUEST));
            }
            // Files are `{profile}/…` in the work folder and `{dir}/…` in the store.
            let inner: PathBuf = file.components().skip(1).collect();
            let key = format!("{dir}/{}", inner.to_string_lossy());
            let (sha256, size) = ctx
                .runtime
                .block_on(ctx.masters.put_file(&key, &work.join(file)))
                .map_err(&store)?;
            uploaded.push(key.clone());
            if *file == p.main {
                main = Some((key, sha256, size));
            }
        }
        let (key, sha256, size) = main.ok_or_else(|| {
            StageError::permanent(stage, format!("the {} rendition has no main file", p.profile))
        })?;
        let rendition = Rendition {
            asset_id: asset,
            profile: p.profile.clone(),
            key,
            mime: p.mime.to_string(),
            width: p.width,
            height: p.height,
            size,
            sha256,
            created_at: Utc::now(),
        };
        let marker = serde_json::to_vec_pretty(&rendition).map_err(|e| {
            StageError::permanent(stage, format!("encoding the rendition record: {e}"))
        })?;
        ctx.runtime
            .block_on(ctx.masters.put_small(&format!("{dir}/{}", keys::RENDITION_MARKER), marker))
            .map_err(&store)?;
        Ok(rendition)
    })();
    if result.is_err() {
        for key in uploaded {
            let _ = ctx.runtime.block_on(ctx.masters.delete(&key));
        }
    }
    result
}
