//! The composition root: `Server::new(game).config(config).run(listener, shutdown)` wires
//! the rooms, the simulation pool, the HTTP routes and the connections together, and takes
//! them down in order.

use crate::admin::{self, AdminState, Series};
use crate::auth::Authenticator;
use crate::cluster::agones::{self, Agones};
use crate::cluster::heartbeat::Heartbeat;
use crate::cluster::{Cluster, Local};
use crate::config::ServerConfig;
use crate::context::Shared;
use crate::game::Game;
use crate::net::http::{self, Files, Page};
use crate::net::inbox::{Wire, WireOf};
use crate::net::tls::TlsListener;
use crate::net::{accept, descriptors};
use crate::room::{Room, RoomSettings};
use crate::rooms::Directory;
use crate::rooms::pool::GameFactory;
use crate::rooms::{DEFAULT_ROOM, SimPool};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tracing::{info, warn};

/// A game server: a game, its configuration and its pages.
///
/// Every room (`/ws?room=NAME`, the `lobby` by default) runs its own copy of the game: with
/// [`Server::new`] a clone of the value given, with [`Server::with_rooms`] whatever the
/// factory makes for the room's name.
///
/// ```no_run
/// # use tickwire::{Game, Server, ServerConfig};
/// # async fn serve<G: Game + Clone>(game: G) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let shutdown = async { tokio::signal::ctrl_c().await.ok(); };
/// Server::new(game).config(ServerConfig::default()).run(listener, shutdown).await
/// # }
/// ```
pub struct Server<G: Game> {
    factory: GameFactory<G>,
    config: ServerConfig,
    files: Files,
    authenticator: Option<Arc<dyn Authenticator>>,
    admin_listener: Option<TcpListener>,
}

impl<G: Game> Server<G> {
    /// A server for `game` with the default configuration and no pages; each room starts
    /// from a clone of `game`.
    pub fn new(game: G) -> Server<G>
    where
        G: Clone,
    {
        // Behind a mutex so that a game need not be `Sync` to be cloned from any thread.
        let game = Mutex::new(game);
        Server::with_rooms(move |_| game.lock().unwrap_or_else(PoisonError::into_inner).clone())
    }

    /// A server whose rooms each start from `factory(room_name)`: a game that is not
    /// `Clone`, or that sets each room up differently (a map or a mode per room name).
    pub fn with_rooms(factory: impl Fn(&str) -> G + Send + Sync + 'static) -> Server<G> {
        let (factory, files) = (Arc::new(factory), Arc::new([]));
        let config = ServerConfig::default();
        Server { factory, config, files, authenticator: None, admin_listener: None }
    }

    /// Sets the configuration.
    pub fn config(mut self, config: ServerConfig) -> Server<G> {
        self.config = config;
        self
    }

    /// Serves `files` (path relative to `/`, contents) as the game's pages; `index.html` is
    /// served at `/`.
    pub fn pages(mut self, files: impl IntoIterator<Item = Page>) -> Server<G> {
        self.files = files.into_iter().collect();
        self
    }

