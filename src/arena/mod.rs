//! The arena: players steer circles around a square world and eat orbs for score. The first
//! game built on tickwire, written only against its public API.
//!
//! Replicates a quantized [`Position`] (4 bytes per moving player per snapshot), the owner's
//! own [`Velocity`] for prediction, and the static [`Radius`], [`Color`], [`Name`], [`Score`]
//! and [`Orb`] marker; interest is managed by position, and the top scorer is
//! [`crate::AlwaysRelevant`]: every client sees the leader wherever they are.

mod components;
pub mod movement;
mod systems;

pub use components::{Color, Name, Orb, Position, Radius, Score, Velocity};

use crate::{
    ClientInfo, Game, GameBuilder, GameInput, GameMessage, InterestConfig, Outgoing, Replicated,
};
use bevy_ecs::prelude::*;
use glam::Vec2;
use serde::{Deserialize, Serialize};

/// Wire units per world unit of positions and radii (1/64 unit).
pub const POSITION_SCALE: f32 = 64.0;

/// Wire units per world unit per second of velocities.
pub const VELOCITY_SCALE: f32 = 64.0;

/// Input button bit: boost (faster acceleration and a higher speed cap).
pub const BUTTON_BOOST: u8 = 1;

/// Longest player name in characters, after control characters are stripped.
pub const MAX_NAME_CHARS: usize = 16;

/// Longest chat line in characters.
pub const MAX_CHAT_CHARS: usize = 200;

/// Every this many points, a player's score is announced to the room.
pub const MILESTONE: u32 = 25;

/// What a player sends besides inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArenaMessage {
    /// A chat line for the room.
    Chat {
        /// The line, at most [`MAX_CHAT_CHARS`] characters, no control characters.
        text: String,
    },
}

impl GameMessage for ArenaMessage {
    fn samples() -> Vec<ArenaMessage> {
        vec![ArenaMessage::Chat { text: String::new() }]
    }

    fn validate(&self) -> Result<(), String> {
        let ArenaMessage::Chat { text } = self;
        if text.trim().is_empty() {
            return Err("empty chat line".into());
        }
        if text.chars().count() > MAX_CHAT_CHARS {
            return Err(format!("chat line longer than {MAX_CHAT_CHARS} characters"));
        }
        if text.chars().any(char::is_control) {
            return Err("control characters in a chat line".into());
        }
        Ok(())
    }
}

/// What the arena tells the players of a room besides the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArenaEvent {
    /// A player joined the room.
    Joined {
        /// Their name.
        name: String,
    },
    /// A player left (or did not come back within the resume window).
    Left {
        /// Their name.
        name: String,
    },
    /// A player came back on a new connection.
    Returned {
        /// Their name.
        name: String,
    },
    /// A chat line.
    Chat {
        /// Who said it.
        from: String,
        /// What they said.
        text: String,
    },
    /// A player's score passed a multiple of [`MILESTONE`].
    Milestone {
        /// Their name.
        name: String,
        /// The multiple passed.
        score: u32,
    },
}

impl GameMessage for ArenaEvent {
    fn samples() -> Vec<ArenaEvent> {
        let name = String::new();
        vec![
            ArenaEvent::Joined { name: name.clone() },
            ArenaEvent::Left { name: name.clone() },
            ArenaEvent::Returned { name: name.clone() },
            ArenaEvent::Chat { from: name.clone(), text: String::new() },
            ArenaEvent::Milestone { name, score: 0 },
        ]
    }
}

/// One tick of a player's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ArenaInput {
    /// Movement direction x, -127..=127 (clamped to unit length by the server).
    pub move_x: i8,
    /// Movement direction y, -127..=127.
    pub move_y: i8,
    /// Button bits; bit 0 is boost.
    pub buttons: u8,
}

impl GameInput for ArenaInput {
    fn validate(&self) -> Result<(), String> {
        if self.buttons & !BUTTON_BOOST != 0 {
            return Err(format!("input buttons {:#04x} set undefined bits", self.buttons));
        }
        Ok(())
    }
}

/// The movement rules, so a client predicts with exactly the server's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MovementParams {
    /// Acceleration at full input, units/s².
    pub accel: f32,
    /// Acceleration while boosting, units/s².
    pub boost_accel: f32,
    /// Velocity decay per second: each tick `v *= max(0, 1 - friction * dt)`.
    pub friction: f32,
    /// Speed cap, units/s.
    pub max_speed: f32,
    /// Speed cap while boosting, units/s.
    pub boost_max_speed: f32,
    /// Player radius, world units.
    pub player_radius: f32,
}

