//! One direction of an emulated link: given when a chunk arrived and how big it is, when it
//! may leave. Pure: no sockets, no clock (the caller passes the arrival time in), and the
//! only randomness is the seeded [`fastrand::Rng`] it owns, so a seed replays a run exactly.
//!
//! The model, in the order a chunk meets it:
//!
//! 1. **Serialization** (`bandwidth`): the link sends one chunk at a time; a chunk starts when
//!    it arrives or when the one before it is done, whichever is later, and takes
//!    `size / bandwidth`.
//! 2. **Propagation** (`delay`, `jitter`): `delay + s` more, `s` drawn from a normal
//!    distribution with standard deviation `jitter`, clamped so that `delay + s >= 0`.
//! 3. **Stall** (`loss`, `stall`): with probability `loss`, `stall` more, standing for a TCP
//!    retransmission.
//! 4. **No reordering**: the release time is at least the previous chunk's. TCP never hands
//!    bytes out of order, so a chunk held back (by jitter or a stall) holds back everything
//!    behind it, as netem does with a rate or a limit set.

use std::time::{Duration, Instant};

/// How one direction of the link behaves. `Default` is a perfect link: no delay, no jitter,
/// unlimited bandwidth, no loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkConfig {
    /// One-way delay added to every chunk.
    pub delay: Duration,
    /// Standard deviation of the normal sample added to `delay`, per chunk.
    pub jitter: Duration,
    /// Bytes per second the link serializes; `None` is unlimited.
    pub bandwidth: Option<u64>,
    /// Probability (0 to 1) that a chunk stalls for `stall`, with everything behind it.
    pub loss: f64,
    /// How long a "lost" chunk is held: about one retransmission timeout.
    pub stall: Duration,
}

/// The stall a loss costs when none is given: Linux's minimum retransmission timeout.
pub const DEFAULT_STALL: Duration = Duration::from_millis(200);

impl Default for LinkConfig {
    fn default() -> LinkConfig {
        LinkConfig {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            bandwidth: None,
            loss: 0.0,
            stall: DEFAULT_STALL,
        }
    }
}

impl LinkConfig {
    /// Checks the figures: `loss` within 0 to 1, `bandwidth` above zero.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.loss) {
            return Err(format!("loss {} is not a probability between 0 and 1", self.loss));
        }
        if self.bandwidth == Some(0) {
            return Err("bandwidth 0 would never deliver a byte".into());
        }
        Ok(())
    }
}

/// The scheduler of one direction. Feed it chunks in arrival order with [`Link::schedule`].
#[derive(Debug, Clone)]
pub struct Link {
    config: LinkConfig,
    rng: fastrand::Rng,
    /// When the serializer is free for the next chunk.
    busy_until: Option<Instant>,
    /// The last release time handed out; no later chunk leaves before it.
    last_release: Option<Instant>,
}

impl Link {
    /// A link with these figures whose random draws follow `seed`.
    pub fn new(config: LinkConfig, seed: u64) -> Link {
        Link { config, rng: fastrand::Rng::with_seed(seed), busy_until: None, last_release: None }
    }

    /// The figures this link applies.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// When a chunk of `size` bytes that arrived at `arrival` may be written out. Arrival
    /// times must not go backwards between calls; release times never do.
    pub fn schedule(&mut self, arrival: Instant, size: usize) -> Instant {
        let sent = self.serialize(arrival, size);
        let mut release = sent + self.propagation();
        if self.config.loss > 0.0 && self.rng.f64() < self.config.loss {
            release += self.config.stall;
        }
        let release = self.last_release.map_or(release, |last| last.max(release));
        self.last_release = Some(release);
        release
    }

    /// When the last byte of the chunk is on the wire.
    fn serialize(&mut self, arrival: Instant, size: usize) -> Instant {
        let Some(bandwidth) = self.config.bandwidth else { return arrival };
        let start = self.busy_until.map_or(arrival, |busy| busy.max(arrival));
        let nanos = size as u128 * 1_000_000_000 / u128::from(bandwidth.max(1));
        let done = start + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.busy_until = Some(done);
        done
    }

    /// `delay` plus a normal sample of standard deviation `jitter`, never below zero.
    fn propagation(&mut self) -> Duration {
        if self.config.jitter.is_zero() {
            return self.config.delay;
        }
        let sample = standard_normal(&mut self.rng) * self.config.jitter.as_secs_f64();
        let seconds = (self.config.delay.as_secs_f64() + sample).max(0.0);
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
    }
}

