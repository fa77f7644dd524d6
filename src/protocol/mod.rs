//! The wire protocol, for any game: the message envelope, the schema a game sends in its
//! welcome, the one bincode configuration, tags, varints and close codes.
//!
//! Knows no game: a game's components reach the wire only through the codecs registered for
//! them ([`crate::GameBuilder`]), described to clients by the [`Schema`]. `docs/protocol.md`
//! describes the same bytes in prose and `client-demo/tickwire/protocol.js` mirrors it.

mod close;
mod codec;
pub mod describe;
pub mod inspect;
mod messages;
mod reader;
pub mod schema;
pub mod tags;
pub mod typescript;
pub mod varint;

pub use close::{CloseCode, ROOM_LOST_REASON};
pub use codec::{
    DECODE_LIMIT_BYTES, DecodeError, MEDIUM_DECODE_LIMIT_BYTES, MEDIUM_MESSAGE_BYTES,
    SHORT_DECODE_LIMIT_BYTES, SHORT_MESSAGE_BYTES, decode_exact, decode_prefix, encode,
    encode_into,
};
pub use messages::{
    ClientMessage, Control, MAX_NOTICE_BYTES, Notice, Pong, Welcome, decode_client, decode_control,
    encode_event,
};
pub use reader::{Reader, WireError};
pub use schema::{CodecSchema, ComponentSchema, Field, QuantizedField, Schema, Type, Visibility};

/// Version carried in the welcome message; bumped on any incompatible wire change.
pub const PROTOCOL_VERSION: u16 = 2;

/// The WebSocket subprotocol a client must offer in `Sec-WebSocket-Protocol`.
pub const SUBPROTOCOL: &str = "tickwire.v2";

/// Default largest client message the server decodes, in bytes. An input is its tag, its
/// sequence number and the game's input value; a game with larger inputs raises
/// [`crate::ServerConfig::max_message_bytes`].
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 64;
