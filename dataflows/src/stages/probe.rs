//! The probe: the master made local (downloaded once, shared by the later stages) and its
//! technical metadata read. A master that cannot be probed fails the asset; the stages after it
//! are then skipped, or cancelled with it.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use acervo_catalog::{Stage as StageName, WorkResult};
use acervo_operators::probe;

use super::{MediaJob, Probed};
use crate::context::StageContext;
use crate::master::fetch_master;
use crate::retry::final_reason;
use crate::stage::{CANCELLED_BEFORE_START, Done, FailurePolicy, JobKey, Stage, StageError};

pub struct ProbeStage;

impl Stage for ProbeStage {
    type Input = MediaJob;
    type Output = Probed;

    fn name(&self) -> StageName {
        StageName::Probe
    }

    fn job(&self, input: &MediaJob) -> JobKey {
        JobKey::Asset(input.asset.id)
    }

    fn policy(&self) -> FailurePolicy {
        // A store that failed to hand the master over may do so on another try; a master that
        // does not probe is recorded once as a dead letter.
        FailurePolicy { retry: true, dead_letter: true }
    }

    fn run(
        &self,
        input: &MediaJob,
        ctx: &StageContext,
        _cancel: &AtomicBool,
    ) -> Result<Probed, StageError> {
        let asset = &input.asset;
        let master = fetch_master(ctx, StageName::Probe, &asset.master_key)?;
        let technical = probe(master.path(), asset.kind, ctx.limits)
            .map_err(|e| StageError::operator(StageName::Probe, &asset.original_filename, e))?;
        Ok(Probed { job: input.clone(), master: Arc::new(master), technical })
    }

    fn record(&self, done: &Done<MediaJob, Probed>) -> Vec<WorkResult> {
        let id = done.input.asset.id;
        let later = done.input.stages().into_iter().filter(|s| *s != StageName::Probe);
        match &done.outcome {
            Ok(p) => vec![WorkResult::Probed { id, technical: p.technical.clone() }],
            Err(e) if e.is_cancelled() => {
                let mut out = vec![WorkResult::StageCancelled {
                    id,
                    stage: StageName::Probe,
                    reason: e.reason.clone(),
                }];
                out.extend(later.map(|stage| WorkResult::StageCancelled {
                    id,
                    stage,
                    reason: CANCELLED_BEFORE_START.into(),
                }));
                out
            }
            Err(e) => {
                let reason = final_reason(e, done.attempts);
                let mut out = vec![WorkResult::StageFailed { id, stage: StageName::Probe, reason }];
                out.extend(later.map(|stage| WorkResult::StageSkipped {
                    id,
                    stage,
                    reason: "the probe failed".into(),
                }));
                out
            }
        }
    }
}
