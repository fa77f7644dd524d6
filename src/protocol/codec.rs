//! The one bincode configuration, and decoding that refuses oversized or trailing input.

use bincode::config::{Configuration, LittleEndian, Varint};
use serde::Serialize;

/// bincode 2 `standard()`: little endian, variable-length integers, no fixed limit.
const CONFIG: Configuration<LittleEndian, Varint> = bincode::config::standard();

/// Most bytes one decoded value may claim to allocate: no message comes near it, and it keeps
/// a hostile length prefix from reserving memory the message does not hold.
pub const DECODE_LIMIT_BYTES: usize = 1 << 20;

/// Most bytes a value decoded from a short message (at most [`SHORT_MESSAGE_BYTES`], as every
/// client message is by default) may claim: bincode reserves a string's or a sequence's
/// memory from its length prefix before reading it, so without this a 64-byte input could
/// make the server allocate [`DECODE_LIMIT_BYTES`]. 256 bytes per message byte leaves room for
/// values larger in memory than on the wire (a `Vec<String>` holds 24 bytes per 1-byte
/// element).
pub const SHORT_DECODE_LIMIT_BYTES: usize = 16 << 10;

/// Messages up to this size decode under [`SHORT_DECODE_LIMIT_BYTES`].
pub const SHORT_MESSAGE_BYTES: usize = 64;

/// Most bytes a value decoded from a message of at most [`MEDIUM_MESSAGE_BYTES`] may claim.
pub const MEDIUM_DECODE_LIMIT_BYTES: usize = 256 << 10;

/// Messages up to this size decode under [`MEDIUM_DECODE_LIMIT_BYTES`].
pub const MEDIUM_MESSAGE_BYTES: usize = 1024;

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

/// Decodes one value from the front of `bytes`; returns it and the bytes it used. What the
/// value may claim to allocate grows with `bytes`: [`SHORT_DECODE_LIMIT_BYTES`],
/// [`MEDIUM_DECODE_LIMIT_BYTES`] or [`DECODE_LIMIT_BYTES`]; a length prefix claiming more
/// fails with bincode's `LimitExceeded` before anything is allocated for it.
pub fn decode_prefix<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<(T, usize), DecodeError> {
    match bytes.len() {
        n if n <= SHORT_MESSAGE_BYTES => decode_limited::<T, SHORT_DECODE_LIMIT_BYTES>(bytes),
        n if n <= MEDIUM_MESSAGE_BYTES => decode_limited::<T, MEDIUM_DECODE_LIMIT_BYTES>(bytes),
        _ => decode_limited::<T, DECODE_LIMIT_BYTES>(bytes),
    }
}

fn decode_limited<T: serde::de::DeserializeOwned, const LIMIT: usize>(
    bytes: &[u8],
) -> Result<(T, usize), DecodeError> {
    Ok(bincode::serde::decode_from_slice(bytes, CONFIG.with_limit::<LIMIT>())?)
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
