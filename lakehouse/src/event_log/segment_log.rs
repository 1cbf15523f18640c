//! The embedded event log: a directory of segment files named by the offset of their first
//! record (`00000000000000000000.log`). Appends go to the last segment and are fsynced before
//! they are acknowledged; a full segment is sealed and a new one started.
//!
//! On open, the last segment is scanned and anything after its last valid record (a write torn
//! by a crash, which was never acknowledged) is truncated, so it is never misread.
//!
//! Readers keep a few cursors (the dataflow reads the data at its pace and scans ahead for
//! control records), each positioned where its last read stopped, so sequential reads never
//! rescan a segment.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use super::record::{self, HEADER_LEN, MAX_RECORD};
use super::{AppendListener, EventLog, LogError, LogRecord, NewRecord};

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
    /// Where recent reads stopped (most recent last), so sequential readers do not rescan
    /// segments.
    cursors: Mutex<Vec<Cursor>>,
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

/// Cursors kept for sequential readers.
const CURSORS: usize = 4;

/// Outcome of reading one framed record.
enum Next {
    Record(LogRecord, u64),
    /// A record whose payload was skipped unread (`read_framed` with `only_control`).
    Skipped(u64),
    /// End of the valid data: a clean end of file, or a torn / invalid record.
    End(String),
}

fn read_record(reader: &mut BufReader<File>, expected_offset: u64) -> std::io::Result<Next> {
    read_framed(reader, expected_offset, false)
}

