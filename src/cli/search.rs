//! `acervo search`: asks a running server (`POST /api/v1/search`) and prints the hits as a
//! table, with transcript moments, facet counts and the cursor of the next page.

use clap::Args;
use serde_json::{Value, json};

#[derive(Args)]
pub struct SearchArgs {
    /// Words to find; "quoted phrases", -excluded and prefix* words. Empty lists everything.
    #[arg(default_value = "")]
    query: String,
    /// The server to ask.
    #[arg(long, env = "ACERVO_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// text, vector or hybrid.
    #[arg(long, default_value = "text")]
    mode: String,
    /// Query embedding, comma-separated (vector and hybrid modes).
    #[arg(long)]
    vector: Option<String>,
    /// video, audio, image or document.
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    project: Option<String>,
    /// Comma-separated tags the asset must all have.
    #[arg(long)]
    tags: Option<String>,
    /// Comma-separated AI labels the asset must all have.
    #[arg(long)]
    labels: Option<String>,
    /// RFC 3339 bounds on the creation time.
    #[arg(long)]
    created_from: Option<String>,
    #[arg(long)]
    created_to: Option<String>,
    /// Duration bounds in seconds.
    #[arg(long)]
    duration_min: Option<f64>,
    #[arg(long)]
    duration_max: Option<f64>,
    /// Treat the last word as a prefix.
    #[arg(long)]
    prefix: bool,
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// The cursor printed after the previous page.
    #[arg(long)]
    search_after: Option<String>,
    /// Print the raw JSON response.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: SearchArgs) -> anyhow::Result<()> {
    let vector = match &args.vector {
        Some(v) => Some(
            v.split(',')
                .map(|x| {
                    x.trim()
                        .parse::<f32>()
                        .map_err(|_| anyhow::anyhow!("--vector: {x:?} is not a number"))
                })
                .collect::<anyhow::Result<Vec<f32>>>()?,
        ),
        None => None,
    };
    let body = json!({
        "q": args.query, "mode": args.mode, "vector": vector, "kind": args.kind, "status": args.status,
        "project": args.project, "tags": args.tags, "labels": args.labels, "created_from": args.created_from,
        "created_to": args.created_to, "duration_min": args.duration_min, "duration_max": args.duration_max,
        "prefix": args.prefix, "limit": args.limit, "search_after": args.search_after, "highlight": false,
    });
    let value = super::session::post_json(&args.server, "/api/v1/search", &body, "search").await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    print_results(&value);
    Ok(())
}

fn print_results(v: &Value) {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    println!("{:<36}  {:<8}  {:<10}  {:>8}  TITLE", "ID", "KIND", "STATUS", "SCORE");
    for hit in v.get("hits").and_then(Value::as_array).into_iter().flatten() {
        let a = &hit["asset"];
        let score = hit.get("score").and_then(Value::as_f64).unwrap_or(0.0);
        println!(
            "{:<36}  {:<8}  {:<10}  {:>8.3}  {}",
            s(a, "id"),
            s(a, "kind"),
            s(a, "status"),
            score,
            s(a, "title")
        );
        for m in hit.get("moments").and_then(Value::as_array).into_iter().flatten() {
            let ms = m.get("start_ms").and_then(Value::as_u64).unwrap_or(0);
            let text = s(m, "snippet").replace("<b>", "").replace("</b>", "");
            println!(
                "{:>40} {:02}:{:02}:{:02}  {}",
                "@",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                text
            );
        }
    }
    let total =
        v.get("total").and_then(Value::as_u64).map(|t| t.to_string()).unwrap_or_else(|| "?".into());
    println!("{total} matching");
    if let Some(f) = v.get("facets").and_then(Value::as_object) {
        let interval = f.get("interval").and_then(Value::as_str).unwrap_or("month");
        for (name, counts) in f {
            // Values with counts, or the buckets of a histogram (dates, durations).
            let list: Vec<String> = match counts {
                Value::Object(m) => m.iter().map(|(k, n)| format!("{k}={n}")).collect(),
                Value::Array(buckets) => buckets
                    .iter()
                    .filter(|b| b.get("count").and_then(Value::as_u64).unwrap_or(0) > 0)
                    .map(|b| format!("{}={}", s(b, "key"), b.get("count").unwrap_or(&Value::Null)))
                    .collect(),
                _ => Vec::new(),
            };
            if !list.is_empty() {
                let by = if counts.is_array() && name != "duration" {
                    format!(" (by {interval})")
                } else {
                    String::new()
                };
                println!("{name}{by}: {}", list.join(" "));
            }
        }
    }
    if let Some(next) = v.get("next").and_then(Value::as_str) {
        println!("next page: --search-after {next}");
    }
}
