//! The messages on the wire besides snapshots (which `replication/` assembles from pieces):
//! the welcome, pongs, the game's events, and what clients send.
//!
//! Every message starts with its tag ([`super::tags`]) as a varint; field order is wire order.

use super::codec::{self, DecodeError};
use super::reader::Reader;
use super::schema::Schema;
use super::tags::{MSG_EVENT, MSG_INPUT, MSG_MESSAGE, MSG_NOTICE, MSG_PING, MSG_PONG, MSG_WELCOME};
use serde::{Deserialize, Serialize};

/// Sent once, right after the handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// [`super::PROTOCOL_VERSION`].
    pub protocol_version: u16,
    /// This connection's id, unique for the server's lifetime.
    pub client_id: u32,
    /// Wire id of the client's own entity (0: the game gave it none).
    pub entity_id: u32,
    /// Simulation and snapshot rate.
    pub tick_rate_hz: u16,
    /// [`Schema::hash`] of `schema`.
    pub schema_hash: u64,
    /// How to decode this game's components, input and welcome.
    pub schema: Schema,
    /// The game's own welcome value, bincode-encoded (its type is `schema.welcome`).
    pub game: Vec<u8>,
    /// The secret that resumes this session on a new connection (`/ws?resume=` and its 32
    /// hex digits) within the server's resume window: 128 random bits, good for one use.
    /// All zero when the server does not resume sessions.
    pub resume_token: [u8; 16],
}

impl Welcome {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![MSG_WELCOME];
        codec::encode_into(self, &mut out);
        out
    }

    /// The game's welcome value.
    pub fn game<T: serde::de::DeserializeOwned>(&self) -> Result<T, DecodeError> {
        codec::decode_exact(&self.game, self.game.len())
    }
}

/// Answer to a ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    /// The ping's id, echoed.
    pub id: u32,
    /// The server's latest tick when it answered.
    pub tick: u32,
    /// Clients connected to the server's world (not only those in view) at that tick.
    pub clients: u32,
}

impl Pong {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![MSG_PONG];
        codec::encode_into(self, &mut out);
        out
    }
}

/// Longest operator notice, in bytes of UTF-8: a line of text, not a document.
pub const MAX_NOTICE_BYTES: usize = 200;

/// An operator's notice to everyone in a room (sent from the console): a system message any
/// client shows, whatever the game.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The room's latest tick when it was sent.
    pub tick: u32,
    /// The operator's text, at most [`MAX_NOTICE_BYTES`].
    pub text: String,
}

impl Notice {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![MSG_NOTICE];
        codec::encode_into(self, &mut out);
        out
    }
}

/// One of the game's events: tag, the tick it belongs to, the event's bincode bytes.
pub fn encode_event<E: Serialize>(tick: u32, event: &E) -> Vec<u8> {
    let mut out = vec![MSG_EVENT];
    super::varint::write_u32(&mut out, tick);
    codec::encode_into(event, &mut out);
    out
}

/// Every message a client sends, with the game's input type `I` and message type `M`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage<I, M> {
    /// Tag 0: one tick of the game's input.
    Input {
        /// Strictly increasing per connection, starting at 1.
        seq: u32,
        /// The game's input.
        input: I,
    },
    /// Tag 1: asks for a [`Pong`] (round-trip time).
    Ping {
        /// Any number; the pong echoes it.
        id: u32,
    },
    /// Tag 2: one of the game's messages.
    Message(M),
}

impl<I: Serialize, M: Serialize> ClientMessage<I, M> {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            ClientMessage::Input { seq, input } => {
                out.push(MSG_INPUT);
                super::varint::write_u32(&mut out, *seq);
                codec::encode_into(input, &mut out);
            }
            ClientMessage::Ping { id } => {
                out.push(MSG_PING);
                super::varint::write_u32(&mut out, *id);
            }
            ClientMessage::Message(message) => {
                out.push(MSG_MESSAGE);
                codec::encode_into(message, &mut out);
            }
        }
        out
    }
}

/// Decodes one client message from one WebSocket binary frame of at most `limit` bytes.
pub fn decode_client<I: serde::de::DeserializeOwned, M: serde::de::DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
) -> Result<ClientMessage<I, M>, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge { actual: bytes.len(), limit });
    }
    let mut reader = Reader::new(bytes);
    let message = match reader.u32()? {
        tag if tag == u32::from(MSG_INPUT) => {
            let seq = reader.u32()?;
            let (input, used) = codec::decode_prefix(reader.rest())?;
            reader.advance(used)?;
            ClientMessage::Input { seq, input }
        }
        tag if tag == u32::from(MSG_PING) => ClientMessage::Ping { id: reader.u32()? },
        tag if tag == u32::from(MSG_MESSAGE) => {
            let (message, used) = codec::decode_prefix(reader.rest())?;
            reader.advance(used)?;
            ClientMessage::Message(message)
        }
        tag => return Err(DecodeError::UnknownTag { tag }),
    };
    if !reader.is_done() {
        let used = reader.position();
        return Err(DecodeError::Trailing { used, extra: bytes.len() - used });
    }
    Ok(message)
}

/// A server message other than a snapshot, decoded (bots and tests).
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// The welcome.
    Welcome(Box<Welcome>),
    /// A pong.
    Pong(Pong),
    /// A game event: its tick and its bincode bytes (decode them with
    /// [`crate::protocol::decode_exact`] as the game's event type).
    Event {
        /// The tick it belongs to.
        tick: u32,
        /// The event's bincode bytes.
        bytes: Vec<u8>,
    },
    /// An operator's notice.
    Notice(Notice),
}

/// Decodes a welcome, a pong, an event or a notice; `None` for a snapshot (tag 1 or 2), which a
/// replica applies.
pub fn decode_control(bytes: &[u8]) -> Result<Option<Control>, DecodeError> {
    let mut reader = Reader::new(bytes);
    let tag = reader.u32()?;
    let control = match tag {
        t if t == u32::from(MSG_WELCOME) => {
            Control::Welcome(Box::new(codec::decode_exact(reader.rest(), usize::MAX)?))
        }
        t if t == u32::from(MSG_PONG) => Control::Pong(codec::decode_exact(reader.rest(), 64)?),
        t if t == u32::from(MSG_EVENT) => {
            let tick = reader.u32()?;
            Control::Event { tick, bytes: reader.rest().to_vec() }
        }
        t if t == u32::from(MSG_NOTICE) => {
            Control::Notice(codec::decode_exact(reader.rest(), MAX_NOTICE_BYTES + 16)?)
        }
        t if t == u32::from(super::tags::MSG_FULL) || t == u32::from(super::tags::MSG_DELTA) => {
            return Ok(None);
        }
        tag => return Err(DecodeError::UnknownTag { tag }),
    };
    Ok(Some(control))
}
