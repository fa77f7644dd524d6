//! One room's fixed-rate driver: inbox → `room.step` → replication → outboxes.
//!
//! Deadline pacing: tick `n` is due at `start + n × period`. The simulation pool
//! ([`crate::rooms::pool`]) runs a room's tick when its deadline comes; when a tick overran so
//! far that deadlines were missed, it counts the overrun and skips the missed deadlines
//! rather than running a burst of ticks. The tick never awaits a socket: it only swaps bytes
//! into outboxes.

use crate::auth::DuplicateLogin;
use crate::context::Shared;
use crate::game::{ClientInfo, Game, Recipient};
use crate::input::{InputTally, Queued};
use crate::net::flusher::{self, Flusher};
use crate::net::inbox::{Event, ResumeToken, WireOf};
use crate::net::outbox::{Ending, Outbox};
use crate::net::pool::BufferPool;
use crate::protocol::CloseCode;
use crate::replication::ClientView;
use crate::room::Room;
use crate::rooms::RoomStatus;
use crate::tick::Tick;
use axum::body::Bytes;
use bevy_ecs::entity::Entity;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// The reason sent (with 4006) to a connection whose user signed in again elsewhere.
const SIGNED_IN_AGAIN: &str = "signed in again on another connection";

mod admin;

struct Client {
    info: ClientInfo,
    entity: Entity,
    outbox: Arc<Outbox>,
    view: ClientView,
    /// Consecutive ticks whose snapshot was taken back unsent or held back.
    lag: u32,
    /// The read probe: whether the client still reads what the kernel took.
    probe: ReadProbe,
    /// A snapshot was put in the outbox last tick (not held back).
    put: bool,
    /// Size of the last snapshot built, to size the next buffer.
    last_size: usize,
    /// The token that resumes this session (all zero when resume is off).
    token: ResumeToken,
    /// When it joined, and the snapshots and bytes handed to it since (for the console).
    joined: Instant,
    snapshots: u64,
    bytes: u64,
}

/// A session whose connection dropped, waiting for its client to resume it.
struct Waiting {
    info: ClientInfo,
    entity: Entity,
    /// When the resume window closes and the game is told the client left.
    until: Instant,
}

/// One room's tick loop: its world, its clients, its deadline.
pub struct TickLoop<G: Game> {
    room: Room<G>,
    clients: HashMap<u32, Client>,
    events: mpsc::Receiver<Event<WireOf<G>>>,
    shared: Arc<Shared>,
    status: Arc<RoomStatus>,
    /// Snapshot buffers, back from the writers once sent.
    buffers: Arc<BufferPool>,
    pacer: Pacer,
    next_tick: Tick,
    last_warning: Option<Instant>,
    /// What this room adds to the server-wide gauges.
    counted: Counted,
    /// Since when nobody has held a place in the room.
    empty_since: Option<Instant>,
    /// Each connected client's resume token, to its id.
    tokens: HashMap<ResumeToken, u32>,
    /// Sessions waiting to be resumed, by token.
    waiting: HashMap<ResumeToken, Waiting>,
    /// The connected client whose own entity each entity is, for events sent to one.
    owners: HashMap<Entity, u32>,
    /// Writes each tick's frames; without one, the tick writes them itself.
    flusher: Option<Flusher>,
    /// The outbox of the client whose join the game is handling, while it does.
    joining: Option<Arc<Outbox>>,
}

/// This room's share of the server-wide gauges, to change them by differences.
#[derive(Default)]
struct Counted {
    entities: i64,
    clients: Option<usize>,
}

impl<G: Game> TickLoop<G> {
    /// A tick loop for `room`, described by `status`; its first tick is due at `start`.
    pub fn new(
        room: Room<G>,
        shared: Arc<Shared>,
        status: Arc<RoomStatus>,
        events: mpsc::Receiver<Event<WireOf<G>>>,
        start: Instant,
    ) -> TickLoop<G> {
        // A client has at most two snapshots alive: one in its outbox, one being written.
        let buffers = BufferPool::new(shared.config.room_capacity().saturating_mul(2));
        let pacer = Pacer::new(start, shared.config.tick_period());
        TickLoop {
            room,
            clients: HashMap::new(),
            events,
            shared,
            status,
            buffers,
            pacer,
            next_tick: Tick(1),
            last_warning: None,
            counted: Counted::default(),
            empty_since: None,
            tokens: HashMap::new(),
            waiting: HashMap::new(),
            owners: HashMap::new(),
            flusher: None,
            joining: None,
        }
    }

