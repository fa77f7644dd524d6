//! Fencing a process's rooms after a pause: a process stopped longer than the cluster's
//! liveness window (a `SIGSTOP`, a VM migration, a long GC-like stall) may have had its
//! rooms placed elsewhere meanwhile, so it must not tick them again until its next heartbeat
//! proves each lease is still its own. The gap is seen on the monotonic clock by whichever
//! thread runs first after the pause: a simulation thread between two rooms' ticks, or the
//! heartbeat task.
//!
//! A pause bumps the fence's generation; a room is live only while its lease was proven at
//! the current generation ([`RoomStatus::lease_proven`]). Without a cluster the fence is off
//! and every room is always live.

use super::status::RoomStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The process-wide pause detector.
#[derive(Debug)]
pub struct Fence {
    /// A gap longer than this is a pause; `None`: not clustered, never fences.
    window: Option<Duration>,
    generation: AtomicU64,
}

impl Fence {
    /// A fence for a cluster whose processes are deemed gone after `window` without a beat
    /// (`None`: a process serving alone).
    pub fn new(window: Option<Duration>) -> Fence {
        Fence { window, generation: AtomicU64::new(0) }
    }

    /// The current generation: how many pauses were seen.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Notes that a thread that runs often did not run for `gap`; a gap past the window
    /// fences every room until proven again. Whether it did.
    pub fn note_gap(&self, gap: Duration) -> bool {
        let paused = self.window.is_some_and(|window| gap > window);
        if paused {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        paused
    }

    /// Whether `room` may tick and take players: not lost, and its lease proven since the
    /// last pause (a permanent room, a process's own lobby, has no lease).
    pub fn live(&self, room: &RoomStatus) -> bool {
        if room.lease_lost() {
            return false;
        }
        room.permanent || room.lease_proven.load(Ordering::Acquire) >= self.generation()
    }

    /// Marks `room` proven at `generation` (read before the renew that proved it was sent).
    pub fn prove(&self, room: &RoomStatus, generation: u64) {
        room.lease_proven.fetch_max(generation, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_fences_rooms_until_a_later_proof() {
        let fence = Fence::new(Some(Duration::from_millis(200)));
        let room = RoomStatus::new("duel", false, 4);
        let lobby = RoomStatus::new("lobby", true, 4);
        assert!(fence.live(&room));
        assert!(!fence.note_gap(Duration::from_millis(150)), "within the window");
        let before = fence.generation();
        assert!(fence.note_gap(Duration::from_millis(250)));
        assert!(!fence.live(&room), "fenced after the pause");
        assert!(fence.live(&lobby), "a lobby has no lease");
        fence.prove(&room, before);
        assert!(!fence.live(&room), "a renew sent before the pause proves nothing");
        fence.prove(&room, fence.generation());
        assert!(fence.live(&room));
        room.lose_lease();
        assert!(!fence.live(&room), "lost for good");
    }

    #[test]
    fn a_process_alone_never_fences() {
        let fence = Fence::new(None);
        assert!(!fence.note_gap(Duration::from_secs(60)));
        assert!(fence.live(&RoomStatus::new("duel", false, 4)));
    }
}
