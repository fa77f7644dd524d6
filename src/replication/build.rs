//! Per client: assembling one snapshot from this tick's shared pieces against the client's
//! baseline, and what the client sees (interest).

use super::{Baseline, Visible};
use super::{Built, ClientView, Frame, NetId, Op, Replication, write_component_ops};
use crate::protocol::tags::{
    self, MSG_DELTA, MSG_FULL, OP_CHANGES, OP_DESPAWN, OP_OWN, OP_SINGLE, OP_SPAWN,
};
use crate::protocol::{Visibility, varint};
use crate::tick::Tick;
use std::ops::Range;

/// What a snapshot tells its client about the client's inputs, in its header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputAck {
    /// The last input of the client the world applied (0 before the first).
    pub seq: u32,
    /// The client's pacing hint ([`crate::input::pacing`]): send faster (positive) or
    /// slower, in 1/64 of a tick. Absolute in every snapshot, never a delta.
    pub pacing: i32,
}

impl Replication {
    /// Builds this tick's snapshot for one client into `out` and records it as the client's
    /// in-flight baseline; `ack` is about the client's inputs. Call [`ClientView::settle`]
    /// first.
    pub fn build(&mut self, view: &mut ClientView, ack: InputAck, out: &mut Vec<u8>) -> Built {
        let Some(frame) = self.history.back().cloned() else {
            return Built::Full;
        };
        let own_index = match frame.ids.get(view.own_index) {
            Some(&id) if id == view.own => Some(view.own_index),
            _ => frame.find(view.own.id).filter(|&i| frame.ids[i] == view.own),
        };
        view.own_index = own_index.unwrap_or(0);
        let visible = self.visible_now(&frame, view, own_index);
        let base = view.confirmed.as_ref().and_then(|b| Some((b, self.frame_at(b.tick)?.clone())));
        let built = match base {
            None => {
                self.write_full(&frame, &visible, view.own, ack, out);
                Built::Full
            }
            Some((base, base_frame)) => self.write_delta(
                &frame,
                &visible,
                (view.own, own_index),
                base,
                &base_frame,
                ack,
                out,
            ),
        };
        view.inflight = Some(Baseline {
            tick: frame.tick,
            seq: ack.seq,
            visible: match &visible {
                None => Visible::All,
                Some(list) => {
                    let mut ids = std::mem::take(&mut view.spare);
                    ids.clear();
                    ids.extend(list.iter().map(|&i| frame.ids[i as usize]));
                    Visible::List(ids)
                }
            },
        });
        if let Some(list) = visible {
            self.visible = list;
        }
        built
    }

    /// Indices (ascending) of the entities this client sees now; `None` means all of them.
    fn visible_now(
        &mut self,
        frame: &Frame,
        view: &ClientView,
        own_index: Option<usize>,
    ) -> Option<Vec<u32>> {
        let mut list = match self.near(frame, view, own_index) {
            Some(list) => list,
            None if self.relevance.restricts() => {
                let mut list = std::mem::take(&mut self.visible);
                list.clear();
                list.extend(0..frame.ids.len() as u32);
                list
            }
            None => return None,
        };
        if self.relevance.restricts() {
            let viewer = own_index.map_or(0, |i| self.relevance.member_of(i));
            let relevance = &self.relevance;
            list.retain(|&index| {
                let index = index as usize;
                Some(index) == own_index || relevance.sees(viewer, index)
            });
        }
        Some(list)
    }

    /// Indices (ascending) of the entities near this client (interest); `None` without
    /// interest management.
    fn near(
        &mut self,
        frame: &Frame,
        view: &ClientView,
        own_index: Option<usize>,
    ) -> Option<Vec<u32>> {
        let interest = self.interest.as_ref()?;
        let mut list = std::mem::take(&mut self.visible);
        list.clear();
        list.extend_from_slice(&interest.everywhere);
        let Some(Some((mx, my))) = own_index.map(|i| frame.positions[i]) else {
            list.extend(own_index.map(|i| i as u32));
            list.sort_unstable();
            list.dedup();
            return Some(list);
        };
        let held = match view.confirmed.as_ref().map(|b| &b.visible) {
            Some(Visible::List(ids)) => ids.as_slice(),
            _ => &[],
        };
        self.candidates.clear();
        interest.grid.query(mx, my, interest.keep_reach, &mut self.candidates);
        let reach = interest.view_reach;
        for &index in &self.candidates {
            let Some((x, y)) = frame.positions[index as usize] else { continue };
            let near = (x - mx).abs() <= reach && (y - my).abs() <= reach;
            let id = frame.ids[index as usize];
            if near || Some(index as usize) == own_index || held.binary_search(&id).is_ok() {
                list.push(index);
            }
        }
        list.sort_unstable();
        list.dedup();
        Some(list)
    }

