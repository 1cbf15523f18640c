//! The embedded event log: offsets, reads from any offset, reopening, segment rolls, and
//! torn tails left by a crash.

use std::fs::OpenOptions;
use std::io::Write;

use acervo_lakehouse::{EventLog, NewRecord, SegmentLog};

fn payload(i: u64) -> Vec<u8> {
    format!("record number {i} {}", "x".repeat((i % 50) as usize)).into_bytes()
}

fn append_n(log: &SegmentLog, from: u64, n: u64) {
    for i in from..from + n {
        let first = log.append(&[NewRecord::data(&payload(i))]).expect("append");
        assert_eq!(first, i, "offsets are dense and monotonic");
    }
}

fn segment_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    v.sort();
    v
}

#[test]
fn offsets_reads_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let log = SegmentLog::open(dir.path()).unwrap();
    assert_eq!(log.end_offset(), 0);
    assert!(log.read(0, 10).unwrap().is_empty());
    append_n(&log, 0, 100);
    let batch: Vec<Vec<u8>> = (100..110).map(payload).collect();
    let refs: Vec<NewRecord> = batch.iter().map(|b| NewRecord::data(b)).collect();
    assert_eq!(log.append(&refs).unwrap(), 100);
    assert_eq!(log.end_offset(), 110);

    // From the start, in pages, and from arbitrary offsets (out of order, to defeat the cursor).
    let mut next = 0;
    while next < 110 {
        let page = log.read(next, 7).unwrap();
        assert!(!page.is_empty());
        for r in &page {
            assert_eq!(r.offset, next);
            assert_eq!(r.payload, payload(next));
            next += 1;
        }
    }
    for from in [57u64, 3, 109, 0, 80] {
        let r = log.read(from, 1).unwrap();
        assert_eq!(r[0].offset, from);
        assert_eq!(r[0].payload, payload(from));
    }
    assert!(log.read(110, 5).unwrap().is_empty());
    drop(log);

    let log = SegmentLog::open(dir.path()).unwrap();
    assert_eq!(log.end_offset(), 110, "reopening keeps every record");
    append_n(&log, 110, 5);
    assert_eq!(
        log.read(112, 10).unwrap().iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![112, 113, 114]
    );
}

#[test]
fn segments_roll_and_reads_cross_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = SegmentLog::open_with_segment_bytes(dir.path(), 1024).unwrap();
    append_n(&log, 0, 300);
    assert!(segment_files(dir.path()).len() > 5, "small segments must have rolled");
    let all = log.read(0, 1000).unwrap();
    assert_eq!(all.len(), 300);
    assert!(
        all.iter().enumerate().all(|(i, r)| r.offset == i as u64 && r.payload == payload(i as u64))
    );
    drop(log);
    let log = SegmentLog::open_with_segment_bytes(dir.path(), 1024).unwrap();
    assert_eq!(log.end_offset(), 300);
    assert_eq!(log.read(250, 1).unwrap()[0].payload, payload(250));
}

#[test]
fn torn_tail_is_truncated_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = SegmentLog::open(dir.path()).unwrap();
        append_n(&log, 0, 20);
    }
    let seg = segment_files(dir.path()).pop().unwrap();
    let good_len = std::fs::metadata(&seg).unwrap().len();

    // A crash in the middle of an append: half a record at the end.
    {
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        let mut torn = Vec::new();
        torn.extend_from_slice(&20u64.to_le_bytes());
        torn.extend_from_slice(&100u32.to_le_bytes());
        torn.extend_from_slice(&0xdead_beefu32.to_le_bytes());
        torn.extend_from_slice(b"only part of the pay");
        f.write_all(&torn).unwrap();
    }
    let log = SegmentLog::open(dir.path()).unwrap();
    assert_eq!(log.end_offset(), 20, "the torn record is not a record");
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), good_len, "the torn bytes are cut off");
    assert_eq!(log.read(0, 100).unwrap().len(), 20);
    append_n(&log, 20, 3);
    drop(log);

    // A whole record whose bytes were damaged (checksum mismatch) at the tail.
    let len = std::fs::metadata(&seg).unwrap().len();
    {
        let f = OpenOptions::new().write(true).open(&seg).unwrap();
        use std::os::unix::fs::FileExt;
        f.write_all_at(b"Z", len - 3).unwrap();
    }
    let log = SegmentLog::open(dir.path()).unwrap();
    assert_eq!(log.end_offset(), 22, "the damaged last record is dropped");
    assert_eq!(log.read(21, 5).unwrap().len(), 1);
    assert_eq!(log.read(21, 5).unwrap()[0].payload, payload(21));

    // Garbage that is not even a header.
    drop(log);
    {
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[0xff; 7]).unwrap();
    }
    let log = SegmentLog::open(dir.path()).unwrap();
    assert_eq!(log.end_offset(), 22);
    append_n(&log, 22, 1);
    assert_eq!(log.read(0, 100).unwrap().len(), 23);
}

#[test]
fn listeners_hear_appends_and_oversized_records_are_refused() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let log = SegmentLog::open(dir.path()).unwrap();
    let heard = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&heard);
    log.on_append(Arc::new(move || {
        h.fetch_add(1, Ordering::SeqCst);
    }));
    append_n(&log, 0, 3);
    assert_eq!(heard.load(Ordering::SeqCst), 3);
    let huge = vec![0u8; (64 << 20) + 1];
    assert!(log.append(&[NewRecord::data(&huge)]).is_err());
    assert_eq!(log.end_offset(), 3, "a refused append changes nothing");
}
