//! The room directory in Redis: the only module that speaks Redis. Keys (all under
//! `tickwire:`):
//!
//! | key | value | lifetime |
//! | --- | --- | --- |
//! | `processes` | set of process ids | pruned of ids whose record expired |
//! | `process:{id}` | hash: `url`, `instance`, `beat` (Redis `TIME`, ms), `liveness` (ms after `beat` it counts as gone: two of its heartbeats), `max_rooms`, `capacity`, `draining` (`1`: no new room or seat here), `record` ([`ProcessRecord`] JSON) | the record TTL, renewed every heartbeat |
//! | `room:{name}` | the room's **lease**, a hash: `owner`, `instance`, `epoch`, `players` (places held), `capacity` | the record TTL (the claim TTL while only claimed) |
//! | `rooms:{id}` | set of the room names leased to a process (its load) | pruned as leases move |
//! | `seats:{name}` | sorted set: live seat tokens of the room, scored by expiry (ms) | the claim TTL |
//! | `seat:{token}` | `{process} {room} {epoch}` | the seat TTL; deleted when used |
//! | `epoch` | the fencing counter; only grows | none |
//! | `directory` | set once the directory has been written; missing after Redis lost its data | none |
//! | `recovering` | present for one record TTL after a process found `directory` missing | the record TTL |
//!
//! Every write goes through one Lua script (`lua/`), so that each decision is atomic
//! across processes: a lease is taken or renewed only if it is missing (or its holder is
//! gone) or holds this process's owner, instance and epoch, never by an unconditional `SET`;
//! a seat is granted only while capacity − players − live seats > 0. Every call is bounded by
//! [`OP_TIMEOUT`]: a Redis that is away is an error at once, never a hang (running rooms do
//! not wait on Redis at all).

use super::ClusterConfig;
use crate::net::http::RoomInfo;
use crate::rooms::DEFAULT_ROOM;
use redis::aio::ConnectionManager;
use std::time::Duration;

/// Longest any directory operation may take before it is an error.
pub const OP_TIMEOUT: Duration = Duration::from_secs(1);

const PREFIX: &str = "tickwire:";

const PLACE: &str = include_str!("lua/place.lua");
const TAKE_SEAT: &str = include_str!("lua/take_seat.lua");
const RENEW: &str = include_str!("lua/renew.lua");
const LEAVE: &str = include_str!("lua/leave.lua");
const PROCESSES: &str = include_str!("lua/processes.lua");

/// The SHA-1 of a script in hex, as `EVALSHA` names it.
fn sha1_hex(script: &str) -> String {
    use sha1::Digest as _;
    sha1::Sha1::digest(script.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// What the directory knows of one process, as `GET /rooms` shows it.
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
    /// Issued for another process (the seat is left for it).
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
    /// Issued under a lease this process no longer holds (the room moved).
    #[error("seat is for a room this process no longer hosts: matchmake again")]
    Stale,
    /// Issued by `POST /matchmake` to another signed-in user (or to none): a seat is bound to
    /// the user it was issued to when the server authenticates (the seat is left unused).
    #[error("seat is for another user")]
    OtherUser,
    /// The directory could not be asked (closed with 1013: try again later).
    #[error("seat not checked: room directory unavailable ({0})")]
    Unchecked(String),
}

/// Why the directory placed no seat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// The room holds its capacity in players and live seats.
    #[error("room {room} is full: {players} players and {reserved} seats of {capacity} places")]
    Full {
        /// The room.
        room: String,
        /// Its capacity.
        capacity: usize,
        /// Places held by players (as of its host's last heartbeat).
        players: usize,
        /// Seats issued and not expired.
        reserved: usize,
    },
    /// Redis lost its data lately; previous owners are taking their rooms back.
    #[error("directory recovering: rooms are being re-registered, try again in a moment")]
    Recovering,
    /// No live process is registered.
    #[error("no tickwire process is registered")]
    NoProcess,
    /// Every live process runs `--max-rooms` rooms.
    #[error("no process can open another room (each runs --max-rooms)")]
    NoRoomLeft,
    /// The room's process is draining (`room` set), or every live process is (`room` empty):
    /// no new room and no seat there. The client matchmakes again, for another room.
    #[error("{}", draining_message(room))]
    Draining {
        /// The room whose process drains; empty when every live process drains.
        room: String,
    },
    /// Redis could not be asked.
    #[error("room directory unavailable: {0}")]
    Unavailable(String),
}

/// A placement granted by the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// The seat.
    pub seat: Seat,
    /// The hosting process's public URL.
    pub url: String,
    /// The epoch of the room's lease (0 for a lobby).
    pub epoch: u64,
}

