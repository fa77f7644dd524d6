//! The fixed-rate driver, on its own thread: inbox → `room.step` → replication → outboxes.
//!
//! Deadline pacing: tick `n` is due at `start + n × period`. The loop sleeps until the
//! deadline, runs the tick, and when a tick overran so far that deadlines were missed it
//! counts the overrun and skips the missed deadlines rather than running a burst of ticks.
//! The tick never awaits a socket: it only swaps bytes into outboxes.

use crate::context::Shared;
use crate::game::{ClientInfo, Game};
use crate::input::Queued;
use crate::net::inbox::Event;
use crate::net::outbox::{Ending, Outbox};
use crate::net::pool::BufferPool;
use crate::protocol::CloseCode;
use crate::replication::ClientView;
use crate::room::Room;
use crate::tick::Tick;
use axum::body::Bytes;
use bevy_ecs::entity::Entity;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

struct Client {
    info: ClientInfo,
    entity: Entity,
    outbox: Arc<Outbox>,
    view: ClientView,
    /// Consecutive ticks whose snapshot was taken back unsent.
    lag: u32,
    /// Size of the last snapshot built, to size the next buffer.
    last_size: usize,
}

/// The tick loop's state.
pub struct TickLoop<G: Game> {
    room: Room<G>,
    clients: HashMap<u32, Client>,
    events: mpsc::Receiver<Event<G::Input>>,
    shared: Arc<Shared>,
    /// Snapshot buffers, back from the writers once sent.
    buffers: Arc<BufferPool>,
}

impl<G: Game> TickLoop<G> {
    /// A tick loop for a room.
    pub fn new(
        room: Room<G>,
        shared: Arc<Shared>,
        events: mpsc::Receiver<Event<G::Input>>,
    ) -> TickLoop<G> {
        // A client has at most two snapshots alive: one in its outbox, one being written.
        let buffers = BufferPool::new(shared.config.max_clients.saturating_mul(2));
        TickLoop { room, clients: HashMap::new(), events, shared, buffers }
    }

    /// Runs ticks until the server shuts down, then closes every client with 1001.
    pub fn run(mut self) {
        if self.shared.config.realtime_tick {
            match make_realtime() {
                Ok(()) => info!("tick thread runs with real-time (FIFO) scheduling"),
                Err(error) => warn!(%error, "tick thread left at normal priority"),
            }
        }
        let mut pacer = Pacer::new(Instant::now(), self.shared.config.tick_period());
        let mut tick = Tick(1);
        let mut last_warning: Option<Instant> = None;
        while !self.shared.is_shutting_down() {
            let now = Instant::now();
            if pacer.deadline() > now {
                std::thread::sleep(pacer.deadline() - now);
            }
            let started = Instant::now();
            let lateness = started.saturating_duration_since(pacer.deadline());
            self.shared.metrics.tick_lateness.observe(lateness.as_secs_f64());
            self.tick(tick);
            let finished = Instant::now();
            self.shared.metrics.tick_duration.observe((finished - started).as_secs_f64());
            let missed = pacer.finish(finished);
            if missed > 0 {
                self.shared.metrics.overruns.inc();
                if last_warning.is_none_or(|at| finished - at > Duration::from_secs(5)) {
                    let took_ms = (finished - started).as_secs_f64() * 1e3;
                    warn!(%tick, took_ms, missed, "tick overran its period; deadlines skipped");
                    last_warning = Some(finished);
                }
            }
            if tick.0.is_multiple_of(u32::from(self.shared.config.tick_rate_hz)) {
                self.record_thread_cpu();
            }
            tick = tick.next();
        }
        for client in self.clients.values() {
            client.outbox.end(Ending::Close(CloseCode::GoingAway, "server shutting down".into()));
        }
    }

