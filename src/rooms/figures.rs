//! A room's own figures for the console: its recent tick durations and lateness (a ring of
//! the last ticks, so percentiles cost nothing per tick) and the snapshot bytes it handed
//! out. Atomics only: the room's thread writes with relaxed stores, requests read.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Ticks whose duration and lateness are kept: 128 ticks are 4.3 s at 30 Hz, enough for a
/// p99 that moves with the room.
pub const TICKS_KEPT: usize = 128;

/// Percentiles of a room's recent ticks, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TickPercentiles {
    /// Median tick duration.
    pub tick_ms_p50: f64,
    /// 99th percentile tick duration.
    pub tick_ms_p99: f64,
    /// Median lateness (how long after its deadline a tick started).
    pub lateness_ms_p50: f64,
    /// 99th percentile lateness.
    pub lateness_ms_p99: f64,
}

/// One room's figures.
#[derive(Debug)]
pub struct RoomFigures {
    durations_micros: [AtomicU32; TICKS_KEPT],
    lateness_micros: [AtomicU32; TICKS_KEPT],
    recorded: AtomicUsize,
    bytes_out: AtomicU64,
}

impl Default for RoomFigures {
    fn default() -> Self {
        RoomFigures {
            durations_micros: std::array::from_fn(|_| AtomicU32::new(0)),
            lateness_micros: std::array::from_fn(|_| AtomicU32::new(0)),
            recorded: AtomicUsize::new(0),
            bytes_out: AtomicU64::new(0),
        }
    }
}

fn micros(duration: Duration) -> u32 {
    u32::try_from(duration.as_micros()).unwrap_or(u32::MAX)
}

impl RoomFigures {
    /// Notes a tick that took `duration` and started `lateness` after its deadline.
    pub fn record_tick(&self, duration: Duration, lateness: Duration) {
        let slot = self.recorded.load(Ordering::Relaxed) % TICKS_KEPT;
        self.durations_micros[slot].store(micros(duration), Ordering::Relaxed);
        self.lateness_micros[slot].store(micros(lateness), Ordering::Relaxed);
        self.recorded.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `bytes` of snapshots handed to the room's connections.
    pub fn add_bytes(&self, bytes: u64) {
        self.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Snapshot bytes handed out since the room opened.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    /// Percentiles over the last [`TICKS_KEPT`] ticks (all zero before the first).
    pub fn percentiles(&self) -> TickPercentiles {
        let count = self.recorded.load(Ordering::Relaxed).min(TICKS_KEPT);
        let (tick_ms_p50, tick_ms_p99) = percentiles(&self.durations_micros[..count]);
        let (lateness_ms_p50, lateness_ms_p99) = percentiles(&self.lateness_micros[..count]);
        TickPercentiles { tick_ms_p50, tick_ms_p99, lateness_ms_p50, lateness_ms_p99 }
    }
}

/// The p50 and p99 of `values` (microseconds), in milliseconds.
fn percentiles(values: &[AtomicU32]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mut sorted: Vec<u32> = values.iter().map(|v| v.load(Ordering::Relaxed)).collect();
    sorted.sort_unstable();
    let at = |q: f64| f64::from(sorted[((sorted.len() - 1) as f64 * q).round() as usize]) / 1e3;
    (at(0.5), at(0.99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_cover_the_last_ticks_only() {
        let figures = RoomFigures::default();
        assert_eq!(figures.percentiles(), TickPercentiles::default());
        for ms in 1..=100u64 {
            figures.record_tick(Duration::from_millis(ms), Duration::from_millis(ms / 10));
        }
        let p = figures.percentiles();
        assert_eq!((p.tick_ms_p50, p.tick_ms_p99), (51.0, 99.0));
        assert_eq!(p.lateness_ms_p99, 9.0);
        // Old ticks leave the ring: 128 fast ticks replace every slow one.
        for _ in 0..TICKS_KEPT {
            figures.record_tick(Duration::from_micros(500), Duration::ZERO);
        }
        assert_eq!(figures.percentiles().tick_ms_p99, 0.5);
        figures.add_bytes(10);
        figures.add_bytes(5);
        assert_eq!(figures.bytes_out(), 15);
    }
}