/// One room in a heartbeat: what this copy holds and what it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomBeat {
    /// The room's name.
    pub name: String,
    /// The lease epoch this copy holds (0: not known yet).
    pub epoch: u64,
    /// Places held: players, sessions waiting to resume, clients being admitted.
    pub places: usize,
    /// Whether a missing lease may be taken again (the copy was not paused since it was
    /// last proven).
    pub may_retake: bool,
    /// Seats used since the last heartbeat: their players are in `places` now.
    pub used_seats: Vec<String>,
}

/// One heartbeat's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Beat {
    /// The record shown by `GET /rooms`.
    pub record: ProcessRecord,
    /// Most rooms the process opens, the lobby included.
    pub max_rooms: usize,
    /// Players a room holds at most.
    pub capacity: usize,
    /// Whether this process registered successfully before (a directory found empty then
    /// means Redis lost its data).
    pub registered_before: bool,
    /// Whether the process is draining: matchmaking opens no room and grants no seat on it.
    pub draining: bool,
    /// The rooms whose leases to renew.
    pub rooms: Vec<RoomBeat>,
}

/// What a heartbeat found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// Registered; per room of the beat, the lease epoch now held, `None` for a lease lost.
    Renewed {
        /// The directory is recovering from a loss of its data.
        recovering: bool,
        /// Per room, in the beat's order.
        epochs: Vec<Option<u64>>,
    },
    /// Another live instance holds this process id.
    Duplicate {
        /// Its instance token.
        instance: String,
    },
}

/// The directory, through one multiplexed connection that reconnects by itself.
#[derive(Clone)]
pub struct Store {
    redis: ConnectionManager,
    process: String,
    instance: String,
    url: String,
    record_ttl: Duration,
    seat_ttl: Duration,
    liveness: Duration,
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
    /// A store for `config.redis_url`, acting for this process's `instance` (a token unique
    /// to this run); connects on first use and reconnects after a loss.
    pub fn open(config: &ClusterConfig, instance: &str) -> Result<Store, String> {
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
        Ok(Store {
            redis,
            process: config.process_id.clone(),
            instance: instance.to_owned(),
            url: config.public_url.clone(),
            record_ttl: config.record_ttl,
            seat_ttl: config.seat_ttl,
            liveness: config.liveness(),
        })
    }

    /// How long a new lease lasts before its process's heartbeat renews it: time enough for
    /// the seat's client to open the room there.
    fn claim_ttl(&self) -> Duration {
        self.record_ttl.max(self.seat_ttl)
    }

