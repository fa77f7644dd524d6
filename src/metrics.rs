//! Server metrics in Prometheus text format, served at `GET /metrics`.
//!
//! Everything here is an atomic: the simulation threads and the connection tasks update metrics
//! without locks, and a scrape reads them.

use names::*;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// The exported metric names, each written once: registration uses them, and so does the
/// bots' report when it reads a scrape.
///
/// Each is a family name as the `# TYPE` line shows it. Samples add the OpenMetrics suffix
/// of their type: `_total` for a counter (`tickwire_ticks_total`), `_bucket`, `_sum` and
/// `_count` for a histogram, none for a gauge. Units are part of the name
/// (`_seconds`, `_bytes`). Renaming one breaks dashboards: the test `exported_names_are_pinned`
/// guards the page.
pub mod names {
    /// Counter: ticks run.
    pub const TICKS: &str = "tickwire_ticks";
    /// Histogram: seconds each tick's work took.
    pub const TICK_DURATION_SECONDS: &str = "tickwire_tick_duration_seconds";
    /// Histogram: seconds each tick started after its deadline.
    pub const TICK_LATENESS_SECONDS: &str = "tickwire_tick_lateness_seconds";
    /// Counter: ticks whose work overran the tick period.
    pub const TICK_OVERRUNS: &str = "tickwire_tick_overruns";
    /// Gauge: open WebSocket connections.
    pub const CLIENTS: &str = "tickwire_clients";
    /// Gauge: replicated entities in every room's world.
    pub const ENTITIES: &str = "tickwire_entities";
    /// Counter: bytes of WebSocket payload written.
    pub const BYTES_OUT: &str = "tickwire_bytes_out";
    /// Counter: WebSocket messages written.
    pub const FRAMES_OUT: &str = "tickwire_frames_out";
    /// Counter: WebSocket messages written straight onto the socket after a tick, with no
    /// task woken (part of `FRAMES_OUT`).
    pub const FRAMES_DIRECT: &str = "tickwire_frames_direct";
    /// Counter: bytes of WebSocket payload read.
    pub const BYTES_IN: &str = "tickwire_bytes_in";
    /// Counter: WebSocket messages read.
    pub const FRAMES_IN: &str = "tickwire_frames_in";
    /// Counter: read-thread wakeups that found data; `FRAMES_IN` over it is the messages
    /// each wakeup read.
    pub const READ_WAKEUPS: &str = "tickwire_read_wakeups";
    /// Histogram: snapshot payload sizes in bytes.
    pub const SNAPSHOT_BYTES: &str = "tickwire_snapshot_bytes";
    /// Counter family by [`KIND`]: snapshots built.
    pub const SNAPSHOTS: &str = "tickwire_snapshots";
    /// Counter: snapshots taken back unsent (slow clients).
    pub const SNAPSHOTS_SKIPPED: &str = "tickwire_snapshots_skipped";
    /// Counter: inputs applied by the simulation.
    pub const INPUTS_APPLIED: &str = "tickwire_inputs_applied";
    /// Counter family by [`REASON`]: inputs dropped (`buffer_full`: the oldest of a full
    /// input buffer).
    pub const INPUTS_DROPPED: &str = "tickwire_inputs_dropped";
    /// Counter: client ticks while the client was active (it sent an input in the last
    /// second): the denominator of the two below.
    pub const INPUT_ACTIVE_TICKS: &str = "tickwire_input_active_ticks";
    /// Counter: client ticks that applied no input while the client was active.
    pub const INPUT_STARVED_TICKS: &str = "tickwire_input_starved_ticks";
    /// Counter: client ticks that applied more than one input (a backlog draining).
    pub const INPUT_MULTI_TICKS: &str = "tickwire_input_multi_ticks";
    /// Histogram: each client's input buffer depth at the start of each tick, in inputs.
    pub const INPUT_BUFFER_DEPTH: &str = "tickwire_input_buffer_depth";
    /// Counter: over client ticks that applied an input, how long before the tick started the
    /// newest of them arrived, in seconds, summed (the pacing's lead; divided by
    /// [`INPUT_LEADS`], the mean).
    pub const INPUT_LEAD_SECONDS: &str = "tickwire_input_lead_seconds";
    /// Counter: client ticks whose lead [`INPUT_LEAD_SECONDS`] counts.
    pub const INPUT_LEADS: &str = "tickwire_input_leads";
    /// Counter family by [`REASON`]: connections closed.
    pub const DISCONNECTS: &str = "tickwire_disconnects";
    /// Handshakes refused by authentication, by reason (`unauthorized` 401, `forbidden` 403,
    /// `unavailable` 503, `already_signed_in` 409).
    pub const JOINS_REFUSED: &str = "tickwire_joins_refused";
    /// Counter: WebSocket upgrades refused with 503 because the open-file limit minus its
    /// reserve was reached (`--descriptor-reserve`).
    pub const UPGRADES_REFUSED_DESCRIPTORS: &str = "tickwire_upgrades_refused_descriptors";
    /// Counter: CPU seconds used by the process.
    pub const PROCESS_CPU_SECONDS: &str = "tickwire_process_cpu_seconds";
    /// Counter: CPU seconds used by the simulation threads (the name predates rooms).
    pub const TICK_THREAD_CPU_SECONDS: &str = "tickwire_tick_thread_cpu_seconds";
    /// Gauge: rooms open.
    pub const ROOMS: &str = "tickwire_rooms";
    /// Gauge family by [`ROOM`]: clients in each open room's world (at most `--max-rooms`
    /// label values: a room's goes when it closes).
    pub const ROOM_CLIENTS: &str = "tickwire_room_clients";
    /// Gauge: resident memory of the process in bytes.
    pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "tickwire_process_resident_memory_bytes";
    /// Counter: game messages received from clients.
    pub const GAME_MESSAGES_IN: &str = "tickwire_game_messages_in";
    /// Counter: game events queued for clients (one per recipient).
    pub const EVENTS_OUT: &str = "tickwire_events_out";
    /// Counter: sessions taken back with a resume token.
    pub const SESSIONS_RESUMED: &str = "tickwire_sessions_resumed";
    /// Counter: sessions whose resume window passed; their entity is gone.
    pub const SESSIONS_EXPIRED: &str = "tickwire_sessions_expired";
    /// Gauge: sessions waiting for their client to resume.
    pub const SESSIONS_WAITING: &str = "tickwire_sessions_waiting";
    /// Counter: rooms closed because the game's code panicked inside them (a system, a hook,
    /// building the room's world).
    pub const ROOM_PANICS: &str = "tickwire_room_panics";
    /// Counter: rooms closed because their cluster lease was lost (clients got 4008).
    pub const ROOM_LEASES_LOST: &str = "tickwire_room_leases_lost";
    /// Gauge: players one room admits (`--room-capacity`, else `--max-clients`), for the
    /// "room near capacity" alert against [`ROOM_CLIENTS`].
    pub const ROOM_CAPACITY: &str = "tickwire_room_capacity";
    /// Gauge: rooms this process may hold open (`--max-rooms`), against [`ROOMS`].
    pub const ROOMS_LIMIT: &str = "tickwire_rooms_limit";
    /// Gauge: connections this process admits (`--max-clients`), against [`CLIENTS`].
    pub const CLIENTS_LIMIT: &str = "tickwire_clients_limit";
    /// Gauge: consecutive heartbeats the room directory (`--redis`) did not answer; 0 while
    /// it answers, and without a directory.
    pub const DIRECTORY_HEARTBEAT_FAILURES: &str = "tickwire_directory_heartbeat_failures";

