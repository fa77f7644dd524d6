//! Each client's inputs inside the world: a jitter buffer the connection fills and a tick
//! drains, and the inputs a game's systems apply this tick.
//!
//! Inputs arrive already decoded and validated (the connection does that); here they only
//! wait for their tick. The rule: every input the server accepted is applied exactly once,
//! in order, one per tick, and a tick whose buffer is empty applies none. The client
//! predicted one step per input it sent, so replaying its unacknowledged inputs on the
//! server's state reproduces exactly what the server did. How early inputs should arrive,
//! and the hint that keeps them arriving so, are [`pacing`]'s: each input keeps the instant
//! its connection read it, and a tick measures its lead from the instant the tick started.

pub mod pacing;

use crate::identity::NetId;
use bevy_ecs::prelude::*;
use pacing::{Pacing, Seen};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A client's input buffer, on its own entity. A game's systems read
/// [`Inputs::this_tick`]; the server fills and drains it.
#[derive(Component, Debug, Clone)]
pub struct Inputs<I: Send + Sync + 'static> {
    /// Waiting inputs: sequence number, input, and when the server read it.
    queue: VecDeque<(u32, I, Instant)>,
    current: Option<(u32, I)>,
    this_tick: Vec<I>,
    capacity: usize,
    /// Inputs queued since the last tick.
    arrived: usize,
    pacing: Pacing,
}

/// What happened to an input handed to a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued.
    Ok,
    /// Queued, and the oldest buffered input was dropped to make room.
    DroppedOldest,
}

/// How a room drains its clients' buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainRules {
    /// Inputs one tick may apply to a client while a backlog drains.
    pub max_per_tick: usize,
    /// A client is active while an input arrived within this many ticks (one second).
    pub active_ticks: u32,
    /// The tick period.
    pub period: Duration,
}

/// What one tick did with one client's buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Advanced {
    /// Inputs waiting at the start of the tick.
    pub depth: usize,
    /// Inputs the tick applied.
    pub taken: usize,
    /// Whether the client was active (an input arrived within `active_ticks`).
    pub active: bool,
    /// Whether the client was active and the tick applied none of its inputs.
    pub starved: bool,
    /// How long before the tick started the newest input it applied arrived, in seconds
    /// (negative if after); `None` if it applied none.
    pub lead: Option<f32>,
}

/// Every client's buffers over one tick, added up.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InputTally {
    /// Inputs applied.
    pub applied: u64,
    /// Clients that were active.
    pub active: u64,
    /// Clients whose tick applied no input while they were active.
    pub starved: u64,
    /// Clients whose tick applied more than one input (a backlog draining).
    pub multiple: u64,
    /// Clients by the depth their buffer had at the start of the tick (the last entry counts
    /// every depth from `DEPTHS - 1` up).
    pub depths: [u64; DEPTHS],
    /// Leads of the newest input each client's tick applied, in seconds, summed.
    pub lead_seconds: f64,
    /// Clients whose tick applied an input: the leads summed.
    pub leads: u64,
}

/// Depths told apart in [`InputTally::depths`].
pub const DEPTHS: usize = 9;

impl InputTally {
    fn add(&mut self, advanced: Advanced) {
        self.applied += advanced.taken as u64;
        self.active += u64::from(advanced.active);
        self.starved += u64::from(advanced.starved);
        self.multiple += u64::from(advanced.taken > 1);
        self.depths[advanced.depth.min(DEPTHS - 1)] += 1;
        if let Some(lead) = advanced.lead {
            self.lead_seconds += f64::from(lead);
            self.leads += 1;
        }
    }
}

