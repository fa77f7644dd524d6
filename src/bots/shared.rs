//! What every bot of a load run shares: the plan (URL, pattern, the measurement window)
//! and the recorders (histograms, live counters, the cross-replica check).
//!
//! Recording is lock-free except for the replica check, which takes a mutex once per bot
//! every [`CHECK_EVERY_SECONDS`].

use super::game::GameSpec;
use super::histogram::Histogram;
use super::pattern::Pattern;
use crate::replication::Replica;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Latency and interval histograms count 0.1 ms buckets.
pub const TIME_BUCKET_US: u64 = 100;
/// Input-to-snapshot latency and ping round trips up to 1 s; beyond is overflow.
const LATENCY_BUCKETS: usize = 10_000;
/// Snapshot inter-arrival times up to 2 s.
const INTERVAL_BUCKETS: usize = 20_000;
/// Snapshot sizes, one bucket per byte up to 64 KiB.
const SIZE_BUCKETS: usize = 64 * 1024;
/// Prediction corrections count 1/1000-unit buckets up to 100 units.
pub const CORRECTION_BUCKETS: usize = 100_000;
/// How often the replicas are compared with each other, in seconds of server ticks.
pub const CHECK_EVERY_SECONDS: u32 = 2;
/// Most entities one bot contributes to one check.
const CHECK_MAX_ENTITIES: usize = 256;

/// The plan and recorders of one run.
#[derive(Debug)]
pub struct Shared {
    /// WebSocket URL, without the bot's name.
    pub url: String,
    /// How the bots move.
    pub pattern: Pattern,
    /// When the run started.
    pub t0: Instant,
    /// Connects are spread over this long from `t0`.
    pub ramp_up: Duration,
    /// Bots connected in total.
    pub clients: usize,
    /// Samples are recorded from here...
    pub window_start: Instant,
    /// ...to here (microseconds after `t0`), moved earlier by Ctrl-C.
    window_end_us: AtomicU64,
    /// No bot runs past this, whatever happens.
    pub hard_end: Instant,
    /// Input sent to the first snapshot that reflects it, microseconds.
    pub latency_us: Histogram,
    /// Ping to pong, microseconds.
    pub rtt_us: Histogram,
    /// Time between consecutive snapshots of one bot, microseconds.
    pub interval_us: Histogram,
    /// Snapshot payload sizes, bytes.
    pub snapshot_bytes: Histogram,
    /// How far each snapshot moved a bot's predicted own position, 1/1000 world units.
    pub correction_milli: Histogram,
    /// Bots connected right now.
    pub connected_now: AtomicU64,
    /// Snapshots received so far (all bots, whole run).
    pub snapshots: AtomicU64,
    /// Connect failures, disconnects and replica errors so far.
    pub errors: AtomicU64,
    /// The cross-replica check.
    pub checker: Checker,
    /// The game played.
    pub game: GameSpec,
    /// The rooms the bots join, bot `i` room `i % len`; empty: the server's default room.
    pub rooms: Vec<String>,
    /// Churn: the mean lifetime of a bot's connection, after which it closes and connects
    /// again as a fresh client; `None` keeps one connection per bot for the whole run.
    pub churn: Option<Duration>,
    /// With churn, the share of connection ends that are drops (no close frame) followed by
    /// a resume of the session, rather than a goodbye and a fresh join.
    pub resume_share: f64,
    /// Join through matchmaking: `POST {matchmake}/matchmake` for the bot's room, then
    /// connect where sent (`url` is then only where metrics come from).
    pub matchmake: Option<String>,
    /// The TLS client configuration for `wss://` and `https://` metrics; `None`: the Mozilla
    /// roots for `wss://`, plain `http://` metrics.
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Shared {
    /// A plan; the window ends at `t0 + duration`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        game: GameSpec,
        url: String,
        pattern: Pattern,
        clients: usize,
        ramp_up: Duration,
        window_start: Duration,
        duration: Duration,
        grace: Duration,
    ) -> Shared {
        let t0 = Instant::now();
        Shared {
            url,
            pattern,
            t0,
            ramp_up,
            clients,
            window_start: t0 + window_start,
            window_end_us: AtomicU64::new(duration.as_micros() as u64),
            hard_end: t0 + duration + grace,
            latency_us: Histogram::new(TIME_BUCKET_US, LATENCY_BUCKETS),
            rtt_us: Histogram::new(TIME_BUCKET_US, LATENCY_BUCKETS),
            interval_us: Histogram::new(TIME_BUCKET_US, INTERVAL_BUCKETS),
            snapshot_bytes: Histogram::new(1, SIZE_BUCKETS),
            correction_milli: Histogram::new(1, CORRECTION_BUCKETS),
            connected_now: AtomicU64::new(0),
            snapshots: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            checker: Checker::default(),
            game,
            rooms: Vec::new(),
            churn: None,
            resume_share: 0.0,
            matchmake: None,
            tls: None,
        }
    }

    /// Which room bot `index` joins: its index among the rooms (for the replica check) and
    /// its name (`None`: the server's default room).
    pub fn room_of(&self, index: usize) -> (usize, Option<&str>) {
        match self.rooms.len() {
            0 => (0, None),
            count => (index % count, Some(self.rooms[index % count].as_str())),
        }
    }

