//! Wire identity of replicated entities: the marker a game puts on what it replicates, the
//! id clients see, and the allocator that hands ids out. Shared by the registry (which keys
//! its capture state by id) and replication (which sorts frames by it).

use bevy_ecs::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Marks an entity for replication: the server gives it a [`NetId`] and sends its registered
/// components to the clients that see it.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replicated;

/// Wire identity of a replicated entity: the id clients see, and an incarnation that tells a
/// reused id's new entity from the old one. Given by the server; games only read it.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NetId {
    /// The id on the wire (from 1; reused after despawn).
    pub id: u32,
    /// Unique per spawn over the world's lifetime.
    pub incarnation: u32,
}

/// Allocates wire ids: lowest free first, so ids stay small and their gaps short.
#[derive(Resource, Default, Debug)]
pub struct NetIds {
    free: BinaryHeap<Reverse<u32>>,
    next: u32,
    incarnations: u32,
}

impl NetIds {
    /// A new id.
    pub fn allocate(&mut self) -> NetId {
        self.incarnations = self.incarnations.wrapping_add(1);
        let id = match self.free.pop() {
            Some(Reverse(id)) => id,
            None => {
                self.next += 1;
                self.next
            }
        };
        NetId { id, incarnation: self.incarnations }
    }

    /// Returns an id for reuse.
    pub fn release(&mut self, id: NetId) {
        self.free.push(Reverse(id.id));
    }
}
