//! Agones: the server against a stand-in for the SDK sidecar's REST gateway (an axum router
//! on an ephemeral port that records each call): Ready once listening, Health while rooms
//! tick, players and rooms as labels, and Shutdown once allocated and empty for the grace.

mod common;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post, put};
use common::{TestServer, within};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickwire::ServerConfig;
use tickwire::cluster::AgonesConfig;

#[derive(Default)]
struct Sidecar {
    calls: Mutex<Vec<String>>,
    allocated: AtomicBool,
}

impl Sidecar {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|calls| calls.clone()).unwrap_or_default()
    }

    fn saw(&self, call: &str) -> bool {
        self.calls().iter().any(|c| c == call)
    }
}

async fn record(State(sidecar): State<Arc<Sidecar>>, request: axum::extract::Request) -> String {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let call = format!("{} {} {}", parts.method, parts.uri.path(), String::from_utf8_lossy(&body));
    if let Ok(mut calls) = sidecar.calls.lock() {
        calls.push(call.trim().to_owned());
    }
    if parts.uri.path() == "/gameserver" {
        let state = if sidecar.allocated.load(Ordering::Relaxed) { "Allocated" } else { "Ready" };
        return format!(r#"{{"object_meta":{{"name":"gs-1"}},"status":{{"state":"{state}"}}}}"#);
    }
    "{}".into()
}

async fn fake_sidecar() -> (String, Arc<Sidecar>) {
    let sidecar = Arc::new(Sidecar::default());
    let router = Router::new()
        .route("/ready", post(record))
        .route("/health", post(record))
        .route("/shutdown", post(record))
        .route("/metadata/label", put(record))
        .route("/gameserver", get(record))
        .with_state(sidecar.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, sidecar)
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
async fn ready_health_labels_then_shutdown_when_allocated_and_empty() {
    let (sdk_url, sidecar) = fake_sidecar().await;
    let agones = AgonesConfig {
        sdk_url,
        health_every: Duration::from_millis(100),
        empty_grace: Duration::from_millis(400),
    };
    let config = ServerConfig { agones: Some(agones), ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    until("Ready", || sidecar.saw("POST /ready {}")).await;
    until("Health", || sidecar.saw("POST /health {}")).await;
    until("labels", || sidecar.saw(r#"PUT /metadata/label {"key":"players","value":"0"}"#)).await;
    assert!(
        sidecar.saw(r#"PUT /metadata/label {"key":"rooms","value":"1"}"#),
        "{:?}",
        sidecar.calls()
    );

    let mut player = server.connect("ada").await;
    within(player.next_snapshot()).await.expect("plays");
    until("players label", || sidecar.saw(r#"PUT /metadata/label {"key":"players","value":"1"}"#))
        .await;
    sidecar.allocated.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!sidecar.saw("POST /shutdown {}"), "not while a player plays");

    player.close().await;
    until("Shutdown", || sidecar.saw("POST /shutdown {}")).await;
    // The server stops by itself: `run` returns.
    server.stop().await;
    let ready = sidecar.calls().iter().position(|c| c == "POST /ready {}");
    assert_eq!(ready, Some(0), "Ready comes first: {:?}", sidecar.calls());
}
