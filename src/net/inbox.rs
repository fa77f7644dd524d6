//! Connections → tick: the events a connection sends to the world it joined.

use super::outbox::Outbox;
use crate::game::ClientInfo;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What connections tell the tick. `I` is the game's input type.
pub enum Event<I> {
    /// A connection opened: let the game spawn for it and start its snapshots.
    Join {
        /// Who joined.
        client: ClientInfo,
        /// Where its messages go.
        outbox: Arc<Outbox>,
    },
    /// One input, decoded and validated, its sequence number checked.
    Input {
        /// Connection id.
        client_id: u32,
        /// Its sequence number.
        seq: u32,
        /// The input.
        input: I,
    },
    /// The connection ended: let the game remove its entity.
    Leave {
        /// Connection id.
        client_id: u32,
    },
}

/// The sending side, one clone per connection. Bounded: inputs that find it full are dropped
/// and counted; joins and leaves wait for room.
pub type Inbox<I> = mpsc::Sender<Event<I>>;
