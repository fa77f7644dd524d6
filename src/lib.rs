//! tickwire: an authoritative game state-sync server, as a library for any game.
//!
//! A game registers its bevy_ecs components and systems, its input type, and what it
//! replicates ([`Game`], [`GameBuilder`]); tickwire runs it on a fixed tick, takes binary
//! inputs over WebSocket and sends each client a delta snapshot every tick, encoded against
//! what that client holds. The welcome carries the game's [`protocol::Schema`], so a generic
//! client decodes any game.
//!
//! # Layout
//!
//! - [`game`]: the trait a game implements and the builder it registers with.
//! - [`registry`]: replicated components, their codecs and visibility; the schema.
//! - [`identity`]: the wire identity of replicated entities (`Replicated`, `NetId`).
//! - [`input`]: each client's input buffer inside the world.
//! - [`room`]: one game world: its schedule, inputs and replication; `step(tick)`.
//! - [`protocol`]: the wire envelope, schema types, the bincode configuration, tags, close
//!   codes. No game logic.
//! - [`replication`]: capture once per tick, per-client deltas, interest, client replica.
//! - [`net`]: HTTP routes, the WebSocket handshake, per-connection reader and writer, inbox
//!   and outbox.
//! - [`tick_loop`]: one room's fixed-rate driver: inbox → room → outboxes.
//! - [`rooms`]: many rooms per server: names, the directory that opens and closes them, the
//!   pool of simulation threads that runs them.
//! - [`server`]: [`Server`], the composition root.
//! - [`auth`]: who may join: the [`auth::Authenticator`] hook, the JWT verifier, one live
//!   session per user.
//! - `panics`: panics in a game's code caught where they start, so they fail one room or one
//!   connection.
//! - [`admin`]: the operator console (`/admin`) and its API, behind a bearer token.
//! - [`cluster`]: scale out: the Redis room directory, matchmaking, seats, Agones.
//! - [`cli`]: the whole command line (serve, `bots`, `netsim`, `config`, `schema`).
//! - `bots` (feature `bots`, default): the headless client and the load tester behind
//!   `tickwire bots`.
//! - `netsim` (feature `netsim`, default): the link emulator behind `tickwire netsim`: delay, jitter, bandwidth, stalls.
//! - [`arena`]: the arena, the first game, written only against the public API.
//! - [`settings`]: every flag also from the environment and a TOML file; the effective
//!   configuration with its sources.
//! - [`config`], [`context`], [`metrics`], [`tick`]: settings, shared state, metrics, the tick.
//! - [`prelude`]: what a game's code imports; [`bevy_ecs`], [`glam`] and [`serde`] are
//!   re-exported so a game's `Cargo.toml` needs only `tickwire` (serde's derive needs
//!   `#[serde(crate = "tickwire::serde")]` on each type when serde is not a direct dependency).

pub mod admin;
pub mod arena;
pub mod auth;
#[cfg(feature = "bots")]
pub mod bots;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod context;
pub mod game;
pub mod identity;
pub mod input;
pub mod metrics;
pub mod net;
#[cfg(feature = "netsim")]
pub mod netsim;
mod panics;
pub mod protocol;
pub mod registry;
pub mod replication;
pub mod room;
pub mod rooms;
pub mod server;
pub mod settings;
pub mod tick;
pub mod tick_loop;

/// The ECS a game's components, resources and systems are written against (the version
/// tickwire runs; a different one gives trait errors).
pub use bevy_ecs;
/// The vector maths of [`Spatial`] positions and the arena.
pub use glam;
/// Serialization of components, inputs and messages. With serde only through this
/// re-export, derive with `#[serde(crate = "tickwire::serde")]` on the type.
pub use serde;

/// What a game's code imports: `use tickwire::prelude::*;`.
pub mod prelude {
    pub use crate::bevy_ecs::prelude::*;
    pub use crate::glam::{Vec2, Vec3, vec2, vec3};
    pub use crate::serde::{Deserialize, Serialize};
    pub use crate::{
        ClientInfo, Game, GameBuilder, GameInput, GameMessage, Inputs, NetId, NoMessages, Outgoing,
        Recipient, Replicated, Spatial, Tick, TickInfo,
    };
}

pub use config::ServerConfig;
pub use game::{
    ClientInfo, Game, GameBuilder, GameInput, GameMessage, NoMessages, Outgoing, Recipient, TickSet,
};
pub use identity::{NetId, Replicated};
pub use input::Inputs;
pub use registry::{InterestConfig, Quantized, Registration, Registry, Spatial};
pub use replication::{AlwaysRelevant, MemberOf, Replica, VisibleTo};
pub use room::{Room, RoomSettings, TickInfo, registry_of};
pub use server::Server;
pub use tick::Tick;

/// The README's code blocks, compiled and run as doctests (its "Write your own game" game).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
