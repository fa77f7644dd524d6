//! Connections → tick: the events a connection sends to the world it joined.

use super::outbox::Outbox;
use crate::game::{ClientInfo, Game, GameInput, GameMessage};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What travels from a game's clients to its tick: its input and message types.
pub trait Wire: Send + Sync + 'static {
    /// The game's input.
    type Input: GameInput;
    /// The game's client messages.
    type Message: GameMessage;
}

impl<I: GameInput, M: GameMessage> Wire for (I, M) {
    type Input = I;
    type Message = M;
}

/// The [`Wire`] of game `G`.
pub type WireOf<G> = (<G as Game>::Input, <G as Game>::Message);

/// A resume token: the 128 random bits of [`crate::protocol::Welcome::resume_token`].
pub type ResumeToken = [u8; 16];

/// What connections tell the tick.
pub enum Event<W: Wire> {
    /// A connection opened: let the game spawn for it and start its snapshots.
    Join {
        /// Who joined.
        client: ClientInfo,
        /// Where its messages go.
        outbox: Arc<Outbox>,
        /// The token it presented to resume a session, if any.
        resume: Option<ResumeToken>,
    },
    /// One input, decoded and validated, its sequence number checked.
    Input {
        /// Connection id.
        client_id: u32,
        /// Its sequence number.
        seq: u32,
        /// The input.
        input: W::Input,
        /// When the server read it off the socket: how early it came for its tick.
        received: std::time::Instant,
    },
    /// One of the game's messages, decoded and validated.
    Message {
        /// Connection id.
        client_id: u32,
        /// The message.
        message: W::Message,
    },
    /// The connection ended: let the game remove its entity.
    Leave {
        /// Connection id.
        client_id: u32,
        /// Whether the session may be resumed: the connection dropped. A client that said
        /// goodbye (a close frame with 1000) left on purpose and its entity goes at once.
        resumable: bool,
    },
    /// An operator's command from the admin API.
    Admin(crate::admin::Command),
}

/// The sending side, one clone per connection. Bounded: inputs that find it full are dropped
/// and counted; joins and leaves wait for room.
pub type Inbox<W> = mpsc::Sender<Event<W>>;
