//! The simulation: a bevy_ecs `World` and `Schedule` for the arena game.
//!
//! Pure: no sockets, no clock, no tokio. The tick loop owns time and calls
//! [`Sim::step`] once per tick; tests do the same with a tick they choose.

mod components;
pub mod movement;
mod systems;

pub use components::{Color, Controller, Name, NetId, Orb, Position, Radius, Score, Velocity};

use crate::config::WorldConfig;
use crate::protocol::{Input, MAX_NAME_CHARS};
use crate::tick::Tick;
use bevy_ecs::prelude::*;
use glam::Vec2;

/// Inputs a player may catch up on in one tick when a backlog waits. Two drains a backlog
/// within a few ticks while moving a player at most twice as far as one tick allows.
pub const DEFAULT_MAX_INPUTS_PER_TICK: usize = 2;

/// Why an input was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Inputs must come in strictly increasing sequence.
    #[error("input seq {seq} does not increase (last {last})")]
    SeqNotIncreasing {
        /// The offending seq.
        seq: u32,
        /// The newest seq received before.
        last: u32,
    },
    /// Only the boost bit is defined.
    #[error("input buttons {buttons:#04x} set undefined bits")]
    UnknownButtons {
        /// The byte received.
        buttons: u8,
    },
    /// The entity is not a player (it has left).
    #[error("no such player")]
    NoPlayer,
}

/// What happened to an accepted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued.
    Ok,
    /// Queued, and the oldest buffered input was dropped to make room.
    DroppedOldest,
}

/// The arena world.
pub struct Sim {
    world: World,
    schedule: Schedule,
}

/// Settings the systems read, fixed at start.
#[derive(Resource, Debug, Clone)]
pub struct Rules {
    /// The world configuration.
    pub world: WorldConfig,
    /// Seconds per tick.
    pub dt: f32,
    /// Jitter buffer capacity per player.
    pub input_buffer: usize,
    /// Most inputs applied to one player in one tick while a backlog waits.
    pub max_inputs_per_tick: usize,
}

impl Rules {
    /// Arena size as a vector.
    pub fn arena(&self) -> Vec2 {
        Vec2::splat(self.world.size)
    }
}

/// Counters the tick loop reports as metrics; reset by [`Sim::take_stats`].
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Inputs applied (one per player per tick at most).
    pub inputs_applied: u64,
    /// Orbs eaten.
    pub orbs_eaten: u64,
}

/// The tick being simulated, and the world's random numbers.
#[derive(Resource)]
pub(crate) struct SimClock {
    pub(crate) tick: Tick,
    pub(crate) rng: fastrand::Rng,
}

/// Allocates wire ids: lowest free first, so ids stay small and their gaps short.
#[derive(Resource, Default)]
pub(crate) struct NetIds {
    free: std::collections::BinaryHeap<std::cmp::Reverse<u32>>,
    next: u32,
    incarnations: u32,
}

impl NetIds {
    pub(crate) fn allocate(&mut self) -> NetId {
        self.incarnations = self.incarnations.wrapping_add(1);
        let id = match self.free.pop() {
            Some(std::cmp::Reverse(id)) => id,
            None => {
                self.next += 1;
                self.next
            }
        };
        NetId { id, incarnation: self.incarnations }
    }

    pub(crate) fn release(&mut self, id: NetId) {
        self.free.push(std::cmp::Reverse(id.id));
    }
}

impl Sim {
    /// A new arena filled with orbs.
    pub fn new(world: WorldConfig, tick_rate_hz: u16, input_buffer: usize) -> Sim {
        Sim::with_catch_up(world, tick_rate_hz, input_buffer, DEFAULT_MAX_INPUTS_PER_TICK)
    }

