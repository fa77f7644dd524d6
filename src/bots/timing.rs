//! When a bot sends its inputs: at the tick rate, sped up or slowed down by the server's
//! pacing hint.
//!
//! The server applies one input per tick and measures how long before its tick each input
//! arrives (`crate::input::pacing`). It aims for a few milliseconds more than the arrivals'
//! jitter and says in every snapshot whether inputs come too late or too early: a hint of `h`
//! asks for an input every `period × (1 − h / 64)`. The bot follows the latest hint, bounded
//! to ±[`MAX_PACING`], so its inputs reach the server just before the ticks that apply them
//! whatever the round-trip time: nothing here measures it.
//! The same rule as `InputTiming` in `client-demo/tickwire/clock.js`.

use crate::input::pacing::{MAX_PACING, PACING_UNITS};
use std::time::{Duration, Instant};

/// One bot's input clock.
#[derive(Debug, Clone)]
pub struct InputTiming {
    period: Duration,
    next: Instant,
    pacing: i32,
}

impl InputTiming {
    /// A clock for `period` ticks whose first input is due one period after `start`.
    pub fn new(period: Duration, start: Instant) -> InputTiming {
        InputTiming { period, next: start + period, pacing: 0 }
    }

    /// When the next input is due.
    pub fn next(&self) -> Instant {
        self.next
    }

    /// The hint being followed (positive: faster).
    pub fn pacing(&self) -> i32 {
        self.pacing
    }

    /// The time between inputs now: the period scaled by the hint.
    pub fn paced_period(&self) -> Duration {
        self.period * (PACING_UNITS - self.pacing) as u32 / PACING_UNITS as u32
    }

    /// Records that an input was sent at `now`: the next is due a paced period after this
    /// one was due, so a late timer does not drift the clock; a send more than a period late
    /// (a stall) starts the clock again from `now`.
    pub fn sent(&mut self, now: Instant) {
        let from = if now > self.next + self.period { now } else { self.next };
        self.next = from + self.paced_period();
    }

