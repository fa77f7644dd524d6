//! The simulation pool: a few threads (one per CPU by default), each running many rooms.
//!
//! Each thread keeps its rooms in a list and runs whichever room's deadline is earliest, when
//! it comes; between deadlines it sleeps on its channel of new rooms, so a room opened by a
//! handshake starts at once. Rooms keep their own deadlines (a room's first tick is due when
//! it opens), so rooms opened at different moments tick at different moments and a thread's
//! work is spread over the period instead of bunched at one instant. The earliest deadline is
//! found by a scan: with a few hundred rooms per thread it costs less than a tick's snapshot,
//! and it needs no bookkeeping when rooms come and go.
//!
//! A new room goes to the thread with the fewest rooms. An empty room (no member for
//! `room_grace`) is closed by its thread, through the [`Directory`], which refuses if a client
//! joined meanwhile.
//!
//! A room is the unit of failure. A panic in the game's code, anywhere in a room's tick (its
//! systems, the `join`, `leave`, `resume` and `message` hooks, its codecs) or while its world
//! is built, is caught around that room alone: the room leaves the directory, its clients are
//! closed with 1011 "room NAME failed and was closed", its world is dropped (a panicked world
//! may be half-updated, so its sessions are not resumable), and the thread goes on with its
//! other rooms' deadlines.

use super::directory::{Directory, Opener};
use super::status::RoomStatus;
use crate::context::Shared;
use crate::game::Game;
use crate::net::flusher::Flusher;
use crate::net::inbox::{Event, WireOf};
use crate::net::outbox::Ending;
use crate::panics::{self, Panic};
use crate::protocol::CloseCode;
use crate::room::{Room, RoomSettings};
use crate::tick_loop::TickLoop;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc as tokio_mpsc;
use tracing::{error, info, warn};

/// The close reason of a failed room's clients: no panic text or internals go to clients.
fn failed_reason(room: &str) -> String {
    format!("room {room} failed and was closed")
}

/// Ends `room` with `code` and `reason`. Dropping its world runs the game's component
/// destructors, so a panic in one is caught here too, rather than ending the thread.
fn end<G: Game>(room: TickLoop<G>, code: CloseCode, reason: &str) {
    let name = room.status().name.clone();
    // Sound: the room is consumed; nothing it held is used after.
    if let Err(panic) = panics::catch(AssertUnwindSafe(|| room.end(code, reason))) {
        error!(room = name, %panic, "the game panicked while its room was closed");
    }
}

/// Makes the game of a new room, given its name.
pub type GameFactory<G> = Arc<dyn Fn(&str) -> G + Send + Sync>;

/// Longest a thread sleeps without looking at the shutdown flag.
const MAX_WAIT: Duration = Duration::from_millis(50);

/// How often each thread adds its CPU time to the tick CPU counter.
const CPU_EVERY: Duration = Duration::from_secs(1);

/// A room handed to a thread: its status and the receiving end of its inbox.
struct NewRoom<G: Game> {
    status: Arc<RoomStatus>,
    events: tokio_mpsc::Receiver<Event<WireOf<G>>>,
}

/// Where new rooms are sent: one channel per thread, and how many rooms each runs.
struct Lane<G: Game> {
    sender: mpsc::Sender<NewRoom<G>>,
    rooms: Arc<AtomicUsize>,
}

/// The simulation threads.
pub struct SimPool {
    threads: Vec<JoinHandle<()>>,
}

impl SimPool {
    /// Starts `config.sim_threads()` threads and the directory that opens rooms on them.
    pub fn start<G: Game>(
        shared: Arc<Shared>,
        factory: GameFactory<G>,
        settings: RoomSettings,
    ) -> std::io::Result<(SimPool, Arc<Directory<WireOf<G>>>)> {
        let count = shared.config.sim_threads();
        let (lanes, arrivals): (Vec<_>, Vec<_>) = (0..count)
            .map(|_| {
                let (sender, receiver) = mpsc::channel();
                let rooms = Arc::new(AtomicUsize::new(0));
                (Lane { sender, rooms: rooms.clone() }, (receiver, rooms))
            })
            .unzip();
        let directory = Arc::new(Directory::new(shared.clone(), opener(lanes, &shared)));
        let mut threads = Vec::with_capacity(count);
        for (index, (arrivals, load)) in arrivals.into_iter().enumerate() {
            let name = format!("tickwire-flush-{index}");
            let (flusher, flushing) =
                Flusher::start(&name, shared.config.flush_threads, shared.clone())?;
            threads.extend(flushing);
            let worker = Worker {
                flusher,
                rooms: Vec::new(),
                arrivals,
                load,
                factory: factory.clone(),
                settings,
                shared: shared.clone(),
                directory: directory.clone(),
                cpu_seen: 0.0,
            };
            let thread = std::thread::Builder::new()
                .name(format!("tickwire-sim-{index}"))
                .spawn(move || worker.run())?;
            threads.push(thread);
        }
        Ok((SimPool { threads }, directory))
    }

