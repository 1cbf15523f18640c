//! `GET /api/v1/audit`: the audit trail for administrators, filtered by who, action, resource,
//! result and time, in sequence order, paged by sequence number.

use acervo_catalog::{Action, AuditRow};
use acervo_lakehouse::tables::quote;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only this principal's rows.
    pub who: Option<String>,
    /// Only this action (e.g. `PATCH /api/v1/assets/{id}`, `login`).
    pub action: Option<String>,
    /// Only resources starting with this (e.g. `/api/v1/assets/0192…`).
    pub resource: Option<String>,
    /// `allowed`, `denied` or `failed`.
    pub result: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Rows after this sequence number (the previous page's `next_after`).
    pub after: Option<u64>,
    /// At most this many rows (default 100, at most 1000).
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Give as `after` for the next page; absent on the last.
    pub next_after: Option<u64>,
}

fn like_prefix(p: &str) -> String {
    let escaped: String = p
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("{escaped}%")
}

/// Who did what: the audit trail (administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, description = "Invalid query string", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to read the audit trail", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    if !state.may_everywhere(&principal, Action::AuditRead) {
        return Err(ApiError::forbidden(format!(
            "{} may not read the audit trail",
            principal.name
        )));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit is between 1 and 1000"));
    }
    let after = p.after.unwrap_or(0);
    if after > i64::MAX as u64 {
        return Err(ApiError::bad_request("after is a sequence number (at most 2^63 - 1)"));
    }
    let mut parts = vec![format!("seq > {after}")];
    if let Some(w) = &p.who {
        parts.push(format!("who = {}", quote(w)));
    }
    if let Some(a) = &p.action {
        parts.push(format!("action = {}", quote(a)));
    }
    if let Some(r) = &p.resource {
        parts.push(format!("resource LIKE {}", quote(&like_prefix(r))));
    }
    if let Some(r) = &p.result {
        let r: acervo_catalog::AuditResult =
            r.parse().map_err(|e: acervo_catalog::audit::UnknownAuditResult| {
                ApiError::bad_request(e.to_string())
            })?;
        parts.push(format!("result = {}", quote(r.as_str())));
    }
    if let Some(f) = p.from {
        parts.push(format!("at >= TIMESTAMP '{}'", f.naive_utc()));
    }
    if let Some(t) = p.to {
        parts.push(format!("at < TIMESTAMP '{}'", t.naive_utc()));
    }
    // The caller's own recent actions are in the table before it is read.
    state.audit.flush().await.map_err(ApiError::internal)?;
    let mut rows = state.catalog.audit_rows(&parts.join(" AND ")).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_after = more.then(|| rows.last().map(|r| r.seq)).flatten();
    Ok(Json(AuditPage { rows, next_after }))
}
