//! `acervo purge`: asks a running server (`POST /api/v1/purge`) to purge the soft-deleted
//! assets past their retention deadline, or with `--dry-run` to list them; prints one line per
//! asset (held ones with their hold's reason).

use clap::Args;
use serde_json::{Value, json};

#[derive(Args)]
pub struct PurgeArgs {
    /// List what would be purged; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// The server to ask.
    #[arg(long, env = "ACERVO_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
}

pub async fn run(args: PurgeArgs) -> anyhow::Result<()> {
    let body = json!({"dry_run": args.dry_run});
    let report = super::session::post_json(&args.server, "/api/v1/purge", &body, "purge").await?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let verb = if args.dry_run { "would purge" } else { "purged" };
    let list = |k: &str| report.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    for a in list("due") {
        println!(
            "{verb}  {}  {}  deleted {}  {}",
            s(&a, "id"),
            s(&a, "project"),
            s(&a, "deleted_at"),
            s(&a, "title")
        );
    }
    for a in list("held") {
        println!(
            "held    {}  {}  {}  ({})",
            s(&a, "id"),
            s(&a, "project"),
            s(&a, "title"),
            s(&a, "held")
        );
    }
    let n = |k: &str| report.get(k).and_then(Value::as_u64).unwrap_or(0);
    println!(
        "{} {verb}, {} held; {} objects and {} table versions removed",
        list("due").len(),
        list("held").len(),
        n("objects_removed"),
        n("versions_removed")
    );
    Ok(())
}
