//! Helpers for Acervo's end-to-end tests: real media made with the ffmpeg CLI and exiftool, a
//! real `acervo serve` process on a loopback port, and a real HTTP client.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `acervo` binary next to this test binary (`target/<profile>/acervo`), or `ACERVO_BIN`.
pub fn acervo_bin() -> PathBuf {
    if let Ok(p) = std::env::var("ACERVO_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/e2e-hash → target/<profile>/acervo
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("acervo"))
        .unwrap_or_else(|| PathBuf::from("acervo"))
}

pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(hex::encode(Sha256::digest(std::fs::read(path)?)))
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Runs a media tool; fails with its stderr when it fails.
pub fn run_tool(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    ensure!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Runs the ffmpeg CLI quietly, overwriting its output; fails with its stderr.
pub fn ffmpeg(args: &[&str]) -> Result<()> {
    let mut full = vec!["-hide_banner", "-loglevel", "error", "-y"];
    full.extend_from_slice(args);
    run_tool("ffmpeg", &full)
}

/// A 1280×720 H.264/AAC MP4 of `seconds` seconds at 25 fps, 48 kHz stereo audio.
pub fn make_mp4(path: &Path, seconds: u32) -> Result<()> {
    make_video(path, seconds, 1280, 720, 440, true)
}

/// An H.264/AAC MP4; `faststart` puts the index (moov) first, otherwise it comes last, as
/// cameras write it.
pub fn make_video(
    path: &Path,
    seconds: u32,
    w: u32,
    h: u32,
    tone: u32,
    faststart: bool,
) -> Result<()> {
    let d = seconds.to_string();
    let video = format!("testsrc2=size={w}x{h}:rate=25:duration={d}");
    let audio = format!("sine=frequency={tone}:sample_rate=48000:duration={d}");
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        &video,
        "-f",
        "lavfi",
        "-i",
        &audio,
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-ac",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-shortest",
    ];
    if faststart {
        args.extend(["-movflags", "+faststart"]);
    }
    args.push(path.to_str().unwrap_or_default());
    ffmpeg(&args)
}

/// A video hard to compress (a moving pattern under grain), so encoders reach their target
/// bitrates: H.264 (near-lossless) with `seconds` of AAC stereo tone.
pub fn make_grainy_video(path: &Path, seconds: u32, w: u32, h: u32) -> Result<()> {
    let d = seconds.to_string();
    let video = format!("testsrc2=size={w}x{h}:rate=25:duration={d},noise=alls=14:allf=t");
    let audio = format!("sine=frequency=440:sample_rate=48000:duration={d}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &video,
        "-f",
        "lavfi",
        "-i",
        &audio,
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-ac",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "14",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-shortest",
        "-movflags",
        "+faststart",
        path.to_str().unwrap_or_default(),
    ])
}

/// A mono 16-bit WAV at `rate` Hz of a sine `tone`.
pub fn make_tone_at(path: &Path, tone: u32, seconds: u32, rate: u32) -> Result<()> {
    let src = format!("sine=frequency={tone}:sample_rate={rate}:duration={seconds}");
    ffmpeg(&["-f", "lavfi", "-i", &src, "-c:a", "pcm_s16le", path.to_str().unwrap_or_default()])
}

/// ffprobe's view of a file: its streams and format as JSON.
pub fn ffprobe(path: &Path) -> Result<Value> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-show_format", "-of", "json"])
        .arg(path)
        .output()
        .context("running ffprobe")?;
    anyhow::ensure!(
        out.status.success(),
        "ffprobe {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// A metric's value from the server's Prometheus text (0 when absent).
pub async fn metric(client: &reqwest::Client, server: &Server, name_and_labels: &str) -> f64 {
    let text = match client.get(server.url("/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => return 0.0,
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// A 5 s mono 16-bit WAV at 44.1 kHz.
pub fn make_wav(path: &Path) -> Result<()> {
    make_tone(path, 660, 5)
}

/// A mono 16-bit WAV at 44.1 kHz of a sine `tone`.
pub fn make_tone(path: &Path, tone: u32, seconds: u32) -> Result<()> {
    let src = format!("sine=frequency={tone}:sample_rate=44100:duration={seconds}");
    ffmpeg(&["-f", "lavfi", "-i", &src, "-c:a", "pcm_s16le", path.to_str().unwrap_or_default()])
}

/// A 4 s stereo MP3 at 44.1 kHz.
pub fn make_mp3(path: &Path) -> Result<()> {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=523:sample_rate=44100:duration=4",
        "-ac",
        "2",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "128k",
        path.to_str().unwrap_or_default(),
    ])
}

/// A still image of `w`×`h` from a test pattern (PNG or JPEG by extension).
pub fn make_image(path: &Path, w: u32, h: u32) -> Result<()> {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={w}x{h}:rate=1"),
        "-frames:v",
        "1",
        path.to_str().unwrap_or_default(),
    ])
}