    /// Every metric with a sample on the page from the server's start: all but the labelled
    /// families ([`SNAPSHOTS`], [`INPUTS_DROPPED`], [`DISCONNECTS`], [`ROOM_CLIENTS`]), which show one only
    /// once a label value is counted. The bots refuse a page that lacks one of these.
    pub const UNLABELLED: &[&str] = &[
        TICKS,
        TICK_DURATION_SECONDS,
        TICK_LATENESS_SECONDS,
        TICK_OVERRUNS,
        CLIENTS,
        ENTITIES,
        BYTES_OUT,
        FRAMES_OUT,
        BYTES_IN,
        FRAMES_IN,
        SNAPSHOT_BYTES,
        SNAPSHOTS_SKIPPED,
        INPUTS_APPLIED,
        INPUT_ACTIVE_TICKS,
        INPUT_STARVED_TICKS,
        INPUT_MULTI_TICKS,
        INPUT_BUFFER_DEPTH,
        PROCESS_CPU_SECONDS,
        TICK_THREAD_CPU_SECONDS,
        PROCESS_RESIDENT_MEMORY_BYTES,
        ROOMS,
        GAME_MESSAGES_IN,
        EVENTS_OUT,
        SESSIONS_RESUMED,
        SESSIONS_EXPIRED,
        SESSIONS_WAITING,
        ROOM_CAPACITY,
        ROOMS_LIMIT,
        CLIENTS_LIMIT,
        DIRECTORY_HEARTBEAT_FAILURES,
    ];

