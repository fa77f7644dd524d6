//! The API a game implements: its components and systems, its input, what happens when a
//! client joins and leaves, and what it replicates.
//!
//! A game knows nothing of bytes, sockets or threads: it registers components with a codec
//! and a visibility, and the server does the rest.

use crate::protocol::describe::{describe, describe_all};
use crate::protocol::{Schema, Type};
use crate::registry::{InterestConfig, Quantized, Registration, Registry, Spatial};
use bevy_ecs::component::Component;
use bevy_ecs::entity::Entity;
use bevy_ecs::resource::Resource;
use bevy_ecs::schedule::{IntoScheduleConfigs, Schedule, SystemSet};
use bevy_ecs::system::ScheduleSystem;
use bevy_ecs::world::World;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// A game's input: one tick of what a client asks for, sent as its own bincode value.
///
/// Decoded and validated at the connection, never inside the tick: an input that does not
/// decode or that [`GameInput::validate`] refuses closes only that client, with the reason.
pub trait GameInput:
    Serialize + DeserializeOwned + Clone + Default + Debug + Send + Sync + 'static
{
    /// Checks a decoded input; the error is the close reason the client is sent.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// Values the schema reads the input's wire shape off: the default for a struct; for an
    /// enum input, override it with one value of each variant.
    fn samples() -> Vec<Self> {
        vec![Self::default()]
    }
}

/// No input: a game whose clients only watch.
impl GameInput for () {}

/// A game's messages (client → server) or events (server → client): named, typed values
/// beside the state, delivered in order and never dropped while the client is connected.
///
/// Usually an enum, each variant a kind of message. Its wire shape goes in the schema, read
/// off [`GameMessage::samples`]: one value of each variant.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tickwire::GameMessage;
///
/// #[derive(Clone, Debug, Serialize, Deserialize)]
/// enum Chat {
///     Say { text: String },
///     Wave,
/// }
///
/// impl GameMessage for Chat {
///     fn samples() -> Vec<Chat> {
///         vec![Chat::Say { text: String::new() }, Chat::Wave]
///     }
///     fn validate(&self) -> Result<(), String> {
///         match self {
///             Chat::Say { text } if text.trim().is_empty() => Err("empty chat line".into()),
///             _ => Ok(()),
///         }
///     }
/// }
/// ```
pub trait GameMessage:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// One value of each variant (in any order); one value for a struct; none for
    /// [`NoMessages`].
    fn samples() -> Vec<Self>;

    /// Checks a message a client sent, once decoded; the error is the close reason the
    /// client is sent. Sizes and rates are checked before, by the server.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The message or event type of a game that has none: no value of it exists, so a client
/// that sends a message is closed (`1007`, the message does not decode).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub enum NoMessages {}

impl GameMessage for NoMessages {
    fn samples() -> Vec<NoMessages> {
        Vec::new()
    }
}

/// Who an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The client whose own entity this is.
    Owner(Entity),
    /// Every client in the room.
    All,
    /// Every client in the room but the one whose own entity this is.
    AllBut(Entity),
}

/// The events a game sends this tick: a resource in the game's world
/// (`ResMut<Outgoing<MyEvent>>` in a system, `world.resource_mut` in [`Game::join`]).
///
/// After the tick's systems ran, each event is stamped with the tick and queued, in order,
/// for its recipients, ahead of that tick's snapshot.
#[derive(Resource, Debug)]
pub struct Outgoing<E: GameMessage> {
    queued: Vec<(Recipient, E)>,
}

impl<E: GameMessage> Default for Outgoing<E> {
    fn default() -> Self {
        Outgoing { queued: Vec::new() }
    }
}

impl<E: GameMessage> Outgoing<E> {
    /// Sends `event` to the client whose own entity is `entity` (none if no client owns it).
    pub fn send(&mut self, entity: Entity, event: E) {
        self.queued.push((Recipient::Owner(entity), event));
    }