    fn write_full(
        &mut self,
        frame: &Frame,
        visible: &Option<Vec<u32>>,
        own: NetId,
        ack: InputAck,
        out: &mut Vec<u8>,
    ) {
        self.ops.clear();
        let mut count = 0;
        let mut previous = 0;
        let seen = match visible {
            None => Seen::All(frame.ids.len()),
            Some(list) => Seen::List(list),
        };
        for index in (0..).map_while(|i| seen.get(i)) {
            let id = frame.ids[index];
            let body = self.spawn_body(frame, index, id == own);
            write_op(
                &mut self.ops,
                u32::from(OP_SPAWN),
                Some(id.id - previous),
                &self.shared[body.clone()],
            );
            previous = id.id;
            count += 1;
        }
        out.push(MSG_FULL);
        varint::write_u32(out, frame.tick.0);
        varint::write_u32(out, ack.seq);
        varint::write_i32(out, ack.pacing);
        varint::write_len(out, count);
        out.extend_from_slice(&self.ops);
    }

    #[allow(clippy::too_many_arguments)]
    fn write_delta(
        &mut self,
        frame: &Frame,
        visible: &Option<Vec<u32>>,
        (own, own_index): (NetId, Option<usize>),
        base: &Baseline,
        base_frame: &Frame,
        ack: InputAck,
        out: &mut Vec<u8>,
    ) -> Built {
        let consecutive = frame.tick.since(base.tick) == 1;
        out.push(MSG_DELTA);
        varint::write_u32(out, frame.tick.since(base.tick));
        varint::write_u64(
            out,
            crate::protocol::tags::pack_ack(ack.seq.saturating_sub(base.seq), ack.pacing),
        );
        self.ops.clear();
        // The own entity is in every snapshot from the client's first, and its wire id is
        // never reused while it lives: if it is here now, the baseline holds it.
        let own_op = match own_index {
            Some(index) if consecutive => self.owner_changes[index].clone(),
            Some(_) => self.owner_catch_up(own, base.tick),
            None => None,
        };
        let mut count = 0;
        if let Some(body) = own_op {
            write_op(&mut self.ops, u32::from(OP_OWN), None, &self.shared[body.clone()]);
            count += 1;
        }
        if consecutive && visible.is_none() && base.visible == Visible::All {
            let (range, shared_count) = self.all_delta(frame, base_frame, own);
            varint::write_len(out, count + shared_count);
            out.extend_from_slice(&self.ops);
            out.extend_from_slice(&self.shared[range]);
            return Built::Delta;
        }
        let held = match &base.visible {
            Visible::All => Held::List(&base_frame.ids),
            Visible::List(ids) => Held::List(ids),
        };
        let now = match visible {
            None => Seen::All(frame.ids.len()),
            Some(list) => Seen::List(list),
        };
        count += self.merge(frame, base.tick, consecutive, now, held, own);
        varint::write_len(out, count);
        out.extend_from_slice(&self.ops);
        if consecutive { Built::Delta } else { Built::CatchUp }
    }

    /// Writes (into `self.ops`) the ops that take a client from holding `held` to holding
    /// `now` (indices into `frame`), returning how many it wrote.
    fn merge(
        &mut self,
        frame: &Frame,
        base_tick: Tick,
        consecutive: bool,
        now: Seen<'_>,
        held: Held<'_>,
        own: NetId,
    ) -> usize {
        let (mut a, mut b, mut previous, mut count) = (0, 0, 0u32, 0);
        loop {
            let current = now.get(a).map(|i| (i, frame.ids[i]));
            let old = held.get(b);
            match (current, old) {
                (Some((index, id)), Some(old)) if id.id == old.id => {
                    a += 1;
                    b += 1;
                    let gap = id.id - previous;
                    if id != old {
                        let body = self.spawn_body(frame, index, id == own);
                        write_op(
                            &mut self.ops,
                            u32::from(OP_SPAWN),
                            Some(gap),
                            &self.shared[body.clone()],
                        );
                    } else if consecutive {
                        let Some(change) = self.changes[index].clone() else { continue };
                        write_op(
                            &mut self.ops,
                            change.tag,
                            Some(gap),
                            &self.shared[change.body.clone()],
                        );
                    } else {
                        let Some(change) = self.public_catch_up(id, base_tick) else { continue };
                        write_op(
                            &mut self.ops,
                            change.tag,
                            Some(gap),
                            &self.shared[change.body.clone()],
                        );
                    }
                    previous = id.id;
                }
                (Some((index, id)), old) if old.is_none_or(|o| id.id < o.id) => {
                    // Entering view (or new in the world): sent whole.
                    a += 1;
                    let body = self.spawn_body(frame, index, id == own);
                    let gap = Some(id.id - previous);
                    write_op(&mut self.ops, u32::from(OP_SPAWN), gap, &self.shared[body.clone()]);
                    previous = id.id;
                }
                (_, Some(old)) => {
                    b += 1;
                    write_op(
                        &mut self.ops,
                        u32::from(OP_DESPAWN),
                        Some(old.id - previous),
                        &self.shared[0..0],
                    );
                    previous = old.id;
                }
                (Some(_), None) | (None, None) => break,
            }
            count += 1;
        }
        count
    }

