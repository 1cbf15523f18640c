//! One media job: everything the pool does for a newly ingested (or reprocessed) asset. Probe,
//! then the enrichment handed to its own pool (it runs while this job goes on), then (for
//! pictures) a thumbnail at its content-addressed key, skipped when that key already holds one
//! (a replay after a crash), then the renditions stage with retries, cancellation and a
//! dead-letter record when it fails for good. Every failure becomes a result with a reason,
//! never a panic.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use acervo_catalog::config::JobsConfig;
use acervo_catalog::rendition::THUMBNAIL_PROFILE;
use acervo_catalog::{
    AssetId, MediaKind, Rendition, RenditionProfiles, Stage, TechnicalMetadata, WorkResult,
    media_stages,
};
use acervo_lakehouse::{MasterStore, keys};
use acervo_operators::{ProbeLimits, ThumbnailSource, probe, thumbnail};
use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::jobs::JobRegistry;
use crate::metrics::Metrics;
use crate::renditions_stage;
use crate::retry::{StageError, dead_letter, with_retries};

pub struct MediaContext {
    pub masters: MasterStore,
    pub runtime: tokio::runtime::Handle,
    pub jobs: Arc<JobRegistry>,
    pub metrics: Arc<Metrics>,
    pub limits: ProbeLimits,
    pub profiles: RenditionProfiles,
    pub jobs_config: JobsConfig,
    /// Where passes write before their outputs are committed to the store.
    pub work_dir: PathBuf,
    pub models: crate::enrich_stage::Models,
    /// The label and text models, batched across assets.
    pub inference: crate::enrich_stage::Inference,
}

/// A part of a job handed to another pool: its results reach the dataflow on their own, and
/// the job's event is done when its last part is.
pub struct Part {
    pub id: AssetId,
    pub stage: Stage,
    pub run: Box<dyn FnOnce() -> Vec<WorkResult> + Send>,
}

#[derive(Clone, Debug)]
pub struct MediaInput {
    pub id: AssetId,
    pub kind: MediaKind,
    pub sha256: String,
    pub master_key: String,
    /// Title, description and tags, for the text embedding.
    pub text: String,
    /// Run only this stage (after the probe it needs); all of the kind's stages otherwise.
    pub only: Option<Stage>,
}

/// The results of a job whose operator panicked: its stages failed, with the reason an editor
/// sees and the log keeps (a bug to report, not a property of the file).
pub(crate) fn panicked(
    work: &crate::graph::Work,
    panic: &(dyn std::any::Any + Send),
) -> Vec<WorkResult> {
    let reason = panic_reason(panic);
    match work {
        crate::graph::Work::Asset(input) => {
            tracing::error!(asset = %input.id, %reason, "a media job panicked");
            media_stages(input.kind)
                .iter()
                .filter(|s| input.only.is_none_or(|o| **s == o))
                .map(|s| WorkResult::StageFailed {
                    id: input.id,
                    stage: *s,
                    reason: reason.clone(),
                })
                .collect()
        }
        crate::graph::Work::OnDemand(r) => {
            tracing::error!(asset = %r.input.id, job = %r.job_id, %reason, "an on-demand job panicked");
            vec![WorkResult::OnDemandEnded { id: r.input.id, job_id: r.job_id }]
        }
    }
}

/// The results of a part whose operator panicked: its stage failed.
pub(crate) fn part_panicked(
    id: AssetId,
    stage: Stage,
    panic: &(dyn std::any::Any + Send),
) -> Vec<WorkResult> {
    let reason = panic_reason(panic);
    tracing::error!(asset = %id, stage = stage.as_str(), %reason, "a media job part panicked");
    vec![WorkResult::StageFailed { id, stage, reason }]
}

fn panic_reason(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    format!("internal error (please report it): {what}")
}

/// A local copy of the master: the file itself on a local store, a temporary download otherwise.
pub(crate) enum LocalMaster {
    InPlace(PathBuf),
    Downloaded(tempfile::TempPath),
}

impl LocalMaster {
    pub(crate) fn path(&self) -> &std::path::Path {
        match self {
            LocalMaster::InPlace(p) => p,
            LocalMaster::Downloaded(p) => p,
        }
    }
}