/// Writes EXIF camera, date, GPS and orientation into a JPEG with exiftool.
pub fn tag_exif(path: &Path, make: &str, model: &str, taken: &str, orientation: u16) -> Result<()> {
    run_tool(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            &format!("-Make={make}"),
            &format!("-Model={model}"),
            &format!("-DateTimeOriginal={taken}"),
            "-GPSLatitude=40.4168",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=3.7038",
            "-GPSLongitudeRef=W",
            &format!("-Orientation#={orientation}"),
            path.to_str().unwrap_or_default(),
        ],
    )
}

/// A PNG whose header claims `w`×`h` pixels (a decompression bomb) with a tiny payload.
pub fn png_with_header(path: &Path, w: u32, h: u32) -> Result<()> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    Ok(std::fs::write(path, png)?)
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A catalog row as ingest leaves a ready text document, numbered `i`, in `project`: for tests
/// that write catalogs directly (override fields with `Asset { .., ..catalog_row(i, p) }`).
pub fn catalog_row(i: u64, project: &str) -> acervo_catalog::Asset {
    let now = chrono::Utc::now();
    acervo_catalog::Asset {
        id: acervo_catalog::AssetId(uuid::Uuid::from_u64_pair(now.timestamp_millis() as u64, i)),
        title: format!("Documento {i}"),
        description: String::new(),
        tags: vec![],
        descriptive: Default::default(),
        kind: acervo_catalog::MediaKind::Document,
        mime: "text/plain".into(),
        size: 1,
        sha256: format!("{i:064x}"),
        master_key: format!("masters/{i}/x/source.txt"),
        original_filename: format!("{i}.txt"),
        project: project.into(),
        owner: "test".into(),
        status: acervo_catalog::AssetStatus::Ready,
        editorial_status: Default::default(),
        collections: vec![],
        status_reason: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        retention_until: None,
        legal_hold: None,
        technical: None,
        stages: acervo_catalog::Stages::new(),
        labels: vec![],
        ocr_text: String::new(),
        transcript_text: String::new(),
        ai: Default::default(),
    }
}

/// Deterministic pseudo-random numbers for generated corpora (SplitMix64).
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn normal(&mut self) -> f32 {
        let u = ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64).max(1e-12);
        let v = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    }
    /// Uniform in [-0.5, 0.5).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
    /// Skewed towards the first entries, like word frequencies.
    pub fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b)
    }
}

/// The first administrator's password on the servers the tests start.
pub const ADMIN_PASSWORD: &str = "test-admin-password-1";

/// A running `acervo serve` on a loopback port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub home: PathBuf,
}

impl Server {
    pub fn start(home: &Path) -> Result<Server> {
        Self::start_with(home, &[])
    }

