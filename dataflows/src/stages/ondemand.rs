//! On-demand renditions (`POST /api/v1/assets/{id}/ondemand`): a custom size and bitrate of a
//! time range of a video, made on the interactive lane, stored under `ondemand/` with an expiry,
//! its job record written last (`ondemand/jobs/{job}.json`). A replayed request whose record
//! exists is not made again. Progress and attempts go on the job's own record, not on the
//! asset's stages (its batch work may be running at the same time).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use acervo_catalog::profiles::VideoProfile;
use acervo_catalog::{
    Asset, JobState, Lane, MediaKind, OnDemandJob, OnDemandSpec, Rendition, Stage as StageName,
    WorkResult,
};
use acervo_lakehouse::keys;
use acervo_operators::probe;
use acervo_operators::transcode::{Control, video_clip_pass};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::renditions::{commit, work_dir};
use crate::context::StageContext;
use crate::master::fetch_master;
use crate::retry::final_reason;
use crate::stage::{Done, FailurePolicy, JobKey, Stage, StageError};

/// The profile name an on-demand output is made under.
const PROFILE: &str = "ondemand";
/// Its failures are the renditions stage's (dead letters, retries).
const STAGE: StageName = StageName::Renditions;

/// An on-demand job as planned from the catalog.
#[derive(Clone, Debug)]
pub struct OnDemandInput {
    pub asset: Arc<Asset>,
    pub job_id: Uuid,
    pub spec: OnDemandSpec,
    pub requested_by: String,
    pub at: DateTime<Utc>,
}

/// What a job came to.
#[derive(Clone, Debug)]
pub enum Served {
    Made(Rendition),
    /// A replay of a request whose record is already written.
    Before,
}

pub struct OnDemandStage;

impl Stage for OnDemandStage {
    type Input = OnDemandInput;
    type Output = Served;

    fn name(&self) -> StageName {
        STAGE
    }

    fn lane(&self, _input: &OnDemandInput) -> Lane {
        Lane::Interactive
    }

    fn job(&self, r: &OnDemandInput) -> JobKey {
        JobKey::OnDemand { asset: r.asset.id, job: r.job_id }
    }

    fn policy(&self) -> FailurePolicy {
        FailurePolicy { retry: true, dead_letter: true }
    }

    fn queued(&self, r: &OnDemandInput, ctx: &StageContext) {
        ctx.jobs.put_ondemand(OnDemandJob::queued(
            r.job_id,
            r.asset.id,
            r.spec.clone(),
            &r.requested_by,
            r.at,
        ));
    }

    fn run(
        &self,
        r: &OnDemandInput,
        ctx: &StageContext,
        cancel: &AtomicBool,
    ) -> Result<Served, StageError> {
        let record_key = keys::ondemand_record(&r.job_id.to_string());
        let found = ctx.runtime.block_on(ctx.masters.get_if_exists(&record_key));
        if let Ok(Some(_)) = found {
            return Ok(Served::Before);
        }
        make(ctx, r, cancel).map(Served::Made)
    }

    fn finished(
        &self,
        r: &OnDemandInput,
        outcome: &Result<Served, StageError>,
        attempts: u32,
        ctx: &StageContext,
    ) {
        let job = r.job_id;
        let mut record = ctx.jobs.ondemand(job).unwrap_or_else(|| {
            OnDemandJob::queued(job, r.asset.id, r.spec.clone(), &r.requested_by, r.at)
        });
        record.attempts = attempts;
        record.finished_at = Some(Utc::now());
        match outcome {
            Ok(Served::Before) => {
                ctx.jobs.forget_ondemand(job);
                return;
            }
            Ok(Served::Made(rendition)) => {
                record.state = JobState::Done;
                record.progress = 1.0;
                record.output_key = Some(rendition.key.clone());
                record.output_size = Some(rendition.size);
                record.output_sha256 = Some(rendition.sha256.clone());
                record.width = rendition.width;
                record.height = rendition.height;
                let hours = ctx.jobs_config.ondemand_expiry_hours as i64;
                record.expires_at = Some(Utc::now() + chrono::Duration::hours(hours));
            }
            Err(e) if e.is_cancelled() => {
                record.state = JobState::Cancelled;
                record.reason = Some(e.reason.clone());
            }
            Err(e) => {
                record.state = JobState::Failed;
                record.reason = Some(final_reason(e, attempts));
            }
        }
        let record_key = keys::ondemand_record(&job.to_string());
        let written =
            serde_json::to_vec_pretty(&record).map_err(|e| e.to_string()).and_then(|bytes| {
                ctx.runtime
                    .block_on(ctx.masters.put_small(&record_key, bytes))
                    .map_err(|e| e.to_string())
            });
        match written {
            // The API reads the durable record from now on.
            Ok(()) => ctx.jobs.forget_ondemand(job),
            Err(e) => {
                tracing::error!(job = %job, error = %e, "cannot write the on-demand job record; kept in memory");
                ctx.jobs.put_ondemand(record);
            }
        }
        tracing::info!(job = %job, asset = %r.asset.id, "on-demand job ended");
    }

    fn record(&self, done: &Done<OnDemandInput, Served>) -> Vec<WorkResult> {
        vec![WorkResult::OnDemandEnded { id: done.input.asset.id, job_id: done.input.job_id }]
    }
}

fn make(
    ctx: &StageContext,
    r: &OnDemandInput,
    cancel: &AtomicBool,
) -> Result<Rendition, StageError> {
    let asset = &r.asset;
    if asset.kind != MediaKind::Video || asset.status.is_removed() {
        return Err(StageError::permanent(
            STAGE,
            format!(
                "asset {} is a {} and {}: no clip can be made of it",
                asset.id, asset.kind, asset.status
            ),
        ));
    }
    let file = asset.original_filename.as_str();
    let master = fetch_master(ctx, STAGE, &asset.master_key)?;
    let technical = probe(master.path(), MediaKind::Video, ctx.limits)
        .map_err(|e| StageError::operator(STAGE, file, e))?;
    let duration = technical.duration_seconds.unwrap_or(0.0);
    let start = r.spec.start_seconds.unwrap_or(0.0).max(0.0);
    let end = r.spec.end_seconds.unwrap_or(duration).min(if duration > 0.0 {
        duration
    } else {
        f64::INFINITY
    });
    if end <= start {
        return Err(StageError::permanent(
            STAGE,
            format!("the clip {start}–{end} s is empty (the master lasts {duration:.3} s)"),
        ));
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
    profiles.validate().map_err(|e| StageError::permanent(STAGE, e.to_string()))?;
    let work = work_dir(ctx, STAGE)?;
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
    let produced = produced.map_err(|e| StageError::operator(STAGE, file, e))?;
    let p = produced
        .iter()
        .find(|p| p.profile == PROFILE)
        .ok_or_else(|| StageError::permanent(STAGE, "the pass made no output"))?;
    commit(
        ctx,
        STAGE,
        asset.id,
        work.path(),
        &keys::ondemand_dir(asset.id, &job.to_string()),
        p,
        cancel,
    )
}