    /// Waits for every thread to end (they end once the server is shutting down); whether
    /// all ended normally.
    pub fn join(self) -> bool {
        self.threads.into_iter().map(JoinHandle::join).fold(true, |ok, joined| ok & joined.is_ok())
    }
}

/// The directory's way to start a room: a bounded inbox, sent to the least busy thread.
fn opener<G: Game>(lanes: Vec<Lane<G>>, shared: &Shared) -> Opener<WireOf<G>> {
    let capacity = (shared.config.room_capacity() * 8).max(1024);
    Box::new(move |status| {
        let lane = lanes.iter().min_by_key(|lane| lane.rooms.load(Ordering::Relaxed));
        let lane = lane.ok_or("no simulation thread")?;
        let (inbox, events) = tokio_mpsc::channel(capacity);
        lane.rooms.fetch_add(1, Ordering::Relaxed);
        if lane.sender.send(NewRoom { status, events }).is_err() {
            lane.rooms.fetch_sub(1, Ordering::Relaxed);
            return Err("the simulation has stopped".into());
        }
        Ok(inbox)
    })
}

/// One simulation thread.
struct Worker<G: Game> {
    rooms: Vec<TickLoop<G>>,
    /// Writes this thread's ticks onto the sockets; it ends once the worker and its rooms
    /// are gone.
    flusher: Flusher,
    arrivals: mpsc::Receiver<NewRoom<G>>,
    load: Arc<AtomicUsize>,
    factory: GameFactory<G>,
    settings: RoomSettings,
    shared: Arc<Shared>,
    directory: Arc<Directory<WireOf<G>>>,
    cpu_seen: f64,
}

impl<G: Game> Worker<G> {
    /// Runs rooms' ticks as they come due until the server shuts down, then closes every
    /// client with 1001.
    fn run(mut self) {
        if self.shared.config.realtime_tick {
            match crate::tick_loop::make_realtime() {
                Ok(()) => info!("simulation thread runs with real-time (FIFO) scheduling"),
                Err(error) => warn!(%error, "simulation thread left at normal priority"),
            }
        }
        let mut next_cpu = Instant::now() + CPU_EVERY;
        let mut last_turn = Instant::now();
        while !self.shared.is_shutting_down() {
            while let Ok(room) = self.arrivals.try_recv() {
                self.open(room);
            }
            let now = Instant::now();
            if self.shared.fence.note_gap(now - last_turn) {
                let paused_ms = (now - last_turn).as_millis();
                warn!(paused_ms, "process paused: rooms held until their leases are proven");
            }
            last_turn = now;
            self.end_lost_rooms();
            let fence = &self.shared.fence;
            let next = (self.rooms.iter().enumerate())
                .filter(|(_, room)| fence.live(room.status()))
                .min_by_key(|(_, room)| room.deadline());
            match next.map(|(index, room)| (index, room.deadline())) {
                Some((index, deadline)) if deadline <= now => self.run_room(index),
                next => {
                    let wait =
                        next.map_or(MAX_WAIT, |(_, deadline)| (deadline - now).min(MAX_WAIT));
                    if let Ok(room) = self.arrivals.recv_timeout(wait) {
                        self.open(room);
                    }
                }
            }
            if now >= next_cpu {
                self.record_cpu();
                next_cpu = now + CPU_EVERY;
            }
        }
        for room in self.rooms.drain(..) {
            end(room, CloseCode::GoingAway, "server shutting down");
        }
    }