/// What the arena tells each client on connecting.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ArenaWelcome {
    /// Arena width in world units; x runs from 0 to width.
    pub world_width: f32,
    /// Arena height in world units; y runs from 0 to height.
    pub world_height: f32,
    /// Half the side of the square a client sees around its player, in world units.
    pub view_radius: f32,
    /// The rules a client needs to predict its own player.
    pub movement: MovementParams,
}

/// The arena and its rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ArenaConfig {
    /// Side of the square arena, world units. Default 200.
    pub size: f32,
    /// Half-side of the square a client sees around its player, world units. Default 30;
    /// a value of `size` or more makes everyone see everything.
    pub view_radius: f32,
    /// Orbs kept in the arena. Default 150.
    pub orbs: usize,
    /// Movement constants, shared with clients in the welcome.
    pub movement: MovementParams,
    /// Seed of the world's random numbers (orb places, colours). Default 0x7157.
    pub seed: u64,
}

impl Default for ArenaConfig {
    fn default() -> Self {
        ArenaConfig {
            size: 200.0,
            view_radius: 30.0,
            orbs: 150,
            movement: MovementParams {
                accel: 60.0,
                boost_accel: 110.0,
                friction: 4.0,
                max_speed: 12.0,
                boost_max_speed: 20.0,
                player_radius: 1.0,
            },
            seed: 0x7157,
        }
    }
}

impl ArenaConfig {
    /// Checks the values a user can set; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.size >= 10.0 && self.size <= 100_000.0) {
            return Err(format!("world size {} is outside 10..=100000", self.size));
        }
        if !(self.view_radius > 0.0 && self.view_radius.is_finite()) {
            return Err(format!("view radius {} must be positive", self.view_radius));
        }
        Ok(())
    }
}

/// Settings the systems read, fixed at start.
#[derive(Resource, Debug, Clone)]
pub struct Rules {
    /// The arena's configuration.
    pub config: ArenaConfig,
    /// Seconds per tick.
    pub dt: f32,
}

impl Rules {
    /// Arena size as a vector.
    pub fn arena(&self) -> Vec2 {
        Vec2::splat(self.config.size)
    }
}

/// The arena's random numbers.
#[derive(Resource)]
pub struct ArenaRng(pub fastrand::Rng);

/// Counters of the arena's events.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArenaStats {
    /// Orbs eaten.
    pub orbs_eaten: u64,
}

/// The arena game.
#[derive(Debug, Clone, Default)]
pub struct Arena {
    config: ArenaConfig,
}

impl Arena {
    /// An arena with these settings.
    pub fn new(config: ArenaConfig) -> Arena {
        Arena { config }
    }

    /// Its settings.
    pub fn config(&self) -> &ArenaConfig {
        &self.config
    }
}

impl Game for Arena {
    type Input = ArenaInput;
    type Welcome = ArenaWelcome;
    type Message = ArenaMessage;
    type Event = ArenaEvent;
    const NAME: &'static str = "arena";

    fn build(&mut self, game: &mut GameBuilder<'_>) {
        let dt = game.world().resource::<crate::TickInfo>().dt;
        game.world().insert_resource(Rules { config: self.config.clone(), dt });
        game.world().insert_resource(ArenaRng(fastrand::Rng::with_seed(self.config.seed)));
        game.world().init_resource::<ArenaStats>();
        game.replicate_quantized::<Position>();
        game.replicate_quantized::<Velocity>().owner_only();
        game.replicate_quantized::<Radius>();
        game.replicate::<Color>();
        game.replicate::<Score>();
        game.replicate::<Name>();
        game.replicate::<Orb>();
        if self.config.view_radius < self.config.size {
            let interest = InterestConfig {
                view_radius: self.config.view_radius,
                world_size: self.config.size,
            };
            game.interest::<Position>(interest);
        }
        game.add_systems(
            (
                systems::move_players,
                systems::separate_players,
                systems::eat_orbs,
                systems::spawn_orbs,
            )
                .chain(),
        );
        game.add_systems_to(crate::TickSet::BeforeCapture, systems::mark_leader);
        game.world().run_system_cached(systems::spawn_orbs).ok();
    }