    /// The label of [`super::Reason`] (its field name, which the derive exports).
    pub const REASON: &str = "reason";
    /// The label of [`super::Kind`] (its field name, which the derive exports).
    pub const KIND: &str = "kind";
    /// The label of [`super::RoomLabel`] (its field name, which the derive exports).
    pub const ROOM: &str = "room";
}

/// A `reason` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Why.
    pub reason: &'static str,
}

/// A `kind` label (snapshot kinds).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    /// Which.
    pub kind: &'static str,
}

/// A `room` label: a room's name (checked by [`crate::rooms::check_name`], so it needs no
/// escaping).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RoomLabel {
    /// Which.
    pub room: String,
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    /// Ticks run.
    pub ticks: Counter,
    /// Seconds each tick's work took.
    pub tick_duration: Histogram,
    /// Seconds each tick started after its deadline.
    pub tick_lateness: Histogram,
    /// Ticks whose work overran the tick period (deadlines skipped, never burst).
    pub overruns: Counter,
    /// Open WebSocket connections.
    pub clients: Gauge,
    /// Replicated entities in every room's world.
    pub entities: Gauge,
    /// Bytes of WebSocket payload written.
    pub bytes_out: Counter,
    /// WebSocket messages written.
    pub frames_out: Counter,
    /// WebSocket messages written straight onto the socket after a tick.
    pub frames_direct: Counter,
    /// Bytes of WebSocket payload read.
    pub bytes_in: Counter,
    /// WebSocket messages read.
    pub frames_in: Counter,
    /// Read-thread wakeups that found data.
    pub read_wakeups: Counter,
    /// Snapshot sizes in bytes (payload, before WebSocket framing).
    pub snapshot_bytes: Histogram,
    /// Snapshots built, by kind (full, delta, catch_up).
    pub snapshots: Family<Kind, Counter>,
    /// Snapshots taken back unsent because the client had not read the previous one.
    pub snapshots_skipped: Counter,
    /// Inputs applied by the simulation.
    pub inputs_applied: Counter,
    /// Game messages received.
    pub game_messages_in: Counter,
    /// Game events queued, one per recipient.
    pub events_out: Counter,
    /// Sessions resumed.
    pub sessions_resumed: Counter,
    /// Sessions whose resume window passed.
    pub sessions_expired: Counter,
    /// Sessions waiting to be resumed.
    pub sessions_waiting: Gauge,
    /// Rooms closed because the game's code panicked inside them.
    pub room_panics: Counter,
    /// Rooms closed because their cluster lease was lost.
    pub room_leases_lost: Counter,
    /// Inputs dropped, by reason.
    pub inputs_dropped: Family<Reason, Counter>,
    /// Client ticks while the client was active.
    pub input_active_ticks: Counter,
    /// Client ticks that applied no input while the client was active.
    pub input_starved_ticks: Counter,
    /// Client ticks that applied more than one input.
    pub input_multi_ticks: Counter,
    /// Input buffer depth at the start of each client's tick.
    pub input_buffer_depth: Histogram,
    /// Leads of the inputs applied, summed, in seconds.
    pub input_lead_seconds: Counter<f64, AtomicU64>,
    /// Client ticks whose lead is counted.
    pub input_leads: Counter,
    /// Connections closed, by reason.
    pub disconnects: Family<Reason, Counter>,
    /// Handshakes refused by authentication, by reason.
    pub joins_refused: Family<Reason, Counter>,
    /// WebSocket upgrades refused for want of file descriptors.
    pub upgrades_refused_descriptors: Counter,
    /// CPU seconds (user + system) used by the process; refreshed at each scrape.
    pub cpu_seconds: Counter<f64, AtomicU64>,
    /// Resident memory of the process in bytes; refreshed at each scrape.
    pub resident_bytes: Gauge,
    /// CPU seconds used by the simulation threads (every room's simulation and replication),
    /// updated by each about once a second.
    pub tick_cpu_seconds: Counter<f64, AtomicU64>,
    /// Rooms open.
    pub rooms: Gauge,
    /// Clients in each open room's world.
    pub room_clients: Family<RoomLabel, Gauge>,
    /// Players one room admits (set once from the configuration).
    pub room_capacity: Gauge,
    /// Rooms this process may hold open (set once from the configuration).
    pub rooms_limit: Gauge,
    /// Connections this process admits (set once from the configuration).
    pub clients_limit: Gauge,
    /// Consecutive heartbeats the room directory did not answer ([`Metrics::directory_beat`]).
    pub directory_heartbeat_failures: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        // Four buckets per doubling from 50 µs to 0.8 s, so a p99 read from the buckets is
        // within 19 % of the truth around the tick's few-millisecond budget.
        let seconds = || Histogram::new(exponential_buckets(0.000_05, 2f64.powf(0.25), 57));
        let mut m = Metrics {
            // No prefix: each name in `names` carries `tickwire_` itself, so it is written whole
            // in one place and the bots read the very same string.
            registry: Registry::default(),
            ticks: Counter::default(),
            tick_duration: seconds(),
            tick_lateness: seconds(),
            overruns: Counter::default(),
            clients: Gauge::default(),
            entities: Gauge::default(),
            bytes_out: Counter::default(),
            frames_out: Counter::default(),
            frames_direct: Counter::default(),
            bytes_in: Counter::default(),
            frames_in: Counter::default(),
            read_wakeups: Counter::default(),
            snapshot_bytes: Histogram::new(exponential_buckets(4.0, 2.0, 14)),
            snapshots: Family::default(),
            snapshots_skipped: Counter::default(),
            inputs_applied: Counter::default(),
            game_messages_in: Counter::default(),
            events_out: Counter::default(),
            sessions_resumed: Counter::default(),
            sessions_expired: Counter::default(),
            sessions_waiting: Gauge::default(),
            room_panics: Counter::default(),
            room_leases_lost: Counter::default(),
            inputs_dropped: Family::default(),
            input_active_ticks: Counter::default(),
            input_starved_ticks: Counter::default(),
            input_multi_ticks: Counter::default(),
            // One bucket per depth up to 8 (twice the largest target).
            input_buffer_depth: Histogram::new((0..=8).map(f64::from)),
            input_lead_seconds: Counter::default(),
            input_leads: Counter::default(),
            disconnects: Family::default(),
            joins_refused: Family::default(),
            upgrades_refused_descriptors: Counter::default(),
            cpu_seconds: Counter::default(),
            resident_bytes: Gauge::default(),
            tick_cpu_seconds: Counter::default(),
            rooms: Gauge::default(),
            room_clients: Family::default(),
            room_capacity: Gauge::default(),
            rooms_limit: Gauge::default(),
            clients_limit: Gauge::default(),
            directory_heartbeat_failures: Gauge::default(),
        };
        let r = &mut m.registry;
        r.register(TICKS, "Ticks run", m.ticks.clone());
        r.register(TICK_DURATION_SECONDS, "Work per tick", m.tick_duration.clone());
        r.register(TICK_LATENESS_SECONDS, "Tick start after its deadline", m.tick_lateness.clone());
        r.register(TICK_OVERRUNS, "Ticks whose work overran the period", m.overruns.clone());
        r.register(CLIENTS, "Open WebSocket connections", m.clients.clone());
        r.register(ENTITIES, "Replicated entities", m.entities.clone());
        r.register(BYTES_OUT, "WebSocket payload bytes written", m.bytes_out.clone());
        r.register(FRAMES_OUT, "WebSocket messages written", m.frames_out.clone());
        r.register(
            FRAMES_DIRECT,
            "WebSocket messages written straight onto the socket after a tick",
            m.frames_direct.clone(),
        );
        r.register(BYTES_IN, "WebSocket payload bytes read", m.bytes_in.clone());
        r.register(FRAMES_IN, "WebSocket messages read", m.frames_in.clone());
        r.register(READ_WAKEUPS, "Read-thread wakeups that found data", m.read_wakeups.clone());
        r.register(SNAPSHOT_BYTES, "Snapshot payload size", m.snapshot_bytes.clone());
        r.register(SNAPSHOTS, "Snapshots built, by kind", m.snapshots.clone());
        r.register(
            SNAPSHOTS_SKIPPED,
            "Snapshots taken back unsent (slow clients)",
            m.snapshots_skipped.clone(),
        );
        r.register(INPUTS_APPLIED, "Inputs applied", m.inputs_applied.clone());
        r.register(GAME_MESSAGES_IN, "Game messages received", m.game_messages_in.clone());
        r.register(EVENTS_OUT, "Game events queued, one per recipient", m.events_out.clone());
        r.register(SESSIONS_RESUMED, "Sessions resumed", m.sessions_resumed.clone());
        r.register(
            SESSIONS_EXPIRED,
            "Sessions whose resume window passed",
            m.sessions_expired.clone(),
        );
        r.register(SESSIONS_WAITING, "Sessions waiting to be resumed", m.sessions_waiting.clone());
        r.register(
            ROOM_PANICS,
            "Rooms closed because the game's code panicked inside them",
            m.room_panics.clone(),
        );
        let lost = m.room_leases_lost.clone();
        r.register(ROOM_LEASES_LOST, "Rooms closed because their cluster lease was lost", lost);
        r.register(INPUTS_DROPPED, "Inputs dropped, by reason", m.inputs_dropped.clone());
        r.register(
            INPUT_ACTIVE_TICKS,
            "Client ticks while the client was active (an input in the last second)",
            m.input_active_ticks.clone(),
        );
        r.register(
            INPUT_STARVED_TICKS,
            "Client ticks that applied no input while the client was active",
            m.input_starved_ticks.clone(),
        );
        r.register(
            INPUT_MULTI_TICKS,
            "Client ticks that applied more than one input",
            m.input_multi_ticks.clone(),
        );
        r.register(
            INPUT_BUFFER_DEPTH,
            "Input buffer depth at the start of each client's tick",
            m.input_buffer_depth.clone(),
        );
        r.register(
            INPUT_LEAD_SECONDS,
            "Seconds before its tick started that the newest input each client tick applied arrived, summed",
            m.input_lead_seconds.clone(),
        );
        r.register(INPUT_LEADS, "Client ticks whose input lead is summed", m.input_leads.clone());
        r.register(DISCONNECTS, "Connections closed, by reason", m.disconnects.clone());
        r.register(
            JOINS_REFUSED,
            "Handshakes refused by authentication, by reason",
            m.joins_refused.clone(),
        );
        r.register(
            UPGRADES_REFUSED_DESCRIPTORS,
            "WebSocket upgrades refused with 503: the open-file limit minus its reserve reached",
            m.upgrades_refused_descriptors.clone(),
        );
        r.register(PROCESS_CPU_SECONDS, "CPU seconds used by the process", m.cpu_seconds.clone());
        r.register(
            TICK_THREAD_CPU_SECONDS,
            "CPU seconds used by the simulation threads (simulation and replication of every room)",
            m.tick_cpu_seconds.clone(),
        );
        r.register(
            PROCESS_RESIDENT_MEMORY_BYTES,
            "Resident memory of the process",
            m.resident_bytes.clone(),
        );
        r.register(ROOMS, "Rooms open", m.rooms.clone());
        r.register(ROOM_CLIENTS, "Clients in each open room", m.room_clients.clone());
        r.register(ROOM_CAPACITY, "Players one room admits", m.room_capacity.clone());
        r.register(ROOMS_LIMIT, "Rooms this process may hold open", m.rooms_limit.clone());
        r.register(CLIENTS_LIMIT, "Connections this process admits", m.clients_limit.clone());
        r.register(
            DIRECTORY_HEARTBEAT_FAILURES,
            "Consecutive heartbeats the room directory did not answer",
            m.directory_heartbeat_failures.clone(),
        );
        m
    }

    /// Records the configured limits the alerts compare the live figures with.
    pub fn limits(&self, config: &crate::config::ServerConfig) {
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.room_capacity.set(gauge(config.room_capacity()));
        self.rooms_limit.set(gauge(config.max_rooms));
        self.clients_limit.set(gauge(config.max_clients));
    }

    /// Records one heartbeat to the room directory: whether it was answered.
    pub fn directory_beat(&self, answered: bool) {
        if answered {
            self.directory_heartbeat_failures.set(0);
        } else {
            self.directory_heartbeat_failures.inc();
        }
    }

    /// The text exposition, with the CPU counter brought up to date.
    pub fn render(&self) -> String {
        let used = process_cpu_seconds();
        let known = self.cpu_seconds.get();
        if used > known {
            self.cpu_seconds.inc_by(used - known);
        }
        self.resident_bytes.set(process_resident_bytes() as i64);
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts a dropped input.
    pub fn input_dropped(&self, reason: &'static str) {
        self.inputs_dropped.get_or_create(&Reason { reason }).inc();
    }

    /// Counts a disconnect.
    pub fn disconnect(&self, reason: &'static str) {
        self.disconnects.get_or_create(&Reason { reason }).inc();
    }

    /// Counts a handshake refused by authentication with HTTP `status`.
    pub fn auth_refused(&self, status: u16) {
        let reason = match status {
            401 => "unauthorized",
            403 => "forbidden",
            409 => "already_signed_in",
            _ => "unavailable",
        };
        self.joins_refused.get_or_create(&Reason { reason }).inc();
    }

    /// Sets the clients gauge of `room`.
    pub fn room_clients(&self, room: &str, clients: usize) {
        let label = RoomLabel { room: room.to_owned() };
        self.room_clients.get_or_create(&label).set(clients as i64);
    }

    /// Takes a closed room's label off the page.
    pub fn room_closed(&self, room: &str) {
        self.room_clients.remove(&RoomLabel { room: room.to_owned() });
    }
}

