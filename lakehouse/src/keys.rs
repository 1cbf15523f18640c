//! The object key layout (seed 001 §4.3.7). Keys are immutable and content-addressed: a new
//! master or a new profile version always lands on a new key, so every object can be served
//! with `Cache-Control: immutable` and every write is idempotent.

use acervo_catalog::AssetId;

/// `masters/{asset_id}/{sha256}/source.{ext}`: the master, source of truth.
pub fn master(asset: AssetId, sha256: &str, ext: &str) -> String {
    if ext.is_empty() {
        format!("masters/{asset}/{sha256}/source")
    } else {
        format!("masters/{asset}/{sha256}/source.{ext}")
    }
}

/// `proxies/{asset_id}/{sha256}/{profile}/output.{ext}`: editorial renditions (expire in 90 days).
pub fn proxy(asset: AssetId, sha256: &str, profile: &str, ext: &str) -> String {
    format!("proxies/{asset}/{sha256}/{profile}/output.{ext}")
}

/// `proxies/{asset_id}/{sha256}/{profile}-{fingerprint}`: the folder of one rendition. The
/// fingerprint of the profile's settings makes a changed profile land on new keys.
pub fn rendition_dir(asset: AssetId, sha256: &str, profile: &str, fingerprint: &str) -> String {
    format!("proxies/{asset}/{sha256}/{profile}-{fingerprint}")
}

/// The commit marker of a rendition folder: written last, so its presence means complete.
pub const RENDITION_MARKER: &str = "rendition.json";

/// `ondemand/{asset_id}/{job_id}`: the output of an on-demand job (expires in 2 days).
pub fn ondemand_dir(asset: AssetId, job: &str) -> String {
    format!("ondemand/{asset}/{job}")
}

/// `ondemand/jobs/{job_id}.json`: the record of a finished on-demand job.
pub fn ondemand_record(job: &str) -> String {
    format!("ondemand/jobs/{job}.json")
}

/// `dead-letters/{asset_id}/{stage}-{unix ms}.json`: a job that failed for good.
pub fn dead_letter(asset: AssetId, stage: &str, at_ms: i64) -> String {
    format!("dead-letters/{asset}/{stage}-{at_ms}.json")
}

/// `thumbs/{asset_id}/{sha256}/{profile}/output.{ext}`: thumbnails (expire in 180 days).
pub fn thumbnail(asset: AssetId, sha256: &str, profile: &str, ext: &str) -> String {
    format!("thumbs/{asset}/{sha256}/{profile}/output.{ext}")
}

/// `delivery/{channel}/{asset_id}/{sha256}/{profile}/manifest.m3u8`: distribution output.
pub fn delivery_manifest(channel: &str, asset: AssetId, sha256: &str, profile: &str) -> String {
    format!("delivery/{channel}/{asset}/{sha256}/{profile}/manifest.m3u8")
}

/// Every folder that holds an asset's objects (master, renditions, thumbnails, on-demand
/// outputs, dead letters): what a purge empties. Distribution copies (`delivery/{channel}/…`)
/// belong to their channels.
pub fn asset_folders(asset: AssetId) -> [String; 5] {
    ["masters", "proxies", "thumbs", "ondemand", "dead-letters"].map(|top| format!("{top}/{asset}"))
}

/// `uploads/{upload_id}`: staging while a master streams in and its hash is not yet known.
pub fn upload_staging(upload_id: &str) -> String {
    format!("uploads/{upload_id}")
}

/// The extension a master keeps: the uploaded name's, lower-cased, if it is a plain short
/// alphanumeric one; otherwise none.
pub fn extension_of(filename: &str) -> String {
    match filename.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.len() <= 8
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            ext.to_ascii_lowercase()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use acervo_catalog::AssetId;

    use super::*;

    #[test]
    fn keys_follow_the_seed_layout() {
        let id: AssetId = "0190a8c2-7e2f-7c3d-9a1b-2c3d4e5f6a7b".parse().unwrap();
        let sha = "ab".repeat(32);
        assert_eq!(master(id, &sha, "mp4"), format!("masters/{id}/{sha}/source.mp4"));
        assert_eq!(master(id, &sha, ""), format!("masters/{id}/{sha}/source"));
        assert_eq!(rendition_dir(id, &sha, "web", "1a2b"), format!("proxies/{id}/{sha}/web-1a2b"));
        assert_eq!(
            thumbnail(id, &sha, "thumbnail", "jpg"),
            format!("thumbs/{id}/{sha}/thumbnail/output.jpg")
        );
        assert_eq!(ondemand_dir(id, "j1"), format!("ondemand/{id}/j1"));
        assert_eq!(ondemand_record("j1"), "ondemand/jobs/j1.json");
        assert_eq!(
            dead_letter(id, "renditions", 42),
            format!("dead-letters/{id}/renditions-42.json")
        );
        assert_eq!(upload_staging("u1"), "uploads/u1");
    }

    #[test]
    fn only_plain_short_extensions_are_kept_lower_cased() {
        assert_eq!(extension_of("Pleno.MP4"), "mp4");
        assert_eq!(extension_of("archive.tar.gz"), "gz");
        for none in ["noext", ".hidden", "trailing.", "bad.ext!", "long.abcdefghi", "x.ñ"] {
            assert_eq!(extension_of(none), "", "{none}");
        }
    }
}
