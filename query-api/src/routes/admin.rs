//! `/api/v1/users` and `/api/v1/projects`: local users, projects and the role of each member.
//! Changing them is an administrator's; a user reads their own record and the projects they
//! belong to.

use acervo_catalog::{Action, ProjectSlug, Role};
use acervo_identity::{NewUser, ProjectInfo, UserInfo};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::blocking;
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

fn require_admin(state: &AppState, caller: &acervo_catalog::Principal) -> Result<(), ApiError> {
    if state.may_everywhere(caller, Action::Administer) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only an administrator manages users and projects"))
    }
}

fn slug(raw: &str) -> Result<ProjectSlug, ApiError> {
    raw.parse().map_err(|e: acervo_catalog::project_slug::BadProjectSlug| {
        ApiError::not_found(e.to_string())
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// The name to sign in with: lower-case letters, digits, '.', '_', '-'.
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    /// The first password (the user must change it at the first login unless
    /// `must_change_password` is false).
    pub password: String,
    /// Roles in every project; most users have none and get a role per project instead.
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default = "yes")]
    pub must_change_password: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateUser {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    /// A disabled user cannot sign in, and their sessions and tokens stop working.
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
    #[serde(default = "yes")]
    pub must_change_password: bool,
}

/// Every local user (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin",
    responses(
        (status = 200, body = Vec<UserInfo>),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<Vec<UserInfo>>, ApiError> {
    require_admin(&state, &caller)?;
    Ok(Json(state.identity.users()))
}

/// Create a local user.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = CreateUser,
    responses(
        (status = 201, body = UserInfo),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a user name, a password too short, an unknown role or field", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(req): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserInfo>), ApiError> {
    require_admin(&state, &caller)?;
    let store = state.identity.clone();
    let user = blocking(move || {
        store.create_user(NewUser {
            name: req.name,
            display_name: req.display_name,
            password: Some(req.password),
            roles: req.roles,
            must_change_password: req.must_change_password,
        })
    })
    .await??;
    tracing::info!(admin = %caller.name, user = %user.name, "user created");
    Ok((StatusCode::CREATED, Json(user)))
}

/// One user (administrators, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{name}", tag = "admin",
    params(("name" = String, Path)),
    responses(
        (status = 200, body = UserInfo),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (or not yours to see)", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
) -> Result<Json<UserInfo>, ApiError> {
    let visible = caller.name == name || state.may_everywhere(&caller, Action::Administer);
    state
        .identity
        .user(&name)
        .filter(|_| visible)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no user is named {name:?}")))
}

/// Change a user's display name, global roles, or disable them.
#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "admin", request_body = UpdateUser,
    params(("name" = String, Path)),
    responses(
        (status = 200, body = UserInfo),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown role or field, or disabling oneself", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> Result<Json<UserInfo>, ApiError> {
    require_admin(&state, &caller)?;
    if name == caller.name
        && (req.disabled == Some(true)
            || req.roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin)))
    {
        return Err(ApiError::unprocessable("an administrator cannot disable or demote themself"));
    }
    let user = state.identity.update_user(&name, req.display_name, req.roles, req.disabled)?;
    state.policy.invalidate();
    tracing::info!(admin = %caller.name, user = %name, "user changed");
    Ok(Json(user))
}

/// Set a user's password (their sessions end).
#[utoipa::path(put, path = "/api/v1/users/{name}/password", tag = "admin", request_body = SetPassword,
    params(("name" = String, Path)),
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A password too short, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_password(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<SetPassword>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &caller)?;
    let store = state.identity.clone();
    blocking(move || store.set_password(&name, &req.password, req.must_change_password)).await??;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Lower-case letters, digits and hyphens.
    #[schema(value_type = String, pattern = "^[a-z0-9][a-z0-9-]{0,63}$")]
    pub slug: ProjectSlug,
    #[serde(default)]
    pub title: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub role: Role,
}

/// The projects the caller belongs to (every project, for a role that applies everywhere).
#[utoipa::path(get, path = "/api/v1/projects", tag = "admin",
    responses(
        (status = 200, body = Vec<ProjectInfo>),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_projects(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Json<Vec<ProjectInfo>> {
    let admin = state.may_everywhere(&caller, Action::Administer);
    let projects = state
        .identity
        .projects()
        .into_iter()
        .filter(|p| caller.can_see_project(&p.slug))
        .map(|mut p| {
            // Who else is in a project is an administrator's to read.
            if !admin {
                p.members.retain(|m| m.user == caller.name);
            }
            p
        })
        .collect();
    Json(projects)
}

/// Create a project.
#[utoipa::path(post, path = "/api/v1/projects", tag = "admin", request_body = CreateProject,
    responses(
        (status = 201, body = ProjectInfo),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a slug, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_project(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(req): ApiJson<CreateProject>,
) -> Result<(StatusCode, Json<ProjectInfo>), ApiError> {
    require_admin(&state, &caller)?;
    let title = if req.title.is_empty() { req.slug.as_str().to_string() } else { req.title };
    let project = state.identity.create_project(req.slug, title)?;
    tracing::info!(admin = %caller.name, project = %project.slug, "project created");
    Ok((StatusCode::CREATED, Json(project)))
}

/// One project (its members, for an administrator).
#[utoipa::path(get, path = "/api/v1/projects/{slug}", tag = "admin",
    params(("slug" = String, Path)),
    responses(
        (status = 200, body = ProjectInfo),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project of the caller's", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_project(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(raw): Path<String>,
) -> Result<Json<ProjectInfo>, ApiError> {
    let slug = slug(&raw)?;
    let mut p = state
        .identity
        .project(&slug)
        .filter(|p| caller.can_see_project(&p.slug))
        .ok_or_else(|| ApiError::not_found(format!("no project has the slug {raw:?}")))?;
    if !state.may_everywhere(&caller, Action::Administer) {
        p.members.retain(|m| m.user == caller.name);
    }
    Ok(Json(p))
}

/// Give a user a role in a project (replacing the one they had).
#[utoipa::path(put, path = "/api/v1/projects/{slug}/members/{user}", tag = "admin", request_body = Membership,
    params(("slug" = String, Path), ("user" = String, Path)),
    responses(
        (status = 200, body = ProjectInfo),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or user", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown role or field", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((raw, user)): Path<(String, String)>,
    ApiJson(req): ApiJson<Membership>,
) -> Result<Json<ProjectInfo>, ApiError> {
    require_admin(&state, &caller)?;
    let project = state.identity.set_member(&slug(&raw)?, &user, Some(req.role))?;
    state.policy.invalidate();
    tracing::info!(admin = %caller.name, project = %raw, %user, role = %req.role, "membership set");
    Ok(Json(project))
}

/// End a user's membership of a project.
#[utoipa::path(delete, path = "/api/v1/projects/{slug}/members/{user}", tag = "admin",
    params(("slug" = String, Path), ("user" = String, Path)),
    responses(
        (status = 200, body = ProjectInfo),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or user", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((raw, user)): Path<(String, String)>,
) -> Result<Json<ProjectInfo>, ApiError> {
    require_admin(&state, &caller)?;
    let project = state.identity.set_member(&slug(&raw)?, &user, None)?;
    state.policy.invalidate();
    tracing::info!(admin = %caller.name, project = %raw, %user, "membership ended");
    Ok(Json(project))
}