pub(crate) fn fetch_master(ctx: &MediaContext, input: &MediaInput) -> Result<LocalMaster, String> {
    if let Some(path) = ctx.masters.objects().local_path(&input.master_key) {
        return Ok(LocalMaster::InPlace(path));
    }
    let ext = keys::extension_of(&input.master_key);
    let tmp = tempfile::Builder::new()
        .prefix("acervo-master-")
        .suffix(&if ext.is_empty() { String::new() } else { format!(".{ext}") })
        .tempfile()
        .map_err(|e| format!("cannot create a temporary file for the master: {e}"))?
        .into_temp_path();
    ctx.runtime
        .block_on(ctx.masters.download_to(&input.master_key, &tmp))
        .map_err(|e| e.to_string())?;
    Ok(LocalMaster::Downloaded(tmp))
}

/// Times a stage, reports it live and counts its outcome.
fn stage<T>(
    ctx: &MediaContext,
    id: AssetId,
    stage: Stage,
    f: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    ctx.jobs.started(id, stage);
    let start = Instant::now();
    let out = f();
    ctx.metrics
        .media_seconds
        .with_label_values(&[stage.as_str()])
        .observe(start.elapsed().as_secs_f64());
    ctx.metrics
        .media_jobs
        .with_label_values(&[stage.as_str(), if out.is_ok() { "ok" } else { "failed" }])
        .inc();
    ctx.jobs.finished(id, stage);
    out
}

/// Runs the job; `fan_out` takes the parts that run on another pool (the enrichment).
pub fn run(
    ctx: &Arc<MediaContext>,
    input: &MediaInput,
    cancel: &Arc<AtomicBool>,
    fan_out: &dyn Fn(Part),
) -> Vec<WorkResult> {
    let stages: Vec<Stage> = media_stages(input.kind)
        .iter()
        .copied()
        .filter(|s| input.only.is_none_or(|o| *s == o || *s == Stage::Probe))
        .collect();
    let id = input.id;
    let mut results = Vec::new();
    if stages.is_empty() {
        return results;
    }
    if cancel.load(Ordering::Relaxed) {
        // Cancelled while queued: nothing ran, nothing is kept.
        for s in &stages {
            results.push(WorkResult::StageCancelled {
                id,
                stage: *s,
                reason: "cancelled before it started".into(),
            });
        }
        return results;
    }
    let master = match fetch_master(ctx, input) {
        Ok(m) => Arc::new(m),
        Err(reason) => {
            results.push(WorkResult::StageFailed {
                id,
                stage: Stage::Probe,
                reason: format!("reading the master: {reason}"),
            });
            return results;
        }
    };
    let technical = stage(ctx, id, Stage::Probe, || {
        probe(master.path(), input.kind, ctx.limits).map_err(|e| e.to_string())
    });
    let technical: TechnicalMetadata = match technical {
        Ok(t) => {
            results.push(WorkResult::Probed { id, technical: t.clone() });
            t
        }
        Err(reason) => {
            // A master that cannot be probed is permanent: recorded once, never retried.
            dead_letter(ctx, id, None, Stage::Probe, &StageError::Permanent(reason.clone()), 1);
            results.push(WorkResult::StageFailed { id, stage: Stage::Probe, reason });
            for s in stages.iter().filter(|s| **s != Stage::Probe) {
                results.push(WorkResult::StageSkipped {
                    id,
                    stage: *s,
                    reason: "the probe failed".into(),
                });
            }
            return results;
        }
    };
    if stages.contains(&Stage::Enrich) {
        // Models work on their own pool while this thread makes the renditions.
        let (ctx, input, master, technical, cancel) = (
            Arc::clone(ctx),
            input.clone(),
            Arc::clone(&master),
            technical.clone(),
            Arc::clone(cancel),
        );
        fan_out(Part {
            id,
            stage: Stage::Enrich,
            run: Box::new(move || vec![enrich(&ctx, &input, &master, &technical, &cancel)]),
        });
    }
    if stages.contains(&Stage::Thumbnail) {
        let source = match input.kind {
            MediaKind::Video => {
                technical.duration_seconds.map(|d| ThumbnailSource::Video { duration_seconds: d })
            }
            _ => Some(ThumbnailSource::Image {
                orientation: technical.exif.as_ref().and_then(|e| e.orientation),
            }),
        };
        let result = match source {
            None if technical.width.is_none() => WorkResult::StageSkipped {
                id,
                stage: Stage::Thumbnail,
                reason: "no picture stream".into(),
            },
            source => match stage(ctx, id, Stage::Thumbnail, || {
                make_thumbnail(ctx, input, master.path(), source)
            }) {
                Ok(rendition) => WorkResult::RenditionWritten { rendition },
                Err(reason) => WorkResult::StageFailed { id, stage: Stage::Thumbnail, reason },
            },
        };
        results.push(result);
    }
    if stages.contains(&Stage::Renditions) {
        results.push(renditions(ctx, input, &master, &technical, cancel));
    }
    results
}

