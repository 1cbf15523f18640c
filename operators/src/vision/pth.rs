//! Reads PyTorch's legacy (pre-1.6, non-zip) `torch.save` files without torch: five pickles
//! in a row (magic number, protocol version, system info, the state dict whose tensors point
//! at storages by key, the list of storage keys), then each storage's element count and raw
//! little-endian data in that list's order. Only the pickle opcodes such files use are
//! understood; anything else (code execution, unknown classes) is refused, so a hostile file
//! is an error, never a surprise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use crate::bytes::ByteReader;

#[derive(Debug, thiserror::Error)]
pub enum PthError {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a legacy PyTorch checkpoint: {reason} (at byte {offset})")]
    Format { path: PathBuf, reason: String, offset: usize },
}

/// The magic number legacy `torch.save` writes first.
const MAGIC: i128 = 0x1950a86a20f9469cfc6c;

#[derive(Clone, Debug)]
enum Value {
    None,
    Bool,
    Int(i128),
    Float,
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String, String),
    Call(Box<Value>, Vec<Value>),
    Persistent(Box<Value>),
    Mark,
}

struct Reader<'a> {
    b: ByteReader<'a, PthError>,
}

impl<'a> Reader<'a> {
    fn fail(&self, reason: impl Into<String>) -> PthError {
        self.b.fail(reason)
    }

    fn line(&mut self) -> Result<String, PthError> {
        let rest = self.b.rest();
        let n =
            rest.iter().position(|&b| b == b'\n').ok_or_else(|| self.fail("unterminated name"))?;
        let s =
            String::from_utf8(rest[..n].to_vec()).map_err(|_| self.fail("a name is not UTF-8"))?;
        self.b.take(n + 1)?;
        Ok(s)
    }

