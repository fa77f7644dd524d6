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
//! - [`bots`]: the headless client and the load tester behind `tickwire bots`.
//! - [`netsim`]: the link emulator behind `tickwire netsim`: delay, jitter, bandwidth, stalls.
//! - [`arena`]: the arena, the first game, written only against the public API.
//! - [`settings`]: every flag also from the environment and a TOML file; the effective
//!   configuration with its sources.
//! - [`config`], [`context`], [`metrics`], [`tick`]: settings, shared state, metrics, the tick.

pub mod admin;
pub mod arena;
pub mod auth;
pub mod bots;
pub mod cluster;
pub mod config;
pub mod context;
pub mod game;
pub mod identity;
pub mod input;
pub mod metrics;
pub mod net;
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
