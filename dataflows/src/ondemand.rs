//! On-demand renditions (`POST /api/v1/assets/{id}/ondemand`): a custom size and bitrate of a
//! time range of a video, made on the interactive lane, stored under `ondemand/` with an
//! expiry, its job record written last (`ondemand/jobs/{job}.json`). A replayed request whose
//! record exists is not made again.

use std::sync::atomic::{AtomicBool, Ordering};

use acervo_catalog::profiles::VideoProfile;
use acervo_catalog::{MediaKind, OnDemandSpec, Stage, WorkResult};
use acervo_lakehouse::keys;
use acervo_operators::probe;
use acervo_operators::transcode::{Control, video_clip_pass};
use chrono::Utc;
use uuid::Uuid;

use crate::jobs::{JobState, OnDemandJob};
use crate::media_job::{MediaContext, MediaInput, fetch_master};
use crate::renditions_stage::{classify, commit, work_dir};
use crate::retry::{StageError, dead_letter, with_retries};

/// The profile name an on-demand output is made under.
const PROFILE: &str = "ondemand";

pub struct OnDemandRequest {
    pub input: MediaInput,
    pub job_id: Uuid,
    pub spec: OnDemandSpec,
    pub requested_by: String,
    pub at: chrono::DateTime<Utc>,
}

pub fn queued_record(r: &OnDemandRequest) -> OnDemandJob {
    OnDemandJob {
        job_id: r.job_id,
        asset_id: r.input.id,
        lane: "interactive".into(),
        state: JobState::Queued,
        progress: 0.0,
        attempts: 0,
        reason: None,
        spec: r.spec.clone(),
        requested_by: r.requested_by.clone(),
        created_at: r.at,
        started_at: None,
        finished_at: None,
        output_key: None,
        output_size: None,
        output_sha256: None,
        width: None,
        height: None,
        expires_at: None,
    }
}

fn make(
    ctx: &MediaContext,
    r: &OnDemandRequest,
    cancel: &AtomicBool,
) -> Result<acervo_catalog::Rendition, StageError> {
    let master = fetch_master(ctx, &r.input).map_err(StageError::Transient)?;
    let technical = probe(master.path(), MediaKind::Video, ctx.limits).map_err(classify)?;
    let duration = technical.duration_seconds.unwrap_or(0.0);
    let start = r.spec.start_seconds.unwrap_or(0.0).max(0.0);
    let end = r.spec.end_seconds.unwrap_or(duration).min(if duration > 0.0 {
        duration
    } else {
        f64::INFINITY
    });
    if end <= start {
        return Err(StageError::Permanent(format!(
            "the clip {start}–{end} s is empty (the master lasts {duration:.3} s)"
        )));
    }
    let mut profiles = ctx.profiles.clone();
    profiles.video.clear();
    profiles.hls.ladder.clear();
    profiles.video.insert(
        PROFILE.into(),
        VideoProfile {
            long_side: r.spec.long_side,
            short_side: r.spec.short_side,
            bitrate_kbps: r.spec.bitrate_kbps,
            h264_profile: "high".into(),
            mp4: true,
            faststart: true,
        },
    );
    profiles.validate().map_err(|e| StageError::Permanent(e.to_string()))?;
    let work = work_dir(ctx)?;
    let job = r.job_id;
    let metrics_job = job.to_string();
    let progress = |p: f32| {
        ctx.jobs.update_ondemand(job, |j| j.progress = p);
        ctx.metrics
            .job_progress
            .with_label_values(&[&metrics_job, PROFILE, "interactive"])
            .set(f64::from(p));
    };
    let wanted = |name: &str| name == PROFILE;
    let ctl = Control { cancel, progress: &progress, wanted: &wanted };
    let produced =
        video_clip_pass(master.path(), work.path(), &profiles, duration, Some((start, end)), &ctl);
    let _ = ctx.metrics.job_progress.remove_label_values(&[&metrics_job, PROFILE, "interactive"]);
    let produced = produced.map_err(classify)?;
    let p = produced
        .iter()
        .find(|p| p.profile == PROFILE)
        .ok_or_else(|| StageError::Permanent("the pass made no output".into()))?;
    commit(ctx, &r.input, work.path(), &keys::ondemand_dir(r.input.id, &job.to_string()), p, cancel)
}

pub fn run(ctx: &MediaContext, r: &OnDemandRequest, cancel: &AtomicBool) -> Vec<WorkResult> {
    let (id, job) = (r.input.id, r.job_id);
    let record_key = keys::ondemand_record(&job.to_string());
    let ended = vec![WorkResult::OnDemandEnded { id, job_id: job }];
    // A replay of a request already served: its record says how it ended.
    if let Ok(Some(_)) = ctx.runtime.block_on(ctx.masters.get_if_exists(&record_key)) {
        ctx.jobs.forget_ondemand(job);
        return ended;
    }
    let mut record = ctx.jobs.ondemand(job).unwrap_or_else(|| queued_record(r));
    let stage = Stage::Renditions;
    let outcome = if cancel.load(Ordering::Relaxed) {
        (Err(StageError::Cancelled), 0)
    } else {
        let started = Utc::now();
        record.started_at = Some(started);
        ctx.jobs.update_ondemand(job, |j| {
            j.state = JobState::Running;
            j.started_at = Some(started);
        });
        // Progress and attempts go on the job's own record, not on the asset's stages (its
        // batch work may be running at the same time).
        with_retries(ctx, id, stage, cancel, |n| {
            ctx.jobs.update_ondemand(job, |j| j.attempts = n);
            make(ctx, r, cancel)
        })
    };
    record.attempts = outcome.1;
    record.finished_at = Some(Utc::now());
    match outcome.0 {
        Ok(rendition) => {
            record.state = JobState::Done;
            record.progress = 1.0;
            record.output_key = Some(rendition.key);
            record.output_size = Some(rendition.size);
            record.output_sha256 = Some(rendition.sha256);
            record.width = rendition.width;
            record.height = rendition.height;
            record.expires_at = Some(
                Utc::now() + chrono::Duration::hours(ctx.jobs_config.ondemand_expiry_hours as i64),
            );
        }
        Err(StageError::Cancelled) => {
            record.state = JobState::Cancelled;
            record.reason = Some("cancelled on request".into());
        }
        Err(e) => {
            dead_letter(ctx, id, Some(job), stage, &e, outcome.1);
            record.state = JobState::Failed;
            record.reason = Some(match e {
                StageError::Transient(r) | StageError::Permanent(r) => r,
                StageError::Cancelled => String::new(),
            });
        }
    }
    let written = serde_json::to_vec_pretty(&record).map_err(|e| e.to_string()).and_then(|bytes| {
        ctx.runtime.block_on(ctx.masters.put_small(&record_key, bytes)).map_err(|e| e.to_string())
    });
    match written {
        // The API reads the durable record from now on.
        Ok(()) => ctx.jobs.forget_ondemand(job),
        Err(e) => {
            tracing::error!(job = %job, error = %e, "cannot write the on-demand job record; kept in memory");
            ctx.jobs.put_ondemand(record);
        }
    }
    tracing::info!(job = %job, asset = %id, "on-demand job ended");
    ended
}