/// One draw from N(0, 1) by the Box-Muller transform.
fn standard_normal(rng: &mut fastrand::Rng) -> f64 {
    // 1 - f64() lies in (0, 1], so the logarithm is finite.
    let radius = (-2.0 * (1.0 - rng.f64()).ln()).sqrt();
    radius * (std::f64::consts::TAU * rng.f64()).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn link(config: LinkConfig) -> Link {
        Link::new(config, 7)
    }

    fn ms(duration: Duration) -> f64 {
        duration.as_secs_f64() * 1e3
    }

    #[test]
    fn a_perfect_link_releases_at_arrival() {
        let mut link = link(LinkConfig::default());
        let t0 = Instant::now();
        assert_eq!(link.schedule(t0, 100), t0);
        assert_eq!(link.schedule(t0 + MS, 1_000_000), t0 + MS);
    }

    #[test]
    fn a_fixed_delay_is_added_to_every_chunk() {
        let mut link = link(LinkConfig { delay: 50 * MS, ..LinkConfig::default() });
        let t0 = Instant::now();
        for i in 0..10 {
            assert_eq!(link.schedule(t0 + i * MS, 10), t0 + i * MS + 50 * MS);
        }
    }

    #[test]
    fn jitter_never_reorders_and_never_releases_early() {
        let config = LinkConfig { delay: 5 * MS, jitter: 20 * MS, ..LinkConfig::default() };
        let mut link = link(config);
        let t0 = Instant::now();
        let mut previous = t0;
        for i in 0..10_000 {
            let arrival = t0 + i * Duration::from_micros(100);
            let release = link.schedule(arrival, 64);
            assert!(release >= previous, "chunk {i} would overtake the one before");
            assert!(release >= arrival, "chunk {i} would leave before it arrived");
            previous = release;
        }
    }

    #[test]
    fn delays_have_the_configured_mean_and_standard_deviation() {
        let config = LinkConfig { delay: 50 * MS, jitter: 10 * MS, ..LinkConfig::default() };
        let mut link = link(config);
        let t0 = Instant::now();
        // Chunks a second apart, so ordering never holds one back and each delay is a sample.
        let delays: Vec<f64> = (0..20_000)
            .map(|i| {
                let arrival = t0 + Duration::from_secs(i);
                ms(link.schedule(arrival, 1) - arrival)
            })
            .collect();
        let n = delays.len() as f64;
        let mean = delays.iter().sum::<f64>() / n;
        let std = (delays.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((mean - 50.0).abs() < 0.5, "mean {mean} ms");
        assert!((std - 10.0).abs() < 0.5, "standard deviation {std} ms");
    }

    #[test]
    fn a_sample_below_minus_delay_is_clamped_to_zero() {
        let config = LinkConfig { delay: MS, jitter: 50 * MS, ..LinkConfig::default() };
        let mut link = link(config);
        let t0 = Instant::now();
        let zero = (0..1_000)
            .filter(|&i| {
                let arrival = t0 + Duration::from_secs(i);
                link.schedule(arrival, 1) == arrival
            })
            .count();
        // P(N(1, 50) < 0) is about 0.49.
        assert!((400..600).contains(&zero), "{zero} of 1000 released at once");
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let config =
            LinkConfig { delay: 50 * MS, jitter: 10 * MS, loss: 0.1, ..LinkConfig::default() };
        let t0 = Instant::now();
        let run = |seed| {
            let mut link = Link::new(config, seed);
            (0..100).map(|i| link.schedule(t0 + i * MS, 100)).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn bandwidth_serializes_chunks_one_after_another() {
        let config = LinkConfig { bandwidth: Some(1_000), delay: 10 * MS, ..LinkConfig::default() };
        let mut link = link(config);
        let t0 = Instant::now();
        // 100 bytes at 1000 B/s: 100 ms on the wire, then 10 ms of delay.
        assert_eq!(link.schedule(t0, 100), t0 + 110 * MS);
        // Arrives while the first is still being sent: waits for it, then 50 ms of its own.
        assert_eq!(link.schedule(t0 + 20 * MS, 50), t0 + 160 * MS);
        // Arrives after the link went idle: starts at once.
        assert_eq!(link.schedule(t0 + 500 * MS, 10), t0 + 520 * MS);
    }

    #[test]
    fn a_megabyte_at_a_megabit_takes_eight_seconds() {
        let config = LinkConfig { bandwidth: Some(125_000), ..LinkConfig::default() };
        let mut link = link(config);
        let t0 = Instant::now();
        let last = (0..64).map(|_| link.schedule(t0, 16_384)).last();
        assert_eq!(last, Some(t0 + Duration::from_nanos(8_388_608_000)));
    }

    #[test]
    fn a_stall_holds_the_chunk_and_everything_behind_it() {
        let stall = 200 * MS;
        let config = LinkConfig { delay: 10 * MS, loss: 1.0, stall, ..LinkConfig::default() };
        let mut stalled = link(config);
        let t0 = Instant::now();
        assert_eq!(stalled.schedule(t0, 10), t0 + 210 * MS);

        // One stall in a stream without loss: the chunks behind it wait for it.
        let mut link = link(LinkConfig { delay: 10 * MS, stall, ..LinkConfig::default() });
        let first = link.schedule(t0, 10);
        link.config.loss = 1.0;
        let lost = link.schedule(t0 + MS, 10);
        link.config.loss = 0.0;
        let behind = link.schedule(t0 + 2 * MS, 10);
        assert_eq!(first, t0 + 10 * MS);
        assert_eq!(lost, t0 + 211 * MS);
        assert_eq!(behind, lost, "held behind the stalled chunk, not reordered before it");
        assert_eq!(link.schedule(t0 + 300 * MS, 10), t0 + 310 * MS, "recovers after");
    }

    #[test]
    fn loss_stalls_about_the_given_share_of_chunks() {
        let config = LinkConfig { loss: 0.1, stall: 100 * MS, ..LinkConfig::default() };
        let mut link = link(config);
        let t0 = Instant::now();
        let stalled = (0..10_000)
            .filter(|&i| {
                let arrival = t0 + Duration::from_secs(i);
                link.schedule(arrival, 1) > arrival
            })
            .count();
        assert!((900..1_100).contains(&stalled), "{stalled} of 10000 stalled");
    }

    #[test]
    fn validate_refuses_a_loss_outside_zero_to_one_and_zero_bandwidth() {
        assert!(LinkConfig { loss: 2.0, ..LinkConfig::default() }.validate().is_err());
        assert!(LinkConfig { loss: -0.1, ..LinkConfig::default() }.validate().is_err());
        assert!(LinkConfig { loss: f64::NAN, ..LinkConfig::default() }.validate().is_err());
        assert!(LinkConfig { bandwidth: Some(0), ..LinkConfig::default() }.validate().is_err());
        assert!(LinkConfig { loss: 1.0, ..LinkConfig::default() }.validate().is_ok());
    }
}
