//! Read-your-writes. An accepted intent is durable in the log before the dataflow has
//! materialised it; until the catalog shows it, reads of that asset replay it on top of the
//! catalog row (with the catalog's own `apply_event`), so a client that got a 201 or 202 never
//! reads an older state. An on-demand job is shown as queued until the dataflow takes it.

use std::collections::HashMap;
use std::sync::Mutex;

use acervo_catalog::{Asset, AssetId, AssetStatus, Event, EventEnvelope, OnDemandJob, apply_event};
use chrono::{Duration, Utc};
use uuid::Uuid;

/// Past this, an intent the catalog never showed is dropped from memory (the log keeps it).
const FORGET_AFTER_MINUTES: i64 = 30;

#[derive(Default)]
pub struct PendingWrites {
    by_asset: Mutex<HashMap<AssetId, Vec<EventEnvelope>>>,
    jobs: Mutex<HashMap<Uuid, OnDemandJob>>,
}

fn applied(env: &EventEnvelope, row: Option<&Asset>) -> bool {
    // The catalog keeps microseconds; the intent's clock has nanoseconds.
    let at = env.at.timestamp_micros();
    match (&env.event, row) {
        (_, None) => false,
        (Event::AssetIngested { .. }, Some(_)) => true,
        (
            Event::MetadataEdited { .. }
            | Event::EditorialStatusChanged { .. }
            | Event::CollectionsChanged { .. }
            | Event::EnrichmentImported { .. }
            | Event::SuggestionsAccepted { .. }
            | Event::SuggestionsRejected { .. }
            | Event::LegalHoldChanged { .. }
            | Event::ReprocessRequested { .. },
            Some(r),
        ) => r.updated_at.timestamp_micros() >= at,
        (Event::OnDemandRequested { .. } | Event::CancelRequested { .. }, Some(_)) => true,
        (Event::AssetDeleted { .. }, Some(r)) => r.status == AssetStatus::Deleted,
        (Event::AssetPurged { .. }, Some(r)) => r.status == AssetStatus::Purged,
        (Event::AssetRestored { .. }, Some(r)) => r.status != AssetStatus::Deleted,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PendingWrites {
    pub fn add(&self, env: EventEnvelope) {
        let horizon = Utc::now() - Duration::minutes(FORGET_AFTER_MINUTES);
        if let Event::OnDemandRequested { id, job_id, spec } = &env.event {
            let mut jobs = lock(&self.jobs);
            if jobs.len() > 1024 {
                jobs.retain(|_, j| j.created_at > horizon);
            }
            jobs.insert(
                *job_id,
                OnDemandJob::queued(*job_id, *id, spec.clone(), &env.principal, env.at),
            );
        }
        let mut map = lock(&self.by_asset);
        if map.len() > 1024 {
            map.retain(|_, evs| evs.iter().any(|e| e.at > horizon));
        }
        map.entry(env.event.asset_id()).or_default().push(env);
    }

    /// The asset as its writer last left it: the catalog row plus intents not yet in it.
    pub fn view(&self, id: AssetId, row: Option<Asset>) -> Option<Asset> {
        let mut map = lock(&self.by_asset);
        let Some(events) = map.get_mut(&id) else { return row };
        events.retain(|e| !applied(e, row.as_ref()));
        let mut out = row;
        for e in events.iter() {
            out = apply_event(out, e);
        }
        if events.is_empty() {
            map.remove(&id);
        }
        out
    }

    /// An accepted on-demand job the dataflow has not taken yet, as queued.
    pub fn ondemand(&self, job: Uuid) -> Option<OnDemandJob> {
        lock(&self.jobs).get(&job).cloned()
    }

    /// Forgets an on-demand job the dataflow shows (live or by its record).
    pub fn taken(&self, job: Uuid) {
        lock(&self.jobs).remove(&job);
    }

    /// An accepted upload of the same content into the same project not yet in the catalog.
    pub fn ingest_of(&self, project: &str, sha256: &str) -> Option<AssetId> {
        let map = lock(&self.by_asset);
        map.values().flatten().find_map(|e| match &e.event {
            Event::AssetIngested { id, project: p, sha256: s, .. }
                if p == project && s == sha256 =>
            {
                Some(*id)
            }
            _ => None,
        })
    }
}
