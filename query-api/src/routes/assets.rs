//! `/api/v1/assets`: upload, list, read, edit, soft delete.

use std::pin::pin;

use acervo_catalog::{Action, Asset, AssetId, AssetStatus, MediaKind, ProjectSlug, Rendition};
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

use super::{asset_for, visible_asset};
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiQuery, parse_id};
use crate::intents;
use crate::media_type::{self, check_filename, classify};
use acervo_policy::Resource;

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
    pub models: std::collections::BTreeMap<acervo_catalog::EnrichPart, String>,
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

/// Suggested labels to accept (they join the tags) or to reject.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptSuggestions {
    /// At least one, each among the asset's suggestions.
    #[schema(min_items = 1)]
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
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub project: Option<String>,
    pub sha256: Option<String>,
    /// draft, in_review, approved, published or archived.
    pub editorial_status: Option<String>,
    /// A collection id.
    pub collection: Option<String>,
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

/// A field that may be absent but not null (`null` would read as "absent" and be kept).
fn not_null<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Descriptive fields to change (at least one); absent fields stay as they are, and the
/// standard descriptive fields (byline, rights, embargo, place…) are cleared with `null`.
#[derive(Deserialize, ToSchema)]
pub struct AssetPatch {
    /// Not blank.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, pattern = r"\S")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub tags: Option<Vec<String>>,
    #[serde(flatten)]
    pub descriptive: acervo_catalog::DescriptivePatch,
    /// Anything else: refused by name (a flattened struct cannot deny unknown fields itself).
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: std::collections::BTreeMap<String, serde_json::Value>,
}