    /// Hands every tick's frames to `flusher` to write, rather than writing them itself.
    pub fn with_flusher(mut self, flusher: Flusher) -> TickLoop<G> {
        self.flusher = Some(flusher);
        self
    }

    /// The room's status.
    pub fn status(&self) -> &Arc<RoomStatus> {
        &self.status
    }

    /// When the next tick is due.
    pub fn deadline(&self) -> Instant {
        self.pacer.deadline()
    }

    /// Runs the tick that is due, timing it against its deadline.
    pub fn run_due(&mut self) {
        let started = Instant::now();
        let lateness = started.saturating_duration_since(self.pacer.deadline());
        self.shared.metrics.tick_lateness.observe(lateness.as_secs_f64());
        self.tick(self.next_tick, started);
        let finished = Instant::now();
        self.shared.metrics.tick_duration.observe((finished - started).as_secs_f64());
        self.status.figures.record_tick(finished - started, lateness);
        let missed = self.pacer.finish(finished);
        if missed > 0 {
            self.shared.metrics.overruns.inc();
            if self.last_warning.is_none_or(|at| finished - at > Duration::from_secs(5)) {
                let took_ms = (finished - started).as_secs_f64() * 1e3;
                let (room, tick) = (&self.status.name, self.next_tick);
                warn!(room, %tick, took_ms, missed, "tick overran its period; deadlines skipped");
                self.last_warning = Some(finished);
            }
        }
        self.next_tick = self.next_tick.next();
    }

    /// How long nobody has held a place in the room, as of `now`; `None` while somebody
    /// does, and always for a permanent room.
    pub fn empty_for(&mut self, now: Instant) -> Option<Duration> {
        if self.status.permanent || self.status.members() > 0 || !self.waiting.is_empty() {
            self.empty_since = None;
            return None;
        }
        Some(now - *self.empty_since.get_or_insert(now))
    }

    /// Ends the room: closes every client with `code` and takes the room's share off the
    /// server's gauges.
    pub fn end(mut self, code: CloseCode, reason: &str) {
        for (&client_id, client) in &self.clients {
            client.outbox.end(Ending::Close(code, reason.to_owned()));
            if let Some(user) = client.info.user_id() {
                self.shared.logins.release(user, client_id);
            }
        }
        self.clients.clear();
        self.shared.metrics.sessions_waiting.dec_by(self.waiting.len() as i64);
        self.waiting.clear();
        self.count_gauges(0);
        self.shared.metrics.room_closed(&self.status.name);
    }

    /// Ends a room whose game's code panicked (see [`crate::rooms::pool`]): every client,
    /// and every client whose join is still in the inbox, is closed with 1011 and `reason`;
    /// sessions waiting to resume are dropped (the world they wait in is not trusted); no
    /// hook of the game is called. The inbox is closed first, so a connection that joins
    /// later finds the room gone rather than waiting on it.
    pub fn fail(mut self, reason: &str) {
        self.events.close();
        let mut closed = self.clients.len();
        let ending = Ending::Close(CloseCode::InternalError, reason.to_owned());
        let mut joining: Vec<_> = self.joining.take().into_iter().collect();
        while let Ok(event) = self.events.try_recv() {
            if let Event::Join { outbox, .. } = event {
                joining.push(outbox);
            }
        }
        for outbox in joining {
            outbox.end(ending.clone());
            closed += 1;
        }
        for _ in 0..closed {
            self.shared.metrics.disconnect(CloseCode::InternalError.label());
        }
        self.end(CloseCode::InternalError, reason);
    }

    /// The tick that runs next (the one that was running, after a panic).
    pub fn due_tick(&self) -> Tick {
        self.next_tick
    }

    /// Moves the server-wide gauges by this room's change since the last tick.
    fn count_gauges(&mut self, entities: i64) {
        let metrics = &self.shared.metrics;
        metrics.entities.inc_by(entities - self.counted.entities);
        self.counted.entities = entities;
        let clients = self.clients.len();
        if self.counted.clients != Some(clients) {
            metrics.room_clients(&self.status.name, clients);
            self.counted.clients = Some(clients);
        }
    }