    /// Decides who may join with `authenticator`, before each WebSocket upgrade: clients it
    /// refuses get `401` or `403` with its reason, and the identity of those it lets in
    /// reaches the game in [`crate::ClientInfo::identity`]. Without one, everyone joins as a
    /// guest. See [`crate::auth`].
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Server<G> {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Serves `/metrics` and the console (with [`ServerConfig::admin_token`]) on `listener`,
    /// an internal address (`--admin-bind`), and no longer on the public one.
    pub fn admin_listener(mut self, listener: TcpListener) -> Server<G> {
        self.admin_listener = Some(listener);
        self
    }

    /// Serves until `shutdown` completes, then closes every client with 1001 and returns.
    /// Fails at once if the configuration or the game's registrations are invalid.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Server { factory, config, files, authenticator, admin_listener } = self;
        config.validate().map_err(std::io::Error::other)?;
        let settings = RoomSettings::from_config(&config);
        // Built once here so that a game with invalid registrations fails `run` at once; each
        // room builds its own world on its simulation thread.
        Room::new(factory(DEFAULT_ROOM), settings).map_err(std::io::Error::other)?;
        let mut shared = Shared::new(config);
        shared.authenticator = authenticator;
        let shared = Arc::new(shared);
        let (pool, directory) = SimPool::start(shared.clone(), factory, settings)?;
        directory.open_permanent(DEFAULT_ROOM).map_err(std::io::Error::other)?;
        let local = Arc::new(Local {
            rooms: Box::new({
                let (shared, directory) = (shared.clone(), directory.clone());
                move || http::room_infos(&shared, &directory)
            }),
            statuses: Box::new({
                let directory = directory.clone();
                move || directory.list()
            }),
            health: Box::new({
                let (shared, directory) = (shared.clone(), directory.clone());
                move || http::health(&shared, &directory)
            }),
            max_rooms: shared.config.max_rooms,
            capacity: shared.config.room_capacity(),
            fence: shared.fence.clone(),
            beat: Box::new({
                let shared = shared.clone();
                move |answered| shared.metrics.directory_beat(answered)
            }),
            draining: Box::new({
                let shared = shared.clone();
                move || shared.is_draining() || shared.is_shutting_down()
            }),
        });
        let drained = admin::drain::until_drained(shared.clone(), directory.clone());
        let shutdown = async move {
            tokio::select! {
                () = shutdown => {}
                () = drained => {}
            }
        };
        let (cluster, shutdown) = scale_out(&shared.config, local, shutdown).await?;
        let (internal, _sampling) = internal_routes(&shared, &directory);
        let router = http::router::<WireOf<G>>(shared.clone(), directory, files, cluster);
        let (router, _internal) = match admin_listener {
            Some(listener) => (router, Some(serve_internal(listener, internal)?)),
            None => (router.merge(internal), None),
        };
        serve(listener, shared, router, pool, shutdown).await
    }
}

/// The operators' routes: `/metrics`, and with an admin token the console and its API (whose
/// figures are sampled by a task that ends when the returned handle drops).
fn internal_routes<W: Wire>(
    shared: &Arc<Shared>,
    rooms: &Arc<Directory<W>>,
) -> (axum::Router, Option<AbortOnDrop>) {
    let metrics = http::metrics_router(shared.clone());
    let Some(token) = shared.config.admin_token.clone() else { return (metrics, None) };
    let (series, sampling) = Series::start(shared.clone(), rooms.clone());
    let state = AdminState { shared: shared.clone(), rooms: rooms.clone(), series, token };
    (metrics.merge(admin::router(state)), Some(AbortOnDrop(sampling)))
}

/// Serves `router` on the admin listener until the returned handle drops.
fn serve_internal(listener: TcpListener, router: axum::Router) -> std::io::Result<AbortOnDrop> {
    let addr = listener.local_addr()?;
    info!(%addr, "serving /metrics and the admin routes on the admin listener");
    Ok(AbortOnDrop(tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            warn!(%error, "the admin listener stopped");
        }
    })))
}

