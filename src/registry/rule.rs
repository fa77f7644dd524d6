//! One registered component, type-erased: how the server captures and writes it, and how a
//! client replica reads it back.

use super::codec::Codec;
use crate::protocol::{ComponentSchema, Reader, Visibility, WireError, tags};
use crate::replication::{Frame, NetId};
use crate::tick::Tick;
use bevy_ecs::query::QueryState;
use bevy_ecs::world::World;
use std::any::Any;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::ops::Range;

/// A replicated component's value as a client replica holds it (the codec's value).
pub type AnyValue = Box<dyn Any + Send + Sync>;

/// A registered component, as the server and replicas use it.
pub(crate) trait Rule: Send + Sync {
    fn schema(&self) -> &ComponentSchema;
    fn schema_mut(&mut self) -> &mut ComponentSchema;
    /// The component a held value stands for, boxed.
    fn to_component(&self, value: &AnyValue) -> Option<Box<dyn Any>>;
    /// Fresh capture state for one world.
    fn new_state(&self, world: &mut World) -> Box<dyn RuleState>;
    /// Reads a whole value (a spawn's or a SET's).
    fn decode(&self, reader: &mut Reader<'_>) -> Result<AnyValue, WireError>;
    /// Applies a DELTA to a held value.
    fn apply_delta(&self, value: &mut AnyValue, reader: &mut Reader<'_>) -> Result<(), WireError>;
    fn eq(&self, a: &AnyValue, b: &AnyValue) -> bool;
    /// Writes a held value as a spawn would carry it.
    fn encode(&self, value: &AnyValue, out: &mut Vec<u8>);
    fn debug(&self, value: &AnyValue) -> String;
}

/// What changed in one component of one entity at a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// [`tags::COP_SET`], [`tags::COP_DELTA`] or [`tags::COP_REMOVE`].
    pub kind: u32,
    /// The payload, in the replication's shared buffer.
    pub payload: Range<usize>,
}

/// One world's capture state for one component.
pub(crate) trait RuleState: Send {
    /// Reads every value of the component at `tick`, writing each change's payload once into
    /// `shared`. `frame` lists the replicated entities of this tick.
    fn capture(&mut self, world: &World, frame: &Frame, tick: Tick, shared: &mut Vec<u8>);
    /// The change captured at `tick` for this entity, if any.
    fn change(&self, id: NetId, tick: Tick) -> Option<&Change>;
    /// Whether the component changed after `since`: `Some(true)` if it is held now,
    /// `Some(false)` if it was removed, `None` if unchanged.
    fn changed_since(&self, id: NetId, since: Tick) -> Option<bool>;
    /// Writes the entity's whole current value; `false` if it has none.
    fn write_full(&self, id: NetId, out: &mut Vec<u8>) -> bool;
    fn visibility(&self) -> Visibility;
}

/// The typed rule behind the erased one.
pub(crate) struct TypedRule<K: Codec> {
    pub schema: ComponentSchema,
    pub _codec: PhantomData<fn() -> K>,
}

impl<K: Codec> Rule for TypedRule<K> {
    fn schema(&self) -> &ComponentSchema {
        &self.schema
    }
    fn schema_mut(&mut self) -> &mut ComponentSchema {
        &mut self.schema
    }
    fn to_component(&self, value: &AnyValue) -> Option<Box<dyn Any>> {
        Some(Box::new(K::component(value.downcast_ref::<K::V>()?)))
    }
    fn new_state(&self, world: &mut World) -> Box<dyn RuleState> {
        Box::new(State::<K> {
            query: world.query::<(&NetId, &K::C)>(),
            slots: Vec::new(),
            visibility: self.schema.visibility,
        })
    }
    fn decode(&self, reader: &mut Reader<'_>) -> Result<AnyValue, WireError> {
        Ok(Box::new(K::decode(reader)?))
    }
    fn apply_delta(&self, value: &mut AnyValue, reader: &mut Reader<'_>) -> Result<(), WireError> {
        let held = value.downcast_mut::<K::V>().ok_or_else(|| reader.malformed("value type"))?;
        K::apply_delta(held, reader)
    }
    fn eq(&self, a: &AnyValue, b: &AnyValue) -> bool {
        a.downcast_ref::<K::V>() == b.downcast_ref::<K::V>()
    }
    fn encode(&self, value: &AnyValue, out: &mut Vec<u8>) {
        if let Some(value) = value.downcast_ref::<K::V>() {
            K::encode(value, out);
        }
    }
    fn debug(&self, value: &AnyValue) -> String {
        format!("{:?}", value.downcast_ref::<K::V>())
    }
}

/// What one world holds of one entity's component.
#[derive(Debug, Clone)]
struct Slot<V> {
    /// The incarnation the slot describes (0: none yet).
    incarnation: u32,
    value: Option<V>,
    /// Last tick the value was added, changed or removed.
    changed_at: Tick,
    /// Last tick the capture saw the component.
    seen: Tick,
    change: Option<Change>,
}

impl<V> Default for Slot<V> {
    fn default() -> Self {
        Slot { incarnation: 0, value: None, changed_at: Tick(0), seen: Tick(0), change: None }
    }
}

struct State<K: Codec> {
    query: QueryState<(&'static NetId, &'static K::C)>,
    /// Indexed by wire id (ids are dense: the lowest free one is reused first).
    slots: Vec<Slot<K::V>>,
    visibility: Visibility,
}

impl<K: Codec> State<K> {
    fn slot(&self, id: NetId) -> Option<&Slot<K::V>> {
        self.slots.get(id.id as usize).filter(|slot| slot.incarnation == id.incarnation)
    }
}

impl<K: Codec> RuleState for State<K> {
    fn capture(&mut self, world: &World, frame: &Frame, tick: Tick, shared: &mut Vec<u8>) {
        for (id, component) in self.query.iter(world) {
            let index = id.id as usize;
            if index >= self.slots.len() {
                self.slots.resize_with(index + 1, Slot::default);
            }
            let slot = &mut self.slots[index];
            let value = K::value(component);
            slot.seen = tick;
            if slot.incarnation != id.incarnation {
                // A new entity: its spawn carries the whole value.
                *slot = Slot { incarnation: id.incarnation, value: Some(value), ..Slot::default() };
                slot.seen = tick;
                continue;
            }
            let start = shared.len();
            let kind = match &slot.value {
                Some(old) if *old == value => continue,
                Some(old) if K::encode_delta(old, &value, shared) => tags::COP_DELTA,
                _ => {
                    K::encode(&value, shared);
                    tags::COP_SET
                }
            };
            slot.change = Some(Change { kind, payload: start..shared.len() });
            slot.changed_at = tick;
            slot.value = Some(value);
        }
        // Entities that no longer have the component (or never had it).
        for &id in &frame.ids {
            let index = id.id as usize;
            if index >= self.slots.len() {
                self.slots.resize_with(index + 1, Slot::default);
            }
            let slot = &mut self.slots[index];
            if slot.incarnation != id.incarnation {
                *slot = Slot { incarnation: id.incarnation, seen: tick, ..Slot::default() };
            } else if slot.seen != tick && slot.value.is_some() {
                slot.value = None;
                slot.changed_at = tick;
                slot.change = Some(Change { kind: tags::COP_REMOVE, payload: 0..0 });
            }
        }
    }

    fn change(&self, id: NetId, tick: Tick) -> Option<&Change> {
        self.slot(id).filter(|slot| slot.changed_at == tick)?.change.as_ref()
    }

    fn changed_since(&self, id: NetId, since: Tick) -> Option<bool> {
        let slot = self.slot(id)?;
        (slot.changed_at > since).then_some(slot.value.is_some())
    }

    fn write_full(&self, id: NetId, out: &mut Vec<u8>) -> bool {
        let Some(value) = self.slot(id).and_then(|slot| slot.value.as_ref()) else { return false };
        K::encode(value, out);
        true
    }

    fn visibility(&self) -> Visibility {
        self.visibility
    }
}
