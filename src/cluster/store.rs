//! The room directory in Redis. Keys (all under `tickwire:`):
//!
//! | key | value | lifetime |
//! | --- | --- | --- |
//! | `processes` | set of process ids | pruned of ids whose record expired |
//! | `process:{id}` | [`ProcessRecord`] as JSON | the record TTL, renewed every heartbeat |
//! | `room:{name}` | the id of the process hosting the room | the record TTL (the seat TTL while only claimed) |
//! | `seat:{token}` | `{process id} {room}` | the seat TTL; taken once with `GETDEL` |
//!
//! A room belongs to the process whose id `room:{name}` holds. It is claimed with
//! `SET NX PX`, so of many matchmakers asking for the same new room at once exactly one
//! decides where it goes; a claim on a process that is gone is replaced by compare-and-set.
//! Every call is bounded by [`OP_TIMEOUT`]: a Redis that is away is an error at once, never a
//! hang (running rooms do not wait on Redis at all).

use super::ClusterConfig;
use crate::net::http::RoomInfo;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, ExistenceCheck, SetExpiry, SetOptions};
use std::time::Duration;

/// Longest any directory operation may take before it is an error.
pub const OP_TIMEOUT: Duration = Duration::from_secs(1);

const PREFIX: &str = "tickwire:";

/// Replaces `KEYS[1]` by `ARGV[2]` (for `ARGV[3]` ms) only if it still holds `ARGV[1]`.
const COMPARE_AND_SET: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return false end";

/// What the directory knows of one process.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProcessRecord {
    /// Its id.
    pub id: String,
    /// Its public WebSocket address, `ws://host:port`.
    pub url: String,
    /// Players in all its rooms.
    pub players: usize,
    /// Its open rooms.
    pub rooms: Vec<RoomInfo>,
}

/// A seat: a place reserved for one client in one room on one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// The token the client presents (`/ws?seat=TOKEN`): 128 random bits in hex.
    pub token: String,
    /// The process hosting the room.
    pub process: String,
    /// The room.
    pub room: String,
}

/// Why `/ws` refused a seat (close code 4007 but for `Unchecked`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatRefusal {
    /// No `seat` parameter.
    #[error("a seat is required: get one from POST /matchmake")]
    Missing,
    /// Unknown to the directory: never issued, used already, or expired.
    #[error("seat unknown, used or expired: get a new one from POST /matchmake")]
    Unknown,
    /// Issued for another process.
    #[error("seat is for process {process}, not this one")]
    Foreign {
        /// The process it is for.
        process: String,
    },
    /// Issued for another room.
    #[error("seat is for room {room}")]
    OtherRoom {
        /// The room it is for.
        room: String,
    },
    /// The directory could not be asked (closed with 1013: try again later).
    #[error("seat not checked: room directory unavailable ({0})")]
    Unchecked(String),
}

/// The directory, through one multiplexed connection that reconnects by itself.
#[derive(Clone)]
pub struct Store {
    redis: ConnectionManager,
    record_ttl: Duration,
    seat_ttl: Duration,
}

fn key(kind: &str, name: &str) -> String {
    format!("{PREFIX}{kind}:{name}")
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis().try_into().unwrap_or(u64::MAX).max(1)
}

/// Runs one directory call under [`OP_TIMEOUT`]; the error is a sentence.
async fn bounded<T>(call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, String> {
    match tokio::time::timeout(OP_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} ms", OP_TIMEOUT.as_millis())),
    }
}