    /// Sends `event` to every client in the room.
    pub fn broadcast(&mut self, event: E) {
        self.queued.push((Recipient::All, event));
    }

    /// Sends `event` to every client in the room but the owner of `entity`.
    pub fn broadcast_except(&mut self, entity: Entity, event: E) {
        self.queued.push((Recipient::AllBut(entity), event));
    }

    /// Events queued and not yet taken by the server.
    pub fn len(&self) -> usize {
        self.queued.len()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// Takes the queued events, oldest first.
    pub(crate) fn take(&mut self) -> Vec<(Recipient, E)> {
        std::mem::take(&mut self.queued)
    }
}

/// Who joined: what the server knows of a connection when it asks the game to spawn for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The connection's id, unique for the server's lifetime.
    pub client_id: u32,
    /// The query parameters of the WebSocket URL (`/ws?name=ada` gives `("name", "ada")`),
    /// at most [`crate::net::http::MAX_QUERY_PARAMS`] of them, each bounded in length. They
    /// come from the client: check them.
    pub query: Vec<(String, String)>,
    /// Who the client is, when the server has an [`crate::auth::Authenticator`]: the user id
    /// and claims it established before the upgrade. `None` for a guest.
    pub identity: Option<crate::auth::Identity>,
}

impl ClientInfo {
    /// A guest (no identity) with connection id `client_id` and `query`.
    pub fn guest(client_id: u32, query: Vec<(String, String)>) -> ClientInfo {
        ClientInfo { client_id, query, identity: None }
    }

    /// The signed-in user's id; `None` for a guest.
    pub fn user_id(&self) -> Option<&str> {
        self.identity.as_ref().map(|identity| identity.user_id.as_str())
    }

    /// The value of query parameter `key`, if the client sent it.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A game served by tickwire.
///
/// ```
/// use bevy_ecs::prelude::*;
/// use serde::{Deserialize, Serialize};
/// use tickwire::{ClientInfo, Game, GameBuilder, GameInput, Inputs, Replicated};
///
/// /// A counter each client raises by pressing.
/// #[derive(Component, Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
/// struct Count(u32);
///
/// #[derive(Clone, Debug, Default, Serialize, Deserialize)]
/// struct Press { times: u8 }
/// impl GameInput for Press {}
///
/// fn count(mut counters: Query<(&Inputs<Press>, &mut Count)>) {
///     for (inputs, mut count) in &mut counters {
///         for press in inputs.this_tick() {
///             count.0 += u32::from(press.times);
///         }
///     }
/// }
///
/// #[derive(Clone)]
/// struct Counters;
///
/// impl Game for Counters {
///     type Input = Press;
///     type Welcome = ();
///     type Message = tickwire::NoMessages;
///     type Event = tickwire::NoMessages;
///     const NAME: &'static str = "counters";
///     fn build(&mut self, game: &mut GameBuilder<'_>) {
///         game.replicate::<Count>();
///         game.add_systems(count);
///     }
///     fn welcome(&self) {}
///     fn join(&mut self, world: &mut World, _: &ClientInfo) -> Entity {
///         world.spawn((Replicated, Count(0))).id()
///     }
/// }
///
/// // Serve it (every room starts from a clone of the game), here until the shutdown
/// // future completes, at once.
/// # let runtime = tokio::runtime::Runtime::new()?;
/// # runtime.block_on(async {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// tickwire::Server::new(Counters).run(listener, async {}).await
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Game: Send + 'static {
    /// One tick of a client's input.
    type Input: GameInput;
    /// What every client is told on connecting, besides the schema (world size, rules for
    /// prediction...).
    type Welcome: Serialize + DeserializeOwned + Clone + Default + Debug + Send + Sync + 'static;
    /// What clients send besides inputs (chat, votes...); [`NoMessages`] for none.
    type Message: GameMessage;
    /// What the game tells clients besides the state ("X joined", "Y ate an orb"), sent with
    /// [`Outgoing`]; [`NoMessages`] for none.
    type Event: GameMessage;
    /// The game's name, sent in the schema.
    const NAME: &'static str;

