//! `/api/v1/assets`: upload, list, read, edit, soft delete.

use std::pin::pin;

use acervo_catalog::{Asset, AssetId, AssetStatus, Event, EventEnvelope, MediaKind, Rendition};
use acervo_lakehouse::masters::MasterError;
use acervo_lakehouse::tables::AssetFilter;
use acervo_lakehouse::{StoredMaster, keys};
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::visible_asset;
use crate::extract::{ApiJson, ApiQuery, parse_id};
use crate::media_type::{check_filename, classify};
use crate::problem::ApiError;
use crate::state::AppState;

/// Largest text field accepted in an upload form.
const MAX_FIELD_BYTES: usize = 64 * 1024;
const DEFAULT_PROJECT: &str = "default";

#[derive(Serialize, ToSchema)]
pub struct RenditionView {
    #[serde(flatten)]
    pub rendition: Rendition,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct AssetView {
    #[serde(flatten)]
    pub asset: Asset,
    pub renditions: Vec<RenditionView>,
    pub download_url: String,
    /// What models suggested, apart from the editorial fields (title, description, tags).
    pub suggestions: Suggestions,
}

/// A suggested label, with the model's score and whether it is already an editorial tag.
#[derive(Serialize, ToSchema)]
pub struct SuggestedLabel {
    pub name: String,
    /// Set for labels from a model; imported labels have none.
    pub score: Option<f32>,
    pub accepted: bool,
}

/// An asset's AI metadata as suggestions an editor may accept (`POST …/ai/accept`).
#[derive(Serialize, ToSchema)]
pub struct Suggestions {
    pub labels: Vec<SuggestedLabel>,
    pub ocr_text: String,
    pub transcript: String,
    /// Language of the transcript (ISO 639-1).
    pub language: Option<String>,
    /// Which model (name and version) made each part: `ocr`, `labels`, `speech`, `embedding`.
    pub models: std::collections::BTreeMap<String, String>,
}

impl Suggestions {
    fn of(asset: &Asset) -> Suggestions {
        let labels = asset
            .labels
            .iter()
            .map(|name| SuggestedLabel {
                name: name.clone(),
                score: asset.ai.label_scores.iter().find(|l| &l.name == name).map(|l| l.score),
                accepted: asset.tags.iter().any(|t| t == name),
            })
            .collect();
        Suggestions {
            labels,
            ocr_text: asset.ocr_text.clone(),
            transcript: asset.transcript_text.clone(),
            language: asset.ai.language.clone(),
            models: asset.ai.models.clone(),
        }
    }
}

/// Suggestions to move into the editorial fields.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptSuggestions {
    /// Suggested labels to add to the asset's tags.
    pub labels: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: AssetId,
    pub sha256: String,
    pub size: u64,
    pub status: AssetStatus,
}

/// The upload form (`multipart/form-data`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The master, streamed to storage.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    title: Option<String>,
    description: Option<String>,
    /// Comma-separated.
    tags: Option<String>,
    project: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub project: Option<String>,
    pub sha256: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct AssetPage {
    pub items: Vec<Asset>,
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
}

/// Descriptive fields to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
}

pub(crate) fn asset_filter(
    kind: Option<&str>,
    status: Option<&str>,
    project: Option<String>,
    sha256: Option<String>,
) -> Result<AssetFilter, ApiError> {
    Ok(AssetFilter {
        kind: kind
            .filter(|k| !k.is_empty())
            .map(str::parse::<MediaKind>)
            .transpose()
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        status: status
            .filter(|s| !s.is_empty())
            .map(str::parse::<AssetStatus>)
            .transpose()
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        project: project.filter(|p| !p.is_empty()),
        sha256: sha256.filter(|s| !s.is_empty()),
    })
}

pub(crate) fn page_bounds(
    limit: Option<usize>,
    offset: Option<usize>,
) -> Result<(usize, usize), ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    Ok((limit, offset.unwrap_or(0)))
}

fn master_error(e: MasterError) -> ApiError {
    match e {
        MasterError::Empty => ApiError::unprocessable("the uploaded file is empty"),
        MasterError::TooLarge { limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Content too large",
            format!("the upload exceeds the limit of {limit} bytes"),
        ),
        MasterError::Body { .. } => ApiError::bad_request(e.to_string()),
        other => ApiError::internal(other),
    }
}