    /// One tick that started at `started`: events, simulation, replication. Each input's
    /// arrival is measured against `started`, for its client's pacing hint.
    pub fn tick(&mut self, tick: Tick, started: Instant) {
        self.drain_events();
        self.expire_sessions(Instant::now());
        let stats = self.room.step(tick, started);
        self.count_inputs(&stats.inputs);
        self.send_events(tick);
        self.send_snapshots(tick);
        self.count_gauges(self.room.entity_count() as i64);
        self.status.tick.store(tick.0, Ordering::Relaxed);
        self.status.clients_in_world.store(self.clients.len() as u32, Ordering::Relaxed);
        self.status.mark_tick();
        self.shared.metrics.ticks.inc();
        // Writers are woken only now: woken one by one while the tick still builds, they
        // preempted it on this 2-core class of machine, and the tick ran late for everyone.
        // And a client that reads its snapshot finds the room's gauges already counting it.
        // On plain TCP most clients' frames are written straight onto their sockets, with no
        // task woken (see `Outbox::deliver`), by the flusher if there is one.
        let outboxes: flusher::Flush = self.clients.values().map(|c| c.outbox.clone()).collect();
        match &self.flusher {
            Some(flusher) => flusher.flush(outboxes),
            None => flusher::deliver(&outboxes, &self.shared),
        }
    }

    /// Adds the tick's input figures to the server's metrics.
    fn count_inputs(&self, inputs: &InputTally) {
        let metrics = &self.shared.metrics;
        metrics.inputs_applied.inc_by(inputs.applied);
        metrics.input_active_ticks.inc_by(inputs.active);
        metrics.input_starved_ticks.inc_by(inputs.starved);
        metrics.input_multi_ticks.inc_by(inputs.multiple);
        metrics.input_lead_seconds.inc_by(inputs.lead_seconds);
        metrics.input_leads.inc_by(inputs.leads);
        for (depth, &clients) in inputs.depths.iter().enumerate() {
            for _ in 0..clients {
                metrics.input_buffer_depth.observe(depth as f64);
            }
        }
    }

    /// Handles what arrived since the last tick. Bounded: at most the channel's capacity.
    fn drain_events(&mut self) {
        let mut budget = self.events.max_capacity();
        while budget > 0 {
            let Ok(event) = self.events.try_recv() else { break };
            budget -= 1;
            match event {
                Event::Join { client, outbox, resume } => self.join(client, outbox, resume),
                Event::Input { client_id, seq, input, received } => {
                    self.input(client_id, seq, input, received);
                }
                Event::Message { client_id, message } => {
                    if let Some(client) = self.clients.get(&client_id) {
                        self.room.message(&client.info, client.entity, message);
                    }
                }
                Event::Leave { client_id, resumable } => self.leave(client_id, resumable),
                Event::Admin(command) => self.admin(command),
            }
        }
    }

    fn join(&mut self, info: ClientInfo, outbox: Arc<Outbox>, resume: Option<ResumeToken>) {
        let client_id = info.client_id;
        // Held while the game's `join` or `resume` runs, so that a panic in it closes this
        // client too (see `TickLoop::fail`).
        self.joining = Some(outbox.clone());
        let taken = match resume.map(|token| self.take_session(token, &info)) {
            Some(Ok(entity)) => Some(entity),
            Some(Err(reason)) => {
                return self.refuse(&info, &outbox, CloseCode::ResumeRefused, reason);
            }
            None => match self.session_of_user(&info) {
                Ok(entity) => entity,
                Err((code, reason)) => return self.refuse(&info, &outbox, code, reason),
            },
        };
        let taken = taken.and_then(|entity| Some((entity, self.room.resume(&info, entity)?)));
        let resumed = taken.is_some();
        let (entity, own) = match (taken, resume) {
            (Some(found), _) => {
                self.shared.metrics.sessions_resumed.inc();
                debug!(client_id, user = info.user_id(), entity = found.1.id, "session resumed");
                found
            }
            (None, Some(_)) => {
                let reason = "resume token unknown, already used, or its window passed";
                return self.refuse(&info, &outbox, CloseCode::ResumeRefused, reason);
            }
            (None, None) => self.room.join(&info),
        };
        self.joining = None;
        // Claimed before the welcome is queued: once a client holds its welcome, a second
        // login of its user sees it live.
        self.claim_login(&info, &outbox);
        let token = self.new_token();
        let welcome = self.room.welcome(client_id, own, token);
        outbox.push_welcome(Bytes::from(welcome.encode()));
        let user = info.user_id();
        info!(room = %self.status.name, client_id, user, entity = own.id, resumed, "client joined");
        if token != [0; 16] {
            self.tokens.insert(token, client_id);
        }
        self.owners.insert(entity, client_id);
        let view = ClientView::new(own);
        let probe = ReadProbe::default();
        let (joined, snapshots, bytes) = (Instant::now(), 0, 0);
        let client = Client {
            info,
            entity,
            outbox,
            view,
            lag: 0,
            probe,
            put: false,
            last_size: 0,
            token,
            joined,
            snapshots,
            bytes,
        };
        self.clients.insert(client_id, client);
    }