    /// Brings the tick thread's CPU counter up to date (called about once a second).
    fn record_thread_cpu(&self) {
        let counter = &self.shared.metrics.tick_cpu_seconds;
        let used = crate::metrics::thread_cpu_seconds();
        if used > counter.get() {
            counter.inc_by(used - counter.get());
        }
    }

    /// One tick: events, simulation, replication.
    pub fn tick(&mut self, tick: Tick) {
        self.drain_events();
        let stats = self.room.step(tick);
        self.shared.metrics.inputs_applied.inc_by(stats.inputs_applied);
        self.shared.metrics.entities.set(self.room.entity_count() as i64);
        self.send_snapshots();
        self.shared.tick.store(tick.0, Ordering::Relaxed);
        self.shared.clients_in_world.store(self.clients.len() as u32, Ordering::Relaxed);
        self.shared.mark_tick();
        self.shared.metrics.ticks.inc();
    }

    /// Handles what arrived since the last tick. Bounded: at most the channel's capacity.
    fn drain_events(&mut self) {
        let mut budget = self.events.max_capacity();
        while budget > 0 {
            let Ok(event) = self.events.try_recv() else { break };
            budget -= 1;
            match event {
                Event::Join { client, outbox } => self.join(client, outbox),
                Event::Input { client_id, seq, input } => self.input(client_id, seq, input),
                Event::Leave { client_id } => self.leave(client_id),
            }
        }
    }

    fn join(&mut self, info: ClientInfo, outbox: Arc<Outbox>) {
        let (entity, own) = self.room.join(&info);
        let welcome = self.room.welcome(info.client_id, own);
        outbox.push_welcome(Bytes::from(welcome.encode()));
        debug!(client_id = info.client_id, entity = own.id, "client joined");
        let client =
            Client { info, entity, outbox, view: ClientView::new(own), lag: 0, last_size: 0 };
        self.clients.insert(client.info.client_id, client);
    }

    fn input(&mut self, client_id: u32, seq: u32, input: G::Input) {
        let Some(client) = self.clients.get(&client_id) else { return };
        match self.room.push_input(client.entity, seq, input) {
            Some(Queued::Ok) => {}
            Some(Queued::DroppedOldest) => self.shared.metrics.input_dropped("buffer_full"),
            None => {
                let reason = "the game removed this client's entity".to_owned();
                debug!(client_id, "{reason}");
                self.shared.metrics.disconnect(CloseCode::PolicyViolation.label());
                client.outbox.end(Ending::Close(CloseCode::PolicyViolation, reason));
                self.remove(client_id);
            }
        }
    }

    fn leave(&mut self, client_id: u32) {
        if self.remove(client_id) {
            debug!(client_id, "client left");
        }
    }

    fn remove(&mut self, client_id: u32) -> bool {
        let Some(client) = self.clients.remove(&client_id) else { return false };
        self.room.leave(&client.info, client.entity);
        true
    }

    /// Builds and hands over every client's snapshot for this tick.
    fn send_snapshots(&mut self) {
        let max_lag = self.shared.config.max_lag_ticks;
        let shared = self.shared.clone();
        let metrics = &shared.metrics;
        let mut too_slow = Vec::new();
        let mut built_counts = [0u64; 3];
        let mut skipped = 0;
        for (&client_id, client) in &mut self.clients {
            let reclaimed = client.outbox.reclaim_snapshot();
            client.view.settle(reclaimed);
            if reclaimed {
                client.lag += 1;
                skipped += 1;
                if client.lag >= max_lag {
                    too_slow.push(client_id);
                    continue;
                }
            } else {
                client.lag = 0;
            }
            let mut bytes = self.buffers.take(client.last_size + 16);
            let built = self.room.build(&mut client.view, client.entity, &mut bytes);
            built_counts[built as usize] += 1;
            client.last_size = bytes.len();
            metrics.snapshot_bytes.observe(bytes.len() as f64);
            client.outbox.put_snapshot(self.buffers.freeze(bytes));
        }
        // Writers are woken only now: woken one by one while the tick still builds, they
        // preempted it on this 2-core class of machine, and the tick ran late for everyone.
        for client in self.clients.values() {
            client.outbox.wake();
        }
        metrics.snapshots_skipped.inc_by(skipped);
        for (kind, count) in ["full", "delta", "catch_up"].into_iter().zip(built_counts) {
            if count > 0 {
                metrics.snapshots.get_or_create(&crate::metrics::Kind { kind }).inc_by(count);
            }
        }
        for client_id in too_slow {
            if let Some(client) = self.clients.get(&client_id) {
                let reason = format!("too slow: {max_lag} snapshots in a row left unread");
                debug!(client_id, "{reason}");
                metrics.disconnect(CloseCode::TooSlow.label());
                client.outbox.end(Ending::Close(CloseCode::TooSlow, reason));
            }
            self.remove(client_id);
        }
    }

