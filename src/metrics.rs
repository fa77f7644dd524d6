//! Server metrics in Prometheus text format, served at `GET /metrics`.
//!
//! Everything here is an atomic: the tick thread and the connection tasks update metrics
//! without locks, and a scrape reads them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

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
    /// Replicated entities in the world.
    pub entities: Gauge,
    /// Bytes of WebSocket payload written.
    pub bytes_out: Counter,
    /// WebSocket messages written.
    pub frames_out: Counter,
    /// Bytes of WebSocket payload read.
    pub bytes_in: Counter,
    /// WebSocket messages read.
    pub frames_in: Counter,
    /// Snapshot sizes in bytes (payload, before WebSocket framing).
    pub snapshot_bytes: Histogram,
    /// Snapshots built, by kind (full, delta, catch_up).
    pub snapshots: Family<Kind, Counter>,
    /// Snapshots taken back unsent because the client had not read the previous one.
    pub snapshots_skipped: Counter,
    /// Inputs applied by the simulation.
    pub inputs_applied: Counter,
    /// Inputs dropped, by reason.
    pub inputs_dropped: Family<Reason, Counter>,
    /// Connections closed, by reason.
    pub disconnects: Family<Reason, Counter>,
    /// CPU seconds (user + system) used by the process; refreshed at each scrape.
    pub cpu_seconds: Counter<f64, AtomicU64>,
    /// Resident memory of the process in bytes; refreshed at each scrape.
    pub resident_bytes: Gauge,
    /// CPU seconds used by the tick thread alone (simulation and replication), updated by
    /// the tick thread about once a second.
    pub tick_cpu_seconds: Counter<f64, AtomicU64>,
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
            registry: Registry::with_prefix("tickwire"),
            ticks: Counter::default(),
            tick_duration: seconds(),
            tick_lateness: seconds(),
            overruns: Counter::default(),
            clients: Gauge::default(),
            entities: Gauge::default(),
            bytes_out: Counter::default(),
            frames_out: Counter::default(),
            bytes_in: Counter::default(),
            frames_in: Counter::default(),
            snapshot_bytes: Histogram::new(exponential_buckets(4.0, 2.0, 14)),
            snapshots: Family::default(),
            snapshots_skipped: Counter::default(),
            inputs_applied: Counter::default(),
            inputs_dropped: Family::default(),
            disconnects: Family::default(),
            cpu_seconds: Counter::default(),
            resident_bytes: Gauge::default(),
            tick_cpu_seconds: Counter::default(),
        };
        let r = &mut m.registry;
        r.register("ticks", "Ticks run", m.ticks.clone());
        r.register("tick_duration_seconds", "Work per tick", m.tick_duration.clone());
        r.register(
            "tick_lateness_seconds",
            "Tick start after its deadline",
            m.tick_lateness.clone(),
        );
        r.register("tick_overruns", "Ticks whose work overran the period", m.overruns.clone());
        r.register("clients", "Open WebSocket connections", m.clients.clone());
        r.register("entities", "Replicated entities", m.entities.clone());
        r.register("bytes_out", "WebSocket payload bytes written", m.bytes_out.clone());
        r.register("frames_out", "WebSocket messages written", m.frames_out.clone());
        r.register("bytes_in", "WebSocket payload bytes read", m.bytes_in.clone());
        r.register("frames_in", "WebSocket messages read", m.frames_in.clone());
        r.register("snapshot_bytes", "Snapshot payload size", m.snapshot_bytes.clone());
        r.register("snapshots", "Snapshots built, by kind", m.snapshots.clone());
        r.register(
            "snapshots_skipped",
            "Snapshots taken back unsent (slow clients)",
            m.snapshots_skipped.clone(),
        );
        r.register("inputs_applied", "Inputs applied", m.inputs_applied.clone());
        r.register("inputs_dropped", "Inputs dropped, by reason", m.inputs_dropped.clone());
        r.register("disconnects", "Connections closed, by reason", m.disconnects.clone());
        r.register("process_cpu_seconds", "CPU seconds used by the process", m.cpu_seconds.clone());
        r.register(
            "tick_thread_cpu_seconds",
            "CPU seconds used by the tick thread (simulation and replication)",
            m.tick_cpu_seconds.clone(),
        );
        r.register(
            "process_resident_memory_bytes",
            "Resident memory of the process",
            m.resident_bytes.clone(),
        );
        m
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
        # TYPE tickwire_bytes_in counter\n\
        tickwire_bytes_in_total\n\
        # TYPE tickwire_frames_in counter\n\
        tickwire_frames_in_total\n\
        # TYPE tickwire_snapshot_bytes histogram\n\
        tickwire_snapshot_bytes_sum\n\
        tickwire_snapshot_bytes_count\n\
        # TYPE tickwire_snapshots counter\n\
        tickwire_snapshots_total{kind=\"full\"}\n\
        # TYPE tickwire_snapshots_skipped counter\n\
        tickwire_snapshots_skipped_total\n\
        # TYPE tickwire_inputs_applied counter\n\
        tickwire_inputs_applied_total\n\
        # TYPE tickwire_inputs_dropped counter\n\
        tickwire_inputs_dropped_total{reason=\"x\"}\n\
        # TYPE tickwire_disconnects counter\n\
        tickwire_disconnects_total{reason=\"y\"}\n\
        # TYPE tickwire_process_cpu_seconds counter\n\
        tickwire_process_cpu_seconds_total\n\
        # TYPE tickwire_tick_thread_cpu_seconds counter\n\
        tickwire_tick_thread_cpu_seconds_total\n\
        # TYPE tickwire_process_resident_memory_bytes gauge\n\
        tickwire_process_resident_memory_bytes\n";

    #[test]
    fn exported_names_are_pinned() {
        let m = Metrics::new();
        m.input_dropped("x");
        m.disconnect("y");
        m.snapshots.get_or_create(&Kind { kind: "full" }).inc();
        let page = m.render();
        let names: String = page
            .lines()
            .filter(|l| !l.starts_with("# HELP") && !l.starts_with("# EOF"))
            .filter(|l| !l.contains("_bucket{"))
            .map(|l| if l.starts_with('#') { l } else { l.rsplit_once(' ').map_or(l, |(n, _)| n) })
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(names, EXPORTED);
    }
}
