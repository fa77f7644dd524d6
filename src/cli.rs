//! The `tickwire` command line, as a library call any game makes ([`run`], [`run_with`]):
//! `serve` (the default) runs the game server; `bots` load-tests one; `netsim` puts an
//! emulated network link in front of one; `schema` prints the game's schema (JSON, or
//! TypeScript declarations with `--typescript`); `config` prints the effective configuration. Every flag can also come from the environment or a TOML file
//! ([`crate::settings`]).

use crate::Server;
use crate::arena::{Arena, ArenaConfig};
use crate::auth::DuplicateLogin;
use crate::auth::jwt::{JwtConfig, JwtKey, JwtVerifier, read_key_file};
use crate::cluster::{AgonesConfig, ClusterConfig, RedisPassword};
use crate::config::{DEFAULT_TICK_RATE_HZ, ServerConfig};
use crate::game::Game;
use crate::net::http::Page;
use crate::settings::{self, Naming, SettingsError};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::process::ExitCode;
use tracing::{info, warn};

/// How the binary names its settings in the environment and the file.
const NAMING: Naming =
    Naming { env_prefix: "TICKWIRE_", shared: &["serve", "config"], config_flag: "config" };

/// An authoritative game state-sync server: a fixed-tick world, binary inputs, and per-client
/// delta snapshots over WebSocket.
#[derive(Parser, Debug)]
#[command(name = "tickwire", version, about)]
struct Cli<A: Args> {
    #[command(subcommand)]
    command: Option<Command<A>>,
    #[command(flatten)]
    serve: ServeArgs<A>,
    /// A TOML file of settings: keys are the flags' long names, `[bots]` and `[netsim]`
    /// tables hold those subcommands'. Flags and TICKWIRE_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Log lines as text, or as one JSON object per line with the room, client and user ids
    /// as fields.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// The format of the log lines on stderr.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`).
    Json,
}

#[derive(Subcommand, Debug)]
enum Command<A: Args> {
    /// Run the game server (the default when no subcommand is given).
    Serve(Box<ServeArgs<A>>),
    #[cfg(feature = "bots")]
    /// Load-test a server with N WebSocket bots and report netcode quality.
    Bots(crate::bots::cli::BotsArgs),
    #[cfg(feature = "netsim")]
    /// Put an emulated network link (delay, jitter, bandwidth, stalls) in front of a server.
    Netsim(crate::netsim::NetsimArgs),
    /// Print the effective configuration of `serve`, one line per setting with where its
    /// value came from (flag, env, file, default), secrets masked; then check it.
    Config(Box<ServeArgs<A>>),
    /// Print the game's schema as JSON, or with --typescript as TypeScript declarations of
    /// its components, input, welcome, messages and events (for a page's `.d.ts`).
    Schema(SchemaArgs),
}

#[derive(Args, Debug, Clone)]
struct SchemaArgs {
    /// Print TypeScript declarations (a `.d.ts` module) instead of JSON.
    #[arg(long)]
    typescript: bool,
}

/// Prints the game's schema on stdout.
fn schema<G: Game>(mut game: G, args: &SchemaArgs) -> Result<(), String> {
    let (_, schema) = crate::registry_of(&mut game)?;
    if args.typescript {
        print!("{}", crate::protocol::typescript::declarations(&schema));
    } else {
        let json = serde_json::to_string_pretty(&schema).map_err(|e| e.to_string())?;
        println!("{json}");
    }
    Ok(())
}

/// The arena's own flags (`--world-size`, `--view-radius`, `--orbs`, `--seed`): what the
/// `tickwire` binary passes to [`run_with`].
#[derive(Args, Debug, Clone)]
pub struct ArenaArgs {
    /// Side of the square arena, in world units (a player's radius is 1).
    #[arg(long, default_value_t = ArenaConfig::default().size, value_name = "UNITS")]
    world_size: f32,
    /// Half-side of the square each client sees around its player, in world units; a value of
    /// at least the world size makes everyone see everything.
    #[arg(long, default_value_t = ArenaConfig::default().view_radius, value_name = "UNITS")]
    view_radius: f32,
    /// Orbs kept in the arena.
    #[arg(long, default_value_t = ArenaConfig::default().orbs, value_name = "COUNT")]
    orbs: usize,
    /// Seed of the world's random numbers.
    #[arg(long, default_value_t = ArenaConfig::default().seed)]
    seed: u64,
}