    pub fn start_with(home: &Path, env: &[(&str, &str)]) -> Result<Server> {
        let mut cmd = Command::new(acervo_bin());
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--home"])
            .arg(home)
            .env("ACERVO_LOG", "warn")
            // Tests check what renditions are, not how well x264 compresses: the fastest preset
            // keeps CI lean. A test may set another.
            .env("ACERVO_RENDITIONS__X264_PRESET", "ultrafast")
            // OCR of video frames is the slowest model step; tests not about it read fewer frames.
            .env("ACERVO_AI__OCR_EVERY_SECONDS", "10")
            // Speech to text costs seconds per 30 s of sound: on for the tests about it only.
            .env("ACERVO_AI__SPEECH_MODEL_PATH", "")
            // The tests of media, search and storage run as the administrator of a loopback
            // server without authentication; the identity tests turn it on
            // (`Server::start_with_auth`). The first password is set, so none is generated.
            .env("ACERVO_AUTH__DISABLED", "true")
            .env("ACERVO_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // A cheap argon2id: the tests log in often; the cost itself is the benchmark's.
            .env("ACERVO_AUTH__ARGON2_MEMORY_KIB", "1024")
            .env("ACERVO_AUTH__ARGON2_ITERATIONS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child =
            cmd.spawn().with_context(|| format!("cannot start {}", acervo_bin().display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().context("the server exited before listening")??;
        let base = first
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .with_context(|| format!("unexpected first line {first:?}"))?
            .to_string();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Server { child, base, home: home.to_path_buf() })
    }

    /// A server with authentication on (the default of a real installation).
    pub fn start_with_auth(home: &Path, env: &[(&str, &str)]) -> Result<Server> {
        let mut all = vec![("ACERVO_AUTH__DISABLED", "false")];
        all.extend_from_slice(env);
        Self::start_with(home, &all)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server as an operator does once it is idle: waits until everything in the log
    /// is durable in the catalog, then SIGTERM (it stores its checkpoint), so a restart replays
    /// nothing; killed if it takes over 30 s.
    pub async fn stop(&mut self) {
        let client = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match get_json(&client, &self.url("/healthz")).await {
                Ok((200, h))
                    if h["durable_offset"].as_u64().is_some()
                        && h["durable_offset"] == h["log_end_offset"] =>
                {
                    break;
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
    }

    /// SIGTERM at once (as Kubernetes stops a pod), and waits until the server has exited.
    pub fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Logs `user` in (`POST /api/v1/auth/login`): the status and the body (a token pair on 200).
pub async fn login(server: &Server, user: &str, password: &str) -> Result<(u16, Value)> {
    let resp = client()
        .post(server.url("/api/v1/auth/login"))
        .header("user-agent", "acervo-tests")
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await?;
    Ok((resp.status().as_u16(), resp.json().await?))
}

/// A client with a new session of `user`.
pub async fn session(server: &Server, user: &str, password: &str) -> Result<reqwest::Client> {
    let (code, body) = login(server, user, password).await?;
    ensure!(code == 200, "login of {user} answered {code}: {body}");
    Ok(bearer_client(body["access_token"].as_str().context("no access token")?))
}

/// The administrator's session, project `news`, and a session per (user, role in news).
pub async fn newsroom(
    server: &Server,
    people: &[(&str, &str)],
) -> Result<(reqwest::Client, Vec<reqwest::Client>)> {
    let (code, body) = login(server, "admin", ADMIN_PASSWORD).await?;
    ensure!(code == 200, "{body}");
    let admin = bearer_client(body["access_token"].as_str().context("token")?);
    let r = admin
        .post(server.url("/api/v1/projects"))
        .json(&serde_json::json!({"slug": "news"}))
        .send()
        .await?;
    ensure!(r.status() == 201);
    let mut sessions = Vec::new();
    for (name, role) in people {
        let password = format!("{name}-password-1");
        let user =
            serde_json::json!({"name": name, "password": password, "must_change_password": false});
        ensure!(admin.post(server.url("/api/v1/users")).json(&user).send().await?.status() == 201);
        let r = admin
            .put(server.url(&format!("/api/v1/projects/news/members/{name}")))
            .json(&serde_json::json!({"role": role}))
            .send()
            .await?;
        ensure!(r.status() == 200);
        let (code, body) = login(server, name, &password).await?;
        ensure!(code == 200, "{body}");
        sessions.push(bearer_client(body["access_token"].as_str().context("token")?));
    }
    Ok((admin, sessions))
}

/// A client that sends `token` as its bearer token with every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(v) = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(reqwest::header::AUTHORIZATION, v);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_default()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap_or_default()
}

/// Uploads a file with a title and comma-separated tags.
pub async fn upload(
    client: &reqwest::Client,
    server: &Server,
    path: &Path,
    title: &str,
    tags: &str,
) -> Result<reqwest::Response> {
    upload_named(
        client,
        server,
        path,
        &path.file_name().unwrap_or_default().to_string_lossy(),
        title,
        tags,
    )
    .await
}

pub async fn upload_named(
    client: &reqwest::Client,
    server: &Server,
    path: &Path,
    filename: &str,
    title: &str,
    tags: &str,
) -> Result<reqwest::Response> {
    let bytes = std::fs::read(path)?;
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .text("description", format!("Test upload of {filename}"))
        .text("tags", tags.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(filename.to_string()));
    Ok(client.post(server.url("/api/v1/assets")).multipart(form).send().await?)
}

/// Uploads and returns the new asset's id, failing unless the answer is 201.
pub async fn upload_ok(
    client: &reqwest::Client,
    server: &Server,
    path: &Path,
    title: &str,
    tags: &str,
) -> Result<String> {
    let resp = upload(client, server, path, title, tags).await?;
    let status = resp.status();
    let body: Value = resp.json().await?;
    ensure!(status == 201, "upload of {} answered {status}: {body}", path.display());
    Ok(body["id"].as_str().context("no id")?.to_string())
}

/// Creates a small text asset with a title, tags and project; returns its id.
pub async fn text_asset(
    client: &reqwest::Client,
    server: &Server,
    title: &str,
    tags: &str,
    project: &str,
) -> Result<String> {
    let body = format!("{title}\n{}", uuid::Uuid::now_v7());
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .text("description", format!("Nota: {title}"))
        .text("tags", tags.to_string())
        .text("project", project.to_string())
        .part("file", reqwest::multipart::Part::bytes(body.into_bytes()).file_name("nota.txt"));
    let resp = client.post(server.url("/api/v1/assets")).multipart(form).send().await?;
    let status = resp.status();
    let body: Value = resp.json().await?;
    ensure!(status == 201, "creating {title:?} answered {status}: {body}");
    Ok(body["id"].as_str().context("no id")?.to_string())
}

/// Moves asset `id` from draft to published (as `client`, who may make those moves).
pub async fn publish(client: &reqwest::Client, server: &Server, id: &str) -> Result<()> {
    for to in ["in_review", "approved", "published"] {
        let r = client
            .post(server.url(&format!("/api/v1/assets/{id}/editorial-status")))
            .json(&serde_json::json!({"status": to}))
            .send()
            .await?;
        ensure!(r.status() == 200, "moving {id} to {to}: {}", r.status());
    }
    Ok(())
}

pub async fn get_json(client: &reqwest::Client, url: &str) -> Result<(u16, Value)> {
    let resp = client.get(url).send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

/// Polls an asset until its status is one of `statuses`.
pub async fn wait_status(
    client: &reqwest::Client,
    server: &Server,
    id: &str,
    statuses: &[&str],
    timeout: Duration,
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let (code, body) = get_json(client, &server.url(&format!("/api/v1/assets/{id}"))).await?;
        if code == 200 && statuses.iter().any(|s| body["status"] == *s) {
            return Ok(body);
        }
        if Instant::now() > deadline {
            bail!(
                "asset {id} did not reach {statuses:?} in {timeout:?}; last answer {code}: {body}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls search until `q` finds `id`, returning the whole answer.
pub async fn wait_searchable(
    client: &reqwest::Client,
    server: &Server,
    q: &str,
    id: &str,
    timeout: Duration,
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let url = reqwest::Url::parse_with_params(&server.url("/api/v1/search"), &[("q", q)])?;
        let (code, body) = get_json(client, url.as_str()).await?;
        let found =
            body["hits"].as_array().is_some_and(|h| h.iter().any(|x| x["asset"]["id"] == id));
        if code == 200 && found {
            return Ok(body);
        }
        if Instant::now() > deadline {
            bail!("search {q:?} did not find {id} in {timeout:?}; last answer {code}: {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the acervo CLI and returns (exit code, stdout, stderr).
pub fn acervo(args: &[&str]) -> Result<(i32, String, String)> {
    let out = Command::new(acervo_bin()).args(args).env("ACERVO_LOG", "error").output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    ))
}

/// Where `scripts/test.sh` installs the test servers and tools.
pub fn tools_dir() -> PathBuf {
    let cache = std::env::var("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache")
    });
    cache.join("acervo/tools")
}

/// The s3s-fs binary (a real S3 server over a directory, with SigV4 checks): `ACERVO_S3S_FS`,
/// else where `scripts/test.sh` installs it, else `PATH`.
pub fn s3s_fs_bin() -> PathBuf {
    if let Ok(p) = std::env::var("ACERVO_S3S_FS") {
        return PathBuf::from(p);
    }
    let installed = tools_dir().join("bin/s3s-fs");
    if installed.exists() { installed } else { PathBuf::from("s3s-fs") }
}

/// A real S3 server (s3s-fs) on a loopback port, storing under `root`; killed when dropped.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    pub root: PathBuf,
}

pub const S3_ACCESS_KEY: &str = "acervo-test";
pub const S3_SECRET_KEY: &str = "acervo-test-secret";

impl S3Server {
    /// Starts the server with one bucket, `bucket`.
    pub fn start(root: &Path, bucket: &str) -> Result<S3Server> {
        std::fs::create_dir_all(root.join(bucket))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(s3s_fs_bin())
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--access-key",
                S3_ACCESS_KEY,
                "--secret-key",
                S3_SECRET_KEY,
            ])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start {} (installed by scripts/install-deps.sh)",
                    s3s_fs_bin().display()
                )
            })?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            ensure!(Instant::now() < deadline, "s3s-fs did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            root: root.to_path_buf(),
        })
    }

    /// `ACERVO_*` variables that put Acervo's objects in `s3://{bucket}/{prefix}` here.
    pub fn acervo_env(&self, bucket: &str, prefix: &str) -> Vec<(String, String)> {
        vec![
            ("ACERVO_STORAGE__URL".into(), format!("s3://{bucket}/{prefix}")),
            ("ACERVO_STORAGE__S3_ENDPOINT".into(), self.endpoint.clone()),
            ("ACERVO_STORAGE__S3_ACCESS_KEY_ID".into(), S3_ACCESS_KEY.into()),
            ("ACERVO_STORAGE__S3_SECRET_ACCESS_KEY".into(), S3_SECRET_KEY.into()),
            ("ACERVO_STORAGE__S3_ALLOW_HTTP".into(), "true".into()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
