//! What the HTTP side can read of a running room: its name, who holds a place in it, its
//! latest tick and when it ran. Atomics only: the room's thread writes, requests read.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One room's shared state.
#[derive(Debug)]
pub struct RoomStatus {
    /// The room's name.
    pub name: String,
    /// Never closed when empty (the default room).
    pub permanent: bool,
    /// Players it holds at most.
    pub capacity: usize,
    opened: Instant,
    /// Connections holding a place, from their handshake to their end. Changed only by the
    /// [`super::Directory`], under its lock, so a room is never closed under a joining client.
    pub(super) members: AtomicUsize,
    /// Sessions whose connection dropped, waiting for their client to resume them: each holds
    /// a place, and the room stays open for them. Written by the room's thread.
    pub waiting: AtomicUsize,
    /// The latest tick run.
    pub tick: AtomicU32,
    /// Clients in the world at the latest tick.
    pub clients_in_world: AtomicU32,
    last_tick_micros: AtomicU64,
    /// Its recent tick times and the bytes it sent, for the operator console.
    pub figures: super::figures::RoomFigures,
    /// In a cluster: the epoch of the room's lease this copy holds (0: none known yet).
    pub lease_epoch: AtomicU64,
    /// In a cluster: the [`super::Fence`] generation at which the lease was last proven.
    pub lease_proven: AtomicU64,
    /// Set once the lease is found lost: the room's thread closes it with 4008.
    lease_lost: AtomicBool,
}

impl RoomStatus {
    /// A room opened now, with no member and no tick yet.
    pub fn new(name: &str, permanent: bool, capacity: usize) -> RoomStatus {
        RoomStatus {
            name: name.to_owned(),
            permanent,
            capacity,
            opened: Instant::now(),
            members: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            tick: AtomicU32::new(0),
            clients_in_world: AtomicU32::new(0),
            last_tick_micros: AtomicU64::new(0),
            figures: super::figures::RoomFigures::default(),
            lease_epoch: AtomicU64::new(0),
            lease_proven: AtomicU64::new(0),
            lease_lost: AtomicBool::new(false),
        }
    }

    /// Connections holding a place in the room.
    pub fn members(&self) -> usize {
        self.members.load(Ordering::Acquire)
    }

    /// Sessions waiting to be resumed.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Whether the room's lease was found lost (it is being closed).
    pub fn lease_lost(&self) -> bool {
        self.lease_lost.load(Ordering::Acquire)
    }

    /// Marks the lease lost: the room's thread closes the room with 4008 at its next turn.
    pub fn lose_lease(&self) {
        self.lease_lost.store(true, Ordering::Release);
    }

    /// Places held: connections in the room and sessions waiting to resume.
    pub fn places(&self) -> usize {
        self.members() + self.waiting()
    }

    /// How long the room has been open.
    pub fn uptime(&self) -> Duration {
        self.opened.elapsed()
    }

    /// Notes that a tick just finished (for `/healthz`).
    pub fn mark_tick(&self) {
        self.last_tick_micros.store(self.opened.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Time since the last tick finished (since the room opened, before its first tick).
    pub fn since_last_tick(&self) -> Duration {
        let last = Duration::from_micros(self.last_tick_micros.load(Ordering::Relaxed));
        self.opened.elapsed().saturating_sub(last)
    }
}