    /// Registers the game's systems (run once per tick, in the [`TickSet`]s), resources and
    /// replicated components.
    fn build(&mut self, game: &mut GameBuilder<'_>);

    /// The welcome value sent to each client.
    fn welcome(&self) -> Self::Welcome;

    /// Spawns the entity of a client that joined (give it [`crate::Replicated`] to send it);
    /// the server adds its [`crate::Inputs`] and treats it as the client's own entity.
    fn join(&mut self, world: &mut World, client: &ClientInfo) -> Entity;

    /// A client left: by default its entity is despawned. With session resume on, this
    /// comes only once the resume window has passed without the client coming back.
    fn leave(&mut self, world: &mut World, client: &ClientInfo, entity: Entity) {
        let _ = client;
        world.despawn(entity);
    }

    /// A client whose connection dropped came back within the resume window, on a new
    /// connection (`client`), to its own `entity`. Nothing to do by default.
    fn resume(&mut self, world: &mut World, client: &ClientInfo, entity: Entity) {
        let _ = (world, client, entity);
    }

    /// A message from a client, already decoded and validated, at the start of the tick
    /// after it arrived (before the systems run), in the order the client sent them.
    /// Ignored by default.
    fn message(
        &mut self,
        world: &mut World,
        from: &ClientInfo,
        entity: Entity,
        message: Self::Message,
    ) {
        let _ = (world, from, entity, message);
    }
}

/// Where a game's system runs in one tick. A tick runs, in order:
///
/// 1. what clients did since the last tick: [`Game::join`], [`Game::leave`], [`Game::resume`]
///    and [`Game::message`], in arrival order;
/// 2. [`TickSet::BeforeInput`]: the clients' [`crate::Inputs::this_tick`] still hold the
///    previous tick's inputs (remember the last state, reset per-tick flags...);
/// 3. input application: each client's inputs for this tick move into its
///    [`crate::Inputs::this_tick`] (none, one, or two while a backlog drains);
/// 4. [`TickSet::Simulate`]: the game's systems ([`GameBuilder::add_systems`] puts them here);
/// 5. [`TickSet::BeforeCapture`]: last changes before the state is sent (clamp, derive
///    replicated values from simulated ones, mark the leader [`crate::AlwaysRelevant`]);
/// 6. replication capture: every replicated component's change is encoded once for all
///    clients; then the events queued with [`Outgoing`] are sent, then each client's snapshot.
///
/// Within a set, order systems with bevy's own `.chain()`, `.before(..)` and `.after(..)`.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickSet {
    /// Before this tick's inputs are applied.
    BeforeInput,
    /// After the inputs are applied: the simulation.
    Simulate,
    /// After the simulation, before the replication capture.
    BeforeCapture,
}

/// The schedules of one tick: what runs before input application, and what runs after.
#[derive(Default)]
pub(crate) struct TickSchedules {
    /// [`TickSet::BeforeInput`].
    pub before_input: Schedule,
    /// [`TickSet::Simulate`] then [`TickSet::BeforeCapture`].
    pub after_input: Schedule,
}

impl TickSchedules {
    /// Empty schedules, with the sets after input application in their order.
    pub fn new() -> TickSchedules {
        let mut schedules = TickSchedules::default();
        schedules.after_input.configure_sets(TickSet::Simulate.before(TickSet::BeforeCapture));
        schedules
    }
}

/// What [`Game::build`] registers with.
pub struct GameBuilder<'a> {
    world: &'a mut World,
    schedules: &'a mut TickSchedules,
    registry: &'a mut Registry,
}

