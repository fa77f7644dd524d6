//! `POST /matchmake` and the cluster-wide `GET /rooms`, answered by any process from the
//! directory.
//!
//! `{"room": "NAME"}` places the client in room `NAME`: where its lease is held by a live
//! process, or, when nobody live holds it, on the least-loaded process with room under its
//! `--max-rooms` (rooms claimed but not opened yet count), all in one atomic step in Redis.
//! `{}` (quick match) places it in the fullest room with a free place, or opens a new one
//! (`match-…`). A room's free places are its capacity minus its players minus its live
//! seats: a full room is refused here with `409`, never after the client connects. The
//! answer carries a single-use seat for the hosting process:
//! `{"url": "ws://host:port/ws?room=NAME&seat=TOKEN", "room", "process"}`.
//!
//! Each process has its own `lobby` (opened with it, never closed), so `lobby` is never
//! leased: naming it sends the client to the least-loaded process's lobby.

use super::store::PlaceError;
use super::{Cluster, random_id};
use crate::net::http::RoomInfo;
use crate::rooms::check_name;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Largest `POST /matchmake` body read, in bytes.
pub const MAX_MATCHMAKE_BODY_BYTES: usize = 1024;

/// The body of `POST /matchmake`.
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// The room to join; absent: any room with space.
    #[serde(default)]
    pub room: Option<String>,
}

/// The answer to `POST /matchmake`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    /// Where to connect: the hosting process's `/ws` with the room and the seat.
    pub url: String,
    /// The room.
    pub room: String,
    /// The hosting process's id.
    pub process: String,
}

/// Why a matchmake failed: `400` for the client's mistakes, `409` for a full room, `503`
/// when the directory cannot place anyone now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// A body that is not `{}` or `{"room": NAME}`, or a bad room name.
    #[error("{0}")]
    BadRequest(String),
    /// The directory refused or could not answer.
    #[error(transparent)]
    Place(#[from] PlaceError),
}

impl MatchError {
    /// The HTTP status and the machine-readable reason of the answer.
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            MatchError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            MatchError::Place(PlaceError::Full { .. }) => (StatusCode::CONFLICT, "room_full"),
            MatchError::Place(PlaceError::Recovering) => {
                (StatusCode::SERVICE_UNAVAILABLE, "directory_recovering")
            }
            MatchError::Place(PlaceError::Draining { .. }) => {
                (StatusCode::SERVICE_UNAVAILABLE, "draining")
            }
            MatchError::Place(PlaceError::NoRoomLeft) => {
                (StatusCode::SERVICE_UNAVAILABLE, "no_room_left")
            }
            MatchError::Place(PlaceError::NoProcess | PlaceError::Unavailable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
        }
    }
}

/// One room in the cluster-wide `GET /rooms`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClusterRoom {
    /// The room, as its process lists it.
    #[serde(flatten)]
    pub room: RoomInfo,
    /// The id of the process hosting it.
    pub process: String,
}

/// The body of `GET /rooms` on a clustered process: a superset of [`crate::net::http::RoomList`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClusterRoomList {
    /// Every room of every live process, by name then process.
    pub rooms: Vec<ClusterRoom>,
    /// Most rooms this process opens.
    pub max_rooms: usize,
    /// Always `true`: clients matchmake (`POST /matchmake`) instead of opening `/ws` directly.
    pub cluster: bool,
    /// The live processes: id, URL, players, rooms (without their room lists).
    pub processes: Vec<ProcessSummary>,
}

/// One process in [`ClusterRoomList`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProcessSummary {
    /// Its id.
    pub id: String,
    /// Its public WebSocket address.
    pub url: String,
    /// Players in all its rooms.
    pub players: usize,
    /// Rooms it has open.
    pub rooms: usize,
}

/// `POST /matchmake` with a parsed body, for the signed-in user `user_id` if the server
/// authenticates (the seat is bound to it).
pub async fn handle(
    cluster: &Cluster,
    request: Result<MatchRequest, MatchError>,
    user_id: Option<&str>,
) -> Response {
    let result = match request {
        Ok(request) => place(cluster, request.room, user_id).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(placement) => json(StatusCode::OK, &placement),
        Err(error) => {
            let (status, reason) = error.status();
            json(status, &serde_json::json!({ "error": error.to_string(), "reason": reason }))
        }
    }
}

