//! Collections: named, nestable groups of assets inside a project (`/api/v1/collections`). A
//! restricted one hides its assets (and its nested collections) from project members who were
//! not granted it; the read scope carries the hidden ones into every listing and search.

use acervo_catalog::{Action, AssetId, Principal, ProjectSlug};
use acervo_identity::{CollectionChange, CollectionInfo, NewCollection};
use acervo_policy::Resource;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::asset_for;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiQuery, parse_id};
use crate::intents;
use crate::problem::ApiError;
use crate::state::AppState;

/// Assets added or removed per request at most.
const MAX_ASSETS: usize = 1000;

#[derive(Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct CollectionParams {
    /// Only the collections of this project.
    pub project: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    pub project: String,
    pub name: String,
    /// The collection to nest it in (same project).
    #[serde(default)]
    pub parent: Option<String>,
    /// Hidden from project members not granted it (its creator is granted it).
    #[serde(default)]
    pub restricted: bool,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// What to change (at least one field); `parent: null` moves it to the top of its project.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct CollectionPatch {
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
    #[schema(nullable = false)]
    pub restricted: Option<bool>,
}

/// Assets to put in the collection and to take out of it (ids, at most 1000 in all).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionAssets {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CollectionAssetsChanged {
    pub added: usize,
    pub removed: usize,
}

/// The collection, if `caller` sees it: its project is the caller's and it is not hidden.
fn visible(state: &AppState, caller: &Principal, id: &str) -> Result<CollectionInfo, ApiError> {
    let hidden = state.scope(caller);
    state
        .identity
        .collection(id)
        .filter(|c| {
            caller.can_see_project(&c.project) && !hidden.hidden_collections.contains(&c.id)
        })
        .ok_or_else(|| ApiError::not_found(format!("no collection has the id {id:?}")))
}

fn require(
    state: &AppState,
    caller: &Principal,
    action: Action,
    project: &str,
) -> Result<(), ApiError> {
    if state.may(caller, action, &Resource::project(project)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{} may not {} in project {project:?}",
            caller.name,
            action.describe()
        )))
    }
}

/// A restriction, a grant or a move changed: the policy reads the new directory data.
fn directory_changed(state: &AppState) -> Result<(), ApiError> {
    state.policy.set_directory(&state.identity.restricted_collections()).map_err(ApiError::internal)
}