    /// Runs one pickle to its STOP and returns the value it built.
    fn pickle(&mut self) -> Result<Value, PthError> {
        let mut stack: Vec<Value> = Vec::new();
        let mut memo: HashMap<u32, Value> = HashMap::new();
        loop {
            let op = self.b.u8()?;
            let pop = |stack: &mut Vec<Value>, r: &Self| {
                stack.pop().ok_or_else(|| r.fail("pickle stack underflow"))
            };
            let to_mark = |stack: &mut Vec<Value>, r: &Self| -> Result<Vec<Value>, PthError> {
                let m = stack
                    .iter()
                    .rposition(|v| matches!(v, Value::Mark))
                    .ok_or_else(|| r.fail("no mark on the pickle stack"))?;
                let items = stack.split_off(m + 1);
                stack.pop();
                Ok(items)
            };
            match op {
                0x80 => {
                    self.b.u8()?; // PROTO
                }
                b'.' => return pop(&mut stack, self),
                b'N' => stack.push(Value::None),
                0x88 | 0x89 => stack.push(Value::Bool),
                b'K' => {
                    let v = self.b.u8()?;
                    stack.push(Value::Int(i128::from(v)));
                }
                b'M' => {
                    let v = self.b.u16()?;
                    stack.push(Value::Int(i128::from(v)));
                }
                b'J' => {
                    let v = self.b.u32()? as i32;
                    stack.push(Value::Int(i128::from(v)));
                }
                0x8a => {
                    let n = usize::from(self.b.u8()?);
                    let b = self.b.take(n)?;
                    if n > 16 {
                        return Err(self.fail("integer too long"));
                    }
                    let mut v: i128 = 0;
                    for (i, byte) in b.iter().enumerate() {
                        v |= i128::from(*byte) << (8 * i);
                    }
                    if n > 0 && n < 16 && b[n - 1] & 0x80 != 0 {
                        v -= 1i128 << (8 * n);
                    }
                    stack.push(Value::Int(v));
                }
                b'G' => {
                    self.b.take(8)?;
                    stack.push(Value::Float);
                }
                b'X' => {
                    let n = self.b.u32()? as usize;
                    let b = self.b.take(n)?;
                    stack.push(Value::Str(
                        String::from_utf8(b.to_vec())
                            .map_err(|_| self.fail("a string is not UTF-8"))?,
                    ));
                }
                b'q' => {
                    let k = u32::from(self.b.u8()?);
                    let v =
                        stack.last().cloned().ok_or_else(|| self.fail("memo of an empty stack"))?;
                    memo.insert(k, v);
                }
                b'r' => {
                    let k = self.b.u32()?;
                    let v =
                        stack.last().cloned().ok_or_else(|| self.fail("memo of an empty stack"))?;
                    memo.insert(k, v);
                }
                b'h' | b'j' => {
                    let k = if op == b'h' { u32::from(self.b.u8()?) } else { self.b.u32()? };
                    stack.push(
                        memo.get(&k)
                            .cloned()
                            .ok_or_else(|| self.fail(format!("memo {k} is not set")))?,
                    );
                }
                b'(' => stack.push(Value::Mark),
                b')' => stack.push(Value::Tuple(Vec::new())),
                b't' => {
                    let items = to_mark(&mut stack, self)?;
                    stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if stack.len() < n {
                        return Err(self.fail("pickle stack underflow"));
                    }
                    let items = stack.split_off(stack.len() - n);
                    stack.push(Value::Tuple(items));
                }
                b'}' => stack.push(Value::Dict(Vec::new())),
                b']' => stack.push(Value::List(Vec::new())),
                b's' => {
                    let v = pop(&mut stack, self)?;
                    let k = pop(&mut stack, self)?;
                    match stack.last_mut() {
                        Some(Value::Dict(d)) => d.push((k, v)),
                        Some(Value::Call(..)) => {} // items of an OrderedDict's subclass state: the dict below holds them
                        _ => return Err(self.fail("SETITEM on something that is not a dict")),
                    }
                }
                b'u' => {
                    let items = to_mark(&mut stack, self)?;
                    let pairs = items
                        .chunks(2)
                        .filter(|c| c.len() == 2)
                        .map(|c| (c[0].clone(), c[1].clone()));
                    match stack.last_mut() {
                        Some(Value::Dict(d)) => d.extend(pairs),
                        Some(Value::Call(_, args)) => args.push(Value::Dict(pairs.collect())),
                        _ => return Err(self.fail("SETITEMS on something that is not a dict")),
                    }
                }
                b'a' => {
                    let v = pop(&mut stack, self)?;
                    match stack.last_mut() {
                        Some(Value::List(l)) => l.push(v),
                        _ => return Err(self.fail("APPEND on something that is not a list")),
                    }
                }
                b'e' => {
                    let items = to_mark(&mut stack, self)?;
                    match stack.last_mut() {
                        Some(Value::List(l)) => l.extend(items),
                        _ => return Err(self.fail("APPENDS on something that is not a list")),
                    }
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    stack.push(Value::Global(module, name));
                }
                b'R' => {
                    let args = pop(&mut stack, self)?;
                    let f = pop(&mut stack, self)?;
                    let args = match args {
                        Value::Tuple(a) => a,
                        _ => return Err(self.fail("REDUCE arguments are not a tuple")),
                    };
                    // An OrderedDict is just a dict here; every other call is kept as data and
                    // interpreted (or refused) by the caller — nothing is ever executed.
                    match &f {
                        Value::Global(m, n) if m == "collections" && n == "OrderedDict" => {
                            stack.push(Value::Dict(Vec::new()))
                        }
                        _ => stack.push(Value::Call(Box::new(f), args)),
                    }
                }
                b'b' => {
                    pop(&mut stack, self)?; // BUILD state (a state dict's _metadata): not needed
                }
                b'Q' => {
                    let id = pop(&mut stack, self)?;
                    stack.push(Value::Persistent(Box::new(id)));
                }
                other => return Err(self.fail(format!("unsupported pickle opcode 0x{other:02x}"))),
            }
        }
    }
}

/// Element type and width of a legacy storage class.
fn storage_dtype(class: &str) -> Option<(DType, usize)> {
    Some(match class {
        "FloatStorage" => (DType::F32, 4),
        "HalfStorage" => (DType::F16, 2),
        "DoubleStorage" => (DType::F64, 8),
        "LongStorage" => (DType::I64, 8),
        _ => return None,
    })
}

