//! Replication: from the world's state each tick to each client's snapshot bytes, for any
//! game's registered components.
//!
//! Pure: it reads the world and returns bytes; no sockets, no clock. Per tick,
//! [`Replication::begin_tick`] captures what is shared: each registered component's change
//! since the previous tick (encoded once, by its codec), each entity's change op built from
//! them, spawn bodies (encoded once on first use), and the all-entities delta when everyone
//! sees everything. Per client, [`Replication::build`] assembles a message from those pieces
//! against that client's baseline: an op tag and an id gap per entity, then the shared body.
//! Only a client whose baseline is older than the previous tick (it skipped snapshots) has its
//! changes encoded for it alone.

mod build;
mod client_view;
mod frame;
mod interest;
mod relevance;
pub mod replica;

pub use build::InputAck;
pub use client_view::{Baseline, ClientView, Visible};
pub use frame::{Frame, NetId, NetIds, Replicated, assign_ids};

use frame::{Unassigned, assign_with};
pub use interest::{GRID_SCALE, Grid};
pub use relevance::{AlwaysRelevant, MemberOf, VisibleTo};
pub use replica::{Replica, ReplicaError};

use relevance::Relevance;

use crate::protocol::tags::{OP_CHANGES, OP_SINGLE};
use crate::protocol::varint;
use crate::registry::rule::{Change, RuleState};
use crate::registry::{HYSTERESIS, Registry, SpatialSource};
use crate::tick::Tick;
use bevy_ecs::entity::Entity;
use bevy_ecs::query::QueryState;
use bevy_ecs::world::World;
use glam::Vec2;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

/// What a build produced, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Built {
    /// A full snapshot.
    Full,
    /// A delta against the previous tick.
    Delta,
    /// A delta against an older tick (the client skipped snapshots).
    CatchUp,
}

/// An encoded op body in the shared buffer, with its tag.
#[derive(Debug, Clone)]
struct Op {
    tag: u32,
    body: Range<usize>,
}

/// Interest management state.
struct Interest {
    source: Box<dyn SpatialSource>,
    grid: Grid,
    view_reach: i32,
    keep_reach: i32,
    by_id: Vec<Option<Vec2>>,
    /// Frame indices of entities without a position: everyone sees them.
    everywhere: Vec<u32>,
}

/// Replication state shared by all clients of one world: history and this tick's encodings.
pub struct Replication {
    registry: Arc<Registry>,
    states: Vec<Box<dyn RuleState>>,
    unassigned: Unassigned,
    replicated: QueryState<(Entity, &'static NetId)>,
    by_id: Vec<Option<(NetId, Entity)>>,
    /// This tick's component changes, as the rules capture them.
    pending: Vec<Change>,
    interest: Option<Interest>,
    relevance: Relevance,
    history: VecDeque<Arc<Frame>>,
    history_ticks: usize,
    shared: Vec<u8>,
    /// Per frame index: the entity's public change op this tick.
    changes: Vec<Option<Op>>,
    /// Per frame index: the body of an OWN op (count and component ops) for owner-only changes.
    owner_changes: Vec<Option<Range<usize>>>,
    spawns: Vec<Option<Range<usize>>>,
    all_delta: Option<(Range<usize>, usize)>,
    ops: Vec<u8>,
    scratch: Vec<u8>,
    candidates: Vec<u32>,
    /// The last client's visible list, kept for the next to fill.
    visible: Vec<u32>,
}

impl Replication {
    /// Replication of `registry`'s components in `world`, keeping `history_ticks` frames.
    pub fn new(registry: Arc<Registry>, world: &mut World, history_ticks: usize) -> Replication {
        let states = (registry.rules().enumerate())
            .map(|(cid, rule)| rule.new_state(cid as u16, world))
            .collect();
        let interest = registry.interest.as_ref().map(|spec| Interest {
            source: (spec.source)(world),
            grid: Grid::new(spec.config.world_size, spec.config.view_radius),
            view_reach: interest::to_grid(spec.config.view_radius),
            keep_reach: interest::to_grid(spec.config.view_radius * HYSTERESIS),
            by_id: Vec::new(),
            everywhere: Vec::new(),
        });
        Replication {
            registry,
            states,
            unassigned: world.query_filtered(),
            replicated: world.query(),
            by_id: Vec::new(),
            pending: Vec::new(),
            interest,
            relevance: Relevance::new(world),
            history: VecDeque::with_capacity(history_ticks + 1),
            history_ticks: history_ticks.max(2),
            shared: Vec::new(),
            changes: Vec::new(),
            owner_changes: Vec::new(),
            spawns: Vec::new(),
            all_delta: None,
            ops: Vec::new(),
            scratch: Vec::new(),
            candidates: Vec::new(),
            visible: Vec::new(),
        }
    }