/// Reads one record; with `only_control`, a data record's payload is skipped unread (and
/// unchecked: the reader that processes it checks it).
fn read_framed(
    reader: &mut BufReader<File>,
    expected_offset: u64,
    only_control: bool,
) -> std::io::Result<Next> {
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
    if h.len() > MAX_RECORD {
        return Ok(Next::End(format!("length {} beyond the record limit", h.len())));
    }
    let framed = (HEADER_LEN + h.len()) as u64;
    if only_control && !h.is_control() {
        reader.seek_relative(h.len() as i64)?;
        return Ok(Next::Skipped(framed));
    }
    let mut payload = vec![0u8; h.len()];
    if let Err(e) = reader.read_exact(&mut payload) {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            return Ok(Next::End("torn payload".into()));
        }
        return Err(e);
    }
    if record::checksum(h.offset, h.raw_len, &payload) != h.crc {
        return Ok(Next::End("checksum mismatch".into()));
    }
    Ok(Next::Record(LogRecord { offset: h.offset, payload, control: h.is_control() }, framed))
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
            cursors: Mutex::new(Vec::new()),
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
                Next::Record(_, n) | Next::Skipped(n) => {
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
            match read_framed(&mut cursor.reader, cursor.next, true)
                .map_err(io_err(&cursor.path))?
            {
                Next::Record(_, n) | Next::Skipped(n) => {
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

    /// A cursor at `from`: a kept one that stopped there, or a new one.
    fn cursor_at(&self, from: u64) -> Result<Cursor, LogError> {
        let kept = {
            let mut cursors = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
            cursors.iter().position(|c| c.next == from).map(|i| cursors.remove(i))
        };
        match kept {
            Some(c) => Ok(c),
            None => self.seek(from),
        }
    }

    fn keep_cursor(&self, cursor: Cursor) {
        let mut cursors = self.cursors.lock().unwrap_or_else(|p| p.into_inner());
        if cursors.len() >= CURSORS {
            cursors.remove(0);
        }
        cursors.push(cursor);
    }

    /// Reads at most `max` records from `from` towards the end of the log, keeping all of them,
    /// or only the control ones, in `out`. Returns the offset after the last record read.
    fn scan(
        &self,
        from: u64,
        max: usize,
        only_control: bool,
        out: &mut Vec<LogRecord>,
    ) -> Result<u64, LogError> {
        let end = self.end_offset();
        if from >= end || max == 0 {
            return Ok(from);
        }
        let mut cursor = self.cursor_at(from)?;
        let stop = end.min(from.saturating_add(max as u64));
        while cursor.next < stop {
            let next = read_framed(&mut cursor.reader, cursor.next, only_control)
                .map_err(io_err(&cursor.path))?;
            match next {
                Next::Record(r, n) => {
                    cursor.position += n;
                    cursor.next += 1;
                    out.push(r);
                }
                Next::Skipped(n) => {
                    cursor.position += n;
                    cursor.next += 1;
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
                        let reader = BufReader::with_capacity(1 << 20, file);
                        cursor = Cursor { reader, path, position: 0, next: cursor.next };
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
        let next = cursor.next;
        self.keep_cursor(cursor);
        Ok(next)
    }
}

impl EventLog for SegmentLog {
    fn append(&self, records: &[NewRecord<'_>]) -> Result<u64, LogError> {
        if let Some(r) = records.iter().find(|r| r.payload.len() > MAX_RECORD) {
            return Err(LogError::RecordTooLarge { len: r.payload.len(), max: MAX_RECORD });
        }
        let first = {
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let total: usize = records.iter().map(|r| HEADER_LEN + r.payload.len()).sum();
            if w.len > 0 && w.len + total as u64 > self.segment_bytes {
                self.roll(&mut w)?;
            }
            let first = w.next;
            let mut buf = Vec::with_capacity(total);
            for (i, r) in records.iter().enumerate() {
                record::encode(first + i as u64, r.payload, r.control, &mut buf);
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
        let mut out = Vec::with_capacity(max.min(self.end_offset().saturating_sub(from) as usize));
        self.scan(from, max, false, &mut out)?;
        Ok(out)
    }

    fn read_control(&self, from: u64, max: usize) -> Result<(Vec<LogRecord>, u64), LogError> {
        let mut out = Vec::new();
        let next = self.scan(from, max, true, &mut out)?;
        Ok((out, next))
    }

    fn on_append(&self, listener: AppendListener) {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner()).push(listener);
    }
}

#[cfg(test)]
mod tests {
    use super::{EventLog, NewRecord, SegmentLog};

    fn payloads(records: &[super::LogRecord]) -> Vec<&[u8]> {
        records.iter().map(|r| r.payload.as_slice()).collect()
    }

    #[test]
    fn appends_are_read_back_in_order_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        // Tiny segments: every few records start a new file.
        let log = SegmentLog::open_with_segment_bytes(dir.path(), 64).unwrap();
        for i in 0..10u8 {
            let body = vec![b'a' + i; 20];
            assert_eq!(log.append(&[NewRecord::data(&body)]).unwrap(), u64::from(i));
        }
        assert_eq!(log.end_offset(), 10);
        let all = log.read(0, 100).unwrap();
        assert_eq!(all.len(), 10);
        assert!(
            all.iter()
                .enumerate()
                .all(|(i, r)| r.offset == i as u64 && r.payload[0] == b'a' + i as u8)
        );
        assert_eq!(
            log.read(7, 2).unwrap().iter().map(|r| r.offset).collect::<Vec<_>>(),
            vec![7, 8]
        );
        assert!(log.read(10, 5).unwrap().is_empty());
        // Reopened: the same records.
        drop(log);
        let log = SegmentLog::open_with_segment_bytes(dir.path(), 64).unwrap();
        assert_eq!(log.read(0, 100).unwrap(), all);
    }

    #[test]
    fn a_control_scan_returns_only_control_records_and_skips_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let log = SegmentLog::open(dir.path()).unwrap();
        let data: Vec<Vec<u8>> = (0..1000).map(|i| format!("ingest {i}").into_bytes()).collect();
        let refs: Vec<NewRecord> = data.iter().map(|d| NewRecord::data(d)).collect();
        log.append(&refs).unwrap();
        log.append(&[NewRecord::control(b"cancel A")]).unwrap();
        log.append(&[NewRecord::data(b"after")]).unwrap();
        let (found, next) = log.read_control(0, 10_000).unwrap();
        assert_eq!(payloads(&found), vec![b"cancel A".as_slice()]);
        assert_eq!((found[0].offset, found[0].control, next), (1000, true, 1002));
        // Bounded scans resume where they stopped.
        let (none, next) = log.read_control(0, 600).unwrap();
        assert!(none.is_empty());
        assert_eq!(next, 600);
        let (found, _) = log.read_control(next, 600).unwrap();
        assert_eq!(found.len(), 1);
        // The data reader sees every record, the control one flagged.
        let all = log.read(999, 3).unwrap();
        assert_eq!(all.iter().map(|r| r.control).collect::<Vec<_>>(), vec![false, true, false]);
    }

    #[test]
    fn two_sequential_readers_keep_their_own_positions() {
        let dir = tempfile::tempdir().unwrap();
        let log = SegmentLog::open(dir.path()).unwrap();
        for i in 0..100u32 {
            log.append(&[NewRecord::data(&i.to_le_bytes())]).unwrap();
        }
        let (mut a, mut b) = (0u64, 50u64);
        for _ in 0..10 {
            let ra = log.read(a, 5).unwrap();
            let rb = log.read(b, 5).unwrap();
            assert_eq!(ra[0].offset, a);
            assert_eq!(rb[0].offset, b);
            a += 5;
            b += 5;
        }
    }

    #[test]
    fn a_torn_tail_is_cut_off_at_the_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = SegmentLog::open(dir.path()).unwrap();
            log.append(&[NewRecord::data(b"one"), NewRecord::data(b"two")]).unwrap();
        }
        let segment = dir.path().join(format!("{:020}.log", 0));
        let mut bytes = std::fs::read(&segment).unwrap();
        let whole = bytes.len();
        // Half of a third record: a write cut off by a crash.
        bytes.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0, 9, 0]);
        std::fs::write(&segment, &bytes).unwrap();
        let log = SegmentLog::open(dir.path()).unwrap();
        assert_eq!(log.end_offset(), 2);
        assert_eq!(std::fs::metadata(&segment).unwrap().len(), whole as u64);
        assert_eq!(log.append(&[NewRecord::data(b"three")]).unwrap(), 2);
        assert_eq!(payloads(&log.read(0, 10).unwrap()), vec![b"one".as_slice(), b"two", b"three"]);
    }
}
