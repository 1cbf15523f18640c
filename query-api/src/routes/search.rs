//! `/api/v1/search`: full text (BM25 over title^3, description^2, tags^2, transcript, OCR text
//! and labels; Spanish and English stemming and accent folding; "phrases", -exclusions, prefix*),
//! vector (kNN over asset and frame embeddings) and hybrid (reciprocal rank fusion), with exact
//! filters, facet counts over the whole filtered result, highlights, transcript moments and a
//! `search_after` cursor. GET takes query parameters; POST takes the same as JSON (for vectors).

use acervo_catalog::{AssetStatus, EditorialStatus, MediaKind, Principal};
use acervo_lakehouse::search::{
    Cursor, DateInterval, Mode, SearchFilter, SearchRequest, SearchResponse,
};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct SearchParams {
    /// Words to find; "quoted phrases", -excluded words and prefix* words. Empty lists every
    /// asset the filters let through, newest first.
    pub q: Option<String>,
    /// `text` (default), `vector` or `hybrid`.
    pub mode: Option<String>,
    /// Query embedding: comma-separated numbers in GET, an array in POST.
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<Vec<f32>>)]
    pub vector: Option<VectorParam>,
    /// video, audio, image or document.
    pub kind: Option<String>,
    pub status: Option<String>,
    pub project: Option<String>,
    /// draft, in_review, approved, published or archived.
    pub editorial_status: Option<String>,
    /// A collection id.
    pub collection: Option<String>,
    /// Descriptive keywords, each exact: category, source, licence, language, story, and one
    /// person shown.
    pub category: Option<String>,
    pub source: Option<String>,
    pub licence: Option<String>,
    pub language: Option<String>,
    pub story: Option<String>,
    pub person: Option<String>,
    /// RFC 3339: embargo ending at or after / before.
    pub embargo_from: Option<String>,
    pub embargo_to: Option<String>,
    /// RFC 3339: rights expiring at or after / before.
    pub rights_expire_from: Option<String>,
    pub rights_expire_to: Option<String>,
    /// Comma-separated tags that must all be on the asset (exact).
    pub tags: Option<String>,
    /// Comma-separated AI labels that must all be on the asset (exact).
    pub labels: Option<String>,
    /// RFC 3339; created at or after.
    pub created_from: Option<String>,
    /// RFC 3339; created before.
    pub created_to: Option<String>,
    /// RFC 3339: taken (EXIF, read as UTC) at or after / before.
    pub taken_from: Option<String>,
    pub taken_to: Option<String>,
    /// Seconds.
    pub duration_min: Option<f64>,
    pub duration_max: Option<f64>,
    /// Treat the last word as a prefix (search as you type).
    pub prefix: Option<bool>,
    /// 1..=1000, default 20.
    pub limit: Option<usize>,
    /// The `next` value of the previous page.
    pub search_after: Option<String>,
    /// Count facets over the whole result (default true; costs a full pass over the matches).
    pub facets: Option<bool>,
    /// The date histograms' buckets: `day`, `month` (default) or `year`.
    pub interval: Option<String>,
    /// Mark matches in titles and descriptions (default true).
    pub highlight: Option<bool>,
}

/// A vector as a JSON array or as comma-separated text.
#[derive(Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum VectorParam {
    List(Vec<f32>),
    Text(String),
}

impl VectorParam {
    fn values(self) -> Result<Vec<f32>, ApiError> {
        match self {
            VectorParam::List(v) => Ok(v),
            VectorParam::Text(s) => s
                .split(',')
                .map(|x| {
                    x.trim().parse::<f32>().map_err(|_| {
                        ApiError::bad_request(format!("vector: {x:?} is not a number"))
                    })
                })
                .collect(),
        }
    }
}

fn time(name: &str, v: Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(|e| {
                ApiError::bad_request(format!("{name}: {s:?} is not an RFC 3339 time: {e}"))
            })
        })
        .transpose()
}

fn seconds(name: &str, v: Option<f64>) -> Result<Option<u64>, ApiError> {
    match v {
        Some(s) if !(s.is_finite() && s >= 0.0) => {
            Err(ApiError::bad_request(format!("{name} must be a number of seconds >= 0")))
        }
        Some(s) => Ok(Some((s * 1000.0).round() as u64)),
        None => Ok(None),
    }
}