    /// Runs `script` by its SHA-1; sends it whole only when Redis does not know it yet (its
    /// first use, or after Redis restarted), which also loads it for the next calls.
    async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &str,
        args: &[String],
    ) -> Result<T, String> {
        let mut redis = self.redis.clone();
        let mut call = redis::cmd("EVALSHA");
        call.arg(sha1_hex(script)).arg(0).arg(PREFIX).arg(args);
        let no_script = redis::ErrorKind::Server(redis::ServerErrorKind::NoScript);
        match tokio::time::timeout(OP_TIMEOUT, call.query_async(&mut redis)).await {
            Ok(Err(error)) if error.kind() == no_script => {
                let mut call = redis::cmd("EVAL");
                call.arg(script).arg(0).arg(PREFIX).arg(args);
                bounded(call.query_async(&mut redis)).await
            }
            Ok(result) => result.map_err(|error| error.to_string()),
            Err(_) => Err(format!("no answer within {} ms", OP_TIMEOUT.as_millis())),
        }
    }

    /// One heartbeat: writes the record and renews the leases of `beat.rooms`.
    pub async fn renew(&self, beat: &Beat) -> Result<Renewal, String> {
        let json = serde_json::to_string(&beat.record).map_err(|e| e.to_string())?;
        let mut args = vec![
            self.process.clone(),
            self.instance.clone(),
            self.url.clone(),
            beat.max_rooms.to_string(),
            beat.capacity.to_string(),
            json,
            millis(self.record_ttl).to_string(),
            millis(self.liveness).to_string(),
            if beat.registered_before { "1" } else { "0" }.to_owned(),
            if beat.draining { "1" } else { "0" }.to_owned(),
            beat.rooms.len().to_string(),
        ];
        for room in &beat.rooms {
            args.push(room.name.clone());
            args.push(room.epoch.to_string());
            args.push(room.places.to_string());
            args.push(if room.may_retake { "1" } else { "0" }.to_owned());
            args.push(room.used_seats.len().to_string());
            args.extend(room.used_seats.iter().cloned());
        }
        let reply: Vec<String> = self.eval(RENEW, &args).await?;
        parse_renewal(&reply, beat.rooms.len())
    }

    /// Removes this instance's record and the leases it holds (a clean shutdown).
    pub async fn deregister(&self) -> Result<(), String> {
        let args = [self.process.clone(), self.instance.clone()];
        self.eval::<i64>(LEAVE, &args).await.map(drop)
    }

    /// Every live process's record, by id.
    pub async fn processes(&self) -> Result<Vec<ProcessRecord>, String> {
        let reply: Vec<String> = self.eval(PROCESSES, &[millis(self.liveness).to_string()]).await?;
        let mut live: Vec<ProcessRecord> =
            reply.iter().filter_map(|json| serde_json::from_str(json).ok()).collect();
        live.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(live)
    }

    /// A seat in `room` (any room with a free place when `None`; `fresh` names the room a
    /// quick match opens when none has one), its lease claimed first if nobody live holds it.
    pub async fn place(&self, room: Option<&str>, fresh: &str) -> Result<Granted, PlaceError> {
        let token = seat_token().map_err(PlaceError::Unavailable)?;
        let args = [
            room.unwrap_or("").to_owned(),
            fresh.to_owned(),
            token.clone(),
            millis(self.seat_ttl).to_string(),
            millis(self.liveness).to_string(),
            millis(self.claim_ttl()).to_string(),
            DEFAULT_ROOM.to_owned(),
        ];
        let reply: Vec<String> = self.eval(PLACE, &args).await.map_err(PlaceError::Unavailable)?;
        parse_placement(&reply, token)
    }

    /// Binds seat `token` to `user_id` for the seat's lifetime (`seatuser:{token}`), so that
    /// only that user's `/ws` may present it. Written after the seat and before its URL is
    /// handed out.
    pub async fn bind_seat(&self, token: &str, user_id: &str) -> Result<(), String> {
        let mut redis = self.redis.clone();
        let mut call = redis::cmd("SET");
        call.arg(format!("{PREFIX}seatuser:{token}")).arg(user_id);
        call.arg("PX").arg(millis(self.seat_ttl));
        bounded(call.query_async::<()>(&mut redis)).await
    }

    /// The user seat `token` is bound to, if any ([`Store::bind_seat`]).
    pub async fn seat_user(&self, token: &str) -> Result<Option<String>, String> {
        let mut redis = self.redis.clone();
        let mut call = redis::cmd("GET");
        call.arg(format!("{PREFIX}seatuser:{token}"));
        bounded(call.query_async::<Option<String>>(&mut redis)).await
    }

    /// Takes the seat `token` for `room` on this process: checked before it is deleted, so a
    /// seat for another process or room is left unused. `Ok` holds the lease epoch.
    pub async fn take_seat(&self, token: &str, room: &str) -> Result<u64, SeatRefusal> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SeatRefusal::Unknown);
        }
        let args = [
            token.to_owned(),
            self.process.clone(),
            self.instance.clone(),
            room.to_owned(),
            DEFAULT_ROOM.to_owned(),
            millis(self.record_ttl).to_string(),
        ];
        let reply: Vec<String> =
            self.eval(TAKE_SEAT, &args).await.map_err(SeatRefusal::Unchecked)?;
        parse_seat(&reply)
    }
}

fn bad_reply(reply: &[String]) -> String {
    format!("unexpected reply from the directory: {reply:?}")
}

fn number<T: std::str::FromStr>(reply: &[String], index: usize) -> Result<T, String> {
    reply.get(index).and_then(|v| v.parse().ok()).ok_or_else(|| bad_reply(reply))
}

/// Reads `renew.lua`'s reply for a beat of `rooms` rooms.
fn parse_renewal(reply: &[String], rooms: usize) -> Result<Renewal, String> {
    match reply.first().map(String::as_str) {
        Some("duplicate") => {
            Ok(Renewal::Duplicate { instance: reply.get(1).cloned().unwrap_or_default() })
        }
        Some("ok") if reply.len() == rooms + 2 => Ok(Renewal::Renewed {
            recovering: reply[1] == "1",
            epochs: (2..reply.len())
                .map(|i| number::<u64>(reply, i).map(|e| (e > 0).then_some(e)))
                .collect::<Result<_, _>>()?,
        }),
        _ => Err(bad_reply(reply)),
    }
}

fn draining_message(room: &str) -> String {
    if room.is_empty() {
        "every live process is draining: no new room can open".to_owned()
    } else {
        format!("room {room} is on a draining process: it takes no new players")
    }
}