impl<I: Clone + Send + Sync + 'static> Inputs<I> {
    /// An empty buffer holding at most `capacity` inputs.
    pub fn new(capacity: usize) -> Inputs<I> {
        Inputs {
            queue: VecDeque::with_capacity(capacity),
            current: None,
            this_tick: Vec::new(),
            capacity: capacity.max(1),
            arrived: 0,
            pacing: Pacing::default(),
        }
    }

    /// The inputs this tick applies, oldest first: one per tick normally, up to the server's
    /// catch-up limit while a backlog drains, and **none** when no input is waiting (the
    /// last one is not repeated). A client predicted one step per input it sent, so a game
    /// should apply one step per input here, and none on a tick without.
    pub fn this_tick(&self) -> &[I] {
        &self.this_tick
    }

    /// The last input applied, also on a tick that applied none: for a game whose inputs are
    /// held state (a button down) rather than one step each. A game that predicts steps
    /// should not act on it when [`Inputs::this_tick`] is empty.
    pub fn current(&self) -> Option<&I> {
        self.current.as_ref().map(|(_, input)| input)
    }

    /// Sequence number of the last input applied (0 before the first).
    pub fn last_applied_seq(&self) -> u32 {
        self.current.as_ref().map_or(0, |(seq, _)| *seq)
    }

    /// Inputs waiting for a tick.
    pub fn buffered(&self) -> usize {
        self.queue.len()
    }

    /// The buffer's pacing: the lead it aims for and the hint for this tick's snapshot.
    pub fn pacing(&self) -> &Pacing {
        &self.pacing
    }

    /// Queues an input the server read at `received` (sequence numbers were checked by the
    /// connection). A full buffer drops its oldest input to make room: the client sent faster
    /// than the ticks run for longer than the buffer holds, and the newest intent matters
    /// most.
    pub(crate) fn push(&mut self, seq: u32, input: I, received: Instant) -> Queued {
        self.queue.push_back((seq, input, received));
        self.arrived += 1;
        if self.queue.len() > self.capacity {
            self.queue.pop_front();
            return Queued::DroppedOldest;
        }
        Queued::Ok
    }

    /// Takes the inputs of a tick that started at `now`: one, or up to `max_per_tick` while
    /// a backlog well above the aim waits, and none from an empty buffer; then updates the
    /// pacing with how early the newest of them arrived.
    pub(crate) fn advance(&mut self, rules: DrainRules, now: Instant) -> Advanced {
        self.this_tick.clear();
        let depth = self.queue.len();
        let mut lead = None;
        for _ in 0..self.pacing.take(depth, rules.max_per_tick) {
            let Some((seq, input, received)) = self.queue.pop_front() else { break };
            lead = Some(seconds_between(received, now));
            self.this_tick.push(input.clone());
            self.current = Some((seq, input));
        }
        let seen = Seen { depth, arrived: self.arrived, lead };
        let observed = self.pacing.observe(seen, rules.period.as_secs_f32(), rules.active_ticks);
        self.arrived = 0;
        Advanced {
            depth,
            taken: self.this_tick.len(),
            active: observed.active,
            starved: observed.starved,
            lead,
        }
    }
}

/// `to − from` in seconds, negative when `from` is later.
fn seconds_between(from: Instant, to: Instant) -> f32 {
    match to.checked_duration_since(from) {
        Some(ahead) => ahead.as_secs_f32(),
        None => -(from - to).as_secs_f32(),
    }
}

