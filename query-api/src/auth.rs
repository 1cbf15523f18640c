//! Authentication of every request: the middleware that turns the `Authorization` header into
//! the request's `Authenticated` (a 401 problem when it cannot), and the extractors handlers take
//! it from. A few routes are public (health, metrics, the OpenAPI document, login and refresh,
//! the login configuration); a user who must change the password reaches only that and logout.
//! With `auth.disabled` (loopback only, checked at start) every request is the administrator.

use std::net::SocketAddr;

use acervo_catalog::Principal;
use acervo_identity::{AuthFailure, Authenticated};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;
use crate::state::AppState;

/// Routes that answer without a token.
pub(crate) const PUBLIC: &[&str] = &[
    "/healthz",
    "/metrics",
    "/api/v1/openapi.json",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/config",
];

/// What a user who must change the password may still do.
const BEFORE_PASSWORD_CHANGE: &[&str] =
    &["/api/v1/auth/password", "/api/v1/auth/logout", "/api/v1/auth/me"];

pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if PUBLIC.contains(&path.as_str()) {
        return next.run(req).await;
    }
    let who = if state.auth_disabled {
        Authenticated {
            principal: Principal::local_admin(),
            method: "disabled",
            session: None,
            must_change_password: false,
        }
    } else {
        let header = match req.headers().get(header::AUTHORIZATION).map(|v| v.to_str()) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                return ApiError::from(AuthFailure::Malformed(
                    "the Authorization header is not text",
                ))
                .into_response();
            }
        };
        match state.authenticator.authenticate(header).await {
            Ok(who) => who,
            Err(failure) => {
                tracing::info!(%path, client = %Client::of(req.extensions(), req.headers()).ip, reason = %failure, "request refused: not authenticated");
                return ApiError::from(failure).into_response();
            }
        }
    };
    if who.must_change_password && !BEFORE_PASSWORD_CHANGE.contains(&path.as_str()) {
        return ApiError::forbidden(
            "the password was set for you: choose your own first (PUT /api/v1/auth/password)",
        )
        .into_response();
    }
    req.extensions_mut().insert(who.clone());
    let mut response = next.run(req).await;
    // For the audit layer outside this one: who the request acted for.
    response.extensions_mut().insert(who);
    response
}

/// Where a request comes from, as the login throttle, the logs and the audit record it.
pub struct Client {
    pub ip: String,
    /// At most 200 characters of it.
    pub user_agent: String,
}

impl Client {
    pub(crate) fn of(extensions: &Extensions, headers: &HeaderMap) -> Client {
        Client {
            ip: extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".into(), |c| c.0.ip().to_string()),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(200).collect())
                .unwrap_or_default(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Client::of(&parts.extensions, &parts.headers))
    }
}

/// The whole authentication of a request (how, and which session), for the auth routes.
pub struct Session(pub Authenticated);

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Authenticated>()
            .cloned()
            .map(Session)
            .ok_or_else(|| ApiError::unauthorized("this request is not authenticated"))
    }
}

/// The principal a request acts for (the middleware has authenticated it).
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Session::from_request_parts(parts, state).await.map(|s| Caller(s.0.principal))
    }
}
