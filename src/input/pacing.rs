//! How full one client's input buffer runs, and the pacing hint that keeps it at its target.
//! Pure: one call per tick with what the buffer held; no clock, no sockets.
//!
//! Each input should reach the server about `target` ticks before the tick that applies it,
//! so that arrival jitter never leaves a tick without one. With regular arrivals the depth
//! at the start of a tick is the same integer every tick whatever the phase of the arrivals
//! within the period: the server only sees the lead cross a whole tick, where the depth steps
//! from `target` to `target + 1`. So it aims for the average depth to sit in
//! `[target + 1/4, target + 5/4]`, which puts the lead just past `target` ticks; jitter only
//! dithers the depth across that step. Outside the band it tells the client to send a little
//! faster or slower (the hint, proportional to the error and bounded); inside it, nothing, so
//! a settled client sends at exactly the tick rate and its predicted motion never changes
//! speed. Round-trip time does not enter the rule: a far client settles later, not elsewhere.
//!
//! The target adapts to jitter: a tick that finds the buffer empty while it was on target
//! raises it (up to [`MAX_TARGET`]); a long calm lowers it again.

/// Units of the pacing hint per send period: a hint of `h` asks the client to send every
/// `period × (1 − h / 64)`.
pub const PACING_UNITS: i32 = 64;
/// The largest hint either way: 4/64, about 6 %. A client's predicted motion changes speed
/// by as much while it converges, which is too little to see.
pub const MAX_PACING: i32 = 4;
/// The lowest target, in ticks of lead.
pub const MIN_TARGET: u32 = 1;
/// The highest target: 4 ticks (133 ms at 30 Hz) absorbs any jitter worth playing through.
pub const MAX_TARGET: u32 = 4;
/// A depth this far above `target + 1` is a backlog, drained faster than one input a tick.
pub const BACKLOG_MARGIN: usize = 2;
/// Weight of one tick's depth in the running average (about 8 ticks of memory).
const DEPTH_SMOOTHING: f32 = 1.0 / 8.0;
/// Hint per input of error: an error of half an input asks for the largest hint.
const HINT_GAIN: f32 = 8.0;
/// Active ticks without a starved one, in multiples of `active_ticks` (one second), after
/// which the target comes down by one.
const CALM_SECONDS_TO_LOWER: u32 = 10;

/// One client's pacing state.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacing {
    /// Running average of the depth at the start of a tick.
    depth: f32,
    /// The lead aimed for, in ticks.
    target: u32,
    /// Ticks since an input last arrived (`u32::MAX` before the first).
    quiet: u32,
    /// Active ticks since the buffer last ran empty or the target last changed.
    calm: u32,
    /// The hint for this tick's snapshot.
    hint: i32,
}

/// What one tick found in a client's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// Whether the client counts as active: an input arrived within `active_ticks`.
    pub active: bool,
    /// Whether the tick had no input for an active client.
    pub starved: bool,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing { depth: 0.0, target: MIN_TARGET, quiet: u32::MAX, calm: 0, hint: 0 }
    }
}

impl Pacing {
    /// The lead aimed for, in ticks (also the spare inputs aimed for).
    pub fn target(&self) -> u32 {
        self.target
    }

    /// The running average of the depth at the start of a tick.
    pub fn average_depth(&self) -> f32 {
        self.depth
    }

    /// The hint for this tick's snapshot, in 1/[`PACING_UNITS`] of a period: positive asks
    /// the client to send faster, negative slower.
    pub fn hint(&self) -> i32 {
        self.hint
    }

    /// Inputs to take this tick from a buffer holding `depth`: one, or `max_per_tick` when
    /// the depth is a backlog well above the target.
    pub fn take(&self, depth: usize, max_per_tick: usize) -> usize {
        if depth > self.target as usize + 1 + BACKLOG_MARGIN { max_per_tick.max(1) } else { 1 }
    }

