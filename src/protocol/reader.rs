//! A cursor over bincode `standard()` bytes, for the decoders that read messages op by op
//! (client replicas, the server's input decoder) instead of building whole serde values.

pub use super::codec::WireError;

/// Why a varint marker is refused.
const BAD_MARKER: &str = "a varint marker that is not valid (254 or 255)";

/// Reads bincode `standard()` values from a byte slice, front to back.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.at
    }

    /// The bytes read since position `start`.
    pub fn since(&self, start: usize) -> &'a [u8] {
        &self.bytes[start.min(self.at)..self.at]
    }

    /// Bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    /// Whether every byte has been read.
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// An error at the current position.
    pub fn malformed(&self, what: &'static str) -> WireError {
        WireError { at: self.at, what }
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.is_done() {
            Ok(())
        } else {
            Err(self.malformed("bytes left over after a whole message"))
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| self.malformed("the message ends before this field"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    /// Skips `n` bytes (after a value decoded elsewhere).
    pub fn advance(&mut self, n: usize) -> Result<(), WireError> {
        self.take(n).map(|_| ())
    }

    /// One raw byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    /// A varint of up to 64 bits.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        Ok(match self.u8()? {
            small @ 0..=250 => u64::from(small),
            251 => u64::from(u16::from_le_bytes(self.array()?)),
            252 => u64::from(u32::from_le_bytes(self.array()?)),
            253 => u64::from_le_bytes(self.array()?),
            _ => return Err(self.malformed(BAD_MARKER)),
        })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A varint of a 32-bit field: as bincode, it refuses the 64-bit marker (253) even
    /// for a value that would fit, as `docs/protocol.md` (section 2) says.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        Ok(match self.u8()? {
            small @ 0..=250 => u32::from(small),
            251 => u32::from(u16::from_le_bytes(self.array()?)),
            252 => u32::from_le_bytes(self.array()?),
            253 => return Err(self.malformed("a 64-bit varint (marker 253) in a 32-bit field")),
            _ => return Err(self.malformed(BAD_MARKER)),
        })
    }

    /// A zigzag varint that must fit 32 bits.
    pub fn i32(&mut self) -> Result<i32, WireError> {
        let zigzag = self.u32()?;
        Ok(((zigzag >> 1) as i32) ^ -((zigzag & 1) as i32))
    }

    /// A zigzag varint of up to 64 bits.
    pub fn i64(&mut self) -> Result<i64, WireError> {
        let zigzag = self.u64()?;
        Ok(((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64))
    }

    /// A collection length. It can never exceed the bytes left (every element takes at least
    /// one byte), which bounds what a hostile length can make a decoder allocate.
    pub fn count(&mut self) -> Result<usize, WireError> {
        let len = self.u64()?;
        if len > (self.bytes.len() - self.at) as u64 {
            return Err(self.malformed("a length longer than the bytes left"));
        }
        Ok(len as usize)
    }

    /// A serde value in the protocol's bincode configuration.
    pub fn value<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, WireError> {
        let (value, used) = super::codec::decode_prefix::<T>(self.rest())
            .map_err(|_| self.malformed("a value that does not decode as its type"))?;
        self.at += used;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::varint;

    #[test]
    fn reads_what_varint_writes() {
        let mut out = Vec::new();
        for value in [0u32, 250, 251, 0xFFFF, 0x1_0000, u32::MAX] {
            varint::write_u32(&mut out, value);
        }
        for value in [0i32, -1, 1, i32::MIN, i32::MAX] {
            varint::write_i32(&mut out, value);
        }
        let mut reader = Reader::new(&out);
        for value in [0u32, 250, 251, 0xFFFF, 0x1_0000, u32::MAX] {
            assert_eq!(reader.u32(), Ok(value));
        }
        for value in [0i32, -1, 1, i32::MIN, i32::MAX] {
            assert_eq!(reader.i32(), Ok(value));
        }
        assert!(reader.finish().is_ok());
    }

    #[test]
    fn refuses_truncation_and_huge_lengths() {
        assert!(Reader::new(&[251, 1]).u32().is_err());
        assert!(Reader::new(&[5, 1, 2]).count().is_err());
        assert!(Reader::new(&[254]).u64().is_err());
    }

    #[test]
    fn a_32_bit_field_refuses_the_64_bit_marker() {
        let wide = [253, 5, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(Reader::new(&wide).u64(), Ok(5));
        let error = Reader::new(&wide).u32().expect_err("too wide");
        assert_eq!(
            error.to_string(),
            "malformed message at byte 1: a 64-bit varint (marker 253) in a 32-bit field"
        );
        assert_eq!(Reader::new(&[252, 1, 0, 0, 0]).u32(), Ok(1), "a longer form than needed");
    }
}