pub(crate) async fn append(state: &AppState, env: EventEnvelope) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec(&env).map_err(ApiError::internal)?;
    let log = state.log.clone();
    tokio::task::spawn_blocking(move || log.append(&[&bytes]))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    state.pending.add(env);
    Ok(())
}

fn view(asset: Asset, renditions: Vec<Rendition>) -> AssetView {
    let id = asset.id;
    AssetView {
        renditions: renditions
            .into_iter()
            .map(|r| {
                // Multi-file renditions are addressed by file, so relative references inside
                // them (HLS rung playlists, the storyboard's sprite) resolve.
                let url = match r.profile.as_str() {
                    "hls" => format!("/api/v1/assets/{id}/renditions/hls/master.m3u8"),
                    "storyboard" => format!("/api/v1/assets/{id}/renditions/storyboard/output.vtt"),
                    p => format!("/api/v1/assets/{id}/renditions/{p}"),
                };
                RenditionView { url, rendition: r }
            })
            .collect(),
        download_url: format!("/api/v1/assets/{id}/download"),
        suggestions: Suggestions::of(&asset),
        asset,
    }
}

/// Upload a master with its descriptive metadata.
#[utoipa::path(post, path = "/api/v1/assets", tag = "assets",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Master and event are durable", body = Created),
        (status = 400, description = "Malformed form or file name"),
        (status = 409, description = "The same content is already in this project"),
        (status = 413, description = "Too large"),
        (status = 415, description = "Content does not match its name"),
        (status = 422, description = "Empty file"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut multipart = multipart
        .map_err(|e| ApiError::bad_request(format!("expected a multipart/form-data body: {e}")))?;
    let principal = state.principal();
    let id = AssetId::new();
    let (mut title, mut description, mut tags, mut project) = (None, None, None, None);
    let mut stored: Option<(StoredMaster, String, String)> = None;
    let result: Result<(), ApiError> = async {
        while let Some(field) = multipart.next_field().await.map_err(|e| ApiError::bad_request(format!("malformed multipart body: {e}")))? {
            let name = field.name().unwrap_or_default().to_string();
            match name.as_str() {
                "file" => {
                    if stored.is_some() {
                        return Err(ApiError::bad_request("the form has more than one file part"));
                    }
                    let filename = field.file_name().unwrap_or_default().to_string();
                    check_filename(&filename).map_err(ApiError::bad_request)?;
                    let ext = keys::extension_of(&filename);
                    let master = state
                        .masters
                        .store(id, &ext, Box::pin(field), state.config.limits.max_upload_bytes)
                        .await
                        .map_err(master_error)?;
                    stored = Some((master, filename, ext));
                }
                "title" | "description" | "tags" | "project" => {
                    let mut value = Vec::new();
                    let mut field = pin!(field);
                    while let Some(chunk) = futures::StreamExt::next(&mut field).await {
                        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading form field {name}: {e}")))?;
                        value.extend_from_slice(&chunk);
                        if value.len() > MAX_FIELD_BYTES {
                            return Err(ApiError::bad_request(format!("form field {name} is longer than {MAX_FIELD_BYTES} bytes")));
                        }
                    }
                    let value = String::from_utf8(value).map_err(|_| ApiError::bad_request(format!("form field {name} is not UTF-8")))?;
                    let slot = match name.as_str() {
                        "title" => &mut title,
                        "description" => &mut description,
                        "tags" => &mut tags,
                        _ => &mut project,
                    };
                    *slot = Some(value);
                }
                other => return Err(ApiError::bad_request(format!("unknown form field {other:?} (expected file, title, description, tags, project)"))),
            }
        }
        Ok(())
    }
    .await;
    let Some((master, filename, ext)) = stored else {
        result?;
        return Err(ApiError::bad_request("the form has no file part"));
    };
    // From here on a refusal must also remove the stored master.
    let refuse = |e: ApiError| async {
        let _ = state.masters.delete(&master.key).await;
        e
    };
    if let Err(e) = result {
        return Err(refuse(e).await);
    }
    let (mime, kind) = match classify(&master.head, &ext) {
        Ok(c) => c,
        Err(reason) => return Err(refuse(ApiError::unsupported_media(reason)).await),
    };
    let project = project
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_PROJECT.into());
    if !principal.can_see_project(&project) {
        return Err(refuse(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("no access to project {project:?}"),
        ))
        .await);
    }
    let _admission = state.admission.lock().await;
    let duplicate = match state.pending.ingest_of(&project, &master.sha256) {
        Some(existing) => Some(existing),
        None => state.catalog.find_by_sha256(&master.sha256, &project).await?.map(|a| a.id),
    };
    if let Some(existing) = duplicate {
        let e = ApiError::conflict(format!(
            "the same content (sha256 {}) is already asset {existing} in project {project:?}",
            master.sha256
        ))
        .with("existing_id", serde_json::json!(existing));
        return Err(refuse(e).await);
    }
    let title =
        title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).unwrap_or_else(|| {
            filename.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(&filename).to_string()
        });
    let event = Event::AssetIngested {
        id,
        title,
        description: description.unwrap_or_default().trim().to_string(),
        tags: tags.as_deref().map(Asset::parse_tags).unwrap_or_default(),
        kind,
        mime,
        size: master.size,
        sha256: master.sha256.clone(),
        master_key: master.key.clone(),
        original_filename: filename,
        project,
        owner: principal.name.clone(),
    };
    let env = EventEnvelope { at: Utc::now(), principal: principal.name, event };
    if let Err(e) = append(&state, env).await {
        return Err(refuse(e).await);
    }
    tracing::info!(asset = %id, sha256 = %master.sha256, size = master.size, "master ingested");
    let body =
        Created { id, sha256: master.sha256, size: master.size, status: AssetStatus::Processing };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/assets/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// List assets, newest first.