    /// Closes a client whose join is refused with `code` and `reason`.
    fn refuse(&mut self, info: &ClientInfo, outbox: &Outbox, code: CloseCode, reason: &str) {
        debug!(client_id = info.client_id, user = info.user_id(), "{reason}");
        self.shared.metrics.disconnect(code.label());
        outbox.end(Ending::Close(code, reason.to_owned()));
        self.joining = None;
    }

    /// For a signed-in user who presents no resume token: the entity of its session in this
    /// room, which the new connection takes over (a live one is closed with 4006); `None`
    /// when it has none, or for a guest. With `--duplicate-login refuse`, a live session
    /// refuses the newcomer instead (the handshake's `409` missed it by a hair).
    fn session_of_user(
        &mut self,
        info: &ClientInfo,
    ) -> Result<Option<Entity>, (CloseCode, &'static str)> {
        let Some(user) = info.user_id() else { return Ok(None) };
        let live = self.clients.iter().find(|(_, c)| c.info.user_id() == Some(user));
        if let Some((&old_id, _)) = live {
            if self.shared.config.duplicate_login == DuplicateLogin::Refuse {
                return Err((CloseCode::PolicyViolation, "this user is already signed in"));
            }
            let Some(old) = self.clients.remove(&old_id) else { return Ok(None) };
            self.tokens.remove(&old.token);
            self.owners.remove(&old.entity);
            self.shared.logins.release(user, old_id);
            debug!(client_id = old_id, user, "session taken over by a newer login");
            self.shared.metrics.disconnect(CloseCode::Replaced.label());
            old.outbox.end(Ending::Close(CloseCode::Replaced, SIGNED_IN_AGAIN.to_owned()));
            return Ok(Some(old.entity));
        }
        let waiting = self.waiting.iter().find(|(_, w)| w.info.user_id() == Some(user));
        let Some(&token) = waiting.map(|(token, _)| token) else { return Ok(None) };
        Ok(self.take_waiting(token))
    }

    /// Records a signed-in client as its user's live connection on this process; a live one
    /// in another room is closed with 4006 (`--duplicate-login takeover`).
    fn claim_login(&self, info: &ClientInfo, outbox: &Arc<Outbox>) {
        let Some(user) = info.user_id() else { return };
        if let Some(old) = self.shared.logins.claim(user, info.client_id, outbox) {
            debug!(client_id = old.client_id, user, "closed: signed in again elsewhere");
            self.shared.metrics.disconnect(CloseCode::Replaced.label());
            old.outbox.end(Ending::Close(CloseCode::Replaced, SIGNED_IN_AGAIN.to_owned()));
        }
    }

    /// A fresh resume token, or all zero when sessions are not resumed.
    fn new_token(&self) -> ResumeToken {
        let mut token = [0u8; 16];
        if self.shared.config.resume_window.is_zero() {
            return token;
        }
        // The operating system's generator does not fail on the platforms tickwire runs on;
        // if it ever did, the session simply cannot be resumed.
        if let Err(error) = getrandom::fill(&mut token) {
            warn!(%error, "no random resume token: this session cannot be resumed");
            return [0; 16];
        }
        token
    }

