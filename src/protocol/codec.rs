//! The one bincode configuration, and decoding that refuses oversized or trailing input.

use super::{ClientMessage, MAX_CLIENT_MESSAGE_BYTES, ServerMessage};
use bincode::config::{Configuration, LittleEndian, Varint};
use serde::Serialize;

/// bincode 2 `standard()`: little endian, variable-length integers, no fixed limit.
const CONFIG: Configuration<LittleEndian, Varint> = bincode::config::standard();

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
    /// Not a valid encoding.
    #[error("malformed message: {0}")]
    Malformed(#[from] bincode::error::DecodeError),
}

/// Encodes any wire type with the protocol's configuration.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(message, &mut out);
    out
}

/// Appends the encoding of `message` to `out`.
pub fn encode_into<T: Serialize>(message: &T, out: &mut Vec<u8>) {
    // Writing our own types into a Vec cannot fail: every field is serializable and a Vec
    // grows as needed, so an error here is a bug in the wire types.
    bincode::serde::encode_into_std_write(message, out, CONFIG)
        .expect("wire types always encode into a Vec");
}

/// Decodes one client message from one WebSocket binary frame.
pub fn decode_client(bytes: &[u8]) -> Result<ClientMessage, DecodeError> {
    decode_exact(bytes, MAX_CLIENT_MESSAGE_BYTES, CONFIG.with_limit::<MAX_CLIENT_MESSAGE_BYTES>())
}

/// Decodes one server message (used by bots and tests). `limit` bounds the frame size.
pub fn decode_server(bytes: &[u8], limit: usize) -> Result<ServerMessage, DecodeError> {
    decode_exact(bytes, limit, CONFIG)
}

fn decode_exact<T, L>(
    bytes: &[u8],
    limit: usize,
    config: Configuration<LittleEndian, Varint, L>,
) -> Result<T, DecodeError>
where
    T: serde::de::DeserializeOwned,
    L: 'static,
    Configuration<LittleEndian, Varint, L>: bincode::config::Config,
{
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge { actual: bytes.len(), limit });
    }
    let (message, used) = bincode::serde::decode_from_slice(bytes, config)?;
    if used != bytes.len() {
        return Err(DecodeError::Trailing { used, extra: bytes.len() - used });
    }
    Ok(message)
}