/// Suggestions from models: a failure here is shown on the stage, never fails the asset.
fn enrich(
    ctx: &MediaContext,
    input: &MediaInput,
    master: &LocalMaster,
    technical: &TechnicalMetadata,
    cancel: &AtomicBool,
) -> WorkResult {
    let id = input.id;
    if cancel.load(Ordering::Relaxed) {
        return WorkResult::StageCancelled {
            id,
            stage: Stage::Enrich,
            reason: "cancelled on request".into(),
        };
    }
    stage(ctx, id, Stage::Enrich, || {
        crate::enrich_stage::run(ctx, input, master.path(), technical, cancel)
    })
    .unwrap_or_else(|reason| WorkResult::StageFailed { id, stage: Stage::Enrich, reason })
}

fn renditions(
    ctx: &MediaContext,
    input: &MediaInput,
    master: &LocalMaster,
    technical: &TechnicalMetadata,
    cancel: &AtomicBool,
) -> WorkResult {
    let id = input.id;
    let stage = Stage::Renditions;
    let start = Instant::now();
    let (outcome, attempts) = with_retries(ctx, id, stage, cancel, |n| {
        ctx.jobs.attempt(id, stage, n);
        renditions_stage::run(ctx, input, master.path(), technical, cancel)
    });
    ctx.metrics
        .media_seconds
        .with_label_values(&[stage.as_str()])
        .observe(start.elapsed().as_secs_f64());
    ctx.jobs.finished(id, stage);
    let label = |o: &str| ctx.metrics.media_jobs.with_label_values(&[stage.as_str(), o]).inc();
    match outcome {
        Ok(renditions) => {
            label("ok");
            WorkResult::RenditionsMade { id, renditions }
        }
        Err(StageError::Cancelled) => {
            label("cancelled");
            WorkResult::StageCancelled { id, stage, reason: "cancelled on request".into() }
        }
        Err(e) => {
            label("failed");
            dead_letter(ctx, id, None, stage, &e, attempts);
            let reason = match &e {
                StageError::Transient(r) => format!("{r} (gave up after {attempts} attempts)"),
                StageError::Permanent(r) => r.clone(),
                StageError::Cancelled => String::new(),
            };
            WorkResult::StageFailed { id, stage, reason }
        }
    }
}

fn make_thumbnail(
    ctx: &MediaContext,
    input: &MediaInput,
    path: &std::path::Path,
    source: Option<ThumbnailSource>,
) -> Result<Rendition, String> {
    let key = keys::thumbnail(input.id, &input.sha256, THUMBNAIL_PROFILE, "jpg");
    let existing =
        ctx.runtime.block_on(ctx.masters.get_if_exists(&key)).map_err(|e| e.to_string())?;
    let (jpeg, width, height) = match existing {
        Some(bytes) => {
            // Written before a crash: reuse it rather than decode the master again.
            let size = imagesize::blob_size(&bytes)
                .map_err(|e| format!("existing thumbnail {key} is unreadable: {e}"))?;
            (bytes.to_vec(), size.width as u32, size.height as u32)
        }
        None => {
            let source = source.unwrap_or(ThumbnailSource::Video { duration_seconds: 0.0 });
            let thumb = thumbnail(path, source, ctx.limits).map_err(|e| e.to_string())?;
            ctx.runtime
                .block_on(ctx.masters.put_small(&key, thumb.jpeg.clone()))
                .map_err(|e| e.to_string())?;
            (thumb.jpeg, thumb.width, thumb.height)
        }
    };
    Ok(Rendition {
        asset_id: input.id,
        profile: THUMBNAIL_PROFILE.into(),
        key,
        mime: "image/jpeg".into(),
        width: Some(width),
        height: Some(height),
        size: jpeg.len() as u64,
        sha256: hex::encode(Sha256::digest(&jpeg)),
        created_at: Utc::now(),
    })
}
