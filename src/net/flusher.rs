//! The thread that writes a simulation thread's ticks onto its clients' sockets.
//!
//! At the end of a tick the room hands its clients' outboxes over in one message; this thread
//! calls [`Outbox::deliver`] on each: one non-blocking `writev` per client on plain TCP, a
//! writer wakeup otherwise. Over loopback a write also runs the receiver's TCP processing, a
//! few microseconds a client, so on the tick thread 2,000 clients' writes would add
//! milliseconds to every tick; here they overlap the wait for the next deadline instead, and
//! the tick's own time is only the simulation and the snapshots.
//!
//! The queue is unbounded in messages but holds at most one per room tick, and a room whose
//! flush has not finished when its next tick starts takes the unsent snapshots back
//! (`reclaim_snapshot`), exactly as for a slow client.

use super::outbox::Outbox;
use crate::context::Shared;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// One tick's outboxes, to deliver in order.
pub type Flush = Vec<Arc<Outbox>>;

/// A handle to a flusher thread; the thread ends when every handle is dropped.
#[derive(Clone)]
pub struct Flusher {
    sender: Sender<Flush>,
    shared: Arc<Shared>,
}

impl Flusher {
    /// Starts a thread named `name`.
    pub fn start(name: String, shared: Arc<Shared>) -> std::io::Result<(Flusher, JoinHandle<()>)> {
        let (sender, receiver) = channel();
        let thread = std::thread::Builder::new().name(name).spawn({
            let shared = shared.clone();
            move || run(&receiver, &shared)
        })?;
        Ok((Flusher { sender, shared }, thread))
    }

    /// Hands `outboxes` over; delivers them on this thread if the flusher has stopped.
    pub fn flush(&self, outboxes: Flush) {
        if let Err(returned) = self.sender.send(outboxes) {
            deliver(&returned.0, &self.shared);
        }
    }
}

fn run(receiver: &Receiver<Flush>, shared: &Shared) {
    // Under `--realtime-tick` the writes are part of getting a tick out: left at normal
    // priority they wait behind everything the real-time tick preempts.
    if shared.config.realtime_tick
        && let Err(error) = crate::tick_loop::make_realtime()
    {
        tracing::debug!(%error, "flusher thread left at normal priority");
    }
    while let Ok(outboxes) = receiver.recv() {
        deliver(&outboxes, shared);
    }
}

/// Delivers every outbox and counts what was written.
pub fn deliver(outboxes: &[Arc<Outbox>], shared: &Shared) {
    let (mut frames, mut bytes) = (0, 0);
    for outbox in outboxes {
        let delivered = outbox.deliver();
        frames += delivered.frames;
        bytes += delivered.bytes;
    }
    shared.metrics.frames_out.inc_by(frames);
    shared.metrics.frames_direct.inc_by(frames);
    shared.metrics.bytes_out.inc_by(bytes);
}
