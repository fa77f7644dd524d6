//! Agones: the server against a stand-in for the SDK sidecar's REST gateway (an axum router
//! on an ephemeral port that records each call and keeps a GameServer's state and counters
//! as the sidecar does): Ready once listening, Health while rooms tick, self-allocation on
//! the first player, the `players` and `rooms` counters with their capacities, the public
//! URL read from the GameServer's address and named port, Shutdown once allocated and
//! empty for the grace, and a drained server that allocates no more and shows no room left.

mod common;
#[path = "common/redis.rs"]
#[allow(dead_code)]
mod redis_server;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::{TestServer, arena_spec, small_arena, within};
use redis_server::RedisServer;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickwire::arena::Arena;
use tickwire::bots::client::BotClient;
use tickwire::cluster::{AgonesConfig, ClusterConfig};
use tickwire::{Server, ServerConfig};

/// The sidecar's view of one GameServer.
#[derive(Default)]
struct Sidecar {
    calls: Mutex<Vec<String>>,
    allocated: AtomicBool,
    /// `POST /allocate` answers 503 (as when the GameServer cannot be allocated yet).
    refuse_allocate: AtomicBool,
    /// The host port Agones gave the port named `game`; 0: not yet.
    game_port: AtomicU16,
    /// Counter name → (count, capacity), for the counters the Fleet declares.
    counters: Mutex<HashMap<String, (i64, i64)>>,
}

impl Sidecar {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|calls| calls.clone()).unwrap_or_default()
    }

    fn saw(&self, call: &str) -> bool {
        self.calls().iter().any(|c| c == call)
    }

    fn counter(&self, name: &str) -> Option<(i64, i64)> {
        self.counters.lock().ok()?.get(name).copied()
    }

    fn record(&self, call: String) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call.trim().to_owned());
        }
    }
}

async fn record(State(sidecar): State<Arc<Sidecar>>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let path = parts.uri.path().to_owned();
    sidecar.record(format!("{} {path} {}", parts.method, String::from_utf8_lossy(&body)));
    match path.as_str() {
        "/allocate" if sidecar.refuse_allocate.load(Ordering::Relaxed) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "not now").into_response();
        }
        "/allocate" => sidecar.allocated.store(true, Ordering::Relaxed),
        "/gameserver" => return gameserver(&sidecar).into_response(),
        _ => {}
    }
    "{}".into_response()
}

fn gameserver(sidecar: &Sidecar) -> String {
    let state = if sidecar.allocated.load(Ordering::Relaxed) { "Allocated" } else { "Ready" };
    let ports = match sidecar.game_port.load(Ordering::Relaxed) {
        0 => json!([]),
        port => json!([{"name": "metrics", "port": 9100}, {"name": "game", "port": port}]),
    };
    let status = json!({"state": state, "address": "127.0.0.1", "ports": ports});
    json!({"object_meta": {"name": "gs-1"}, "status": status}).to_string()
}

/// `PATCH /v1beta1/counters/{name}` as the SDK server answers it: 404 for a counter the
/// GameServer does not declare, 400 for a count outside `0..=capacity`.
async fn patch_counter(
    State(sidecar): State<Arc<Sidecar>>,
    Path(name): Path<String>,
    body: String,
) -> Response {
    sidecar.record(format!("PATCH /v1beta1/counters/{name} {body}"));
    let Ok(update) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let int = |field: &str| {
        let value = update.get(field)?;
        value.as_i64().or_else(|| value.as_str()?.parse().ok())
    };
    let Ok(mut counters) = sidecar.counters.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(counter) = counters.get_mut(&name) else {
        return (StatusCode::NOT_FOUND, format!("counter not found: {name}")).into_response();
    };
    let capacity = int("capacity").unwrap_or(counter.1);
    let count = int("count").unwrap_or(counter.0);
    if !(0..=capacity).contains(&count) {
        return (StatusCode::BAD_REQUEST, "count out of range").into_response();
    }
    *counter = (count, capacity);
    json!({"name": name, "count": count.to_string(), "capacity": capacity.to_string()})
        .to_string()
        .into_response()
}