struct TensorRef {
    key: String,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

fn ints(v: &Value) -> Option<Vec<usize>> {
    match v {
        Value::Tuple(items) => items
            .iter()
            .map(|i| if let Value::Int(n) = i { usize::try_from(*n).ok() } else { None })
            .collect(),
        _ => None,
    }
}

/// A `_rebuild_tensor_v2(storage, offset, size, stride, …)` call, read as data.
fn tensor_ref(v: &Value) -> Option<(TensorRef, String)> {
    let Value::Call(f, args) = v else { return None };
    let Value::Global(m, n) = f.as_ref() else {
        return None;
    };
    if m != "torch._utils" || n != "_rebuild_tensor_v2" || args.len() < 4 {
        return None;
    }
    let Value::Persistent(id) = &args[0] else {
        return None;
    };
    let Value::Tuple(id) = id.as_ref() else {
        return None;
    };
    // ('storage', torch.FloatStorage, key, location, numel)
    let (Some(Value::Global(_, class)), Some(Value::Str(key))) = (id.get(1), id.get(2)) else {
        return None;
    };
    let Value::Int(offset) = args[1] else {
        return None;
    };
    Some((
        TensorRef {
            key: key.clone(),
            offset: usize::try_from(offset).ok()?,
            shape: ints(&args[2])?,
            stride: ints(&args[3])?,
        },
        class.clone(),
    ))
}

/// Every floating-point tensor of the checkpoint's state dict, as f32, by name.
pub fn read(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>, PthError> {
    let data =
        std::fs::read(path).map_err(|source| PthError::Io { path: path.to_path_buf(), source })?;
    let mut r = Reader {
        b: ByteReader::new(&data, |reason, offset| PthError::Format {
            path: path.to_path_buf(),
            reason,
            offset,
        }),
    };
    match r.pickle()? {
        Value::Int(m) if m == MAGIC => {}
        _ => {
            return Err(
                r.fail("no legacy torch.save magic number (a zip checkpoint or another file)")
            );
        }
    }
    r.pickle()?; // protocol version
    r.pickle()?; // system info
    let state = r.pickle()?;
    let keys = match r.pickle()? {
        Value::List(k) => k
            .into_iter()
            .filter_map(|v| if let Value::Str(s) = v { Some(s) } else { None })
            .collect::<Vec<_>>(),
        _ => return Err(r.fail("the storage key list is missing")),
    };
    let entries = match state {
        Value::Dict(d) => d,
        _ => return Err(r.fail("the checkpoint is not a state dict")),
    };
    let mut refs = Vec::new();
    for (name, value) in &entries {
        if let (Value::Str(name), Some((t, class))) = (name, tensor_ref(value)) {
            refs.push((name.clone(), t, class));
        }
    }
    // Storages follow in key order: an 8-byte element count, then the elements.
    let mut storages: HashMap<String, &[u8]> = HashMap::new();
    for key in &keys {
        let count = r.b.u64()? as usize;
        let class = refs
            .iter()
            .find(|(_, t, _)| &t.key == key)
            .map(|(_, _, c)| c.as_str())
            .unwrap_or("FloatStorage");
        let (_, width) = storage_dtype(class)
            .ok_or_else(|| r.fail(format!("storage class {class} is not supported")))?;
        let bytes = count.checked_mul(width).ok_or_else(|| r.fail("storage size overflows"))?;
        storages.insert(key.clone(), r.b.take(bytes)?);
    }
    let mut out = HashMap::new();
    for (name, t, class) in refs {
        let Some((dtype, width)) = storage_dtype(&class) else {
            continue;
        };
        if !dtype.is_float() {
            continue; // BatchNorm's num_batches_tracked
        }
        let raw = storages
            .get(&t.key)
            .ok_or_else(|| r.fail(format!("{name}: storage {} is missing", t.key)))?;
        let elements: usize = t.shape.iter().product();
        // State-dict tensors are contiguous: check it rather than assume it.
        let mut expect = 1;
        for (dim, stride) in t.shape.iter().zip(&t.stride).rev() {
            if *dim > 1 && *stride != expect {
                return Err(r.fail(format!("{name} is not contiguous")));
            }
            expect *= dim;
        }
        let start = t.offset * width;
        let end = start + elements * width;
        let bytes = raw
            .get(start..end)
            .ok_or_else(|| r.fail(format!("{name} lies outside its storage")))?;
        let tensor = Tensor::from_raw_buffer(bytes, dtype, &t.shape, device)
            .and_then(|x| x.to_dtype(DType::F32))
            .map_err(|e| r.fail(format!("{name}: {e}")))?;
        out.insert(name, tensor);
    }
    Ok(out)
}
