//! Each client's inputs inside the world: a jitter buffer the connection fills and a tick
//! drains, and the inputs a game's systems apply this tick.
//!
//! Inputs arrive already decoded and validated (the connection does that); here they only
//! wait for their tick.

use crate::identity::NetId;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;

/// A client's input buffer, on its own entity. A game's systems read
/// [`Inputs::this_tick`]; the server fills and drains it.
#[derive(Component, Debug, Clone)]
pub struct Inputs<I: Send + Sync + 'static> {
    queue: VecDeque<(u32, I)>,
    current: Option<(u32, I)>,
    this_tick: Vec<I>,
    capacity: usize,
}

/// What happened to an input handed to a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued.
    Ok,
    /// Queued, and the oldest buffered input was dropped to make room.
    DroppedOldest,
}

impl<I: Clone + Send + Sync + 'static> Inputs<I> {
    /// An empty buffer holding at most `capacity` inputs.
    pub fn new(capacity: usize) -> Inputs<I> {
        Inputs {
            queue: VecDeque::with_capacity(capacity),
            current: None,
            this_tick: Vec::new(),
            capacity: capacity.max(1),
        }
    }

    /// The inputs this tick applies, oldest first: one per tick normally, up to the server's
    /// catch-up limit while a backlog drains, and the last input repeated when none arrived
    /// (empty before the first). A client predicted one step per input it sent, so a game
    /// should apply one step per input here.
    pub fn this_tick(&self) -> &[I] {
        &self.this_tick
    }

    /// The input in effect (the last one applied).
    pub fn current(&self) -> Option<&I> {
        self.current.as_ref().map(|(_, input)| input)
    }

    /// Sequence number of the input in effect (0 before the first).
    pub fn last_applied_seq(&self) -> u32 {
        self.current.as_ref().map_or(0, |(seq, _)| *seq)
    }

    /// Inputs waiting for a tick.
    pub fn buffered(&self) -> usize {
        self.queue.len()
    }

    /// Queues an input (sequence numbers were checked by the connection).
    pub(crate) fn push(&mut self, seq: u32, input: I) -> Queued {
        self.queue.push_back((seq, input));
        if self.queue.len() > self.capacity {
            self.queue.pop_front();
            return Queued::DroppedOldest;
        }
        Queued::Ok
    }

    /// Takes this tick's inputs: one, or up to `max_per_tick` while a backlog is waiting (the
    /// client predicted one step per input, so catching up keeps it in step and keeps input
    /// latency bounded). An empty buffer repeats the last input. Returns how many were taken.
    pub(crate) fn advance(&mut self, max_per_tick: usize) -> usize {
        self.this_tick.clear();
        let take = if self.queue.len() > 1 { max_per_tick.max(1) } else { 1 };
        let mut taken = 0;
        for _ in 0..take {
            let Some((seq, input)) = self.queue.pop_front() else { break };
            self.this_tick.push(input.clone());
            self.current = Some((seq, input));
            taken += 1;
        }
        if self.this_tick.is_empty()
            && let Some((_, input)) = &self.current
        {
            self.this_tick.push(input.clone());
        }
        taken
    }
}

/// Advances every client's buffer for a tick; returns the inputs taken.
pub(crate) fn advance_all<I: Clone + Send + Sync + 'static>(
    query: &mut QueryState<&mut Inputs<I>, With<NetId>>,
    world: &mut World,
    max_per_tick: usize,
) -> u64 {
    query.iter_mut(world).map(|mut inputs| inputs.advance(max_per_tick) as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_input_per_tick_repeating_the_last_when_none_arrived() {
        let mut inputs = Inputs::<u8>::new(4);
        assert_eq!(inputs.advance(2), 0);
        assert!(inputs.this_tick().is_empty());
        inputs.push(1, 10);
        assert_eq!(inputs.advance(2), 1);
        assert_eq!((inputs.this_tick(), inputs.last_applied_seq()), (&[10][..], 1));
        assert_eq!(inputs.advance(2), 0);
        assert_eq!(inputs.this_tick(), &[10], "repeated");
    }

    #[test]
    fn a_backlog_drains_two_at_a_time_and_overflow_drops_the_oldest() {
        let mut inputs = Inputs::<u8>::new(3);
        for seq in 1..=3 {
            assert_eq!(inputs.push(seq, seq as u8), Queued::Ok);
        }
        assert_eq!(inputs.push(4, 4), Queued::DroppedOldest);
        assert_eq!(inputs.advance(2), 2);
        assert_eq!((inputs.this_tick(), inputs.last_applied_seq()), (&[2, 3][..], 3));
        assert_eq!(inputs.advance(2), 1);
        assert_eq!(inputs.this_tick(), &[4]);
    }
}
