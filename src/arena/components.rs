//! The components of the arena game.

use crate::protocol::Input;
use bevy_ecs::prelude::*;
use glam::Vec2;
use std::collections::VecDeque;

/// Wire identity of a replicated entity: the id clients see, and an incarnation that tells a
/// reused id's new entity from the old one.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NetId {
    /// The id on the wire (from 1; reused after despawn).
    pub id: u32,
    /// Unique per spawn over the server's lifetime.
    pub incarnation: u32,
}

/// Position in world units, snapped to the 1/64 wire grid at the end of every tick.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Position(pub Vec2);

/// Velocity in world units per second.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Velocity(pub Vec2);

/// Radius in world units.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Radius(pub f32);

/// Display colour (red, green, blue).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub [u8; 3]);

/// Display name.
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub struct Name(pub String);

/// A player's score, or an orb's value.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Score(pub u32);

/// A food orb.
#[derive(Component, Debug, Clone, Copy)]
pub struct Orb;

/// A connected player's input state: the jitter buffer and the input in effect.
#[derive(Component, Debug, Clone, Default)]
pub struct Controller {
    /// Inputs received and not yet applied, oldest first; at most the configured buffer.
    pub queue: VecDeque<Input>,
    /// The input applied last; repeated while the queue is empty.
    pub current: Option<Input>,
    /// The inputs this tick applies, one movement step each (set by `apply_inputs`).
    pub this_tick: Vec<Input>,
    /// Sequence number of the newest input received (inputs must increase).
    pub last_received_seq: u32,
}

impl Controller {
    /// Sequence number of the input in effect (0 before the first).
    pub fn last_applied_seq(&self) -> u32 {
        self.current.map_or(0, |input| input.seq)
    }
}
