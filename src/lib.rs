//! tickwire: an authoritative game state-sync server.
//!
//! A fixed-tick bevy_ecs world simulates an arena; clients send binary input frames over
//! WebSocket and receive a delta snapshot every tick, encoded against what they hold.
//!
//! # Layout
//!
//! - [`protocol`]: wire types, the bincode configuration, close codes. No game logic.
//! - [`sim`]: the bevy_ecs world and its systems; `step(tick)`. No I/O, no clock.
//! - [`replication`]: capture once per tick, per-client deltas, interest, client replica.
//! - [`net`]: HTTP routes, the WebSocket handshake, per-connection reader and writer, outbox.
//! - [`tick_loop`]: the fixed-rate driver thread: inbox → sim → replication → outboxes.
//! - [`bots`]: the headless client and the load tester behind `tickwire bots`.
//! - [`server`]: `run(listener, config, shutdown)`, the composition root.
//! - [`config`], [`metrics`], [`tick`]: settings, Prometheus metrics, the tick counter.

pub mod bots;
pub mod config;
pub mod metrics;
pub mod net;
pub mod protocol;
pub mod replication;
pub mod server;
pub mod sim;
pub mod tick;
pub mod tick_loop;