    /// The registry replicated.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Captures the world at `tick`: gives new replicated entities their ids, frees the ids
    /// of despawned ones, and encodes each entity's change since the previous tick, once for
    /// all clients.
    ///
    /// This is the end of the world's tick: it clears the world's change trackers (which a
    /// bevy `App` would do), so removal messages do not pile up and the next capture sees
    /// only what changed after this one.
    pub fn begin_tick(&mut self, world: &mut World, tick: Tick) {
        assign_with(&mut self.unassigned, world);
        let mut frame = Frame::capture_with(&mut self.replicated, &mut self.by_id, world, tick);
        self.shared.clear();
        self.all_delta = None;
        self.pending.clear();
        for state in &mut self.states {
            state.capture(world, tick, &mut self.shared, &mut self.pending);
        }
        let previous = self.history.back().cloned();
        let before: &[NetId] = previous.as_deref().map_or(&[], |p| &p.ids);
        self.release_gone(world, before, &frame.ids);
        self.encode_changes(&frame);
        self.relevance.capture(world, &frame);
        if let Some(interest) = &mut self.interest {
            interest.locate(world, &mut frame, &self.relevance);
        }
        world.clear_trackers();
        if let Some(old) = self.history.back_mut() {
            // History frames are only read for their ids.
            if let Some(old) = Arc::get_mut(old) {
                old.positions = Vec::new();
            }
        }
        self.history.push_back(Arc::new(frame));
        while self.history.len() > self.history_ticks {
            self.history.pop_front();
        }
    }

    /// Frees the ids of entities that were in the previous frame and are gone now.
    fn release_gone(&mut self, world: &mut World, before: &[NetId], now: &[NetId]) {
        let mut b = 0;
        let mut gone = Vec::new();
        for id in now {
            while before.get(b).is_some_and(|old| old.id < id.id) {
                gone.push(before[b]);
                b += 1;
            }
            if before.get(b).is_some_and(|old| old.id == id.id) {
                if before[b] != *id {
                    gone.push(before[b]);
                }
                b += 1;
            }
        }
        gone.extend_from_slice(&before[b.min(before.len())..]);
        if gone.is_empty() {
            return;
        }
        world.init_resource::<NetIds>();
        let mut ids = world.resource_mut::<NetIds>();
        for id in gone {
            ids.release(id);
        }
    }

    /// Builds each changed entity's change op (public) and OWN body (owner-only) from the
    /// changes the rules captured.
    fn encode_changes(&mut self, frame: &Frame) {
        let n = frame.ids.len();
        self.changes.clear();
        self.changes.resize(n, None);
        self.owner_changes.clear();
        self.owner_changes.resize(n, None);
        self.spawns.clear();
        self.spawns.resize(n, None);
        // Each rule captured in its query's order; a stable sort by id keeps component order
        // within an entity (rules run in component-id order).
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|change| change.id);
        let mut public: Vec<(u32, Range<usize>)> = Vec::new();
        let mut owner: Vec<(u32, Range<usize>)> = Vec::new();
        let mut rest = pending.as_slice();
        while let Some(first) = rest.first() {
            let id = first.id;
            let end = rest.iter().position(|c| c.id != id).unwrap_or(rest.len());
            let (group, tail) = rest.split_at(end);
            rest = tail;
            let Some(index) = frame.find(id) else { continue };
            public.clear();
            owner.clear();
            for change in group {
                let list = if change.owner { &mut owner } else { &mut public };
                list.push((change.cop, change.payload.clone()));
            }
            self.changes[index] = match public.as_slice() {
                [] => None,
                [(cop, payload)] => {
                    Some(Op { tag: u32::from(OP_SINGLE) + cop, body: payload.clone() })
                }
                many => {
                    let body = write_component_ops(&mut self.shared, many);
                    Some(Op { tag: u32::from(OP_CHANGES), body })
                }
            };
            if !owner.is_empty() {
                self.owner_changes[index] = Some(write_component_ops(&mut self.shared, &owner));
            }
        }
        self.pending = pending;
    }

    /// The current frame (the last one captured).
    pub fn current(&self) -> Option<&Arc<Frame>> {
        self.history.back()
    }

    fn frame_at(&self, tick: Tick) -> Option<&Arc<Frame>> {
        let newest = self.history.back()?.tick;
        let back = newest.since(tick) as usize;
        let index = self.history.len().checked_sub(1 + back)?;
        self.history.get(index).filter(|f| f.tick == tick)
    }
}

impl Interest {
    /// Reads this tick's positions into the frame and rebuilds the grid; entities without a
    /// position or always relevant are seen by everyone, and left out of the grid.
    fn locate(&mut self, world: &World, frame: &mut Frame, relevance: &Relevance) {
        self.by_id.iter_mut().for_each(|p| *p = None);
        self.source.positions(world, &mut self.by_id);
        frame.positions.clear();
        frame.positions.extend(frame.ids.iter().map(|id| {
            let at = self.by_id.get(id.id as usize).copied().flatten()?;
            Some((interest::to_grid(at.x), interest::to_grid(at.y)))
        }));
        self.everywhere.clear();
        let everywhere = |i: usize, p: &Option<(i32, i32)>| p.is_none() || relevance.is_always(i);
        self.everywhere.extend(
            (frame.positions.iter().enumerate())
                .filter(|&(i, p)| everywhere(i, p))
                .map(|(i, _)| i as u32),
        );
        let points = (frame.positions.iter().enumerate())
            .filter(|&(i, p)| !everywhere(i, p))
            .filter_map(|(i, p)| p.map(|(x, y)| (x, y, i as u32)));
        self.grid.rebuild(points);
    }
}

/// Writes `count`, then each component op and its payload (copied from `shared`), at the end
/// of `shared`; returns the range written.
fn write_component_ops(shared: &mut Vec<u8>, ops: &[(u32, Range<usize>)]) -> Range<usize> {
    let start = shared.len();
    varint::write_len(shared, ops.len());
    for (cop, payload) in ops {
        varint::write_u32(shared, *cop);
        shared.extend_from_within(payload.clone());
    }
    start..shared.len()
}
