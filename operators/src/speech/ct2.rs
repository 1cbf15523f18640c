//! Reads a CTranslate2 model file (`model.bin`, binary format version 6, as faster-whisper's
//! models ship) into candle tensors: every variable by its CTranslate2 name, half-precision
//! weights widened to f32, small integer variables kept as scalars, aliases resolved.
//!
//! The file is untrusted input: every length is checked against what is left of the file, so a
//! truncated or hostile file is an error, never a panic or a huge allocation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use crate::bytes::ByteReader;

#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a CTranslate2 model file: {reason} (at byte {offset})")]
    Format { path: PathBuf, reason: String, offset: usize },
    #[error("{path}: variable {name}: {reason}")]
    Variable { path: PathBuf, name: String, reason: String },
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

type Cursor<'a> = ByteReader<'a, Ct2Error>;

/// A length-prefixed, NUL-terminated string.
fn string(c: &mut Cursor<'_>) -> Result<String, Ct2Error> {
    let n = usize::from(c.u16()?);
    let raw = c.take(n)?;
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    String::from_utf8(raw.to_vec()).map_err(|_| c.fail("a name is not UTF-8"))
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
    let data =
        std::fs::read(path).map_err(|source| Ct2Error::Io { path: path.to_path_buf(), source })?;
    let mut c: Cursor = ByteReader::new(&data, |reason, offset| Ct2Error::Format {
        path: path.to_path_buf(),
        reason,
        offset,
    });
    let version = c.u32()?;
    if !VERSIONS.contains(&version) {
        return Err(c.fail(format!(
            "format version {version}, this reader knows {}–{}",
            VERSIONS.start(),
            VERSIONS.end()
        )));
    }
    let spec = string(&mut c)?;
    let _revision = c.u32()?;
    let count = c.u32()?;
    let mut tensors = HashMap::new();
    let mut scalars = HashMap::new();
    for _ in 0..count {
        let name = string(&mut c)?;
        let rank = usize::from(c.u8()?);
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push(c.u32()? as usize);
        }
        let code = c.u8()?;
        let (dtype, width) = dtype_of(code)
            .ok_or_else(|| c.fail(format!("variable {name} has unknown data type {code}")))?;
        let bytes = c.u32()? as usize;
        let raw = c.take(bytes)?;
        let elements: usize = dims.iter().product();
        let bad = |reason: String| Ct2Error::Variable {
            path: path.to_path_buf(),
            name: name.clone(),
            reason,
        };
        if elements.checked_mul(width) != Some(bytes) {
            return Err(bad(format!("{bytes} bytes for shape {dims:?} of {width}-byte values")));
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
        let alias = string(&mut c)?;
        let target = string(&mut c)?;
        if let Some(t) = tensors.get(&target).cloned() {
            tensors.insert(alias, t);
        }
    }
    Ok(Ct2Model { spec, tensors, scalars })
}