fn asset_filter(p: ListParams) -> Result<AssetFilter, ApiError> {
    let (kind, status, project, sha256) =
        (p.kind.as_deref(), p.status.as_deref(), p.project, p.sha256);
    Ok(AssetFilter {
        editorial_status: super::search::editorial_status(p.editorial_status.as_deref())?,
        collection: p.collection.filter(|c| !c.is_empty()),
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
        (status = 400, description = "Malformed form, file name or field", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "No access to the project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same content is already in this project (existing_id names it)", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too large", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content does not match its name", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty file, or the project is not a slug", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    // Refused before a byte is stored when the caller may upload nowhere.
    if !state.may_somewhere(&principal, Action::AssetCreate) {
        return Err(ApiError::forbidden(format!("{} may not upload assets", principal.name)));
    }
    let mut multipart = multipart
        .map_err(|e| ApiError::bad_request(format!("expected a multipart/form-data body: {e}")))?;
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
                    if slot.is_some() {
                        return Err(ApiError::bad_request(format!("form field {name} is given more than once")));
                    }
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
    if !media_type::allowed(&mime, &state.config.limits.allowed_types) {
        return Err(refuse(ApiError::unsupported_media(format!(
            "{filename} is {mime} (from its content), which is not accepted here (limits.allowed_types)"
        )))
        .await);
    }
    let project = project
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_PROJECT.into());
    let slug = match project.parse::<ProjectSlug>() {
        Ok(s) => s,
        Err(e) => return Err(refuse(ApiError::unprocessable(e.to_string())).await),
    };
    if !state.may(&principal, Action::AssetCreate, &Resource::project(&project)) {
        return Err(refuse(ApiError::forbidden(format!(
            "{} may not upload assets to project {project:?}",
            principal.name
        )))
        .await);
    }
    // An administrator's upload into a new project creates it; anyone else's role is in a
    // project that exists.
    if let Err(e) = state.identity.ensure_projects(std::slice::from_ref(&slug)) {
        return Err(refuse(e.into()).await);
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
        .with_existing(existing);
        return Err(refuse(e).await);
    }
    let title =
        title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).unwrap_or_else(|| {
            filename.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(&filename).to_string()
        });
    let upload = intents::Upload {
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
    };
    if let Err(e) = intents::ingest(&state, &principal, upload).await {
        return Err(refuse(e).await);
    }
    tracing::info!(asset = %id, sha256 = %master.sha256, size = master.size, "master ingested");
    // What the catalog will say once it applies the ingest (a document has no stages).
    let status = if acervo_catalog::media_stages(kind).is_empty() {
        AssetStatus::Ready
    } else {
        AssetStatus::Processing
    };
    let body = Created { id, sha256: master.sha256, size: master.size, status };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/assets/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// List assets, newest first.
#[utoipa::path(get, path = "/api/v1/assets", tag = "assets", params(ListParams),
    responses(
        (status = 200, body = AssetPage),
        (status = 400, description = "Invalid filter or page", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<AssetPage>, ApiError> {
    let (limit, offset) = page_bounds(p.limit, p.offset)?;
    let filter = asset_filter(p)?;
    let scope = state.scope(&principal);
    let (items, total) = state.catalog.list(&filter, &scope, limit, offset).await?;
    Ok(Json(AssetPage { items, total, limit, offset }))
}

/// An asset with its technical metadata, renditions and stage states.
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)),
    responses(
        (status = 200, body = AssetView),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_one(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, &principal, id).await?;
    let renditions = state.catalog.renditions_of(id).await?;
    Ok(Json(view(asset, renditions)))
}

/// Edit descriptive metadata (recorded as an event).
#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)), request_body = AssetPatch,
    responses(
        (status = 200, body = AssetView),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The asset is deleted", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or mistyped fields, or invalid values", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<AssetPatch>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = asset_for(&state, &principal, id, Action::AssetEdit).await?;
    if asset.status == AssetStatus::Deleted {
        return Err(ApiError::conflict(format!("asset {id} is deleted")));
    }
    if !patch.unknown.is_empty() {
        let names: Vec<&str> = patch.unknown.keys().map(String::as_str).collect();
        return Err(ApiError::unprocessable(format!("unknown field(s): {}", names.join(", "))));
    }
    let descriptive =
        patch.descriptive.checked().map_err(|e| ApiError::unprocessable(e.to_string()))?;
    if patch.title.is_none()
        && patch.description.is_none()
        && patch.tags.is_none()
        && descriptive.is_empty()
    {
        return Err(ApiError::unprocessable(
            "nothing to change: give title, description, tags or a descriptive field",
        ));
    }
    let title = patch.title.map(|t| t.trim().to_string());
    if title.as_deref() == Some("") {
        return Err(ApiError::unprocessable("the title cannot be empty"));
    }
    let tags = patch.tags.map(|t| Asset::parse_tags(&t.join(",")));
    let description = patch.description.map(|d| d.trim().to_string());
    // The dataflow re-embeds the asset's vector from its new text.
    intents::edit(&state, &principal, id, title, description, tags, descriptive).await?;
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}

/// Accept suggested labels: they become editorial tags (recorded as an event, so the audit
/// trail shows who accepted what). Only labels the asset has as suggestions are accepted.
#[utoipa::path(post, path = "/api/v1/assets/{id}/ai/accept", tag = "assets", params(("id" = String, Path)), request_body = AcceptSuggestions,
    responses(
        (status = 200, body = AssetView),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The asset is deleted", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A label is not among the suggestions, none given, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AcceptSuggestions>,
) -> Result<Json<AssetView>, ApiError> {
    let (id, labels) = chosen_suggestions(&state, &principal, &id, &body.labels).await?;
    intents::accept_suggestions(&state, &principal, id, labels).await?;
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}

/// Reject suggested labels: they leave the suggestions, and a model that suggests them again
/// (a reprocess, an import) is not listened to. A tag already made of one stays.
#[utoipa::path(post, path = "/api/v1/assets/{id}/ai/reject", tag = "assets", params(("id" = String, Path)), request_body = AcceptSuggestions,
    responses(
        (status = 200, body = AssetView),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The asset is deleted", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A label is not among the suggestions, none given, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn reject(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AcceptSuggestions>,
) -> Result<Json<AssetView>, ApiError> {
    let (id, labels) = chosen_suggestions(&state, &principal, &id, &body.labels).await?;
    intents::reject_suggestions(&state, &principal, id, labels).await?;
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}

/// The labels an editor chose among an asset's suggestions (to accept or reject): at least one,
/// each a suggestion of a live asset the principal may edit.
async fn chosen_suggestions(
    state: &AppState,
    principal: &acervo_catalog::Principal,
    id: &str,
    chosen: &[String],
) -> Result<(AssetId, Vec<String>), ApiError> {
    let id = parse_id(id)?;
    let asset = asset_for(state, principal, id, Action::AssetEdit).await?;
    if asset.status == AssetStatus::Deleted {
        return Err(ApiError::conflict(format!("asset {id} is deleted")));
    }
    let labels = Asset::clean_tags(chosen.iter().map(String::as_str));
    if labels.is_empty() {
        return Err(ApiError::unprocessable("no label given: name at least one suggested label"));
    }
    if let Some(unknown) = labels.iter().find(|l| !asset.labels.contains(l)) {
        return Err(ApiError::unprocessable(format!(
            "{unknown:?} is not a suggested label of asset {id} (suggested: {})",
            asset.labels.join(", ")
        )));
    }
    Ok((id, labels))
}

/// Soft delete: the asset leaves listings and search; its master is retained.
#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)),
    responses(
        (status = 200, body = AssetView),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Under a legal hold", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<AssetView>, ApiError> {
    let id = parse_id(&id)?;
    let asset = asset_for(&state, &principal, id, Action::AssetDelete).await?;
    if let Some(hold) = &asset.legal_hold {
        return Err(ApiError::conflict(format!(
            "asset {id} is under a legal hold placed by {} on {}: {}",
            hold.by,
            hold.at.format("%Y-%m-%d"),
            hold.reason
        )));
    }
    if asset.status != AssetStatus::Deleted {
        let retention_until =
            Utc::now() + chrono::Duration::days(i64::from(state.config.retention_days));
        intents::delete(&state, &principal, id, retention_until).await?;
    }
    get_one(State(state), Caller(principal), Path(id.to_string())).await
}

/// Run an asset's media stages again. Renditions already stored for the current profiles are
/// reused; those of changed profiles are made at their new keys.
#[utoipa::path(post, path = "/api/v1/assets/{id}/reprocess", tag = "assets", params(("id" = String, Path)),
    responses(
        (status = 202, body = AssetView),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Deleted, or nothing to process", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn reprocess(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let asset = asset_for(&state, &principal, id, Action::AssetEdit).await?;
    if !asset.status.can_become(AssetStatus::Processing)
        || asset.status == AssetStatus::Deleted
        || acervo_catalog::media_stages(asset.kind).is_empty()
    {
        return Err(ApiError::conflict(format!(
            "asset {id} is {} ({:?}): nothing to reprocess",
            asset.status, asset.kind
        )));
    }
    intents::reprocess(&state, &principal, &[id], None).await?;
    let asset = visible_asset(&state, &principal, id).await?;
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
    responses(
        (status = 202, body = OnDemandAccepted),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The asset is deleted", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a video, an impossible profile, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn ondemand(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<acervo_catalog::OnDemandSpec>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let asset = asset_for(&state, &principal, id, Action::AssetEdit).await?;
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
    intents::request_ondemand(&state, &principal, id, job_id, spec).await?;
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
