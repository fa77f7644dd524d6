//! One game world: the game's bevy_ecs `World` and schedule, its clients' input buffers and
//! its replication. Pure: the caller passes the tick; no sockets, no clock, no tokio.

use crate::game::{ClientInfo, Game, GameBuilder, Outgoing, Recipient, TickSchedules, schema_of};
use crate::input::{DrainRules, InputTally, Inputs, Queued, advance_all};
use crate::protocol::{PROTOCOL_VERSION, Schema, Welcome};
use crate::registry::Registry;
use crate::replication::{Built, ClientView, InputAck, NetId, NetIds, Replicated, Replication};
use crate::tick::Tick;
use bevy_ecs::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The tick being simulated, for a game's systems (`Res<TickInfo>`).
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct TickInfo {
    /// The tick.
    pub tick: Tick,
    /// Seconds per tick.
    pub dt: f32,
    /// Ticks per second.
    pub rate_hz: u16,
}

/// How a room runs its game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomSettings {
    /// Ticks per second.
    pub tick_rate_hz: u16,
    /// Inputs buffered per client before the oldest is dropped.
    pub input_buffer: usize,
    /// Inputs applied to one client in one tick while a backlog well above its pacing's aim
    /// waits.
    pub max_inputs_per_tick: usize,
    /// Ticks of history kept for delta baselines.
    pub history_ticks: usize,
}

impl RoomSettings {
    /// The settings a server with `config` runs its rooms with.
    pub fn from_config(config: &crate::ServerConfig) -> RoomSettings {
        RoomSettings {
            tick_rate_hz: config.tick_rate_hz,
            input_buffer: config.input_buffer,
            max_inputs_per_tick: config.max_inputs_per_tick,
            history_ticks: config.history_ticks,
        }
    }
}

impl Default for RoomSettings {
    /// What a server with the default configuration uses.
    fn default() -> Self {
        RoomSettings::from_config(&crate::ServerConfig::default())
    }
}

/// Counters of one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepStats {
    /// Inputs taken from the clients' buffers.
    pub inputs_applied: u64,
    /// The clients' buffers over the tick: starved ticks, backlogs, depths.
    pub inputs: InputTally,
}

/// A game's world and everything that runs it.
pub struct Room<G: Game> {
    game: G,
    world: World,
    schedules: TickSchedules,
    replication: Replication,
    inputs: QueryState<&'static mut Inputs<G::Input>, With<NetId>>,
    settings: RoomSettings,
    schema: Arc<Schema>,
    schema_hash: u64,
    welcome: Vec<u8>,
}

/// Builds a game's registry and schema with a scratch world (what clients and bots need).
pub fn registry_of<G: Game>(game: &mut G) -> Result<(Arc<Registry>, Schema), String> {
    let mut world = fresh_world(crate::config::DEFAULT_TICK_RATE_HZ);
    let mut schedules = TickSchedules::new();
    let registry = build(game, &mut world, &mut schedules)?;
    let schema = schema_of::<G>(&registry, &game.welcome())?;
    Ok((Arc::new(registry), schema))
}

/// A world with the resources the server provides to every game.
fn fresh_world(tick_rate_hz: u16) -> World {
    let mut world = World::new();
    let dt = 1.0 / f32::from(tick_rate_hz.max(1));
    world.insert_resource(TickInfo { tick: Tick(0), dt, rate_hz: tick_rate_hz });
    world.init_resource::<NetIds>();
    world
}

fn build<G: Game>(
    game: &mut G,
    world: &mut World,
    schedules: &mut TickSchedules,
) -> Result<Registry, String> {
    let mut registry = Registry::default();
    game.build(&mut GameBuilder::new(world, schedules, &mut registry));
    if !registry.errors.is_empty() {
        return Err(format!("game {}: {}", G::NAME, registry.errors.join("; ")));
    }
    Ok(registry)
}

impl<G: Game> Room<G> {
    /// A new world for `game`; fails if the game's registrations are invalid.
    pub fn new(mut game: G, settings: RoomSettings) -> Result<Room<G>, String> {
        let mut world = fresh_world(settings.tick_rate_hz);
        let mut schedules = TickSchedules::new();
        let registry = Arc::new(build(&mut game, &mut world, &mut schedules)?);
        let welcome = game.welcome();
        let schema = schema_of::<G>(&registry, &welcome)?;
        let schema_hash = schema.hash();
        let replication = Replication::new(registry, &mut world, settings.history_ticks);
        world.init_resource::<Outgoing<G::Event>>();
        let inputs = world.query_filtered();
        Ok(Room {
            game,
            world,
            schedules,
            replication,
            inputs,
            settings,
            schema: Arc::new(schema),
            schema_hash,
            welcome: crate::protocol::encode(&welcome),
        })
    }

    /// The game's replicated components.
    pub fn registry(&self) -> &Arc<Registry> {
        self.replication.registry()
    }

    /// The schema sent in welcomes.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The welcome for a client whose own entity is `own`, with its resume token (all zero:
    /// none).
    pub fn welcome(&self, client_id: u32, own: NetId, resume_token: [u8; 16]) -> Welcome {
        Welcome {
            protocol_version: PROTOCOL_VERSION,
            client_id,
            entity_id: own.id,
            tick_rate_hz: self.settings.tick_rate_hz,
            schema_hash: self.schema_hash,
            schema: (*self.schema).clone(),
            game: self.welcome.clone(),
            resume_token,
        }
    }

