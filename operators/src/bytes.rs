//! A bounds-checked reader over untrusted bytes (model files from outside): every read either
//! fits in what is left or becomes the caller's error, with the offset it stopped at.

pub(crate) struct ByteReader<'a, E> {
    data: &'a [u8],
    pub at: usize,
    /// Builds the caller's error from a reason and an offset.
    error: Box<dyn Fn(String, usize) -> E + 'a>,
}

impl<'a, E> ByteReader<'a, E> {
    pub fn new(data: &'a [u8], error: impl Fn(String, usize) -> E + 'a) -> Self {
        ByteReader { data, at: 0, error: Box::new(error) }
    }

    /// The caller's error for `reason`, at the current offset.
    pub fn fail(&self, reason: impl Into<String>) -> E {
        (self.error)(reason.into(), self.at)
    }

    /// What is left to read.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.at..]
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], E> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| self.fail(format!("{n} bytes expected, the file ends first")))?;
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, E> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, E> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32, E> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64, E> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
}