async fn fake_sidecar() -> (String, Arc<Sidecar>) {
    let sidecar = Arc::new(Sidecar::default());
    if let Ok(mut counters) = sidecar.counters.lock() {
        counters.insert("players".into(), (0, 0));
        counters.insert("rooms".into(), (0, 0));
    }
    let router = Router::new()
        .route("/ready", post(record))
        .route("/health", post(record))
        .route("/allocate", post(record))
        .route("/shutdown", post(record))
        .route("/gameserver", get(record))
        .route("/v1beta1/counters/{name}", axum::routing::patch(patch_counter))
        .with_state(sidecar.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, sidecar)
}

fn agones(sdk_url: String) -> AgonesConfig {
    AgonesConfig {
        sdk_url,
        health_every: Duration::from_millis(100),
        sync_every: Duration::from_millis(50),
        empty_grace: Duration::from_millis(400),
        address_wait: Duration::from_secs(3),
        ..AgonesConfig::default()
    }
}

async fn until(what: &str, check: impl Fn() -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "waited 5 s for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_counters_allocate_on_first_player_then_shutdown_when_empty() {
    let (sdk_url, sidecar) = fake_sidecar().await;
    let config = ServerConfig {
        agones: Some(agones(sdk_url)),
        max_clients: 100,
        room_capacity: Some(8),
        max_rooms: 4,
        ..ServerConfig::default()
    };
    let server = TestServer::start(config).await;
    until("Ready", || sidecar.saw("POST /ready {}")).await;
    until("Health", || sidecar.saw("POST /health {}")).await;
    // Capacities: 8 players × 4 rooms; 4 rooms. The lobby alone, empty, is no room in use.
    until("counters", || sidecar.counter("players") == Some((0, 32))).await;
    until("rooms counter", || sidecar.counter("rooms") == Some((0, 4))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!sidecar.saw("POST /allocate {}"), "no allocation without a player");
    assert!(!sidecar.saw("POST /shutdown {}"), "a Ready server is never shut down for being empty");

    let mut player = server.connect("ada").await;
    within(player.next_snapshot()).await.expect("plays");
    until("Allocate", || sidecar.saw("POST /allocate {}")).await;
    until("players counter", || sidecar.counter("players") == Some((1, 32))).await;
    until("rooms counter", || sidecar.counter("rooms") == Some((1, 4))).await;
    let allocations = sidecar.calls().iter().filter(|c| *c == "POST /allocate {}").count();
    assert_eq!(allocations, 1, "allocated once: {:?}", sidecar.calls());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!sidecar.saw("POST /shutdown {}"), "not while a player plays");

    player.close().await;
    until("counters back to zero", || sidecar.counter("players") == Some((0, 32))).await;
    until("Shutdown", || sidecar.saw("POST /shutdown {}")).await;
    // The server stops by itself: `run` returns.
    server.stop().await;
    let ready = sidecar.calls().iter().position(|c| c == "POST /ready {}");
    assert_eq!(ready, Some(0), "Ready comes first: {:?}", sidecar.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeclared_counter_does_not_stop_the_rest() {
    let (sdk_url, sidecar) = fake_sidecar().await;
    if let Ok(mut counters) = sidecar.counters.lock() {
        counters.remove("rooms");
    }
    let config = ServerConfig { agones: Some(agones(sdk_url)), ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    let mut player = server.connect("ada").await;
    within(player.next_snapshot()).await.expect("plays");
    until("Allocate", || sidecar.saw("POST /allocate {}")).await;
    until("players counter", || sidecar.counter("players").is_some_and(|(n, _)| n == 1)).await;
    until("Health", || sidecar.saw("POST /health {}")).await;
    player.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_url_is_the_gameservers_address_and_named_host_port() {
    let Some(redis) = RedisServer::start() else { return };
    let (sdk_url, sidecar) = fake_sidecar().await;
    let (redis_url, sidecar_port) = (redis.url(), sidecar.clone());
    let server = TestServer::start_with(Arena::new(small_arena()), move |addr: SocketAddr| {
        // Agones mapped the container port to this host port.
        sidecar_port.game_port.store(addr.port(), Ordering::Relaxed);
        let cluster = ClusterConfig::new(redis_url, "");
        ServerConfig {
            cluster: Some(cluster),
            agones: Some(agones(sdk_url)),
            ..ServerConfig::default()
        }
    })
    .await;
    let base = format!("http://{}", server.addr);
    let placement = within(async {
        loop {
            match tickwire::cluster::matchmake::request(&base, Some("duel")).await {
                Ok(placement) => break placement,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    let expected = format!("ws://127.0.0.1:{}/ws?", server.addr.port());
    assert!(placement.url.starts_with(&expected), "{} from {expected}", placement.url);
    let mut player =
        within(BotClient::connect(&placement.url, &arena_spec())).await.expect("joins");
    within(player.next_snapshot()).await.expect("plays");
    let calls = sidecar.calls();
    let read = calls.iter().position(|c| c == "GET /gameserver");
    let ready = calls.iter().position(|c| c == "POST /ready {}");
    assert!(read < ready && read.is_some(), "the address is read before Ready: {calls:?}");
    player.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gameserver_without_the_named_port_fails_the_start_with_the_reason() {
    let (sdk_url, _sidecar) = fake_sidecar().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let config = ServerConfig {
        cluster: Some(ClusterConfig::new("redis://127.0.0.1:1", "")),
        agones: Some(AgonesConfig { address_wait: Duration::from_millis(300), ..agones(sdk_url) }),
        ..ServerConfig::default()
    };
    let run =
        Server::new(Arena::new(small_arena())).config(config).run(listener, std::future::pending());
    let error = within(run).await.expect_err("no port, no start").to_string();
    assert!(error.contains("no port named \"game\""), "{error}");

    let alone = ServerConfig {
        cluster: Some(ClusterConfig::new("redis://127.0.0.1:1", "")),
        ..ServerConfig::default()
    };
    let error = alone.validate().expect_err("no public URL, no Agones");
    assert!(error.contains("--public-url"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_server_allocates_no_more_and_shows_no_room_left() {
    const TOKEN: &str = "an operator token long enough to be accepted";
    let (sdk_url, sidecar) = fake_sidecar().await;
    sidecar.refuse_allocate.store(true, Ordering::Relaxed);
    let config = ServerConfig {
        agones: Some(agones(sdk_url)),
        admin_token: Some(tickwire::admin::AdminToken::new(TOKEN).expect("long enough")),
        max_clients: 100,
        room_capacity: Some(8),
        max_rooms: 4,
        ..ServerConfig::default()
    };
    let server = TestServer::start(config).await;
    let mut player = server.connect("ada").await;
    within(player.next_snapshot()).await.expect("plays");
    until("counters", || sidecar.counter("players") == Some((1, 32))).await;
    until("an Allocate, refused", || sidecar.saw("POST /allocate {}")).await;
    let (status, body) = admin_post(server.addr, "/admin/api/drain", TOKEN).await;
    assert_eq!(status, 200, "{body}");
    // Draining: capacity down to the count, so no room is left for the allocator.
    until("players capacity", || sidecar.counter("players") == Some((1, 1))).await;
    until("rooms capacity", || sidecar.counter("rooms") == Some((1, 1))).await;
    // The sidecar would allocate now; a draining server no longer asks.
    let asked = sidecar.calls().iter().filter(|c| *c == "POST /allocate {}").count();
    sidecar.refuse_allocate.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = sidecar.calls().iter().filter(|c| *c == "POST /allocate {}").count();
    assert_eq!(after, asked, "no Allocate while draining: {:?}", sidecar.calls());
    assert!(!sidecar.allocated.load(Ordering::Relaxed));
    within(player.next_snapshot()).await.expect("the player in play stays");
    player.close().await;
    // Empty, the drained server stops by itself.
    server.stop().await;
}

/// `POST path` with the operator's bearer token: the status and the body.
async fn admin_post(addr: SocketAddr, path: &str, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    within(tcp.read_to_string(&mut response)).await.expect("read");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_owned();
    (status, body)
}
