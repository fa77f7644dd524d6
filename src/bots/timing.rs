//! When a bot sends its inputs: just before the server's tick that applies them.
//!
//! The server drains inputs at the start of each tick. An input that lands just after that
//! waits a whole tick, one that lands just before is applied at once, so the phase at which
//! a client sends decides most of its input latency. A client that sends on its own clock,
//! started at the Welcome (which leaves the server at the start of a tick), sends just after
//! every tick and pays the whole period each time.
//!
//! The bot instead locks its sends to the snapshots it receives: the next input goes out
//! `lead` before the next snapshot is expected, and `lead` adapts to the outcome. An input
//! reflected in the first snapshot after it was sent was on time; one that needed a later
//! snapshot was late and missed its tick. Late inputs add [`LATE_STEP`] to the lead; on-time
//! ones take off [`ON_TIME_STEP`], so the lead settles where about one input in
//! `LATE_STEP / ON_TIME_STEP` (160) is late, so the p99 of input latency stays on time, and
//! at 30 Hz the lead comes down by 1.5 ms a second when nothing is late.

use std::time::{Duration, Instant};

/// Added to the lead for each late input.
pub const LATE_STEP: Duration = Duration::from_millis(8);
/// Taken off the lead for each on-time input.
pub const ON_TIME_STEP: Duration = Duration::from_micros(50);
/// The lead never goes below this.
const MIN_LEAD: Duration = Duration::from_millis(1);

/// One bot's input clock.
#[derive(Debug, Clone)]
pub struct InputTiming {
    period: Duration,
    lead: Duration,
    next: Instant,
    last_sent: Option<Instant>,
}

impl InputTiming {
    /// A clock for `period` ticks whose first input is due one period after `start`; the lead
    /// starts at a quarter of a period.
    pub fn new(period: Duration, start: Instant) -> InputTiming {
        InputTiming { period, lead: period / 4, next: start + period, last_sent: None }
    }

    /// When the next input is due.
    pub fn next(&self) -> Instant {
        self.next
    }

    /// How long before the expected snapshot inputs are sent now.
    pub fn lead(&self) -> Duration {
        self.lead
    }

    /// Records that an input was sent at `now`: the next is due a period later unless a
    /// snapshot moves it.
    pub fn sent(&mut self, now: Instant) {
        self.last_sent = Some(now);
        self.next = now + self.period;
    }

    /// Records that a snapshot arrived at `now`: the next snapshot is expected a period
    /// later, and the next input is due `lead` before it. Never earlier than half a period
    /// after the last input, so one tick never gets two inputs.
    pub fn snapshot(&mut self, now: Instant) {
        let due = (now + self.period).checked_sub(self.lead).unwrap_or(now);
        let earliest = self.last_sent.map_or(due, |sent| sent + self.period / 2);
        self.next = due.max(earliest).max(now);
    }

    /// Records whether an input was reflected in the first snapshot after it was sent.
    pub fn acked(&mut self, on_time: bool) {
        let max_lead = self.period.saturating_sub(MIN_LEAD);
        self.lead = if on_time {
            self.lead.saturating_sub(ON_TIME_STEP).max(MIN_LEAD)
        } else {
            (self.lead + LATE_STEP).min(max_lead)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_micros(33_333);

    #[test]
    fn inputs_go_out_lead_before_the_next_snapshot() {
        let start = Instant::now();
        let mut timing = InputTiming::new(PERIOD, start);
        assert_eq!(timing.next(), start + PERIOD);
        let arrival = start + Duration::from_millis(5);
        timing.snapshot(arrival);
        assert_eq!(timing.next(), arrival + PERIOD - PERIOD / 4);
    }

    #[test]
    fn late_inputs_raise_the_lead_and_on_time_ones_lower_it() {
        let mut timing = InputTiming::new(PERIOD, Instant::now());
        let first = timing.lead();
        timing.acked(false);
        assert_eq!(timing.lead(), first + LATE_STEP);
        timing.acked(true);
        assert_eq!(timing.lead(), first + LATE_STEP - ON_TIME_STEP);
        for _ in 0..10_000 {
            timing.acked(true);
        }
        assert_eq!(timing.lead(), MIN_LEAD);
        for _ in 0..100 {
            timing.acked(false);
        }
        assert_eq!(timing.lead(), PERIOD - MIN_LEAD);
    }

    #[test]
    fn a_tick_never_gets_two_inputs() {
        let start = Instant::now();
        let mut timing = InputTiming::new(PERIOD, start);
        for _ in 0..100 {
            timing.acked(false);
        }
        // The lead is nearly a period: right after a send, a snapshot would put the next
        // input almost at once.
        let sent = start + PERIOD;
        timing.sent(sent);
        timing.snapshot(sent + Duration::from_millis(1));
        assert_eq!(timing.next(), sent + PERIOD / 2);
    }

    #[test]
    fn a_snapshot_never_schedules_an_input_in_the_past() {
        let start = Instant::now();
        let mut timing = InputTiming::new(PERIOD, start);
        for _ in 0..100 {
            timing.acked(false);
        }
        let arrival = start + 10 * PERIOD;
        timing.snapshot(arrival);
        assert!(timing.next() >= arrival);
    }
}
