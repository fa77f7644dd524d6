//! A client's replica of the world, built by applying snapshots as they arrive, for any game:
//! the registry tells how each component reads.
//!
//! Used by the bots, the tests and the property tests. Snapshots are applied straight from
//! the bytes: a load test runs hundreds of replicas on the same machine as the server, so the
//! bots' decoding must be cheap.

use crate::protocol::tags::{
    COP_DELTA, COP_KINDS, COP_REMOVE, COP_SET, MSG_DELTA, MSG_EVENT, MSG_FULL, MSG_NOTICE,
    MSG_PONG, MSG_WELCOME, OP_CHANGES, OP_DESPAWN, OP_OWN, OP_SINGLE, OP_SPAWN,
};
use crate::protocol::{self, Control, Reader, WireError};
use crate::registry::{AnyValue, Registry};
use bevy_ecs::component::Component;
use std::sync::Arc;

/// Why a message could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    /// The bytes are not a valid server message.
    #[error(transparent)]
    Malformed(#[from] WireError),
    /// An op named an entity the replica does not hold.
    #[error("op {op} names entity {id}, which the replica does not hold")]
    UnknownEntity {
        /// The op name.
        op: &'static str,
        /// The id.
        id: u32,
    },
    /// An op named a component the schema does not have.
    #[error("component {cid} is not in the schema")]
    UnknownComponent {
        /// The component id.
        cid: u32,
    },
    /// A delta arrived before any full snapshot.
    #[error("delta before the first full snapshot")]
    NoBaseline,
    /// A spawn named an entity id above [`MAX_ENTITY_ID`].
    #[error("spawn of entity {id}, above the replica's limit of {max}")]
    EntityIdTooLarge {
        /// The id.
        id: u32,
        /// [`MAX_ENTITY_ID`].
        max: u32,
    },
}

/// Largest entity id a replica holds. A replica keeps its entities in arrays indexed by id,
/// and the server hands out the smallest free id, so ids stay below the most entities ever
/// alive at once (a few thousand in the largest load test). Without a bound a single 8-byte
/// spawn of id 4,294,967,295 would make the replica allocate hundreds of GiB; with it, a
/// replica's arrays are at most 2^16 entries per component.
pub const MAX_ENTITY_ID: u32 = (1 << 16) - 1;

/// What a message was.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The welcome.
    Welcome(Box<protocol::Welcome>),
    /// A snapshot: whether it was full, and how many ops it carried.
    Snapshot {
        /// Full or delta.
        full: bool,
        /// Ops applied.
        ops: usize,
    },
    /// A pong.
    Pong(protocol::Pong),
    /// An operator's notice.
    Notice(protocol::Notice),
    /// One of the game's events: its tick and bincode bytes (the replica holds no events).
    Event {
        /// The tick it belongs to.
        tick: u32,
        /// The event's bincode bytes.
        bytes: Vec<u8>,
    },
}

/// Ops of one kind in the snapshots applied: how many, and their encoded bytes (tag included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpTally {
    /// Ops.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Op tallies by kind, filled by [`Replica::apply_counting`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// `SPAWN` ops.
    pub spawn: OpTally,
    /// `DESPAWN` ops.
    pub despawn: OpTally,
    /// Ops with one component change (a moving entity, typically).
    pub single: OpTally,
    /// `CHANGES` ops (several components of one entity).
    pub changes: OpTally,
    /// `OWN` ops.
    pub own: OpTally,
}

/// One component's value for every entity id, as an ECS table holds a column: a delta to a
/// moving entity's position touches one slot, not the entity's whole record.
type Column = Vec<Option<AnyValue>>;

