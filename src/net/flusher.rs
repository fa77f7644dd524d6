//! The threads that write a simulation thread's ticks onto its clients' sockets.
//!
//! At the end of a tick the room hands its clients' outboxes over in one message; a flusher
//! thread calls [`Outbox::deliver`] on each: one non-blocking `writev` per client on plain
//! TCP, a writer wakeup otherwise. With `--flush-threads N` a tick's clients are split into
//! N contiguous shares, each written by a thread of its own, so on a machine with the cores
//! the last client in line gets its snapshot N times sooner. Over loopback a write also runs the receiver's TCP processing, a
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

/// A handle to a simulation thread's flusher threads; they end when every handle is dropped.
#[derive(Clone)]
pub struct Flusher {
    senders: Vec<Sender<Flush>>,
    shared: Arc<Shared>,
}

impl Flusher {
    /// Starts `threads` threads (at least one) named `name` and their index.
    pub fn start(
        name: &str,
        threads: usize,
        shared: Arc<Shared>,
    ) -> std::io::Result<(Flusher, Vec<JoinHandle<()>>)> {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for index in 0..threads.max(1) {
            let (sender, receiver) = channel();
            let thread = std::thread::Builder::new().name(format!("{name}-{index}")).spawn({
                let shared = shared.clone();
                move || run(&receiver, &shared)
            })?;
            senders.push(sender);
            handles.push(thread);
        }
        Ok((Flusher { senders, shared }, handles))
    }

    /// Hands `outboxes` over, a contiguous share to each thread; delivers a share on this
    /// thread if its flusher has stopped.
    pub fn flush(&self, mut outboxes: Flush) {
        let share = outboxes.len().div_ceil(self.senders.len()).max(1);
        for sender in &self.senders {
            if outboxes.is_empty() {
                break;
            }
            let rest = outboxes.split_off(share.min(outboxes.len()));
            if let Err(returned) = sender.send(std::mem::replace(&mut outboxes, rest)) {
                deliver(&returned.0, &self.shared);
            }
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