pub(crate) fn editorial_status(v: Option<&str>) -> Result<Option<EditorialStatus>, ApiError> {
    v.filter(|s| !s.is_empty())
        .map(str::parse::<EditorialStatus>)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

fn list(v: Option<String>) -> Vec<String> {
    v.map(|s| acervo_catalog::Asset::parse_tags(&s)).unwrap_or_default()
}

impl SearchParams {
    pub fn into_request(self, dim: usize) -> Result<SearchRequest, ApiError> {
        let mode: Mode =
            self.mode
                .as_deref()
                .filter(|m| !m.is_empty())
                .unwrap_or("text")
                .parse()
                .map_err(|e: acervo_lakehouse::SearchError| ApiError::bad_request(e.to_string()))?;
        let vector = self.vector.map(VectorParam::values).transpose()?;
        if let Some(v) = &vector {
            acervo_catalog::enrichment::check_vector(v, dim)
                .map_err(|e| ApiError::bad_request(format!("vector: {e}")))?;
        }
        let filter = SearchFilter {
            kind: self
                .kind
                .filter(|k| !k.is_empty())
                .map(|k| k.parse::<MediaKind>())
                .transpose()
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
            status: self
                .status
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<AssetStatus>())
                .transpose()
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
            project: self.project.filter(|p| !p.is_empty()),
            editorial_status: editorial_status(self.editorial_status.as_deref())?,
            collection: self.collection.filter(|c| !c.is_empty()),
            category: self.category.filter(|v| !v.is_empty()),
            source: self.source.filter(|v| !v.is_empty()),
            licence: self.licence.filter(|v| !v.is_empty()),
            language: self.language.filter(|v| !v.is_empty()),
            story: self.story.filter(|v| !v.is_empty()),
            person: self.person.filter(|v| !v.is_empty()),
            embargo_from: time("embargo_from", self.embargo_from)?,
            embargo_to: time("embargo_to", self.embargo_to)?,
            rights_expire_from: time("rights_expire_from", self.rights_expire_from)?,
            rights_expire_to: time("rights_expire_to", self.rights_expire_to)?,
            tags: list(self.tags),
            labels: list(self.labels),
            created_from: time("created_from", self.created_from)?,
            created_to: time("created_to", self.created_to)?,
            taken_from: time("taken_from", self.taken_from)?,
            taken_to: time("taken_to", self.taken_to)?,
            duration_min_ms: seconds("duration_min", self.duration_min)?,
            duration_max_ms: seconds("duration_max", self.duration_max)?,
        };
        let interval = match self.interval.as_deref().filter(|i| !i.is_empty()) {
            Some(i) => {
                i.parse::<DateInterval>().map_err(|e| ApiError::bad_request(e.to_string()))?
            }
            None => DateInterval::default(),
        };
        let limit = self.limit.unwrap_or(20);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::bad_request("limit must be between 1 and 1000"));
        }
        let search_after = self
            .search_after
            .filter(|s| !s.is_empty())
            .map(|s| Cursor::decode(&s))
            .transpose()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(SearchRequest {
            q: self.q.unwrap_or_default(),
            mode,
            vector,
            filter,
            prefix: self.prefix.unwrap_or(false),
            limit,
            search_after,
            facets: self.facets.unwrap_or(true),
            interval,
            highlight: self.highlight.unwrap_or(true),
        })
    }
}

async fn run(
    state: AppState,
    principal: Principal,
    params: SearchParams,
) -> Result<Json<SearchResponse>, ApiError> {
    let mut req = params.into_request(state.config.search.embedding_dim)?;
    // Vector and hybrid search without a vector: the query text, embedded with the model that
    // embedded the assets.
    if req.vector.is_none() && req.mode != Mode::Text && !req.q.trim().is_empty() {
        let model = state.text_model.clone().ok_or_else(|| {
            ApiError::bad_request("vector and hybrid search need a vector: no text embedding model is installed to embed q")
        })?;
        let q = req.q.clone();
        let v = tokio::task::spawn_blocking(move || model.embed(&[q.as_str()]))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        req.vector = v.into_iter().next();
    }
    let search = state.search.clone();
    let started = std::time::Instant::now();
    let scope = state.scope(&principal);
    let res = tokio::task::spawn_blocking(move || search.search(&req, &scope))
        .await
        .map_err(ApiError::internal)??;
    state.metrics.search_seconds.observe(started.elapsed().as_secs_f64());
    Ok(Json(res))
}

/// Search assets (text, vector or hybrid) with filters, facets, highlights and moments.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, description = "Invalid parameter", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchResponse>, ApiError> {
    run(state, principal, p).await
}

/// The same search with a JSON body (query vectors are long for a URL).
#[utoipa::path(post, path = "/api/v1/search", tag = "search", request_body = SearchParams,
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, description = "Invalid parameter or malformed JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or mistyped fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn search_post(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(p): ApiJson<SearchParams>,
) -> Result<Json<SearchResponse>, ApiError> {
    run(state, principal, p).await
}
