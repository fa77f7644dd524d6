//! Agones: the game server's side of the SDK, through the sidecar's REST gateway (JSON over
//! HTTP on localhost, port `AGONES_SDK_HTTP_PORT`, 9358 by default), so no gRPC stack is
//! needed.
//!
//! - **Address.** With `--agones` and no `--public-url`, the URL that matchmaking hands out
//!   is read from the GameServer before anything else ([`public_url`]: `GET /gameserver`,
//!   `status.address` and the host port named [`AgonesConfig::port_name`] in
//!   `status.ports`), so the Fleet can use dynamic host ports.
//! - **Ready** once the server listens (`POST /ready`, retried until the sidecar answers).
//! - **Health** every `health_every` while every room ticks (what `/healthz` checks; a
//!   stalled room stops the pings and Agones marks the server Unhealthy).
//! - **Allocated** when a room gets its first player: the server allocates itself
//!   (`POST /allocate`), so scale-down and rollouts leave it alone and the Buffer autoscaler
//!   counts it as in use. tickwire keeps its own matchmaking (`POST /matchmake`), which
//!   therefore needs no Kubernetes API credentials for `GameServerAllocation`.
//! - **Counters** [`PLAYERS_COUNTER`] and [`ROOMS_COUNTER`] (beta API,
//!   `PATCH /v1beta1/counters/{name}` with `count` and `capacity`) whenever they change, so a
//!   Counter autoscaler and allocation filters see the real load and room left.
//! - **Draining** (an operator's drain, or a shutdown under way): no more self-allocation,
//!   and each counter's capacity is set to its count, so it shows no room left (capacity 0
//!   once empty) and the allocator and autoscaler treat the server as full.
//! - **Shutdown** when allocated and without a player for `empty_grace`: `POST /shutdown`,
//!   then this server stops itself (deregistered from the directory, clients closed with
//!   1001), so the fleet replaces it with a fresh Ready one.

use super::Local;
use super::http_client::request;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, info, warn};

/// The sidecar's REST port when `AGONES_SDK_HTTP_PORT` is not set.
pub const DEFAULT_SDK_HTTP_PORT: u16 = 9358;

/// Default time between two health pings: Agones' default `periodSeconds` is 5, so a ping
/// every 2 s survives one lost.
pub const DEFAULT_HEALTH_EVERY: Duration = Duration::from_secs(2);

/// Default time between two looks at the rooms (counters, self-allocation): a first player
/// allocates the server within a quarter second; a call is made only when something changed.
pub const DEFAULT_SYNC_EVERY: Duration = Duration::from_millis(250);

/// Default time an allocated server may stay empty before it shuts down: time for the
/// allocated players to connect, or to come back after a reload.
pub const DEFAULT_EMPTY_GRACE: Duration = Duration::from_secs(60);

/// Default longest wait at start for the GameServer's address and port (the sidecar may
/// start after the server, and the address is set once the pod is scheduled).
pub const DEFAULT_ADDRESS_WAIT: Duration = Duration::from_secs(30);

/// Default name of the GameServer port clients connect to (the Fleet's `ports[].name`).
pub const DEFAULT_PORT_NAME: &str = "game";

/// The Counter holding the players on this server; its capacity is the most it can hold.
/// Must be declared in the Fleet (`spec.template.spec.counters`).
pub const PLAYERS_COUNTER: &str = "players";

/// The Counter holding the rooms in use (with at least one player); its capacity is
/// `--max-rooms`. Must be declared in the Fleet.
pub const ROOMS_COUNTER: &str = "rooms";

/// How the server talks to the Agones sidecar.
#[derive(Debug, Clone)]
pub struct AgonesConfig {
    /// The sidecar's REST gateway, `http://host:port` (no trailing slash).
    pub sdk_url: String,
    /// Time between two health pings. Default [`DEFAULT_HEALTH_EVERY`].
    pub health_every: Duration,
    /// Time between two looks at the rooms for the counters and self-allocation. Default
    /// [`DEFAULT_SYNC_EVERY`].
    pub sync_every: Duration,
    /// Time an allocated server may have no player before it shuts down. Default
    /// [`DEFAULT_EMPTY_GRACE`].
    pub empty_grace: Duration,
    /// Longest wait at start for the GameServer's address when the public URL is read from
    /// it. Default [`DEFAULT_ADDRESS_WAIT`].
    pub address_wait: Duration,
    /// The GameServer port whose host port is the public one. Default [`DEFAULT_PORT_NAME`].
    pub port_name: String,
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
            sync_every: DEFAULT_SYNC_EVERY,
            empty_grace: DEFAULT_EMPTY_GRACE,
            address_wait: DEFAULT_ADDRESS_WAIT,
            port_name: DEFAULT_PORT_NAME.to_owned(),
        }
    }
}

