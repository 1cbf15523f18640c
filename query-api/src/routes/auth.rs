//! `/api/v1/auth/*`: local login (OAuth's token response), refresh with rotation, logout, the
//! caller's own identity and password, personal API tokens, and what a browser needs to log in
//! through the OpenID provider.

use acervo_catalog::{Principal, Role};
use acervo_identity::{ApiTokenInfo, TokenPair};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::blocking;
use crate::auth::{Caller, Client, Session};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Sign in with a local user's name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong user name or password", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or missing fields", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this user or address", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let store = state.identity.clone();
    let user = req.username.clone();
    let ip = client.ip.clone();
    let result = blocking(move || store.login(&req.username, &req.password, &ip)).await?;
    let entry = |result, status: u16, detail: String| acervo_catalog::AuditEntry {
        at: Utc::now(),
        who: user.chars().take(64).collect(),
        action: "login".into(),
        resource: format!("user:{}", user.chars().take(64).collect::<String>()),
        result,
        status: Some(status),
        client_ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        detail,
    };
    match result {
        Ok(pair) => {
            tracing::info!(%user, "login");
            state
                .audit
                .record(entry(acervo_catalog::AuditResult::Allowed, 200, String::new()))
                .await;
            Ok(Json(pair))
        }
        Err(e) => {
            tracing::info!(%user, reason = %e, "login refused");
            let result = if e.status() == 401 || e.status() == 403 || e.status() == 429 {
                acervo_catalog::AuditResult::Denied
            } else {
                acervo_catalog::AuditResult::Failed
            };
            state.audit.record(entry(result, e.status(), e.to_string())).await;
            Err(e.into())
        }
    }
}

/// Trade a refresh token for a new pair; the old one is spent (presenting it again revokes
/// every token of that login).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not a live refresh token (spent, revoked, expired)", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or missing fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(state.identity.refresh(&req.refresh_token)?))
}

/// End this login: its refresh token and access tokens stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    Session(who): Session,
) -> Result<StatusCode, ApiError> {
    if let Some(family) = &who.session {
        state.identity.logout(family)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct OidcLogin {
    pub issuer: String,
    pub client_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuthConfigView {
    /// Local users sign in at `POST /api/v1/auth/login`.
    pub local_login: bool,
    /// The OpenID provider a browser logs in with (Authorization Code + PKCE), if any.
    pub oidc: Option<OidcLogin>,
}

/// How a client signs in.
#[utoipa::path(get, path = "/api/v1/auth/config", tag = "auth", responses((status = 200, body = AuthConfigView)))]
pub async fn config(State(state): State<AppState>) -> Json<AuthConfigView> {
    let oidc = state.authenticator.oidc.as_ref().map(|o| OidcLogin {
        issuer: o.issuer().to_string(),
        client_id: o.client_id().to_string(),
    });
    Json(AuthConfigView { local_login: true, oidc })
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub name: String,
    /// Roles in every project.
    pub roles: Vec<Role>,
    /// Roles per project.
    pub projects: std::collections::BTreeMap<String, Vec<Role>>,
    /// "password" (a local login), "api_token", "oidc" or "disabled" (no authentication).
    pub method: &'static str,
    pub must_change_password: bool,
}

/// Who the caller is, and what it holds.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses(
        (status = 200, body = Me),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(Session(who): Session) -> Json<Me> {
    let Principal { name, roles, project_roles } = who.principal;
    Json(Me {
        name,
        roles,
        projects: project_roles,
        method: who.method,
        must_change_password: who.must_change_password,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's own password (a local user), proving the current one. Other logins end.
#[utoipa::path(put, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated, or the current password is wrong", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a local user", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new password is refused (too short, the same), or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    Session(who): Session,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    if who.method != "password" && who.method != "api_token" {
        return Err(ApiError::forbidden("only a local user has a password here"));
    }
    let store = state.identity.clone();
    let name = who.principal.name.clone();
    blocking(move || {
        store.change_password(
            &name,
            &req.current_password,
            &req.new_password,
            who.session.as_deref(),
        )
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// What the token is for ("nightly export").
    pub name: String,
    /// When it stops working; never, if absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiToken {
    /// The token itself: shown this once, kept only as a hash.
    pub token: String,
    #[serde(flatten)]
    pub info: ApiTokenInfo,
}

fn local_user(state: &AppState, caller: &Principal) -> Result<(), ApiError> {
    if state.identity.user(&caller.name).is_none() {
        return Err(ApiError::forbidden("personal tokens belong to local users"));
    }
    Ok(())
}

/// The caller's personal API tokens (never the tokens themselves).
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth",
    responses(
        (status = 200, body = Vec<ApiTokenInfo>),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn tokens(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Json<Vec<ApiTokenInfo>> {
    Json(state.identity.api_tokens(Some(&caller.name)))
}

/// A new personal API token for scripts, acting as the caller.
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "auth", request_body = NewApiToken,
    responses(
        (status = 201, body = CreatedApiToken),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a local user", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No name, an expiry in the past, or unknown fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(req): ApiJson<NewApiToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>), ApiError> {
    local_user(&state, &caller)?;
    let (token, info) = state.identity.create_api_token(&caller.name, &req.name, req.expires_at)?;
    Ok((StatusCode::CREATED, Json(CreatedApiToken { token, info })))
}

/// Revoke a personal API token (one's own; an administrator any).
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth",
    params(("id" = String, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not authenticated", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token of the caller's", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mine = state.identity.api_token(&id).is_some_and(|t| t.user == caller.name);
    if !mine && !state.may_everywhere(&caller, acervo_catalog::Action::Administer) {
        return Err(ApiError::not_found(format!("no token of yours has the id {id:?}")));
    }
    state.identity.revoke_api_token(&id)?;
    Ok(StatusCode::NO_CONTENT)
}