    /// Clients connected to the tick (for tests).
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// The room (for tests and benches).
    pub fn room(&self) -> &Room<G> {
        &self.room
    }
}

/// Puts the calling thread under the FIFO real-time scheduler at a low real-time priority:
/// above every normal thread, below the kernel's own real-time threads. The tick sleeps most
/// of each period, and the kernel's real-time throttling (5 % of each second by default) still
/// leaves its core to others if a tick ever overran for good.
#[cfg(unix)]
fn make_realtime() -> Result<(), String> {
    use thread_priority::{
        RealtimeThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    let priority = ThreadPriority::Crossplatform(10u8.try_into().map_err(|e| format!("{e:?}"))?);
    let policy = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
    set_thread_priority_and_policy(thread_native_id(), priority, policy)
        .map_err(|e| format!("real-time scheduling refused ({e:?}): it needs CAP_SYS_NICE or root"))
}

#[cfg(not(unix))]
fn make_realtime() -> Result<(), String> {
    Err("real-time scheduling is only implemented on Unix".into())
}

/// Deadline pacing: tick `n` is due at `start + n × period`, so sleeping late never adds up
/// to drift. A tick that ends past the next deadline skips the deadlines it missed (counted)
/// instead of running a burst of ticks to catch up.
#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    period: Duration,
    deadline: Instant,
}

impl Pacer {
    /// The first tick is due at `start`.
    pub fn new(start: Instant, period: Duration) -> Pacer {
        Pacer { period, deadline: start }
    }

    /// When the next tick is due.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves to the next deadline after a tick that finished at `now`; returns how many
    /// deadlines it missed and skipped (0 when on time).
    pub fn finish(&mut self, now: Instant) -> u32 {
        self.deadline += self.period;
        if now <= self.deadline {
            return 0;
        }
        let behind = (now - self.deadline).as_secs_f64() / self.period.as_secs_f64();
        let missed = behind.floor() as u32 + 1;
        self.deadline += self.period * missed;
        missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_millis(10);

    #[test]
    fn deadlines_do_not_drift() {
        let start = Instant::now();
        let mut pacer = Pacer::new(start, PERIOD);
        for n in 1..=1000 {
            // Each tick starts a little late and takes a while, but ends before the next.
            let finished = pacer.deadline() + Duration::from_millis(7);
            assert_eq!(pacer.finish(finished), 0);
            assert_eq!(pacer.deadline(), start + PERIOD * n);
        }
    }

    #[test]
    fn an_overrun_skips_missed_deadlines_instead_of_bursting() {
        let start = Instant::now();
        let mut pacer = Pacer::new(start, PERIOD);
        // The first tick takes 35 ms: deadlines at 10, 20 and 30 ms are missed.
        assert_eq!(pacer.finish(start + Duration::from_millis(35)), 3);
        assert_eq!(pacer.deadline(), start + Duration::from_millis(40), "back on the grid");
        assert_eq!(pacer.finish(start + Duration::from_millis(41)), 0);
        assert_eq!(pacer.deadline(), start + Duration::from_millis(50));
    }
}
