//! One registered component, type-erased: how the server captures and writes it, and how a
//! client replica reads it back.

use super::codec::{Codec, Quants};
use crate::identity::NetId;
use crate::protocol::{ComponentSchema, Reader, Visibility, WireError, tags};
use crate::tick::Tick;
use bevy_ecs::change_detection::{DetectChanges, Ref};
use bevy_ecs::component::ComponentId;
use bevy_ecs::entity::Entity;
use bevy_ecs::lifecycle::RemovedComponentEntity;
use bevy_ecs::message::MessageCursor;
use bevy_ecs::query::QueryState;
use bevy_ecs::world::World;
use std::any::Any;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::ops::Range;

/// A replicated component's value as a client replica holds it, never boxed: a quantized
/// component's integers (a delta is added to them in place), any other component's wire
/// bytes (canonical bincode, so equal values have equal bytes; decoded when read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyValue {
    /// A quantized component's integers (unused ones are 0).
    Ints(Quants),
    /// Any other component's encoding.
    Bytes(WireBytes),
}

/// Bytes held inline when short (most components' encodings are), on the heap otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireBytes {
    /// Up to [`WireBytes::INLINE`] bytes.
    Inline {
        /// How many of `data` are used.
        len: u8,
        /// The bytes.
        data: [u8; WireBytes::INLINE],
    },
    /// More.
    Heap(Box<[u8]>),
}

impl WireBytes {
    /// Most bytes held without an allocation.
    pub const INLINE: usize = 22;

    /// A copy of `bytes`.
    pub fn new(bytes: &[u8]) -> WireBytes {
        if bytes.len() > WireBytes::INLINE {
            return WireBytes::Heap(bytes.into());
        }
        let mut data = [0; WireBytes::INLINE];
        data[..bytes.len()].copy_from_slice(bytes);
        WireBytes::Inline { len: bytes.len() as u8, data }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            WireBytes::Inline { len, data } => &data[..usize::from(*len)],
            WireBytes::Heap(bytes) => bytes,
        }
    }
}

/// A registered component, as the server and replicas use it.
pub(crate) trait Rule: Send + Sync {
    fn schema(&self) -> &ComponentSchema;
    fn schema_mut(&mut self) -> &mut ComponentSchema;
    /// The component a held value stands for, boxed.
    fn to_component(&self, value: &AnyValue) -> Option<Box<dyn Any>>;
    /// Fresh capture state for one world, for the component with wire id `cid`.
    fn new_state(&self, cid: u16, world: &mut World) -> Box<dyn RuleState>;
    /// Reads a whole value (a spawn's or a SET's).
    fn decode(&self, reader: &mut Reader<'_>) -> Result<AnyValue, WireError>;
    /// A quantized component's integers per value; 0 for any other codec.
    fn quantized_fields(&self) -> usize;
    fn debug(&self, value: &AnyValue) -> String;
}

/// What changed in one component of one entity at a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// The entity's wire id.
    pub id: u32,
    /// The component op: component id and [`tags::COP_SET`], [`tags::COP_DELTA`] or
    /// [`tags::COP_REMOVE`].
    pub cop: u32,
    /// Whether only the owner is sent it.
    pub owner: bool,
    /// The payload, in the replication's shared buffer.
    pub payload: Range<usize>,
}

/// One world's capture state for one component.
pub(crate) trait RuleState: Send {
    /// Reads every value of the component at `tick` that changed (or was added or removed)
    /// on an entity that existed before, writing each change's payload once into `shared`
    /// and the change into `changes`. New entities are not changes: their spawn carries them.
    fn capture(
        &mut self,
        world: &World,
        tick: Tick,
        shared: &mut Vec<u8>,
        changes: &mut Vec<Change>,
    );
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
        Some(Box::new(K::component(&K::unhold(value)?)))
    }
    fn new_state(&self, cid: u16, world: &mut World) -> Box<dyn RuleState> {
        Box::new(State::<K> {
            cid,
            component: world.register_component::<K::C>(),
            query: world.query::<(Ref<'static, NetId>, Ref<'static, K::C>)>(),
            removed: MessageCursor::default(),
            slots: Vec::new(),
            visibility: self.schema.visibility,
        })
    }
    fn decode(&self, reader: &mut Reader<'_>) -> Result<AnyValue, WireError> {
        let start = reader.position();
        let value = K::decode(reader)?;
        Ok(K::hold(value, reader.since(start)))
    }
    fn quantized_fields(&self) -> usize {
        K::FIELDS
    }
    fn debug(&self, value: &AnyValue) -> String {
        format!("{:?}", K::unhold(value))
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
}

