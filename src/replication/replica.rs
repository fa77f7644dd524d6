//! A client's replica of the world, built by applying snapshots as they arrive.
//!
//! Used by the bots, the tests and the property test. Snapshots are applied straight from
//! the bytes, without building the [`crate::protocol::ServerMessage`] first: a load test runs
//! hundreds of replicas on the same machine as the server, so the bots' decoding must be
//! cheap. The streaming reader is checked against the serde decoder in the tests.

use crate::protocol::{self, EntityKind, EntityState, ServerMessage};

/// Why a message could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    /// The bytes are not a valid server message.
    #[error("malformed message at byte {at}: {what}")]
    Malformed {
        /// Offset of the problem.
        at: usize,
        /// What was wrong.
        what: &'static str,
    },
    /// An op named an entity the replica does not hold.
    #[error("op {op} names entity {id}, which the replica does not hold")]
    UnknownEntity {
        /// The op name.
        op: &'static str,
        /// The id.
        id: u32,
    },
    /// A delta arrived before any full snapshot.
    #[error("delta before the first full snapshot")]
    NoBaseline,
}

/// What a message was.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The welcome.
    Welcome(protocol::Welcome),
    /// A snapshot: whether it was full, and how many ops it carried.
    Snapshot {
        /// Full or delta.
        full: bool,
        /// Ops applied.
        ops: usize,
    },
    /// A pong.
    Pong(protocol::Pong),
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
    /// `Spawn` ops.
    pub spawn: OpTally,
    /// `Move` ops.
    pub moves: OpTally,
    /// `Update` ops.
    pub update: OpTally,
    /// `Despawn` ops.
    pub despawn: OpTally,
    /// `Own` ops.
    pub own: OpTally,
}

/// The world as one client holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replica {
    /// Tick of the last snapshot applied.
    pub tick: u32,
    /// Last input seq the server applied, as of that snapshot.
    pub last_input_seq: u32,
    /// Own player's velocity, 1/64 units per second.
    pub own_velocity: (i32, i32),
    entities: Vec<Option<EntityState>>,
    count: usize,
    started: bool,
}

impl Replica {
    /// An empty replica.
    pub fn new() -> Replica {
        Replica::default()
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
        let mut reader = Reader { bytes, at: 0 };
        let applied = match reader.u32()? {
            0 | 3 => {
                return match protocol::decode_server(bytes, bytes.len()) {
                    Ok(ServerMessage::Welcome(w)) => Ok(Applied::Welcome(w)),
                    Ok(ServerMessage::Pong(p)) => Ok(Applied::Pong(p)),
                    _ => Err(reader.malformed("undecodable welcome or pong")),
                };
            }
            1 => {
                self.tick = reader.u32()?;
                self.last_input_seq = reader.u32()?;
                self.entities.iter_mut().for_each(|e| *e = None);
                self.count = 0;
                self.started = true;
                self.apply_ops(&mut reader, true, counts)?
            }
            2 => {
                if !self.started {
                    return Err(ReplicaError::NoBaseline);
                }
                self.tick = self.tick.wrapping_add(reader.u32()?);
                self.last_input_seq = self.last_input_seq.wrapping_add(reader.u32()?);
                self.apply_ops(&mut reader, false, counts)?
            }
            _ => return Err(reader.malformed("unknown message variant")),
        };
        if reader.at != bytes.len() {
            return Err(reader.malformed("trailing bytes"));
        }
        Ok(applied)
    }

    fn apply_ops(
        &mut self,
        reader: &mut Reader<'_>,
        full: bool,
        counts: &mut OpCounts,
    ) -> Result<Applied, ReplicaError> {
        let ops = reader.len()?;
        let mut id = 0u32;
        for _ in 0..ops {
            let start = reader.at;
            let tag = reader.u32()?;
            self.apply_op(reader, tag, &mut id)?;
            let tally = match tag {
                0 => &mut counts.spawn,
                1 => &mut counts.moves,
                2 => &mut counts.update,
                3 => &mut counts.despawn,
                _ => &mut counts.own,
            };
            tally.count += 1;
            tally.bytes += (reader.at - start) as u64;
        }
        Ok(Applied::Snapshot { full, ops })
    }