    /// Records a tick that found `depth` inputs waiting, `arrived` of them new since the last
    /// tick; a client is active while an input arrived within `active_ticks`.
    pub fn observe(&mut self, depth: usize, arrived: usize, active_ticks: u32) -> Observed {
        self.quiet = if arrived > 0 { 0 } else { self.quiet.saturating_add(1) };
        let active = self.quiet < active_ticks.max(1);
        let starved = active && depth == 0;
        let was_on_target = self.depth >= self.target as f32;
        self.depth += (depth as f32 - self.depth) * DEPTH_SMOOTHING;
        if starved {
            self.calm = 0;
            if was_on_target && self.target < MAX_TARGET {
                self.target += 1;
            }
        } else if active {
            self.calm += 1;
            if self.calm >= active_ticks.saturating_mul(CALM_SECONDS_TO_LOWER) {
                self.calm = 0;
                self.target = (self.target - 1).max(MIN_TARGET);
            }
        }
        self.hint = self.steer();
        Observed { active, starved }
    }

    /// The hint for the current average: zero inside the band, else proportional to the
    /// error, at least one unit and at most [`MAX_PACING`].
    fn steer(&self) -> i32 {
        let (low, high) = (self.target as f32 + 0.25, self.target as f32 + 1.25);
        let error = if self.depth < low {
            low - self.depth
        } else if self.depth > high {
            high - self.depth
        } else {
            return 0;
        };
        let size = ((error.abs() * HINT_GAIN).round() as i32).clamp(1, MAX_PACING);
        if error > 0.0 { size } else { -size }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVE: u32 = 30;

    #[test]
    fn a_buffer_below_target_asks_for_more_and_one_above_for_less() {
        let mut pacing = Pacing::default();
        pacing.observe(0, 1, ACTIVE);
        assert_eq!(pacing.hint(), MAX_PACING, "empty: send faster, as fast as allowed");
        for _ in 0..100 {
            pacing.observe(4, 1, ACTIVE);
        }
        assert_eq!(pacing.hint(), -MAX_PACING, "three spare inputs: send slower");
        for _ in 0..100 {
            pacing.observe(2, 1, ACTIVE);
        }
        assert_eq!(pacing.hint(), 0, "depth between target and target + 1: hold the rate");
        for _ in 0..100 {
            pacing.observe(1, 1, ACTIVE);
        }
        assert!(pacing.hint() > 0, "no spare input: a little faster");
    }

    #[test]
    fn starving_on_target_raises_the_target_and_a_calm_lowers_it() {
        let mut pacing = Pacing::default();
        for _ in 0..100 {
            pacing.observe(2, 1, ACTIVE);
        }
        assert_eq!(pacing.observe(0, 0, ACTIVE), Observed { active: true, starved: true });
        assert_eq!(pacing.target(), 2);
        for _ in 0..ACTIVE * CALM_SECONDS_TO_LOWER {
            assert!(!pacing.observe(3, 1, ACTIVE).starved);
        }
        assert_eq!(pacing.target(), 1);
    }

    #[test]
    fn starving_while_still_filling_up_keeps_the_target() {
        let mut pacing = Pacing::default();
        pacing.observe(1, 1, ACTIVE);
        assert!(pacing.observe(0, 0, ACTIVE).starved);
        assert_eq!(pacing.target(), MIN_TARGET);
    }

    #[test]
    fn a_quiet_client_is_not_starved() {
        let mut pacing = Pacing::default();
        assert!(!pacing.observe(0, 0, ACTIVE).active, "never sent");
        pacing.observe(1, 1, ACTIVE);
        for _ in 1..ACTIVE {
            assert!(pacing.observe(0, 0, ACTIVE).starved);
        }
        assert_eq!(pacing.observe(0, 0, ACTIVE), Observed { active: false, starved: false });
    }

    #[test]
    fn only_a_backlog_well_above_target_is_drained_faster() {
        let pacing = Pacing::default();
        assert_eq!(pacing.take(4, 2), 1);
        assert_eq!(pacing.take(5, 2), 2);
    }
}
