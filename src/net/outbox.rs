//! A client's outbox: what the tick hands to the client's socket writer.
//!
//! Three kinds of traffic, each with its overflow policy, and a probe:
//! - **latest wins** for snapshots: one slot. The tick replaces an unsent snapshot with the
//!   newest, taking the old one back first ([`Outbox::reclaim_snapshot`]) so it knows what the
//!   client really holds. The tick disconnects a client whose slot stays full too long.
//! - **must arrive** for control messages (welcome, pongs): a short FIFO. The welcome is the
//!   first message and always fits: nothing is handed to the writer before it, so a pong
//!   queued while the tick had not yet seen the join waits behind it. A pong that finds the
//!   queue full is dropped (pongs only measure round trips, and a client that lets 16 pile up
//!   is not reading anyway).
//! - **must arrive, or the client goes** for the game's events: a FIFO of its own, behind
//!   the welcome like control messages. An event that finds it full is not dropped: the tick
//!   closes the client as too slow (4001), since a gap in the events would go unnoticed.
//! - **a read probe**, at most one: a WebSocket ping stamped with a tick, written behind the
//!   snapshots of its tick. The client's pong proves it read that far ([`Outbox::answered`]):
//!   the kernel's buffers (the client's receive buffer most of all) can absorb minutes of small
//!   snapshots, so a socket that still takes writes says nothing of whether anyone reads.
//!
//! On a plain-TCP connection the tick does not wake the writer at all when it can help it:
//! [`Outbox::deliver`] writes what is queued straight onto the socket ([`DirectSocket`]) when
//! the writer holds nothing, and wakes the writer only when the socket is full or busy. What
//! is written directly is taken exactly as if the writer had taken it: in the same order
//! (control, events, snapshot), and a snapshot the kernel took only in part counts as taken.
//!
//! This is a `std::sync::Mutex`, not a tokio one: the tick thread is not async and every
//! critical section is a few pointer moves, or one non-blocking `writev`.

use super::direct::{DirectSocket, MAX_DIRECT_FRAMES, Written};
use super::wsframe::opcode;
use crate::protocol::CloseCode;
use axum::body::Bytes;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// How the connection should end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Send a close frame with this code and reason, then drop the socket.
    Close(CloseCode, String),
    /// The peer closed: flush the close reply and drop the socket.
    PeerClosed,
}

#[derive(Default)]
struct State {
    control: VecDeque<Bytes>,
    events: VecDeque<Bytes>,
    snapshot: Option<Bytes>,
    ending: Option<Ending>,
    /// Whether the welcome is queued; until then the writer is handed nothing.
    welcomed: bool,
    /// The socket the tick may write to directly, while the connection is open.
    direct: Option<Arc<DirectSocket>>,
    /// The writer took frames it has not finished writing: nothing is written directly
    /// meanwhile, or it would overtake them.
    busy: bool,
    /// A direct write left a remainder on the socket for the writer to complete.
    drain: bool,
    /// The payload of a WebSocket pong owed to the client's ping (plain TCP: the read
    /// thread answers pings through the writer).
    pong: Option<Bytes>,
    /// The payload of a read probe (a ping) to write behind the next snapshot.
    probe: Option<[u8; PROBE_BYTES]>,
}

/// Payload bytes of a read probe: its tick, big-endian.
pub const PROBE_BYTES: usize = 4;

/// One client's outbox.
pub struct Outbox {
    state: Mutex<State>,
    control_capacity: usize,
    event_capacity: usize,
    /// Wakes the writer when there is something to send.
    wake: Notify,
    /// Wakes a writer blocked in socket I/O when the connection must end.
    ending: Notify,
    ended: AtomicBool,
    /// The newest tick a read probe was answered for (0: none yet).
    answered: AtomicU32,
}

/// What the writer takes in one go: control messages, then events, then the latest snapshot.
#[derive(Debug, Default)]
pub struct Batch {
    /// Messages to write, in order.
    pub frames: Vec<Bytes>,
    /// Set when the connection must end after `frames`.
    pub ending: Option<Ending>,
    /// The socket holds the remainder of a direct write: flush it even if `frames` is empty.
    pub drain: bool,
    /// A WebSocket pong to send first.
    pub pong: Option<Bytes>,
    /// A read probe's payload: a WebSocket ping to send after `frames`.
    pub probe: Option<[u8; PROBE_BYTES]>,
}

/// What [`Outbox::deliver`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delivered {
    /// Messages written directly.
    pub frames: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Whether the writer was woken instead (or as well, to complete a partial write).
    pub woke: bool,
}

