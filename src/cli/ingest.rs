//! `acervo ingest`: upload files and folders to a running server, several at once, with a
//! progress bar. Each file is hashed locally first: content the project already holds is
//! skipped (and reported) without sending a byte.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

#[derive(Args)]
pub struct IngestArgs {
    /// Files and folders (walked recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The server to upload to.
    #[arg(long, env = "ACERVO_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    #[arg(long, default_value = "default")]
    project: String,
    /// Comma-separated tags for every file.
    #[arg(long, default_value = "")]
    tags: String,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

enum Outcome {
    Ingested(String),
    Duplicate(String),
    Failed(String),
}

fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            for entry in
                std::fs::read_dir(&p).with_context(|| format!("cannot list {}", p.display()))?
            {
                stack.push(entry?.path());
            }
        } else if meta.is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

async fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The `detail` of a problem response, or the raw body.
async fn problem(resp: reqwest::Response) -> String {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_string))
        .unwrap_or(body);
    format!("{status}: {detail}")
}

async fn ingest_one(
    client: &reqwest::Client,
    args: &IngestArgs,
    path: &Path,
    bar: &ProgressBar,
) -> Outcome {
    let name = path.display().to_string();
    let size = match tokio::fs::metadata(path).await {
        Ok(m) => m.len(),
        Err(e) => return Outcome::Failed(format!("{name}: {e}")),
    };
    let sha = match sha256_of(path).await {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(format!("{name}: {e}")),
    };
    let base = args.server.trim_end_matches('/');
    let existing = client
        .get(format!("{base}/api/v1/assets"))
        .query(&[("sha256", sha.as_str()), ("project", args.project.as_str()), ("limit", "1")])
        .send()
        .await;
    match existing {
        Ok(r) if r.status().is_success() => {
            if let Ok(page) = r.json::<serde_json::Value>().await
                && let Some(id) = page["items"].get(0).and_then(|a| a["id"].as_str())
            {
                bar.inc(size);
                return Outcome::Duplicate(format!("{name}: same content as asset {id}"));
            }
        }
        Ok(r) => return Outcome::Failed(format!("{name}: {}", problem(r).await)),
        Err(e) => return Outcome::Failed(format!("{name}: cannot reach {base}: {e}")),
    }
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(format!("{name}: {e}")),
    };
    let progress = bar.clone();
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).map(move |chunk| {
        if let Ok(c) = &chunk {
            progress.inc(c.len() as u64);
        }
        chunk
    });
    let filename = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), size)
            .file_name(filename);
    let form = reqwest::multipart::Form::new()
        .text("project", args.project.clone())
        .text("tags", args.tags.clone())
        .part("file", part);
    match client.post(format!("{base}/api/v1/assets")).multipart(form).send().await {
        Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
            let id = r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_string))
                .unwrap_or_default();
            Outcome::Ingested(format!("{name}: asset {id}"))
        }
        Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => {
            Outcome::Duplicate(format!("{name}: {}", problem(r).await))
        }
        Ok(r) => Outcome::Failed(format!("{name}: {}", problem(r).await)),
        Err(e) => Outcome::Failed(format!("{name}: upload failed: {e}")),
    }
}

pub async fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let files = collect(&args.paths)?;
    anyhow::ensure!(!files.is_empty(), "no files to ingest under the given paths");
    let mut total = 0u64;
    for f in &files {
        total += std::fs::metadata(f)?.len();
    }
    // Each file is read twice: once to hash it, once to send it.
    let bar = ProgressBar::new(total * 2).with_style(
        ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let client = super::session::client_for(&args.server).await?;
    let args = Arc::new(args);
    let outcomes: Vec<Outcome> = futures::stream::iter(files.iter().map(|f| {
        let (client, args, bar) = (client.clone(), Arc::clone(&args), bar.clone());
        async move {
            let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            bar.inc(size); // the hashing pass
            ingest_one(&client, &args, f, &bar).await
        }
    }))
    .buffer_unordered(args.concurrency.max(1))
    .collect()
    .await;
    bar.finish_and_clear();
    let (mut ok, mut dup, mut failed) = (0, 0, 0);
    for o in &outcomes {
        match o {
            Outcome::Ingested(m) => {
                ok += 1;
                println!("ingested   {m}");
            }
            Outcome::Duplicate(m) => {
                dup += 1;
                println!("duplicate  {m}");
            }
            Outcome::Failed(m) => {
                failed += 1;
                eprintln!("failed     {m}");
            }
        }
    }
    println!("{ok} ingested, {dup} duplicates skipped, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
