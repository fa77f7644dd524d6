//! The server's figures over the window, read from its `/metrics` scrapes.

use crate::bots::histogram::{bucket_max, bucket_quantile};
use crate::bots::scrape::{MissingMetric, Scrape, bucket_counts_between};
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
    /// How late ticks started after their deadline, milliseconds (p50, p99, max; over every
    /// room's ticks).
    #[serde(default)]
    pub lateness_ms: [f64; 3],
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
    /// Client ticks while the client was active (it sent an input in the last second).
    #[serde(default)]
    pub input_active_ticks: f64,
    /// Client ticks that applied no input while the client was active.
    #[serde(default)]
    pub input_starved_ticks: f64,
    /// Client ticks that applied more than one input.
    #[serde(default)]
    pub input_multi_ticks: f64,
    /// Mean input buffer depth at the start of a client's tick, inputs.
    #[serde(default)]
    pub input_depth_mean: f64,
    /// Mean time before its tick started that the input a client's tick applied arrived, ms
    /// (`None` from a server that does not measure it).
    #[serde(default)]
    pub input_lead_ms_mean: Option<f64>,
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

/// The server's figures from the scrapes; `None` when a needed scrape is missing (the load
/// test says why in the report's `server_error`), and a [`MissingMetric`] naming the metric
/// when a scrape lacks one: never a figure read as 0. The load test puts that error in the
/// report's `server_error` too ([`scrape::fetch`] already refuses a page without a metric the
/// server registers).
///
/// [`scrape::fetch`]: crate::bots::scrape::fetch
pub fn server_figures(
    scrapes: &Scrapes,
    fallback_clients: u64,
    window_s: f64,
) -> Option<Result<ServerFigures, MissingMetric>> {
    let (before, start, end) =
        (scrapes.before.as_ref()?, scrapes.start.as_ref()?, scrapes.end.as_ref()?);
    let after = scrapes.after.as_ref().unwrap_or(end);
    let window = Window { before, start, end, after };
    Some(window.figures(fallback_clients, window_s))
}

/// The scrapes of one run, each present.
struct Window<'a> {
    before: &'a Scrape,
    start: &'a Scrape,
    end: &'a Scrape,
    after: &'a Scrape,
}

