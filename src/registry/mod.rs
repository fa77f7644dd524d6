//! The replicated components of a game: each registered once, with its codec and visibility;
//! from them, the [`Schema`] a welcome carries and its hash.
//!
//! Built at startup by [`crate::GameBuilder`] and shared, read-only, by the server's worlds
//! (which keep their own capture state per component) and by client replicas.

mod codec;
pub(crate) mod rule;

pub use codec::{MAX_QUANTIZED_FIELDS, Quantized};
pub use rule::AnyValue;

use crate::identity::NetId;
use crate::protocol::{ComponentSchema, Schema, Type, Visibility};
use bevy_ecs::component::Component;
use bevy_ecs::query::QueryState;
use bevy_ecs::world::World;
use codec::{Codec, QuantizedCodec, SerdeCodec};
use glam::Vec2;
use rule::{Rule, TypedRule};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::TypeId;
use std::collections::HashMap;
use std::fmt::Debug;
use std::marker::PhantomData;

/// A component whose position decides which clients see its entity (interest management).
pub trait Spatial: Component {
    /// Where the entity is, in world units.
    fn position(&self) -> Vec2;
}

/// Interest management: a client sees the entities within `view_radius` (per axis, a square)
/// of its own entity; entities without the spatial component are seen by everyone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterestConfig {
    /// Half the side of the square a client sees, world units.
    pub view_radius: f32,
    /// Side of the square world, from 0, that the grid covers (positions outside are clamped
    /// into the border cells); world units.
    pub world_size: f32,
}

/// How often an entity already in view may be farther than the view radius before it leaves:
/// entities on the edge do not flicker between spawn and despawn.
pub const HYSTERESIS: f32 = 1.25;

/// Reads every spatial entity's position for one world (type-erased).
pub(crate) trait SpatialSource: Send {
    /// Writes each entity's position at the index of its wire id (`None`: not spatial).
    fn positions(&mut self, world: &World, by_id: &mut Vec<Option<Vec2>>);
}

struct SpatialQuery<C: Spatial> {
    query: QueryState<(&'static NetId, &'static C)>,
}

impl<C: Spatial> SpatialSource for SpatialQuery<C> {
    fn positions(&mut self, world: &World, by_id: &mut Vec<Option<Vec2>>) {
        for (id, spatial) in self.query.iter(world) {
            let index = id.id as usize;
            if index >= by_id.len() {
                by_id.resize(index + 1, None);
            }
            by_id[index] = Some(spatial.position());
        }
    }
}

type SpatialFactory = Box<dyn Fn(&mut World) -> Box<dyn SpatialSource> + Send + Sync>;

/// The interest rule: its settings and how to read positions.
pub(crate) struct Interest {
    pub config: InterestConfig,
    pub source: SpatialFactory,
}

/// Every replicated component of a game, in wire-id order.
#[derive(Default)]
pub struct Registry {
    rules: Vec<Box<dyn Rule>>,
    by_type: HashMap<TypeId, u16>,
    pub(crate) interest: Option<Interest>,
    pub(crate) errors: Vec<String>,
}

/// A registration just made, to adjust before the next one.
pub struct Registration<'a> {
    registry: &'a mut Registry,
    index: Option<usize>,
}

impl Registration<'_> {
    /// Sends the component only to the client whose own entity it is (for example the
    /// velocity a client needs to predict its own movement).
    pub fn owner_only(self) -> Self {
        self.edit(|schema| schema.visibility = Visibility::Owner)
    }

    /// Names the component in the schema (by default, the Rust type's name).
    pub fn named(self, name: &str) -> Self {
        self.edit(|schema| schema.name = name.to_owned())
    }

    fn edit(self, change: impl FnOnce(&mut ComponentSchema)) -> Self {
        if let Some(index) = self.index {
            change(self.registry.rules[index].schema_mut());
        }
        self
    }
}

impl Registry {
    /// Registers `C`, written whole with serde whenever it changes; `samples` show its shape
    /// (one for a struct, one of each variant for an enum).
    pub(crate) fn replicate<C>(&mut self, samples: &[C]) -> Registration<'_>
    where
        C: Component + Clone + PartialEq + Debug + Serialize + DeserializeOwned,
    {
        self.add::<SerdeCodec<C>>(samples)
    }

    /// Registers `C` with the quantized codec.
    pub(crate) fn replicate_quantized<C: Quantized>(&mut self) -> Registration<'_> {
        self.add::<QuantizedCodec<C>>(&[])
    }

    fn add<K: Codec>(&mut self, samples: &[K::C]) -> Registration<'_> {
        let name = short_type_name::<K::C>();
        let type_id = TypeId::of::<K::C>();
        let index = match (self.by_type.contains_key(&type_id), K::schema(samples)) {
            (true, _) => {
                self.errors.push(format!("component {name} is registered twice"));
                None
            }
            (false, Err(error)) => {
                self.errors.push(format!("component {name}: {error}"));
                None
            }
            (false, Ok(codec)) => {
                let schema = ComponentSchema { name, visibility: Visibility::Everyone, codec };
                self.by_type.insert(type_id, self.rules.len() as u16);
                self.rules.push(Box::new(TypedRule::<K> { schema, _codec: PhantomData }));
                Some(self.rules.len() - 1)
            }
        };
        Registration { registry: self, index }
    }

    /// Manages interest by the spatial component `C`.
    pub(crate) fn interest<C: Spatial>(&mut self, config: InterestConfig) {
        if !(config.view_radius > 0.0 && config.view_radius.is_finite()) {
            self.errors.push(format!("view radius {} must be positive", config.view_radius));
        }
        if !(config.world_size > 0.0 && config.world_size.is_finite()) {
            self.errors.push(format!("world size {} must be positive", config.world_size));
        }
        let source: SpatialFactory =
            Box::new(|world| Box::new(SpatialQuery::<C> { query: world.query() }));
        self.interest = Some(Interest { config, source });
    }

    /// The component's wire id, if it is registered.
    pub fn id_of<C: Component>(&self) -> Option<u16> {
        self.by_type.get(&TypeId::of::<C>()).copied()
    }

    /// Registered components.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub(crate) fn rule(&self, cid: u16) -> Option<&dyn Rule> {
        self.rules.get(usize::from(cid)).map(|rule| &**rule)
    }

    pub(crate) fn rules(&self) -> impl Iterator<Item = &dyn Rule> {
        self.rules.iter().map(|rule| &**rule)
    }

    /// The schema for a game with these input, welcome, message and event types.
    pub(crate) fn schema(
        &self,
        game: &str,
        input: Type,
        welcome: Type,
        message: Type,
        event: Type,
    ) -> Schema {
        let components = self.rules.iter().map(|rule| rule.schema().clone()).collect();
        Schema { game: game.to_owned(), components, input, welcome, message, event }
    }

    /// The component `C` of a replica's value, if `value` was read for `C`'s rule.
    pub(crate) fn component_of<C: Component>(&self, value: &AnyValue) -> Option<C> {
        let rule = self.rule(self.id_of::<C>()?)?;
        rule.to_component(value)?.downcast::<C>().ok().map(|boxed| *boxed)
    }
}

/// `my_game::Position` → `Position`.
fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_owned()
}