impl Outbox {
    /// An empty outbox holding up to `control_capacity` control messages and
    /// `event_capacity` events.
    pub fn new(control_capacity: usize, event_capacity: usize) -> Outbox {
        Outbox {
            state: Mutex::new(State::default()),
            control_capacity: control_capacity.max(1),
            event_capacity: event_capacity.max(1),
            wake: Notify::new(),
            ending: Notify::new(),
            ended: AtomicBool::new(false),
            answered: AtomicU32::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state inconsistent (every update
        // is a single assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes back the snapshot the writer has not taken yet; `true` if there was one.
    pub fn reclaim_snapshot(&self) -> bool {
        self.lock().snapshot.take().is_some()
    }

    /// Puts the newest snapshot in the slot (the tick reclaims the old one first) without
    /// waking the writer: call [`Outbox::wake`] once every client's snapshot is in place.
    pub fn put_snapshot(&self, frame: Bytes) {
        self.lock().snapshot = Some(frame);
    }

    /// Wakes the writer for what was put since it last looked.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Asks for a read probe stamped `tick`, written behind the next snapshot handed over (a
    /// probe not yet written is replaced).
    pub fn put_probe(&self, tick: u32) {
        self.lock().probe = Some(tick.to_be_bytes());
    }

    /// The client answered a ping with `payload`: a probe's answer moves [`Outbox::answered`]
    /// forward; any other pong is ignored.
    pub fn pong_received(&self, payload: &[u8]) {
        if let Ok(tick) = <[u8; PROBE_BYTES]>::try_from(payload) {
            self.answered.fetch_max(u32::from_be_bytes(tick), Ordering::AcqRel);
        }
    }

    /// The newest tick whose read probe the client answered (0: none yet).
    pub fn answered(&self) -> u32 {
        self.answered.load(Ordering::Acquire)
    }

    /// Lets [`Outbox::deliver`] write to `socket` directly.
    pub fn attach(&self, socket: Arc<DirectSocket>) {
        self.lock().direct = Some(socket);
    }

    /// Ends direct writes: once this returns, only the writer writes to the socket (its
    /// close frame must be the last thing on the wire).
    pub fn detach(&self) {
        self.lock().direct = None;
    }

    /// Hands over what was queued since the writer last looked: written straight onto the
    /// socket when it is attached, the writer holds nothing, and the kernel takes it without
    /// blocking; otherwise the writer is woken, as [`Outbox::wake`] does.
    pub fn deliver(&self) -> Delivered {
        let mut state = self.lock();
        let count =
            state.control.len() + state.events.len() + usize::from(state.snapshot.is_some());
        if count == 0 && state.probe.is_none() {
            return Delivered::default();
        }
        let open = state.welcomed
            && state.pong.is_none()
            && !state.busy
            && !state.drain
            && state.ending.is_none()
            && count <= MAX_DIRECT_FRAMES;
        let Some(direct) = state.direct.clone().filter(|_| open) else {
            drop(state);
            self.wake.notify_one();
            return Delivered { woke: true, ..Delivered::default() };
        };
        let State { control, events, snapshot, probe, .. } = &mut *state;
        let frames = control.iter().chain(events.iter()).chain(snapshot.iter());
        let bytes = frames.clone().map(|frame| frame.len() as u64).sum();
        let binary = frames.map(|frame| (opcode::BINARY, &frame[..]));
        let ping = probe.as_ref().map(|payload| (opcode::PING, &payload[..]));
        let written = direct.try_send_frames(binary.chain(ping));
        if written == Written::Not {
            drop(state);
            self.wake.notify_one();
            return Delivered { woke: true, ..Delivered::default() };
        }
        control.clear();
        events.clear();
        *snapshot = None;
        *probe = None;
        let woke = written == Written::Partly;
        if woke {
            state.drain = true;
            drop(state);
            self.wake.notify_one();
        }
        Delivered { frames: count as u64, bytes, woke }
    }

    /// The writer finished writing what it took: direct writes may resume.
    pub fn written(&self) {
        self.lock().busy = false;
    }

    /// Queues the welcome ahead of anything queued before it and opens the outbox.
    pub fn push_welcome(&self, frame: Bytes) {
        let mut state = self.lock();
        state.control.push_front(frame);
        state.welcomed = true;
        drop(state);
        self.wake.notify_one();
    }

    /// Owes the client a WebSocket pong with `payload` (a newer ping replaces an older one,
    /// as RFC 6455 allows).
    pub fn push_pong(&self, payload: Bytes) {
        self.lock().pong = Some(payload);
        self.wake.notify_one();
    }

    /// Queues a control message; `false` if the queue is full and it was dropped.
    pub fn push_control(&self, frame: Bytes) -> bool {
        let queued = self.push_control_quiet(frame);
        if queued {
            self.wake.notify_one();
        }
        queued
    }

    /// Queues a control message without waking the writer: the caller hands it over with
    /// [`Outbox::deliver`]. `false` if the queue is full and it was dropped.
    pub fn push_control_quiet(&self, frame: Bytes) -> bool {
        let mut state = self.lock();
        if state.control.len() >= self.control_capacity {
            return false;
        }
        state.control.push_back(frame);
        true
    }

    /// Queues one of the game's events without waking the writer (the tick wakes every
    /// writer once per tick); `false` if the queue is full, and then nothing was queued.
    pub fn push_event(&self, frame: Bytes) -> bool {
        let mut state = self.lock();
        if state.events.len() >= self.event_capacity {
            return false;
        }
        state.events.push_back(frame);
        true
    }

    /// Asks the writer to end the connection. The first ending asked for wins.
    pub fn end(&self, ending: Ending) {
        let mut state = self.lock();
        if state.ending.is_none() {
            state.ending = Some(ending);
        }
        drop(state);
        self.ended.store(true, Ordering::Release);
        self.wake.notify_one();
        self.ending.notify_waiters();
    }

    /// The ending asked for, if any.
    pub fn take_ending(&self) -> Option<Ending> {
        self.lock().ending.take()
    }

    /// Whether an ending was asked for.
    pub fn is_ending(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Waits until there is something to write, then takes all of it; until the writer calls
    /// [`Outbox::written`], nothing is written directly.
    ///
    /// # Cancel safety
    /// Cancel safe: nothing is taken until the future completes.
    pub async fn next_batch(&self) -> Batch {
        loop {
            {
                let mut state = self.lock();
                let mut batch = Batch::default();
                if state.welcomed {
                    let State { control, events, .. } = &mut *state;
                    batch.frames.extend(control.drain(..).chain(events.drain(..)));
                }
                if state.ending.is_some() {
                    batch.ending = state.ending.clone();
                } else if let Some(snapshot) = state.snapshot.take() {
                    batch.frames.push(snapshot);
                }
                batch.drain = std::mem::take(&mut state.drain);
                batch.pong = state.pong.take();
                if batch.ending.is_none() {
                    batch.probe = state.probe.take();
                }
                let any = !batch.frames.is_empty()
                    || batch.pong.is_some()
                    || batch.probe.is_some()
                    || batch.drain;
                if any || batch.ending.is_some() {
                    state.busy = true;
                    return batch;
                }
            }
            // notify_one stores a permit when nobody waits, so a put between the check above
            // and this await is not lost.
            self.wake.notified().await;
        }
    }

    /// Completes once an ending is asked for.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn ended(&self) {
        loop {
            let notified = self.ending.notified();
            if self.is_ending() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn control_comes_before_the_latest_snapshot() {
        let outbox = Outbox::new(4, 4);
        outbox.put_snapshot(Bytes::from_static(b"old"));
        assert!(outbox.reclaim_snapshot());
        outbox.put_snapshot(Bytes::from_static(b"new"));
        outbox.wake();
        outbox.push_welcome(Bytes::from_static(b"welcome"));
        assert!(outbox.push_control(Bytes::from_static(b"pong")));
        let batch = outbox.next_batch().await;
        let expected = [&b"welcome"[..], b"pong", b"new"].map(Bytes::from_static);
        assert_eq!(batch.frames, expected);
        assert!(!outbox.reclaim_snapshot(), "the writer took it");
    }

    #[tokio::test]
    async fn nothing_leaves_before_the_welcome() {
        let outbox = std::sync::Arc::new(Outbox::new(4, 4));
        assert!(outbox.push_control(Bytes::from_static(b"early pong")));
        let writer = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.next_batch().await }
        });
        tokio::task::yield_now().await;
        assert!(!writer.is_finished(), "a pong alone must wait for the welcome");
        outbox.push_welcome(Bytes::from_static(b"welcome"));
        let batch = writer.await.expect("the writer wakes");
        let expected = [&b"welcome"[..], b"early pong"].map(Bytes::from_static);
        assert_eq!(batch.frames, expected);
    }

    #[tokio::test]
    async fn control_queue_is_bounded() {
        let outbox = Outbox::new(2, 2);
        assert!(outbox.push_control(Bytes::new()));
        assert!(outbox.push_control(Bytes::new()));
        assert!(!outbox.push_control(Bytes::new()));
    }

    #[tokio::test]
    async fn events_keep_their_order_wait_for_the_welcome_and_are_bounded() {
        let outbox = Outbox::new(4, 3);
        for event in [&b"e1"[..], b"e2", b"e3"] {
            assert!(outbox.push_event(Bytes::from_static(event)));
        }
        assert!(!outbox.push_event(Bytes::from_static(b"e4")), "the fourth does not fit");
        outbox.put_snapshot(Bytes::from_static(b"snapshot"));
        outbox.push_welcome(Bytes::from_static(b"welcome"));
        let batch = outbox.next_batch().await;
        let expected = [&b"welcome"[..], b"e1", b"e2", b"e3", b"snapshot"].map(Bytes::from_static);
        assert_eq!(batch.frames, expected);
        assert!(outbox.push_event(Bytes::from_static(b"e4")), "room again once written");
    }

    #[tokio::test]
    async fn ending_wakes_the_writer_and_drops_the_snapshot() {
        let outbox = std::sync::Arc::new(Outbox::new(2, 2));
        let waiter = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.ended().await }
        });
        outbox.put_snapshot(Bytes::from_static(b"s"));
        outbox.end(Ending::Close(CloseCode::TooSlow, "slow".into()));
        outbox.end(Ending::PeerClosed);
        waiter.await.expect("ended() returns");
        let batch = outbox.next_batch().await;
        assert!(batch.frames.is_empty());
        assert_eq!(batch.ending, Some(Ending::Close(CloseCode::TooSlow, "slow".into())));
    }
}
