//! The frame: which entities are replicated at a tick, sorted by wire id; and giving new
//! replicated entities their wire ids.

pub use crate::identity::{NetId, NetIds, Replicated};
use crate::tick::Tick;
use bevy_ecs::prelude::*;

/// Gives a [`NetId`] to every [`Replicated`] entity that has none yet.
pub fn assign_ids(world: &mut World) {
    let mut query = world.query_filtered::<Entity, (With<Replicated>, Without<NetId>)>();
    assign_with(&mut query, world);
}

/// Entities waiting for a wire id.
pub(crate) type Unassigned = QueryState<Entity, (With<Replicated>, Without<NetId>)>;

/// [`assign_ids`] with a query kept between ticks.
pub(crate) fn assign_with(query: &mut Unassigned, world: &mut World) {
    let fresh: Vec<Entity> = query.iter(world).collect();
    if fresh.is_empty() {
        return;
    }
    world.init_resource::<NetIds>();
    for entity in fresh {
        let id = world.resource_mut::<NetIds>().allocate();
        world.entity_mut(entity).insert(id);
    }
}

/// The replicated entities at one tick, sorted by wire id.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// The tick.
    pub tick: Tick,
    /// Wire ids in ascending `id` order.
    pub ids: Vec<NetId>,
    /// The ECS entity of each id (same index).
    pub entities: Vec<Entity>,
    /// Each entity's position for interest management, in grid units (same index; `None`:
    /// not spatial, or no interest management). Empty in frames kept as history.
    pub positions: Vec<Option<(i32, i32)>>,
}

impl Frame {
    /// Index of the entity with this wire id.
    pub fn find(&self, id: u32) -> Option<usize> {
        self.ids.binary_search_by_key(&id, |n| n.id).ok()
    }

    /// Reads the replicated entities of `world`.
    pub fn capture(world: &mut World, tick: Tick) -> Frame {
        let mut query = world.query::<(Entity, &NetId)>();
        Frame::capture_with(&mut query, &mut Vec::new(), world, tick)
    }

    /// [`Frame::capture`] with a query and a scratch table kept between ticks. Wire ids are
    /// dense (the lowest free one is reused first), so entities are placed by id in a table
    /// and read back in order: no sort.
    pub(crate) fn capture_with(
        query: &mut QueryState<(Entity, &'static NetId)>,
        by_id: &mut Vec<Option<(NetId, Entity)>>,
        world: &World,
        tick: Tick,
    ) -> Frame {
        let mut count = 0;
        for (entity, id) in query.iter(world) {
            let index = id.id as usize;
            if index >= by_id.len() {
                by_id.resize(index + 1, None);
            }
            by_id[index] = Some((*id, entity));
            count += 1;
        }
        let mut frame = Frame {
            tick,
            ids: Vec::with_capacity(count),
            entities: Vec::with_capacity(count),
            positions: Vec::new(),
        };
        for (id, entity) in by_id.iter_mut().filter_map(Option::take) {
            frame.ids.push(id);
            frame.entities.push(entity);
        }
        frame
    }
}
