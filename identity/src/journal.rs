//! The identity store's durable form: one JSON record per line, appended and fsynced before a
//! change is answered, replayed at start. A torn last line (a crash mid-append) is cut off; any
//! other unreadable line stops the start with its line number. `rewrite` replaces the journal
//! with a shorter one that leads to the same state (written beside it, fsynced, renamed).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::IdentityError;

pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    pub(crate) records: usize,
}

/// Records as JSON lines.
fn encode<T: Serialize>(records: &[T]) -> Result<Vec<u8>, IdentityError> {
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, r).map_err(|e| {
            IdentityError::Invalid(format!("cannot encode an identity record: {e}"))
        })?;
        buf.push(b'\n');
    }
    Ok(buf)
}

impl Journal {
    /// Opens (or creates) the journal at `path` and returns it with every record in it.
    pub(crate) fn open<T: DeserializeOwned>(
        path: &Path,
    ) -> Result<(Journal, Vec<T>), IdentityError> {
        let mut records = Vec::new();
        let mut good_len = 0u64;
        if path.exists() {
            let file = File::open(path).map_err(IdentityError::io("open", path))?;
            let mut reader = BufReader::new(file);
            let mut line = String::new();
            let mut number = 0;
            loop {
                line.clear();
                let n = reader.read_line(&mut line).map_err(IdentityError::io("read", path))?;
                if n == 0 {
                    break;
                }
                number += 1;
                if !line.ends_with('\n') {
                    // Torn by a crash before its fsync: never acknowledged, so dropped.
                    tracing::warn!(path = %path.display(), line = number, "dropping a torn last record");
                    break;
                }
                let record =
                    serde_json::from_str(line.trim_end()).map_err(|e| IdentityError::Corrupt {
                        path: path.to_path_buf(),
                        line: number,
                        reason: e.to_string(),
                    })?;
                records.push(record);
                good_len += n as u64;
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(IdentityError::io("open", path))?;
        file.set_len(good_len).map_err(IdentityError::io("truncate", path))?;
        let count = records.len();
        Ok((Journal { path: path.to_path_buf(), file, records: count }, records))
    }

    /// Appends `records` and waits until they are on disk.
    pub(crate) fn append<T: Serialize>(&mut self, records: &[T]) -> Result<(), IdentityError> {
        let buf = encode(records)?;
        self.file.write_all(&buf).map_err(IdentityError::io("append to", &self.path))?;
        self.file.sync_data().map_err(IdentityError::io("fsync", &self.path))?;
        self.records += records.len();
        Ok(())
    }

    /// Replaces the journal with `records`, atomically.
    pub(crate) fn rewrite<T: Serialize>(&mut self, records: &[T]) -> Result<(), IdentityError> {
        let tmp = self.path.with_extension("rewrite");
        {
            let mut f = File::create(&tmp).map_err(IdentityError::io("create", &tmp))?;
            let buf = encode(records)?;
            f.write_all(&buf).map_err(IdentityError::io("write", &tmp))?;
            f.sync_all().map_err(IdentityError::io("fsync", &tmp))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(IdentityError::io("rename", &tmp))?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(IdentityError::io("fsync", dir))?;
        }
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(IdentityError::io("open", &self.path))?;
        self.records = records.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::Journal;

    #[test]
    fn records_survive_a_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (mut j, none) = Journal::open::<u32>(&path).unwrap();
        assert!(none.is_empty());
        j.append(&[1u32, 2]).unwrap();
        j.append(&[3u32]).unwrap();
        drop(j);
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"4").unwrap();
        let (mut j, got) = Journal::open::<u32>(&path).unwrap();
        assert_eq!(got, vec![1, 2, 3]);
        j.append(&[5u32]).unwrap();
        drop(j);
        assert_eq!(Journal::open::<u32>(&path).unwrap().1, vec![1, 2, 3, 5]);
    }

    #[test]
    fn a_rewrite_replaces_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let (mut j, _) = Journal::open::<u32>(&path).unwrap();
        j.append(&[1u32, 2, 3]).unwrap();
        j.rewrite(&[9u32]).unwrap();
        j.append(&[10u32]).unwrap();
        drop(j);
        assert_eq!(Journal::open::<u32>(&path).unwrap().1, vec![9, 10]);
    }

    #[test]
    fn a_corrupt_line_in_the_middle_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        std::fs::write(&path, "1\nnope\n3\n").unwrap();
        let e = Journal::open::<u32>(&path).err().unwrap().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