/// Reads a `POST /matchmake` body: `{}`, empty, or `{"room": NAME}`.
pub fn parse(body: &[u8]) -> Result<MatchRequest, MatchError> {
    if body.len() > MAX_MATCHMAKE_BODY_BYTES {
        let limit = MAX_MATCHMAKE_BODY_BYTES;
        return Err(MatchError::BadRequest(format!("body over {limit} bytes")));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(MatchRequest::default());
    }
    let shape = || "body must be {} or {\"room\": \"NAME\"}".to_owned();
    // serde would also take a struct from a JSON array: only an object is a request.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(MatchError::BadRequest(shape()));
    }
    let request: MatchRequest = serde_json::from_slice(body)
        .map_err(|e| MatchError::BadRequest(format!("{}: {e}", shape())))?;
    if let Some(room) = &request.room {
        check_name(room).map_err(MatchError::BadRequest)?;
    }
    Ok(request)
}

/// Finds (or claims) the room's process and reserves a seat there, bound to `user_id` when
/// given (a seat that cannot be bound is not handed out: `503`).
pub async fn place(
    cluster: &Cluster,
    room: Option<String>,
    user_id: Option<&str>,
) -> Result<Placement, MatchError> {
    let fresh = format!("match-{}", &random_id()[..12]);
    let granted = cluster.store.place(room.as_deref(), &fresh).await?;
    let (url, seat) = (granted.url, granted.seat);
    if let Some(user_id) = user_id {
        cluster.store.bind_seat(&seat.token, user_id).await.map_err(PlaceError::Unavailable)?;
    }
    let room = seat.room;
    Ok(Placement {
        url: format!("{url}/ws?room={room}&seat={}", seat.token),
        room,
        process: seat.process,
    })
}

/// Asks the process at `base` (`http://host:port`) for a placement in `room` (any room
/// when `None`): what a client does before it connects (the bots with `--matchmake`).
pub async fn request(base: &str, room: Option<&str>) -> Result<Placement, String> {
    let url = format!("{}/matchmake", base.trim_end_matches('/'));
    let body = serde_json::to_string(&MatchRequest { room: room.map(str::to_owned) })
        .map_err(|e| e.to_string())?;
    match super::http_client::request("POST", &url, Some(body)).await? {
        (200, body) => serde_json::from_str(&body).map_err(|e| format!("{url}: {e}")),
        (status, body) => Err(format!("{url}: {status} {}", body.trim())),
    }
}

/// `host:port` of a `ws://host:port/...` URL (how the bots' report groups processes).
pub fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// `GET /rooms` on a clustered process: every room of every live process.
pub async fn room_list(cluster: &Cluster, max_rooms: usize) -> Response {
    let processes = match cluster.store.processes().await {
        Ok(processes) => processes,
        Err(error) => {
            let reason = format!("room directory unavailable: {error}");
            return json(StatusCode::SERVICE_UNAVAILABLE, &serde_json::json!({ "error": reason }));
        }
    };
    let mut rooms: Vec<ClusterRoom> = processes
        .iter()
        .flat_map(|p| {
            p.rooms.iter().map(|room| ClusterRoom { room: room.clone(), process: p.id.clone() })
        })
        .collect();
    rooms.sort_by(|a, b| (&a.room.name, &a.process).cmp(&(&b.room.name, &b.process)));
    let processes = processes
        .iter()
        .map(|p| ProcessSummary {
            id: p.id.clone(),
            url: p.url.clone(),
            players: p.players,
            rooms: p.rooms.len(),
        })
        .collect();
    json(StatusCode::OK, &ClusterRoomList { rooms, max_rooms, cluster: true, processes })
}

fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let body = serde_json::to_string(body).unwrap_or_default();
    let headers = [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")];
    (status, headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_statuses() {
        let full = PlaceError::Full { room: "x".into(), capacity: 4, players: 4, reserved: 0 };
        assert_eq!(MatchError::from(full).status(), (StatusCode::CONFLICT, "room_full"));
        let recovering = MatchError::from(PlaceError::Recovering).status();
        assert_eq!(recovering, (StatusCode::SERVICE_UNAVAILABLE, "directory_recovering"));
        let draining = MatchError::from(PlaceError::Draining { room: "x".into() }).status();
        assert_eq!(draining, (StatusCode::SERVICE_UNAVAILABLE, "draining"));
        assert_eq!(MatchError::BadRequest("x".into()).status().0, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn bodies_are_empty_or_name_a_room() {
        assert_eq!(parse(b"").map(|r| r.room), Ok(None));
        assert_eq!(parse(b"{}").map(|r| r.room), Ok(None));
        assert_eq!(parse(br#"{"room":"duel-7"}"#).map(|r| r.room), Ok(Some("duel-7".into())));
        for bad in [&br#"{"room":"a b"}"#[..], b"[]", br#"{"rom":"x"}"#, b"{"] {
            assert!(matches!(parse(bad), Err(MatchError::BadRequest(_))), "{bad:?}");
        }
    }
}
