//! Acervo's HTTP API (axum): uploads streamed to the master store, downloads with Range and
//! ETag, the catalog, full-text search with facets, job progress, health, Prometheus metrics
//! and the OpenAPI document. Every error is an RFC 9457 `application/problem+json`.

mod audit;
mod auth;
mod extract;
mod http_metrics;
mod intents;
mod media_type;
mod openapi;
mod pending;
mod problem;
mod range;
mod rate_limit;
mod routes;
mod state;

pub use problem::ApiError;
pub use state::AppState;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};

/// The API router over `state`.
/// Cross-origin access for the configured origins only: preflights are answered here, before
/// authentication (a browser sends no token with them); the headers a client needs to read
/// (ETag, ranges, the upload's location) are exposed.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> =
        origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::RANGE,
                header::IF_RANGE,
                header::IF_NONE_MATCH,
            ])
            .expose_headers([
                header::ETAG,
                header::CONTENT_RANGE,
                header::CONTENT_LENGTH,
                header::CONTENT_DISPOSITION,
                header::LOCATION,
                header::ACCEPT_RANGES,
                HeaderName::from_static("www-authenticate"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

pub fn router(state: AppState) -> Router {
    let upload_limit = usize::try_from(state.config.limits.max_upload_bytes).unwrap_or(usize::MAX);
    let json_limit = state.config.limits.max_json_bytes;
    let cors = cors(&state.config.http.cors_origins);
    let limits = rate_limit::RateLimits::new(
        state.config.http.rate_per_principal,
        state.config.http.rate_per_address,
    );
    let router = Router::new()
        .route("/healthz", get(routes::ops::healthz))
        .route("/metrics", get(routes::ops::metrics))
        .route("/api/v1/openapi.json", get(routes::ops::openapi))
        .route(
            "/api/v1/assets",
            get(routes::assets::list)
                .post(routes::assets::create)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/api/v1/assets/{id}",
            get(routes::assets::get_one)
                .patch(routes::assets::patch)
                .delete(routes::assets::delete),
        )
        .route("/api/v1/assets/{id}/download", get(routes::download::master))
        .route("/api/v1/assets/{id}/renditions/{profile}", get(routes::download::rendition))
        .route(
            "/api/v1/assets/{id}/renditions/{profile}/{*file}",
            get(routes::download::rendition_file),
        )
        .route("/api/v1/assets/{id}/history", get(routes::history::history))
        .route(
            "/api/v1/assets/{id}/legal-hold",
            put(routes::legal_hold::place).delete(routes::legal_hold::release),
        )
        .route("/api/v1/assets/{id}/reprocess", post(routes::assets::reprocess))
        .route("/api/v1/assets/{id}/restore", post(routes::restore::restore))
        .route("/api/v1/assets/{id}/editorial-status", post(routes::workflow::move_status))
        .route(
            "/api/v1/collections",
            get(routes::collections::list).post(routes::collections::create),
        )
        .route(
            "/api/v1/collections/{id}",
            get(routes::collections::get_one)
                .patch(routes::collections::update)
                .delete(routes::collections::delete),
        )
        .route(
            "/api/v1/collections/{id}/grants/{user}",
            put(routes::collections::grant).delete(routes::collections::revoke),
        )
        .route("/api/v1/collections/{id}/assets", post(routes::collections::change_assets))
        .route("/api/v1/assets/{id}/ondemand", post(routes::assets::ondemand))
        .route("/api/v1/assets/{id}/enrichment", put(routes::enrichment::put))
        .route("/api/v1/assets/{id}/ai/accept", post(routes::assets::accept))
        .route("/api/v1/assets/{id}/ai/reject", post(routes::assets::reject))
        .route("/api/v1/assets/{id}/segments", get(routes::enrichment::segments))
        .route("/api/v1/assets/{id}/frames", get(routes::enrichment::frames))
        .route("/api/v1/events", get(routes::events::events))
        .route("/api/v1/search", get(routes::search::search).post(routes::search::search_post))
        .route("/api/v1/sql", post(routes::sql::sql))
        .route("/api/v1/jobs/{id}", get(routes::jobs::job).delete(routes::jobs::cancel))
        .route("/api/v1/jobs/{id}/output", get(routes::jobs::output))
        .route("/api/v1/dead-letters", get(routes::jobs::dead_letters))
        .route("/api/v1/reindex", post(routes::reindex::reindex))
        .route("/api/v1/purge", post(routes::purge::purge))
        .route("/api/v1/audit", get(routes::audit::list))
        .route("/api/v1/auth/login", post(routes::auth::login))
        .route("/api/v1/auth/refresh", post(routes::auth::refresh))
        .route("/api/v1/auth/logout", post(routes::auth::logout))
        .route("/api/v1/auth/config", get(routes::auth::config))
        .route("/api/v1/auth/me", get(routes::auth::me))
        .route("/api/v1/auth/password", put(routes::auth::change_password))
        .route("/api/v1/auth/tokens", get(routes::auth::tokens).post(routes::auth::create_token))
        .route("/api/v1/auth/tokens/{id}", delete(routes::auth::revoke_token))
        .route("/api/v1/users", get(routes::admin::list_users).post(routes::admin::create_user))
        .route(
            "/api/v1/users/{name}",
            get(routes::admin::get_user).patch(routes::admin::update_user),
        )
        .route("/api/v1/users/{name}/password", put(routes::admin::set_password))
        .route(
            "/api/v1/projects",
            get(routes::admin::list_projects).post(routes::admin::create_project),
        )
        .route("/api/v1/projects/{slug}", get(routes::admin::get_project))
        .route(
            "/api/v1/projects/{slug}/members/{user}",
            put(routes::admin::set_member).delete(routes::admin::remove_member),
        )
        .fallback(routes::ops::not_found)
        .method_not_allowed_fallback(routes::ops::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(limits.clone(), rate_limit::per_principal))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn_with_state(limits, rate_limit::per_address))
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(axum::middleware::from_fn_with_state(state.http.clone(), http_metrics::record))
        .layer(DefaultBodyLimit::max(json_limit))
        .layer(axum::middleware::from_fn(security_headers));
    let router = match cors {
        Some(layer) => router.layer(layer),
        None => router,
    };
    router.with_state(state)
}

/// Headers every answer carries: no content sniffing (a download is what its type says), no
/// framing, no referrer leaking asset URLs.
async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderName, HeaderValue};
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    response
}