#[utoipa::path(get, path = "/api/v1/assets", tag = "assets", params(ListParams),
    responses((status = 200, body = AssetPage), (status = 400, description = "Invalid filter")))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<AssetPage>, ApiError> {
    let filter = asset_filter(p.kind.as_deref(), p.status.as_deref(), p.project, p.sha256)?;
    let (limit, offset) = page_bounds(p.limit, p.offset)?;
    let (items, total) = state.catalog.list(&filter, &state.principal(), limit, offset).await?;
    Ok(Json(AssetPage { items, total, limit, offset }))
}

/// An asset with its technical metadata, renditions and stage states.
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)),
    responses((status = 200, body = AssetView), (status = 404, description = "No such asset")))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, id).await?;
    let renditions = state.catalog.renditions_of(id).await?;
    Ok(Json(view(asset, renditions)))
}

/// Edit descriptive metadata (recorded as an event).
#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)), request_body = AssetPatch,
    responses((status = 200, body = AssetView), (status = 404), (status = 409, description = "The asset is deleted"),
        (status = 415), (status = 422, description = "Unknown fields or invalid values")))]
pub async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<AssetPatch>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, id).await?;
    if asset.status == AssetStatus::Deleted {
        return Err(ApiError::conflict(format!("asset {id} is deleted")));
    }
    if patch.title.is_none() && patch.description.is_none() && patch.tags.is_none() {
        return Err(ApiError::unprocessable("nothing to change: give title, description or tags"));
    }
    let title = patch.title.map(|t| t.trim().to_string());
    if title.as_deref() == Some("") {
        return Err(ApiError::unprocessable("the title cannot be empty"));
    }
    let tags = patch.tags.map(|t| Asset::parse_tags(&t.join(",")));
    let description = patch.description.map(|d| d.trim().to_string());
    let principal = state.principal();
    let reembed =
        reembedding(&state, &asset, title.as_deref(), description.as_deref(), tags.as_deref())
            .await?;
    let event = Event::MetadataEdited { id, title, description, tags };
    let at = Utc::now();
    append(&state, EventEnvelope { at, principal: principal.name.clone(), event }).await?;
    if let Some(enrichment) = reembed {
        append(
            &state,
            EventEnvelope {
                at,
                principal: principal.name,
                event: Event::EnrichmentImported { id, enrichment },
            },
        )
        .await?;
    }
    get_one(State(state), Path(id.to_string())).await
}