/// Collections the caller sees (parents before children).
#[utoipa::path(get, path = "/api/v1/collections", tag = "collections", params(CollectionParams),
    responses(
        (status = 200, body = Vec<CollectionInfo>),
        (status = 400, description = "Unknown parameter", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiQuery(p): ApiQuery<CollectionParams>,
) -> Result<Json<Vec<CollectionInfo>>, ApiError> {
    let project = match p.project.filter(|p| !p.is_empty()) {
        Some(raw) => {
            Some(raw.parse::<ProjectSlug>().map_err(|e| ApiError::bad_request(e.to_string()))?)
        }
        None => None,
    };
    let scope = state.scope(&caller);
    let out = state
        .identity
        .collections(project.as_ref())
        .into_iter()
        .filter(|c| caller.can_see_project(&c.project) && !scope.hidden_collections.contains(&c.id))
        .collect();
    Ok(Json(out))
}

/// Create a collection in a project.
#[utoipa::path(post, path = "/api/v1/collections", tag = "collections", request_body = CreateCollection,
    responses(
        (status = 201, body = CollectionInfo),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to edit (or restrict) collections in the project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or parent", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name, a parent of another project, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateCollection>,
) -> Result<(StatusCode, Json<CollectionInfo>), ApiError> {
    let project: ProjectSlug =
        body.project.parse().map_err(|e: acervo_catalog::project_slug::BadProjectSlug| {
            ApiError::unprocessable(e.to_string())
        })?;
    if !caller.can_see_project(project.as_str()) {
        return Err(ApiError::not_found(format!("no project has the slug {:?}", body.project)));
    }
    require(&state, &caller, Action::CollectionEdit, project.as_str())?;
    if body.restricted {
        require(&state, &caller, Action::CollectionRestrict, project.as_str())?;
    }
    if let Some(parent) = &body.parent {
        visible(&state, &caller, parent)?;
    }
    let created = state.identity.create_collection(NewCollection {
        project,
        name: body.name,
        parent: body.parent,
        restricted: body.restricted,
        by: caller.name.clone(),
    })?;
    if created.effectively_restricted {
        directory_changed(&state)?;
    }
    Ok((StatusCode::CREATED, Json(created)))
}

/// One collection.
#[utoipa::path(get, path = "/api/v1/collections/{id}", tag = "collections", params(("id" = String, Path)),
    responses(
        (status = 200, body = CollectionInfo),
        (status = 404, description = "No such collection (or hidden from the caller)", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_one(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<CollectionInfo>, ApiError> {
    visible(&state, &caller, &id).map(Json)
}

/// Rename, move or (un)restrict a collection.
#[utoipa::path(patch, path = "/api/v1/collections/{id}", tag = "collections", params(("id" = String, Path)), request_body = CollectionPatch,
    responses(
        (status = 200, body = CollectionInfo),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to edit (or restrict) collections in the project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection or parent", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name, a cycle, a parent of another project, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CollectionPatch>,
) -> Result<Json<CollectionInfo>, ApiError> {
    let c = visible(&state, &caller, &id)?;
    require(&state, &caller, Action::CollectionEdit, &c.project)?;
    if body.restricted.is_some() || (c.effectively_restricted && body.parent.is_some()) {
        require(&state, &caller, Action::CollectionRestrict, &c.project)?;
    }
    if let Some(Some(parent)) = &body.parent {
        visible(&state, &caller, parent)?;
    }
    let changed = state.identity.update_collection(
        &id,
        CollectionChange { name: body.name, parent: body.parent, restricted: body.restricted },
    )?;
    directory_changed(&state)?;
    Ok(Json(changed))
}

/// Delete an empty collection (no assets, no nested collections).
#[utoipa::path(delete, path = "/api/v1/collections/{id}", tag = "collections", params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed to edit collections in the project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "It still holds assets or collections", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let c = visible(&state, &caller, &id)?;
    require(&state, &caller, Action::CollectionEdit, &c.project)?;
    let held = state.catalog.count_in_collection(&id).await?;
    if held > 0 {
        return Err(ApiError::conflict(format!(
            "collection {id:?} holds {held} asset(s) (deleted ones included): take them out first"
        )));
    }
    state.identity.delete_collection(&id)?;
    directory_changed(&state)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grant a user a restricted collection (and the collections nested in it).
#[utoipa::path(put, path = "/api/v1/collections/{id}/grants/{user}", tag = "collections",
    params(("id" = String, Path), ("user" = String, Path)),
    responses(
        (status = 200, body = CollectionInfo),
        (status = 403, description = "Not allowed to restrict collections in the project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection or user", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn grant(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, user)): Path<(String, String)>,
) -> Result<Json<CollectionInfo>, ApiError> {
    set_grant(state, caller, id, user, true).await
}

/// Take a grant back.
#[utoipa::path(delete, path = "/api/v1/collections/{id}/grants/{user}", tag = "collections",
    params(("id" = String, Path), ("user" = String, Path)),
    responses(
        (status = 200, body = CollectionInfo),
        (status = 403, description = "Not allowed to restrict collections in the project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection or user", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, user)): Path<(String, String)>,
) -> Result<Json<CollectionInfo>, ApiError> {
    set_grant(state, caller, id, user, false).await
}

async fn set_grant(
    state: AppState,
    caller: Principal,
    id: String,
    user: String,
    granted: bool,
) -> Result<Json<CollectionInfo>, ApiError> {
    let c = visible(&state, &caller, &id)?;
    require(&state, &caller, Action::CollectionRestrict, &c.project)?;
    let changed = state.identity.grant_collection(&id, &user, granted)?;
    directory_changed(&state)?;
    Ok(Json(changed))
}

/// Put assets in the collection and take others out (the caller edits each of them).
#[utoipa::path(post, path = "/api/v1/collections/{id}/assets", tag = "collections", params(("id" = String, Path)), request_body = CollectionAssets,
    responses(
        (status = 200, body = CollectionAssetsChanged),
        (status = 400, description = "Malformed JSON or a malformed id", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to edit collections, or one of the assets", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection or asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No asset given, too many, an asset of another project, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_assets(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CollectionAssets>,
) -> Result<Json<CollectionAssetsChanged>, ApiError> {
    let c = visible(&state, &caller, &id)?;
    require(&state, &caller, Action::CollectionEdit, &c.project)?;
    let n = body.add.len() + body.remove.len();
    if n == 0 || n > MAX_ASSETS {
        return Err(ApiError::unprocessable(format!(
            "give between 1 and {MAX_ASSETS} asset ids to add or remove (got {n})"
        )));
    }
    let parse =
        |ids: &[String]| ids.iter().map(|i| parse_id(i)).collect::<Result<Vec<AssetId>, _>>();
    let (add, remove) = (parse(&body.add)?, parse(&body.remove)?);
    // Every asset is checked before anything is recorded: all or nothing.
    for a in add.iter().chain(&remove) {
        let asset = asset_for(&state, &caller, *a, Action::AssetEdit).await?;
        if asset.project != c.project {
            return Err(ApiError::unprocessable(format!(
                "asset {a} is in project {:?}, collection {id:?} in {:?}",
                asset.project, c.project
            )));
        }
    }
    intents::change_collections(&state, &caller, &add, vec![id.clone()], vec![]).await?;
    intents::change_collections(&state, &caller, &remove, vec![], vec![id.clone()]).await?;
    Ok(Json(CollectionAssetsChanged { added: add.len(), removed: remove.len() }))
}
