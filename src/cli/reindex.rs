//! `acervo reindex --stage enrich [--model NAME]`: asks a running server to run the enrichment
//! again for the assets a model's current version has not enriched, then follows them to the
//! end with a progress bar. Exits non-zero if any of them fails.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

#[derive(Args)]
pub struct ReindexArgs {
    /// The stage to run again (enrich: the one whose results depend on model versions).
    #[arg(long)]
    stage: String,
    /// Only assets this model (its configured name, e.g. whisper-base) has not enriched in its
    /// current version; every model otherwise.
    #[arg(long)]
    model: Option<String>,
    /// The server to ask.
    #[arg(long, env = "ACERVO_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Queue the work and return, without following it.
    #[arg(long)]
    no_wait: bool,
}

/// A problem-details body's explanation, or the raw body.
fn problem(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

pub async fn run(args: ReindexArgs) -> anyhow::Result<ExitCode> {
    let client = super::session::client_for(&args.server).await?;
    let base = args.server.trim_end_matches('/');
    let resp = client
        .post(format!("{base}/api/v1/reindex"))
        .json(&json!({"stage": args.stage, "model": args.model}))
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {base}"))?;
    let status = resp.status();
    let body = resp.text().await?;
    anyhow::ensure!(status.is_success(), "{}", problem(&body));
    let answer: Value = serde_json::from_str(&body).context("the server's answer is not JSON")?;
    let queued: Vec<String> = answer["queued"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let models: Vec<String> = answer["models"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
        .collect();
    println!("models: {}", models.join(", "));
    println!(
        "{} assets queued, {} up to date",
        queued.len(),
        answer["up_to_date"].as_u64().unwrap_or(0)
    );
    if args.no_wait || queued.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let bar = ProgressBar::new(queued.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} assets {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut waiting = queued;
    let mut failed = 0;
    while !waiting.is_empty() {
        let mut still = Vec::new();
        for id in waiting {
            let asset: Value = client
                .get(format!("{base}/api/v1/assets/{id}"))
                .send()
                .await?
                .json()
                .await
                .context("reading an asset")?;
            match asset["stages"]["enrich"]["state"].as_str() {
                Some("done" | "skipped") => bar.inc(1),
                Some("failed" | "cancelled") => {
                    failed += 1;
                    bar.inc(1);
                    bar.suspend(|| {
                        println!(
                            "FAILED {id}: {}",
                            asset["stages"]["enrich"]["reason"]
                                .as_str()
                                .unwrap_or("no reason given")
                        )
                    });
                }
                _ => still.push(id),
            }
        }
        waiting = still;
        if !waiting.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    bar.finish_and_clear();
    if failed > 0 {
        eprintln!("acervo: the enrichment of {failed} assets failed");
        return Ok(ExitCode::FAILURE);
    }
    println!("reindexed");
    Ok(ExitCode::SUCCESS)
}