/// Advances every client's buffer for a tick that started at `now`; returns what they did,
/// added up.
pub(crate) fn advance_all<I: Clone + Send + Sync + 'static>(
    query: &mut QueryState<&mut Inputs<I>, With<NetId>>,
    world: &mut World,
    rules: DrainRules,
    now: Instant,
) -> InputTally {
    let mut tally = InputTally::default();
    for mut inputs in query.iter_mut(world) {
        tally.add(inputs.advance(rules, now));
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_micros(33_333);
    const RULES: DrainRules = DrainRules { max_per_tick: 2, active_ticks: 30, period: PERIOD };

    /// Feeds `arrivals[t]` new inputs (seq counting from 1) 5 ms before tick `t`, then runs
    /// the ticks; returns each tick's applied inputs and what it did.
    fn run(inputs: &mut Inputs<u32>, arrivals: &[usize]) -> Vec<(Vec<u32>, Advanced)> {
        let start = Instant::now();
        let mut seq = 0;
        let mut ticks = Vec::new();
        for (t, &n) in arrivals.iter().enumerate() {
            let tick_at = start + PERIOD * (t as u32 + 1);
            for _ in 0..n {
                seq += 1;
                inputs.push(seq, seq, tick_at - Duration::from_millis(5));
            }
            let advanced = inputs.advance(RULES, tick_at);
            ticks.push((inputs.this_tick().to_vec(), advanced));
        }
        ticks
    }

    #[test]
    fn an_empty_buffer_applies_nothing_and_repeats_nothing() {
        let mut inputs = Inputs::<u32>::new(8);
        let ticks = run(&mut inputs, &[0, 1, 0, 0]);
        assert_eq!(ticks[0].0, Vec::<u32>::new(), "nothing before the first input");
        assert_eq!(ticks[1].0, vec![1]);
        let lead = ticks[1].1.lead.expect("an input applied");
        assert!((lead - 0.005).abs() < 1e-4, "read 5 ms before its tick: {lead}");
        assert_eq!(ticks[2].1.lead, None);
        assert_eq!(ticks[2].0, Vec::<u32>::new(), "the last input is not repeated");
        assert!(ticks[2].1.starved, "an active client's empty tick is counted");
        assert_eq!((inputs.current(), inputs.last_applied_seq()), (Some(&1), 1));
    }

    #[test]
    fn jittered_arrivals_are_each_applied_once_in_order_one_a_tick() {
        // Recorded from a client sending every tick behind ±10 ms of jitter at 30 Hz: inputs
        // bunch in twos after a gap, then a tick of cushion builds up.
        let arrivals = [1, 1, 0, 2, 1, 2, 0, 1, 1, 0, 2, 1, 1, 1, 0, 2, 1, 1, 0, 0, 0, 0];
        let mut inputs = Inputs::<u32>::new(8);
        let ticks = run(&mut inputs, &arrivals);
        let applied: Vec<u32> = ticks.iter().flat_map(|(t, _)| t.clone()).collect();
        let sent: u32 = arrivals.iter().sum::<usize>() as u32;
        assert_eq!(applied, (1..=sent).collect::<Vec<_>>(), "each exactly once, in order");
        assert!(ticks.iter().all(|(t, _)| t.len() <= 1), "never two in a tick: no backlog");
        let starved = ticks[..18].iter().filter(|(_, a)| a.starved).count();
        assert_eq!(starved, 1, "only the gap before the cushion built up");
    }

    #[test]
    fn a_backlog_well_above_target_drains_two_a_tick_down_to_it() {
        let mut inputs = Inputs::<u32>::new(8);
        let ticks = run(&mut inputs, &[6, 0, 0, 0, 0]);
        let taken: Vec<usize> = ticks.iter().map(|(_, a)| a.taken).collect();
        // An aim under a tick keeps one input waiting: a depth above 4 is a backlog.
        assert_eq!(taken, [2, 1, 1, 1, 1]);
        assert_eq!(ticks[0].0, vec![1, 2]);
        assert_eq!(inputs.last_applied_seq(), 6);
    }

    #[test]
    fn the_default_buffer_keeps_the_burst_after_a_retransmission_stall() {
        // Five waiting (the largest aim and one), then a 400 ms stall on the way in: twelve
        // ticks find the buffer run dry, then the twelve inputs sent meanwhile arrive at once.
        let mut inputs = Inputs::<u32>::new(crate::config::ServerConfig::default().input_buffer);
        let mut arrivals = vec![5];
        arrivals.extend([0; 12]);
        arrivals.push(12);
        arrivals.extend([0; 12]);
        let (start, mut seq) = (Instant::now(), 0);
        for (t, &n) in arrivals.iter().enumerate() {
            let tick_at = start + PERIOD * (t as u32 + 1);
            for _ in 0..n {
                seq += 1;
                assert_eq!(inputs.push(seq, seq, tick_at), Queued::Ok, "input {seq} kept");
            }
            inputs.advance(RULES, tick_at);
        }
        assert_eq!(inputs.last_applied_seq(), 17, "every input applied, none dropped");
    }

    #[test]
    fn overflow_drops_the_oldest_and_says_so() {
        let mut inputs = Inputs::<u32>::new(3);
        let now = Instant::now();
        for seq in 1..=3 {
            assert_eq!(inputs.push(seq, seq, now), Queued::Ok);
        }
        assert_eq!(inputs.push(4, 4, now), Queued::DroppedOldest);
        assert_eq!(inputs.advance(RULES, now + PERIOD).taken, 1);
        assert_eq!(inputs.this_tick(), &[2]);
    }

    #[test]
    fn a_tally_counts_starved_multiple_and_depths() {
        let mut tally = InputTally::default();
        tally.add(Advanced { depth: 0, taken: 0, active: true, starved: true, lead: None });
        tally.add(Advanced { depth: 6, taken: 2, active: true, starved: false, lead: Some(0.1) });
        tally.add(Advanced { depth: 20, taken: 2, active: false, starved: false, lead: None });
        assert_eq!((tally.applied, tally.active, tally.starved, tally.multiple), (4, 2, 1, 2));
        assert_eq!((tally.depths[0], tally.depths[6], tally.depths[DEPTHS - 1]), (1, 1, 1));
        assert_eq!(tally.leads, 1);
        assert!((tally.lead_seconds - 0.1).abs() < 1e-6);
    }
}