    /// The ops that take a client holding every entity of the previous tick to holding every
    /// entity now; built once per tick on first use. Written into the shared buffer.
    fn all_delta(
        &mut self,
        frame: &Frame,
        base_frame: &Frame,
        own: NetId,
    ) -> (Range<usize>, usize) {
        if let Some(done) = &self.all_delta {
            return done.clone();
        }
        let own_ops = std::mem::take(&mut self.ops);
        let (now, held) = (Seen::All(frame.ids.len()), Held::List(&base_frame.ids));
        // `own` only decides spawn bodies, and the own entity is never new in a delta.
        let count = self.merge(frame, frame.tick, true, now, held, own);
        let start = self.shared.len();
        let ops = std::mem::replace(&mut self.ops, own_ops);
        self.shared.extend_from_slice(&ops);
        let done = (start..self.shared.len(), count);
        self.all_delta = Some(done.clone());
        done
    }

    /// A spawn body: the count of components, then each one's id and whole value. The own
    /// entity's includes its owner-only components; others' bodies are encoded once a tick.
    fn spawn_body(&mut self, frame: &Frame, index: usize, own: bool) -> Range<usize> {
        if !own && let Some(range) = &self.spawns[index] {
            return range.clone();
        }
        let id = frame.ids[index];
        self.scratch.clear();
        let mut count = 0;
        for (cid, state) in self.states.iter().enumerate() {
            if !own && state.visibility() == Visibility::Owner {
                continue;
            }
            let mark = self.scratch.len();
            varint::write_u32(&mut self.scratch, cid as u32);
            if state.write_full(id, &mut self.scratch) {
                count += 1;
            } else {
                self.scratch.truncate(mark);
            }
        }
        let start = self.shared.len();
        varint::write_len(&mut self.shared, count);
        self.shared.extend_from_slice(&self.scratch);
        let range = start..self.shared.len();
        if !own {
            self.spawns[index] = Some(range.clone());
        }
        range
    }

    /// The change op of an entity's public components since `since` (whole values).
    fn public_catch_up(&mut self, id: NetId, since: Tick) -> Option<Op> {
        let ops = self.catch_up_ops(id, since, Visibility::Everyone);
        match ops.as_slice() {
            [] => None,
            [(cop, payload)] => Some(Op { tag: u32::from(OP_SINGLE) + cop, body: payload.clone() }),
            many => Some(Op {
                tag: u32::from(OP_CHANGES),
                body: write_component_ops(&mut self.shared, many),
            }),
        }
    }

    /// The OWN body of the own entity's owner-only components changed since `since`.
    fn owner_catch_up(&mut self, id: NetId, since: Tick) -> Option<Range<usize>> {
        let ops = self.catch_up_ops(id, since, Visibility::Owner);
        (!ops.is_empty()).then(|| write_component_ops(&mut self.shared, &ops))
    }

    /// SET (or REMOVE) component ops, with payloads written into the shared buffer.
    fn catch_up_ops(
        &mut self,
        id: NetId,
        since: Tick,
        visibility: Visibility,
    ) -> Vec<(u32, Range<usize>)> {
        let mut ops = Vec::new();
        for (cid, state) in self.states.iter().enumerate() {
            if state.visibility() != visibility {
                continue;
            }
            let Some(present) = state.changed_since(id, since) else { continue };
            let start = self.shared.len();
            let kind = if present && state.write_full(id, &mut self.shared) {
                tags::COP_SET
            } else {
                tags::COP_REMOVE
            };
            ops.push((tags::cop(cid as u16, kind), start..self.shared.len()));
        }
        ops
    }
}

/// Writes an op: its tag, its id gap (if it has one) and its body from the shared buffer.
fn write_op(out: &mut Vec<u8>, tag: u32, id_gap: Option<u32>, body: &[u8]) {
    varint::write_u32(out, tag);
    if let Some(gap) = id_gap {
        varint::write_u32(out, gap);
    }
    out.extend_from_slice(body);
}

/// The entities a client held at its baseline, ascending by id.
#[derive(Clone, Copy)]
enum Held<'a> {
    /// These.
    List(&'a [NetId]),
}

impl Held<'_> {
    fn get(self, i: usize) -> Option<NetId> {
        match self {
            Held::List(ids) => ids.get(i).copied(),
        }
    }
}

/// The entities (indices into the current frame) a client sees now, ascending.
#[derive(Clone, Copy)]
enum Seen<'a> {
    /// All of the frame's `n` entities.
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
