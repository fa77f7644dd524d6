//! The server's figures over the window, read from its `/metrics` scrapes.

use crate::bots::histogram::{bucket_max, bucket_quantile};
use crate::bots::scrape::{Scrape, bucket_counts_between};
use crate::metrics::names;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the server's `/metrics` said over the window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServerFigures {
    /// Ticks in the window.
    pub ticks: f64,
    /// Clients the server counted at the end of the window.
    pub clients: f64,
    /// Tick work, milliseconds (interpolated in histogram buckets).
    pub tick_ms_p50: f64,
    /// See `tick_ms_p50`.
    pub tick_ms_p99: f64,
    /// Upper bound of the highest non-empty bucket.
    pub tick_ms_max: f64,
    /// Mean tick work, milliseconds of wall time.
    #[serde(default)]
    pub tick_ms_mean: f64,
    /// CPU of the tick thread per tick, milliseconds: much less than `tick_ms_mean` means
    /// the tick thread waited (for a core or a lock) during its work.
    #[serde(default)]
    pub tick_thread_cpu_ms_per_tick: f64,
    /// Ticks that overran the period.
    pub overruns: f64,
    /// Server CPU per client per tick, microseconds.
    pub cpu_us_per_client_per_tick: f64,
    /// Server CPU, fraction of one core.
    pub cpu_cores: f64,
    /// Resident memory growth per connection since before the first connect, bytes.
    pub memory_per_connection: f64,
    /// Snapshots taken back unsent (slow clients).
    pub snapshots_skipped: f64,
    /// Inputs the server dropped, by reason.
    pub inputs_dropped: BTreeMap<String, f64>,
    /// Disconnects over the whole run, by reason (our closes at the end included).
    pub disconnects: BTreeMap<String, f64>,
}

/// The three scrapes: before connecting, at window start, at window end; and one after
/// the bots closed, for disconnect reasons.
#[derive(Debug, Clone, Default)]
pub struct Scrapes {
    /// Before any bot connected.
    pub before: Option<Scrape>,
    /// When the window began.
    pub start: Option<Scrape>,
    /// When it ended.
    pub end: Option<Scrape>,
    /// After the bots closed.
    pub after: Option<Scrape>,
}

/// The server's figures from the scrapes; `None` when a needed scrape is missing.
pub fn server_figures(
    scrapes: &Scrapes,
    fallback_clients: u64,
    window_s: f64,
) -> Option<ServerFigures> {
    let (before, start, end) =
        (scrapes.before.as_ref()?, scrapes.start.as_ref()?, scrapes.end.as_ref()?);
    let delta = |name: &str| (end.counter(name) - start.counter(name)).max(0.0);
    let ticks = delta(names::TICKS);
    let mut clients = end.gauge(names::CLIENTS);
    if clients <= 0.0 {
        clients = fallback_clients as f64;
    }
    let per = |x: f64, n: f64| if n > 0.0 { x / n } else { 0.0 };
    let buckets = bucket_counts_between(start, end, names::TICK_DURATION_SECONDS);
    let tick_seconds = (end.histogram_sum(names::TICK_DURATION_SECONDS)
        - start.histogram_sum(names::TICK_DURATION_SECONDS))
    .max(0.0);
    let cpu = delta(names::PROCESS_CPU_SECONDS);
    let memory = end.gauge(names::PROCESS_RESIDENT_MEMORY_BYTES)
        - before.gauge(names::PROCESS_RESIDENT_MEMORY_BYTES);
    let after = scrapes.after.as_ref().unwrap_or(end);
    let family_delta = |name: &str, from: &Scrape, to: &Scrape| -> BTreeMap<String, f64> {
        let earlier = from.counters_by_label(name, names::REASON);
        to.counters_by_label(name, names::REASON)
            .into_iter()
            .map(|(reason, v)| {
                let was = earlier.iter().find(|(r, _)| *r == reason).map_or(0.0, |(_, v)| *v);
                (reason, v - was)
            })
            .filter(|(_, v)| *v > 0.0)
            .collect()
    };
    Some(ServerFigures {
        ticks,
        clients,
        tick_ms_p50: bucket_quantile(&buckets, 0.5) * 1e3,
        tick_ms_p99: bucket_quantile(&buckets, 0.99) * 1e3,
        tick_ms_max: bucket_max(&buckets) * 1e3,
        tick_ms_mean: per(tick_seconds * 1e3, ticks),
        tick_thread_cpu_ms_per_tick: per(delta(names::TICK_THREAD_CPU_SECONDS) * 1e3, ticks),
        overruns: delta(names::TICK_OVERRUNS),
        cpu_us_per_client_per_tick: per(per(cpu * 1e6, clients), ticks),
        cpu_cores: per(cpu, window_s),
        memory_per_connection: per(memory, clients),
        snapshots_skipped: delta(names::SNAPSHOTS_SKIPPED),
        inputs_dropped: family_delta(names::INPUTS_DROPPED, start, end),
        disconnects: family_delta(names::DISCONNECTS, before, after),
    })
}
