//! The messages on the wire, as serde types encoded with [`super::encode`].
//!
//! Field order is wire order. Enum variants are numbered from 0 in declaration order.

use serde::{Deserialize, Serialize};

/// Every message the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ServerMessage {
    /// 0: first message on every connection.
    Welcome(Welcome),
    /// 1: a whole snapshot; the client discards its replica first.
    Full(FullSnapshot),
    /// 2: changes against the previous snapshot this client received.
    Delta(DeltaSnapshot),
    /// 3: answer to a [`Ping`].
    Pong(Pong),
}

/// Sent once, right after the handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// [`super::PROTOCOL_VERSION`].
    pub protocol_version: u16,
    /// This connection's id, unique for the server's lifetime.
    pub client_id: u32,
    /// Wire id of the client's own player entity.
    pub entity_id: u32,
    /// Simulation and snapshot rate.
    pub tick_rate_hz: u16,
    /// Arena width in world units; x runs from 0 to width.
    pub world_width: f32,
    /// Arena height in world units; y runs from 0 to height.
    pub world_height: f32,
    /// Half the side of the square a client sees around its player, in world units.
    pub view_radius: f32,
    /// The rules a client needs to predict its own player.
    pub movement: MovementParams,
}

/// The movement rules, so a client predicts with exactly the server's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

/// A whole snapshot: every entity the client sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullSnapshot {
    /// Server tick this snapshot describes.
    pub tick: u32,
    /// Sequence number of the last input of this client the server applied (0: none yet).
    pub last_input_seq: u32,
    /// Only [`Op::Own`] and [`Op::Spawn`].
    pub ops: Vec<Op>,
}

/// Changes since the snapshot this client received before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaSnapshot {
    /// This snapshot's tick minus the previous snapshot's tick (at least 1).
    pub tick_delta: u32,
    /// Increase of the last applied input sequence number.
    pub input_seq_delta: u32,
    /// Changes in ascending entity id order (after an optional leading [`Op::Own`]).
    pub ops: Vec<Op>,
}

/// One change to the client's replica. Entity ids are sent as gaps: each id-bearing op
/// carries `id - previous id` (the previous id starts at 0; ids start at 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// 0: a new entity (or a new one reusing the id): replace whatever the id held.
    Spawn {
        /// Id gap.
        id_gap: u32,
        /// Its whole state.
        entity: EntityState,
    },
    /// 1: the position moved by (dx, dy) wire units.
    Move {
        /// Id gap.
        id_gap: u32,
        /// Change of x, 1/64 units.
        dx: i32,
        /// Change of y, 1/64 units.
        dy: i32,
    },
    /// 2: the position moved and the score changed.
    Update {
        /// Id gap.
        id_gap: u32,
        /// Change of x, 1/64 units.
        dx: i32,
        /// Change of y, 1/64 units.
        dy: i32,
        /// New score.
        score: u32,
    },
    /// 3: the entity is gone from this client's view.
    Despawn {
        /// Id gap.
        id_gap: u32,
    },
    /// 4: the client's own player's velocity, in 1/64 units per second. Carries no id.
    Own {
        /// Velocity x.
        vx: i32,
        /// Velocity y.
        vy: i32,
    },
}

/// Everything about an entity, sent when it enters a client's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityState {
    /// What it is.
    pub kind: EntityKind,
    /// Position x, 1/64 units.
    pub x: i32,
    /// Position y, 1/64 units.
    pub y: i32,
    /// Radius, 1/64 units.
    pub radius: u16,
    /// Colour as red, green, blue.
    pub color: [u8; 3],
    /// Score (orbs: their value).
    pub score: u32,
    /// Display name (empty for orbs).
    pub name: String,
}

/// Entity kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityKind {
    /// 0: a connected player.
    Player,
    /// 1: food worth its score.
    Orb,
}

/// Answer to a ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    /// The ping's id, echoed.
    pub id: u32,
    /// The server's latest tick when it answered.
    pub tick: u32,
    /// Players connected to the server's world (not only those in view) at that tick.
    pub players: u32,
}

/// Every message a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMessage {
    /// 0: one tick of player input.
    Input(Input),
    /// 1: asks for a [`Pong`] (round-trip time).
    Ping(Ping),
}

/// One tick of input. The server applies at most one input per player per tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Strictly increasing per connection, starting at 1.
    pub seq: u32,
    /// Movement direction x, -127..=127 (clamped to unit length by the server).
    pub move_x: i8,
    /// Movement direction y, -127..=127.
    pub move_y: i8,
    /// Button bits; bit 0 is boost.
    pub buttons: u8,
}

/// A round-trip probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {
    /// Any number; the pong echoes it.
    pub id: u32,
}