/// User plus system CPU time of this process, in seconds, from `/proc/self/stat` (0 where
/// that file does not exist). The kernel counts in clock ticks of 1/100 s on Linux
/// (`USER_HZ`), so this has 10 ms resolution: read it over windows of seconds.
pub fn process_cpu_seconds() -> f64 {
    cpu_seconds("/proc/self/stat")
}

/// CPU time of the calling thread, in seconds, from `/proc/thread-self/stat` (see
/// [`process_cpu_seconds`] for the resolution).
pub fn thread_cpu_seconds() -> f64 {
    cpu_seconds("/proc/thread-self/stat")
}

fn cpu_seconds(path: &str) -> f64 {
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The command name is in parentheses and may hold spaces: count fields after it.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12th and 13th after the name.
    (field(11) + field(12)) / USER_HZ
}

/// Resident memory of this process in bytes, from `/proc/self/statm` (0 where it does not
/// exist). Pages are taken as 4 KiB, the page size of the platforms this runs on.
pub fn process_resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages = statm.split_whitespace().nth(1).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    pages * 4096
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every exported family and sample name, as dashboards and the bots know them: the
    /// page without bucket lines, help text and values.
    const EXPORTED: &str = "\
        # TYPE tickwire_ticks counter\n\
        tickwire_ticks_total\n\
        # TYPE tickwire_tick_duration_seconds histogram\n\
        tickwire_tick_duration_seconds_sum\n\
        tickwire_tick_duration_seconds_count\n\
        # TYPE tickwire_tick_lateness_seconds histogram\n\
        tickwire_tick_lateness_seconds_sum\n\
        tickwire_tick_lateness_seconds_count\n\
        # TYPE tickwire_tick_overruns counter\n\
        tickwire_tick_overruns_total\n\
        # TYPE tickwire_clients gauge\n\
        tickwire_clients\n\
        # TYPE tickwire_entities gauge\n\
        tickwire_entities\n\
        # TYPE tickwire_bytes_out counter\n\
        tickwire_bytes_out_total\n\
        # TYPE tickwire_frames_out counter\n\
        tickwire_frames_out_total\n\
        # TYPE tickwire_frames_direct counter\n\
        tickwire_frames_direct_total\n\
        # TYPE tickwire_bytes_in counter\n\
        tickwire_bytes_in_total\n\
        # TYPE tickwire_frames_in counter\n\
        tickwire_frames_in_total\n\
        # TYPE tickwire_read_wakeups counter\n\
        tickwire_read_wakeups_total\n\
        # TYPE tickwire_snapshot_bytes histogram\n\
        tickwire_snapshot_bytes_sum\n\
        tickwire_snapshot_bytes_count\n\
        # TYPE tickwire_snapshots counter\n\
        tickwire_snapshots_total{kind=\"full\"}\n\
        # TYPE tickwire_snapshots_skipped counter\n\
        tickwire_snapshots_skipped_total\n\
        # TYPE tickwire_inputs_applied counter\n\
        tickwire_inputs_applied_total\n\
        # TYPE tickwire_game_messages_in counter\n\
        tickwire_game_messages_in_total\n\
        # TYPE tickwire_events_out counter\n\
        tickwire_events_out_total\n\
        # TYPE tickwire_sessions_resumed counter\n\
        tickwire_sessions_resumed_total\n\
        # TYPE tickwire_sessions_expired counter\n\
        tickwire_sessions_expired_total\n\
        # TYPE tickwire_sessions_waiting gauge\n\
        tickwire_sessions_waiting\n\
        # TYPE tickwire_room_panics counter\n\
        tickwire_room_panics_total\n\
        # TYPE tickwire_room_leases_lost counter\n\
        tickwire_room_leases_lost_total\n\
        # TYPE tickwire_inputs_dropped counter\n\
        tickwire_inputs_dropped_total{reason=\"x\"}\n\
        # TYPE tickwire_input_active_ticks counter\n\
        tickwire_input_active_ticks_total\n\
        # TYPE tickwire_input_starved_ticks counter\n\
        tickwire_input_starved_ticks_total\n\
        # TYPE tickwire_input_multi_ticks counter\n\
        tickwire_input_multi_ticks_total\n\
        # TYPE tickwire_input_buffer_depth histogram\n\
        tickwire_input_buffer_depth_sum\n\
        tickwire_input_buffer_depth_count\n\
        # TYPE tickwire_input_lead_seconds counter\n\
        tickwire_input_lead_seconds_total\n\
        # TYPE tickwire_input_leads counter\n\
        tickwire_input_leads_total\n\
        # TYPE tickwire_disconnects counter\n\
        tickwire_disconnects_total{reason=\"y\"}\n\
        # TYPE tickwire_upgrades_refused_descriptors counter\n\
        tickwire_upgrades_refused_descriptors_total\n\
        # TYPE tickwire_process_cpu_seconds counter\n\
        tickwire_process_cpu_seconds_total\n\
        # TYPE tickwire_tick_thread_cpu_seconds counter\n\
        tickwire_tick_thread_cpu_seconds_total\n\
        # TYPE tickwire_process_resident_memory_bytes gauge\n\
        tickwire_process_resident_memory_bytes\n\
        # TYPE tickwire_rooms gauge\n\
        tickwire_rooms\n\
        # TYPE tickwire_room_clients gauge\n\
        tickwire_room_clients{room=\"lobby\"}\n\
        # TYPE tickwire_room_capacity gauge\n\
        tickwire_room_capacity\n\
        # TYPE tickwire_rooms_limit gauge\n\
        tickwire_rooms_limit\n\
        # TYPE tickwire_clients_limit gauge\n\
        tickwire_clients_limit\n\
        # TYPE tickwire_directory_heartbeat_failures gauge\n\
        tickwire_directory_heartbeat_failures\n";

    /// A fresh page, with one label value counted in each family: a family without one is
    /// not on the page at all.
    fn page_with_every_family() -> String {
        let m = Metrics::new();
        m.input_dropped("x");
        m.disconnect("y");
        m.snapshots.get_or_create(&Kind { kind: "full" }).inc();
        m.room_clients("lobby", 1);
        m.render()
    }

    #[test]
    fn directory_failures_count_up_and_reset() {
        let m = Metrics::new();
        m.directory_beat(false);
        m.directory_beat(false);
        assert_eq!(m.directory_heartbeat_failures.get(), 2);
        m.directory_beat(true);
        assert_eq!(m.directory_heartbeat_failures.get(), 0);
    }

    #[test]
    fn exported_names_are_pinned() {
        let page = page_with_every_family();
        let names: String = page
            .lines()
            .filter(|l| !l.starts_with("# HELP") && !l.starts_with("# EOF"))
            .filter(|l| !l.contains("_bucket{"))
            .map(|l| if l.starts_with('#') { l } else { l.rsplit_once(' ').map_or(l, |(n, _)| n) })
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(names, EXPORTED);
        // The derived label names are the constants the bots read them by.
        assert!(page.contains(&format!("{INPUTS_DROPPED}_total{{{REASON}=\"x\"}}")), "{page}");
        assert!(page.contains(&format!("{SNAPSHOTS}_total{{{KIND}=\"full\"}}")), "{page}");
    }

    #[test]
    fn unlabelled_lists_every_family_but_the_labelled_ones() {
        let page = page_with_every_family();
        let families: Vec<&str> = page
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next())
            .filter(|family| !UNLABELLED.contains(family))
            .collect();
        // FRAMES_DIRECT, READ_WAKEUPS, the leads, ROOM_PANICS, ROOM_LEASES_LOST and
        // UPGRADES_REFUSED_DESCRIPTORS are not required of a server: bots may measure builds
        // from before them.
        let expected = [
            FRAMES_DIRECT,
            READ_WAKEUPS,
            SNAPSHOTS,
            ROOM_PANICS,
            ROOM_LEASES_LOST,
            INPUTS_DROPPED,
            INPUT_LEAD_SECONDS,
            INPUT_LEADS,
            DISCONNECTS,
            UPGRADES_REFUSED_DESCRIPTORS,
            ROOM_CLIENTS,
        ];
        assert_eq!(families, expected);
    }
}
