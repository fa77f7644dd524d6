//! How early one client's inputs reach the server, and the pacing hint that keeps them
//! arriving just before the ticks that apply them. Pure: one call per tick with what the
//! buffer held and how early its input came; no clock, no sockets.
//!
//! An input's **lead** is the time from its arrival to the start of the tick that applies it.
//! It is all waiting: an input that arrives 2 ms before its tick is applied as soon as one
//! that arrives 30 ms before. But an input that arrives after its tick started leaves that
//! tick without one, so the lead needs a cushion as large as the arrivals' jitter, and no
//! larger. The server measures each lead directly (the tick passes it in), keeps a running
//! mean of it and of its jitter (the mean difference between consecutive leads), and aims the
//! mean at `MIN_LEAD + JITTER_COVER × jitter + raise`, never more than [`MAX_LEAD_TICKS`]. On a clean
//! link that is a few milliseconds; on a jittery one, enough that the earliest arrivals still
//! make their tick.
//!
//! Below the aim it tells the client to send a little faster, above `aim + band` slower (the
//! hint, proportional to the error and bounded); inside the band, nothing, so a settled client
//! sends at exactly the tick rate and its predicted motion never changes speed. Round-trip
//! time does not enter the rule: a far client settles later, not elsewhere.
//!
//! Jitter the estimate misses shows as a tick that finds the buffer empty. The input it missed
//! is applied at a later tick, which measures how late it came: if the lead was on its aim,
//! the aim rises by that lateness (the `raise`), unless it was more than
//! [`MAX_COVERED_LATENESS_TICKS`] (a stall, which no cushion worth its latency absorbs). Each
//! calm spell of ten seconds halves the raise.

/// Units of the pacing hint per send period: a hint of `h` asks the client to send every
/// `period × (1 − h / 64)`.
pub const PACING_UNITS: i32 = 64;
/// The largest hint either way: 4/64, about 6 %. A client's predicted motion changes speed
/// by as much while it converges, which is too little to see. At that rate a lead one tick
/// off takes 16 periods to put right.
pub const MAX_PACING: i32 = 4;
/// The least lead aimed for, in seconds: 3 ms covers the server's own wake-up jitter and the
/// time between reading an input and the tick draining it.
pub const MIN_LEAD: f32 = 0.003;
/// The most lead aimed for, in ticks: 4 ticks (133 ms at 30 Hz) absorbs any jitter worth
/// playing through.
pub const MAX_LEAD_TICKS: f32 = 4.0;
/// The latest an input may come, in ticks after the tick it missed, for the aim to rise by as
/// much: half a tick (17 ms at 30 Hz). A later one is a stall (a retransmission, a client
/// that froze), which no cushion worth its latency absorbs: raising the aim for it would add
/// its length to every input for seconds, and the buffer keeps the burst that follows.
pub const MAX_COVERED_LATENESS_TICKS: f32 = 0.5;
/// What a raise adds to the lateness it covers, in seconds.
const RAISE_MARGIN: f32 = 0.001;
/// A depth this far above the depth the aim needs is a backlog, drained faster than one
/// input a tick.
pub const BACKLOG_MARGIN: usize = 2;
/// Jitters of cushion in the aim. With leads spread evenly over ± `a` the jitter (mean
/// difference between consecutive leads) is `2a/3`, so 2.5 jitters are `1.7 a`; with a normal
/// spread of σ it is `1.13 σ`, so 2.5 jitters are `2.8 σ`. The misses of a longer tail raise
/// the aim by as much as they need.
const JITTER_COVER: f32 = 2.5;
/// The narrowest band above the aim in which the hint is zero, in seconds; it widens with the
/// jitter, so that the noise of the mean does not make it hunt.
const MIN_BAND: f32 = 0.002;
/// Weight of one lead in the running mean (about 4 ticks of memory: the mean must follow
/// the lead closely while it converges, or the hint overshoots).
const LEAD_SMOOTHING: f32 = 1.0 / 4.0;
/// Weight of one difference in the running jitter (about 16 ticks of memory).
const JITTER_SMOOTHING: f32 = 1.0 / 16.0;
/// Hint per tick of error: an error of a quarter tick asks for one unit, of a tick for the
/// largest hint. Gentle, so that the round trip the hint takes to act does not make it
/// overshoot.
const HINT_GAIN: f32 = 4.0;
/// Active ticks without a starved one, in multiples of `active_ticks` (one second), after
/// which the raise is halved.
const CALM_SECONDS_TO_LOWER: u32 = 10;

