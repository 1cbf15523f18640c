//! The embedded event log: a directory of segment files named by the offset of their first
//! record (`00000000000000000000.log`). Appends go to the last segment and are fsynced before
//! they are acknowledged; a full segment is sealed and a new one started.
//!
//! On open, the last segment is scanned and anything after its last valid record (a write torn
//! by a crash, which was never acknowledged) is truncated, so it is never misread.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use super::record::{self, HEADER_LEN, MAX_RECORD};
use super::{AppendListener, EventLog, LogError, LogRecord};

/// Default size at which a segment is sealed.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

pub struct SegmentLog {
    dir: PathBuf,
    segment_bytes: u64,
    writer: Mutex<Writer>,
    /// Offset of the next record to append; every record below it is durable.
    end: AtomicU64,
    /// Base offsets of all segments, ascending.
    segments: RwLock<Vec<u64>>,
    /// Where the last read stopped, so sequential readers do not rescan segments.
    cursor: Mutex<Option<Cursor>>,
    listeners: Mutex<Vec<AppendListener>>,
}

struct Writer {
    file: File,
    path: PathBuf,
    /// Bytes of valid records in the active segment.
    len: u64,
    next: u64,
}

struct Cursor {
    reader: BufReader<File>,
    path: PathBuf,
    position: u64,
    next: u64,
}

fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LogError + '_ {
    move |source| LogError::Io { path: path.to_path_buf(), source }
}

fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

/// Outcome of reading one framed record.
enum Next {
    Record(LogRecord, u64),
    /// End of the valid data: a clean end of file, or a torn / invalid record.
    End(String),
}

fn read_record(reader: &mut impl Read, expected_offset: u64) -> std::io::Result<Next> {
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        let n = reader.read(&mut header[filled..])?;
        if n == 0 {
            return Ok(Next::End(if filled == 0 {
                "end of file".into()
            } else {
                "torn header".into()
            }));
        }
        filled += n;
    }
    let h = record::decode_header(&header);
    if h.offset != expected_offset {
        return Ok(Next::End(format!("offset {} where {expected_offset} was expected", h.offset)));
    }
    if h.len as usize > MAX_RECORD {
        return Ok(Next::End(format!("length {} beyond the record limit", h.len)));
    }
    let mut payload = vec![0u8; h.len as usize];
    if let Err(e) = reader.read_exact(&mut payload) {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            return Ok(Next::End("torn payload".into()));
        }
        return Err(e);
    }
    if record::checksum(h.offset, h.len, &payload) != h.crc {
        return Ok(Next::End("checksum mismatch".into()));
    }
    Ok(Next::Record(LogRecord { offset: h.offset, payload }, (HEADER_LEN + h.len as usize) as u64))
}

impl SegmentLog {
    pub fn open(dir: impl Into<PathBuf>) -> Result<SegmentLog, LogError> {
        Self::open_with_segment_bytes(dir, DEFAULT_SEGMENT_BYTES)
    }

