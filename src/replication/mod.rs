//! Replication: from the world's state each tick to each client's snapshot bytes.
//!
//! Pure: it takes frames and returns bytes; no sockets, no clock. Per tick the
//! [`Replication::begin_tick`] phase captures what is shared (each entity's change since the
//! previous tick, encoded once; spawn bodies, encoded once on first use; the all-entities delta
//! when everyone sees everything). Per client, [`Replication::build`] assembles a message from
//! those pieces against that client's baseline: writing an op tag and an id gap per entity
//! and copying the shared body, not re-encoding. Only a client whose baseline is older than the
//! previous tick (it skipped snapshots) has its changes encoded for it alone.

mod client_view;
mod frame;
mod interest;
pub mod replica;

pub use client_view::{Baseline, ClientView, Visible};
pub use frame::{Frame, Record, capture, entity_state, to_wire};
pub use interest::{Grid, HYSTERESIS};
pub use replica::{Replica, ReplicaError};

use crate::protocol::{self, varint};
use crate::sim::NetId;
use crate::tick::Tick;
use bevy_ecs::world::World;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

const MSG_FULL: u8 = 1;
const MSG_DELTA: u8 = 2;
const OP_SPAWN: u8 = 0;
const OP_MOVE: u8 = 1;
const OP_UPDATE: u8 = 2;
const OP_DESPAWN: u8 = 3;
const OP_OWN: u8 = 4;

/// The client's own player as the tick loop reads it from the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnState {
    /// Last input seq applied.
    pub seq: u32,
    /// Velocity, wire units (1/64 units per second).
    pub velocity: (i32, i32),
}

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

/// An entity's change since the previous tick: its op tag and the op body after the id gap.
#[derive(Debug, Clone)]
struct Change {
    tag: u8,
    body: Range<usize>,
}

/// Replication state shared by all clients: world history and this tick's shared encodings.
pub struct Replication {
    history: VecDeque<Arc<Frame>>,
    history_ticks: usize,
    everyone_sees_all: bool,
    view_reach: i32,
    keep_reach: i32,
    grid: Grid,
    shared: Vec<u8>,
    changes: Vec<Option<Change>>,
    spawns: Vec<Option<Range<usize>>>,
    all_delta: Option<(Range<usize>, usize)>,
    ops: Vec<u8>,
    candidates: Vec<u32>,
    /// The last client's visible list, kept for the next to fill.
    visible: Vec<u32>,
}

impl Replication {
    /// Replication for an arena of `size` with the given view, keeping `history_ticks` frames.
    pub fn new(size: f32, view_radius: f32, history_ticks: usize) -> Replication {
        Replication {
            history: VecDeque::with_capacity(history_ticks + 1),
            history_ticks: history_ticks.max(2),
            everyone_sees_all: view_radius >= size,
            view_reach: to_wire(view_radius),
            keep_reach: to_wire(view_radius * HYSTERESIS),
            grid: Grid::new(size, view_radius),
            shared: Vec::new(),
            changes: Vec::new(),
            spawns: Vec::new(),
            all_delta: None,
            ops: Vec::new(),
            candidates: Vec::new(),
            visible: Vec::new(),
        }
    }

    /// Takes this tick's frame: stores it in history and encodes each entity's change since
    /// the previous tick, once for all clients.
    pub fn begin_tick(&mut self, frame: Frame) {
        self.shared.clear();
        self.changes.clear();
        self.spawns.clear();
        self.spawns.resize(frame.records.len(), None);
        self.all_delta = None;
        let previous = self.history.back().cloned();
        let before: &[Record] = previous.as_deref().map_or(&[], |p| &p.records);
        // Both frames are sorted by id: one merge pass finds each record's previous state.
        let mut b = 0;
        for record in &frame.records {
            while before.get(b).is_some_and(|old| old.id.id < record.id.id) {
                b += 1;
            }
            let change = match before.get(b) {
                Some(old) if old.id == record.id => encode_change(&mut self.shared, old, record),
                _ => None,
            };
            self.changes.push(change);
        }
        if !self.everyone_sees_all {
            self.grid.rebuild(&frame);
        }
        self.history.push_back(Arc::new(frame));
        while self.history.len() > self.history_ticks {
            self.history.pop_front();
        }
    }

    /// The current frame (the last one passed to [`Replication::begin_tick`]).
    pub fn current(&self) -> Option<&Arc<Frame>> {
        self.history.back()
    }

    fn frame_at(&self, tick: Tick) -> Option<&Arc<Frame>> {
        let newest = self.history.back()?.tick;
        let back = newest.since(tick) as usize;
        let index = self.history.len().checked_sub(1 + back)?;
        self.history.get(index).filter(|f| f.tick == tick)
    }