    /// The entity of the session `token` resumes, which is taken (tokens are single use): a
    /// waiting session, or a connected one whose client reconnected before the server saw its
    /// old connection drop (that connection is closed with 4006). Only for the same user (or
    /// a guest's session for a guest): a token presented by anyone else is refused and stays
    /// good for its owner.
    fn take_session(
        &mut self,
        token: ResumeToken,
        info: &ClientInfo,
    ) -> Result<Entity, &'static str> {
        const UNKNOWN: &str = "resume token unknown, already used, or its window passed";
        const OTHER_USER: &str = "resume token of another user";
        if token == [0; 16] {
            return Err(UNKNOWN);
        }
        if let Some(waiting) = self.waiting.get(&token) {
            if waiting.info.user_id() != info.user_id() {
                return Err(OTHER_USER);
            }
            return self.take_waiting(token).ok_or(UNKNOWN);
        }
        let old_id = *self.tokens.get(&token).ok_or(UNKNOWN)?;
        if self.clients.get(&old_id).ok_or(UNKNOWN)?.info.user_id() != info.user_id() {
            return Err(OTHER_USER);
        }
        self.tokens.remove(&token);
        let old = self.clients.remove(&old_id).ok_or(UNKNOWN)?;
        self.owners.remove(&old.entity);
        if let Some(user) = old.info.user_id() {
            self.shared.logins.release(user, old_id);
        }
        let reason = "this session was resumed on a newer connection".to_owned();
        self.shared.metrics.disconnect(CloseCode::Replaced.label());
        old.outbox.end(Ending::Close(CloseCode::Replaced, reason));
        Ok(old.entity)
    }

    /// Takes the waiting session of `token` out of the waiting list: its entity.
    fn take_waiting(&mut self, token: ResumeToken) -> Option<Entity> {
        let waiting = self.waiting.remove(&token)?;
        self.status.waiting.fetch_sub(1, Ordering::AcqRel);
        self.shared.metrics.sessions_waiting.dec();
        Some(waiting.entity)
    }

    /// Tells the game of the clients whose resume window has passed.
    fn expire_sessions(&mut self, now: Instant) {
        if self.waiting.is_empty() {
            return;
        }
        let expired: Vec<ResumeToken> =
            (self.waiting.iter()).filter(|(_, w)| w.until <= now).map(|(t, _)| *t).collect();
        for token in expired {
            let Some(waiting) = self.waiting.remove(&token) else { continue };
            self.status.waiting.fetch_sub(1, Ordering::AcqRel);
            self.shared.metrics.sessions_waiting.dec();
            self.shared.metrics.sessions_expired.inc();
            let (client_id, user) = (waiting.info.client_id, waiting.info.user_id());
            debug!(client_id, user, "resume window passed");
            self.room.leave(&waiting.info, waiting.entity);
        }
    }

    /// Queues this tick's events for their recipients, stamped with `tick`. A client whose
    /// event queue is full is closed as too slow: an event is never dropped silently.
    fn send_events(&mut self, tick: Tick) {
        let events = self.room.take_events();
        if events.is_empty() {
            return;
        }
        let mut overflowed = Vec::new();
        let mut queued = 0;
        for (recipient, event) in events {
            let frame = Bytes::from(crate::protocol::encode_event(tick.0, &event));
            let mut deliver = |client_id: u32, client: &Client| {
                if client.outbox.push_event(frame.clone()) {
                    queued += 1;
                } else if !overflowed.contains(&client_id) {
                    overflowed.push(client_id);
                }
            };
            match recipient {
                Recipient::Owner(entity) => {
                    let owner = self.owners.get(&entity).copied();
                    if let Some((id, client)) =
                        owner.and_then(|id| Some((id, self.clients.get(&id)?)))
                    {
                        deliver(id, client);
                    }
                }
                Recipient::All => self.clients.iter().for_each(|(&id, c)| deliver(id, c)),
                Recipient::AllBut(entity) => (self.clients.iter())
                    .filter(|(_, c)| c.entity != entity)
                    .for_each(|(&id, c)| deliver(id, c)),
            }
        }
        self.shared.metrics.events_out.inc_by(queued);
        let limit = self.shared.config.event_queue;
        for client_id in overflowed {
            self.too_slow(client_id, format!("too slow: {limit} events left unread"));
        }
    }

    fn input(&mut self, client_id: u32, seq: u32, input: G::Input, received: Instant) {
        let Some(client) = self.clients.get(&client_id) else { return };
        match self.room.push_input(client.entity, seq, input, received) {
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

    /// Closes a client that left snapshots or events unread with 4001. Its session waits to
    /// be resumed, as a dropped connection's does: a client too slow for a while is most often
    /// on a link that stalled, which is what resume is for.
    fn too_slow(&mut self, client_id: u32, reason: String) {
        let Some(client) = self.clients.get(&client_id) else { return };
        debug!(client_id, "{reason}");
        self.shared.metrics.disconnect(CloseCode::TooSlow.label());
        client.outbox.end(Ending::Close(CloseCode::TooSlow, reason));
        self.leave(client_id, true);
    }

    /// A connection ended: if it dropped (`resumable`) and resume is on, its session waits
    /// for the client to come back; otherwise the game is told the client left.
    fn leave(&mut self, client_id: u32, resumable: bool) {
        let window = self.shared.config.resume_window;
        let Some(client) = self.clients.get(&client_id) else { return };
        if !resumable || window.is_zero() || self.tokens.get(&client.token) != Some(&client_id) {
            let leaving_user = client.info.user_id().map(str::to_owned);
            self.remove(client_id);
            info!(room = %self.status.name, client_id, user = leaving_user, "client left");
            return;
        }
        let Some(client) = self.clients.remove(&client_id) else { return };
        self.tokens.remove(&client.token);
        self.owners.remove(&client.entity);
        if let Some(user) = client.info.user_id() {
            self.shared.logins.release(user, client_id);
        }
        self.room.suspend(client.entity);
        let waiting_user = client.info.user_id().map(str::to_owned);
        let waiting =
            Waiting { info: client.info, entity: client.entity, until: Instant::now() + window };
        self.waiting.insert(client.token, waiting);
        self.status.waiting.fetch_add(1, Ordering::AcqRel);
        self.shared.metrics.sessions_waiting.inc();
        let room = &self.status.name;
        info!(%room, client_id, user = waiting_user, "client dropped; its session waits to be resumed");
    }

    /// Removes a client for good: the game is told it left.
    fn remove(&mut self, client_id: u32) -> bool {
        let Some(client) = self.clients.remove(&client_id) else { return false };
        self.tokens.remove(&client.token);
        self.owners.remove(&client.entity);
        if let Some(user) = client.info.user_id() {
            self.shared.logins.release(user, client_id);
        }
        self.room.leave(&client.info, client.entity);
        true
    }

    /// Builds and hands over every client's snapshot for this tick, with a read probe to
    /// those due one. A client is too slow once `max_lag_ticks` snapshots in a row were taken
    /// back unsent, or once its probe has waited that many ticks for its answer.
    fn send_snapshots(&mut self, tick: Tick) {
        let max_lag = self.shared.config.max_lag_ticks;
        let probe_every = probe_ticks(&self.shared.config);
        let slack = self.shared.config.read_probe_slack_ticks;
        let shared = self.shared.clone();
        let metrics = &shared.metrics;
        let mut too_slow = Vec::new();
        let mut built_counts = [0u64; 3];
        let mut skipped = 0;
        let mut bytes_out = 0;
        for (&client_id, client) in &mut self.clients {
            let reclaimed = client.outbox.reclaim_snapshot();
            client.view.settle(reclaimed);
            let was_put = std::mem::take(&mut client.put);
            if reclaimed {
                client.lag += 1;
                skipped += 1;
            } else if was_put {
                client.lag = 0;
            }
            let unread = client.probe.unread(tick.0, client.outbox.answered());
            if client.lag.max(unread) >= max_lag {
                too_slow.push(client_id);
                continue;
            }
            if let Some(every) = probe_every
                && (client.probe.holds(tick.0, slack) || client.probe.measures_alone())
            {
                // Not built at all: the next snapshot is a delta against the last one handed over.
                if client.probe.measures_alone() && client.probe.due(tick.0, every) {
                    client.outbox.put_probe(tick.0);
                }
                client.lag += 1;
                skipped += 1;
                continue;
            }
            client.put = true;
            let mut bytes = self.buffers.take(client.last_size + 16);
            let built = self.room.build(&mut client.view, client.entity, &mut bytes);
            built_counts[built as usize] += 1;
            client.last_size = bytes.len();
            let len = bytes.len() as u64;
            metrics.snapshot_bytes.observe(bytes.len() as f64);
            (client.snapshots, client.bytes) = (client.snapshots + 1, client.bytes + len);
            bytes_out += len;
            client.outbox.put_snapshot(self.buffers.freeze(bytes));
            if let Some(every) = probe_every
                && client.probe.due(tick.0, every)
            {
                client.outbox.put_probe(tick.0);
            }
        }
        metrics.snapshots_skipped.inc_by(skipped);
        self.status.figures.add_bytes(bytes_out);
        for (kind, count) in ["full", "delta", "catch_up"].into_iter().zip(built_counts) {
            if count > 0 {
                metrics.snapshots.get_or_create(&crate::metrics::Kind { kind }).inc_by(count);
            }
        }
        for client_id in too_slow {
            self.too_slow(client_id, format!("too slow: {max_lag} snapshots in a row left unread"));
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

/// Ticks between read probes (`read_probe_interval`, at least one); `None`: no probes.
fn probe_ticks(config: &crate::config::ServerConfig) -> Option<u32> {
    if config.read_probe_interval.is_zero() {
        return None;
    }
    let ticks = (config.read_probe_interval.as_secs_f64() * f64::from(config.tick_rate_hz)).ceil();
    Some((ticks as u32).max(1))
}

/// Probes between two measurements of a client's round trip (every 8 s at the defaults), so
/// that a path that became slower for good is not held back against an old figure.
const PROBES_PER_MEASUREMENT: u32 = 16;

/// Ticks a measuring probe may wait before the path is drained for it: a client that answers
/// within a tick (loopback, a LAN) never has a snapshot held back for a measurement.
const DRAIN_AFTER_TICKS: u32 = 1;

/// One client's read probe: a WebSocket ping stamped with its tick, at most one unanswered.
/// A client that reads answers it by itself (browsers and WebSocket libraries do), so the
/// ticks it has waited are how far the client's reading lags behind the tick, whatever the
/// kernel's buffers on either side still absorb.
///
/// The same answer paces a client whose link is slower than its snapshots: once the probe
/// out has waited `read_probe_slack_ticks` longer than the path's own round trip, snapshots
/// are queueing somewhere on the way (a proxy, a router, the client's own buffers), and the
/// tick holds the client's snapshots back until the answer comes; the next one is a delta
/// against what the client was last handed, and carries a probe of its own at once.
///
/// The round trip is measured on an empty path, since any answer that waited behind
/// snapshots would count their queue as part of it: at the second probe (the first follows
/// the full snapshot) and every [`PROBES_PER_MEASUREMENT`] probes, nothing more is written
/// from [`DRAIN_AFTER_TICKS`] after the probe until it is answered (the path drains), and the
/// probe that goes with the next snapshot measures the round trip. On loopback the answer
/// comes within the tick and nothing is held back.
#[derive(Debug, Default, Clone, Copy)]
struct ReadProbe {
    /// The tick of the probe awaiting its answer.
    waiting: Option<u32>,
    /// The first tick the next probe may be asked for.
    next: u32,
    /// The path's round trip, in ticks (`None` before the first measurement).
    base: Option<u32>,
    /// Probes since the last measurement began.
    since_measured: u32,
    /// Holding everything back until the waiting probe is answered: the path drains.
    draining: bool,
    /// The next probe measures the round trip (the path is empty).
    measure_next: bool,
    /// The drain had to hold snapshots back (a slow path): the measuring probe goes alone,
    /// so that no snapshot's own time on the link counts in the round trip.
    measure_alone: bool,
    /// The tick of the probe whose answer measures the round trip.
    measuring: Option<u32>,
    /// Snapshots were held back while the waiting probe was out.
    held: bool,
}

impl ReadProbe {
    /// Ticks the unanswered probe has waited at `tick` (0 if none); `answered` is the newest
    /// tick the client answered a probe for.
    fn unread(&mut self, tick: u32, answered: u32) -> u32 {
        if let Some(sent) = self.waiting
            && answered >= sent
        {
            self.waiting = None;
            if self.measuring.take() == Some(sent) {
                self.base = Some(tick.saturating_sub(sent));
            }
            if std::mem::take(&mut self.draining) {
                self.measure_next = true;
                self.measure_alone = self.held;
            }
            if std::mem::take(&mut self.held) || self.measure_next {
                self.next = tick; // keep pacing: probe again with the next snapshot
            }
        }
        self.waiting.map_or(0, |sent| tick.saturating_sub(sent))
    }

    /// Whether the client's snapshot is held back at `tick`: the path is draining for a
    /// measurement, or the probe out has waited longer than the round trip plus `slack`.
    fn holds(&mut self, tick: u32, slack: u32) -> bool {
        let Some(sent) = self.waiting else { return false };
        let waited = tick.saturating_sub(sent);
        let hold = (self.draining && waited > DRAIN_AFTER_TICKS)
            || self.base.is_some_and(|base| waited > base.saturating_add(slack));
        self.held |= hold;
        hold
    }

    /// Whether the next probe measures the round trip and must go without a snapshot.
    fn measures_alone(&self) -> bool {
        self.measure_next && self.measure_alone
    }

    /// Whether a probe is due at `tick`, one every `every` ticks at most; counts it as asked.
    fn due(&mut self, tick: u32, every: u32) -> bool {
        if self.waiting.is_some() || tick < self.next {
            return false;
        }
        self.waiting = Some(tick);
        self.next = tick.saturating_add(every);
        if std::mem::take(&mut self.measure_next) {
            self.measure_alone = false;
            self.measuring = Some(tick);
        } else if self.since_measured + 1 >= PROBES_PER_MEASUREMENT
            || (self.base.is_none() && self.since_measured >= 1)
        {
            self.draining = true;
            self.since_measured = 0;
        } else {
            self.since_measured += 1;
        }
        true
    }
}

/// Puts the calling thread under the FIFO real-time scheduler at a low real-time priority:
/// above every normal thread, below the kernel's own real-time threads. The tick sleeps most
/// of each period, and the kernel's real-time throttling (5 % of each second by default) still
/// leaves its core to others if a tick ever overran for good.
#[cfg(unix)]
pub(crate) fn make_realtime() -> Result<(), String> {
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
pub(crate) fn make_realtime() -> Result<(), String> {
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
    fn a_read_probe_waits_for_its_answer_and_counts_the_ticks() {
        let mut probe = ReadProbe::default();
        assert!(probe.due(10, 15), "the first probe goes at once");
        assert!(!probe.due(11, 15), "one at a time");
        assert_eq!(probe.unread(14, 0), 4, "unanswered for 4 ticks");
        assert!(!probe.holds(14, 2), "nothing is held back before a round trip is measured");
        assert_eq!(probe.unread(15, 9), 5, "an older answer does not count");
        assert_eq!(probe.unread(16, 10), 0, "answered");
        assert!(!probe.due(20, 15), "not before the interval");
        assert!(probe.due(25, 15));
        assert_eq!(probe.unread(200, 10), 175, "a client that stops reading");
    }

    /// Answers every probe `took` ticks after it, from `tick` for `ticks` ticks; returns the
    /// ticks whose snapshot was held back.
    fn play(probe: &mut ReadProbe, tick: &mut u32, ticks: u32, took: u32) -> Vec<u32> {
        let (mut held, mut answered) = (Vec::new(), 0);
        for _ in 0..ticks {
            if let Some(sent) = probe.waiting
                && *tick >= sent + took
            {
                answered = sent;
            }
            probe.unread(*tick, answered);
            if probe.holds(*tick, 2) || probe.measures_alone() {
                if probe.measures_alone() {
                    probe.due(*tick, 15);
                }
                held.push(*tick);
            } else {
                probe.due(*tick, 15);
            }
            *tick += 1;
        }
        held
    }

    #[test]
    fn a_client_answering_within_a_tick_is_never_held_back() {
        let (mut probe, mut tick) = (ReadProbe::default(), 1);
        assert_eq!(play(&mut probe, &mut tick, 600, 1), Vec::<u32>::new());
        assert_eq!(probe.base, Some(1), "the round trip, measured");
    }

    #[test]
    fn a_measurement_drains_the_path_then_a_slow_answer_holds_snapshots_back() {
        let (mut probe, mut tick) = (ReadProbe::default(), 1);
        // Three ticks' round trip: the second probe (tick 16) drains the path.
        let held = play(&mut probe, &mut tick, 40, 3);
        // Held from the second tick after the probe to its answer, then once more: the probe
        // that measures goes alone.
        assert_eq!(held, vec![18, 19]);
        assert_eq!(probe.base, Some(3), "measured on the drained path");
        assert!(!probe.measure_alone);
        // The link now queues: answers take 10 ticks; snapshots are held back past 3 + 2.
        let held = play(&mut probe, &mut tick, 60, 10);
        assert!(!held.is_empty(), "a queueing link is held back");
        assert!(held.len() < 60, "and still served: {held:?}");
    }

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
