//! Server configuration, for any game: every limit is a named field with its unit, default
//! and reason. A game's own settings live in the game.

use std::time::Duration;

/// Default simulation and snapshot rate. 30 Hz is what browser games on WebSocket commonly
/// use: one snapshot per 33 ms keeps interpolation delay near 100 ms.
pub const DEFAULT_TICK_RATE_HZ: u16 = 30;

/// The largest message or frame accepted at the WebSocket layer (the protocol's own limit,
/// checked after, is smaller still: it answers with 1009 and the size).
pub const CLIENT_MAX_FRAME_BYTES: usize = 4096;

/// Inputs a client may catch up on in one tick when a backlog well above what its pacing aims
/// for waits (`crate::input::pacing`). Two drains a backlog within a few ticks while moving at
/// most twice as far as one tick allows.
pub const DEFAULT_MAX_INPUTS_PER_TICK: usize = 2;

/// Everything `run` needs besides the listener and the shutdown signal.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Ticks per second (1..=240). Default 30.
    pub tick_rate_hz: u16,
    /// Most simultaneous connections; one more is accepted and closed with 1013. Default 1,000.
    pub max_clients: usize,
    /// Inputs buffered per client before the oldest is dropped. Default 16 (533 ms at 30 Hz):
    /// room for the burst that arrives after a TCP retransmission stall (200 ms, or 400 ms
    /// when a second loss doubles the timeout) on top of the largest lead pacing aims for (4
    /// ticks). With 8, a page through a link with 1 % loss lost inputs it had predicted (benches/
    /// browser-netsim.mjs). A paced client's buffer holds one or two.
    pub input_buffer: usize,
    /// Inputs applied to one client in one tick while its buffer holds a backlog well above
    /// what its pacing aims for (more than 3 inputs past it). Default 2: a backlog drains
    /// within a few ticks instead of adding a tick of latency per input.
    pub max_inputs_per_tick: usize,
    /// Client messages per second allowed per connection, as a multiple of the tick rate.
    /// Default 3: one input per tick plus pings, with room for bursts.
    pub input_rate_factor: u32,
    /// Consecutive ticks a client may leave its snapshot unread before it is closed with 4001.
    /// Default 90 (3 s at 30 Hz): long enough for a stalled browser tab to come back.
    pub max_lag_ticks: u32,
    /// Ticks of world history kept for delta baselines. Default 64 (2 s at 30 Hz); a client
    /// whose baseline is older gets a full snapshot.
    pub history_ticks: usize,
    /// Control messages (welcome, pongs) queued per client before pongs are dropped. Default 16.
    pub control_queue: usize,
    /// Largest WebSocket message accepted from a client, in bytes. Default 64: an input is a
    /// tag, a sequence number and the game's input; a game with larger inputs raises it.
    pub max_message_bytes: usize,
    /// How long a close handshake may take before the socket is dropped. Default 2 s.
    pub close_timeout: Duration,
    /// Kernel send buffer per connection (`SO_SNDBUF`), bytes; `None` leaves the kernel's
    /// autotuning, which may grow it to megabytes. A small value bounds memory per connection
    /// and makes a stalled client show up as a full outbox sooner.
    pub socket_send_buffer: Option<usize>,
    /// Unsent bytes the kernel may hold per connection before the socket stops taking writes
    /// (`TCP_NOTSENT_LOWAT`, Linux), bytes. Default 1: a write is taken only once everything
    /// before it has left, so the kernel never holds an older snapshot unsent behind which the
    /// newest would wait; the newest waits in the one-slot outbox instead, where the next tick
    /// replaces it. 0 leaves the kernel's default (no limit: the whole send buffer).
    pub socket_notsent_lowat: u32,
    /// How often the tick asks a plain-TCP client to prove it reads: a WebSocket ping stamped
    /// with the tick, written behind that tick's snapshot. A client whose pong has not come
    /// back `max_lag_ticks` ticks later has left that many snapshots unread and is closed with
    /// 4001, whatever the kernel's buffers (its own receive buffer included) could still
    /// absorb. Default 500 ms (6 bytes out, 10 back, twice a second); zero turns it off.
    pub read_probe_interval: Duration,
    /// Ticks a read probe's answer may take beyond the quickest recent answer (the path's own
    /// round trip) before the client's snapshots are held back until it comes: how much a
    /// link slower than the snapshots may queue ahead of the newest. Default 2 ("latest wins"
    /// end to end); a value of `max_lag_ticks` or more never holds anything back.
    pub read_probe_slack_ticks: u32,
    /// File descriptors kept free for `/healthz`, `/metrics`, close handshakes and the
    /// server's own files: a WebSocket upgrade whose socket is numbered at or above the
    /// open-file limit minus this is refused with `503`. Default 64.
    pub descriptor_reserve: usize,
    /// TLS for `https://` and `wss://` on the same port; `None` serves plain `http://` and
    /// `ws://`. Load one with [`crate::net::tls::load`].
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Run the tick thread under the real-time FIFO scheduler (needs `CAP_SYS_NICE` or root;
    /// without it the server logs a warning and runs at normal priority). On a machine shared
    /// with other busy threads this keeps them from preempting a tick mid-build.
    pub realtime_tick: bool,
    /// Browser origins (`scheme://host[:port]`, `null`, or `*` for any) allowed to open a
    /// WebSocket besides the server's own host and localhost pages, which are always allowed.
    /// Default: none. A page from any other origin gets `403`: without the check, any site
    /// could open game sockets from its visitors' browsers. See [`crate::net::origin`].
    pub allowed_origins: Vec<String>,
    /// Time a connection has to send a complete HTTP request head (the WebSocket upgrade, or
    /// any request; a keep-alive connection again for each next request); after it the
    /// connection is dropped. With TLS, the TLS handshake gets the same time before that.
    /// Default 5 s: a real handshake takes one round trip, and a scanner or a half-open
    /// socket should not hold a descriptor for long.
    pub handshake_timeout: Duration,
    /// Time a connected client may send nothing at all (no message, ping or pong) before it
    /// is closed with 4002. A client quiet for a third of it is sent a WebSocket ping, which
    /// browsers and libraries answer by themselves, so only a peer that is gone (asleep,
    /// unplugged, behind a dead NAT entry) reaches it. Default 30 s: common proxies drop
    /// sockets silent for 60 s, and a ping every 10 s keeps them well inside that.
    pub idle_timeout: Duration,
    /// Most WebSocket connections from one address (an IPv6 /64 counts as one), counting
    /// upgrades in progress; one more gets `429`. Loopback is not exempt. Default 64: a
    /// household or a classroom behind one NAT fits, a script opening thousands does not
    /// crowd out everyone else. Behind a reverse proxy every client has the proxy's
    /// address: set it to `max_clients` and limit per client at the proxy.
    pub max_connections_per_ip: usize,
    /// Most players in one room (connections that joined it); one more is closed with 4003.
    /// `None` (the default): up to `max_clients`, so one room can hold the whole server.
    pub room_capacity: Option<usize>,
    /// Most rooms open at once, the always-open lobby included; a connection that would open
    /// one more is closed with 4004. Default 256: it also bounds the per-room labels on
    /// `/metrics`.
    pub max_rooms: usize,
    /// How long a room other than the lobby stays open with no player in it before it is
    /// closed and its world dropped. Default 30 s: a match survives its players reloading the
    /// page, and an abandoned one does not hold memory and CPU for long.
    pub room_grace: Duration,
    /// Threads that run the rooms' ticks (each room on one of them, each with its own
    /// deadline). `None` (the default): one per CPU.
    pub sim_threads: Option<usize>,
    /// Threads that read plain-TCP clients' sockets ([`crate::net::reader`]), each serving
    /// its share of the connections. `None` (the default): one fewer than the CPUs, at least
    /// one, so a simulation thread keeps a core.
    pub read_threads: Option<usize>,
    /// Threads per simulation thread that write its ticks' snapshots onto the sockets, each a
    /// share of the clients. Default 1: on a machine with cores to spare beyond the
    /// simulation and read threads, more make the last client's snapshot leave sooner.
    pub flush_threads: usize,
    /// How long a read thread sleeps after reading a batch before it looks again: one wakeup
    /// reads every socket that received something meanwhile. Default 2 ms: at 30 Hz an
    /// input waits at most that much longer (the pacing hint absorbs it), and a thread
    /// wakes at most 500 times a second however many clients send. Zero: read at once.
    pub read_interval: Duration,
    /// Largest game message (chat...) a client may send, in bytes, tag included; a larger
    /// one is closed with 1009. Default 1,024, at most [`CLIENT_MAX_FRAME_BYTES`].
    pub max_game_message_bytes: usize,
    /// Game messages per second a client may send on average, with a burst of one second's
    /// worth; one more is closed with 1008. Default 8: chat at typing speed.
    pub game_message_rate: u32,
    /// The game's events queued for one client before it is closed as too slow (4001): they
    /// are never dropped, so a client that does not read them must go. Default 256.
    pub event_queue: usize,
    /// The operator's bearer token (`--admin-token-file`): with it the server serves the
    /// console (`/admin`) and its API ([`crate::admin`]); without it there is no admin route
    /// at all. Default: none.
    pub admin_token: Option<crate::admin::AdminToken>,
    /// How long a client whose connection dropped keeps its entity, for a new connection
    /// presenting its resume token to take it back. Default 15 s: a phone switching networks
    /// or a tab reloading comes back within it. Zero: no resume, entities go at once.
    pub resume_window: Duration,
    /// Scale out: this process's place in a cluster sharing a Redis room directory, where
    /// clients matchmake (`POST /matchmake`) and `/ws` requires a seat. `None` (the default):
    /// one process alone, no Redis, no seats.
    pub cluster: Option<crate::cluster::ClusterConfig>,
    /// Run under Agones: Ready, Health and labels through the SDK sidecar, shutdown when
    /// allocated and empty. `None` (the default): no sidecar.
    pub agones: Option<crate::cluster::AgonesConfig>,
    /// Longest an [`crate::auth::Authenticator`] may take over one handshake (a JWKS fetch
    /// included) before the client gets `503`. Default 5 s: a key server that does not
    /// answer in that time is down, and a handshake must not hang on it.
    pub auth_timeout: Duration,
    /// What a second login of a signed-in user does while its first session is live on this
    /// process: take it over (4006 to the old connection, the default) or be refused (`409`).
    pub duplicate_login: crate::auth::DuplicateLogin,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tick_rate_hz: DEFAULT_TICK_RATE_HZ,
            max_clients: 1_000,
            input_buffer: 16,
            max_inputs_per_tick: DEFAULT_MAX_INPUTS_PER_TICK,
            input_rate_factor: 3,
            max_lag_ticks: 90,
            history_ticks: 64,
            control_queue: 16,
            max_message_bytes: crate::protocol::MAX_CLIENT_MESSAGE_BYTES,
            close_timeout: Duration::from_secs(2),
            socket_send_buffer: None,
            socket_notsent_lowat: 1,
            read_probe_interval: Duration::from_millis(500),
            read_probe_slack_ticks: 2,
            descriptor_reserve: 64,
            tls: None,
            realtime_tick: false,
            allowed_origins: Vec::new(),
            handshake_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_connections_per_ip: 64,
            room_capacity: None,
            max_rooms: 256,
            room_grace: Duration::from_secs(30),
            sim_threads: None,
            read_threads: None,
            read_interval: Duration::from_millis(2),
            flush_threads: 1,
            max_game_message_bytes: 1024,
            game_message_rate: 8,
            event_queue: 256,
            admin_token: None,
            resume_window: Duration::from_secs(15),
            cluster: None,
            agones: None,
            auth_timeout: Duration::from_secs(5),
            duplicate_login: crate::auth::DuplicateLogin::Takeover,
        }
    }
}