/// One client's pacing state.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacing {
    /// Running mean of the lead, in seconds; `None` before the first input is applied.
    lead: Option<f32>,
    /// Running mean of the difference between consecutive leads, in seconds.
    jitter: f32,
    /// The last tick's lead, if it applied an input.
    previous: Option<f32>,
    /// Lead added to the aim by starved ticks, in seconds.
    raise: f32,
    /// Starved ticks in a row just before this one.
    missed: u32,
    /// Whether the lead was on its aim when the current run of starved ticks began.
    missed_on_aim: bool,
    /// The lead aimed for, in seconds, as of the last tick.
    aim: f32,
    /// The aim in ticks, as of the last tick.
    aim_ticks: f32,
    /// Ticks since an input last arrived (`u32::MAX` before the first).
    quiet: u32,
    /// Active ticks since the buffer last ran empty or the aim last came down.
    calm: u32,
    /// The hint for this tick's snapshot.
    hint: i32,
}

/// What one tick found in and took from a client's buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen {
    /// Inputs waiting at the start of the tick.
    pub depth: usize,
    /// Inputs that arrived since the last tick.
    pub arrived: usize,
    /// Lead of the newest input the tick applied, in seconds (negative if it arrived after
    /// the tick started); `None` if it applied none.
    pub lead: Option<f32>,
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
        Pacing {
            lead: None,
            jitter: 0.0,
            previous: None,
            raise: 0.0,
            missed: 0,
            missed_on_aim: false,
            aim: MIN_LEAD,
            aim_ticks: 0.0,
            quiet: u32::MAX,
            calm: 0,
            hint: 0,
        }
    }
}

impl Pacing {
    /// The lead aimed for, in seconds, as of the last tick.
    pub fn aim(&self) -> f32 {
        self.aim
    }

    /// The running mean of the lead, in seconds (`None` before the first input applied).
    pub fn lead(&self) -> Option<f32> {
        self.lead
    }

    /// The running mean of the difference between consecutive leads, in seconds.
    pub fn jitter(&self) -> f32 {
        self.jitter
    }

    /// The hint for this tick's snapshot, in 1/[`PACING_UNITS`] of a period: positive asks
    /// the client to send faster, negative slower.
    pub fn hint(&self) -> i32 {
        self.hint
    }

    /// Inputs to take this tick from a buffer holding `depth`: one, or `max_per_tick` when
    /// the depth is a backlog well above what the aim needs.
    pub fn take(&self, depth: usize, max_per_tick: usize) -> usize {
        // A lead of `aim` ticks keeps `floor(aim) + 1` inputs waiting at the start of a tick.
        let aimed = self.aim_ticks.max(0.0) as usize + 1;
        if depth > aimed + 1 + BACKLOG_MARGIN { max_per_tick.max(1) } else { 1 }
    }

    /// Records a tick of `period` seconds; a client is active while an input arrived within
    /// `active_ticks`.
    pub fn observe(&mut self, seen: Seen, period: f32, active_ticks: u32) -> Observed {
        self.quiet = if seen.arrived > 0 { 0 } else { self.quiet.saturating_add(1) };
        let active = self.quiet < active_ticks.max(1);
        let starved = active && seen.lead.is_none();
        if starved {
            if self.missed == 0 {
                // Only a tick that starved while the lead was on its aim says the cushion was
                // too thin; one that starves while the lead still rises towards it says nothing.
                let on_aim = self.lead.is_some_and(|lead| lead >= self.aim - self.band());
                self.missed_on_aim = on_aim && self.previous.is_some();
            }
            self.missed = self.missed.saturating_add(1);
            self.calm = 0;
        } else if active {
            self.calm += 1;
            if self.calm >= active_ticks.saturating_mul(CALM_SECONDS_TO_LOWER) {
                self.calm = 0;
                self.raise = if self.raise > RAISE_MARGIN { self.raise / 2.0 } else { 0.0 };
            }
        } else {
            self.missed = 0;
        }
        if let Some(lead) = seen.lead {
            if self.missed > 0 {
                self.cover(lead, period);
            }
            self.measure(lead, period);
        }
        self.previous = seen.lead;
        let max_lead = MAX_LEAD_TICKS * period;
        self.raise = self.raise.min(max_lead);
        self.aim = (MIN_LEAD + JITTER_COVER * self.jitter + self.raise).min(max_lead);
        self.aim_ticks = self.aim / period;
        self.hint = self.steer(period);
        Observed { active, starved }
    }

    /// The input that ends a run of starved ticks came `lateness` after the first of them
    /// (its lead is measured from a later tick): the aim rises by as much, if the run began on
    /// the aim and the input was not so late that it was a stall.
    fn cover(&mut self, lead: f32, period: f32) {
        let lateness = (self.missed as f32 * period - lead).max(0.0);
        if self.missed_on_aim && lateness <= MAX_COVERED_LATENESS_TICKS * period {
            self.raise += lateness + RAISE_MARGIN;
        }
        self.missed = 0;
    }

