//! What the admin API asks of a room's tick, through the room's inbox
//! ([`crate::net::inbox::Event::Admin`]); the tick answers on the oneshot it is given.

use tokio::sync::oneshot;

/// Longest operator reason accepted, in bytes: a close reason is at most 123 bytes, and
/// "room closed by the operator: " takes 29 of them.
pub const MAX_OPERATOR_REASON_BYTES: usize = 90;

/// One request to a room's tick.
#[derive(Debug)]
pub enum Command {
    /// Close a client with 4009 and `reason`, and remove its entity; answers whether the
    /// client was in the room.
    Kick {
        /// The connection's id.
        client_id: u32,
        /// The full close reason.
        reason: String,
        /// The answer.
        reply: oneshot::Sender<bool>,
    },
    /// Close every client with 4010 and `reason`, remove their entities and drop the
    /// sessions waiting to be resumed; answers how many clients were closed.
    Close {
        /// The full close reason.
        reason: String,
        /// The answer.
        reply: oneshot::Sender<usize>,
    },
    /// Send every client of the room an operator's notice ([`crate::protocol::Notice`]) with
    /// `text`; answers how many it was queued for.
    Notice {
        /// The operator's text.
        text: String,
        /// The answer.
        reply: oneshot::Sender<usize>,
    },
    /// List the room's clients.
    Clients {
        /// The answer.
        reply: oneshot::Sender<Vec<ClientRow>>,
    },
}

/// One client of a room, as the console lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClientRow {
    /// The connection's id (what a kick names).
    pub client_id: u32,
    /// The `name` it joined with (`/ws?name=`), if any.
    pub name: Option<String>,
    /// Its user id when it joined with an identity; `null` for a guest.
    pub user_id: Option<String>,
    /// Its own entity's network id.
    pub entity: u32,
    /// Round-trip time in milliseconds: `null`, as the server does not time it (a client
    /// times its own pings).
    pub rtt_ms: Option<f64>,
    /// The running mean of how long its inputs waited for their tick, in milliseconds
    /// (`null` before its first input).
    pub input_lead_ms: Option<f64>,
    /// Consecutive snapshots it left unread (0 for a client that keeps up).
    pub lag_ticks: u32,
    /// Snapshot bytes handed to its connection since it joined.
    pub bytes: u64,
    /// Snapshots per second handed to its connection, averaged since it joined.
    pub snapshots_per_second: f64,
    /// Seconds since it joined.
    pub connected_seconds: f64,
}
