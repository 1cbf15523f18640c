//! Downloads of masters and renditions: byte ranges, ETag (the SHA-256) and conditional GETs.

use acervo_catalog::AssetStatus;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::visible_asset;
use crate::auth::Caller;
use crate::extract::parse_id;
use crate::problem::ApiError;
use crate::range::{RangeAnswer, answer};
use crate::state::AppState;

/// What to serve and how to describe it.
struct Object<'a> {
    key: &'a str,
    sha256: &'a str,
    size: u64,
    mime: &'a str,
    filename: &'a str,
    /// Masters can be replaced by a new version under the same URL; renditions and their
    /// files live at content-addressed, fingerprinted keys and never change.
    immutable: bool,
}

/// Keys of renditions never change: clients and caches may keep them for a year.
const IMMUTABLE: &str = "private, max-age=31536000, immutable";

/// The MIME type of a rendition file by its extension.
pub(crate) fn mime_of_file(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("m4s") => "video/iso.segment",
        Some("mp4") => "video/mp4",
        Some("ts") => "video/mp2t",
        Some("vtt") => "text/vtt",
        Some("jpg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("json") => "application/json",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        _ => "application/octet-stream",
    }
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

fn content_disposition(filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = utf8_percent_encode(filename, NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn serve(
    state: &AppState,
    headers: &HeaderMap,
    obj: Object<'_>,
) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", obj.sha256);
    let etag_value = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && etag_matches(inm, &etag)
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    // If-Range: honour the range only if the client's copy is this one.
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = if if_range_ok { answer(range_header, obj.size) } else { RangeAnswer::Full };
    let (status, byte_range) = match range {
        RangeAnswer::Full => (StatusCode::OK, None),
        RangeAnswer::Partial(a, b) => (StatusCode::PARTIAL_CONTENT, Some(a..b)),
        RangeAnswer::Unsatisfiable => {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "Range not satisfiable",
                format!("the object has {} bytes", obj.size),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", obj.size)) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    let length = byte_range.as_ref().map_or(obj.size, |r| r.end - r.start);
    let stream =
        state.masters.read(obj.key, byte_range.clone()).await.map_err(ApiError::internal)?;
    let body = Body::from_stream(stream.map_err(|e| std::io::Error::other(e.to_string())));
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, obj.mime)
        .header(header::CONTENT_LENGTH, length)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, etag_value)
        .header(header::CACHE_CONTROL, if obj.immutable { IMMUTABLE } else { "private, no-cache" });
    // Playlists, segments and pictures are shown in place; files meant to be saved are attachments.
    if !obj.mime.starts_with("application/vnd.apple")
        && !obj.mime.starts_with("video/iso")
        && !obj.mime.starts_with("text/vtt")
    {
        response = response.header(header::CONTENT_DISPOSITION, content_disposition(obj.filename));
    }
    if let Some(r) = &byte_range {
        response = response
            .header(header::CONTENT_RANGE, format!("bytes {}-{}/{}", r.start, r.end - 1, obj.size));
    }
    response.body(body).map_err(ApiError::internal)
}

/// Download the master (Range, If-None-Match and If-Range supported).
#[utoipa::path(get, path = "/api/v1/assets/{id}/download", tag = "assets", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The master"),
        (status = 206, description = "A byte range"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such asset", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The asset is deleted", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 416, description = "Range not satisfiable", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn master(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, &principal, id).await?;
    if asset.status == AssetStatus::Deleted {
        return Err(ApiError::new(StatusCode::GONE, "Gone", format!("asset {id} is deleted")));
    }
    let obj = Object {
        key: &asset.master_key,
        sha256: &asset.sha256,
        size: asset.size,
        mime: &asset.mime,
        filename: &asset.original_filename,
        immutable: false,
    };
    serve(&state, &headers, obj).await
}

/// Download a rendition by profile (`thumbnail`, …).
#[utoipa::path(get, path = "/api/v1/assets/{id}/renditions/{profile}", tag = "assets",
    params(("id" = String, Path), ("profile" = String, Path)),
    responses(
        (status = 200, description = "The rendition"),
        (status = 206, description = "A byte range"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such asset or rendition", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 416, description = "Range not satisfiable", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn rendition(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((id, profile)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let asset = visible_asset(&state, &principal, id).await?;
    let renditions = state.catalog.renditions_of(id).await?;
    let r = renditions
        .iter()
        .find(|r| r.profile == profile)
        .ok_or_else(|| ApiError::not_found(format!("asset {id} has no rendition {profile:?}")))?;
    let stem = asset
        .original_filename
        .rsplit_once('.')
        .map_or(asset.original_filename.as_str(), |(s, _)| s);
    let filename = format!("{stem}-{profile}.{}", acervo_lakehouse::keys::extension_of(&r.key));
    let obj = Object {
        key: &r.key,
        sha256: &r.sha256,
        size: r.size,
        mime: &r.mime,
        filename: &filename,
        immutable: true,
    };
    serve(&state, &headers, obj).await
}

/// A file of a multi-file rendition: an HLS rung playlist or segment (`hls/720p/seg_00001.m4s`),
/// the storyboard's WebVTT track. Served with its MIME type, Range and immutable caching.
#[utoipa::path(get, path = "/api/v1/assets/{id}/renditions/{profile}/{file}", tag = "assets",
    params(("id" = String, Path), ("profile" = String, Path), ("file" = String, Path, description = "Path inside the rendition, e.g. 720p/index.m3u8")),
    responses(
        (status = 200, description = "The file"),
        (status = 206, description = "A byte range"),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A path that leaves the rendition", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset, rendition or file", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 416, description = "Range not satisfiable", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn rendition_file(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((id, profile, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    visible_asset(&state, &principal, id).await?;
    let parts: Vec<&str> = file.split('/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\\'))
        || parts.len() > 4
    {
        return Err(ApiError::bad_request(format!("{file:?} is not a file of a rendition")));
    }
    let renditions = state.catalog.renditions_of(id).await?;
    let r = renditions
        .iter()
        .find(|r| r.profile == profile)
        .ok_or_else(|| ApiError::not_found(format!("asset {id} has no rendition {profile:?}")))?;
    let dir = r.key.rsplit_once('/').map_or("", |(d, _)| d);
    let key = format!("{dir}/{file}");
    if parts.last() == Some(&acervo_lakehouse::keys::RENDITION_MARKER) {
        return Err(ApiError::not_found(format!("rendition {profile} has no file {file:?}")));
    }
    let size =
        state.masters.head(&key).await.map_err(ApiError::internal)?.ok_or_else(|| {
            ApiError::not_found(format!("rendition {profile} has no file {file:?}"))
        })?;
    // The key is content-addressed and never rewritten: key and size make a stable ETag.
    let etag = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(format!("{key}:{size}").as_bytes()))
    };
    let name = parts.last().copied().unwrap_or("file");
    let obj = Object {
        key: &key,
        sha256: &etag,
        size,
        mime: mime_of_file(name),
        filename: name,
        immutable: true,
    };
    serve(&state, &headers, obj).await
}

/// Serves an immutable derived object (an on-demand output) with Range and ETag.
pub(crate) async fn serve_object(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    sha256: &str,
    size: u64,
    mime: &str,
    filename: &str,
) -> Result<Response, ApiError> {
    serve(state, headers, Object { key, sha256, size, mime, filename, immutable: true }).await
}
