//! Every heartbeat registers this process (its beat time taken from Redis) and renews the
//! lease of each room it runs, in one script call; [`Heartbeat::stop`] deregisters at once
//! on a clean shutdown, releasing the leases.
//!
//! What a heartbeat does with the answer:
//! - a lease renewed: the room is proven at the fence generation read before the call was
//!   sent (a room held after a pause plays again only on a renew sent after the pause);
//! - a lease lost (taken by another process, or gone after a pause): the room is marked
//!   lost and its simulation thread closes it with 4008;
//! - another live instance with this process id: refused at start (the process exits);
//!   later, every room is closed, as nothing this process holds can be proven.
//!
//! Rooms never wait on this. When Redis goes away they play on (nobody can claim a room while
//! Redis is down); each heartbeat tries again and the first that succeeds renews everything.
//! Only rooms held after a pause wait for a proof; past one record TTL without one, they are
//! closed too.

use super::store::{Beat, Renewal, RoomBeat};
use super::{Cluster, Readiness};
use crate::rooms::RoomStatus;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

/// The heartbeat task; dropping it stops the heartbeats without deregistering (what a
/// crash looks like to the directory).
pub struct Heartbeat {
    task: JoinHandle<()>,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why a process could not join the cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// Another live process runs with this id.
    #[error(
        "process id {id} is already in use by another live process (instance {instance}): give each process its own --process-id"
    )]
    DuplicateId {
        /// The id.
        id: String,
        /// The other process's instance token.
        instance: String,
    },
}

/// The heartbeat's memory between beats.
struct Beats {
    cluster: Arc<Cluster>,
    /// The previous beat reached Redis (`None` before the first).
    up: Option<bool>,
    /// A beat reached Redis once: a directory found empty later means Redis lost its data.
    registered: bool,
    /// Since when rooms have been held after a pause without a proof.
    unproven_since: Option<Instant>,
}

impl Heartbeat {
    /// Registers once (a Redis that cannot be reached is logged and retried by the next
    /// heartbeats; another live process with this id is an error), then keeps beating.
    pub async fn start(cluster: Arc<Cluster>) -> Result<Heartbeat, JoinError> {
        let mut beats = Beats { cluster, up: None, registered: false, unproven_since: None };
        if let Some(Renewal::Duplicate { instance }) = beats.beat().await {
            let id = beats.cluster.config.process_id.clone();
            return Err(JoinError::DuplicateId { id, instance });
        }
        if beats.registered {
            let config = &beats.cluster.config;
            info!(
                process = config.process_id,
                url = config.public_url,
                "registered in the room directory"
            );
        }
        let task = tokio::spawn(async move {
            let config = &beats.cluster.config;
            let mut every = tokio::time::interval(config.heartbeat);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            let mut last = Instant::now();
            loop {
                every.tick().await;
                let gap = last.elapsed();
                if beats.cluster.local_fence().note_gap(gap) {
                    let paused_ms = gap.as_millis();
                    warn!(paused_ms, "heartbeat paused: rooms held until their leases are proven");
                }
                beats.beat().await;
                // Measured from the end of the beat: a Redis call that takes its whole
                // timeout (a partition) is not a pause of this process. A pause during the
                // call is seen by the simulation threads.
                last = Instant::now();
            }
        });
        Ok(Heartbeat { task })
    }

    /// Stops the heartbeats and removes this process and its leases from the directory.
    pub async fn stop(self, cluster: &Cluster) {
        self.task.abort();
        match cluster.store.deregister().await {
            Ok(()) => info!(process = cluster.config.process_id, "left the room directory"),
            Err(error) => warn!(%error, "could not leave the room directory; its records expire"),
        }
    }
}

impl Beats {
    /// One heartbeat; what the directory answered (`None` when it could not be reached).
    async fn beat(&mut self) -> Option<Renewal> {
        let cluster = self.cluster.clone();
        let fence = cluster.local_fence();
        let generation = fence.generation();
        // Drained before the rooms are read: a seat drained was used by a client counted in
        // them (see `admission`).
        let drained = cluster.admissions.drain();
        let rooms: Vec<Arc<RoomStatus>> = (cluster.local.statuses)()
            .into_iter()
            .filter(|room| !room.permanent && !room.lease_lost())
            .collect();
        let beat = Beat {
            record: cluster.record(),
            max_rooms: cluster.local.max_rooms,
            capacity: cluster.local.capacity,
            registered_before: self.registered,
            draining: (cluster.local.draining)(),
            rooms: rooms
                .iter()
                .map(|room| RoomBeat {
                    name: room.name.clone(),
                    epoch: room.lease_epoch.load(Ordering::Acquire),
                    places: room.places() + drained.admitting.get(&room.name).copied().unwrap_or(0),
                    may_retake: fence.live(room),
                    used_seats: drained.used.get(&room.name).cloned().unwrap_or_default(),
                })
                .collect(),
        };
        let answer = cluster.store.renew(&beat).await;
        (cluster.local.beat)(answer.is_ok());
        match answer {
            Ok(renewal) => {
                self.apply(&renewal, &rooms, generation);
                Some(renewal)
            }
            Err(error) => {
                self.unreachable(&error, &rooms, generation);
                None
            }
        }
    }

    fn apply(&mut self, renewal: &Renewal, rooms: &[Arc<RoomStatus>], generation: u64) {
        let cluster = &self.cluster;
        let fence = cluster.local_fence();
        match renewal {
            Renewal::Duplicate { instance } => {
                error!(
                    process = cluster.config.process_id,
                    other = instance,
                    "another live process has this process id: closing every room"
                );
                rooms.iter().for_each(|room| room.lose_lease());
                cluster.set_readiness(Readiness::Duplicate);
            }
            Renewal::Renewed { recovering, epochs } => {
                if self.up == Some(false) {
                    info!(
                        process = cluster.config.process_id,
                        "room directory back: registered again"
                    );
                }
                for (room, epoch) in rooms.iter().zip(epochs) {
                    match epoch {
                        Some(epoch) => {
                            room.lease_epoch.store(*epoch, Ordering::Release);
                            fence.prove(room, generation);
                        }
                        None => {
                            warn!(
                                room = room.name,
                                "room lease lost: another process may host it; closing this copy"
                            );
                            room.lose_lease();
                        }
                    }
                }
                self.up = Some(true);
                self.registered = true;
                self.unproven_since = None;
                let readiness = if *recovering { Readiness::Recovering } else { Readiness::Ready };
                cluster.set_readiness(readiness);
            }
        }
    }

    /// A beat that did not reach Redis: rooms play on, but rooms held after a pause are
    /// closed once they have waited a record TTL for a proof.
    fn unreachable(&mut self, error: &str, rooms: &[Arc<RoomStatus>], generation: u64) {
        let cluster = &self.cluster;
        if self.up != Some(false) {
            warn!(%error, "room directory lost: rooms keep playing, matchmaking is refused until it is back");
        }
        self.up = Some(false);
        cluster.set_readiness(Readiness::Unreachable);
        let fence = cluster.local_fence();
        let held: Vec<_> = rooms.iter().filter(|room| !fence.live(room)).collect();
        if held.is_empty() {
            self.unproven_since = None;
            return;
        }
        let since = *self.unproven_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= cluster.config.record_ttl {
            for room in held {
                warn!(
                    room = room.name,
                    generation, "room held since a pause and unproven: closing it"
                );
                room.lose_lease();
            }
        }
    }
}