    fn apply_op(
        &mut self,
        reader: &mut Reader<'_>,
        tag: u32,
        id: &mut u32,
    ) -> Result<(), ReplicaError> {
        if tag == 4 {
            self.own_velocity = (reader.i32()?, reader.i32()?);
            return Ok(());
        }
        *id = id.checked_add(reader.u32()?).ok_or_else(|| reader.malformed("id overflow"))?;
        let id = *id;
        match tag {
            0 => {
                let state = reader.entity()?;
                self.insert(id, state);
            }
            1 | 2 => {
                let (dx, dy) = (reader.i32()?, reader.i32()?);
                let score = if tag == 2 { Some(reader.u32()?) } else { None };
                let op = if tag == 1 { "Move" } else { "Update" };
                let entity = self.get_mut(id).ok_or(ReplicaError::UnknownEntity { op, id })?;
                entity.x = entity.x.wrapping_add(dx);
                entity.y = entity.y.wrapping_add(dy);
                if let Some(score) = score {
                    entity.score = score;
                }
            }
            3 => {
                let slot = self.entities.get_mut(id as usize).and_then(Option::take);
                slot.ok_or(ReplicaError::UnknownEntity { op: "Despawn", id })?;
                self.count -= 1;
            }
            _ => return Err(reader.malformed("unknown op variant")),
        }
        Ok(())
    }

    fn insert(&mut self, id: u32, state: EntityState) {
        let index = id as usize;
        if index >= self.entities.len() {
            self.entities.resize(index + 1, None);
        }
        if self.entities[index].replace(state).is_none() {
            self.count += 1;
        }
    }

    fn get_mut(&mut self, id: u32) -> Option<&mut EntityState> {
        self.entities.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// The entity with this id.
    pub fn get(&self, id: u32) -> Option<&EntityState> {
        self.entities.get(id as usize).and_then(Option::as_ref)
    }

    /// Entities held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds no entity.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every entity with its id, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &EntityState)> {
        self.entities.iter().enumerate().filter_map(|(id, e)| Some((id as u32, e.as_ref()?)))
    }
}