/// The asset's vector made again from its edited text with the sentence model, beside its
/// unchanged vectors at moments (transcript segments), when the stage made it with that model:
/// imported vectors from another model are left alone.
async fn reembedding(
    state: &AppState,
    asset: &Asset,
    title: Option<&str>,
    description: Option<&str>,
    tags: Option<&[String]>,
) -> Result<Option<acervo_catalog::Enrichment>, ApiError> {
    let Some(model) = state.text_model.clone() else { return Ok(None) };
    if asset.ai.models.get("embedding").map(String::as_str) != Some(model.name()) {
        return Ok(None);
    }
    // With CLIP a photo's vector is its picture's: editing its text does not change it.
    if matches!(*model, acervo_operators::embed::TextVectors::Clip(_))
        && asset.kind == acervo_catalog::MediaKind::Image
    {
        return Ok(None);
    }
    let descriptive = acervo_catalog::asset::embedding_text(
        title.unwrap_or(&asset.title),
        description.unwrap_or(&asset.description),
        tags.unwrap_or(&asset.tags),
    );
    let text = acervo_catalog::asset::enrichment_text(
        &descriptive,
        &asset.ocr_text,
        &asset.labels,
        &asset.transcript_text,
    );
    let name = model.name().to_string();
    let vector = tokio::task::spawn_blocking(move || model.embed(&[text.as_str()]))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
        .pop();
    let frames: Vec<acervo_catalog::FrameEmbedding> = state
        .catalog
        .embeddings_of(asset.id)
        .await?
        .into_iter()
        .filter_map(|r| {
            r.at_ms.map(|at_ms| acervo_catalog::FrameEmbedding { at_ms, vector: r.vector })
        })
        .collect();
    Ok(Some(acervo_catalog::Enrichment {
        embedding: vector,
        frame_embeddings: (!frames.is_empty()).then_some(frames),
        models: Some([("embedding".to_string(), name)].into()),
        ..Default::default()
    }))
}

/// Accept suggested labels: they become editorial tags (recorded as an event, so the audit
/// trail shows who accepted what). Only labels the asset has as suggestions are accepted.
#[utoipa::path(post, path = "/api/v1/assets/{id}/ai/accept", tag = "assets", params(("id" = String, Path)), request_body = AcceptSuggestions,
    responses((status = 200, body = AssetView), (status = 404), (status = 409, description = "The asset is deleted"),
        (status = 415), (status = 422, description = "A label is not among the suggestions, or none given")))]
pub async fn accept(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AcceptSuggestions>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, id).await?;
    if asset.status == AssetStatus::Deleted {
        return Err(ApiError::conflict(format!("asset {id} is deleted")));
    }
    let labels = Asset::clean_tags(body.labels.iter().map(String::as_str));
    if labels.is_empty() {
        return Err(ApiError::unprocessable(
            "nothing to accept: give at least one suggested label",
        ));
    }
    if let Some(unknown) = labels.iter().find(|l| !asset.labels.contains(l)) {
        return Err(ApiError::unprocessable(format!(
            "{unknown:?} is not a suggested label of asset {id} (suggested: {})",
            asset.labels.join(", ")
        )));
    }
    let event = Event::SuggestionsAccepted { id, labels };
    append(&state, EventEnvelope { at: Utc::now(), principal: state.principal().name, event })
        .await?;
    get_one(State(state), Path(id.to_string())).await
}

/// Soft delete: the asset leaves listings and search; its master is retained.
#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)),
    responses((status = 200, body = AssetView), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, id).await?;
    if asset.status != AssetStatus::Deleted {
        let now = Utc::now();
        let retention_until = now + chrono::Duration::days(i64::from(state.config.retention_days));
        let event = Event::AssetDeleted { id, retention_until };
        append(&state, EventEnvelope { at: now, principal: state.principal().name, event }).await?;
    }
    get_one(State(state), Path(id.to_string())).await
}

