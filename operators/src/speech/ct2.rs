//! Reads a CTranslate2 model file (`model.bin`, binary format version 6, as faster-whisper's
//! models ship) into candle tensors: every variable by its CTranslate2 name, half-precision
//! weights widened to f32, small integer variables kept as scalars, aliases resolved.
//!
//! The file is untrusted input: every length is checked against what is left of the file, so a
//! truncated or hostile file is an error, never a panic or a huge allocation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a CTranslate2 model file: {reason} (at byte {offset})")]
    Format {
        path: PathBuf,
        reason: String,
        offset: usize,
    },
    #[error("{path}: variable {name}: {reason}")]
    Variable {
        path: PathBuf,
        name: String,
        reason: String,
    },
}

/// A model's variables: tensors (f32) and integer scalars (`num_heads`, `activation`, …).
pub struct Ct2Model {
    pub spec: String,
    pub tensors: HashMap<String, Tensor>,
    pub scalars: HashMap<String, i64>,
}

impl Ct2Model {
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }
}

/// The format versions this reader understands (dtype bytes appeared in 4, aliases in 3).
const VERSIONS: std::ops::RangeInclusive<u32> = 4..=6;

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn fail(&self, reason: impl Into<String>) -> Ct2Error {
        Ct2Error::Format {
            path: self.path.to_path_buf(),
            reason: reason.into(),
            offset: self.at,
        }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Ct2Error> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| self.fail(format!("{n} bytes expected, the file ends first")))?;
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, Ct2Error> {
        Ok(self.bytes(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Ct2Error> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Ct2Error> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A length-prefixed, NUL-terminated string.
    fn string(&mut self) -> Result<String, Ct2Error> {
        let n = usize::from(self.u16()?);
        let raw = self.bytes(n)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(raw.to_vec()).map_err(|_| self.fail("a name is not UTF-8"))
    }
}

/// CTranslate2's `DataType` numbering.
fn dtype_of(code: u8) -> Option<(DType, usize)> {
    Some(match code {
        0 => (DType::F32, 4),
        1 => (DType::U8, 1), // int8: read as bytes, turned into a signed scalar below
        2 => (DType::I16, 2),
        3 => (DType::I32, 4),
        4 => (DType::F16, 2),
        5 => (DType::BF16, 2),
        _ => return None,
    })
}

fn scalar(code: u8, raw: &[u8]) -> Option<i64> {
    Some(match (code, raw.len()) {
        (1, 1) => i64::from(raw[0] as i8),
        (2, 2) => i64::from(i16::from_le_bytes([raw[0], raw[1]])),
        (3, 4) => i64::from(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])),
        _ => return None,
    })
}

/// Reads `path`. Floating-point variables become f32 tensors on `device`.
pub fn read(path: &Path, device: &Device) -> Result<Ct2Model, Ct2Error> {
    let data = std::fs::read(path).map_err(|source| Ct2Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut c = Cursor {
        data: &data,
        at: 0,
        path,
    };
    let version = c.u32()?;
    if !VERSIONS.contains(&version) {
        return Err(c.fail(format!(
            "format version {version}, this reader knows {}–{}",
            VERSIONS.start(),
            VERSIONS.end()
        )));
    }
    let spec = c.string()?;
    let _revision = c.u32()?;
    let count = c.u32()?;
    let mut tensors = HashMap::new();
    let mut scalars = HashMap::new();
    for _ in 0..count {
        let name = c.string()?;
        let rank = usize::from(c.u8()?);
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push(c.u32()? as usize);
        }
        let code = c.u8()?;
        let (dtype, width) = dtype_of(code)
            .ok_or_else(|| c.fail(format!("variable {name} has unknown data type {code}")))?;
        let bytes = c.u32()? as usize;
        let raw = c.bytes(bytes)?;
        let elements: usize = dims.iter().product();
        let bad = |reason: String| Ct2Error::Variable {
            path: path.to_path_buf(),
            name: name.clone(),
            reason,
        };
        if elements.checked_mul(width) != Some(bytes) {
            return Err(bad(format!(
                "{bytes} bytes for shape {dims:?} of {width}-byte values"
            )));
        }
        if dtype.is_float() {
            let t = Tensor::from_raw_buffer(raw, dtype, &dims, device)
                .and_then(|t| t.to_dtype(DType::F32))
                .map_err(|e| bad(e.to_string()))?;
            tensors.insert(name, t);
        } else if let Some(v) = scalar(code, raw) {
            scalars.insert(name, v);
        }
        // Integer arrays (quantised weights) are not used by the models Acervo runs.
    }
    let aliases = c.u32()?;
    for _ in 0..aliases {
        let alias = c.string()?;
        let target = c.string()?;
        if let Some(t) = tensors.get(&target).cloned() {
            tensors.insert(alias, t);
        }
    }
    Ok(Ct2Model {
        spec,
        tensors,
        scalars,
    })
}
