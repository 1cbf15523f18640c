//! `POST /api/v1/purge`: soft-deleted assets past their retention deadline are purged for good
//! (an archivist's work): a purge intent each, and once the catalog shows the tombstones, their
//! objects are removed, every table is rewritten without their rows and its older versions
//! dropped, and the search index is merged down without their documents. Held assets are
//! passed by. `dry_run` lists what would go and changes nothing.

use std::time::{Duration, Instant};

use acervo_catalog::{Action, Asset, AssetId, AssetStatus, Principal};
use acervo_lakehouse::tables::AssetFilter;
use acervo_policy::Resource;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::intents;
use crate::problem::ApiError;
use crate::state::AppState;

const PAGE: usize = 1000;
/// How long the catalog writer may take to materialise the tombstones.
const MATERIALISED_WITHIN: Duration = Duration::from_secs(120);

#[derive(Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PurgeRequest {
    /// List what would be purged, change nothing.
    pub dry_run: bool,
}

/// A soft-deleted asset a purge considered.
#[derive(Serialize, ToSchema)]
pub struct PurgeCandidate {
    #[schema(value_type = String)]
    pub id: AssetId,
    pub project: String,
    pub title: String,
    pub deleted_at: Option<DateTime<Utc>>,
    pub retention_until: Option<DateTime<Utc>>,
    /// The legal hold's reason, for a held asset.
    pub held: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PurgeReport {
    pub dry_run: bool,
    /// Past their deadline and not held: purged (or, in a dry run, what would be).
    pub due: Vec<PurgeCandidate>,
    /// Past their deadline but under a legal hold: kept.
    pub held: Vec<PurgeCandidate>,
    /// Objects removed from the store.
    pub objects_removed: usize,
    /// Older table versions removed (time travel can no longer reach the purged rows).
    pub versions_removed: u64,
}

fn candidate(a: &Asset) -> PurgeCandidate {
    PurgeCandidate {
        id: a.id,
        project: a.project.clone(),
        title: a.title.clone(),
        deleted_at: a.deleted_at,
        retention_until: a.retention_until,
        held: a.legal_hold.as_ref().map(|h| h.reason.clone()),
    }
}

/// The soft-deleted assets past their deadline that `principal` may purge.
async fn past_deadline(
    state: &AppState,
    principal: &Principal,
    now: DateTime<Utc>,
) -> Result<Vec<Asset>, ApiError> {
    let filter = AssetFilter { status: Some(AssetStatus::Deleted), ..Default::default() };
    let scope = state.scope(principal);
    let (mut out, mut offset) = (Vec::new(), 0);
    loop {
        let (page, _) = state.catalog.list(&filter, &scope, PAGE, offset).await?;
        offset += page.len();
        let last = page.len() < PAGE;
        out.extend(page.into_iter().filter(|a| {
            a.retention_until.is_some_and(|t| t <= now)
                && state.may(principal, Action::AssetArchive, &Resource::asset(a))
        }));
        if last {
            return Ok(out);
        }
    }
}

/// Purge soft-deleted assets past their retention deadline.
#[utoipa::path(post, path = "/api/v1/purge", tag = "assets", request_body = PurgeRequest,
    responses(
        (status = 200, body = PurgeReport),
        (status = 403, description = "The caller may purge in no project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn purge(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(req): ApiJson<PurgeRequest>,
) -> Result<Json<PurgeReport>, ApiError> {
    if !state.may_somewhere(&principal, Action::AssetArchive) {
        return Err(ApiError::forbidden(format!(
            "{} may not purge (an archivist's work)",
            principal.name
        )));
    }
    let now = Utc::now();
    let (held, due): (Vec<Asset>, Vec<Asset>) = past_deadline(&state, &principal, now)
        .await?
        .into_iter()
        .partition(|a| a.legal_hold.is_some());
    let mut report = PurgeReport {
        dry_run: req.dry_run,
        due: due.iter().map(candidate).collect(),
        held: held.iter().map(candidate).collect(),
        objects_removed: 0,
        versions_removed: 0,
    };
    if req.dry_run || due.is_empty() {
        return Ok(Json(report));
    }
    let ids: Vec<AssetId> = due.iter().map(|a| a.id).collect();
    intents::purge(&state, &principal, &ids).await?;
    // The tombstones first (the catalog writer also drops their rows of the other tables and
    // their documents from the index), then what only a purge removes.
    let purged = wait_for_tombstones(&state, &ids).await?;
    for id in &purged {
        for folder in acervo_lakehouse::keys::asset_folders(*id) {
            for key in state.masters.list(&folder).await.map_err(ApiError::internal)? {
                state.masters.delete(&key).await.map_err(ApiError::internal)?;
                report.objects_removed += 1;
            }
        }
    }
    report.versions_removed = state.catalog.compact_and_forget_versions().await?.old_versions;
    let search = state.search.clone();
    tokio::task::spawn_blocking(move || search.forget_deleted())
        .await
        .map_err(ApiError::internal)??;
    // Those a restore or a hold took back before the purge was applied are not reported.
    report.due.retain(|c| purged.contains(&c.id));
    tracing::info!(purged = purged.len(), objects = report.objects_removed, "purge done");
    Ok(Json(report))
}

/// The assets of `ids` the catalog shows purged, once none of them is still waiting.
async fn wait_for_tombstones(state: &AppState, ids: &[AssetId]) -> Result<Vec<AssetId>, ApiError> {
    let deadline = Instant::now() + MATERIALISED_WITHIN;
    loop {
        let rows = state.catalog.get_assets(ids).await?;
        let waiting = ids
            .iter()
            .filter(|id| rows.get(id).is_some_and(|a| a.status == AssetStatus::Deleted))
            .filter(|id| rows.get(id).is_some_and(|a| a.legal_hold.is_none()))
            .count();
        if waiting == 0 {
            return Ok(ids
                .iter()
                .filter(|id| rows.get(id).is_some_and(|a| a.status == AssetStatus::Purged))
                .copied()
                .collect());
        }
        if Instant::now() > deadline {
            return Err(ApiError::internal(format!(
                "{waiting} purges were not applied within {} s; run the purge again",
                MATERIALISED_WITHIN.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