impl ArenaArgs {
    /// The arena's configuration from these flags (not yet validated).
    pub fn config(&self) -> ArenaConfig {
        ArenaConfig {
            size: self.world_size,
            view_radius: self.view_radius,
            orbs: self.orbs,
            seed: self.seed,
            ..ArenaConfig::default()
        }
    }

    /// The arena these flags describe, or why it cannot be.
    pub fn arena(&self) -> Result<Arena, String> {
        let config = self.config();
        config.validate()?;
        Ok(Arena::new(config))
    }
}

/// The flags of a game that has none of its own ([`run`]).
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct NoArgs {}

#[derive(Args, Debug, Clone)]
struct ServeArgs<A: Args> {
    /// The game's own flags.
    #[command(flatten)]
    game: A,
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    bind: SocketAddr,
    /// A file holding the operator's token (first line; at least 16 bytes): serves the console
    /// at /admin and its API, which want `Authorization: Bearer TOKEN`. Without it there is
    /// no admin route at all.
    #[arg(long, value_name = "FILE")]
    admin_token_file: Option<std::path::PathBuf>,
    /// Serve /metrics, /admin and the admin API on this internal address instead of the
    /// public one (plain HTTP; keep it off the internet).
    #[arg(long, value_name = "ADDR:PORT")]
    admin_bind: Option<SocketAddr>,
    /// Simulation ticks (and snapshots) per second, 1 to 240.
    #[arg(long, default_value_t = DEFAULT_TICK_RATE_HZ, value_name = "HZ")]
    tick_rate: u16,
    /// Most simultaneous clients; one more is closed with 1013 "server full".
    #[arg(long, default_value_t = ServerConfig::default().max_clients, value_name = "COUNT")]
    max_clients: usize,
    /// Most WebSocket connections from one address (an IPv6 /64 counts as one; loopback too);
    /// one more gets 429. Behind a reverse proxy, set it to --max-clients.
    #[arg(long, default_value_t = ServerConfig::default().max_connections_per_ip, value_name = "COUNT")]
    max_connections_per_ip: usize,
    /// Inputs buffered per player (jitter buffer) before the oldest is dropped.
    #[arg(long, default_value_t = ServerConfig::default().input_buffer, value_name = "INPUTS")]
    input_buffer: usize,
    /// Inputs applied to one player in one tick while a backlog is buffered.
    #[arg(long, default_value_t = ServerConfig::default().max_inputs_per_tick, value_name = "INPUTS")]
    max_inputs_per_tick: usize,
    /// Client messages allowed per second, as a multiple of the tick rate (burst: one second's worth).
    #[arg(long, default_value_t = ServerConfig::default().input_rate_factor, value_name = "FACTOR")]
    input_rate_factor: u32,
    /// Consecutive unread snapshots after which a client is closed with 4001 "too slow".
    #[arg(long, default_value_t = ServerConfig::default().max_lag_ticks, value_name = "TICKS")]
    max_lag_ticks: u32,
    /// Ticks of world history kept as delta baselines; an older baseline gets a full snapshot.
    #[arg(long, default_value_t = ServerConfig::default().history_ticks, value_name = "TICKS")]
    history_ticks: usize,
    /// Kernel send buffer per connection in bytes (SO_SNDBUF); default: the kernel's autotuning.
    #[arg(long, value_name = "BYTES")]
    socket_send_buffer: Option<usize>,
    /// Unsent bytes the kernel may hold per connection (TCP_NOTSENT_LOWAT) before the newest
    /// snapshot waits in its latest-wins slot instead; 0: the kernel's default (no limit).
    #[arg(long, default_value_t = ServerConfig::default().socket_notsent_lowat, value_name = "BYTES")]
    socket_notsent_lowat: u32,
    /// How often a client is pinged to prove it reads; a pong missing for --max-lag-ticks
    /// closes it with 4001 (0s: off).
    #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration, value_name = "D")]
    read_probe_interval: std::time::Duration,
    /// Ticks a probe's answer may take beyond the link's round trip before the client's
    /// snapshots are held back (what a slow link may queue ahead of the newest).
    #[arg(long, default_value_t = ServerConfig::default().read_probe_slack_ticks, value_name = "TICKS")]
    read_probe_slack: u32,
    /// File descriptors kept free for /healthz, /metrics and close handshakes: past the
    /// open-file limit minus this, WebSocket upgrades are refused with 503.
    #[arg(long, default_value_t = ServerConfig::default().descriptor_reserve, value_name = "COUNT")]
    descriptor_reserve: usize,
    /// Threads for socket I/O: as many threads read plain-TCP sockets, and as many tokio
    /// workers serve HTTP, TLS and the connections' writes (the rooms' ticks run on
    /// --sim-threads of their own besides). Default: one fewer than the CPUs, at least one,
    /// so a simulation thread keeps a core.
    #[arg(long, value_name = "THREADS")]
    io_threads: Option<usize>,
    /// Threads per simulation thread that write snapshots onto the sockets, each a share of
    /// the clients (more only help with cores to spare).
    #[arg(long, default_value_t = 1, value_name = "THREADS")]
    flush_threads: usize,
    /// How long a read thread sleeps after a batch of reads before it looks again (0: read
    /// at once, one wakeup per message). Longer batches more inputs per wakeup; at most 50ms.
    #[arg(long, default_value = "2ms", value_parser = humantime::parse_duration, value_name = "DURATION")]
    read_interval: std::time::Duration,
    /// Run the simulation threads with real-time (FIFO) scheduling so busy threads cannot
    /// preempt a tick. Needs CAP_SYS_NICE or root, else a warning and normal priority. For machines
    /// with at least two cores: a tick that overruns for good would hold its core.
    #[arg(long)]
    realtime_tick: bool,
    /// PEM certificate chain: serve https:// and wss:// on the port (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// A browser origin (scheme://host[:port], `null`, or `*` for any) allowed to open a
    /// WebSocket, besides the server's own host and localhost pages; repeatable. Other pages
    /// get 403. Clients that send no Origin (not browsers) are always allowed.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<String>,
    /// Time a connection has to complete its HTTP request (the WebSocket upgrade) before it is
    /// dropped; with TLS, its TLS handshake gets as long again.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    handshake_timeout: std::time::Duration,
    /// Time a connected client may send nothing at all (no message, ping or pong) before it is
    /// closed with 4002 "idle"; quiet clients are pinged every third of it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    idle_timeout: std::time::Duration,
    /// Most players in one room; one more is closed with 4003 "room full". Default: --max-clients.
    #[arg(long, value_name = "COUNT")]
    room_capacity: Option<usize>,
    /// Most rooms open at once, the lobby included; a client that would open one more is
    /// closed with 4004 "too many rooms".
    #[arg(long, default_value_t = ServerConfig::default().max_rooms, value_name = "COUNT")]
    max_rooms: usize,
    /// How long a room (other than the lobby) stays open with nobody in it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    room_grace: std::time::Duration,
    /// Threads that run the rooms' ticks. Default: one per CPU.
    #[arg(long, value_name = "THREADS")]
    sim_threads: Option<usize>,
    /// How long a dropped client's player waits for it to resume (0s: no resume).
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    resume_window: std::time::Duration,
    /// Game events queued per client before it is closed as too slow (4001).
    #[arg(long, default_value_t = ServerConfig::default().event_queue, value_name = "EVENTS")]
    event_queue: usize,
    /// Largest game message (chat) a client may send, tag included; more is closed with 1009.
    #[arg(long, default_value_t = ServerConfig::default().max_game_message_bytes, value_name = "BYTES")]
    max_game_message_bytes: usize,
    /// Game messages a client may send per second (burst: one second's worth); more is 1008.
    #[arg(long, default_value_t = ServerConfig::default().game_message_rate, value_name = "PER_SECOND")]
    game_message_rate: u32,
    /// Scale out: share rooms with other processes through this Redis room directory
    /// (redis://host:port). Clients then matchmake (POST /matchmake) and /ws needs a seat.
    /// `rediss://` is TLS; a password goes in the URL (`redis://:PASS@host`) or, kept out
    /// of `ps`, in --redis-password-file.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// A file holding the Redis password (trailing newline ignored); overrides one in the URL.
    #[arg(long, value_name = "FILE", requires = "redis")]
    redis_password_file: Option<std::path::PathBuf>,
    /// PEM certificates of the CAs trusted for a rediss:// directory, instead of the
    /// system's roots.
    #[arg(long, value_name = "FILE", requires = "redis")]
    redis_ca_file: Option<std::path::PathBuf>,
    /// This process's WebSocket address as clients reach it (ws://host:port), handed out by
    /// matchmaking. Needed with --redis, unless --agones reads it from the GameServer.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// This process's id in the room directory. Default: random.
    #[arg(long, value_name = "ID")]
    process_id: Option<String>,
    /// Time between two heartbeats to the room directory.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    heartbeat: std::time::Duration,
    /// How long the directory keeps a process and its rooms without a heartbeat.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    record_ttl: std::time::Duration,
    /// How long a seat from POST /matchmake stays valid.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    seat_ttl: std::time::Duration,
    /// Run under Agones: Ready, Health and labels through the SDK sidecar's REST gateway.
    #[arg(long)]
    agones: bool,
    /// The Agones sidecar's REST gateway. Default: http://127.0.0.1:$AGONES_SDK_HTTP_PORT (9358).
    #[arg(long, value_name = "URL", requires = "agones")]
    agones_sdk_url: Option<String>,
    /// The GameServer port (Fleet `ports[].name`) whose host port, with the GameServer's
    /// address, makes the public URL when --public-url is not given (Agones).
    #[arg(long, default_value = crate::cluster::agones::DEFAULT_PORT_NAME, value_name = "NAME", requires = "agones")]
    agones_port_name: String,
    /// How long an allocated server may stay empty before it shuts down (Agones).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    agones_empty_grace: std::time::Duration,
    /// Require a JWT signed with this HS256 secret (the file's bytes, a trailing newline
    /// dropped) to join: ?token=, Authorization: Bearer, or cookie tickwire_token.
    #[arg(long, value_name = "FILE", group = "jwt_key")]
    jwt_secret_file: Option<std::path::PathBuf>,
    /// Require a JWT signed by this public key (PEM: RSA for RS256, P-256 for ES256, Ed25519
    /// for EdDSA) to join.
    #[arg(long, value_name = "FILE", group = "jwt_key")]
    jwt_public_key_file: Option<std::path::PathBuf>,
    /// Require a JWT signed by a key of this JWKS (http://), picked by the token's kid; the
    /// set is fetched again for an unknown kid, at most once per --jwks-min-refresh.
    #[arg(long, value_name = "URL", group = "jwt_key")]
    jwks_url: Option<String>,
    /// The audience (aud) a JWT must name. Default: aud not checked.
    #[arg(long, value_name = "AUD", requires = "jwt_key")]
    jwt_audience: Option<String>,
    /// The issuer (iss) a JWT must carry. Default: iss not checked.
    #[arg(long, value_name = "ISS", requires = "jwt_key")]
    jwt_issuer: Option<String>,
    /// Clock skew allowed on a JWT's exp and nbf.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    jwt_leeway: std::time::Duration,
    /// Shortest time between two fetches of --jwks-url.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    jwks_min_refresh: std::time::Duration,
    /// Longest the token check of one handshake may take (a JWKS fetch included); then 503.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    auth_timeout: std::time::Duration,
    /// A second login of a user whose session is live here: take it over (the old connection
    /// is closed with 4006) or refuse it (409).
    #[arg(long, value_enum, default_value_t = DuplicateLogin::Takeover, value_name = "POLICY")]
    duplicate_login: DuplicateLogin,
}

