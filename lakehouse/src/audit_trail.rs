//! The audit trail. Entries go through a bounded queue to one writer task, which chains them
//! (sequence number, previous hash), appends them to a log of its own (`trail.jsonl`, one fsync
//! per batch), moves the head (the last row's sequence number and hash, in `head`, replaced
//! atomically: kept outside the table, so rows removed from the table's end show), and then
//! materialises the batch into the catalog's `audit` table. A request that records an entry waits
//! for none of this; `flush` waits for all of it (tests, a reader of the table, shutdown). At
//! start, rows the log holds and the table lacks are materialised again.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use acervo_catalog::audit::GENESIS;
use acervo_catalog::{AuditEntry, AuditRow};
use tokio::sync::{mpsc, oneshot};

use crate::tables::{Catalog, CatalogError};

/// Entries waiting for the writer before `record` waits too.
const QUEUE: usize = 10_000;
/// Entries written per fsync at most.
const BATCH: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} line {line} is not an audit row: {reason}")]
    Corrupt { path: PathBuf, line: usize, reason: String },
    #[error("the audit table: {0}")]
    Catalog(#[from] CatalogError),
    #[error("the audit trail has stopped")]
    Stopped,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + use<> {
    let path = path.to_path_buf();
    move |source| AuditError::Io { action, path, source }
}

enum Msg {
    Entry(Box<AuditEntry>),
    Flush(oneshot::Sender<()>),
}

pub struct AuditTrail {
    tx: mpsc::Sender<Msg>,
}

/// The head of the chain as `head` keeps it: the last row's sequence number and hash.
pub fn read_head(dir: &Path) -> Result<Option<(u64, String)>, AuditError> {
    let path = dir.join("head");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", &path)(e)),
    };
    let bad = || AuditError::Corrupt { path: path.clone(), line: 1, reason: format!("{text:?}") };
    let (seq, hash) = text.trim().split_once(' ').ok_or_else(bad)?;
    Ok(Some((seq.parse().map_err(|_| bad())?, hash.to_string())))
}