    /// Builds a new room's world on this thread; its first tick is due now.
    fn open(&mut self, NewRoom { status, mut events }: NewRoom<G>) {
        // Sound: what the game's code could leave half-built (the game value, a world) is
        // dropped with the panic's payload and never used.
        let built = panics::catch(AssertUnwindSafe(|| {
            Room::new((self.factory)(&status.name), self.settings)
        }));
        let reason = match built {
            Ok(Ok(room)) => {
                info!(room = status.name, "room opened");
                let shared = self.shared.clone();
                let room = TickLoop::new(room, shared, status, events, Instant::now());
                self.rooms.push(room.with_flusher(self.flusher.clone()));
                return;
            }
            Ok(Err(reason)) => {
                error!(room = status.name, %reason, "room could not be opened");
                format!("room {} could not be opened", status.name)
            }
            Err(panic) => {
                self.shared.metrics.room_panics.inc();
                error!(room = status.name, %panic, "room failed: the game panicked building it");
                panic.log_backtrace(format!("room {}", status.name));
                failed_reason(&status.name)
            }
        };
        self.directory.remove(&status);
        self.load.fetch_sub(1, Ordering::Relaxed);
        // The connections that joined meanwhile are told, not left waiting on a dropped inbox.
        events.close();
        while let Ok(event) = events.try_recv() {
            if let Event::Join { outbox, .. } = event {
                self.shared.metrics.disconnect(CloseCode::InternalError.label());
                outbox.end(Ending::Close(CloseCode::InternalError, reason.clone()));
            }
        }
    }

    /// Runs room `index`'s due tick, and closes it if it has been empty for the grace period.
    fn run_room(&mut self, index: usize) {
        let room = &mut self.rooms[index];
        // Sound: on a panic the room (its world, its game, its clients' views) is closed and
        // dropped, never ticked again. What outlives it is touched by the tick only outside
        // the game's code (outboxes, the buffer pool) or through atomics (metrics, status).
        if let Err(panic) = panics::catch(AssertUnwindSafe(|| room.run_due())) {
            self.fail(index, &panic);
            return;
        }
        let grace = self.shared.config.room_grace;
        let expired = room.empty_for(Instant::now()).is_some_and(|empty| empty >= grace);
        if expired && self.directory.close_if_empty(room.status()) {
            let room = self.rooms.swap_remove(index);
            info!(room = room.status().name, "room closed: empty for the grace period");
            end(room, CloseCode::GoingAway, "room closed");
            self.load.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Closes the rooms whose cluster lease was found lost (another process may host them
    /// now): their clients get 4008 and matchmake again.
    fn end_lost_rooms(&mut self) {
        let mut index = 0;
        while index < self.rooms.len() {
            if !self.rooms[index].status().lease_lost() {
                index += 1;
                continue;
            }
            let room = self.rooms.swap_remove(index);
            self.directory.remove(room.status());
            warn!(room = room.status().name, "room closed: its lease was lost");
            self.shared.metrics.room_leases_lost.inc();
            end(room, CloseCode::RoomLost, crate::protocol::ROOM_LOST_REASON);
            self.load.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Closes room `index`, whose game panicked: it leaves the directory at once (the next
    /// join opens the name afresh), and its clients are closed with 1011.
    fn fail(&mut self, index: usize, panic: &Panic) {
        let room = self.rooms.swap_remove(index);
        let (name, tick) = (room.status().name.clone(), room.due_tick());
        error!(room = name, %tick, %panic, "room failed: the game panicked; room closed");
        panic.log_backtrace(format!("room {name}, tick {tick}"));
        self.shared.metrics.room_panics.inc();
        self.directory.remove(room.status());
        self.load.fetch_sub(1, Ordering::Relaxed);
        // Dropping the world runs the game's component destructors: contained the same way.
        let reason = failed_reason(&name);
        if let Err(panic) = panics::catch(AssertUnwindSafe(|| room.fail(&reason))) {
            error!(room = name, %panic, "the failed room's world panicked again while dropped");
        }
    }

    /// Adds this thread's CPU time since the last call to the tick CPU counter.
    fn record_cpu(&mut self) {
        let used = crate::metrics::thread_cpu_seconds();
        if used > self.cpu_seen {
            self.shared.metrics.tick_cpu_seconds.inc_by(used - self.cpu_seen);
            self.cpu_seen = used;
        }
    }
}