/// The world as one client holds it.
pub struct Replica {
    registry: Arc<Registry>,
    /// Each component's quantized integers per value (0: not quantized), by component id.
    quantized: Vec<usize>,
    /// The own entity's wire id (from the welcome).
    pub own_id: u32,
    /// Tick of the last snapshot applied.
    pub tick: u32,
    /// Last input seq the server applied, as of that snapshot.
    pub last_input_seq: u32,
    /// The server's pacing hint in that snapshot: send faster (positive) or slower, in 1/64
    /// of a tick (`crate::input::pacing`).
    pub pacing: i32,
    /// Which entity ids are held.
    alive: Vec<bool>,
    /// Each component's values, by component id, then entity id.
    columns: Vec<Column>,
    count: usize,
    started: bool,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("tick", &self.tick)
            .field("last_input_seq", &self.last_input_seq)
            .field("pacing", &self.pacing)
            .field("entities", &self.count)
            .finish()
    }
}

impl Replica {
    /// An empty replica of a game with these components.
    pub fn new(registry: Arc<Registry>) -> Replica {
        let quantized: Vec<usize> = registry.rules().map(|rule| rule.quantized_fields()).collect();
        let columns = quantized.iter().map(|_| Column::new()).collect();
        Replica {
            registry,
            quantized,
            alive: Vec::new(),
            columns,
            own_id: 0,
            tick: 0,
            last_input_seq: 0,
            pacing: 0,
            count: 0,
            started: false,
        }
    }

    /// Applies one server message.
    pub fn apply(&mut self, bytes: &[u8]) -> Result<Applied, ReplicaError> {
        self.apply_counting(bytes, &mut OpCounts::default())
    }

    /// Applies one server message like [`Replica::apply`], and adds the snapshot's ops to
    /// `counts` by kind, with their encoded sizes (the load tester's bytes per moving entity).
    /// On an error, the ops before the faulty one have been counted.
    pub fn apply_counting(
        &mut self,
        bytes: &[u8],
        counts: &mut OpCounts,
    ) -> Result<Applied, ReplicaError> {
        let mut reader = Reader::new(bytes);
        let tag = reader.u32()?;
        let applied = match u8::try_from(tag).unwrap_or(u8::MAX) {
            MSG_WELCOME | MSG_PONG | MSG_EVENT | MSG_NOTICE => {
                return match protocol::decode_control(bytes) {
                    Ok(Some(Control::Welcome(welcome))) => {
                        self.own_id = welcome.entity_id;
                        Ok(Applied::Welcome(welcome))
                    }
                    Ok(Some(Control::Pong(pong))) => Ok(Applied::Pong(pong)),
                    Ok(Some(Control::Notice(notice))) => Ok(Applied::Notice(notice)),
                    Ok(Some(Control::Event { tick, bytes })) => Ok(Applied::Event { tick, bytes }),
                    _ => Err(reader.malformed("undecodable welcome, pong, event or notice").into()),
                };
            }
            MSG_FULL => {
                self.tick = reader.u32()?;
                self.last_input_seq = reader.u32()?;
                self.pacing = reader.i32()?;
                self.alive.iter_mut().for_each(|alive| *alive = false);
                self.columns.iter_mut().flatten().for_each(|value| *value = None);
                self.count = 0;
                self.started = true;
                self.apply_ops(&mut reader, true, counts)?
            }
            MSG_DELTA => {
                if !self.started {
                    return Err(ReplicaError::NoBaseline);
                }
                self.tick = self.tick.wrapping_add(reader.u32()?);
                let packed = reader.u64()?;
                let (seq_delta, pacing) = crate::protocol::tags::unpack_ack(packed)
                    .ok_or_else(|| reader.malformed("input seq delta overflows u32"))?;
                self.last_input_seq = self.last_input_seq.wrapping_add(seq_delta);
                self.pacing = pacing;
                self.apply_ops(&mut reader, false, counts)?
            }
            _ => return Err(reader.malformed("unknown message variant").into()),
        };
        reader.finish()?;
        Ok(applied)
    }

