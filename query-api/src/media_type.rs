//! Deciding what an upload is. The content decides (magic bytes), not the name; a name that
//! promises media over content that is plainly text is refused, since that is a mistake the
//! uploader should hear about at once. Formats the sniffer does not know (MXF, some MPEG-TS)
//! are accepted on their name and left to the probe, which fails them with a reason if needed.

use acervo_catalog::MediaKind;

/// MIME types by extension, for names the sniffer cannot confirm.
fn mime_of_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "mxf" => "application/mxf",
        "mkv" => "video/x-matroska",
        "webm" => "video/webm",
        "avi" => "video/x-msvideo",
        "mpg" | "mpeg" => "video/mpeg",
        "ts" | "mts" | "m2ts" => "video/mp2t",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "aac" => "audio/aac",
        "m4a" => "audio/mp4",
        "flac" => "audio/flac",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "tif" | "tiff" => "image/tiff",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => return None,
    })
}

/// The kind a MIME type denotes, with MXF (a video wrapper with an `application/` type) fixed.
pub fn kind_of(mime: &str) -> MediaKind {
    if mime == "application/mxf" { MediaKind::Video } else { MediaKind::from_mime(mime) }
}

fn looks_like_text(head: &[u8]) -> bool {
    !head.is_empty()
        && !head.contains(&0)
        && match std::str::from_utf8(head) {
            Ok(_) => true,
            // The head may end inside a multi-byte character.
            Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
        }
}

/// The MIME type and kind of an upload from its first bytes and its extension, or why it is
/// refused.
pub fn classify(head: &[u8], ext: &str) -> Result<(String, MediaKind), String> {
    let by_name = mime_of_extension(ext);
    // A script is text to the sniffer unless it starts with an interpreter line.
    if head.starts_with(b"#!") {
        return Ok(("text/x-shellscript".into(), MediaKind::Document));
    }
    if let Some(t) = infer::get(head) {
        let mime = match t.mime_type() {
            "audio/x-wav" => "audio/wav",
            m => m,
        };
        return Ok((mime.to_string(), kind_of(mime)));
    }
    match by_name {
        Some(mime) if kind_of(mime) != MediaKind::Document && looks_like_text(head) => {
            Err(format!("the file is named .{ext} but its content is text, not {}", kind_of(mime)))
        }
        Some(mime) => Ok((mime.to_string(), kind_of(mime))),
        None if looks_like_text(head) => Ok(("text/plain".into(), MediaKind::Document)),
        None => Ok(("application/octet-stream".into(), MediaKind::Document)),
    }
}

/// Whether `mime` is on the allow-list (`type/*` patterns, a trailing `*` after a prefix, or
/// exact types).
pub fn allowed(mime: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => mime.starts_with(prefix),
        None => mime == p,
    })
}

/// A file name as uploaded, checked: a base name only, no path, no control characters.
pub fn check_filename(name: &str) -> Result<&str, String> {
    if name.is_empty() {
        return Err("the file part has an empty file name".into());
    }
    if name.len() > 255 {
        return Err("the file name is longer than 255 bytes".into());
    }
    if name.contains('/') || name.contains('\\') || name == "." || name == ".." {
        return Err(format!("the file name {name:?} must be a base name, without a path"));
    }
    if name.chars().any(char::is_control) {
        return Err("the file name contains control characters".into());
    }
    Ok(name)
}