impl ServerConfig {
    /// The length of one tick.
    pub fn tick_period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(self.tick_rate_hz))
    }

    /// Players one room holds: `room_capacity`, or `max_clients` when unset.
    pub fn room_capacity(&self) -> usize {
        self.room_capacity.unwrap_or(self.max_clients).min(self.max_clients)
    }

    /// Threads of the simulation pool: `sim_threads`, or one per CPU.
    pub fn sim_threads(&self) -> usize {
        self.sim_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
            .max(1)
    }

    /// Threads of the read pool: `read_threads`, or one fewer than the CPUs, at least one.
    pub fn read_threads(&self) -> usize {
        self.read_threads
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, usize::from).saturating_sub(1)
            })
            .max(1)
    }

    /// Checks the values a user can set; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=240).contains(&self.tick_rate_hz) {
            return Err(format!("tick rate {} Hz is outside 1..=240", self.tick_rate_hz));
        }
        if !(1..=CLIENT_MAX_FRAME_BYTES).contains(&self.max_message_bytes) {
            let limit = CLIENT_MAX_FRAME_BYTES;
            return Err(format!(
                "max message bytes {} is outside 1..={limit}",
                self.max_message_bytes
            ));
        }
        if self.max_clients == 0
            || self.max_connections_per_ip == 0
            || self.input_buffer == 0
            || self.max_inputs_per_tick == 0
            || self.history_ticks < 2
        {
            let what =
                "max clients, connections per IP, input buffer, inputs per tick and history (>= 2)";
            return Err(format!("{what} must be positive"));
        }
        if self.max_lag_ticks == 0 {
            return Err("max lag ticks must be positive".into());
        }
        if self.handshake_timeout.is_zero() {
            return Err("handshake timeout must be positive".into());
        }
        if self.auth_timeout.is_zero() {
            return Err("auth timeout must be positive".into());
        }
        if self.idle_timeout.is_zero() {
            return Err("idle timeout must be positive".into());
        }
        if !(1..=CLIENT_MAX_FRAME_BYTES).contains(&self.max_game_message_bytes) {
            let limit = CLIENT_MAX_FRAME_BYTES;
            let bytes = self.max_game_message_bytes;
            return Err(format!("max game message bytes {bytes} is outside 1..={limit}"));
        }
        if self.game_message_rate == 0 || self.event_queue == 0 {
            return Err("game message rate and event queue must be positive".into());
        }
        if self.room_capacity == Some(0)
            || self.max_rooms == 0
            || self.sim_threads == Some(0)
            || self.read_threads == Some(0)
            || self.flush_threads == 0
        {
            let what = "room capacity, max rooms, simulation, I/O and flush threads";
            return Err(format!("{what} must be positive"));
        }
        if self.read_interval > Duration::from_millis(50) {
            return Err(format!(
                "read interval {:?} is over 50 ms: inputs would miss their ticks",
                self.read_interval
            ));
        }
        if let Some(cluster) = &self.cluster {
            cluster.validate()?;
            if cluster.public_url.is_empty() && self.agones.is_none() {
                return Err("a clustered server needs --public-url, or --agones to read its \
                            address and port from the GameServer"
                    .into());
            }
        }
        for origin in &self.allowed_origins {
            crate::net::origin::validate(origin)?;
        }
        Ok(())
    }
}
