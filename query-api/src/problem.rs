//! RFC 9457 problem details: every error the API returns, as `application/problem+json`. The
//! body is `Problem`, the same type the OpenAPI document describes for every error status.

use acervo_catalog::AssetId;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// What went wrong: the status, a short title, and a detail saying what failed and with which
/// input.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says which kind of problem it is.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// The asset that already holds this content (a 409 of an upload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<AssetId>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    pub existing_id: Option<AssetId>,
}

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, title, detail: detail.into(), existing_id: None }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", detail)
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable content", detail)
    }
    pub fn unsupported_media(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type", detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", detail)
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", detail.to_string())
    }
    /// A conflict with an asset that already exists.
    pub fn with_existing(mut self, id: AssetId) -> Self {
        self.existing_id = Some(id);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            existing_id: self.existing_id,
        };
        let body = serde_json::to_string(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

impl From<acervo_lakehouse::SearchError> for ApiError {
    fn from(e: acervo_lakehouse::SearchError) -> Self {
        match e {
            acervo_lakehouse::SearchError::BadRequest(detail) => ApiError::bad_request(detail),
            other => ApiError::internal(other),
        }
    }
}

impl From<acervo_lakehouse::CatalogError> for ApiError {
    fn from(e: acervo_lakehouse::CatalogError) -> Self {
        ApiError::internal(e)
    }
}
