//! Fixed-size histograms that every bot records into: bounded memory, no locks, no
//! allocation per sample.
//!
//! Values are integers in a base unit (microseconds, bytes) counted in equal-width buckets;
//! a value past the last bucket is counted as overflow and still feeds `max`, `sum` and the
//! mean. Percentiles report the upper bound of the bucket holding the rank (never more than
//! `max`), so their error is at most one bucket width.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A histogram of equal-width buckets over `0..width × buckets`.
#[derive(Debug)]
pub struct Histogram {
    width: u64,
    counts: Box<[AtomicU64]>,
    overflow: AtomicU64,
    count: AtomicU64,
    sum: AtomicU64,
    sum_squares: AtomicU64,
    max: AtomicU64,
}

/// Count, mean, standard deviation and percentiles, in the histogram's base unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Samples.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub stddev: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
}

impl Histogram {
    /// `buckets` buckets of `width` units each (both at least 1).
    pub fn new(width: u64, buckets: usize) -> Histogram {
        Histogram {
            width: width.max(1),
            counts: (0..buckets.max(1)).map(|_| AtomicU64::new(0)).collect(),
            overflow: AtomicU64::new(0),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            sum_squares: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }

    /// Counts one sample.
    pub fn record(&self, value: u64) {
        let index = (value / self.width) as usize;
        match self.counts.get(index) {
            Some(bucket) => bucket.fetch_add(1, Relaxed),
            None => self.overflow.fetch_add(1, Relaxed),
        };
        self.count.fetch_add(1, Relaxed);
        self.sum.fetch_add(value, Relaxed);
        self.sum_squares.fetch_add(value.saturating_mul(value), Relaxed);
        self.max.fetch_max(value, Relaxed);
    }

    /// Samples counted.
    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// The value at quantile `q` (0..=1): the upper bound of the bucket holding that rank,
    /// capped at the largest sample; 0 without samples.
    pub fn quantile(&self, q: f64) -> u64 {
        let count = self.count();
        if count == 0 {
            return 0;
        }
        let max = self.max.load(Relaxed);
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, bucket) in self.counts.iter().enumerate() {
            seen += bucket.load(Relaxed);
            if seen >= rank {
                return ((index as u64 + 1) * self.width).min(max);
            }
        }
        max
    }

    /// Everything at once, scaled by `scale` (e.g. 0.001 to turn microseconds into ms).
    pub fn summary(&self, scale: f64) -> Summary {
        let count = self.count();
        if count == 0 {
            return Summary::default();
        }
        let n = count as f64;
        let mean = self.sum.load(Relaxed) as f64 / n;
        let variance = (self.sum_squares.load(Relaxed) as f64 / n - mean * mean).max(0.0);
        let at = |q| self.quantile(q) as f64 * scale;
        Summary {
            count,
            mean: mean * scale,
            stddev: variance.sqrt() * scale,
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: self.max.load(Relaxed) as f64 * scale,
        }
    }
}

/// Interpolated quantile over Prometheus-style buckets: `(upper bound, count in bucket)`,
/// bounds ascending, the first bucket starting at 0. Within a bucket samples are taken as
/// spread evenly; a rank in the `+Inf` bucket reports the last finite bound.
pub fn bucket_quantile(buckets: &[(f64, f64)], q: f64) -> f64 {
    let total: f64 = buckets.iter().map(|&(_, n)| n).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let rank = q.clamp(0.0, 1.0) * total;
    let (mut lower, mut seen) = (0.0, 0.0);
    for &(upper, n) in buckets {
        if !upper.is_finite() {
            return lower;
        }
        if n > 0.0 && seen + n >= rank {
            return lower + (upper - lower) * ((rank - seen) / n).clamp(0.0, 1.0);
        }
        seen += n;
        lower = upper;
    }
    lower
}

/// The upper bound of the highest non-empty bucket (the last finite bound if that is
/// `+Inf`); 0 when all are empty.
pub fn bucket_max(buckets: &[(f64, f64)]) -> f64 {
    let mut lower = 0.0;
    let mut max = 0.0;
    for &(upper, n) in buckets {
        if n > 0.0 {
            max = if upper.is_finite() { upper } else { lower };
        }
        if upper.is_finite() {
            lower = upper;
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_bucket_upper_bounds_capped_at_the_max() {
        let h = Histogram::new(100, 10);
        for v in 1..=100 {
            h.record(v * 5); // 5..=500
        }
        assert_eq!(h.quantile(0.5), 300); // rank 50 is 250: bucket 200..300
        assert_eq!(h.quantile(0.99), 500); // bucket 400..500
        assert_eq!(h.quantile(1.0), 500);
        assert_eq!(h.quantile(0.01), 100);
        let s = h.summary(0.001);
        assert_eq!(s.count, 100);
        assert!((s.mean - 0.2525).abs() < 1e-9);
        assert!((s.max - 0.5).abs() < 1e-9);
    }

    #[test]
    fn overflow_feeds_max_and_high_quantiles() {
        let h = Histogram::new(10, 2);
        h.record(5);
        h.record(1_000);
        assert_eq!(h.quantile(0.5), 10);
        assert_eq!(h.quantile(0.99), 1_000);
        assert_eq!(Histogram::new(1, 1).quantile(0.5), 0);
    }

    #[test]
    fn stddev_of_constant_is_zero_and_of_two_points_is_half_the_gap() {
        let h = Histogram::new(1, 100);
        h.record(10);
        h.record(10);
        assert_eq!(h.summary(1.0).stddev, 0.0);
        h.record(20);
        h.record(20);
        assert!((h.summary(1.0).stddev - 5.0).abs() < 1e-9);
    }

    #[test]
    fn bucket_quantile_interpolates_within_a_bucket() {
        let buckets = [(1.0, 0.0), (2.0, 10.0), (4.0, 10.0), (f64::INFINITY, 0.0)];
        assert!((bucket_quantile(&buckets, 0.25) - 1.5).abs() < 1e-9);
        assert!((bucket_quantile(&buckets, 0.5) - 2.0).abs() < 1e-9);
        assert!((bucket_quantile(&buckets, 0.99) - 3.96).abs() < 1e-9);
        assert_eq!(bucket_max(&buckets), 4.0);
        assert_eq!(bucket_quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn ranks_in_the_inf_bucket_report_the_last_finite_bound() {
        let buckets = [(1.0, 1.0), (2.0, 0.0), (f64::INFINITY, 9.0)];
        assert_eq!(bucket_quantile(&buckets, 0.99), 2.0);
        assert_eq!(bucket_max(&buckets), 2.0);
    }
}