impl Window<'_> {
    fn figures(
        &self,
        fallback_clients: u64,
        window_s: f64,
    ) -> Result<ServerFigures, MissingMetric> {
        let (before, start, end) = (self.before, self.start, self.end);
        let ticks = self.counter_delta(names::TICKS)?;
        let mut clients = end.gauge(names::CLIENTS)?;
        if clients <= 0.0 {
            clients = fallback_clients as f64;
        }
        let per = |x: f64, n: f64| if n > 0.0 { x / n } else { 0.0 };
        let buckets = bucket_counts_between(start, end, names::TICK_DURATION_SECONDS)?;
        let tick_seconds = (end.histogram_sum(names::TICK_DURATION_SECONDS)?
            - start.histogram_sum(names::TICK_DURATION_SECONDS)?)
        .max(0.0);
        let late = bucket_counts_between(start, end, names::TICK_LATENESS_SECONDS)?;
        let lateness_ms = [
            bucket_quantile(&late, 0.5) * 1e3,
            bucket_quantile(&late, 0.99) * 1e3,
            bucket_max(&late) * 1e3,
        ];
        let cpu = self.counter_delta(names::PROCESS_CPU_SECONDS)?;
        let depth_sum = end.histogram_sum(names::INPUT_BUFFER_DEPTH)?
            - start.histogram_sum(names::INPUT_BUFFER_DEPTH)?;
        let depth_count = end.value(&format!("{}_count", names::INPUT_BUFFER_DEPTH))?
            - start.value(&format!("{}_count", names::INPUT_BUFFER_DEPTH))?;
        let memory = end.gauge(names::PROCESS_RESIDENT_MEMORY_BYTES)?
            - before.gauge(names::PROCESS_RESIDENT_MEMORY_BYTES)?;
        Ok(ServerFigures {
            ticks,
            clients,
            tick_ms_p50: bucket_quantile(&buckets, 0.5) * 1e3,
            tick_ms_p99: bucket_quantile(&buckets, 0.99) * 1e3,
            tick_ms_max: bucket_max(&buckets) * 1e3,
            tick_ms_mean: per(tick_seconds * 1e3, ticks),
            tick_thread_cpu_ms_per_tick: per(
                self.counter_delta(names::TICK_THREAD_CPU_SECONDS)? * 1e3,
                ticks,
            ),
            lateness_ms,
            overruns: self.counter_delta(names::TICK_OVERRUNS)?,
            cpu_us_per_client_per_tick: per(per(cpu * 1e6, clients), ticks),
            cpu_cores: per(cpu, window_s),
            memory_per_connection: per(memory, clients),
            snapshots_skipped: self.counter_delta(names::SNAPSHOTS_SKIPPED)?,
            inputs_dropped: by_reason_between(start, end, names::INPUTS_DROPPED),
            input_active_ticks: self.counter_delta(names::INPUT_ACTIVE_TICKS)?,
            input_starved_ticks: self.counter_delta(names::INPUT_STARVED_TICKS)?,
            input_multi_ticks: self.counter_delta(names::INPUT_MULTI_TICKS)?,
            input_depth_mean: per(depth_sum, depth_count),
            input_lead_ms_mean: self.lead_ms_mean(),
            disconnects: by_reason_between(before, self.after, names::DISCONNECTS),
        })
    }

    /// The mean input lead over the window, ms, if the server counts it.
    fn lead_ms_mean(&self) -> Option<f64> {
        let seconds = self.counter_delta(names::INPUT_LEAD_SECONDS).ok()?;
        let leads = self.counter_delta(names::INPUT_LEADS).ok()?;
        (leads > 0.0).then(|| seconds * 1e3 / leads)
    }

    /// How much a counter grew over the window.
    fn counter_delta(&self, name: &str) -> Result<f64, MissingMetric> {
        Ok((self.end.counter(name)? - self.start.counter(name)?).max(0.0))
    }
}

/// How much each `reason` of a counter family grew between two scrapes, where it did.
fn by_reason_between(from: &Scrape, to: &Scrape, name: &str) -> BTreeMap<String, f64> {
    let earlier = from.counters_by_label(name, names::REASON);
    to.counters_by_label(name, names::REASON)
        .into_iter()
        .map(|(reason, v)| {
            let was = earlier.iter().find(|(r, _)| *r == reason).map_or(0.0, |(_, v)| *v);
            (reason, v - was)
        })
        .filter(|(_, v)| *v > 0.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

    fn fresh_page() -> Scrape {
        Scrape::parse(&Metrics::new().render())
    }

    #[test]
    fn a_fresh_servers_pages_give_figures() {
        let page = fresh_page();
        let scrapes = Scrapes {
            before: Some(page.clone()),
            start: Some(page.clone()),
            end: Some(page),
            after: None,
        };
        let figures = server_figures(&scrapes, 3, 1.0)
            .expect("all scrapes")
            .expect("every metric is on the page");
        assert_eq!(figures.ticks, 0.0);
        assert_eq!(figures.clients, 3.0, "no client counted by the server: the fallback");
    }

    #[test]
    fn a_metric_missing_from_the_window_end_is_an_error_naming_it() {
        let page = fresh_page();
        let mut end = page.clone();
        end.samples.retain(|s| !s.name.starts_with(names::TICK_OVERRUNS));
        let window = Window { before: &page, start: &page, end: &end, after: &end };
        assert_eq!(
            window.figures(1, 1.0).map(|_| ()),
            Err(MissingMetric { sample: format!("{}_total", names::TICK_OVERRUNS) })
        );
    }
}