/// Run an asset's media stages again. Renditions already stored for the current profiles are
/// reused; those of changed profiles are made at their new keys.
#[utoipa::path(post, path = "/api/v1/assets/{id}/reprocess", tag = "assets", params(("id" = String, Path)),
    responses((status = 202, body = AssetView), (status = 404), (status = 409, description = "Deleted, or nothing to process")))]
pub async fn reprocess(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, id).await?;
    if !asset.status.can_become(AssetStatus::Processing)
        || asset.status == AssetStatus::Deleted
        || acervo_catalog::media_stages(asset.kind).is_empty()
    {
        return Err(ApiError::conflict(format!(
            "asset {id} is {} ({:?}): nothing to reprocess",
            asset.status, asset.kind
        )));
    }
    let text = acervo_catalog::asset::embedding_text(&asset.title, &asset.description, &asset.tags);
    let event = Event::ReprocessRequested {
        id,
        kind: asset.kind,
        sha256: asset.sha256.clone(),
        master_key: asset.master_key.clone(),
        text,
        only: None,
    };
    append(&state, EventEnvelope { at: Utc::now(), principal: state.principal().name, event })
        .await?;
    let asset = visible_asset(&state, id).await?;
    let renditions = state.catalog.renditions_of(id).await?;
    Ok((StatusCode::ACCEPTED, Json(view(asset, renditions))).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct OnDemandAccepted {
    pub job_id: uuid::Uuid,
    pub asset_id: AssetId,
    /// Where to follow the job (`GET`) or cancel it (`DELETE`).
    pub job_url: String,
}

/// Ask for a custom rendition (size, bitrate, time range) of a video. Served on the
/// interactive lane, ahead of the ingest backlog; the output expires after two days.
#[utoipa::path(post, path = "/api/v1/assets/{id}/ondemand", tag = "assets", params(("id" = String, Path)),
    request_body = acervo_catalog::OnDemandSpec,
    responses((status = 202, body = OnDemandAccepted), (status = 400), (status = 404), (status = 409, description = "Deleted"), (status = 422, description = "Not a video, or an impossible profile")))]
pub async fn ondemand(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<acervo_catalog::OnDemandSpec>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, id).await?;
    if asset.status == AssetStatus::Deleted {
        return Err(ApiError::conflict(format!("asset {id} is deleted")));
    }
    if asset.kind != MediaKind::Video {
        return Err(ApiError::unprocessable(format!(
            "on-demand renditions are made of videos; asset {id} is {:?}",
            asset.kind
        )));
    }
    let sides_ok = (16..=7680).contains(&spec.long_side)
        && (16..=7680).contains(&spec.short_side)
        && spec.short_side <= spec.long_side;
    if !sides_ok {
        return Err(ApiError::unprocessable(
            "long_side and short_side must be within 16 and 7680, short_side at most long_side",
        ));
    }
    if !(50..=100_000).contains(&spec.bitrate_kbps) {
        return Err(ApiError::unprocessable("bitrate_kbps must be within 50 and 100000"));
    }
    let start = spec.start_seconds.unwrap_or(0.0);
    if !start.is_finite()
        || start < 0.0
        || spec.end_seconds.is_some_and(|e| !e.is_finite() || e <= start)
    {
        return Err(ApiError::unprocessable("start_seconds must be >= 0 and end_seconds after it"));
    }
    if let (Some(d), Some(_)) =
        (asset.technical.as_ref().and_then(|t| t.duration_seconds), spec.start_seconds)
        && start >= d
    {
        return Err(ApiError::unprocessable(format!(
            "start_seconds {start} is past the end of the video ({d:.3} s)"
        )));
    }
    let job_id = uuid::Uuid::now_v7();
    let event = Event::OnDemandRequested {
        id,
        job_id,
        sha256: asset.sha256.clone(),
        master_key: asset.master_key.clone(),
        spec,
    };
    append(&state, EventEnvelope { at: Utc::now(), principal: state.principal().name, event })
        .await?;
    let job_url = format!("/api/v1/jobs/{job_id}");
    let mut r = (
        StatusCode::ACCEPTED,
        Json(OnDemandAccepted { job_id, asset_id: id, job_url: job_url.clone() }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&job_url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}
