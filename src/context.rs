//! What the simulation threads and the connection tasks share: the configuration, the
//! metrics, the read threads' handle, and a few atomics that report the server's state (each
//! room's own are in [`crate::rooms::RoomStatus`]). Imports neither side.

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::net::reader::ReadPool;
use crate::rooms::Fence;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

/// State shared by the simulation threads and the connection tasks.
pub struct Shared {
    /// The configuration in force.
    pub config: ServerConfig,
    /// Exported metrics.
    pub metrics: Metrics,
    /// Open connections (including one being refused for capacity).
    pub connections: AtomicUsize,
    /// Next connection id.
    pub next_client_id: AtomicU32,
    /// Set once shutdown starts.
    pub shutting_down: AtomicBool,
    /// The threads that read plain-TCP sockets, started with the first connection.
    pub readers: ReadPool,
    /// Decides who may join, before the upgrade; `None`: everyone joins as a guest.
    pub authenticator: Option<std::sync::Arc<dyn crate::auth::Authenticator>>,
    /// The live connection of each signed-in user, across the rooms.
    pub logins: crate::auth::Logins,
    /// The last closes sent to clients, for the operator console.
    pub closes: crate::admin::CloseLog,
    /// Set by an operator's drain (`POST /admin/api/drain`): no new player here, and the
    /// server shuts down once its last client is gone.
    pub draining: AtomicBool,
    /// In a cluster, holds the rooms after a pause until their leases are proven again.
    pub fence: Arc<Fence>,
}

impl Shared {
    /// Fresh state for a server with this configuration.
    pub fn new(config: ServerConfig) -> Shared {
        let metrics = Metrics::new();
        metrics.limits(&config);
        let readers = ReadPool::new(config.read_threads(), config.read_interval)
            .counting(metrics.read_wakeups.clone());
        let fence = Arc::new(Fence::new(config.cluster.as_ref().map(|cluster| cluster.liveness())));
        Shared {
            fence,
            readers,
            metrics,
            config,
            connections: AtomicUsize::new(0),
            next_client_id: AtomicU32::new(1),
            shutting_down: AtomicBool::new(false),
            authenticator: None,
            logins: crate::auth::Logins::default(),
            closes: crate::admin::CloseLog::default(),
            draining: AtomicBool::new(false),
        }
    }

    /// Whether an operator asked this server to drain.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Whether shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}