fn write_head(dir: &Path, row: &AuditRow) -> Result<(), AuditError> {
    let (path, tmp) = (dir.join("head"), dir.join("head.tmp"));
    let mut f = File::create(&tmp).map_err(io("create", &tmp))?;
    f.write_all(format!("{} {}\n", row.seq, row.hash).as_bytes()).map_err(io("write", &tmp))?;
    f.sync_all().map_err(io("fsync", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(io("rename", &tmp))
}

/// Every row of the log; a torn last line (a crash mid-write, never acknowledged) is cut off.
fn read_log(path: &Path) -> Result<(Vec<AuditRow>, u64), AuditError> {
    let mut rows = Vec::new();
    let mut good = 0u64;
    if !path.exists() {
        return Ok((rows, 0));
    }
    let mut reader = BufReader::new(File::open(path).map_err(io("open", path))?);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(io("read", path))?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        number += 1;
        let row = serde_json::from_str(line.trim_end()).map_err(|e| AuditError::Corrupt {
            path: path.to_path_buf(),
            line: number,
            reason: e.to_string(),
        })?;
        rows.push(row);
        good += n as u64;
    }
    Ok((rows, good))
}

impl AuditTrail {
    /// Opens the trail in `dir` (created if missing) and starts its writer on the current
    /// runtime; rows of the log the table lacks are materialised first.
    pub async fn open(dir: &Path, catalog: Arc<Catalog>) -> Result<AuditTrail, AuditError> {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let log_path = dir.join("trail.jsonl");
        let (rows, good_len) = read_log(&log_path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io("open", &log_path))?;
        file.set_len(good_len).map_err(io("truncate", &log_path))?;
        let in_table = catalog.audit_last_seq().await?;
        let missing: Vec<AuditRow> = rows.iter().filter(|r| r.seq > in_table).cloned().collect();
        if !missing.is_empty() {
            tracing::info!(rows = missing.len(), "materialising audit rows the table lacks");
            catalog.append_audit(&missing).await?;
        }
        let (seq, hash) = rows.last().map_or((0, GENESIS.to_string()), |r| (r.seq, r.hash.clone()));
        if let Some((head_seq, _)) = read_head(dir)?
            && head_seq > seq
        {
            tracing::error!(
                head = head_seq,
                log = seq,
                "the audit log ends before its head: rows were removed"
            );
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let writer = Writer {
            dir: dir.to_path_buf(),
            log_path,
            file,
            seq,
            hash,
            catalog,
            unwritten: Vec::new(),
            unmaterialised: Vec::new(),
        };
        tokio::spawn(writer.run(rx));
        Ok(AuditTrail { tx })
    }

    /// Records `entry`; waits only when the queue is full.
    pub async fn record(&self, entry: AuditEntry) {
        if self.tx.send(Msg::Entry(Box::new(entry))).await.is_err() {
            tracing::error!("the audit trail has stopped: an entry is lost");
        }
    }

    /// Waits until everything recorded before is durable in the log and in the table.
    pub async fn flush(&self) -> Result<(), AuditError> {
        let (done, wait) = oneshot::channel();
        self.tx.send(Msg::Flush(done)).await.map_err(|_| AuditError::Stopped)?;
        wait.await.map_err(|_| AuditError::Stopped)
    }
}

struct Writer {
    dir: PathBuf,
    log_path: PathBuf,
    file: File,
    seq: u64,
    hash: String,
    catalog: Arc<Catalog>,
    /// Chained but not yet durable in the log (a failed write is tried again).
    unwritten: Vec<AuditRow>,
    /// Durable in the log, not yet in the table (a failed append is tried again).
    unmaterialised: Vec<AuditRow>,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        while let Some(first) = rx.recv().await {
            let mut msgs = vec![first];
            while msgs.len() < BATCH {
                match rx.try_recv() {
                    Ok(m) => msgs.push(m),
                    Err(_) => break,
                }
            }
            let mut flushes = Vec::new();
            let mut rows = Vec::new();
            for m in msgs {
                match m {
                    Msg::Entry(e) => {
                        let row = AuditRow::chain(self.seq + 1, *e, &self.hash);
                        self.seq = row.seq;
                        self.hash = row.hash.clone();
                        rows.push(row);
                    }
                    Msg::Flush(done) => flushes.push(done),
                }
            }
            self.unwritten.extend(rows);
            let unwritten = std::mem::take(&mut self.unwritten);
            match self.write(&unwritten) {
                Ok(()) => self.unmaterialised.extend(unwritten),
                Err(e) => {
                    // The rows keep their place in the chain; the next batch writes them first.
                    tracing::error!(error = %e, "cannot write the audit log; will retry");
                    self.unwritten = unwritten;
                }
            }
            if self.unmaterialised.is_empty() {
                for done in flushes {
                    let _ = done.send(());
                }
                continue;
            }
            match self.catalog.append_audit(&self.unmaterialised).await {
                Ok(()) => self.unmaterialised.clear(),
                Err(e) => {
                    tracing::error!(error = %e, "cannot append to the audit table; will retry")
                }
            }
            for done in flushes {
                let _ = done.send(());
            }
        }
    }

    fn write(&mut self, rows: &[AuditRow]) -> Result<(), AuditError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for r in rows {
            serde_json::to_writer(&mut buf, r).map_err(|e| AuditError::Corrupt {
                path: self.log_path.clone(),
                line: 0,
                reason: e.to_string(),
            })?;
            buf.push(b'\n');
        }
        self.file.write_all(&buf).map_err(io("append to", &self.log_path))?;
        self.file.sync_data().map_err(io("fsync", &self.log_path))?;
        if let Some(last) = rows.last() {
            write_head(&self.dir, last)?;
        }
        Ok(())
    }
}