/// The counters' capacities: what this server can hold at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Rooms: `--max-rooms`.
    pub rooms: usize,
    /// Players: room capacity × max rooms, at most `--max-clients`.
    pub players: usize,
}

/// Why the public address could not be read from the GameServer.
#[derive(Debug, thiserror::Error)]
#[error("Agones: no address and {port_name:?} port in the GameServer after {waited:?}: {last}")]
pub struct AddressError {
    /// The port name looked for.
    pub port_name: String,
    /// How long it waited.
    pub waited: Duration,
    /// The last reason (sidecar unreachable, field missing).
    pub last: String,
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
    pub fn start(
        config: AgonesConfig,
        capacity: Capacity,
        local: Arc<Local>,
        stop: oneshot::Sender<()>,
    ) -> Agones {
        let task = tokio::spawn(run(config, capacity, local, stop));
        Agones { task }
    }
}

/// This server's public WebSocket URL, `{scheme}://{status.address}:{host port}`, from
/// `GET /gameserver`; retried until [`AgonesConfig::address_wait`] has passed.
pub async fn public_url(config: &AgonesConfig, scheme: &str) -> Result<String, AddressError> {
    let deadline = Instant::now() + config.address_wait;
    loop {
        let last = match call(config, "GET", "/gameserver", "").await {
            Ok(body) => match address_of(&body, &config.port_name) {
                Ok((host, port)) if host.contains(':') => {
                    return Ok(format!("{scheme}://[{host}]:{port}"));
                }
                Ok((host, port)) => return Ok(format!("{scheme}://{host}:{port}")),
                Err(why) => why,
            },
            Err(error) => error,
        };
        if Instant::now() >= deadline {
            let (port_name, waited) = (config.port_name.clone(), config.address_wait);
            return Err(AddressError { port_name, waited, last });
        }
        debug!(%last, "Agones: no public address yet");
        tokio::time::sleep(config.health_every.min(Duration::from_millis(500))).await;
    }
}

/// The GameServer's `status.address` and the host port named `port_name` in
/// `status.ports`, from the JSON of `GET /gameserver`; `Err` says what is missing.
pub fn address_of(gameserver: &str, port_name: &str) -> Result<(String, u16), String> {
    let json: Value = serde_json::from_str(gameserver)
        .map_err(|e| format!("GET /gameserver answered no JSON: {e}"))?;
    let address = json.pointer("/status/address").and_then(Value::as_str).unwrap_or_default();
    if address.is_empty() {
        return Err("status.address is empty (the pod is not scheduled yet)".into());
    }
    let ports = json.pointer("/status/ports").and_then(Value::as_array);
    let port = ports
        .into_iter()
        .flatten()
        .find(|port| port.get("name").and_then(Value::as_str) == Some(port_name))
        .ok_or_else(|| format!("status.ports has no port named {port_name:?}"))?;
    // int32 is a JSON number; accept a string too, as proto3 JSON allows.
    let number = port.get("port").and_then(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok()));
    match number.and_then(|n| u16::try_from(n).ok()).filter(|&n| n != 0) {
        Some(number) => Ok((address.to_owned(), number)),
        None => Err(format!("port {port_name:?} has no host port yet")),
    }
}

