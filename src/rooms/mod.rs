//! Rooms: many independent matches in one server, each its own [`crate::Room`] (world, tick,
//! players, snapshots), created on demand from the game and closed when left empty.
//!
//! - [`name`]: what a room may be called; the default room.
//! - [`status`]: what the HTTP side can read of a running room (players, tick, health).
//! - [`figures`]: a room's recent tick times and bytes, for the operator console.
//! - [`directory`]: name → room, the only place rooms are opened, joined and closed; it
//!   enforces the room capacity and the room limit.
//! - [`fence`]: in a cluster, holds a process's rooms after a pause until their leases are
//!   proven again.
//! - [`pool`]: the simulation threads, a few per machine, each running many rooms, every
//!   room on its own tick deadline.
//!
//! Nothing here simulates or touches a socket: a room's tick is [`crate::tick_loop`]'s.

pub mod directory;
pub mod fence;
pub mod figures;
pub mod name;
pub mod pool;
pub mod status;

pub use directory::{Directory, Membership, Refusal};
pub use fence::Fence;
pub use name::{DEFAULT_ROOM, MAX_ROOM_NAME_BYTES, ROOM_PARAM, check_name};
pub use pool::SimPool;
pub use status::RoomStatus;
