//! `/api/v1/sql`: read-only SQL (DataFusion) over the catalog tables (`assets`, `segments`,
//! `embeddings`, `renditions`, …) for data teams, with the search index as the table function
//! `search(query [, limit])`. Statements that change anything are refused. The tables hold
//! every project's rows, so it needs a principal that may see every project.

use std::time::Instant;

use acervo_lakehouse::CatalogError;
use acervo_lakehouse::search::sql as search_sql;
use axum::Json;
use axum::extract::State;
use datafusion::error::DataFusionError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

/// Rows returned at most; `truncated` says when a result had more.
const MAX_ROWS: usize = 10_000;

#[derive(Deserialize, ToSchema)]
pub struct SqlRequest {
    /// One SELECT statement, e.g.
    /// `SELECT s.rank, a.title FROM search('incendio', 20) s JOIN assets a ON a.id = s.asset_id ORDER BY s.rank`.
    #[schema(pattern = r"\S")]
    pub query: String,
}

#[derive(Serialize, ToSchema)]
pub struct SqlColumn {
    pub name: String,
    /// The Arrow data type, e.g. `Utf8`, `Int64`, `Timestamp(Millisecond, Some("UTC"))`.
    #[serde(rename = "type")]
    pub data_type: String,
}

#[derive(Serialize, ToSchema)]
pub struct SqlResponse {
    pub columns: Vec<SqlColumn>,
    /// One JSON object per row, keyed by column name (nulls left out).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Value>,
    /// The result had more than 10 000 rows; add a LIMIT or aggregate.
    pub truncated: bool,
    pub took_ms: f64,
}

/// A failed statement is the caller's mistake (bad SQL, an unknown table or column, a refused
/// statement, wrong `search()` arguments), or else the server's.
fn sql_error(e: CatalogError) -> ApiError {
    let theirs = match &e {
        CatalogError::Sql(e) => matches!(
            e.find_root(),
            DataFusionError::SQL(..)
                | DataFusionError::Plan(_)
                | DataFusionError::SchemaError(..)
                | DataFusionError::NotImplemented(_)
        ),
        _ => false,
    };
    if theirs { ApiError::bad_request(e.to_string()) } else { ApiError::internal(e) }
}

/// Run a read-only SQL query over the catalog (with `search()`).
#[utoipa::path(post, path = "/api/v1/sql", tag = "sql", request_body = SqlRequest,
    responses(
        (status = 200, body = SqlResponse),
        (status = 400, description = "Invalid or refused statement, or malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The principal may not see every project", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or mistyped fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn sql(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(req): ApiJson<SqlRequest>,
) -> Result<Json<SqlResponse>, ApiError> {
    // The tables are not filtered yet (the SQL issue scopes them): reading them needs a scope
    // of every asset.
    let scope = state.scope(&principal);
    if !scope.is_everything() {
        return Err(ApiError::forbidden(
            "SQL reads every asset's rows: it needs read access to every asset",
        ));
    }
    let started = Instant::now();
    let search = state.search.clone();
    let batches = state
        .catalog
        .sql_with(&req.query, |ctx| search_sql::register(ctx, search, (*scope).clone()))
        .await
        .map_err(sql_error)?;
    let schema = batches.first().map(|b| b.schema());
    let columns = schema
        .as_ref()
        .map(|s| {
            s.fields()
                .iter()
                .map(|f| SqlColumn { name: f.name().clone(), data_type: f.data_type().to_string() })
                .collect()
        })
        .unwrap_or_default();
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    let mut left = MAX_ROWS;
    for b in &batches {
        if left == 0 {
            break;
        }
        let b = b.slice(0, b.num_rows().min(left));
        left -= b.num_rows();
        writer.write(&b).map_err(ApiError::internal)?;
    }
    writer.finish().map_err(ApiError::internal)?;
    let bytes = writer.into_inner();
    let rows: Vec<Value> = if bytes.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice(&bytes).map_err(ApiError::internal)?
    };
    Ok(Json(SqlResponse {
        columns,
        rows,
        truncated: total > MAX_ROWS,
        took_ms: started.elapsed().as_secs_f64() * 1e3,
    }))
}