    pub fn open_with_segment_bytes(
        dir: impl Into<PathBuf>,
        segment_bytes: u64,
    ) -> Result<SegmentLog, LogError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let mut bases: Vec<u64> = fs::read_dir(&dir)
            .map_err(io_err(&dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".log")?.parse::<u64>().ok()
            })
            .collect();
        bases.sort_unstable();
        if bases.is_empty() {
            File::create_new(segment_path(&dir, 0)).map_err(io_err(&dir))?;
            sync_dir(&dir)?;
            bases.push(0);
        }
        let base = *bases.last().unwrap_or(&0);
        let path = segment_path(&dir, base);
        let (len, next) = Self::recover_tail(&path, base)?;
        let file = OpenOptions::new().read(true).write(true).open(&path).map_err(io_err(&path))?;
        Ok(SegmentLog {
            dir,
            segment_bytes,
            writer: Mutex::new(Writer { file, path, len, next }),
            end: AtomicU64::new(next),
            segments: RwLock::new(bases),
            cursor: Mutex::new(None),
            listeners: Mutex::new(Vec::new()),
        })
    }

    /// Scans the active segment, truncates whatever follows its last valid record, and returns
    /// (valid bytes, next offset).
    fn recover_tail(path: &Path, base: u64) -> Result<(u64, u64), LogError> {
        let file = File::open(path).map_err(io_err(path))?;
        let file_len = file.metadata().map_err(io_err(path))?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let (mut valid, mut next) = (0u64, base);
        let reason = loop {
            match read_record(&mut reader, next).map_err(io_err(path))? {
                Next::Record(_, n) => {
                    valid += n;
                    next += 1;
                }
                Next::End(reason) => break reason,
            }
        };
        if valid < file_len {
            tracing::warn!(segment = %path.display(), valid, file_len, %reason, "truncating torn tail of the event log");
            let f = OpenOptions::new().write(true).open(path).map_err(io_err(path))?;
            f.set_len(valid).map_err(io_err(path))?;
            f.sync_all().map_err(io_err(path))?;
        }
        Ok((valid, next))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn roll(&self, w: &mut Writer) -> Result<(), LogError> {
        let path = segment_path(&self.dir, w.next);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_err(&path))?;
        sync_dir(&self.dir)?;
        self.segments.write().unwrap_or_else(|p| p.into_inner()).push(w.next);
        *w = Writer { file, path, len: 0, next: w.next };
        Ok(())
    }

    /// Positions a cursor at `from` by scanning its segment from the start.
    fn seek(&self, from: u64) -> Result<Cursor, LogError> {
        let base = {
            let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
            let first = segments.first().copied().unwrap_or(0);
            match segments.iter().rev().find(|b| **b <= from) {
                Some(b) => *b,
                None => return Err(LogError::OffsetGone { offset: from, first }),
            }
        };
        let path = segment_path(&self.dir, base);
        let file = File::open(&path).map_err(io_err(&path))?;
        let mut cursor = Cursor {
            reader: BufReader::with_capacity(1 << 20, file),
            path,
            position: 0,
            next: base,
        };
        while cursor.next < from {
            match read_record(&mut cursor.reader, cursor.next).map_err(io_err(&cursor.path))? {
                Next::Record(_, n) => {
                    cursor.position += n;
                    cursor.next += 1;
                }
                Next::End(reason) => {
                    return Err(LogError::Corrupt {
                        path: cursor.path,
                        position: cursor.position,
                        reason,
                    });
                }
            }
        }
        Ok(cursor)
    }
}

impl EventLog for SegmentLog {
    fn append(&self, records: &[&[u8]]) -> Result<u64, LogError> {
        if let Some(r) = records.iter().find(|r| r.len() > MAX_RECORD) {
            return Err(LogError::RecordTooLarge { len: r.len(), max: MAX_RECORD });
        }
        let first = {
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let total: usize = records.iter().map(|r| HEADER_LEN + r.len()).sum();
            if w.len > 0 && w.len + total as u64 > self.segment_bytes {
                self.roll(&mut w)?;
            }
            let first = w.next;
            let mut buf = Vec::with_capacity(total);
            for (i, r) in records.iter().enumerate() {
                record::encode(first + i as u64, r, &mut buf);
            }
            let written = w.file.write_all_at(&buf, w.len).and_then(|_| w.file.sync_data());
            if let Err(e) = written {
                // Cut off whatever part of the batch reached the file, so the next append
                // continues right after the last acknowledged record.
                let _ = w.file.set_len(w.len);
                return Err(LogError::Io { path: w.path.clone(), source: e });
            }
            w.len += buf.len() as u64;
            w.next += records.len() as u64;
            self.end.store(w.next, Ordering::Release);
            first
        };
        let listeners: Vec<AppendListener> =
            self.listeners.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for l in listeners {
            l();
        }
        Ok(first)
    }

    fn end_offset(&self) -> u64 {
        self.end.load(Ordering::Acquire)
    }

    fn read(&self, from: u64, max: usize) -> Result<Vec<LogRecord>, LogError> {
        let end = self.end_offset();
        if from >= end || max == 0 {
            return Ok(Vec::new());
        }
        let mut guard = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        let mut cursor = match guard.take() {
            Some(c) if c.next == from => c,
            _ => self.seek(from)?,
        };
        let mut out = Vec::with_capacity(max.min((end - from) as usize));
        while out.len() < max && cursor.next < end {
            match read_record(&mut cursor.reader, cursor.next).map_err(io_err(&cursor.path))? {
                Next::Record(r, n) => {
                    cursor.position += n;
                    cursor.next += 1;
                    out.push(r);
                }
                Next::End(reason) => {
                    // A sealed segment ends exactly where the next one begins.
                    let has_next = self
                        .segments
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .contains(&cursor.next);
                    if reason == "end of file" && has_next {
                        let path = segment_path(&self.dir, cursor.next);
                        let file = File::open(&path).map_err(io_err(&path))?;
                        cursor = Cursor {
                            reader: BufReader::with_capacity(1 << 20, file),
                            path,
                            position: 0,
                            next: cursor.next,
                        };
                    } else {
                        return Err(LogError::Corrupt {
                            path: cursor.path,
                            position: cursor.position,
                            reason,
                        });
                    }
                }
            }
        }
        *guard = Some(cursor);
        Ok(out)
    }

    fn on_append(&self, listener: AppendListener) {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner()).push(listener);
    }
}