    /// Builds this tick's snapshot for one client into `out` and records it as the client's
    /// in-flight baseline. Call [`ClientView::settle`] first.
    pub fn build(
        &mut self,
        world: &World,
        view: &mut ClientView,
        own: OwnState,
        out: &mut Vec<u8>,
    ) -> Built {
        let Some(frame) = self.history.back().cloned() else {
            return Built::Full;
        };
        let visible = self.visible_now(&frame, view);
        let base = view.confirmed.as_ref().and_then(|b| Some((b, self.frame_at(b.tick)?.clone())));
        let built = match base {
            None => {
                self.write_full(world, &frame, &visible, own, out);
                Built::Full
            }
            Some((base, base_frame)) => {
                self.write_delta(world, &frame, &visible, base, &base_frame, own, out)
            }
        };
        view.inflight = Some(Baseline {
            tick: frame.tick,
            seq: own.seq,
            velocity: own.velocity,
            visible: match &visible {
                None => Visible::All,
                Some(list) => {
                    let mut ids = std::mem::take(&mut view.spare);
                    ids.clear();
                    ids.extend(list.iter().map(|&i| frame.records[i as usize].id));
                    Visible::List(ids)
                }
            },
        });
        if let Some(list) = visible {
            self.visible = list;
        }
        built
    }

    /// Indices (ascending) of the records this client sees now; `None` means all of them.
    fn visible_now(&mut self, frame: &Frame, view: &ClientView) -> Option<Vec<u32>> {
        if self.everyone_sees_all {
            return None;
        }
        let own_index = frame.find(view.own.id).filter(|&i| frame.records[i].id == view.own);
        let mut list = std::mem::take(&mut self.visible);
        list.clear();
        let Some(own_index) = own_index else {
            return Some(list);
        };
        let me = frame.records[own_index];
        let held = match view.confirmed.as_ref().map(|b| &b.visible) {
            Some(Visible::List(ids)) => ids.as_slice(),
            _ => &[],
        };
        self.candidates.clear();
        self.grid.query(me.x, me.y, self.keep_reach, &mut self.candidates);
        for &index in &self.candidates {
            let r = &frame.records[index as usize];
            let near =
                (r.x - me.x).abs() <= self.view_reach && (r.y - me.y).abs() <= self.view_reach;
            if near || index as usize == own_index || held.binary_search(&r.id).is_ok() {
                list.push(index);
            }
        }
        list.sort_unstable();
        Some(list)
    }

    fn write_full(
        &mut self,
        world: &World,
        frame: &Frame,
        visible: &Option<Vec<u32>>,
        own: OwnState,
        out: &mut Vec<u8>,
    ) {
        self.ops.clear();
        let mut count = 1;
        write_own(&mut self.ops, own.velocity);
        let mut previous = 0;
        let seen = match visible {
            None => Seen::All(frame.records.len()),
            Some(list) => Seen::List(list),
        };
        for index in (0..).map_while(|i| seen.get(i)) {
            let id = frame.records[index].id.id;
            let body = self.spawn_body(world, frame, index);
            write_op(&mut self.ops, OP_SPAWN, id - previous, &self.shared[body]);
            previous = id;
            count += 1;
        }
        out.push(MSG_FULL);
        varint::write_u32(out, frame.tick.0);
        varint::write_u32(out, own.seq);
        varint::write_len(out, count);
        out.extend_from_slice(&self.ops);
    }

    #[allow(clippy::too_many_arguments)]
    fn write_delta(
        &mut self,
        world: &World,
        frame: &Frame,
        visible: &Option<Vec<u32>>,
        base: &Baseline,
        base_frame: &Frame,
        own: OwnState,
        out: &mut Vec<u8>,
    ) -> Built {
        let consecutive = frame.tick.since(base.tick) == 1;
        let own_changed = own.velocity != base.velocity;
        out.push(MSG_DELTA);
        varint::write_u32(out, frame.tick.since(base.tick));
        varint::write_u32(out, own.seq.saturating_sub(base.seq));
        if consecutive && visible.is_none() && base.visible == Visible::All {
            let (range, count) = self.all_delta(world, frame, base_frame);
            varint::write_len(out, count + usize::from(own_changed));
            if own_changed {
                write_own(out, own.velocity);
            }
            out.extend_from_slice(&self.shared[range]);
            return Built::Delta;
        }
        self.ops.clear();
        let mut count = 0;
        if own_changed {
            write_own(&mut self.ops, own.velocity);
            count += 1;
        }
        let held = match &base.visible {
            Visible::All => Held::All(&base_frame.records),
            Visible::List(ids) => Held::List(ids),
        };
        let now = match visible {
            None => Seen::All(frame.records.len()),
            Some(list) => Seen::List(list),
        };
        count += self.merge(world, frame, base_frame, consecutive, now, held);
        varint::write_len(out, count);
        out.extend_from_slice(&self.ops);
        if consecutive { Built::Delta } else { Built::CatchUp }
    }