    /// Lets the game spawn a client's entity; returns it with its wire id.
    pub fn join(&mut self, client: &ClientInfo) -> (Entity, NetId) {
        let entity = self.game.join(&mut self.world, client);
        let id = match self.world.get::<NetId>(entity) {
            Some(id) => *id,
            None => self.world.resource_mut::<NetIds>().allocate(),
        };
        if let Ok(mut spawned) = self.world.get_entity_mut(entity) {
            spawned.insert((Replicated, id, Inputs::<G::Input>::new(self.settings.input_buffer)));
        }
        (entity, id)
    }

    /// A client came back on a new connection to its own `entity`: its input buffer starts
    /// afresh (the new connection numbers inputs from 1) and the game is told. Returns the
    /// entity's wire id, or `None` if the entity is gone.
    pub fn resume(&mut self, client: &ClientInfo, entity: Entity) -> Option<NetId> {
        let id = *self.world.get::<NetId>(entity)?;
        self.suspend(entity);
        self.game.resume(&mut self.world, client, entity);
        Some(id)
    }

    /// The running mean of how long `entity`'s inputs waited for their tick, in seconds
    /// (`None` before its first input applied, or for an entity without inputs).
    pub fn input_lead(&self, entity: Entity) -> Option<f32> {
        self.world.get::<Inputs<G::Input>>(entity)?.pacing().lead()
    }

    /// A client's connection dropped and its entity waits for it: no input is applied to it
    /// meanwhile.
    pub fn suspend(&mut self, entity: Entity) {
        if let Ok(mut waiting) = self.world.get_entity_mut(entity) {
            waiting.insert(Inputs::<G::Input>::new(self.settings.input_buffer));
        }
    }

    /// Hands a client's message to the game.
    pub fn message(&mut self, client: &ClientInfo, entity: Entity, message: G::Message) {
        self.game.message(&mut self.world, client, entity, message);
    }

    /// Takes the events the game queued since the last call, oldest first. A caller that
    /// steps the room itself takes them after every step: the game's queue is not bounded.
    pub fn take_events(&mut self) -> Vec<(Recipient, G::Event)> {
        (self.world.get_resource_mut::<Outgoing<G::Event>>())
            .map_or_else(Vec::new, |mut out| out.take())
    }

    /// Lets the game remove a client's entity.
    pub fn leave(&mut self, client: &ClientInfo, entity: Entity) {
        if self.world.get_entity(entity).is_ok() {
            self.game.leave(&mut self.world, client, entity);
        }
    }

    /// Queues one input for a client's entity, read off its connection at `received`;
    /// `None` if the entity has no input buffer any more.
    pub fn push_input(
        &mut self,
        entity: Entity,
        seq: u32,
        input: G::Input,
        received: Instant,
    ) -> Option<Queued> {
        let mut inputs = self.world.get_mut::<Inputs<G::Input>>(entity)?;
        Some(inputs.push(seq, input, received))
    }

    /// Runs one tick that started at `now`: [`Room::simulate`], then [`Room::capture`].
    pub fn step(&mut self, tick: Tick, now: Instant) -> StepStats {
        let stats = self.simulate(tick, now);
        self.capture(tick);
        stats
    }

    /// The simulation half of a tick that started at `now`: the game's systems in
    /// [`crate::TickSet::BeforeInput`], inputs, then the game's other systems.
    /// `now` is what each input's arrival is measured against, for the pacing hint.
    pub fn simulate(&mut self, tick: Tick, now: Instant) -> StepStats {
        self.world.resource_mut::<TickInfo>().tick = tick;
        let rate_hz = self.settings.tick_rate_hz.max(1);
        let rules = DrainRules {
            max_per_tick: self.settings.max_inputs_per_tick,
            active_ticks: u32::from(rate_hz),
            period: Duration::from_secs(1) / u32::from(rate_hz),
        };
        self.schedules.before_input.run(&mut self.world);
        let inputs = advance_all(&mut self.inputs, &mut self.world, rules, now);
        self.schedules.after_input.run(&mut self.world);
        StepStats { inputs_applied: inputs.applied, inputs }
    }

    /// The replication half of a tick: what every client's snapshot is built from.
    pub fn capture(&mut self, tick: Tick) {
        self.replication.begin_tick(&mut self.world, tick);
    }

    /// Builds this tick's snapshot for one client (see [`Replication::build`]).
    pub fn build(&mut self, view: &mut ClientView, entity: Entity, out: &mut Vec<u8>) -> Built {
        let ack = match self.world.get::<Inputs<G::Input>>(entity) {
            Some(inputs) => {
                InputAck { seq: inputs.last_applied_seq(), pacing: inputs.pacing().hint() }
            }
            None => InputAck::default(),
        };
        self.replication.build(view, ack, out)
    }

    /// Replicated entities at the last tick.
    pub fn entity_count(&self) -> usize {
        self.replication.current().map_or(0, |frame| frame.ids.len())
    }

    /// The world (tests, benches).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The world, mutably (tests place entities).
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// The game.
    pub fn game(&self) -> &G {
        &self.game
    }
}