/// A cursor over bincode `standard()` bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn malformed(&self, what: &'static str) -> ReplicaError {
        ReplicaError::Malformed { at: self.at, what }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], ReplicaError> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| self.malformed("truncated"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, ReplicaError> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, ReplicaError> {
        Ok(match self.u8()? {
            small @ 0..=250 => u64::from(small),
            251 => u64::from(u16::from_le_bytes([self.u8()?, self.u8()?])),
            252 => u64::from(u32::from_le_bytes(self.take(4)?.try_into().unwrap_or_default())),
            253 => u64::from_le_bytes(self.take(8)?.try_into().unwrap_or_default()),
            _ => return Err(self.malformed("bad varint marker")),
        })
    }

    fn u32(&mut self) -> Result<u32, ReplicaError> {
        u32::try_from(self.u64()?).map_err(|_| self.malformed("varint exceeds u32"))
    }

    fn i32(&mut self) -> Result<i32, ReplicaError> {
        let zigzag = self.u32()?;
        Ok(((zigzag >> 1) as i32) ^ -((zigzag & 1) as i32))
    }

    fn len(&mut self) -> Result<usize, ReplicaError> {
        let len = self.u64()?;
        // A length can never exceed the bytes left: each element takes at least one byte.
        if len > (self.bytes.len() - self.at) as u64 {
            return Err(self.malformed("length exceeds message"));
        }
        Ok(len as usize)
    }

    fn entity(&mut self) -> Result<EntityState, ReplicaError> {
        let kind = match self.u32()? {
            0 => EntityKind::Player,
            1 => EntityKind::Orb,
            _ => return Err(self.malformed("unknown entity kind")),
        };
        let (x, y) = (self.i32()?, self.i32()?);
        let radius =
            u16::try_from(self.u64()?).map_err(|_| self.malformed("radius exceeds u16"))?;
        let color = [self.u8()?, self.u8()?, self.u8()?];
        let score = self.u32()?;
        let len = self.len()?;
        let at = self.at;
        let name = std::str::from_utf8(self.take(len)?)
            .map_err(|_| ReplicaError::Malformed { at, what: "name is not UTF-8" })?
            .to_owned();
        Ok(EntityState { kind, x, y, radius, color, score, name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{DeltaSnapshot, FullSnapshot, Op};

    fn orb(x: i32) -> EntityState {
        EntityState {
            kind: EntityKind::Orb,
            x,
            y: 5,
            radius: 20,
            color: [1, 2, 3],
            score: 1,
            name: String::new(),
        }
    }

    #[test]
    fn applies_full_then_delta() {
        let mut replica = Replica::new();
        let full = ServerMessage::Full(FullSnapshot {
            tick: 300,
            last_input_seq: 2,
            ops: vec![
                Op::Own { vx: 3, vy: -4 },
                Op::Spawn { id_gap: 1, entity: orb(10) },
                Op::Spawn { id_gap: 300, entity: orb(20) },
            ],
        });
        assert_eq!(
            replica.apply(&protocol::encode(&full)),
            Ok(Applied::Snapshot { full: true, ops: 3 })
        );
        let delta = ServerMessage::Delta(DeltaSnapshot {
            tick_delta: 2,
            input_seq_delta: 1,
            ops: vec![
                Op::Despawn { id_gap: 1 },
                Op::Update { id_gap: 300, dx: -7, dy: 1, score: 9 },
            ],
        });
        replica.apply(&protocol::encode(&delta)).expect("applies");
        assert_eq!((replica.tick, replica.last_input_seq, replica.own_velocity), (302, 3, (3, -4)));
        assert_eq!(replica.len(), 1);
        let moved = replica.get(301).expect("held");
        assert_eq!((moved.x, moved.y, moved.score), (13, 6, 9));
    }

    #[test]
    fn counts_ops_by_kind_with_their_bytes() {
        let mut replica = Replica::new();
        let mut counts = OpCounts::default();
        let full = ServerMessage::Full(FullSnapshot {
            tick: 1,
            last_input_seq: 0,
            ops: vec![Op::Own { vx: 1, vy: 0 }, Op::Spawn { id_gap: 1, entity: orb(10) }],
        });
        replica.apply_counting(&protocol::encode(&full), &mut counts).expect("applies");
        let delta = ServerMessage::Delta(DeltaSnapshot {
            tick_delta: 1,
            input_seq_delta: 0,
            ops: vec![Op::Move { id_gap: 1, dx: 1, dy: -300 }],
        });
        replica.apply_counting(&protocol::encode(&delta), &mut counts).expect("applies");
        assert_eq!(counts.own, OpTally { count: 1, bytes: 3 });
        assert_eq!(counts.spawn.count, 1);
        // Tag, id gap, dx (1 byte), dy (zigzag 599: marker and two bytes).
        assert_eq!(counts.moves, OpTally { count: 1, bytes: 6 });
        assert_eq!(counts.update, OpTally::default());
    }

    #[test]
    fn rejects_ops_on_unknown_entities() {
        let mut replica = Replica::new();
        let full = ServerMessage::Full(FullSnapshot { tick: 1, last_input_seq: 0, ops: vec![] });
        replica.apply(&protocol::encode(&full)).expect("applies");
        let delta = ServerMessage::Delta(DeltaSnapshot {
            tick_delta: 1,
            input_seq_delta: 0,
            ops: vec![Op::Move { id_gap: 4, dx: 1, dy: 1 }],
        });
        assert_eq!(
            replica.apply(&protocol::encode(&delta)),
            Err(ReplicaError::UnknownEntity { op: "Move", id: 4 })
        );
    }

    #[test]
    fn rejects_deltas_before_a_full_and_garbage() {
        let mut replica = Replica::new();
        assert_eq!(replica.apply(&[2, 1, 0, 0]), Err(ReplicaError::NoBaseline));
        assert!(replica.apply(&[1, 1, 0, 5]).is_err());
        assert!(replica.apply(&[9]).is_err());
        assert!(replica.apply(&[]).is_err());
    }
}
