//! bincode 2's variable-length integers, written by hand for the snapshot assembler.
//!
//! The assembler splices pre-encoded entity bodies into per-client messages and writes the
//! few integers around them itself; these functions write exactly what bincode's `standard()`
//! configuration writes (checked against bincode in the tests below).

/// Appends `value` as a bincode varint: one byte below 251, else a marker and LE bytes.
#[inline]
pub fn write_u32(out: &mut Vec<u8>, value: u32) {
    match value {
        0..=250 => out.push(value as u8),
        251..=0xFFFF => {
            out.push(251);
            out.extend_from_slice(&(value as u16).to_le_bytes());
        }
        _ => {
            out.push(252);
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// Appends `value` zigzag-encoded (0, -1, 1, -2, …) as a varint, as bincode does for `i32`.
#[inline]
pub fn write_i32(out: &mut Vec<u8>, value: i32) {
    write_u32(out, ((value << 1) ^ (value >> 31)) as u32);
}

/// Appends a `u64` length prefix (as bincode writes `Vec` and `String` lengths).
#[inline]
pub fn write_len(out: &mut Vec<u8>, len: usize) {
    write_u64(out, len as u64);
}

/// Appends `value` as a bincode varint.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, value: u64) {
    match value {
        0..=250 => out.push(value as u8),
        251..=0xFFFF => {
            out.push(251);
            out.extend_from_slice(&(value as u16).to_le_bytes());
        }
        0x1_0000..=0xFFFF_FFFF => {
            out.push(252);
            out.extend_from_slice(&(value as u32).to_le_bytes());
        }
        _ => {
            out.push(253);
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bincode_bytes<T: serde::Serialize>(value: T) -> Vec<u8> {
        crate::protocol::encode(&value)
    }

    #[test]
    fn unsigned_matches_bincode() {
        for value in [0u32, 1, 250, 251, 252, 0xFFFF, 0x1_0000, u32::MAX] {
            let mut out = Vec::new();
            write_u32(&mut out, value);
            assert_eq!(out, bincode_bytes(value), "u32 {value}");
        }
    }

    #[test]
    fn signed_matches_bincode() {
        for value in [0i32, -1, 1, -125, 125, -126, 126, 40_000, -40_000, i32::MIN, i32::MAX] {
            let mut out = Vec::new();
            write_i32(&mut out, value);
            assert_eq!(out, bincode_bytes(value), "i32 {value}");
        }
    }

    #[test]
    fn lengths_match_bincode() {
        for len in [0usize, 250, 251, 70_000] {
            let mut out = Vec::new();
            write_len(&mut out, len);
            assert_eq!(out, bincode_bytes(vec![0u8; len])[..out.len()], "len {len}");
        }
    }
}
