//! The on-disk record framing: `offset u64 | len u32 | crc32c u32 | payload`, little endian.
//! The CRC covers offset, length and payload, so a torn or misplaced record never validates.
//! The top bit of the length marks a control record (a cancel): readers that scan ahead for
//! control intents skip the payloads of the others unread. Payloads are far below 2^31 bytes,
//! and logs written before the flag existed never set it.

pub const HEADER_LEN: usize = 16;
/// Upper bound on one record; a larger length in a header is garbage, not a record.
pub const MAX_RECORD: usize = 64 << 20;
const CONTROL: u32 = 1 << 31;

pub fn encode(offset: u64, payload: &[u8], control: bool, out: &mut Vec<u8>) {
    let len = payload.len() as u32 | if control { CONTROL } else { 0 };
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(offset, len, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The CRC of a record; `len` is the length field as stored (flag included).
pub fn checksum(offset: u64, len: u32, payload: &[u8]) -> u32 {
    let crc = crc32c::crc32c(&offset.to_le_bytes());
    let crc = crc32c::crc32c_append(crc, &len.to_le_bytes());
    crc32c::crc32c_append(crc, payload)
}

pub struct Header {
    pub offset: u64,
    /// The length field as stored (flag included), for the checksum.
    pub raw_len: u32,
    pub crc: u32,
}

impl Header {
    /// Payload bytes.
    pub fn len(&self) -> usize {
        (self.raw_len & !CONTROL) as usize
    }

    pub fn is_control(&self) -> bool {
        self.raw_len & CONTROL != 0
    }
}

pub fn decode_header(b: &[u8; HEADER_LEN]) -> Header {
    let mut o = [0u8; 8];
    o.copy_from_slice(&b[0..8]);
    let mut l = [0u8; 4];
    l.copy_from_slice(&b[8..12]);
    let mut c = [0u8; 4];
    c.copy_from_slice(&b[12..16]);
    Header {
        offset: u64::from_le_bytes(o),
        raw_len: u32::from_le_bytes(l),
        crc: u32::from_le_bytes(c),
    }
}

#[cfg(test)]
mod tests {
    use super::{HEADER_LEN, checksum, decode_header, encode};

    fn header(bytes: &[u8]) -> super::Header {
        decode_header(bytes[..HEADER_LEN].try_into().unwrap())
    }

    #[test]
    fn a_record_round_trips_with_its_offset_length_and_checksum() {
        let mut out = Vec::new();
        encode(42, b"hola", false, &mut out);
        assert_eq!(out.len(), HEADER_LEN + 4);
        let h = header(&out);
        assert_eq!((h.offset, h.len(), h.is_control()), (42, 4, false));
        assert_eq!(checksum(h.offset, h.raw_len, &out[HEADER_LEN..]), h.crc);
        assert_eq!(&out[HEADER_LEN..], b"hola");
    }

    #[test]
    fn the_control_flag_is_covered_by_the_checksum() {
        let mut data = Vec::new();
        encode(7, b"{}", false, &mut data);
        let mut control = Vec::new();
        encode(7, b"{}", true, &mut control);
        let (d, c) = (header(&data), header(&control));
        assert!(c.is_control() && !d.is_control());
        assert_eq!((c.len(), d.len()), (2, 2));
        assert_ne!(c.crc, d.crc, "a flipped flag must not validate");
        assert_ne!(checksum(7, d.raw_len, b"{}"), c.crc);
    }

    #[test]
    fn a_changed_payload_or_offset_fails_the_checksum() {
        let mut out = Vec::new();
        encode(1, b"abc", false, &mut out);
        let h = header(&out);
        assert_ne!(checksum(1, h.raw_len, b"abd"), h.crc);
        assert_ne!(checksum(2, h.raw_len, b"abc"), h.crc);
    }
}