impl<A: Args> ServeArgs<A> {
    fn config(&self) -> Result<ServerConfig, String> {
        let cluster = self.cluster()?;
        let defaults = ServerConfig::default();
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::net::tls::load(cert, key)?),
            _ => None,
        };
        Ok(ServerConfig {
            tick_rate_hz: self.tick_rate,
            max_clients: self.max_clients,
            max_connections_per_ip: self.max_connections_per_ip,
            input_buffer: self.input_buffer,
            max_inputs_per_tick: self.max_inputs_per_tick,
            input_rate_factor: self.input_rate_factor,
            max_lag_ticks: self.max_lag_ticks,
            history_ticks: self.history_ticks,
            socket_send_buffer: self.socket_send_buffer,
            socket_notsent_lowat: self.socket_notsent_lowat,
            read_probe_interval: self.read_probe_interval,
            read_probe_slack_ticks: self.read_probe_slack,
            descriptor_reserve: self.descriptor_reserve,
            tls,
            realtime_tick: self.realtime_tick,
            allowed_origins: self.allowed_origins.clone(),
            handshake_timeout: self.handshake_timeout,
            idle_timeout: self.idle_timeout,
            room_capacity: self.room_capacity,
            max_rooms: self.max_rooms,
            room_grace: self.room_grace,
            sim_threads: self.sim_threads,
            read_threads: self.io_threads,
            read_interval: self.read_interval,
            flush_threads: self.flush_threads,
            resume_window: self.resume_window,
            event_queue: self.event_queue,
            max_game_message_bytes: self.max_game_message_bytes,
            game_message_rate: self.game_message_rate,
            cluster,
            agones: self.agones(),
            auth_timeout: self.auth_timeout,
            duplicate_login: self.duplicate_login,
            admin_token: self.admin_token()?,
            ..defaults
        })
    }

    /// The JWT verifier the flags ask for, if any.
    fn jwt(&self) -> Result<Option<JwtVerifier>, String> {
        let key = if let Some(path) = &self.jwt_secret_file {
            JwtKey::Secret(read_key_file(path).map_err(|e| e.to_string())?)
        } else if let Some(path) = &self.jwt_public_key_file {
            JwtKey::PublicKeyPem(read_key_file(path).map_err(|e| e.to_string())?)
        } else if let Some(url) = &self.jwks_url {
            JwtKey::JwksUrl(url.clone())
        } else {
            return Ok(None);
        };
        let mut config = JwtConfig::new(key);
        config.audience = self.jwt_audience.clone();
        config.issuer = self.jwt_issuer.clone();
        config.leeway = self.jwt_leeway;
        config.jwks_min_refresh = self.jwks_min_refresh;
        JwtVerifier::new(config).map(Some).map_err(|e| e.to_string())
    }

    /// The operator console's token, if `--admin-token-file` names one.
    fn admin_token(&self) -> Result<Option<crate::admin::AdminToken>, String> {
        let Some(file) = &self.admin_token_file else { return Ok(None) };
        crate::admin::AdminToken::from_file(file).map(Some).map_err(|e| e.to_string())
    }

    fn cluster(&self) -> Result<Option<ClusterConfig>, String> {
        let Some(redis) = self.redis.as_ref() else { return Ok(None) };
        let public_url = self.public_url.as_deref().unwrap_or_default();
        let mut cluster = ClusterConfig::new(redis, public_url);
        if let Some(file) = &self.redis_password_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("--redis-password-file {}: {e}", file.display()))?;
            let password = text.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(format!("--redis-password-file {}: the file is empty", file.display()));
            }
            cluster.redis_password = Some(RedisPassword(password.to_owned()));
        }
        cluster.redis_ca_file = self.redis_ca_file.clone();
        if let Some(id) = &self.process_id {
            cluster.process_id = id.clone();
        }
        cluster.heartbeat = self.heartbeat;
        cluster.record_ttl = self.record_ttl;
        cluster.seat_ttl = self.seat_ttl;
        Ok(Some(cluster))
    }

    fn agones(&self) -> Option<AgonesConfig> {
        if !self.agones {
            return None;
        }
        let mut agones = AgonesConfig::default();
        if let Some(url) = &self.agones_sdk_url {
            agones.sdk_url = url.trim_end_matches('/').to_owned();
        }
        agones.empty_grace = self.agones_empty_grace;
        agones.port_name = self.agones_port_name.clone();
        Some(agones)
    }
}

