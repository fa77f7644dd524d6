//! The one bincode configuration, and decoding that refuses oversized or trailing input.

use bincode::config::{Configuration, LittleEndian, Varint};
use serde::Serialize;

/// bincode 2 `standard()`: little endian, variable-length integers, no fixed limit.
const CONFIG: Configuration<LittleEndian, Varint> = bincode::config::standard();

/// Most bytes one decoded value may claim to allocate: no client message comes near it, and
/// it keeps a hostile length prefix from reserving memory the message does not hold.
const DECODE_LIMIT_BYTES: usize = 1 << 20;

/// Why bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed message at byte {at}: {what}")]
pub struct WireError {
    /// Offset of the problem.
    pub at: usize,
    /// What was wrong.
    pub what: &'static str,
}

/// Why a message did not decode.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Larger than the receiver accepts.
    #[error("message of {actual} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Bytes received.
        actual: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// Bytes left over after a whole message.
    #[error("{extra} trailing bytes after a {used}-byte message")]
    Trailing {
        /// Bytes the message used.
        used: usize,
        /// Bytes left over.
        extra: usize,
    },
    /// The message's tag names no message.
    #[error("malformed message: unknown message tag")]
    UnknownTag,
    /// Not a valid encoding of the message's fields.
    #[error("malformed message: {0}")]
    Malformed(#[from] bincode::error::DecodeError),
    /// Not a valid encoding of the message's header.
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// Encodes any wire type with the protocol's configuration.
pub fn encode<T: Serialize + ?Sized>(message: &T) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(message, &mut out);
    out
}

/// Appends the encoding of `message` to `out`.
pub fn encode_into<T: Serialize + ?Sized>(message: &T, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail for the types the protocol and games use (structs of
    // numbers, strings and sequences); a type serde cannot write is a bug in that type.
    bincode::serde::encode_into_std_write(message, out, CONFIG)
        .expect("wire types always encode into a Vec");
}

/// Decodes one value from the front of `bytes`; returns it and the bytes it used.
pub fn decode_prefix<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<(T, usize), DecodeError> {
    let config = CONFIG.with_limit::<DECODE_LIMIT_BYTES>();
    Ok(bincode::serde::decode_from_slice(bytes, config)?)
}

/// Decodes exactly one value from `bytes`, of at most `limit` bytes.
pub fn decode_exact<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge { actual: bytes.len(), limit });
    }
    let (message, used) = decode_prefix(bytes)?;
    if used != bytes.len() {
        return Err(DecodeError::Trailing { used, extra: bytes.len() - used });
    }
    Ok(message)
}