impl Store {
    /// A store for `config.redis_url`; connects on first use and reconnects after a loss.
    pub fn open(config: &ClusterConfig) -> Result<Store, String> {
        let client = super::redis_client::client(config).map_err(|e| e.to_string())?;
        // Few fast retries: a call that cannot reach Redis fails in well under OP_TIMEOUT,
        // and the next heartbeat tries again.
        let options = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(300)))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        let redis = ConnectionManager::new_lazy_with_config(client, options).map_err(|e| {
            format!("redis {}: {e}", super::redis_client::redacted(&config.redis_url))
        })?;
        Ok(Store { redis, record_ttl: config.record_ttl, seat_ttl: config.seat_ttl })
    }

    /// Writes `record` and one `room:` key per room, all with the record TTL, in one round
    /// trip.
    pub async fn register(&self, record: &ProcessRecord) -> Result<(), String> {
        let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
        let ttl = millis(self.record_ttl);
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(key("process", &record.id)).arg(json).arg("PX").arg(ttl).ignore();
        pipe.cmd("SADD").arg(format!("{PREFIX}processes")).arg(&record.id).ignore();
        for room in claimable(&record.rooms) {
            pipe.cmd("SET").arg(key("room", &room.name)).arg(&record.id).arg("PX").arg(ttl);
            pipe.ignore();
        }
        let mut redis = self.redis.clone();
        bounded(pipe.query_async::<()>(&mut redis)).await
    }

    /// Removes `record` and the rooms it lists (that still point at it) from the directory.
    pub async fn deregister(&self, record: &ProcessRecord) -> Result<(), String> {
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(key("process", &record.id)).ignore();
        pipe.cmd("SREM").arg(format!("{PREFIX}processes")).arg(&record.id).ignore();
        for room in claimable(&record.rooms) {
            let script =
                "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end";
            pipe.cmd("EVAL").arg(script).arg(1).arg(key("room", &room.name)).arg(&record.id);
            pipe.ignore();
        }
        let mut redis = self.redis.clone();
        bounded(pipe.query_async::<()>(&mut redis)).await
    }

    /// Every live process; ids whose record expired are pruned from the set.
    pub async fn processes(&self) -> Result<Vec<ProcessRecord>, String> {
        let mut redis = self.redis.clone();
        let set = format!("{PREFIX}processes");
        let ids: Vec<String> = bounded(redis.smembers(&set)).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| key("process", id)).collect();
        let values: Vec<Option<String>> = bounded(redis.mget(&keys)).await?;
        let mut live = Vec::with_capacity(ids.len());
        for (id, value) in ids.iter().zip(values) {
            match value.and_then(|json| serde_json::from_str::<ProcessRecord>(&json).ok()) {
                Some(record) => live.push(record),
                None => bounded(redis.srem::<_, _, ()>(&set, id)).await?,
            }
        }
        live.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(live)
    }

    /// The process the room belongs to, if any claims it.
    pub async fn owner(&self, room: &str) -> Result<Option<String>, String> {
        let mut redis = self.redis.clone();
        bounded(redis.get(key("room", room))).await
    }

    /// Claims `room` for `process` if nobody has; the owner after the call (`process` if the
    /// claim won). A claim lasts the longer of the record and seat TTLs, time enough for the
    /// seat's client to open the room there.
    pub async fn claim(&self, room: &str, process: &str) -> Result<String, String> {
        let ttl = millis(self.record_ttl.max(self.seat_ttl));
        let mut redis = self.redis.clone();
        // A claim that expires between our SET and GET is rare; a few rounds settle it.
        for _ in 0..3 {
            let options = SetOptions::default()
                .conditional_set(ExistenceCheck::NX)
                .with_expiration(SetExpiry::PX(ttl));
            let set: Option<String> =
                bounded(redis.set_options(key("room", room), process, options)).await?;
            if set.is_some() {
                self.note_claim(process, room).await?;
                return Ok(process.to_owned());
            }
            if let Some(owner) = self.owner(room).await? {
                return Ok(owner);
            }
        }
        Err(format!("room {room}: its claim keeps changing"))
    }

    /// Notes `room` as claimed lately for `process`, for the record TTL: until its heartbeat
    /// lists the room, the process's record does not show it, and without the note every
    /// room claimed within one heartbeat would go to the same "least-loaded" process.
    async fn note_claim(&self, process: &str, room: &str) -> Result<(), String> {
        let mut redis = self.redis.clone();
        let key = key("claims", process);
        let mut pipe = redis::pipe();
        pipe.sadd(&key, room).ignore().pexpire(&key, millis(self.record_ttl) as i64).ignore();
        bounded(pipe.query_async::<()>(&mut redis)).await
    }

    /// For each process, the rooms claimed for it that its record does not list yet.
    pub async fn pending_rooms(&self, processes: &[ProcessRecord]) -> Result<Vec<usize>, String> {
        let mut redis = self.redis.clone();
        let mut pending = Vec::with_capacity(processes.len());
        for process in processes {
            let claimed: Vec<String> = bounded(redis.smembers(key("claims", &process.id))).await?;
            let listed = |room: &String| process.rooms.iter().any(|r| &r.name == room);
            pending.push(claimed.iter().filter(|room| !listed(room)).count());
        }
        Ok(pending)
    }

    /// Moves `room` from `dead` (a process no longer registered) to `process`, unless another
    /// matchmaker moved it first; the owner after the call.
    pub async fn reclaim(&self, room: &str, dead: &str, process: &str) -> Result<String, String> {
        let ttl = millis(self.record_ttl.max(self.seat_ttl));
        let mut redis = self.redis.clone();
        let mut call = redis::cmd("EVAL");
        call.arg(COMPARE_AND_SET).arg(1).arg(key("room", room)).arg(dead).arg(process).arg(ttl);
        let replaced: Option<String> = bounded(call.query_async(&mut redis)).await?;
        if replaced.is_some() {
            self.note_claim(process, room).await?;
            return Ok(process.to_owned());
        }
        self.claim(room, process).await
    }

    /// Issues a seat for `room` on `process`, valid for the seat TTL.
    pub async fn issue_seat(&self, process: &str, room: &str) -> Result<Seat, String> {
        let token = seat_token()?;
        let mut redis = self.redis.clone();
        let value = format!("{process} {room}");
        let ttl = millis(self.seat_ttl);
        bounded(redis.pset_ex::<_, _, ()>(key("seat", &token), value, ttl)).await?;
        Ok(Seat { token, process: process.to_owned(), room: room.to_owned() })
    }

    /// Takes the seat `token` (it cannot be used again) and checks it is for `room` on
    /// `process`.
    pub async fn take_seat(
        &self,
        token: &str,
        process: &str,
        room: &str,
    ) -> Result<(), SeatRefusal> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SeatRefusal::Unknown);
        }
        let mut redis = self.redis.clone();
        let value: Option<String> =
            bounded(redis.get_del(key("seat", token))).await.map_err(SeatRefusal::Unchecked)?;
        let value = value.ok_or(SeatRefusal::Unknown)?;
        let (for_process, for_room) = value.split_once(' ').ok_or(SeatRefusal::Unknown)?;
        if for_process != process {
            return Err(SeatRefusal::Foreign { process: for_process.to_owned() });
        }
        if for_room != room {
            return Err(SeatRefusal::OtherRoom { room: for_room.to_owned() });
        }
        Ok(())
    }
}

/// The rooms that have a `room:` key: all but the lobby, which every process has its own of.
fn claimable(rooms: &[RoomInfo]) -> impl Iterator<Item = &RoomInfo> {
    rooms.iter().filter(|room| room.name != crate::rooms::DEFAULT_ROOM)
}

/// 128 bits from the operating system's random source, as 32 hex digits.
fn seat_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random source for a seat: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