impl<'a> GameBuilder<'a> {
    pub(crate) fn new(
        world: &'a mut World,
        schedules: &'a mut TickSchedules,
        registry: &'a mut Registry,
    ) -> GameBuilder<'a> {
        GameBuilder { world, schedules, registry }
    }

    /// The world, to insert resources or spawn the entities a game starts with.
    pub fn world(&mut self) -> &mut World {
        self.world
    }

    /// Adds systems to the tick's simulation ([`TickSet::Simulate`]): after this tick's
    /// inputs are applied.
    pub fn add_systems<M>(
        &mut self,
        systems: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> &mut Self {
        self.add_systems_to(TickSet::Simulate, systems)
    }

    /// Adds systems to one part of the tick (see [`TickSet`] for the order of a tick).
    pub fn add_systems_to<M>(
        &mut self,
        set: TickSet,
        systems: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> &mut Self {
        match set {
            TickSet::BeforeInput => {
                self.schedules.before_input.add_systems(systems.in_set(set));
            }
            TickSet::Simulate | TickSet::BeforeCapture => {
                self.schedules.after_input.add_systems(systems.in_set(set));
            }
        }
        self
    }

    /// Replicates `C`: the whole value with serde, whenever it changes (compared with
    /// `PartialEq`). Its wire shape is read off `C::default()`.
    pub fn replicate<C>(&mut self) -> Registration<'_>
    where
        C: Component + Clone + PartialEq + Debug + Default + Serialize + DeserializeOwned,
    {
        self.registry.replicate(&[C::default()])
    }

    /// Replicates `C` like [`GameBuilder::replicate`], reading its wire shape off `sample`
    /// (for a type without `Default`, or whose default holds an empty list or a `None`).
    pub fn replicate_sample<C>(&mut self, sample: C) -> Registration<'_>
    where
        C: Component + Clone + PartialEq + Debug + Serialize + DeserializeOwned,
    {
        self.registry.replicate(&[sample])
    }

    /// Replicates the enum `C` (a player state, a brush mode) like
    /// [`GameBuilder::replicate`]: the whole value, whenever it changes. Its wire shape is
    /// read off `samples`, one value of each variant (in any order).
    pub fn replicate_variants<C>(&mut self, samples: &[C]) -> Registration<'_>
    where
        C: Component + Clone + PartialEq + Debug + Serialize + DeserializeOwned,
    {
        self.registry.replicate(samples)
    }

    /// Replicates `C` as quantized integers: a change is sent as the difference of each, so a
    /// small move costs a byte per integer.
    pub fn replicate_quantized<C: Quantized>(&mut self) -> Registration<'_> {
        self.registry.replicate_quantized::<C>()
    }

    /// Sends each client only the entities near its own, by the spatial component `C`.
    /// Without it, every client sees every entity.
    pub fn interest<C: Spatial>(&mut self, config: InterestConfig) -> &mut Self {
        self.registry.interest::<C>(config);
        self
    }
}

/// The schema of game `G` with `registry`'s components, or why it cannot be described.
pub(crate) fn schema_of<G: Game>(
    registry: &Registry,
    welcome: &G::Welcome,
) -> Result<Schema, String> {
    let input = describe_all(&G::Input::samples()).map_err(|e| format!("input type: {e}"))?;
    let welcome: Type = describe(welcome).map_err(|e| format!("welcome type: {e}"))?;
    let message = describe_all(&G::Message::samples()).map_err(|e| format!("message type: {e}"))?;
    let event = describe_all(&G::Event::samples()).map_err(|e| format!("event type: {e}"))?;
    let schema = registry.schema(G::NAME, input, welcome, message, event);
    // A client decodes the schema with a bound on how deep types nest: refuse here, at
    // startup, a game whose welcome no client could decode.
    crate::protocol::decode_exact::<Schema>(&crate::protocol::encode(&schema), usize::MAX)
        .map_err(|e| format!("schema: {e}"))?;
    Ok(schema)
}