    fn apply_ops(
        &mut self,
        reader: &mut Reader<'_>,
        full: bool,
        counts: &mut OpCounts,
    ) -> Result<Applied, ReplicaError> {
        let ops = reader.count()?;
        let mut id = 0u32;
        for _ in 0..ops {
            let start = reader.position();
            let tag = reader.u32()?;
            self.apply_op(reader, tag, &mut id)?;
            let tally = match tag {
                t if t >= u32::from(OP_SINGLE) => &mut counts.single,
                t if t == u32::from(OP_SPAWN) => &mut counts.spawn,
                t if t == u32::from(OP_DESPAWN) => &mut counts.despawn,
                t if t == u32::from(OP_CHANGES) => &mut counts.changes,
                t if t == u32::from(OP_OWN) => &mut counts.own,
                _ => &mut counts.single,
            };
            tally.count += 1;
            tally.bytes += (reader.position() - start) as u64;
        }
        Ok(Applied::Snapshot { full, ops })
    }

    fn apply_op(
        &mut self,
        reader: &mut Reader<'_>,
        tag: u32,
        id: &mut u32,
    ) -> Result<(), ReplicaError> {
        if tag == u32::from(OP_OWN) {
            let own = self.own_id;
            let n = reader.count()?;
            for _ in 0..n {
                let cop = reader.u32()?;
                self.component_op(reader, own, cop, "Own")?;
            }
            return Ok(());
        }
        *id = id.checked_add(reader.u32()?).ok_or_else(|| reader.malformed("id overflow"))?;
        let id = *id;
        match tag {
            t if t >= u32::from(OP_SINGLE) => {
                self.component_op(reader, id, t - u32::from(OP_SINGLE), "Change")?;
            }
            t if t == u32::from(OP_SPAWN) => {
                if id > MAX_ENTITY_ID {
                    return Err(ReplicaError::EntityIdTooLarge { id, max: MAX_ENTITY_ID });
                }
                self.insert(id);
                let n = reader.count()?;
                for _ in 0..n {
                    let cid = reader.u32()?;
                    let value = self.rule(cid)?.decode(reader)?;
                    self.columns[cid as usize][id as usize] = Some(value);
                }
            }
            t if t == u32::from(OP_DESPAWN) => {
                if !self.contains(id) {
                    return Err(ReplicaError::UnknownEntity { op: "Despawn", id });
                }
                self.alive[id as usize] = false;
                self.columns.iter_mut().for_each(|column| column[id as usize] = None);
                self.count -= 1;
            }
            t if t == u32::from(OP_CHANGES) => {
                let n = reader.count()?;
                for _ in 0..n {
                    let cop = reader.u32()?;
                    self.component_op(reader, id, cop, "Changes")?;
                }
            }
            _ => return Err(reader.malformed("unknown op tag").into()),
        }
        Ok(())
    }

    fn rule(&self, cid: u32) -> Result<&dyn crate::registry::rule::Rule, ReplicaError> {
        u16::try_from(cid)
            .ok()
            .and_then(|cid| self.registry.rule(cid))
            .ok_or(ReplicaError::UnknownComponent { cid })
    }

    /// Applies one component op to entity `id`.
    fn component_op(
        &mut self,
        reader: &mut Reader<'_>,
        id: u32,
        cop: u32,
        op: &'static str,
    ) -> Result<(), ReplicaError> {
        let (cid, kind) = (cop / COP_KINDS, cop % COP_KINDS);
        let fields =
            *self.quantized.get(cid as usize).ok_or(ReplicaError::UnknownComponent { cid })?;
        if !self.alive.get(id as usize).copied().unwrap_or(false) {
            return Err(ReplicaError::UnknownEntity { op, id });
        }
        let slot = &mut self.columns[cid as usize][id as usize];
        // The common case first, a moving entity: integers added in place.
        if kind == COP_DELTA
            && let Some(AnyValue::Ints(ints)) = slot
            && fields > 0
        {
            for value in &mut ints[..fields] {
                *value = value.wrapping_add(reader.i32()?);
            }
            return Ok(());
        }
        let rule = self.registry.rule(cid as u16).ok_or(ReplicaError::UnknownComponent { cid })?;
        match (kind, slot) {
            (COP_SET, slot) => *slot = Some(rule.decode(reader)?),
            (COP_DELTA, Some(_)) => {
                return Err(reader.malformed("delta for a component without a delta codec").into());
            }
            (COP_DELTA, None) => return Err(ReplicaError::UnknownEntity { op: "Delta", id }),
            (COP_REMOVE, slot) => *slot = None,
            _ => {}
        }
        Ok(())
    }