/// Joins the cluster (`config.cluster`) and starts the Agones calls (`config.agones`), if
/// asked; returns the cluster for the routes and the shutdown to wait for: the given one, or
/// Agones asking for it, after which this process leaves the directory before its clients
/// are closed.
async fn scale_out(
    config: &ServerConfig,
    local: Arc<Local>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(Option<Arc<Cluster>>, impl Future<Output = ()> + Send + 'static)> {
    let cluster = match config.cluster.clone() {
        Some(mut cluster) => {
            if cluster.public_url.is_empty() {
                cluster.public_url = agones_url(config).await?;
            }
            Some(Cluster::new(cluster, local.clone()).map_err(std::io::Error::other)?)
        }
        None => None,
    };
    let heartbeat = match &cluster {
        Some(cluster) => {
            Some(Heartbeat::start(cluster.clone()).await.map_err(std::io::Error::other)?)
        }
        None => None,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let capacity = agones::Capacity {
        rooms: config.max_rooms,
        players: config.room_capacity().saturating_mul(config.max_rooms).min(config.max_clients),
    };
    let agones = config.agones.clone().map(|agones| Agones::start(agones, capacity, local, stop));
    let leaving = cluster.clone();
    let shutdown = async move {
        tokio::select! {
            () = shutdown => {}
            Ok(()) = stopped => {}
        }
        drop(agones);
        if let (Some(heartbeat), Some(cluster)) = (heartbeat, leaving) {
            heartbeat.stop(&cluster).await;
        }
    };
    Ok((cluster, shutdown))
}

/// The public URL of a clustered server given no `--public-url`: read from its Agones
/// GameServer (`ServerConfig::validate` made sure Agones is configured).
async fn agones_url(config: &ServerConfig) -> std::io::Result<String> {
    let agones = config.agones.as_ref().ok_or_else(|| {
        std::io::Error::other("a clustered server needs --public-url (or --agones to read it)")
    })?;
    let scheme = if config.tls.is_some() { "wss" } else { "ws" };
    let url = agones::public_url(agones, scheme).await.map_err(std::io::Error::other)?;
    info!(url, "Agones: public URL from the GameServer's address and port");
    Ok(url)
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    router: axum::Router,
    pool: SimPool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let signal = {
        let shared = shared.clone();
        async move {
            shutdown.await;
            info!("shutting down");
            shared.shutting_down.store(true, Ordering::Release);
            let _ = stop_http.send(());
        }
    };
    // Held by this future: a server whose `run` is dropped (aborted) stops its heartbeats
    // without deregistering, as a crashed process would.
    let signal = tokio::spawn(signal);
    let _signal = AbortOnDrop(signal);
    let (send_buffer, lowat) =
        (shared.config.socket_send_buffer, shared.config.socket_notsent_lowat);
    let tune = move |tcp: &tokio::net::TcpStream| tune_socket(tcp, send_buffer, lowat);
    let stop = async move {
        let _ = http_stopped.await;
    };
    let (timeout, grace) = (shared.config.handshake_timeout, shared.config.close_timeout);
    let budget = descriptors::budget(shared.config.max_clients, shared.config.descriptor_reserve);
    match shared.config.tls.clone() {
        Some(tls) => {
            let listener = TlsListener::new(listener, tls, timeout, tune).inspect_err(|_| {
                shared.shutting_down.store(true, Ordering::Release);
            })?;
            accept::serve(listener, router, budget, timeout, grace, stop).await;
        }
        None => {
            let listener = descriptors::Accepting::new(listener, tune);
            accept::serve(listener, router, budget, timeout, grace, stop).await;
        }
    }

    // The simulation threads close every client with 1001 when they see the flag; wait for
    // them, then give the connections the close timeout to deliver their close frames.
    let joined = tokio::task::spawn_blocking(move || pool.join()).await;
    if !matches!(joined, Ok(true)) {
        warn!("a simulation thread ended abnormally");
    }
    let deadline = Instant::now() + shared.config.close_timeout;
    while shared.connections.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `TCP_NODELAY` on (a snapshot must leave when written), the configured send buffer, and
/// the bound on unsent bytes (`TCP_NOTSENT_LOWAT`, `lowat` 0: the kernel's).
fn tune_socket(tcp: &tokio::net::TcpStream, send_buffer: Option<usize>, lowat: u32) {
    if let Err(error) = tcp.set_nodelay(true) {
        warn!(%error, "TCP_NODELAY not set");
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if lowat > 0
        && let Err(error) = socket2::SockRef::from(tcp).set_tcp_notsent_lowat(lowat)
    {
        warn!(%error, lowat, "TCP_NOTSENT_LOWAT not set");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = lowat;
    if let Some(bytes) = send_buffer
        && let Err(error) = socket2::SockRef::from(tcp).set_send_buffer_size(bytes)
    {
        warn!(%error, bytes, "SO_SNDBUF not set");
    }
}
