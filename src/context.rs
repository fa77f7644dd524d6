//! What the tick thread and the connection tasks share: the configuration, the metrics, and
//! a few atomics that report the server's state. Owns no behaviour, imports neither side.

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// State shared by the tick thread and the connection tasks.
pub struct Shared {
    /// The configuration in force.
    pub config: ServerConfig,
    /// Exported metrics.
    pub metrics: Metrics,
    /// The latest tick run.
    pub tick: AtomicU32,
    /// Clients in the world at the latest tick.
    pub clients_in_world: AtomicU32,
    /// Open connections (including one being refused for capacity).
    pub connections: AtomicUsize,
    /// Next connection id.
    pub next_client_id: AtomicU32,
    /// Set once shutdown starts.
    pub shutting_down: AtomicBool,
    epoch: Instant,
    last_tick_micros: AtomicU64,
}

impl Shared {
    /// Fresh state for a server with this configuration.
    pub fn new(config: ServerConfig) -> Shared {
        Shared {
            config,
            metrics: Metrics::new(),
            tick: AtomicU32::new(0),
            clients_in_world: AtomicU32::new(0),
            connections: AtomicUsize::new(0),
            next_client_id: AtomicU32::new(1),
            shutting_down: AtomicBool::new(false),
            epoch: Instant::now(),
            last_tick_micros: AtomicU64::new(0),
        }
    }

    /// Notes that a tick just finished (for `/healthz`).
    pub fn mark_tick(&self) {
        self.last_tick_micros.store(self.epoch.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Time since the last tick finished.
    pub fn since_last_tick(&self) -> Duration {
        let last = Duration::from_micros(self.last_tick_micros.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }

    /// Whether shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}