    /// Records a snapshot's pacing hint; the next send after it follows it.
    pub fn snapshot(&mut self, pacing: i32) {
        self.pacing = pacing.clamp(-MAX_PACING, MAX_PACING);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{DrainRules, Inputs};
    use std::collections::VecDeque;

    const PERIOD: Duration = Duration::from_micros(33_333);

    #[test]
    fn inputs_go_out_every_period_scaled_by_the_hint() {
        let start = Instant::now();
        let mut timing = InputTiming::new(PERIOD, start);
        assert_eq!(timing.next(), start + PERIOD);
        timing.sent(start + PERIOD);
        assert_eq!(timing.next(), start + 2 * PERIOD);
        timing.snapshot(4);
        timing.sent(start + 2 * PERIOD);
        assert_eq!(timing.next(), start + 2 * PERIOD + PERIOD * 60 / 64, "faster");
        timing.snapshot(-100);
        assert_eq!(timing.pacing(), -MAX_PACING, "bounded");
        assert_eq!(timing.paced_period(), PERIOD * 68 / 64, "slower");
    }

    #[test]
    fn a_late_timer_keeps_the_grid_and_a_stall_restarts_it() {
        let start = Instant::now();
        let mut timing = InputTiming::new(PERIOD, start);
        timing.sent(start + PERIOD + Duration::from_millis(3));
        assert_eq!(timing.next(), start + 2 * PERIOD);
        let stalled = start + 10 * PERIOD;
        timing.sent(stalled);
        assert_eq!(timing.next(), stalled + PERIOD);
    }

    /// One direction of a TCP link: a base delay, uniform jitter either way, in order.
    struct Link {
        base: Duration,
        jitter: Duration,
        last: Instant,
        rng: fastrand::Rng,
    }

    impl Link {
        fn arrival(&mut self, sent: Instant) -> Instant {
            // Uniform in base ± jitter (the base is at least the jitter here).
            let at = sent
                + self.base.saturating_sub(self.jitter)
                + (self.jitter * 2).mul_f64(self.rng.f64());
            self.last = at.max(self.last).max(sent);
            self.last
        }
    }

    /// What a simulated run saw after its first ten seconds.
    #[derive(Debug, Default)]
    struct Seen {
        ticks: u64,
        starved: u64,
        multiple: u64,
        mean_depth: f64,
        /// Mean and least lead of the inputs applied, in ms.
        mean_lead_ms: f64,
        min_lead_ms: f64,
        /// Mean lead aimed for and mean jitter measured, in ms.
        aim_ms: f64,
        jitter_ms: f64,
    }

    /// A client following the hint behind `rtt` with `jitter` each way, feeding a server
    /// buffer ticking at 30 Hz for `seconds`; the client's clock starts at a random phase.
    fn simulate(rtt: Duration, jitter: Duration, seconds: u32, seed: u64) -> Seen {
        let start = Instant::now();
        let mut rng = fastrand::Rng::with_seed(seed);
        let link = |rng: &mut fastrand::Rng| Link {
            base: rtt / 2,
            jitter,
            last: start,
            rng: fastrand::Rng::with_seed(rng.u64(..)),
        };
        let (mut up, mut down) = (link(&mut rng), link(&mut rng));
        let mut timing = InputTiming::new(PERIOD, start + PERIOD.mul_f64(rng.f64()));
        let mut inputs = Inputs::<u32>::new(8);
        let rules = DrainRules { max_per_tick: 2, active_ticks: 30, period: PERIOD };
        let (mut to_server, mut to_client) = (VecDeque::new(), VecDeque::new());
        let (mut seq, mut seen) = (0, Seen { min_lead_ms: f64::MAX, ..Seen::default() });
        let (mut depth_sum, mut lead_sum, mut leads) = (0, 0.0, 0);
        let (mut aim_sum, mut jitter_sum) = (0.0, 0.0);
        for n in 1..=u64::from(seconds) * 30 {
            let tick_at = start + PERIOD * n as u32;
            // The client, in time order, up to the tick: snapshots arriving and sends.
            loop {
                let snapshot = to_client.front().map(|&(at, _)| at);
                if let Some(at) = snapshot.filter(|&at| at <= timing.next() && at <= tick_at) {
                    let (_, hint) = to_client.pop_front().unwrap_or((at, 0));
                    timing.snapshot(hint);
                } else if timing.next() <= tick_at {
                    let sent = timing.next();
                    seq += 1;
                    to_server.push_back((up.arrival(sent), seq));
                    timing.sent(sent);
                } else {
                    break;
                }
            }
            while to_server.front().is_some_and(|&(at, _)| at <= tick_at) {
                if let Some((at, seq)) = to_server.pop_front() {
                    inputs.push(seq, seq, at);
                }
            }
            let advanced = inputs.advance(rules, tick_at);
            to_client.push_back((down.arrival(tick_at), inputs.pacing().hint()));
            if n > 300 {
                seen.ticks += 1;
                seen.starved += u64::from(advanced.starved);
                seen.multiple += u64::from(advanced.taken > 1);
                depth_sum += advanced.depth as u64;
                aim_sum += f64::from(inputs.pacing().aim()) * 1e3;
                jitter_sum += f64::from(inputs.pacing().jitter()) * 1e3;
                if let Some(lead) = advanced.lead {
                    let lead_ms = f64::from(lead) * 1e3;
                    (lead_sum, leads) = (lead_sum + lead_ms, leads + 1);
                    seen.min_lead_ms = seen.min_lead_ms.min(lead_ms);
                }
            }
        }
        seen.mean_depth = depth_sum as f64 / seen.ticks.max(1) as f64;
        seen.mean_lead_ms = lead_sum / f64::from(leads.max(1));
        seen.aim_ms = aim_sum / seen.ticks.max(1) as f64;
        seen.jitter_ms = jitter_sum / seen.ticks.max(1) as f64;
        seen
    }

    /// The lead settles on its aim and stays there: a few milliseconds on a clean link,
    /// enough to cover the jitter on a jittery one; no tick without an input and none with
    /// two, at any round-trip time.
    #[test]
    fn the_lead_settles_on_its_aim_at_any_rtt() {
        for (rtt_ms, jitter_ms) in [(1, 0), (100, 10), (300, 10), (100, 25), (300, 40)] {
            for seed in 1..=3 {
                let rtt = Duration::from_millis(rtt_ms);
                let seen = simulate(rtt, Duration::from_millis(jitter_ms), 60, seed);
                let case = format!("{rtt_ms} ms ± {jitter_ms} ms, seed {seed}: {seen:?}");
                assert_eq!(seen.starved, 0, "no tick without an input: {case}");
                assert_eq!(seen.multiple, 0, "no backlog once settled: {case}");
                let band = seen.aim_ms - 2.0..=seen.aim_ms + seen.jitter_ms.max(2.0) + 2.0;
                assert!(band.contains(&seen.mean_lead_ms), "the lead on its aim: {case}");
                if jitter_ms == 0 {
                    assert!(seen.mean_lead_ms < 6.0, "a few ms ahead on a clean link: {case}");
                } else {
                    // The cushion follows the jitter, which is spread over twice `jitter_ms`.
                    let most = 3.0 + 3.0 * jitter_ms as f64;
                    assert!(seen.aim_ms < most, "no more cushion than the jitter needs: {case}");
                }
            }
        }
    }
}
