//! The admin routes: the console page (`/admin`) and the JSON API under `/admin/api/`, every
//! API route behind the bearer token ([`super::token::require`]).
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /admin` | the console page (it asks for the token and sends it with each call) |
//! | `GET /admin/api/rooms` | every room with its players, capacity, uptime, tick times, bytes/s |
//! | `GET /admin/api/rooms/{room}/clients` | the room's clients |
//! | `POST /admin/api/rooms/{room}/clients/{id}/kick` | closes the client with 4009 |
//! | `POST /admin/api/rooms/{room}/close` | closes every client of the room with 4010 |
//! | `POST /admin/api/rooms/{room}/notice` | sends every client of the room a notice |
//! | `POST /admin/api/drain` | no new players here; shut down once empty |
//! | `GET /admin/api/closes` | the last closes sent, newest first |
//! | `GET /admin/api/series` | the server's figures, one sample a second |
//!
//! `docs/operations.md` gives each shape.

use super::command::{ClientRow, Command, MAX_OPERATOR_REASON_BYTES};
use super::series::{SAMPLE_PERIOD, Sample, Series};
use super::token::{self, AdminToken};
use crate::context::Shared;
use crate::net::inbox::{Event, Wire};
use crate::protocol::MAX_NOTICE_BYTES;
use crate::rooms::Directory;
use crate::rooms::figures::TickPercentiles;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the API waits for a room's tick to take and answer a command: a room that
/// ticks answers within one period; one that does not for this long is stalled.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// What the admin routes reach.
pub struct AdminState<W: Wire> {
    /// The server's shared state.
    pub shared: Arc<Shared>,
    /// Its rooms.
    pub rooms: Arc<Directory<W>>,
    /// The sampled figures.
    pub series: Arc<Series>,
    /// The operator's token.
    pub token: AdminToken,
}

impl<W: Wire> Clone for AdminState<W> {
    fn clone(&self) -> Self {
        AdminState {
            shared: self.shared.clone(),
            rooms: self.rooms.clone(),
            series: self.series.clone(),
            token: self.token.clone(),
        }
    }
}

/// The console's routes: the page, and the API behind the token.
pub fn router<W: Wire>(state: AdminState<W>) -> Router {
    let auth = axum::middleware::from_fn_with_state(state.token.clone(), token::require);
    let api = Router::new()
        .route("/rooms", get(rooms::<W>))
        .route("/rooms/{room}/clients", get(clients::<W>))
        .route("/rooms/{room}/clients/{id}/kick", post(kick::<W>))
        .route("/rooms/{room}/close", post(close::<W>))
        .route("/rooms/{room}/notice", post(notice::<W>))
        .route("/drain", post(drain::<W>))
        .route("/closes", get(closes::<W>))
        .route("/series", get(series::<W>))
        .layer(auth)
        .with_state(state);
    Router::new()
        .route("/admin", get(|| async { page("index.html") }))
        .route("/admin/", get(|| async { page("index.html") }))
        .route("/admin/admin.js", get(|| async { page("admin.js") }))
        .nest("/admin/api", api)
}

/// The console's files, embedded: they are served only where the API is.
fn page(name: &str) -> Response {
    let (body, content_type): (&'static [u8], _) = match name {
        "index.html" => (include_bytes!("page/index.html"), "text/html; charset=utf-8"),
        _ => (include_bytes!("page/admin.js"), "text/javascript; charset=utf-8"),
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body)
        .into_response()
}

fn json<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// Why an admin call failed: its status and the reason in the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// `400`: the body or the reason is not acceptable.
    #[error("{0}")]
    BadRequest(String),
    /// `404`: no such room or client.
    #[error("{0}")]
    NotFound(String),
    /// `503`: the room did not answer in time.
    #[error("{0}")]
    Unavailable(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, format!("{self}\n")).into_response()
    }
}

/// One room as the console lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdminRoom {
    /// Its name.
    pub name: String,
    /// Connections holding a place in it.
    pub players: usize,
    /// Sessions waiting to be resumed.
    pub waiting: usize,
    /// Players it holds at most.
    pub capacity: usize,
    /// Seconds since it opened.
    pub uptime_seconds: f64,
    /// The latest tick run.
    pub tick: u32,
    /// Tick duration and lateness percentiles over its recent ticks.
    #[serde(flatten)]
    pub ticks: TickPercentiles,
    /// Snapshot bytes handed to its connections per second, over the last second.
    pub bytes_per_second: f64,
}

/// The body of `GET /admin/api/rooms`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdminRooms {
    /// Every open room, by name.
    pub rooms: Vec<AdminRoom>,
    /// Most rooms the server opens.
    pub max_rooms: usize,
    /// Its ticks per second.
    pub tick_rate_hz: u16,
    /// Whether an operator is draining the server.
    pub draining: bool,
}

async fn rooms<W: Wire>(State(state): State<AdminState<W>>) -> Response {
    let rooms = (state.rooms.list().iter())
        .map(|room| AdminRoom {
            name: room.name.clone(),
            players: room.members(),
            waiting: room.waiting(),
            capacity: room.capacity,
            uptime_seconds: (room.uptime().as_secs_f64() * 10.0).round() / 10.0,
            tick: room.tick.load(std::sync::atomic::Ordering::Relaxed),
            ticks: room.figures.percentiles(),
            bytes_per_second: state.series.bytes_per_second(&room.name),
        })
        .collect();
    let config = &state.shared.config;
    let draining = state.shared.is_draining();
    json(&AdminRooms {
        rooms,
        max_rooms: config.max_rooms,
        tick_rate_hz: config.tick_rate_hz,
        draining,
    })
}

/// The body of `GET /admin/api/rooms/{room}/clients`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdminClients {
    /// The room.
    pub room: String,
    /// Its connected clients, by id.
    pub clients: Vec<ClientRow>,
}

async fn clients<W: Wire>(
    State(state): State<AdminState<W>>,
    Path(room): Path<String>,
) -> Response {
    match ask(&state.rooms, &room, |reply| Command::Clients { reply }).await {
        Ok(mut clients) => {
            clients.sort_by_key(|client| client.client_id);
            json(&AdminClients { room, clients })
        }
        Err(error) => error.into_response(),
    }
}

/// The body of an action: the operator's reason, which the clients are shown.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Action {
    #[serde(default)]
    reason: String,
}

/// The operator's reason from an action's body (JSON `{"reason": "..."}`, or empty), checked.
fn reason(body: &[u8]) -> Result<String, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    let action: Action = serde_json::from_slice(body).map_err(|error| {
        ApiError::BadRequest(format!("body: expected {{\"reason\": \"...\"}}: {error}"))
    })?;
    let reason = action.reason.trim().to_owned();
    if reason.len() > MAX_OPERATOR_REASON_BYTES || reason.chars().any(char::is_control) {
        let limit = format!("at most {MAX_OPERATOR_REASON_BYTES} bytes, no control characters");
        return Err(ApiError::BadRequest(format!("reason: {limit}")));
    }
    Ok(reason)
}

/// "`what`: `reason`", or `what` alone for no reason.
fn close_reason(what: &str, reason: &str) -> String {
    if reason.is_empty() { what.to_owned() } else { format!("{what}: {reason}") }
}

/// The body of a kick or a close.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActionDone {
    /// The room.
    pub room: String,
    /// Clients closed.
    pub closed: usize,
    /// The close reason they were sent.
    pub reason: String,
}

async fn kick<W: Wire>(
    State(state): State<AdminState<W>>,
    Path((room, client_id)): Path<(String, u32)>,
    body: Bytes,
) -> Response {
    let reason = match reason(&body) {
        Ok(reason) => close_reason("kicked by the operator", &reason),
        Err(error) => return error.into_response(),
    };
    let sent = reason.clone();
    match ask(&state.rooms, &room, |reply| Command::Kick { client_id, reason: sent, reply }).await {
        Ok(true) => json(&ActionDone { room, closed: 1, reason }),
        Ok(false) => {
            ApiError::NotFound(format!("no client {client_id} in room {room}")).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn close<W: Wire>(
    State(state): State<AdminState<W>>,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let reason = match reason(&body) {
        Ok(reason) => close_reason("room closed by the operator", &reason),
        Err(error) => return error.into_response(),
    };
    let sent = reason.clone();
    match ask(&state.rooms, &room, |reply| Command::Close { reason: sent, reply }).await {
        Ok(closed) => json(&ActionDone { room, closed, reason }),
        Err(error) => error.into_response(),
    }
}

/// The body of a notice.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeBody {
    text: String,
}

/// The answer to a notice.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NoticeSent {
    /// The room.
    pub room: String,
    /// Clients it was queued for.
    pub sent: usize,
}

async fn notice<W: Wire>(
    State(state): State<AdminState<W>>,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let text = match notice_text(&body) {
        Ok(text) => text,
        Err(error) => return error.into_response(),
    };
    match ask(&state.rooms, &room, |reply| Command::Notice { text, reply }).await {
        Ok(sent) => json(&NoticeSent { room, sent }),
        Err(error) => error.into_response(),
    }
}

/// The text of a notice's body (JSON `{"text": "..."}`), checked.
fn notice_text(body: &[u8]) -> Result<String, ApiError> {
    let body: NoticeBody = serde_json::from_slice(body).map_err(|error| {
        ApiError::BadRequest(format!("body: expected {{\"text\": \"...\"}}: {error}"))
    })?;
    let text = body.text.trim().to_owned();
    if text.is_empty() || text.len() > MAX_NOTICE_BYTES || text.chars().any(char::is_control) {
        let limit = format!("1 to {MAX_NOTICE_BYTES} bytes, no control characters");
        return Err(ApiError::BadRequest(format!("text: {limit}")));
    }
    Ok(text)
}

/// Sends `room` a command and waits for its tick's answer; `Err` is the response to give:
/// `404` for a room not open, `503` for a room that did not answer in [`COMMAND_TIMEOUT`].
async fn ask<W: Wire, T>(
    rooms: &Directory<W>,
    room: &str,
    command: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Result<T, ApiError> {
    let Some(inbox) = rooms.inbox(room) else {
        return Err(ApiError::NotFound(format!("no room {room} is open")));
    };
    let (reply, answer) = oneshot::channel();
    let asked = async {
        inbox.send(Event::Admin(command(reply))).await.ok()?;
        answer.await.ok()
    };
    match tokio::time::timeout(COMMAND_TIMEOUT, asked).await {
        Ok(Some(answer)) => Ok(answer),
        Ok(None) => Err(ApiError::NotFound(format!("room {room} closed meanwhile"))),
        Err(_) => Err(ApiError::Unavailable(format!(
            "room {room} did not answer within {} s",
            COMMAND_TIMEOUT.as_secs()
        ))),
    }
}

/// The answer to `POST /admin/api/drain`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Draining {
    /// Always true: the server drains until it stops.
    pub draining: bool,
    /// Connections still open; the server shuts down when none is left.
    pub clients: usize,
}

async fn drain<W: Wire>(State(state): State<AdminState<W>>) -> Response {
    if !state.shared.draining.swap(true, std::sync::atomic::Ordering::AcqRel) {
        tracing::info!("draining: no new players here; shutting down once empty");
    }
    let clients = state.shared.connections.load(std::sync::atomic::Ordering::Acquire);
    json(&Draining { draining: true, clients })
}

async fn closes<W: Wire>(State(state): State<AdminState<W>>) -> Response {
    #[derive(serde::Serialize)]
    struct Closes {
        closes: Vec<super::ClosedRecord>,
    }
    json(&Closes { closes: state.shared.closes.newest_first() })
}

/// The body of `GET /admin/api/series`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdminSeries {
    /// Seconds between samples.
    pub period_seconds: f64,
    /// The samples, oldest first.
    pub samples: Vec<Sample>,
}

async fn series<W: Wire>(State(state): State<AdminState<W>>) -> Response {
    let period_seconds = SAMPLE_PERIOD.as_secs_f64();
    json(&AdminSeries { period_seconds, samples: state.series.samples() })
}
