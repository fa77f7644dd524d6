//! Agones: the game server's side of the SDK, through the sidecar's REST gateway (JSON over
//! HTTP on localhost, port `AGONES_SDK_HTTP_PORT`, 9358 by default), so no gRPC stack is
//! needed.
//!
//! Once the server listens it calls `POST /ready` (retried until the sidecar answers); every
//! `health_every` it sends `POST /health` while every room ticks (what `/healthz` checks; a
//! stalled room stops the pings and Agones marks the server Unhealthy), sets the labels
//! `players` and `rooms` when they change (`PUT /metadata/label`), and reads
//! `GET /gameserver`. A server that Agones allocated and that has had no player for
//! `empty_grace` calls `POST /shutdown` and stops itself (clients closed with 1001,
//! deregistered from the directory), so the fleet replaces it with a fresh Ready one.

use super::Local;
use super::http_client::request;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// The sidecar's REST port when `AGONES_SDK_HTTP_PORT` is not set.
pub const DEFAULT_SDK_HTTP_PORT: u16 = 9358;

/// Default time between two health pings: Agones' default `periodSeconds` is 5, so a ping
/// every 2 s survives one lost.
pub const DEFAULT_HEALTH_EVERY: Duration = Duration::from_secs(2);

/// Default time an allocated server may stay empty before it shuts down: time for the
/// allocated players to connect, or to come back after a reload.
pub const DEFAULT_EMPTY_GRACE: Duration = Duration::from_secs(60);

/// How the server talks to the Agones sidecar.
#[derive(Debug, Clone)]
pub struct AgonesConfig {
    /// The sidecar's REST gateway, `http://host:port` (no trailing slash).
    pub sdk_url: String,
    /// Time between two health pings (and label updates). Default [`DEFAULT_HEALTH_EVERY`].
    pub health_every: Duration,
    /// Time an allocated server may have no player before it shuts down. Default
    /// [`DEFAULT_EMPTY_GRACE`].
    pub empty_grace: Duration,
}

impl Default for AgonesConfig {
    /// The sidecar on localhost, at `AGONES_SDK_HTTP_PORT` (set by Agones in the pod) or 9358.
    fn default() -> Self {
        let port = std::env::var("AGONES_SDK_HTTP_PORT")
            .ok()
            .and_then(|port| port.parse::<u16>().ok())
            .unwrap_or(DEFAULT_SDK_HTTP_PORT);
        AgonesConfig {
            sdk_url: format!("http://127.0.0.1:{port}"),
            health_every: DEFAULT_HEALTH_EVERY,
            empty_grace: DEFAULT_EMPTY_GRACE,
        }
    }
}

/// The SDK task; dropping it stops the calls.
pub struct Agones {
    task: JoinHandle<()>,
}

impl Drop for Agones {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Agones {
    /// Starts the SDK calls; `stop` is sent when the server should shut itself down.
    pub fn start(config: AgonesConfig, local: Arc<Local>, stop: oneshot::Sender<()>) -> Agones {
        let task = tokio::spawn(run(config, local, stop));
        Agones { task }
    }
}

async fn run(config: AgonesConfig, local: Arc<Local>, stop: oneshot::Sender<()>) {
    let mut every = tokio::time::interval(config.health_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match call(&config, "POST", "/ready", "{}").await {
            Ok(_) => break,
            Err(error) => warn!(%error, "Agones sidecar: Ready not accepted yet"),
        }
    }
    info!(sdk = config.sdk_url, "Agones: Ready");
    let mut labels = (usize::MAX, usize::MAX);
    let mut empty_since = Instant::now();
    loop {
        every.tick().await;
        match (local.health)() {
            Ok(()) => log(call(&config, "POST", "/health", "{}").await),
            Err(reason) => warn!(%reason, "Agones: health ping withheld"),
        }
        let rooms = (local.rooms)();
        let players: usize = rooms.iter().map(|room| room.players).sum();
        if labels != (players, rooms.len()) {
            labels = (players, rooms.len());
            log(label(&config, "players", players).await);
            log(label(&config, "rooms", rooms.len()).await);
        }
        if players > 0 || !allocated(&config).await {
            empty_since = Instant::now();
        } else if empty_since.elapsed() >= config.empty_grace {
            info!(grace = ?config.empty_grace, "Agones: allocated and empty for the grace period, shutting down");
            log(call(&config, "POST", "/shutdown", "{}").await);
            let _ = stop.send(());
            return;
        }
    }
}

async fn call(
    config: &AgonesConfig,
    method: &str,
    path: &str,
    body: &str,
) -> Result<String, String> {
    let url = format!("{}{path}", config.sdk_url);
    match request(method, &url, Some(body.to_owned())).await? {
        (200..=299, body) => Ok(body),
        (status, body) => Err(format!("{method} {url}: {status} {}", body.trim())),
    }
}

async fn label(config: &AgonesConfig, key: &str, value: usize) -> Result<String, String> {
    let body = serde_json::json!({ "key": key, "value": value.to_string() }).to_string();
    call(config, "PUT", "/metadata/label", &body).await
}

/// Whether `GET /gameserver` says `status.state` is `Allocated` (an error counts as not).
async fn allocated(config: &AgonesConfig) -> bool {
    let Ok(body) = call(config, "GET", "/gameserver", "").await else { return false };
    let state = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|json| json.pointer("/status/state").and_then(|s| s.as_str()).map(str::to_owned));
    state.as_deref() == Some("Allocated")
}

fn log(result: Result<String, String>) {
    if let Err(error) = result {
        debug!(%error, "Agones sidecar call failed");
    }
}
