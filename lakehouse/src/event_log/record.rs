//! The on-disk record framing: `offset u64 | len u32 | crc32c u32 | payload`, little endian.
//! The CRC covers offset, length and payload, so a torn or misplaced record never validates.

pub const HEADER_LEN: usize = 16;
/// Upper bound on one record; a larger length in a header is garbage, not a record.
pub const MAX_RECORD: usize = 64 << 20;

pub fn encode(offset: u64, payload: &[u8], out: &mut Vec<u8>) {
    let len = payload.len() as u32;
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(offset, len, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

pub fn checksum(offset: u64, len: u32, payload: &[u8]) -> u32 {
    let crc = crc32c::crc32c(&offset.to_le_bytes());
    let crc = crc32c::crc32c_append(crc, &len.to_le_bytes());
    crc32c::crc32c_append(crc, payload)
}

pub struct Header {
    pub offset: u64,
    pub len: u32,
    pub crc: u32,
}

pub fn decode_header(b: &[u8; HEADER_LEN]) -> Header {
    let mut o = [0u8; 8];
    o.copy_from_slice(&b[0..8]);
    let mut l = [0u8; 4];
    l.copy_from_slice(&b[8..12]);
    let mut c = [0u8; 4];
    c.copy_from_slice(&b[12..16]);
    Header { offset: u64::from_le_bytes(o), len: u32::from_le_bytes(l), crc: u32::from_le_bytes(c) }
}