    fn welcome(&self) -> ArenaWelcome {
        ArenaWelcome {
            world_width: self.config.size,
            world_height: self.config.size,
            view_radius: self.config.view_radius,
            movement: self.config.movement,
        }
    }

    fn join(&mut self, world: &mut World, client: &ClientInfo) -> Entity {
        // A signed-in player is named by its identity (the token's `name` claim, else its
        // user id), a guest by its `?name=`.
        let named = match &client.identity {
            Some(identity) => {
                identity.claims.get("name").and_then(|n| n.as_str()).or(Some(&identity.user_id))
            }
            None => client.param("name"),
        };
        let name = named.map(sanitize_name).filter(|n| !n.is_empty());
        let name = name.unwrap_or_else(|| format!("player-{}", client.client_id));
        let player = spawn_player(world, &name);
        world
            .resource_mut::<Outgoing<ArenaEvent>>()
            .broadcast_except(player, ArenaEvent::Joined { name });
        player
    }

    fn leave(&mut self, world: &mut World, _: &ClientInfo, entity: Entity) {
        if let Some(name) = world.get::<Name>(entity).map(|n| n.0.clone()) {
            world
                .resource_mut::<Outgoing<ArenaEvent>>()
                .broadcast_except(entity, ArenaEvent::Left { name });
        }
        world.despawn(entity);
    }

    fn resume(&mut self, world: &mut World, _: &ClientInfo, entity: Entity) {
        if let Some(name) = world.get::<Name>(entity).map(|n| n.0.clone()) {
            let event = ArenaEvent::Returned { name };
            world.resource_mut::<Outgoing<ArenaEvent>>().broadcast_except(entity, event);
        }
    }

    fn message(
        &mut self,
        world: &mut World,
        _: &ClientInfo,
        entity: Entity,
        message: ArenaMessage,
    ) {
        let ArenaMessage::Chat { text } = message;
        let Some(from) = world.get::<Name>(entity).map(|n| n.0.clone()) else { return };
        let text = text.trim().to_owned();
        world.resource_mut::<Outgoing<ArenaEvent>>().broadcast(ArenaEvent::Chat { from, text });
    }
}

/// Spawns a player at a random place; returns its entity.
pub fn spawn_player(world: &mut World, name: &str) -> Entity {
    let config = world.resource::<Rules>().config.clone();
    let (size, radius) = (config.size, config.movement.player_radius);
    let margin = (radius * 4.0).min(size / 2.0);
    let mut rng = world.resource_mut::<ArenaRng>();
    let at = Vec2::new(
        margin + rng.0.f32() * (size - 2.0 * margin),
        margin + rng.0.f32() * (size - 2.0 * margin),
    );
    let color = systems::player_color(&mut rng.0);
    world
        .spawn((
            Replicated,
            Position(movement::snap_position(at)),
            Velocity::default(),
            Radius(radius),
            Color(color),
            Name(name.to_owned()),
            Score(0),
        ))
        .id()
}

/// Cleans a player name from a URL: control characters removed, trimmed, at most
/// [`MAX_NAME_CHARS`] characters. An empty result means "use the default name".
pub fn sanitize_name(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[cfg(feature = "bots")]
impl crate::bots::BotGame for Arena {
    fn bot_input(steer: crate::bots::Steer, _: &crate::Replica, _: u32) -> ArenaInput {
        let buttons = if steer.action { BUTTON_BOOST } else { 0 };
        ArenaInput { move_x: steer.x, move_y: steer.y, buttons }
    }

    fn own_body(replica: &crate::Replica, own: u32) -> Option<crate::bots::game::Body> {
        let position = replica.get::<Position>(own)?.0;
        let velocity = replica.get::<Velocity>(own)?.0;
        Some(crate::bots::game::Body { position, velocity })
    }

    /// The movement rules a browser predicts with; collisions are not predicted.
    fn predict(
        mut body: crate::bots::game::Body,
        input: &ArenaInput,
        welcome: &ArenaWelcome,
        dt: f32,
    ) -> crate::bots::game::Body {
        let world = Vec2::new(welcome.world_width, welcome.world_height);
        let (pos, vel) = (&mut body.position, &mut body.velocity);
        movement::step(pos, vel, input, &welcome.movement, dt, world);
        body
    }
}
