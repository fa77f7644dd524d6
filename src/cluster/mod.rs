//! Scale out: many tickwire processes, on one machine or many, share one room directory in
//! Redis; any of them matchmakes a client to the process that hosts (or will host) its room.
//!
//! - [`store`]: the directory's records in Redis (processes, rooms, seat tokens) and the
//!   atomic operations on them. The only module that speaks Redis.
//! - [`heartbeat`]: registers this process and its rooms every heartbeat, with a TTL, so a
//!   process that dies leaves the directory by itself; deregisters on a clean shutdown.
//! - [`matchmake`]: `POST /matchmake` and the cluster-wide `GET /rooms`.
//! - [`agones`]: the Agones SDK's REST gateway (address, Ready, Health, Allocate, Counters,
//!   Shutdown).
//! - [`http_client`]: the few HTTP/1.1 requests the above make (the sidecar, the bots).
//! - [`redis_client`]: the directory's Redis client (`rediss://`, password, CA file).
//!
//! Nothing here runs a room or touches a game socket: a process sees its own rooms only
//! through [`Local`], and `/ws` only asks [`store::Store::take_seat`]. Without `--redis` none
//! of this runs and a process serves alone, as it always did.

pub mod agones;
pub mod heartbeat;
pub mod http_client;
pub mod matchmake;
pub mod redis_client;
pub mod store;

use crate::net::http::RoomInfo;
use std::sync::Arc;
use std::time::Duration;

pub use agones::AgonesConfig;
pub use redis_client::RedisClientError;
pub use store::{Seat, SeatRefusal, Store};

/// The query parameter of `/ws` that carries a seat token.
pub const SEAT_PARAM: &str = "seat";

/// Default time between two heartbeats.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(1);

/// Default lifetime of a heartbeat's records: five heartbeats, so a process survives a few
/// lost ones (a Redis failover, a GC pause of the host) but a dead one is gone in 5 s.
pub const DEFAULT_RECORD_TTL: Duration = Duration::from_secs(5);

/// Default lifetime of a seat token: long enough for a browser to open a WebSocket on the
/// other side of the world, short enough that a leaked one is soon worthless.
pub const DEFAULT_SEAT_TTL: Duration = Duration::from_secs(10);

/// How this process takes part in a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The Redis directory, `redis://[:password@]host:port[/db]`, or `rediss://` for TLS.
    pub redis_url: String,
    /// The Redis password, if not in the URL (it wins over one there).
    pub redis_password: Option<RedisPassword>,
    /// PEM certificates of the CAs trusted for `rediss://`; `None`: the system's roots.
    pub redis_ca_file: Option<std::path::PathBuf>,
    /// This process's WebSocket address as clients reach it, `ws://host:port` (or `wss://`);
    /// matchmaking hands out `{public_url}/ws?room=…&seat=…`. Empty under Agones: read from
    /// the GameServer's address and port at start.
    pub public_url: String,
    /// This process's id in the directory; unique in the cluster.
    pub process_id: String,
    /// Time between two heartbeats. Default [`DEFAULT_HEARTBEAT`].
    pub heartbeat: Duration,
    /// Lifetime of a heartbeat's records. Default [`DEFAULT_RECORD_TTL`]; at least two
    /// heartbeats.
    pub record_ttl: Duration,
    /// Lifetime of a seat token. Default [`DEFAULT_SEAT_TTL`].
    pub seat_ttl: Duration,
}

impl ClusterConfig {
    /// A configuration with the default timings and a random process id.
    pub fn new(redis_url: impl Into<String>, public_url: impl Into<String>) -> ClusterConfig {
        ClusterConfig {
            redis_url: redis_url.into(),
            redis_password: None,
            redis_ca_file: None,
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            process_id: random_id(),
            heartbeat: DEFAULT_HEARTBEAT,
            record_ttl: DEFAULT_RECORD_TTL,
            seat_ttl: DEFAULT_SEAT_TTL,
        }
    }

    /// Checks the values a user can set; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        // Empty: read from the Agones GameServer before the cluster starts.
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(format!("public URL {}: must start with ws:// or wss://", self.public_url));
        }
        if self.process_id.is_empty()
            || self.process_id.len() > 64
            || self.process_id.contains(|c: char| c.is_whitespace() || c.is_control())
        {
            return Err(format!("process id {:?}: 1 to 64 characters, no spaces", self.process_id));
        }
        if self.heartbeat.is_zero() || self.record_ttl < self.heartbeat * 2 {
            return Err("the record TTL must be at least two (non-zero) heartbeats".into());
        }
        if self.seat_ttl < Duration::from_millis(100) {
            return Err("the seat TTL must be at least 100 ms".into());
        }
        Ok(())
    }
}

/// A Redis password: never printed (`Debug` shows `<redacted>`).
#[derive(Clone, PartialEq, Eq)]
pub struct RedisPassword(pub String);

impl std::fmt::Debug for RedisPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What the cluster side may read of this process's own rooms, without knowing the game.
pub struct Local {
    /// The open rooms, as `GET /rooms` lists them.
    pub rooms: Box<dyn Fn() -> Vec<RoomInfo> + Send + Sync>,
    /// `Err` naming the stalled rooms when one room's tick stalled (what `/healthz` checks).
    pub health: Box<dyn Fn() -> Result<(), String> + Send + Sync>,
}

/// Shared by the routes and the background tasks of a clustered process.
pub struct Cluster {
    /// The configuration.
    pub config: ClusterConfig,
    /// The directory.
    pub store: Store,
    /// This process's rooms.
    pub local: Arc<Local>,
}

impl Cluster {
    /// Opens the directory (lazily: a Redis that is not up yet is retried by the heartbeats).
    pub fn new(config: ClusterConfig, local: Arc<Local>) -> Result<Arc<Cluster>, String> {
        config.validate()?;
        let store = Store::open(&config)?;
        Ok(Arc::new(Cluster { config, store, local }))
    }

    /// This process's record, as the heartbeat writes it.
    pub fn record(&self) -> store::ProcessRecord {
        let rooms = (self.local.rooms)();
        store::ProcessRecord {
            id: self.config.process_id.clone(),
            url: self.config.public_url.clone(),
            players: rooms.iter().map(|room| room.players).sum(),
            rooms,
        }
    }
}

/// 128 random bits as 32 hex digits (seat tokens, process ids).
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: still unique enough for an id, never used for a secret (seat
        // tokens check the result themselves).
        bytes = fastrand::u128(..).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
