//! The server over time: its `/metrics` read every few seconds for the whole run (resident
//! memory and the clients gauge), beside the bots' own count of open connections, so a long
//! run with churn shows whether memory comes back as clients come and go.
//!
//! It only reads; the figures over the measurement window come from [`super::report`].

use super::scrape::{self, MissingMetric, Scrape};
use super::shared::Shared;
use crate::metrics::names;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, sleep_until};

/// About this many samples per run...
const SAMPLES_PER_RUN: u32 = 200;
/// ...but not more often than this...
const MIN_PERIOD: Duration = Duration::from_secs(1);
/// ...nor less often than this.
const MAX_PERIOD: Duration = Duration::from_secs(10);
/// The sampler stops by itself this long after the bots' hard end, whatever happens.
const SAMPLER_GRACE: Duration = Duration::from_secs(10);

/// The samples of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Seconds between samples.
    pub period_s: f64,
    /// The samples, oldest first.
    pub points: Vec<TimelinePoint>,
    /// Scrapes that failed (and left a gap).
    pub missed: u64,
}

/// One sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// Seconds since the run started.
    pub t_s: f64,
    /// The server's resident memory, bytes.
    pub resident_bytes: f64,
    /// The server's clients gauge.
    pub clients: f64,
    /// Connections the bots held open at that moment.
    pub bots_connected: u64,
}

impl Timeline {
    /// The sample before any bot connected (the baseline), if there is one.
    pub fn first(&self) -> Option<&TimelinePoint> {
        self.points.first()
    }

    /// The last sample (after the bots closed, when the run ended normally).
    pub fn last(&self) -> Option<&TimelinePoint> {
        self.points.last()
    }

    /// The sample with the most resident memory.
    pub fn peak(&self) -> Option<&TimelinePoint> {
        self.points.iter().max_by(|a, b| a.resident_bytes.total_cmp(&b.resident_bytes))
    }

    /// Mean resident memory over the samples in `[from_s, to_s)`, if any.
    pub fn mean_resident(&self, from_s: f64, to_s: f64) -> Option<f64> {
        let inside: Vec<f64> = self
            .points
            .iter()
            .filter(|p| p.t_s >= from_s && p.t_s < to_s)
            .map(|p| p.resident_bytes)
            .collect();
        (!inside.is_empty()).then(|| inside.iter().sum::<f64>() / inside.len() as f64)
    }
}

/// The sampling period for a run this long: about 200 samples, every 1 to 10 seconds.
pub fn period_for(duration: Duration) -> Duration {
    (duration / SAMPLES_PER_RUN).clamp(MIN_PERIOD, MAX_PERIOD)
}

/// A sample from one scrape; a missing metric is an error naming it, never 0.
pub fn point(
    scrape: &Scrape,
    t_s: f64,
    bots_connected: u64,
) -> Result<TimelinePoint, MissingMetric> {
    Ok(TimelinePoint {
        t_s,
        resident_bytes: scrape.gauge(names::PROCESS_RESIDENT_MEMORY_BYTES)?,
        clients: scrape.gauge(names::CLIENTS)?,
        bots_connected,
    })
}

/// Samples `metrics_url` every `period` from now until `stop` (or, at the latest,
/// 10 s after the bots' hard end).
pub async fn sample(
    metrics_url: String,
    shared: Arc<Shared>,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) -> Timeline {
    let mut timeline = Timeline { period_s: period.as_secs_f64(), ..Timeline::default() };
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let give_up = sleep_until((shared.hard_end + SAMPLER_GRACE).into());
    tokio::pin!(give_up);
    // Ends at the stop signal or at `give_up`; each scrape is bounded by its own timeouts.
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            () = &mut give_up => break,
            _ = ticker.tick() => {}
        }
        record(
            &mut timeline,
            scrape::fetch_async_with(&metrics_url, shared.tls.clone()).await,
            &shared,
        );
    }
    timeline
}

/// Adds a sample taken now from a scrape (or counts it missed).
pub fn record(timeline: &mut Timeline, scrape: Result<Scrape, String>, shared: &Shared) {
    let t_s = Instant::now().saturating_duration_since(shared.t0).as_secs_f64();
    let bots = shared.connected_now.load(Relaxed);
    match scrape.map_err(|_| ()).and_then(|s| point(&s, t_s, bots).map_err(|_| ())) {
        Ok(point) => timeline.points.push(point),
        Err(()) => timeline.missed += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t_s: f64, mib: f64) -> TimelinePoint {
        TimelinePoint {
            t_s,
            resident_bytes: mib * 1024.0 * 1024.0,
            clients: 1.0,
            bots_connected: 1,
        }
    }

    #[test]
    fn periods_are_a_two_hundredth_of_the_run_within_bounds() {
        assert_eq!(period_for(Duration::from_secs(600)), Duration::from_secs(3));
        assert_eq!(period_for(Duration::from_secs(10)), MIN_PERIOD);
        assert_eq!(period_for(Duration::from_secs(86_400)), MAX_PERIOD);
    }

    #[test]
    fn a_sample_reads_memory_and_clients_by_their_names() {
        let page =
            format!("{} 1048576\n{} 3\n", names::PROCESS_RESIDENT_MEMORY_BYTES, names::CLIENTS);
        let sample = point(&Scrape::parse(&page), 2.0, 4).expect("both metrics");
        assert_eq!(
            sample,
            TimelinePoint { t_s: 2.0, resident_bytes: 1048576.0, clients: 3.0, bots_connected: 4 }
        );
        let without = Scrape::parse(&format!("{} 3\n", names::CLIENTS));
        assert_eq!(
            point(&without, 2.0, 4).err(),
            Some(MissingMetric { sample: names::PROCESS_RESIDENT_MEMORY_BYTES.into() })
        );
    }

    #[test]
    fn first_last_peak_and_means() {
        let timeline = Timeline {
            period_s: 1.0,
            points: vec![at(0.0, 10.0), at(1.0, 30.0), at(2.0, 20.0), at(3.0, 12.0)],
            missed: 0,
        };
        assert_eq!(timeline.first().map(|p| p.t_s), Some(0.0));
        assert_eq!(timeline.last().map(|p| p.t_s), Some(3.0));
        assert_eq!(timeline.peak().map(|p| p.t_s), Some(1.0));
        let mib = |b: Option<f64>| b.map(|b| b / 1024.0 / 1024.0);
        assert_eq!(mib(timeline.mean_resident(1.0, 3.0)), Some(25.0));
        assert_eq!(timeline.mean_resident(5.0, 6.0), None);
    }
}
