//! Capture: the replicated state of the world at one tick, read once per tick.

use crate::protocol::{EntityKind, EntityState, POSITION_SCALE};
use crate::sim::{Color, Name, NetId, Orb, Position, Radius, Score};
use crate::tick::Tick;
use bevy_ecs::prelude::*;

/// One entity's mutable replicated state, in wire units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Wire id and incarnation.
    pub id: NetId,
    /// x, 1/64 units.
    pub x: i32,
    /// y, 1/64 units.
    pub y: i32,
    /// Score.
    pub score: u32,
}

/// The replicated world at one tick: every entity, sorted by wire id.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// The tick.
    pub tick: Tick,
    /// Entities in ascending `id.id` order.
    pub records: Vec<Record>,
    /// The ECS entity of each record (same index), to read static state for spawns.
    pub entities: Vec<Entity>,
}

impl Frame {
    /// Index of the record with this wire id.
    pub fn find(&self, id: u32) -> Option<usize> {
        self.records.binary_search_by_key(&id, |r| r.id.id).ok()
    }
}

/// Converts a world-unit coordinate to wire units. Positions are already on the grid, so
/// this is exact.
pub fn to_wire(value: f32) -> i32 {
    (value * POSITION_SCALE).round() as i32
}

/// Reads every replicated entity of `world` into a frame.
pub fn capture(world: &mut World, tick: Tick) -> Frame {
    let mut query = world.query::<(Entity, &NetId, &Position, &Score)>();
    let mut rows: Vec<(Record, Entity)> = query
        .iter(world)
        .map(|(entity, id, pos, score)| {
            let record =
                Record { id: *id, x: to_wire(pos.0.x), y: to_wire(pos.0.y), score: score.0 };
            (record, entity)
        })
        .collect();
    rows.sort_unstable_by_key(|(record, _)| record.id.id);
    let (records, entities) = rows.into_iter().unzip();
    Frame { tick, records, entities }
}

/// The whole state of one entity, for a spawn.
pub fn entity_state(world: &World, entity: Entity, record: &Record) -> EntityState {
    let kind =
        if world.get::<Orb>(entity).is_some() { EntityKind::Orb } else { EntityKind::Player };
    let radius = world.get::<Radius>(entity).map_or(0.0, |r| r.0);
    EntityState {
        kind,
        x: record.x,
        y: record.y,
        radius: (radius * POSITION_SCALE).round().clamp(0.0, f32::from(u16::MAX)) as u16,
        color: world.get::<Color>(entity).map_or([255; 3], |c| c.0),
        score: record.score,
        name: world.get::<Name>(entity).map_or_else(String::new, |n| n.0.clone()),
    }
}