    /// Makes entity `id` held, with no component yet (a spawn replaces what it held).
    fn insert(&mut self, id: u32) {
        let index = id as usize;
        if index >= self.alive.len() {
            self.alive.resize(index + 1, false);
            self.columns.iter_mut().for_each(|column| column.resize_with(index + 1, || None));
        }
        if !std::mem::replace(&mut self.alive[index], true) {
            self.count += 1;
        }
        self.columns.iter_mut().for_each(|column| column[index] = None);
    }

    /// The value entity `id` holds for component `cid`.
    fn value(&self, cid: u16, id: u32) -> Option<&AnyValue> {
        if !self.contains(id) {
            return None;
        }
        self.columns.get(usize::from(cid))?.get(id as usize)?.as_ref()
    }

    /// Component `C` of entity `id`, if the replica holds both.
    pub fn get<C: Component>(&self, id: u32) -> Option<C> {
        let value = self.value(self.registry.id_of::<C>()?, id)?;
        self.registry.component_of::<C>(value)
    }

    /// Whether entity `id` is held.
    pub fn contains(&self, id: u32) -> bool {
        self.alive.get(id as usize).copied().unwrap_or(false)
    }

    /// Whether entity `id` holds component `C`.
    pub fn has<C: Component>(&self, id: u32) -> bool {
        self.registry.id_of::<C>().is_some_and(|cid| self.value(cid, id).is_some())
    }

    /// The components entity `id` holds, by id, ascending.
    fn held(&self, id: u32) -> impl Iterator<Item = (u16, &AnyValue)> + '_ {
        (0..self.columns.len() as u16).filter_map(move |cid| Some((cid, self.value(cid, id)?)))
    }

    /// Entities held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds no entity.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every entity id held, ascending.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.alive.iter().enumerate().filter_map(|(id, &alive)| alive.then_some(id as u32))
    }

    /// A hash of the entity's components that everyone who sees it is sent: two clients that
    /// hold the same state of it agree on this number.
    pub fn fingerprint(&self, id: u32) -> Option<u64> {
        if !self.contains(id) {
            return None;
        }
        let mut hash = FNV_OFFSET;
        for (cid, value) in self.held(id) {
            let rule = self.registry.rule(cid)?;
            if rule.schema().visibility == crate::protocol::Visibility::Owner {
                continue;
            }
            hash = fnv(hash, &cid.to_le_bytes());
            hash = match value {
                AnyValue::Ints(ints) => ints.iter().fold(hash, |h, v| fnv(h, &v.to_le_bytes())),
                AnyValue::Bytes(bytes) => fnv(hash, bytes.as_slice()),
            };
        }
        Some(hash)
    }

    /// A readable dump of an entity's components (for test failures).
    pub fn describe(&self, id: u32) -> String {
        if !self.contains(id) {
            return "absent".into();
        }
        let parts: Vec<String> = self
            .held(id)
            .filter_map(|(cid, value)| {
                let rule = self.registry.rule(cid)?;
                Some(format!("{}={}", rule.schema().name, rule.debug(value)))
            })
            .collect();
        parts.join(" ")
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64 over `bytes`, continuing from `hash`.
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Whether `a` and `b` hold the same entities with the same components and values
/// (owner-only components included).
pub fn same_state(a: &Replica, b: &Replica) -> bool {
    if a.count != b.count || a.tick != b.tick {
        return false;
    }
    a.ids().zip(b.ids()).all(|(x, y)| {
        let (mut p, mut q) = (a.held(x), b.held(y));
        x == y
            && std::iter::from_fn(|| match (p.next(), q.next()) {
                (None, None) => None,
                (Some((c, u)), Some((d, v))) => Some(c == d && u == v),
                _ => Some(false),
            })
            .all(|same| same)
    })
}
