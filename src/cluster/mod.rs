//! Scale out: many tickwire processes, on one machine or many, share one room directory in
//! Redis; any of them matchmakes a client to the process that hosts (or will host) its room.
//!
//! - [`store`]: the directory's records in Redis (processes, room leases, seats) and the
//!   atomic operations on them (Lua scripts in `lua/`). The only module that speaks Redis.
//! - [`heartbeat`]: every heartbeat registers this process and renews its rooms' leases;
//!   a lease found lost closes that room's copy (4008); a pause fences the rooms until
//!   proven (see [`crate::rooms::Fence`]); deregisters on a clean shutdown.
//! - [`admission`]: clients between their seat and their place, so no place is free twice.
//! - [`matchmake`]: `POST /matchmake` and the cluster-wide `GET /rooms`.
//! - [`agones`]: the Agones SDK's REST gateway (address, Ready, Health, Allocate, Counters,
//!   Shutdown).
//! - [`http_client`]: the few HTTP/1.1 requests the above make (the sidecar, the bots).
//! - [`redis_client`]: the directory's Redis client (`rediss://`, password, CA file).
//!
//! Nothing here runs a room or touches a game socket: a process sees its own rooms only
//! through [`Local`], and `/ws` only asks [`store::Store::take_seat`]. Without `--redis` none
//! of this runs and a process serves alone, as it always did.
//!
//! The invariant kept: a room name is live on at most one process at any instant, give or
//! take one heartbeat during which the old copy is closing (`docs/scale-out.md`).

pub mod admission;
pub mod agones;
pub mod heartbeat;
pub mod http_client;
pub mod matchmake;
pub mod redis_client;
pub mod store;

use crate::net::http::RoomInfo;
use crate::rooms::{Fence, RoomStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

pub use agones::AgonesConfig;
pub use redis_client::RedisClientError;
pub use store::{PlaceError, Seat, SeatRefusal, Store};

/// The query parameter of `/ws` that carries a seat token.
pub const SEAT_PARAM: &str = "seat";

/// Default time between two heartbeats.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(1);

/// Default lifetime of a heartbeat's records: five heartbeats, so a process survives a few
/// lost ones (a Redis failover, a GC pause of the host) but a dead one is gone in 5 s.
pub const DEFAULT_RECORD_TTL: Duration = Duration::from_secs(5);

/// Heartbeats a process may miss before matchmaking treats it as gone and its rooms as
/// reclaimable; also the longest pause a process may take without fencing its rooms.
pub const LIVENESS_HEARTBEATS: u32 = 2;

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

    /// How long after its last beat a process counts as gone: [`LIVENESS_HEARTBEATS`]
    /// heartbeats.
    pub fn liveness(&self) -> Duration {
        self.heartbeat * LIVENESS_HEARTBEATS
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
    /// The open rooms' shared state, whose leases the heartbeat renews (and marks lost).
    pub statuses: Box<dyn Fn() -> Vec<Arc<RoomStatus>> + Send + Sync>,
    /// `Err` naming the stalled rooms when one room's tick stalled (what `/healthz` checks).
    pub health: Box<dyn Fn() -> Result<(), String> + Send + Sync>,
    /// Most rooms this process opens, the lobby included (`--max-rooms`).
    pub max_rooms: usize,
    /// Players a room holds at most (`--room-capacity`).
    pub capacity: usize,
    /// The rooms' fence: a pause seen anywhere in the process holds them.
    pub fence: Arc<Fence>,
    /// Told after each heartbeat whether the directory answered (the metrics count the
    /// heartbeats it did not, in a row).
    pub beat: Box<dyn Fn(bool) + Send + Sync>,
    /// Whether this process drains (an operator's drain or a shutdown under way): the
    /// heartbeat marks its record so matchmaking routes around it, and under Agones it
    /// allocates no more and sets its counters' capacity to their count (no room left).
    pub draining: Box<dyn Fn() -> bool + Send + Sync>,
}

/// Whether this process takes new players, as `/readyz` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Readiness {
    /// The last heartbeat reached the directory.
    Ready = 0,
    /// The last heartbeat did not reach Redis.
    Unreachable = 1,
    /// Redis lost its data lately; rooms are being taken back by their owners.
    Recovering = 2,
    /// Another live instance holds this process id.
    Duplicate = 3,
}

impl Readiness {
    /// `Err` with the `/readyz` reason unless ready.
    pub fn check(self) -> Result<(), &'static str> {
        match self {
            Readiness::Ready => Ok(()),
            Readiness::Unreachable => Err("not accepting new players: room directory unreachable"),
            Readiness::Recovering => Err("not accepting new players: room directory recovering"),
            Readiness::Duplicate => {
                Err("not accepting new players: another live process has this process id")
            }
        }
    }
}

/// Shared by the routes and the background tasks of a clustered process.
pub struct Cluster {
    /// The configuration.
    pub config: ClusterConfig,
    /// This run's instance token: tells this process from another started with its id.
    pub instance: String,
    /// The directory.
    pub store: Store,
    /// This process's rooms.
    pub local: Arc<Local>,
    /// Clients between their seat and their place.
    pub admissions: admission::Admissions,
    readiness: AtomicU8,
}

impl Cluster {
    /// Opens the directory (lazily: a Redis that is not up yet is retried by the heartbeats).
    pub fn new(config: ClusterConfig, local: Arc<Local>) -> Result<Arc<Cluster>, String> {
        config.validate()?;
        let instance = random_id();
        let store = Store::open(&config, &instance)?;
        let admissions = admission::Admissions::default();
        let readiness = AtomicU8::new(Readiness::Unreachable as u8);
        Ok(Arc::new(Cluster { config, instance, store, local, admissions, readiness }))
    }

    /// The rooms' fence.
    pub fn local_fence(&self) -> &Fence {
        &self.local.fence
    }

    /// Whether this process takes new players.
    pub fn readiness(&self) -> Readiness {
        match self.readiness.load(Ordering::Acquire) {
            0 => Readiness::Ready,
            2 => Readiness::Recovering,
            3 => Readiness::Duplicate,
            _ => Readiness::Unreachable,
        }
    }

    /// Notes what the last heartbeat found.
    pub fn set_readiness(&self, readiness: Readiness) {
        self.readiness.store(readiness as u8, Ordering::Release);
    }

    /// This process's record, as `GET /rooms` shows it: its live rooms only (not those held
    /// after a pause or closing for a lost lease).
    pub fn record(&self) -> store::ProcessRecord {
        let fence = self.local_fence();
        let live: Vec<String> = (self.local.statuses)()
            .iter()
            .filter(|room| fence.live(room))
            .map(|room| room.name.clone())
            .collect();
        let mut rooms = (self.local.rooms)();
        rooms.retain(|room| live.contains(&room.name));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_says_why_no_new_player_is_taken() {
        assert_eq!(Readiness::Ready.check(), Ok(()));
        let unreachable = Readiness::Unreachable.check();
        assert_eq!(unreachable, Err("not accepting new players: room directory unreachable"));
        assert!(Readiness::Recovering.check().is_err_and(|r| r.ends_with("recovering")));
    }

    #[test]
    fn a_process_is_gone_after_two_heartbeats() {
        let mut config = ClusterConfig::new("redis://127.0.0.1", "ws://127.0.0.1:1");
        config.heartbeat = Duration::from_millis(250);
        assert_eq!(config.liveness(), Duration::from_millis(500));
    }
}