    /// When recording stops.
    pub fn window_end(&self) -> Instant {
        self.t0 + Duration::from_micros(self.window_end_us.load(Relaxed))
    }

    /// Ends the window now (Ctrl-C), if it has not ended already.
    pub fn end_window_now(&self) {
        let now = self.t0.elapsed().as_micros() as u64;
        self.window_end_us.fetch_min(now, Relaxed);
    }

    /// Whether a sample taken at `now` counts.
    pub fn in_window(&self, now: Instant) -> bool {
        now >= self.window_start && now < self.window_end()
    }

    /// Seconds of the measurement window (0 if it never began).
    pub fn window_seconds(&self) -> f64 {
        self.window_end().saturating_duration_since(self.window_start).as_secs_f64()
    }

    /// When bot `index` connects: spread evenly over the ramp-up.
    pub fn connect_at(&self, index: usize) -> Instant {
        let share = index as f64 / self.clients.max(1) as f64;
        self.t0 + self.ramp_up.mul_f64(share)
    }
}

/// Compares replicas across bots of one room: at every sampled tick, each entity that two
/// bots of a room hold must have the same public components in both. One sampled tick is
/// open per room at a time; a bot that reaches it late (after a newer one opened) is not
/// checked for it. Rooms are compared apart: each has its own ticks and entity ids.
#[derive(Debug, Default)]
pub struct Checker {
    current: Mutex<HashMap<RoomKey, OpenCheck>>,
}

/// Which world a replica is of: the room's index in the plan, and a hash of the process
/// hosting it (0 without matchmaking). A room that moved to another process after its first
/// one was lost is another world, with its own ticks and entity ids.
pub type RoomKey = (usize, u64);

/// The [`RoomKey`] hash of a process's `host:port`.
pub fn process_key(process: Option<&str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    process.hash(&mut hasher);
    hasher.finish()
}

/// A room's open check: the sampled tick, and the print of each entity seen at it.
type OpenCheck = (u32, HashMap<u32, Print>);

/// What is compared of an entity: the fingerprint of the components everyone is sent.
type Print = u64;

/// One bot's contribution to a check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// Entities compared with another bot's copy.
    pub compared: u64,
    /// Of which disagreed.
    pub mismatches: u64,
}

impl Checker {
    /// Whether `tick` is a sampled tick at this tick rate.
    pub fn samples(tick: u32, tick_rate_hz: u16) -> bool {
        tick > 0 && tick.is_multiple_of(CHECK_EVERY_SECONDS * u32::from(tick_rate_hz.max(1)))
    }

    /// Adds a replica of room `room` taken at `tick` and compares it with what others in
    /// that room held at that tick.
    pub fn observe(&self, room: RoomKey, tick: u32, replica: &Replica) -> Checked {
        let mut checked = Checked::default();
        // A poisoned lock only means another bot panicked mid-check; skip the check.
        let Ok(mut rooms) = self.current.lock() else { return checked };
        let current = rooms.entry(room).or_default();
        if tick > current.0 {
            current.0 = tick;
            current.1.clear();
        } else if tick < current.0 {
            return checked;
        }
        for id in replica.ids().take(CHECK_MAX_ENTITIES) {
            let Some(print) = replica.fingerprint(id) else { continue };
            match current.1.entry(id) {
                Entry::Occupied(seen) => {
                    checked.compared += 1;
                    checked.mismatches += u64::from(*seen.get() != print);
                }
                Entry::Vacant(slot) => {
                    slot.insert(print);
                }
            }
        }
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Arena;
    use crate::bots::GameSpec;
    use crate::protocol::varint;

    fn replica(tick: u32, x: i32) -> Replica {
        // A full snapshot (seq 0, pacing 0) with entity 3 holding a Position (component 0,
        // two integers).
        let mut full = vec![1];
        varint::write_u32(&mut full, tick);
        full.extend_from_slice(&[0, 0, 1, 0, 3, 1, 0]);
        varint::write_i32(&mut full, x);
        varint::write_i32(&mut full, 0);
        let mut replica = GameSpec::of(Arena::default()).expect("arena").replica();
        replica.apply(&full).expect("applies");
        replica
    }

    #[test]
    fn checker_counts_disagreements_at_the_same_tick_only() {
        let checker = Checker::default();
        assert_eq!(checker.observe((0, 0), 60, &replica(60, 5)), Checked::default());
        assert_eq!(
            checker.observe((0, 0), 60, &replica(60, 5)),
            Checked { compared: 1, mismatches: 0 }
        );
        assert_eq!(
            checker.observe((0, 0), 60, &replica(60, 6)),
            Checked { compared: 1, mismatches: 1 }
        );
        assert_eq!(
            checker.observe((1, 0), 60, &replica(60, 7)),
            Checked::default(),
            "another room"
        );
        let moved = process_key(Some("127.0.0.1:8092"));
        assert_eq!(checker.observe((0, moved), 60, &replica(60, 8)), Checked::default(), "moved");
        assert_eq!(checker.observe((0, 0), 120, &replica(120, 9)), Checked::default());
        assert_eq!(checker.observe((0, 0), 60, &replica(60, 1)), Checked::default(), "too late");
        assert!(Checker::samples(60, 30) && !Checker::samples(61, 30) && !Checker::samples(0, 30));
    }
}
