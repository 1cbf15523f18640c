//! The API's one way into the system: intents, appended to the event log. Each function here
//! records one intent of a principal, as that principal said it (derived data, such as an
//! asset's master or kind, is the dataflow's to look up). An append is durable before it
//! returns; a batch shares one sync; control intents (cancels) are flagged so the dataflow
//! reads them ahead of the work queued before them. Every accepted intent is also kept for the
//! read-your-writes overlay until the catalog shows it.

use acervo_catalog::{
    AssetId, EditorialStatus, Enrichment, Event, EventEnvelope, MediaKind, OnDemandSpec, Principal,
    Stage,
};
use acervo_lakehouse::NewRecord;
use chrono::{DateTime, Utc};

use crate::problem::ApiError;
use crate::state::AppState;

/// Intents appended per log write (one sync each) by batch operations.
pub(crate) const BATCH: usize = 1000;

/// Appends `envs` in one durable write; returns the offset of the first.
pub(crate) async fn append(state: &AppState, envs: Vec<EventEnvelope>) -> Result<u64, ApiError> {
    let encoded: Vec<(Vec<u8>, bool)> = envs
        .iter()
        .map(|e| serde_json::to_vec(e).map(|bytes| (bytes, e.event.is_control())))
        .collect::<Result<_, _>>()
        .map_err(ApiError::internal)?;
    let log = state.log.clone();
    let first = tokio::task::spawn_blocking(move || {
        let records: Vec<NewRecord> = encoded
            .iter()
            .map(|(bytes, control)| NewRecord { payload: bytes, control: *control })
            .collect();
        log.append(&records)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    for env in envs {
        state.pending.add(env);
    }
    Ok(first)
}

fn envelope(principal: &Principal, event: Event) -> EventEnvelope {
    EventEnvelope { at: Utc::now(), principal: principal.name.clone(), event }
}

async fn one(state: &AppState, principal: &Principal, event: Event) -> Result<(), ApiError> {
    append(state, vec![envelope(principal, event)]).await.map(|_| ())
}

/// What an upload established: the stored master (content, kind, key) and the descriptive
/// fields given with it.
pub(crate) struct Upload {
    pub id: AssetId,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub kind: MediaKind,
    pub mime: String,
    pub size: u64,
    pub sha256: String,
    pub master_key: String,
    pub original_filename: String,
    pub project: String,
}

/// A stored master became an asset, owned by the principal who uploaded it.
pub(crate) async fn ingest(
    state: &AppState,
    principal: &Principal,
    u: Upload,
) -> Result<(), ApiError> {
    let event = Event::AssetIngested {
        id: u.id,
        title: u.title,
        description: u.description,
        tags: u.tags,
        kind: u.kind,
        mime: u.mime,
        size: u.size,
        sha256: u.sha256,
        master_key: u.master_key,
        original_filename: u.original_filename,
        project: u.project,
        owner: principal.name.clone(),
    };
    one(state, principal, event).await
}

/// Descriptive fields changed; absent ones stay.
pub(crate) async fn edit(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    title: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    descriptive: acervo_catalog::DescriptivePatch,
) -> Result<(), ApiError> {
    one(state, principal, Event::MetadataEdited { id, title, description, tags, descriptive }).await
}

/// A move in the editorial workflow, from the status the author saw.
pub(crate) async fn move_editorial_status(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    from: EditorialStatus,
    to: EditorialStatus,
    comment: Option<String>,
) -> Result<(), ApiError> {
    one(state, principal, Event::EditorialStatusChanged { id, from, to, comment }).await
}

/// Assets join (or leave) collections, in batches of one durable write each.
pub(crate) async fn change_collections(
    state: &AppState,
    principal: &Principal,
    ids: &[AssetId],
    add: Vec<String>,
    remove: Vec<String>,
) -> Result<(), ApiError> {
    for chunk in ids.chunks(BATCH) {
        let envs = chunk
            .iter()
            .map(|id| {
                envelope(
                    principal,
                    Event::CollectionsChanged { id: *id, add: add.clone(), remove: remove.clone() },
                )
            })
            .collect();
        append(state, envs).await?;
    }
    Ok(())
}

/// A soft delete, retained until `retention_until`.
pub(crate) async fn delete(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    retention_until: DateTime<Utc>,
) -> Result<(), ApiError> {
    one(state, principal, Event::AssetDeleted { id, retention_until }).await
}

/// A soft-deleted asset brought back.
pub(crate) async fn restore(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
) -> Result<(), ApiError> {
    one(state, principal, Event::AssetRestored { id }).await
}

/// Purges of soft-deleted assets past their deadline, in batches.
pub(crate) async fn purge(
    state: &AppState,
    principal: &Principal,
    ids: &[AssetId],
) -> Result<(), ApiError> {
    for chunk in ids.chunks(BATCH) {
        let envs =
            chunk.iter().map(|id| envelope(principal, Event::AssetPurged { id: *id })).collect();
        append(state, envs).await?;
    }
    Ok(())
}

/// A legal hold placed with its reason, or released (`None`).
pub(crate) async fn legal_hold(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    reason: Option<String>,
) -> Result<(), ApiError> {
    one(state, principal, Event::LegalHoldChanged { id, reason }).await
}

/// Suggested labels accepted as tags.
pub(crate) async fn accept_suggestions(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    labels: Vec<String>,
) -> Result<(), ApiError> {
    one(state, principal, Event::SuggestionsAccepted { id, labels }).await
}

/// Suggested labels rejected: out of the suggestions, for good.
pub(crate) async fn reject_suggestions(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    labels: Vec<String>,
) -> Result<(), ApiError> {
    one(state, principal, Event::SuggestionsRejected { id, labels }).await
}

/// Enrichment brought from another system (or corrected).
pub(crate) async fn import_enrichment(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    enrichment: Enrichment,
) -> Result<(), ApiError> {
    one(state, principal, Event::EnrichmentImported { id, enrichment }).await
}

/// The media stages of `ids` (or `only` one of them) run again; appended `BATCH` at a time.
pub(crate) async fn reprocess(
    state: &AppState,
    principal: &Principal,
    ids: &[AssetId],
    only: Option<Stage>,
) -> Result<(), ApiError> {
    for chunk in ids.chunks(BATCH) {
        let envs = chunk
            .iter()
            .map(|id| envelope(principal, Event::ReprocessRequested { id: *id, only }))
            .collect();
        append(state, envs).await?;
    }
    Ok(())
}

/// A custom rendition of a time range of a video.
pub(crate) async fn request_ondemand(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    job_id: uuid::Uuid,
    spec: OnDemandSpec,
) -> Result<(), ApiError> {
    one(state, principal, Event::OnDemandRequested { id, job_id, spec }).await
}

/// Stop the queued or running work `job_id` names (the asset's stages, or an on-demand job).
pub(crate) async fn cancel(
    state: &AppState,
    principal: &Principal,
    id: AssetId,
    job_id: uuid::Uuid,
) -> Result<(), ApiError> {
    one(state, principal, Event::CancelRequested { id, job_id }).await
}