    /// Adds one lead to the running mean and, if the last tick applied an input too, their
    /// difference to the jitter. A difference counts up to one period: a larger one is a
    /// stall, which the ticks it starves answer.
    fn measure(&mut self, lead: f32, period: f32) {
        if let Some(previous) = self.previous {
            let difference = (lead - previous).abs().min(period);
            self.jitter += (difference - self.jitter) * JITTER_SMOOTHING;
        }
        self.lead = Some(match self.lead {
            Some(mean) => mean + (lead - mean) * LEAD_SMOOTHING,
            None => lead,
        });
    }

    /// Width of the band above the aim in which the hint is zero, in seconds.
    fn band(&self) -> f32 {
        self.jitter.max(MIN_BAND)
    }

    /// The hint for the current mean: zero inside `[aim, aim + band]`, else proportional to
    /// the error, at least one unit and at most [`MAX_PACING`].
    fn steer(&self, period: f32) -> i32 {
        let Some(lead) = self.lead else { return 0 };
        let (low, high) = (self.aim, self.aim + self.band());
        let error = if lead < low {
            low - lead
        } else if lead > high {
            high - lead
        } else {
            return 0;
        };
        let size = ((error.abs() / period * HINT_GAIN).round() as i32).clamp(1, MAX_PACING);
        if error > 0.0 { size } else { -size }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVE: u32 = 30;
    const PERIOD: f32 = 1.0 / 30.0;
    const STARVED: Seen = Seen { depth: 0, arrived: 0, lead: None };

    fn fed(lead: f32) -> Seen {
        Seen { depth: 1, arrived: 1, lead: Some(lead) }
    }

    /// Runs `ticks` ticks of a client that follows the hint, starting `lead` ahead: each period
    /// its inputs come `hint / 64` of a period earlier than the last, give or take
    /// `jitter(n)`. An input that comes after its tick starves it and is applied at the next
    /// one, and so are all after it, a period later. Returns the ticks it starved and the
    /// lead it ends with.
    fn follow(
        pacing: &mut Pacing,
        mut lead: f32,
        ticks: u32,
        jitter: impl Fn(u32) -> f32,
    ) -> (u32, f32) {
        let mut starved = 0;
        for n in 0..ticks {
            let seen = lead + jitter(n);
            if seen < 0.0 {
                assert!(pacing.observe(STARVED, PERIOD, ACTIVE).starved);
                starved += 1;
                lead += PERIOD;
            } else {
                pacing.observe(fed(seen), PERIOD, ACTIVE);
            }
            lead += pacing.hint() as f32 / PACING_UNITS as f32 * PERIOD;
        }
        (starved, lead)
    }

    fn steady(_: u32) -> f32 {
        0.0
    }

    #[test]
    fn a_regular_client_settles_a_few_milliseconds_ahead_and_holds_its_rate() {
        for start in [0.0005, 0.02, 0.03, 0.1] {
            let mut pacing = Pacing::default();
            follow(&mut pacing, start, 300, steady);
            let lead = pacing.lead().expect("leads seen");
            assert!((MIN_LEAD..=MIN_LEAD + 0.003).contains(&lead), "from {start}: {pacing:?}");
            assert_eq!(pacing.hint(), 0, "on its aim: the tick rate exactly");
            assert!(pacing.aim() < MIN_LEAD + 0.001, "no jitter, no cushion: {pacing:?}");
        }
    }

    #[test]
    fn the_aim_covers_the_jitter_and_nothing_starves() {
        for (jitter_ms, seed) in [(2.0, 1), (10.0, 2), (10.0, 3), (25.0, 4)] {
            let mut rng = fastrand::Rng::with_seed(seed);
            let spread: Vec<f32> =
                (0..1800).map(|_| (rng.f32() * 2.0 - 1.0) * jitter_ms / 1e3).collect();
            let mut pacing = Pacing::default();
            let (_, lead) = follow(&mut pacing, 0.02, 300, |n| spread[n as usize]);
            let (starved, _) = follow(&mut pacing, lead, 1500, |n| spread[300 + n as usize]);
            let case = format!("± {jitter_ms} ms: {pacing:?}");
            assert_eq!(starved, 0, "none after the first ten seconds: {case}");
            let aim_ms = pacing.aim() * 1e3;
            assert!(aim_ms > jitter_ms + 1.0, "the earliest arrivals still make it: {case}");
            assert!(aim_ms < 3.0 * jitter_ms + 3.0, "no more cushion than it needs: {case}");
        }
    }

    #[test]
    fn below_the_aim_asks_for_more_above_for_less_and_inside_for_nothing() {
        let mut pacing = Pacing::default();
        pacing.observe(fed(0.0), PERIOD, ACTIVE);
        assert!(pacing.hint() > 0, "arriving just as the tick starts: a little faster");
        for _ in 0..20 {
            pacing.observe(fed(0.1), PERIOD, ACTIVE);
        }
        assert_eq!(pacing.hint(), -MAX_PACING, "three ticks early: slower, as slow as allowed");
        let mut pacing = Pacing::default();
        for _ in 0..60 {
            pacing.observe(fed(pacing.aim() + MIN_BAND / 2.0), PERIOD, ACTIVE);
        }
        assert_eq!(pacing.hint(), 0, "inside the band: hold the rate");
    }

    #[test]
    fn a_late_input_on_the_aim_raises_it_by_its_lateness_and_a_calm_lowers_it() {
        let mut pacing = Pacing::default();
        let (_, lead) = follow(&mut pacing, 0.01, 150, steady);
        let settled = pacing.aim();
        assert_eq!(
            pacing.observe(STARVED, PERIOD, ACTIVE),
            Observed { active: true, starved: true }
        );
        assert_eq!(pacing.aim(), settled, "not yet: how late it comes is not known");
        // The input it missed comes 5 ms after that tick and waits for the next.
        pacing.observe(fed(PERIOD - 0.005), PERIOD, ACTIVE);
        let raised = pacing.aim() - settled;
        assert!((raised - 0.005 - RAISE_MARGIN).abs() < 2e-4, "{raised}: {pacing:?}");
        // It and every input after it came a tick early now: the client slows down to the
        // new aim, and ten calm seconds halve the raise.
        let (starved, _) =
            follow(&mut pacing, lead + PERIOD, ACTIVE * CALM_SECONDS_TO_LOWER, steady);
        assert_eq!(starved, 0);
        let lowered = pacing.aim() - settled;
        assert!((lowered - raised / 2.0).abs() < 3e-4, "{lowered}: {pacing:?}");
    }

    #[test]
    fn a_stall_does_not_raise_the_aim() {
        let mut pacing = Pacing::default();
        follow(&mut pacing, 0.01, 150, steady);
        let settled = pacing.aim();
        for _ in 0..6 {
            assert!(pacing.observe(STARVED, PERIOD, ACTIVE).starved);
        }
        // A 200 ms stall: the input the first starved tick missed comes 190 ms late.
        pacing.observe(fed(6.0 * PERIOD - 0.19), PERIOD, ACTIVE);
        assert_eq!(pacing.aim(), settled, "{pacing:?}");
    }

    #[test]
    fn starving_while_still_rising_keeps_the_aim() {
        let mut pacing = Pacing::default();
        pacing.observe(fed(-0.010), PERIOD, ACTIVE);
        let rising = pacing.aim();
        assert!(pacing.observe(STARVED, PERIOD, ACTIVE).starved);
        pacing.observe(fed(PERIOD - 0.002), PERIOD, ACTIVE);
        assert_eq!(pacing.aim(), rising, "{pacing:?}");
    }

    #[test]
    fn the_aim_never_passes_four_ticks() {
        let mut pacing = Pacing::default();
        for _ in 0..100 {
            pacing.observe(fed(MAX_LEAD_TICKS * PERIOD), PERIOD, ACTIVE);
            pacing.observe(STARVED, PERIOD, ACTIVE);
            pacing.observe(fed(PERIOD - 0.010), PERIOD, ACTIVE);
        }
        assert!((pacing.aim() - MAX_LEAD_TICKS * PERIOD).abs() < 1e-6, "{pacing:?}");
    }

    #[test]
    fn a_quiet_client_is_not_starved() {
        let mut pacing = Pacing::default();
        assert!(!pacing.observe(STARVED, PERIOD, ACTIVE).active, "never sent");
        pacing.observe(fed(0.01), PERIOD, ACTIVE);
        for _ in 1..ACTIVE {
            assert!(pacing.observe(STARVED, PERIOD, ACTIVE).starved);
        }
        let quiet = pacing.observe(STARVED, PERIOD, ACTIVE);
        assert_eq!(quiet, Observed { active: false, starved: false });
    }

    #[test]
    fn only_a_backlog_well_above_the_aim_is_drained_faster() {
        let mut pacing = Pacing::default();
        pacing.observe(fed(0.01), PERIOD, ACTIVE);
        assert_eq!(pacing.take(4, 2), 1);
        assert_eq!(pacing.take(5, 2), 2);
    }
}