/// What [`run`] needs of a game: a [`Game`] that is `Clone` (each room starts from a clone)
/// and, with the `bots` feature, a `bots::BotGame` (what `tickwire bots` sends).
#[cfg(feature = "bots")]
pub trait CliGame: crate::bots::BotGame + Clone {}
#[cfg(feature = "bots")]
impl<G: crate::bots::BotGame + Clone> CliGame for G {}

/// What [`run`] needs of a game: a [`Game`] that is `Clone` (each room starts from a clone).
#[cfg(not(feature = "bots"))]
pub trait CliGame: Game + Clone {}
#[cfg(not(feature = "bots"))]
impl<G: Game + Clone> CliGame for G {}

/// Runs the whole command line on this process's arguments for `game`, a game with no
/// flags of its own, whose page is `pages` (see [`crate::net::http::client_library`] for the
/// client library a page imports): `serve` (the default) with every flag, `bots`, `netsim`,
/// `config` and `schema [--typescript]`; every flag also from `TICKWIRE_*` variables and a
/// `--config` TOML file. Returns the process's exit code: `fn main() -> ExitCode { .. }`.
pub fn run<G>(game: G, pages: impl IntoIterator<Item = Page>) -> ExitCode
where
    G: CliGame,
{
    run_with(move |_: &NoArgs| Ok(game.clone()), pages)
}