    /// As [`Sim::new`], choosing how many inputs a player may catch up on per tick.
    pub fn with_catch_up(
        world: WorldConfig,
        tick_rate_hz: u16,
        input_buffer: usize,
        max_inputs_per_tick: usize,
    ) -> Sim {
        let mut ecs = World::new();
        let rng = fastrand::Rng::with_seed(world.seed);
        let dt = 1.0 / f32::from(tick_rate_hz);
        let max_inputs_per_tick = max_inputs_per_tick.max(1);
        ecs.insert_resource(Rules { world, dt, input_buffer, max_inputs_per_tick });
        ecs.insert_resource(SimClock { tick: Tick(0), rng });
        ecs.insert_resource(NetIds::default());
        ecs.insert_resource(SimStats::default());
        let mut schedule = Schedule::default();
        schedule.add_systems(
            (
                systems::apply_inputs,
                systems::move_players,
                systems::separate_players,
                systems::eat_orbs,
                systems::spawn_orbs,
            )
                .chain(),
        );
        let mut sim = Sim { world: ecs, schedule };
        sim.world.run_system_cached(systems::spawn_orbs).ok();
        sim
    }

    /// Spawns a player at a random free place; returns its entity and wire id.
    pub fn spawn_player(&mut self, name: &str) -> (Entity, NetId) {
        let size = self.world.resource::<Rules>().world.size;
        let radius = self.world.resource::<Rules>().world.movement.player_radius;
        let net_id = self.world.resource_mut::<NetIds>().allocate();
        let mut clock = self.world.resource_mut::<SimClock>();
        let margin = (radius * 4.0).min(size / 2.0);
        let at = Vec2::new(
            margin + clock.rng.f32() * (size - 2.0 * margin),
            margin + clock.rng.f32() * (size - 2.0 * margin),
        );
        let color = systems::player_color(&mut clock.rng);
        let entity = self
            .world
            .spawn((
                net_id,
                Position(movement::snap_position(at)),
                Velocity::default(),
                Radius(radius),
                Color(color),
                Name(name.to_owned()),
                Score(0),
                Controller::default(),
            ))
            .id();
        (entity, net_id)
    }

    /// Removes a player (or any replicated entity) and frees its wire id.
    pub fn despawn(&mut self, entity: Entity) {
        if let Some(net_id) = self.world.get::<NetId>(entity).copied() {
            self.world.resource_mut::<NetIds>().release(net_id);
        }
        self.world.despawn(entity);
    }

    /// Queues one input for a player's jitter buffer.
    pub fn push_input(&mut self, entity: Entity, input: Input) -> Result<Queued, InputError> {
        let capacity = self.world.resource::<Rules>().input_buffer;
        let mut controller =
            self.world.get_mut::<Controller>(entity).ok_or(InputError::NoPlayer)?;
        if input.seq <= controller.last_received_seq {
            return Err(InputError::SeqNotIncreasing {
                seq: input.seq,
                last: controller.last_received_seq,
            });
        }
        if input.buttons & !crate::protocol::BUTTON_BOOST != 0 {
            return Err(InputError::UnknownButtons { buttons: input.buttons });
        }
        controller.last_received_seq = input.seq;
        controller.queue.push_back(input);
        if controller.queue.len() > capacity {
            controller.queue.pop_front();
            return Ok(Queued::DroppedOldest);
        }
        Ok(Queued::Ok)
    }

    /// Advances the world by one tick.
    pub fn step(&mut self, tick: Tick) {
        self.world.resource_mut::<SimClock>().tick = tick;
        self.schedule.run(&mut self.world);
    }

    /// Counters since the last call.
    pub fn take_stats(&mut self) -> SimStats {
        std::mem::take(&mut *self.world.resource_mut::<SimStats>())
    }

    /// The ECS world, for replication's capture and for tests.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The ECS world, mutably (replication caches its queries; tests place entities).
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        self.world.resource::<Rules>()
    }
}

/// Cleans a player name from a URL: control characters removed, trimmed, at most
/// [`MAX_NAME_CHARS`] characters. An empty result means "use the default name".
pub fn sanitize_name(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim_end()
        .to_owned()
}