/// Reads `place.lua`'s reply; `token` is the seat it was asked to grant.
fn parse_placement(reply: &[String], token: String) -> Result<Granted, PlaceError> {
    let bad = |_| PlaceError::Unavailable(bad_reply(reply));
    match reply.first().map(String::as_str) {
        Some("ok") if reply.len() == 5 => Ok(Granted {
            seat: Seat { token, process: reply[1].clone(), room: reply[3].clone() },
            url: reply[2].clone(),
            epoch: number(reply, 4).map_err(bad)?,
        }),
        Some("full") if reply.len() == 5 => Err(PlaceError::Full {
            room: reply[1].clone(),
            capacity: number(reply, 2).map_err(bad)?,
            players: number(reply, 3).map_err(bad)?,
            reserved: number(reply, 4).map_err(bad)?,
        }),
        Some("recovering") => Err(PlaceError::Recovering),
        Some("none") => Err(PlaceError::NoProcess),
        Some("no_room_left") => Err(PlaceError::NoRoomLeft),
        Some("draining") if reply.len() == 2 => {
            Err(PlaceError::Draining { room: reply[1].clone() })
        }
        _ => Err(PlaceError::Unavailable(bad_reply(reply))),
    }
}

/// Reads `take_seat.lua`'s reply.
fn parse_seat(reply: &[String]) -> Result<u64, SeatRefusal> {
    let field = |i: usize| reply.get(i).cloned().unwrap_or_default();
    match reply.first().map(String::as_str) {
        Some("ok") => number(reply, 1).map_err(SeatRefusal::Unchecked),
        Some("foreign") => Err(SeatRefusal::Foreign { process: field(1) }),
        Some("other_room") => Err(SeatRefusal::OtherRoom { room: field(1) }),
        Some("stale") => Err(SeatRefusal::Stale),
        Some("unknown") => Err(SeatRefusal::Unknown),
        _ => Err(SeatRefusal::Unchecked(bad_reply(reply))),
    }
}

/// 128 bits from the operating system's random source, as 32 hex digits.
fn seat_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random source for a seat: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn scripts_are_named_by_their_sha1() {
        assert_eq!(sha1_hex("return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }

    #[test]
    fn renewals_read_kept_lost_and_duplicate() {
        let reply = strings(&["ok", "1", "7", "0"]);
        let renewal = parse_renewal(&reply, 2).expect("parses");
        assert_eq!(renewal, Renewal::Renewed { recovering: true, epochs: vec![Some(7), None] });
        let duplicate = parse_renewal(&strings(&["duplicate", "abc"]), 0).expect("parses");
        assert_eq!(duplicate, Renewal::Duplicate { instance: "abc".into() });
        assert!(parse_renewal(&strings(&["ok", "0", "7"]), 2).is_err(), "one epoch short");
        assert!(parse_renewal(&strings(&["ok", "0", "x"]), 1).is_err());
    }

    #[test]
    fn placements_read_seats_and_refusals() {
        let ok = strings(&["ok", "a", "ws://a", "duel", "3"]);
        let granted = parse_placement(&ok, "t".into()).expect("granted");
        assert_eq!(
            (granted.seat.process.as_str(), granted.url.as_str(), granted.epoch),
            ("a", "ws://a", 3)
        );
        let full = parse_placement(&strings(&["full", "duel", "4", "3", "1"]), "t".into());
        let expected =
            PlaceError::Full { room: "duel".into(), capacity: 4, players: 3, reserved: 1 };
        assert_eq!(full, Err(expected.clone()));
        assert_eq!(expected.to_string(), "room duel is full: 3 players and 1 seats of 4 places");
        assert_eq!(
            parse_placement(&strings(&["recovering"]), "t".into()),
            Err(PlaceError::Recovering)
        );
        let draining = parse_placement(&strings(&["draining", "duel"]), "t".into());
        assert_eq!(draining, Err(PlaceError::Draining { room: "duel".into() }));
        let all = PlaceError::Draining { room: String::new() };
        assert_eq!(parse_placement(&strings(&["draining", ""]), "t".into()), Err(all.clone()));
        assert_eq!(all.to_string(), "every live process is draining: no new room can open");
        assert!(matches!(
            parse_placement(&strings(&["?"]), "t".into()),
            Err(PlaceError::Unavailable(_))
        ));
    }

    #[test]
    fn seats_read_epochs_and_refusals() {
        assert_eq!(parse_seat(&strings(&["ok", "9"])), Ok(9));
        assert_eq!(
            parse_seat(&strings(&["foreign", "b"])),
            Err(SeatRefusal::Foreign { process: "b".into() })
        );
        assert_eq!(parse_seat(&strings(&["stale", "2"])), Err(SeatRefusal::Stale));
        assert!(matches!(parse_seat(&strings(&[])), Err(SeatRefusal::Unchecked(_))));
    }
}