/// [`run`] for a game built from flags of its own: `A` adds them to `serve` and `config`
/// (and to the file and environment layers), and `game` builds the game from their values,
/// or says why it cannot (printed, exit code 1). The `tickwire` binary is
/// `run_with(ArenaArgs::arena, demo_files())`.
pub fn run_with<A, G>(
    game: impl Fn(&A) -> Result<G, String>,
    pages: impl IntoIterator<Item = Page>,
) -> ExitCode
where
    A: Args + FromArgMatches + std::fmt::Debug + Clone,
    G: CliGame,
{
    let pages: Vec<Page> = pages.into_iter().collect();
    let loaded = match settings::load(Cli::<A>::command(), std::env::args_os(), NAMING) {
        Ok(loaded) => loaded,
        Err(SettingsError::Cli(error)) => error.exit(),
        Err(error @ (SettingsError::File(_) | SettingsError::Env { .. })) => {
            eprintln!("tickwire: {error}");
            return ExitCode::FAILURE;
        }
    };
    let cli = Cli::<A>::from_arg_matches(&loaded.matches).unwrap_or_else(|error| error.exit());
    init_logging(cli.log_format);
    for warning in &loaded.warnings {
        warn!("{warning}");
    }
    let result = match cli.command {
        None => serve(cli.serve, &game, pages),
        Some(Command::Serve(args)) => serve(*args, &game, pages),
        #[cfg(feature = "bots")]
        Some(Command::Bots(args)) => game(&cli.serve.game)
            .and_then(crate::bots::GameSpec::of)
            .and_then(|spec| crate::bots::cli::main(spec, args)),
        #[cfg(feature = "netsim")]
        Some(Command::Netsim(args)) => crate::netsim::cli::main(args, shutdown_signal()),
        Some(Command::Config(args)) => print_config(&loaded, &args, &game),
        Some(Command::Schema(args)) => game(&cli.serve.game).and_then(|g| schema(g, &args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tickwire: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr at `RUST_LOG`'s levels (default `info`), as text or JSON lines.
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // Fields stay fields (not folded into the message), and the current span's too.
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
    }
}

/// `tickwire config`: prints every setting with its source, then checks the whole of it as
/// `serve` would (the TLS files are loaded; nothing is bound).
fn print_config<A: Args, G>(
    loaded: &settings::Loaded,
    args: &ServeArgs<A>,
    game: impl Fn(&A) -> Result<G, String>,
) -> Result<(), String> {
    print!("{}", settings::report::render(&loaded.effective()));
    args.config()?.validate()?;
    game(&args.game).map(drop)
}

fn serve<A: Args, G: Game + Clone>(
    args: ServeArgs<A>,
    game: impl Fn(&A) -> Result<G, String>,
    pages: Vec<Page>,
) -> Result<(), String> {
    let config = args.config()?;
    config.validate()?;
    let game = game(&args.game)?;
    let jwt = args.jwt()?;
    let (http, ws) = if config.tls.is_some() { ("https", "wss") } else { ("http", "ws") };
    let io_threads = config.read_threads();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(io_threads)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        // One line on stdout, for people and for tests that start the server on port 0.
        println!(
            "tickwire: serving {http}://{addr}/ (demo) and {ws}://{addr}/ws (WebSocket, subprotocol {})",
            crate::protocol::SUBPROTOCOL
        );
        info!(tick_rate = config.tick_rate_hz, "server started");
        let mut server = Server::new(game).config(config).pages(pages);
        if let Some(jwt) = jwt {
            if let Some(jwks) = jwt.jwks()
                && let Err(error) = jwks.refresh().await
            {
                tracing::warn!(%error, "JWKS not fetched at startup; tried again after --jwks-min-refresh");
            }
            info!("joining requires a JWT");
            server = server.authenticator(jwt);
        }
        if let Some(bind) = args.admin_bind {
            let admin = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| format!("cannot listen on --admin-bind {bind}: {e}"))?;
            let addr = admin.local_addr().map_err(|e| e.to_string())?;
            println!("tickwire: admin routes and /metrics on http://{addr}/ only");
            server = server.admin_listener(admin);
        }
        server.run(listener, shutdown_signal()).await.map_err(|e| e.to_string())
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