async fn run(
    config: AgonesConfig,
    capacity: Capacity,
    local: Arc<Local>,
    stop: oneshot::Sender<()>,
) {
    ready(&config).await;
    let mut health = tokio::time::interval(config.health_every);
    let mut sync = tokio::time::interval(config.sync_every);
    health.set_missed_tick_behavior(MissedTickBehavior::Delay);
    sync.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut state = SyncState::default();
    let mut empty_since = Instant::now();
    loop {
        tokio::select! {
            _ = sync.tick() => state.sync(&config, capacity, &local).await,
            _ = health.tick() => {
                match (local.health)() {
                    Ok(()) => log(call(&config, "POST", "/health", "{}").await),
                    Err(reason) => warn!(%reason, "Agones: health ping withheld"),
                }
                let players: usize = (local.rooms)().iter().map(|room| room.players).sum();
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
    }
}

/// `POST /ready`, every `health_every` until the sidecar accepts it.
async fn ready(config: &AgonesConfig) {
    loop {
        match call(config, "POST", "/ready", "{}").await {
            Ok(_) => break,
            Err(error) => warn!(%error, "Agones sidecar: Ready not accepted yet"),
        }
        tokio::time::sleep(config.health_every).await;
    }
    info!(sdk = config.sdk_url, "Agones: Ready");
}

/// What the sidecar was last told successfully.
#[derive(Default)]
struct SyncState {
    /// This server allocated itself (or found itself allocated).
    allocated: bool,
    /// The last (count, capacity) each counter accepted.
    players: Option<(usize, usize)>,
    rooms: Option<(usize, usize)>,
    /// A counter update failed already (warned once, then debug).
    warned: bool,
}

impl SyncState {
    async fn sync(&mut self, config: &AgonesConfig, capacity: Capacity, local: &Local) {
        let rooms = (local.rooms)();
        let players: usize = rooms.iter().map(|room| room.players).sum();
        let in_use = rooms.iter().filter(|room| room.players > 0).count();
        // A draining server allocates no more and shows no room left: each counter's
        // capacity drops to its count (0 once empty), so `capacity - count`, what allocation
        // filters and the Counter autoscaler read as room left, is 0 while the count stays
        // true (Agones would truncate a count above its capacity).
        let draining = (local.draining)();
        if players > 0 && !self.allocated && !draining {
            match call(config, "POST", "/allocate", "{}").await {
                Ok(_) => {
                    info!(players, "Agones: Allocated (self-allocation on the first player)");
                    self.allocated = true;
                }
                Err(error) => warn!(%error, "Agones: Allocate failed, retrying"),
            }
        }
        let players = players.min(capacity.players);
        let wanted = (players, if draining { players } else { capacity.players });
        self.players = self.counter(config, PLAYERS_COUNTER, self.players, wanted).await;
        let in_use = in_use.min(capacity.rooms);
        let wanted = (in_use, if draining { in_use } else { capacity.rooms });
        self.rooms = self.counter(config, ROOMS_COUNTER, self.rooms, wanted).await;
    }

    /// Sets counter `name` to `wanted` (count, capacity) unless `last` says it holds it; the
    /// value the sidecar holds afterwards as far as this server knows.
    async fn counter(
        &mut self,
        config: &AgonesConfig,
        name: &str,
        last: Option<(usize, usize)>,
        wanted: (usize, usize),
    ) -> Option<(usize, usize)> {
        if last == Some(wanted) {
            return last;
        }
        // CounterUpdateRequest: int64 wrappers are strings in proto3 JSON.
        let body = serde_json::json!({
            "name": name,
            "count": wanted.0.to_string(),
            "capacity": wanted.1.to_string(),
        });
        match call(config, "PATCH", &format!("/v1beta1/counters/{name}"), &body.to_string()).await {
            Ok(_) => Some(wanted),
            Err(error) if !self.warned => {
                self.warned = true;
                warn!(%error, "Agones: counter update failed (is it declared in the Fleet's counters?)");
                last
            }
            Err(error) => {
                debug!(%error, "Agones: counter update failed");
                last
            }
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

/// Whether `GET /gameserver` says `status.state` is `Allocated` (an error counts as not).
async fn allocated(config: &AgonesConfig) -> bool {
    let Ok(body) = call(config, "GET", "/gameserver", "").await else { return false };
    let state = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|json| json.pointer("/status/state").and_then(|s| s.as_str()).map(str::to_owned));
    state.as_deref() == Some("Allocated")
}

fn log(result: Result<String, String>) {
    if let Err(error) = result {
        debug!(%error, "Agones sidecar call failed");
    }
}

#[cfg(test)]
mod tests {
    use super::address_of;

    #[test]
    fn the_address_and_the_named_host_port_are_read_from_the_status() {
        let json = r#"{"object_meta":{"name":"gs"},"status":{"state":"Scheduled",
            "address":"10.0.0.7","ports":[{"name":"metrics","port":7601},{"name":"game","port":7042}]}}"#;
        assert_eq!(address_of(json, "game"), Ok(("10.0.0.7".into(), 7042)));
        let text = r#"{"status":{"address":"h","ports":[{"name":"game","port":"7001"}]}}"#;
        assert_eq!(address_of(text, "game"), Ok(("h".into(), 7001)));
    }

    #[test]
    fn a_missing_address_or_port_is_named() {
        let unscheduled = r#"{"status":{"state":"Creating","address":"","ports":[]}}"#;
        assert!(address_of(unscheduled, "game").expect_err("an error").contains("status.address"));
        let other = r#"{"status":{"address":"h","ports":[{"name":"udp","port":7001}]}}"#;
        assert!(
            address_of(other, "game").expect_err("an error").contains("no port named \"game\"")
        );
        let zero = r#"{"status":{"address":"h","ports":[{"name":"game","port":0}]}}"#;
        assert!(address_of(zero, "game").expect_err("an error").contains("no host port"));
        assert!(address_of("<html>", "game").expect_err("an error").contains("no JSON"));
    }
}
