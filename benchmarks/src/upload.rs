//! Upload of a large file (default 1 GiB) through the API, against `cp` of the same file on the
//! same disk. Starts a real `acervo serve` (the binary next to this one), streams the file as
//! multipart, and reads the server's peak RSS (VmHWM) from /proc.
//!
//! Prints: cp MB/s, cp + fsync MB/s, upload MB/s (to a durable, hashed, content-addressed
//! master), the ratios, and the server's peak RSS.
//!
//! Usage: bench-upload [SIZE_MIB] [--dir DIR]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, ensure};

fn rss_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line =
        status.lines().find(|l| l.starts_with(field)).with_context(|| format!("no {field}"))?;
    Ok(line.split_whitespace().nth(1).context("value")?.parse()?)
}

/// Writes `mib` MiB of incompressible bytes (xorshift) to `path`.
fn make_file(path: &Path, mib: usize) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&block)?;
    }
    f.flush()?;
    Ok(())
}

fn timed(cmd: &mut Command) -> anyhow::Result<f64> {
    let t = Instant::now();
    let status = cmd.status()?;
    ensure!(status.success(), "{cmd:?} failed");
    Ok(t.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mib: usize = args
        .get(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1024);
    let tmp = tempfile::tempdir_in(".")?;
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let src = dir.join("master.bin");
    make_file(&src, mib)?;
    let bytes = (mib as f64) * 1024.0 * 1024.0;
    let mb = bytes / 1e6;
    // Warm the page cache for every contender alike.
    timed(Command::new("cat").arg(&src).stdout(Stdio::null()))?;

    let cp_time = timed(Command::new("cp").arg(&src).arg(dir.join("copy1.bin")))?;
    let cp_sync_time = timed(Command::new("sh").arg("-c").arg(format!(
        "cp '{}' '{}' && sync -d '{}'",
        src.display(),
        dir.join("copy2.bin").display(),
        dir.join("copy2.bin").display()
    )))?;
    std::fs::remove_file(dir.join("copy1.bin"))?;
    std::fs::remove_file(dir.join("copy2.bin"))?;

    let exe = std::env::current_exe()?;
    let acervo = exe.parent().context("bin dir")?.join("acervo");
    let home = dir.join("home");
    let mut server = Command::new(&acervo)
        .args(["serve", "--addr", "127.0.0.1:0", "--home"])
        .arg(&home)
        .env("ACERVO_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", acervo.display()))?;
    let pid = server.id();
    let mut lines = BufReader::new(server.stdout.take().context("stdout")?).lines();
    let first = lines.next().context("server exited")??;
    let base =
        first.split_whitespace().find(|w| w.starts_with("http://")).context("address")?.to_string();
    std::thread::spawn(move || for _ in lines {});
    let idle_rss = rss_kib(pid, "VmRSS:")?;

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let (upload_time, status) = runtime.block_on(async {
        let file = tokio::fs::File::open(&src).await?;
        let len = file.metadata().await?.len();
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20);
        let part =
            reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
                .file_name("master.bin");
        let form =
            reqwest::multipart::Form::new().text("title", "Benchmark master").part("file", part);
        let t = Instant::now();
        let resp = reqwest::Client::new()
            .post(format!("{base}/api/v1/assets"))
            .multipart(form)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.text().await?;
        let elapsed = t.elapsed().as_secs_f64();
        ensure!(status == 201, "upload answered {status}: {body}");
        anyhow::Ok((elapsed, status))
    })?;
    let peak_rss = rss_kib(pid, "VmHWM:")?;
    let _ = server.kill();
    let _ = server.wait();

    println!("bench-upload: {mib} MiB file, same disk ({}), server status {status}", dir.display());
    println!("cp:                    {:>8.0} MB/s ({cp_time:.2} s)", mb / cp_time);
    println!("cp + fsync:            {:>8.0} MB/s ({cp_sync_time:.2} s)", mb / cp_sync_time);
    println!("upload (hash + fsync): {:>8.0} MB/s ({upload_time:.2} s)", mb / upload_time);
    println!("ratio upload / cp:         {:.2}", cp_time / upload_time);
    println!("ratio upload / cp+fsync:   {:.2}", cp_sync_time / upload_time);
    println!(
        "server RSS: idle {:.0} MiB, peak {:.0} MiB",
        idle_rss as f64 / 1024.0,
        peak_rss as f64 / 1024.0
    );
    Ok(())
}
