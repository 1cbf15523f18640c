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
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
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
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a 401 names the scheme it wants.
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"acervo\""),
            );
        }
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

impl From<acervo_identity::AuthFailure> for ApiError {
    fn from(e: acervo_identity::AuthFailure) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        let title = match status {
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::TOO_MANY_REQUESTS => "Too many requests",
            StatusCode::UNPROCESSABLE_ENTITY => "Unprocessable content",
            StatusCode::SERVICE_UNAVAILABLE => "Service unavailable",
            _ => "Internal server error",
        };
        ApiError::new(status, title, e.to_string())
    }
}

impl From<acervo_identity::IdentityError> for ApiError {
    fn from(e: acervo_identity::IdentityError) -> Self {
        use acervo_identity::IdentityError as E;
        match e {
            E::NoSuchUser(_) | E::NoSuchProject(_) | E::NoSuchToken(_) | E::NoSuchCollection(_) => {
                ApiError::not_found(e.to_string())
            }
            E::UserExists(_) | E::ProjectExists(_) | E::Conflict(_) => {
                ApiError::conflict(e.to_string())
            }
            E::Invalid(_) => ApiError::unprocessable(e.to_string()),
            other => ApiError::internal(other),
        }
    }
}
