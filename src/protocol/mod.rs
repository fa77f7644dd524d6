//! Wire types and their one bincode configuration.
//!
//! Owns everything a client in another language must agree on: the message enums, the
//! bincode settings, fixed-point scales, the varint helpers the snapshot assembler uses, and
//! the close codes. It knows nothing of the simulation: `sim/` components are converted into
//! these types by `replication/`. `docs/protocol.md` describes the same bytes in prose and
//! `client-demo/protocol.js` mirrors this module field for field.

mod close;
mod codec;
mod messages;
pub mod varint;

pub use close::CloseCode;
pub use codec::{DecodeError, decode_client, decode_server, encode, encode_into};
pub use messages::{
    ClientMessage, DeltaSnapshot, EntityKind, EntityState, FullSnapshot, Input, MovementParams, Op,
    Ping, Pong, ServerMessage, Welcome,
};

/// Version carried in the welcome message; bumped on any incompatible wire change.
pub const PROTOCOL_VERSION: u16 = 1;

/// The WebSocket subprotocol a client must offer in `Sec-WebSocket-Protocol`.
pub const SUBPROTOCOL: &str = "tickwire.v1";

/// Fixed-point scale of positions and radii: one world unit is this many wire units (1/64).
pub const POSITION_SCALE: f32 = 64.0;

/// Fixed-point scale of velocities: one world unit per second is this many wire units.
pub const VELOCITY_SCALE: f32 = 64.0;

/// Largest client message the server decodes; an input frame is at most 9 bytes.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 64;

/// Input button bit: boost (faster acceleration and a higher speed cap).
pub const BUTTON_BOOST: u8 = 1;

/// Longest player name in characters, after control characters are stripped.
pub const MAX_NAME_CHARS: usize = 16;
