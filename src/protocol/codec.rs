//! The one bincode configuration, and decoding that refuses oversized or trailing input.
//!
//! A decode error's text is the reason a client is closed with (1007), so it is a sentence
//! that names what was wrong, never bincode's `Debug` form.

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
    #[error(
        "malformed message: {extra} {} left over after a whole {used}-byte message",
        if *extra == 1 { "byte" } else { "bytes" }
    )]
    Trailing {
        /// Bytes the message used.
        used: usize,
        /// Bytes left over.
        extra: usize,
    },
    /// The message's tag names no message.
    #[error("malformed message: tag {tag} names no message")]
    UnknownTag {
        /// The tag read.
        tag: u32,
    },
    /// Not a valid encoding of the message's fields.
    #[error("malformed message: {}", sentence(.0))]
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

/// What was wrong, as a sentence: bincode's own `Display` is its `Debug` form
/// (`InvalidIntegerType { expected: U32, found: Reserved }`), which a client cannot act on.
fn sentence(error: &bincode::error::DecodeError) -> String {
    use bincode::error::DecodeError as E;
    match error {
        E::UnexpectedEnd { .. } | E::Io { .. } => "it ends before its last field".into(),
        E::LimitExceeded => {
            "a length claims more memory than a message of this size may take".into()
        }
        E::InvalidIntegerType { expected, found } => {
            let expected = integer_name(expected);
            match found {
                bincode::error::IntegerType::Reserved => format!(
                    "an integer field starts with the reserved varint marker 255 \
                     (expected {expected})"
                ),
                found => format!(
                    "an integer field is written wider than its type ({} where {expected} \
                     belongs)",
                    integer_name(found)
                ),
            }
        }
        E::NonZeroTypeIsZero { .. } => "a field that may not be zero is zero".into(),
        E::UnexpectedVariant { type_name, found, .. } => {
            format!("{type_name} has no variant {found}")
        }
        E::EmptyEnum { type_name } => format!("{type_name} has no variants to send"),
        E::Utf8 { inner } => format!("a string is not valid UTF-8 ({inner})"),
        E::InvalidCharEncoding(_) => "a character is not valid UTF-8".into(),
        E::InvalidBooleanValue(value) => format!("a bool field holds {value}, not 0 or 1"),
        E::ArrayLengthMismatch { required, found } => {
            format!("an array holds {found} elements where {required} belong")
        }
        E::OutsideUsizeRange(length) => format!("a length of {length} is out of range"),
        E::InvalidDuration { .. } | E::InvalidSystemTime { .. } => {
            "a duration or time is out of range".into()
        }
        E::CStringNulError { .. } => "a C string holds a zero byte".into(),
        // Serde's messages (an enum's variant index out of range, a game type's own check)
        // are sentences already.
        E::Other(text) => (*text).into(),
        E::OtherString(text) => text.clone(),
        E::Serde(_) => "a field of a type bincode cannot decode (a bug in the game's type)".into(),
        _ => "its bytes do not decode as the message".into(),
    }
}

/// `a u32`, `an i8`, ... for an integer type bincode names.
fn integer_name(integer: &bincode::error::IntegerType) -> &'static str {
    use bincode::error::IntegerType as I;
    match integer {
        I::U8 => "a u8",
        I::U16 => "a u16",
        I::U32 => "a u32",
        I::U64 => "a u64",
        I::U128 => "a u128",
        I::Usize => "a length",
        I::I8 => "an i8",
        I::I16 => "an i16",
        I::I32 => "an i32",
        I::I64 => "an i64",
        I::I128 => "an i128",
        I::Isize => "a signed length",
        _ => "an integer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason<T: serde::de::DeserializeOwned + std::fmt::Debug>(bytes: &[u8]) -> String {
        decode_exact::<T>(bytes, 64).expect_err("does not decode").to_string()
    }

    #[test]
    fn decode_errors_are_sentences_not_debug_dumps() {
        let cases = [
            (
                reason::<u32>(&[0xff]),
                "malformed message: an integer field starts with the reserved varint marker \
                255 (expected a u32)",
            ),
            (
                reason::<u32>(&[0xfe]),
                "malformed message: an integer field is written wider than its type (a u128 \
                where a u32 belongs)",
            ),
            (
                reason::<u32>(&[0xfd, 1, 0, 0, 0, 0, 0, 0, 0]),
                "malformed message: an integer \
                field is written wider than its type (a u64 where a u32 belongs)",
            ),
            (reason::<(u8, u8)>(&[1]), "malformed message: it ends before its last field"),
            (reason::<bool>(&[2]), "malformed message: a bool field holds 2, not 0 or 1"),
            (
                reason::<String>(&[1, 0xff]),
                "malformed message: a string is not valid UTF-8 \
                (invalid utf-8 sequence of 1 bytes from index 0)",
            ),
            (
                reason::<u8>(&[1, 2]),
                "malformed message: 1 byte left over after a whole \
                1-byte message",
            ),
            (
                reason::<String>(&[0xfc, 0, 0, 0, 1]),
                "malformed message: a length claims \
                more memory than a message of this size may take",
            ),
        ];
        for (actual, expected) in cases {
            assert_eq!(actual, expected);
            assert!(!actual.contains('{') && !actual.contains("::"), "{actual}");
        }
    }
}
