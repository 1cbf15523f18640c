//! The renditions stage of an asset: finds which of its kind's renditions are already stored
//! (a folder's commit marker), makes the missing ones in one pass over the master into a local
//! work folder, then commits each: its files first, the marker last. A reader never sees a
//! partial rendition, a cancelled job leaves nothing, and a re-run reuses what is stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use acervo_catalog::{MediaKind, Rendition, Stage, TechnicalMetadata};
use acervo_lakehouse::keys;
use acervo_operators::OperatorError;
use acervo_operators::transcode::{Control, Produced, audio_pass, image_pass, video_pass};
use chrono::Utc;

use crate::media_job::{MediaContext, MediaInput};
use crate::retry::StageError;

pub fn classify(e: OperatorError) -> StageError {
    match e {
        OperatorError::Cancelled => StageError::Cancelled,
        e if e.is_transient() => StageError::Transient(e.to_string()),
        e => StageError::Permanent(e.to_string()),
    }
}

fn store_err(e: impl std::fmt::Display) -> StageError {
    StageError::Transient(e.to_string())
}

/// A temporary folder under the configured work directory, removed when dropped.
pub fn work_dir(ctx: &MediaContext) -> Result<tempfile::TempDir, StageError> {
    std::fs::create_dir_all(&ctx.work_dir)
        .and_then(|_| {
            tempfile::Builder::new().prefix("acervo-renditions-").tempdir_in(&ctx.work_dir)
        })
        .map_err(|e| {
            StageError::Transient(format!(
                "cannot create a work folder under {}: {e}",
                ctx.work_dir.display()
            ))
        })
}

/// Every rendition of the asset, made now or reused.
pub fn run(
    ctx: &MediaContext,
    input: &MediaInput,
    master: &Path,
    technical: &TechnicalMetadata,
    cancel: &AtomicBool,
) -> Result<Vec<Rendition>, StageError> {
    let has_audio = technical.audio_codec.is_some();
    let mut done = Vec::new();
    let mut missing: HashMap<String, String> = HashMap::new();
    for (profile, fp) in ctx.profiles.outputs(input.kind, has_audio) {
        let dir = keys::rendition_dir(input.id, &input.sha256, &profile, &fp);
        let marker = format!("{dir}/{}", keys::RENDITION_MARKER);
        match ctx.runtime.block_on(ctx.masters.get_if_exists(&marker)).map_err(store_err)? {
            Some(bytes) => match serde_json::from_slice::<Rendition>(&bytes) {
                Ok(r) => done.push(r),
                // A marker that does not parse is redone rather than trusted.
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
    let work = work_dir(ctx)?;
    let id = input.id;
    let metrics_job = id.to_string();
    let progress = |p: f32| {
        ctx.jobs.progress(id, Stage::Renditions, p);
        ctx.metrics
            .job_progress
            .with_label_values(&[&metrics_job, Stage::Renditions.as_str(), "batch"])
            .set(f64::from(p));
    };
    let wanted = |name: &str| missing.contains_key(name);
    let ctl = Control { cancel, progress: &progress, wanted: &wanted };
    let duration = technical.duration_seconds.unwrap_or(0.0);
    let produced = match input.kind {
        MediaKind::Video => video_pass(master, work.path(), &ctx.profiles, duration, &ctl),
        MediaKind::Audio => audio_pass(master, work.path(), &ctx.profiles, duration, &ctl),
        MediaKind::Image => {
            let orientation = technical.exif.as_ref().and_then(|e| e.orientation);
            image_pass(master, work.path(), &ctx.profiles, orientation, ctx.limits, &ctl)
        }
        MediaKind::Document => Ok(Vec::new()),
    };
    let _ = ctx.metrics.job_progress.remove_label_values(&[
        &metrics_job,
        Stage::Renditions.as_str(),
        "batch",
    ]);
    let produced = produced.map_err(classify)?;
    for p in produced {
        let Some(dir) = missing.get(&p.profile) else { continue };
        let rendition = commit(ctx, input, work.path(), dir, &p, cancel)?;
        ctx.metrics.renditions.with_label_values(&["made"]).inc();
        done.push(rendition);
    }
    Ok(done)
}

/// Uploads one rendition's files under `dir`, then its marker. On cancellation or failure the
/// files already uploaded are removed again.
pub fn commit(
    ctx: &MediaContext,
    input: &MediaInput,
    work: &Path,
    dir: &str,
    p: &Produced,
    cancel: &AtomicBool,
) -> Result<Rendition, StageError> {
    let mut uploaded: Vec<String> = Vec::new();
    let result = (|| {
        let mut main = None;
        for file in &p.files {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(StageError::Cancelled);
            }
            // Files are `{profile}/…` in the work folder and `{dir}/…` in the store.
            let inner: PathBuf = file.components().skip(1).collect();
            let key = format!("{dir}/{}", inner.to_string_lossy());
            let (sha256, size) = ctx
                .runtime
                .block_on(ctx.masters.put_file(&key, &work.join(file)))
                .map_err(store_err)?;
            uploaded.push(key.clone());
            if *file == p.main {
                main = Some((key, sha256, size));
            }
        }
        let (key, sha256, size) = main.ok_or_else(|| {
            StageError::Permanent(format!("the {} rendition has no main file", p.profile))
        })?;
        let rendition = Rendition {
            asset_id: input.id,
            profile: p.profile.clone(),
            key,
            mime: p.mime.to_string(),
            width: p.width,
            height: p.height,
            size,
            sha256,
            created_at: Utc::now(),
        };
        let marker = serde_json::to_vec_pretty(&rendition)
            .map_err(|e| StageError::Permanent(e.to_string()))?;
        ctx.runtime
            .block_on(ctx.masters.put_small(&format!("{dir}/{}", keys::RENDITION_MARKER), marker))
            .map_err(store_err)?;
        Ok(rendition)
    })();
    if result.is_err() {
        for key in uploaded {
            let _ = ctx.runtime.block_on(ctx.masters.delete(&key));
        }
    }
    result
}