impl<V> Default for Slot<V> {
    fn default() -> Self {
        Slot { incarnation: 0, value: None, changed_at: Tick(0) }
    }
}

struct State<K: Codec> {
    cid: u16,
    component: ComponentId,
    /// Every entity with the component; `Ref` tells an entity that got its wire id since the
    /// last capture (new: its spawn carries everything).
    query: QueryState<(Ref<'static, NetId>, Ref<'static, K::C>)>,
    /// Where this capture is in the world's removal messages for the component.
    removed: MessageCursor<RemovedComponentEntity>,
    /// Indexed by wire id (ids are dense: the lowest free one is reused first).
    slots: Vec<Slot<K::V>>,
    visibility: Visibility,
}

impl<K: Codec> State<K> {
    fn slot(&self, id: NetId) -> Option<&Slot<K::V>> {
        self.slots.get(id.id as usize).filter(|slot| slot.incarnation == id.incarnation)
    }
}

/// Where a slot for wire id `id` lives, made on first use.
fn slot_of<V>(slots: &mut Vec<Slot<V>>, id: u32) -> &mut Slot<V> {
    let index = id as usize;
    if index >= slots.len() {
        slots.resize_with(index + 1, Slot::default);
    }
    &mut slots[index]
}

impl<K: Codec> RuleState for State<K> {
    fn capture(
        &mut self,
        world: &World,
        tick: Tick,
        shared: &mut Vec<u8>,
        changes: &mut Vec<Change>,
    ) {
        let owner = self.visibility == Visibility::Owner;
        let cid = self.cid;
        let mut record = |id: u32, kind: u32, payload: Range<usize>| {
            changes.push(Change { id, cop: tags::cop(cid, kind), owner, payload });
        };
        for (id, component) in self.query.iter(world) {
            let (new, id) = (id.is_added(), *id);
            let slot = slot_of(&mut self.slots, id.id);
            if slot.incarnation != id.incarnation || slot.value.is_none() {
                let value = K::value(&component);
                if !new {
                    // Added to an entity that existed before: sent whole.
                    let start = shared.len();
                    K::encode(&value, shared);
                    record(id.id, tags::COP_SET, start..shared.len());
                }
                *slot = Slot { incarnation: id.incarnation, value: Some(value), changed_at: tick };
                continue;
            }
            // Most components are not even written in a tick (bevy's change ticks say so);
            // one written is compared before anything is built.
            if !component.is_changed()
                || slot.value.as_ref().is_some_and(|held| K::same(&component, held))
            {
                continue;
            }
            let value = K::value(&component);
            let start = shared.len();
            let kind = match &slot.value {
                Some(old) if K::encode_delta(old, &value, shared) => tags::COP_DELTA,
                _ => {
                    K::encode(&value, shared);
                    tags::COP_SET
                }
            };
            slot.changed_at = tick;
            slot.value = Some(value);
            record(id.id, kind, start..shared.len());
        }
        // Removals, from the world's removal messages: only entities still replicated and
        // without the component now (despawned ones leave with their id).
        let Some(messages) = world.removed_components().get(self.component) else { return };
        for removed in self.removed.read(messages) {
            let entity = Entity::from(removed.clone());
            let Some(id) = world.get::<NetId>(entity).copied() else { continue };
            if world.get::<K::C>(entity).is_some() {
                continue;
            }
            let slot = slot_of(&mut self.slots, id.id);
            if slot.incarnation == id.incarnation && slot.value.take().is_some() {
                slot.changed_at = tick;
                record(id.id, tags::COP_REMOVE, 0..0);
            }
        }
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
