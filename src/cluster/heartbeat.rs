//! Registers this process and its rooms in the directory every heartbeat. Records live for
//! the record TTL, so a process that dies (or loses Redis) leaves the directory by itself;
//! [`Heartbeat::stop`] deregisters at once on a clean shutdown.
//!
//! Rooms never wait on this: a heartbeat reads the rooms' atomics and writes to Redis from
//! a tokio task. When Redis goes away the rooms play on; each heartbeat tries again and the
//! first that succeeds re-registers everything (one log line on loss, one on return).

use super::Cluster;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

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

impl Heartbeat {
    /// Registers once (a failure is logged, and retried by the next heartbeats), then keeps
    /// beating in the background.
    pub async fn start(cluster: Arc<Cluster>) -> Heartbeat {
        let mut up = beat(&cluster, None).await;
        if up {
            let config = &cluster.config;
            info!(
                process = config.process_id,
                url = config.public_url,
                "registered in the room directory"
            );
        }
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(cluster.config.heartbeat);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                up = beat(&cluster, Some(up)).await;
            }
        });
        Heartbeat { task }
    }

    /// Stops the heartbeats and removes this process and its rooms from the directory.
    pub async fn stop(self, cluster: &Cluster) {
        self.task.abort();
        match cluster.store.deregister(&cluster.record()).await {
            Ok(()) => info!(process = cluster.config.process_id, "left the room directory"),
            Err(error) => warn!(%error, "could not leave the room directory; its records expire"),
        }
    }
}

/// One heartbeat; whether it reached Redis. `was_up` is the previous one's (`None` at start).
async fn beat(cluster: &Cluster, was_up: Option<bool>) -> bool {
    match cluster.store.register(&cluster.record()).await {
        Ok(()) => {
            if was_up == Some(false) {
                info!(process = cluster.config.process_id, "room directory back: registered again");
            }
            true
        }
        Err(error) => {
            if was_up != Some(false) {
                warn!(%error, "room directory lost: rooms keep playing, matchmaking is refused until it is back");
            }
            false
        }
    }
}
