//! Draining: an operator's way to empty a server before it stops. While draining, a new
//! player is refused (1001 "server draining…", [`crate::rooms::Refusal::Draining`]; a
//! matchmaking client places itself again), `/readyz` answers `503`, clients in play stay
//! (and may resume), and once the last client and waiting session are gone the server shuts
//! down as on SIGTERM.

use crate::context::Shared;
use crate::net::inbox::Wire;
use crate::rooms::Directory;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often a draining server looks whether it is empty.
pub const DRAIN_POLL: Duration = Duration::from_millis(250);

/// Completes once the server is draining and holds no connection and no session waiting to
/// be resumed. Cancel safe: it only sleeps and reads atomics.
pub async fn until_drained<W: Wire>(shared: Arc<Shared>, rooms: Arc<Directory<W>>) {
    loop {
        tokio::time::sleep(DRAIN_POLL).await;
        let empty = shared.connections.load(Ordering::Acquire) == 0
            && rooms.list().iter().all(|room| room.waiting() == 0);
        if shared.is_draining() && empty {
            tracing::info!("drained: the last client is gone, shutting down");
            return;
        }
    }
}