    /// Writes the ops that take a client from holding `held` (at `base_frame`) to holding
    /// `now` (indices into `frame`), returning how many it wrote.
    fn merge(
        &mut self,
        world: &World,
        frame: &Frame,
        base_frame: &Frame,
        consecutive: bool,
        now: Seen<'_>,
        held: Held<'_>,
    ) -> usize {
        let (mut a, mut b, mut previous, mut count) = (0, 0, 0u32, 0);
        loop {
            let current = now.get(a).map(|i| (i, frame.records[i]));
            let old = held.get(b);
            match (current, old) {
                (Some((index, record)), Some(old)) if record.id.id == old.id => {
                    a += 1;
                    b += 1;
                    if record.id != old {
                        let body = self.spawn_body(world, frame, index);
                        write_op(
                            &mut self.ops,
                            OP_SPAWN,
                            record.id.id - previous,
                            &self.shared[body],
                        );
                    } else if consecutive {
                        let Some(change) = self.changes[index].clone() else { continue };
                        write_op(
                            &mut self.ops,
                            change.tag,
                            record.id.id - previous,
                            &self.shared[change.body],
                        );
                    } else {
                        let Some(before) = base_frame.find(old.id).map(|i| base_frame.records[i])
                        else {
                            continue;
                        };
                        let start = self.shared.len();
                        let Some(tag) =
                            encode_change(&mut self.shared, &before, &record).map(|c| c.tag)
                        else {
                            continue;
                        };
                        let body = start..self.shared.len();
                        write_op(&mut self.ops, tag, record.id.id - previous, &self.shared[body]);
                    }
                    previous = record.id.id;
                }
                (Some((index, record)), old) if old.is_none_or(|o| record.id.id < o.id) => {
                    // Entering view (or new in the world): sent whole.
                    a += 1;
                    let body = self.spawn_body(world, frame, index);
                    write_op(&mut self.ops, OP_SPAWN, record.id.id - previous, &self.shared[body]);
                    previous = record.id.id;
                }
                (_, Some(old)) => {
                    b += 1;
                    write_op(&mut self.ops, OP_DESPAWN, old.id - previous, &[]);
                    previous = old.id;
                }
                (Some(_), None) | (None, None) => break,
            }
            count += 1;
        }
        count
    }

    /// The ops that take a client holding every entity of the previous tick to holding every
    /// entity now; built once per tick on first use.
    fn all_delta(
        &mut self,
        world: &World,
        frame: &Frame,
        base_frame: &Frame,
    ) -> (Range<usize>, usize) {
        if let Some(done) = &self.all_delta {
            return done.clone();
        }
        let (now, held) = (Seen::All(frame.records.len()), Held::All(&base_frame.records));
        self.ops.clear();
        let count = self.merge(world, frame, base_frame, true, now, held);
        let start = self.shared.len();
        self.shared.extend_from_slice(&self.ops);
        let done = (start..self.shared.len(), count);
        self.all_delta = Some(done.clone());
        done
    }

    /// The encoded [`protocol::EntityState`] of a record, encoded on first use this tick.
    fn spawn_body(&mut self, world: &World, frame: &Frame, index: usize) -> Range<usize> {
        if let Some(range) = &self.spawns[index] {
            return range.clone();
        }
        let state = entity_state(world, frame.entities[index], &frame.records[index]);
        let start = self.shared.len();
        protocol::encode_into(&state, &mut self.shared);
        let range = start..self.shared.len();
        self.spawns[index] = Some(range.clone());
        range
    }
}

/// The entities a client held at its baseline, ascending by id.
#[derive(Clone, Copy)]
enum Held<'a> {
    /// Every record of the baseline frame.
    All(&'a [Record]),
    /// These.
    List(&'a [NetId]),
}

impl Held<'_> {
    fn get(self, i: usize) -> Option<NetId> {
        match self {
            Held::All(records) => records.get(i).map(|r| r.id),
            Held::List(ids) => ids.get(i).copied(),
        }
    }
}

/// The records (indices into the current frame) a client sees now, ascending.
#[derive(Clone, Copy)]
enum Seen<'a> {
    /// All of the frame's `n` records.
    All(usize),
    /// These.
    List(&'a [u32]),
}

impl Seen<'_> {
    fn get(self, i: usize) -> Option<usize> {
        match self {
            Seen::All(n) => (i < n).then_some(i),
            Seen::List(list) => list.get(i).map(|&index| index as usize),
        }
    }
}

/// Encodes the body of a Move or Update op from `old` to `new`; `None` when nothing changed.
fn encode_change(shared: &mut Vec<u8>, old: &Record, new: &Record) -> Option<Change> {
    let (dx, dy) = (new.x.wrapping_sub(old.x), new.y.wrapping_sub(old.y));
    let rescored = new.score != old.score;
    if dx == 0 && dy == 0 && !rescored {
        return None;
    }
    let start = shared.len();
    varint::write_i32(shared, dx);
    varint::write_i32(shared, dy);
    if rescored {
        varint::write_u32(shared, new.score);
    }
    Some(Change { tag: if rescored { OP_UPDATE } else { OP_MOVE }, body: start..shared.len() })
}

fn write_op(out: &mut Vec<u8>, tag: u8, id_gap: u32, body: &[u8]) {
    out.push(tag);
    varint::write_u32(out, id_gap);
    out.extend_from_slice(body);
}

fn write_own(out: &mut Vec<u8>, velocity: (i32, i32)) {
    out.push(OP_OWN);
    varint::write_i32(out, velocity.0);
    varint::write_i32(out, velocity.1);
}
