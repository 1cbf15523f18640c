//! What leaves an audit row: every request that changes something, the sensitive reads
//! (downloads, renditions once per playback, on-demand outputs, the audit itself, users and
//! tokens), and every refusal (401, 403) on any route, recorded after the response with who
//! (the authenticated principal, or "anonymous"), the route, the path, the status and the
//! client. Logins are recorded by their handler, which knows the user name tried.

use acervo_catalog::{AuditEntry, AuditResult};
use acervo_identity::Authenticated;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::Client;
use crate::state::AppState;

/// Routes whose handler records its own entry.
const SELF_RECORDED: &[&str] = &["/api/v1/auth/login"];

fn is_sensitive_read(route: &str, path: &str) -> bool {
    if route == "/api/v1/assets/{id}/renditions/{profile}/{*file}" {
        // An HLS playback fetches one playlist, then many segments: the playlist is the read.
        return path.ends_with("index.m3u8") || path.ends_with("master.m3u8");
    }
    route.ends_with("/download")
        || route == "/api/v1/assets/{id}/renditions/{profile}"
        || route == "/api/v1/jobs/{id}/output"
        || route.starts_with("/api/v1/audit")
        // Who changed what, like the audit trail.
        || route == "/api/v1/assets/{id}/history"
        || route.starts_with("/api/v1/users")
        || route.starts_with("/api/v1/auth/tokens")
}

fn result_of(status: u16) -> AuditResult {
    match status {
        401 | 403 => AuditResult::Denied,
        s if s >= 400 => AuditResult::Failed,
        _ => AuditResult::Allowed,
    }
}

pub(crate) async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let client = Client::of(req.extensions(), req.headers());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let route_name = route.unwrap_or_else(|| "(no route)".into());
    if SELF_RECORDED.contains(&route_name.as_str()) || path == "/healthz" || path == "/metrics" {
        return response;
    }
    let changes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let refused = status == 401 || status == 403;
    if !(changes || refused || is_sensitive_read(&route_name, &path)) {
        return response;
    }
    let who = response
        .extensions()
        .get::<Authenticated>()
        .map_or_else(|| "anonymous".to_string(), |a| a.principal.name.clone());
    let entry = AuditEntry {
        at: chrono::Utc::now(),
        who,
        action: format!("{method} {route_name}"),
        resource: path,
        result: result_of(status),
        status: Some(status),
        client_ip: client.ip,
        user_agent: client.user_agent,
        detail: String::new(),
    };
    state.audit.record(entry).await;
    response
}
