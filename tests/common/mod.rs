//! Starts a real server on 127.0.0.1:0 for a test and stops it when the handle drops.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;
use tickwire::arena::{Arena, ArenaConfig};
use tickwire::bots::{BotClient, GameSpec};
use tickwire::config::ServerConfig;
use tickwire::{Game, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server. Dropping it (or calling [`TestServer::stop`]) shuts it down.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Starts the arena with the default arena settings.
    pub async fn start(config: ServerConfig) -> TestServer {
        TestServer::start_arena(config, ArenaConfig::default()).await
    }

    /// Starts the arena.
    pub async fn start_arena(config: ServerConfig, arena: ArenaConfig) -> TestServer {
        TestServer::start_game(Arena::new(arena), config).await
    }

    /// Starts any game.
    pub async fn start_game<G: Game + Clone>(game: G, config: ServerConfig) -> TestServer {
        TestServer::start_with(game, |_| config).await
    }

    /// Starts any game with a configuration that depends on the address it listens on.
    pub async fn start_with<G: Game + Clone>(
        game: G,
        config: impl FnOnce(SocketAddr) -> ServerConfig,
    ) -> TestServer {
        TestServer::start_built(game, config, |server| server).await
    }

    /// Starts the arena with `authenticator` deciding who joins.
    pub async fn start_authenticated(
        config: ServerConfig,
        authenticator: impl tickwire::auth::Authenticator,
    ) -> TestServer {
        let arena = Arena::new(small_arena());
        TestServer::start_built(arena, |_| config, |server| server.authenticator(authenticator))
            .await
    }

    /// Starts any game, with `build` adding to the server before it runs.
    pub async fn start_built<G: Game + Clone>(
        game: G,
        config: impl FnOnce(SocketAddr) -> ServerConfig,
        build: impl FnOnce(Server<G>) -> Server<G>,
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = config(addr);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = build(Server::new(game))
            .config(config)
            .pages(tickwire::net::http::demo_files().iter().copied());
        let task = tokio::spawn(server.run(listener, async move {
            let _ = stopped.await;
        }));
        TestServer { addr, stop: Some(stop), task: Some(task) }
    }

    pub async fn start_default() -> TestServer {
        TestServer::start(ServerConfig::default()).await
    }

    /// A small fast arena.
    pub async fn start_small() -> TestServer {
        TestServer::start_arena(ServerConfig::default(), small_arena()).await
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub async fn connect(&self, name: &str) -> BotClient {
        let url = format!("{}?name={name}", self.ws_url());
        within(BotClient::connect(&url, &arena_spec())).await.expect("connects")
    }

    /// Drops the server's `run` future without a shutdown: no deregistration, no close frames
    /// from it (what a crash looks like from outside, as far as one process can show it).
    pub fn crash(mut self) {
        // Kept alive (leaked): dropping the sender would start a clean shutdown.
        std::mem::forget(self.stop.take());
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Shuts the server down and waits until `run` returns.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(10), task).await;
            let joined = result.expect("server stops within 10 s").expect("server task");
            joined.expect("server run returns Ok");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Bounds any wait in a test to 10 seconds.
pub async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), future).await.expect("finished within 10 s")
}

/// The arena as the bots see it.
pub fn arena_spec() -> GameSpec {
    GameSpec::of(Arena::default()).expect("the arena registers")
}

/// A small arena: 60 units, 10 orbs.
pub fn small_arena() -> ArenaConfig {
    ArenaConfig { size: 60.0, orbs: 10, ..ArenaConfig::default() }
}

/// A GET over a fresh connection to `addr`: the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    within(tcp.read_to_string(&mut response)).await.expect("read");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, body.to_owned())
}

/// Opens a WebSocket to `server` with a 2 KiB receive buffer, for a test that never reads
/// from it (a stalled client).
pub async fn connect_without_reading(
    server: &TestServer,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(2048).expect("rcvbuf");
    let tcp = socket.connect(server.addr).await.expect("connect");
    let mut request = server.ws_url().into_client_request().expect("request");
    let protocol = HeaderValue::from_static(tickwire::protocol::SUBPROTOCOL);
    request.headers_mut().insert("Sec-WebSocket-Protocol", protocol);
    let (stalled, _) =
        within(tokio_tungstenite::client_async(request, tcp)).await.expect("handshake");
    stalled
}

/// Runs the bots of `options` to their end (bounded: the run's duration plus 15 s).
pub async fn run_bots(
    game: &GameSpec,
    options: &tickwire::bots::load::LoadOptions,
) -> tickwire::bots::report::Report {
    let bound = options.duration + Duration::from_secs(15);
    tokio::time::timeout(bound, tickwire::bots::load::run(game, options, std::future::pending()))
        .await
        .expect("the run ends at its duration plus grace")
        .expect("the run starts")
}
