//! HTTP routes: the game's pages, the WebSocket endpoint, the room list, health and metrics;
//! with a cluster, matchmaking and the seat check (the work itself is in [`crate::cluster`]).

use super::descriptors::InReserve;
use super::inbox::{ResumeToken, Wire};
use super::per_ip::ConnectionsPerIp;
use crate::auth::{DuplicateLogin, Handshake, Identity, MAX_TOKEN_BYTES, TOKEN_PARAM};
use crate::cluster::{Cluster, SEAT_PARAM, SeatRefusal};
use crate::context::Shared;
use crate::game::ClientInfo;
use crate::protocol::SUBPROTOCOL;
use crate::rooms::{DEFAULT_ROOM, Directory, ROOM_PARAM, Refusal, check_name};
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

mod demo {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// Read buffer per connection: client messages are at most 64 bytes, so a read of 512 holds
/// several of them.
pub const CLIENT_READ_BUFFER_BYTES: usize = 512;

pub use crate::config::CLIENT_MAX_FRAME_BYTES;

/// Most query parameters of `/ws` handed to the game; more are refused with `400`.
pub const MAX_QUERY_PARAMS: usize = 8;

/// Longest query parameter key or value handed to the game, in bytes; longer is refused.
pub const MAX_QUERY_PARAM_BYTES: usize = 128;

/// What every route can reach.
pub struct AppState<W: Wire> {
    shared: Arc<Shared>,
    rooms: Arc<Directory<W>>,
    files: Files,
    per_ip: ConnectionsPerIp,
    cluster: Option<Arc<Cluster>>,
}

impl<W: Wire> Clone for AppState<W> {
    fn clone(&self) -> Self {
        let (shared, rooms, files) = (self.shared.clone(), self.rooms.clone(), self.files.clone());
        let cluster = self.cluster.clone();
        AppState { shared, rooms, files, per_ip: self.per_ip.clone(), cluster }
    }
}

/// A static file served by the server: its path below `/`, and its contents.
pub type Page = (&'static str, &'static [u8]);

/// The files a server serves.
pub type Files = Arc<[Page]>;

/// The files of `client-demo/`, embedded at build time: the arena's page, and the JavaScript
/// client library under `tickwire/` that any game's page can import.
pub fn demo_files() -> &'static [Page] {
    demo::FILES
}

/// The JavaScript client library alone (`tickwire/...` of [`demo_files`]), for another
/// game's pages.
pub fn client_library() -> impl Iterator<Item = Page> {
    demo::FILES.iter().copied().filter(|(path, _)| path.starts_with("tickwire/"))
}

/// The router for one server, serving `files` as its pages; with `cluster`, `/ws` requires a
/// seat and `/rooms` lists the whole cluster. `/metrics` and the console are not in it: the
/// server adds them here or on its admin listener.
pub fn router<W: Wire>(
    shared: Arc<Shared>,
    rooms: Arc<Directory<W>>,
    files: Files,
    cluster: Option<Arc<Cluster>>,
) -> Router {
    // `/rooms` and `/matchmake` answer pages on other sites under the `/ws` origin policy.
    let cors = axum::middleware::from_fn_with_state(shared.clone(), super::cors::layer);
    Router::new()
        .route(
            "/",
            get(|State(state): State<AppState<W>>| async move {
                static_file(&state.files, "index.html")
            }),
        )
        .route("/ws", get(upgrade::<W>))
        .route("/authcheck", get(authcheck::<W>))
        .route("/rooms", get(room_list::<W>).layer(cors.clone()))
        .route("/rooms/local", get(local_rooms::<W>))
        .route("/readyz", get(readyz::<W>))
        .route("/matchmake", post(matchmake::<W>).layer(cors))
        .route("/healthz", get(healthz::<W>))
        .route(
            "/{*path}",
            get(|State(state): State<AppState<W>>, Path(path): Path<String>| async move {
                static_file(&state.files, &path)
            }),
        )
        .with_state(AppState { shared, rooms, files, per_ip: ConnectionsPerIp::default(), cluster })
}

/// The connection's pending upgrade, taken before [`WebSocketUpgrade`] (which checks the
/// handshake and keeps its 400 reasons) so that the upgraded stream can be unwrapped to its
/// TCP socket: axum's `WebSocket` hides it, and the tick writes to it directly.
struct RawUpgrade(Option<hyper::upgrade::OnUpgrade>);

impl<S: Send + Sync> FromRequestParts<S> for RawUpgrade {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RawUpgrade(parts.extensions.get::<hyper::upgrade::OnUpgrade>().cloned()))
    }
}

/// Whether the connection's socket lies in the descriptor reserve ([`super::descriptors`]).
struct Reserve(Option<InReserve>);

impl<S: Send + Sync> FromRequestParts<S> for Reserve {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Reserve(parts.extensions.get::<InReserve>().copied()))
    }
}

/// The `503` for an upgrade the open-file limit leaves no room for; the connection closes
/// after it, so its descriptor is freed at once.
fn out_of_descriptors(shared: &Shared, limit: u64) -> Response {
    shared.metrics.upgrades_refused_descriptors.inc();
    let reserve = shared.config.descriptor_reserve;
    let reason = format!(
        "server at its open-file limit ({limit} descriptors, {reserve} kept in reserve): no \
         room for another client, try again later\n"
    );
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, reason).into_response();
    let close = axum::http::HeaderValue::from_static("close");
    response.headers_mut().insert(header::CONNECTION, close);
    response
}

async fn upgrade<W: Wire>(
    State(state): State<AppState<W>>,
    Reserve(reserve): Reserve,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    RawUpgrade(raw): RawUpgrade,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let AppState { shared, rooms, per_ip, cluster, .. } = state;
    if let Err(reason) = super::origin::check(&headers, &shared.config.allowed_origins) {
        return (StatusCode::FORBIDDEN, reason + "\n").into_response();
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            let reason = format!(
                "{}: this is the tickwire WebSocket endpoint; connect with a WebSocket client offering subprotocol {SUBPROTOCOL}\n",
                rejection.body_text()
            );
            return (StatusCode::BAD_REQUEST, reason).into_response();
        }
    };
    let upgrade = upgrade.protocols([SUBPROTOCOL]);
    if upgrade.selected_protocol().is_none() {
        let offered = headers
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        let reason =
            format!("unsupported subprotocol ({offered}): this server speaks {SUBPROTOCOL}\n");
        return (StatusCode::BAD_REQUEST, reason).into_response();
    }
    if shared.shutting_down.load(Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "server shutting down\n").into_response();
    }
    if let Some(InReserve { limit }) = reserve {
        return out_of_descriptors(&shared, limit);
    }
    let (mut params, query_token) = match handshake_query(query.as_deref().unwrap_or("")) {
        Ok(parsed) => parsed,
        Err(reason) => return (StatusCode::BAD_REQUEST, reason + "\n").into_response(),
    };
    let resume = match take_resume_token(&mut params) {
        Ok(resume) => resume,
        Err(reason) => return (StatusCode::BAD_REQUEST, reason + "\n").into_response(),
    };
    let seat = params.extract_if(.., |(key, _)| key == SEAT_PARAM).last().map(|(_, token)| token);
    let room = room_of(&params).to_owned();
    if let Err(reason) = check_name(&room) {
        return (StatusCode::BAD_REQUEST, reason + "\n").into_response();
    }
    // Taken before the authenticator runs, so that one address cannot hold more of its
    // calls in flight than it may hold connections.
    let slot = match per_ip.try_acquire(peer.ip(), shared.config.max_connections_per_ip) {
        Ok(slot) => slot,
        Err(reason) => return (StatusCode::TOO_MANY_REQUESTS, reason + "\n").into_response(),
    };
    let handshake = Handshake::new(params, headers, peer, room, query_token);
    let identity = match authenticate(&shared, &handshake).await {
        Ok(identity) => identity,
        Err((status, reason)) => return (status, reason + "\n").into_response(),
    };
    let Handshake { query: params, headers, room, .. } = handshake;
    let seat = match &cluster {
        Some(cluster) => {
            let user = identity.as_ref().map(|identity| identity.user_id.as_str());
            let seat = SeatCheck { token: seat.as_deref(), room: &room, user };
            check_seat(cluster, &rooms, &shared, seat, resume.is_some()).await
        }
        None => Ok(Admitted::default()),
    };
    let client_id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
    let span =
        tracing::info_span!("client", client_id, user = identity.as_ref().map(|i| &i.user_id));
    let client = ClientInfo { client_id, query: params, identity };
    let guard = ConnectionGuard::new(shared.clone());
    // Refusals after the upgrade, as close codes with a reason: a browser sees those, while
    // a refused handshake shows it only "connection failed".
    let place = if guard.count > shared.config.max_clients {
        Err(Refusal::ServerFull { max_clients: shared.config.max_clients })
    } else {
        seat.map_err(Refusal::Seat).and_then(|admitted| {
            let member = rooms.join(&room, resume.is_some())?;
            member.status.lease_epoch.fetch_max(admitted.epoch, Ordering::AcqRel);
            Ok(member)
        })
    };
    let (Some(on_upgrade), Some(key)) = (raw, headers.get(header::SEC_WEBSOCKET_KEY)) else {
        return (StatusCode::BAD_REQUEST, "connection not upgradable\n").into_response();
    };
    let accept = derive_accept_key(key.as_bytes());
    let task = async move {
        let _guards = (guard, slot);
        match on_upgrade.await {
            Ok(upgraded) => super::upgraded::serve(upgraded, shared, place, client, resume).await,
            Err(error) => tracing::debug!(%peer, %error, "upgrade failed"),
        }
    };
    tokio::spawn(tracing::Instrument::instrument(task, span));
    let response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .header(header::SEC_WEBSOCKET_PROTOCOL, SUBPROTOCOL)
        .body(axum::body::Body::empty());
    response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// `GET /authcheck?QUERY`: what `/ws?QUERY` with these headers would be told by the
/// authenticator, for a page (a browser hides why an upgrade failed): `200` with
/// `{"user_id": ...}` (`null` for a guest), or the refusal's status and reason.
async fn authcheck<W: Wire>(
    State(AppState { shared, .. }): State<AppState<W>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (mut params, query_token) = match handshake_query(query.as_deref().unwrap_or("")) {
        Ok(parsed) => parsed,
        Err(reason) => return (StatusCode::BAD_REQUEST, reason + "\n").into_response(),
    };
    params.retain(|(key, _)| key != RESUME_PARAM && key != SEAT_PARAM);
    let room = room_of(&params).to_owned();
    let handshake = Handshake::new(params, headers, peer, room, query_token);
    match authenticate(&shared, &handshake).await {
        Ok(identity) => {
            let user_id = identity.map(|identity| identity.user_id);
            let body = serde_json::json!({ "user_id": user_id }).to_string();
            let headers =
                [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")];
            (StatusCode::OK, headers, body).into_response()
        }
        Err((status, reason)) => (status, reason + "\n").into_response(),
    }
}

/// Runs the server's authenticator, if any, on `handshake`, bounded by the auth timeout; then,
/// with `--duplicate-login refuse`, refuses a user whose session is live here. `Ok(None)`
/// for a guest of a server without one; `Err` holds the status and reason of the refusal.
async fn authenticate(
    shared: &Shared,
    handshake: &Handshake,
) -> Result<Option<Identity>, (StatusCode, String)> {
    let Some(authenticator) = &shared.authenticator else { return Ok(None) };
    let limit = shared.config.auth_timeout;
    let (peer, room) = (handshake.peer, &handshake.room);
    let identity = match tokio::time::timeout(limit, authenticator.authenticate(handshake)).await {
        Ok(Ok(identity)) => identity,
        Ok(Err(refusal)) => {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN);
            tracing::debug!(%peer, room, %status, reason = %refusal, "join refused");
            shared.metrics.auth_refused(refusal.status());
            return Err((status, refusal.to_string()));
        }
        Err(_) => {
            tracing::warn!(%peer, room, ?limit, "authenticator timed out");
            shared.metrics.auth_refused(503);
            let reason = format!("authentication took longer than {} ms", limit.as_millis());
            return Err((StatusCode::SERVICE_UNAVAILABLE, reason));
        }
    };
    if let Err(error) = crate::auth::check_identity(&identity) {
        tracing::error!(%peer, room, %error, "the authenticator returned an unusable identity");
        return Err((StatusCode::INTERNAL_SERVER_ERROR, "authentication failed".into()));
    }
    if shared.config.duplicate_login == DuplicateLogin::Refuse
        && shared.logins.is_live(&identity.user_id)
    {
        let user = &identity.user_id;
        tracing::debug!(%peer, room, user, "join refused: already signed in");
        shared.metrics.auth_refused(409);
        return Err((StatusCode::CONFLICT, "this user is already signed in".into()));
    }
    Ok(Some(identity))
}

/// A client let in by its seat: the lease epoch the seat was issued under, and its
/// admission, held until the client holds its place in the room.
#[derive(Default)]
struct Admitted {
    epoch: u64,
    _admission: Option<crate::cluster::admission::Admission>,
}

/// A clustered server's admission: a seat issued for this process and `room` under the
/// room's current lease, taken so it cannot be used again. A client resuming its session may
/// come back without one to a room open (and live) here (the room checks its resume token).
async fn check_seat<W: Wire>(
    cluster: &Cluster,
    rooms: &Directory<W>,
    shared: &Shared,
    seat: SeatCheck<'_>,
    resuming: bool,
) -> Result<Admitted, SeatRefusal> {
    let SeatCheck { token, room, user } = seat;
    let fence = cluster.local_fence();
    if resuming && rooms.list().iter().any(|open| open.name == room && fence.live(open)) {
        return Ok(Admitted::default()); // its seat, if it still has one, was used already
    }
    let token = token.ok_or(SeatRefusal::Missing)?;
    // With identity, a seat is good only for the user it was issued to; checked before the
    // seat is taken, so another user's try leaves it for its owner.
    if shared.authenticator.is_some() {
        let bound = cluster.store.seat_user(token).await.map_err(SeatRefusal::Unchecked)?;
        if bound.is_none_or(|bound| Some(bound.as_str()) != user) {
            return Err(SeatRefusal::OtherUser);
        }
    }
    let admission = cluster.admissions.start(room);
    let epoch = cluster.store.take_seat(token, room).await?;
    admission.seat_used(token);
    Ok(Admitted { epoch, _admission: Some(admission) })
}

/// The seat a `/ws` presents: its token, the room asked for, the authenticated user.
struct SeatCheck<'a> {
    token: Option<&'a str>,
    room: &'a str,
    user: Option<&'a str>,
}

/// The query parameters of a `/ws` URL (the part after `?`, percent-encoded) that the game is
/// handed in [`ClientInfo::query`], decoded as axum's `Query` does (`serde_urlencoded`); `Err`
/// holds the reason for the `400` when it does not decode or exceeds [`MAX_QUERY_PARAMS`] or
/// [`MAX_QUERY_PARAM_BYTES`]. Pure, so it is fuzzed (`fuzz/fuzz_targets/handshake_query.rs`).
pub fn join_params(raw_query: &str) -> Result<Vec<(String, String)>, String> {
    handshake_query(raw_query).map(|(params, _)| params)
}

/// [`join_params`] and the `token` parameter ([`crate::auth::TOKEN_PARAM`]), taken out of
/// them: a secret the game is not handed, bounded by [`crate::auth::MAX_TOKEN_BYTES`]
/// rather than [`MAX_QUERY_PARAM_BYTES`] (a JWT is longer).
pub fn handshake_query(raw_query: &str) -> Result<(QueryParams, Option<String>), String> {
    let mut params: Vec<(String, String)> = serde_urlencoded::from_str(raw_query)
        .map_err(|error| format!("malformed query string: {error}"))?;
    let mut tokens = params.extract_if(.., |(key, _)| key == TOKEN_PARAM);
    let token = tokens.next().map(|(_, token)| token);
    if tokens.next().is_some() {
        return Err(format!("more than one {TOKEN_PARAM} parameter"));
    }
    drop(tokens);
    if token.as_ref().is_some_and(|token| token.len() > MAX_TOKEN_BYTES) {
        return Err(format!("{TOKEN_PARAM} longer than {MAX_TOKEN_BYTES} bytes"));
    }
    if params.len() > MAX_QUERY_PARAMS
        || params.iter().any(|(k, v)| k.len().max(v.len()) > MAX_QUERY_PARAM_BYTES)
    {
        return Err(format!(
            "at most {MAX_QUERY_PARAMS} query parameters of at most {MAX_QUERY_PARAM_BYTES} bytes each"
        ));
    }
    Ok((params, token))
}

/// Query parameters, decoded, in order.
pub type QueryParams = Vec<(String, String)>;

/// The query parameter that carries a resume token.
pub const RESUME_PARAM: &str = "resume";

/// Takes the resume token out of the `/ws` query (it is a secret: the game is not handed
/// it); `Err` holds the reason for the `400` when it is not 32 hex digits or given twice.
pub fn take_resume_token(
    params: &mut Vec<(String, String)>,
) -> Result<Option<ResumeToken>, String> {
    let mut tokens = params.extract_if(.., |(key, _)| key == RESUME_PARAM);
    let Some((_, hex)) = tokens.next() else { return Ok(None) };
    if tokens.next().is_some() {
        return Err(format!("more than one {RESUME_PARAM} parameter"));
    }
    drop(tokens);
    parse_token(&hex).map(Some).ok_or_else(|| {
        format!("{RESUME_PARAM} must be 32 hexadecimal digits (the welcome's resume token)")
    })
}

/// A token from its 32 hex digits.
fn parse_token(hex: &str) -> Option<ResumeToken> {
    let bytes = hex.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut token = [0u8; 16];
    for (byte, pair) in token.iter_mut().zip(bytes.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(token)
}

/// Counts a connection from the upgrade to the end of its task.
struct ConnectionGuard {
    shared: Arc<Shared>,
    count: usize,
}

impl ConnectionGuard {
    fn new(shared: Arc<Shared>) -> ConnectionGuard {
        let count = shared.connections.fetch_add(1, Ordering::AcqRel) + 1;
        shared.metrics.clients.inc();
        ConnectionGuard { shared, count }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.shared.connections.fetch_sub(1, Ordering::AcqRel);
        self.shared.metrics.clients.dec();
    }
}

/// The room named by the `/ws` query, or the default room.
fn room_of(params: &[(String, String)]) -> &str {
    params.iter().find(|(k, _)| k == ROOM_PARAM).map_or(DEFAULT_ROOM, |(_, v)| v.as_str())
}

/// `200 ok` while every room ticks; `503` naming the rooms whose tick stalled.
async fn healthz<W: Wire>(State(AppState { shared, rooms, .. }): State<AppState<W>>) -> Response {
    match health(&shared, &rooms) {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason + "\n").into_response(),
    }
}

/// `200 ready` while this process takes new players; `503` with the reason while it is
/// draining (shutting down) or, in a cluster, while the room directory is unreachable or
/// recovering. Liveness is `/healthz`'s.
async fn readyz<W: Wire>(State(AppState { shared, cluster, .. }): State<AppState<W>>) -> Response {
    let ready = if shared.is_shutting_down() || shared.is_draining() {
        Err("not accepting new players: draining")
    } else {
        cluster.map_or(Ok(()), |cluster| cluster.readiness().check())
    };
    match ready {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response(),
    }
}

/// `Err` naming the rooms whose tick stalled (none for ten ticks, or a second); what
/// `/healthz` and the Agones health pings check.
pub fn health<W: Wire>(shared: &Shared, rooms: &Directory<W>) -> Result<(), String> {
    let limit = (shared.config.tick_period() * 10).max(std::time::Duration::from_secs(1));
    let stalled: Vec<String> = rooms
        .list()
        .iter()
        // A room held after a pause waits for its lease's proof: not stalled.
        .filter(|room| shared.fence.live(room) && room.since_last_tick() > limit)
        .map(|room| {
            format!("room {}: last tick {} ms ago", room.name, room.since_last_tick().as_millis())
        })
        .collect();
    if stalled.is_empty() {
        Ok(())
    } else {
        Err(format!("tick loop stalled: {}", stalled.join("; ")))
    }
}

/// One room as `GET /rooms` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoomInfo {
    /// The room's name (join it with `/ws?room=NAME`).
    pub name: String,
    /// Players in it (connections holding a place).
    pub players: usize,
    /// Players it holds at most.
    pub capacity: usize,
    /// Its ticks per second.
    pub tick_rate_hz: u16,
    /// Seconds since it opened.
    pub uptime_seconds: f64,
}

/// The body of `GET /rooms`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoomList {
    /// Every open room, by name.
    pub rooms: Vec<RoomInfo>,
    /// Most rooms the server opens.
    pub max_rooms: usize,
}

/// This server's open rooms, by name, as `GET /rooms` lists them.
pub fn room_infos<W: Wire>(shared: &Shared, rooms: &Directory<W>) -> Vec<RoomInfo> {
    rooms
        .list()
        .iter()
        .map(|room| RoomInfo {
            name: room.name.clone(),
            players: room.members(),
            capacity: room.capacity,
            tick_rate_hz: shared.config.tick_rate_hz,
            uptime_seconds: (room.uptime().as_secs_f64() * 10.0).round() / 10.0,
        })
        .collect()
}

/// `POST /matchmake`: a clustered server's; `404` on a server alone.
/// `POST /matchmake`: with an authenticator, the caller is authenticated as `/ws` would be
/// (`?token=`, `Authorization: Bearer`, cookie; the room is the body's), and the seat is
/// bound to its user id.
async fn matchmake<W: Wire>(
    State(state): State<AppState<W>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    let Some(cluster) = &state.cluster else {
        let reason = "not clustered (no --redis): connect to /ws directly\n";
        return (StatusCode::NOT_FOUND, reason).into_response();
    };
    let request = crate::cluster::matchmake::parse(&body);
    let mut identity = None;
    if state.shared.authenticator.is_some() {
        let (params, query_token) = match handshake_query(query.as_deref().unwrap_or("")) {
            Ok(parsed) => parsed,
            Err(reason) => return (StatusCode::BAD_REQUEST, reason + "\n").into_response(),
        };
        let room = request.as_ref().ok().and_then(|r| r.room.clone()).unwrap_or_default();
        let handshake = Handshake::new(params, headers, peer, room, query_token);
        identity = match authenticate(&state.shared, &handshake).await {
            Ok(identity) => identity,
            Err((status, reason)) => return (status, reason + "\n").into_response(),
        };
    }
    let user_id = identity.as_ref().map(|identity| identity.user_id.as_str());
    crate::cluster::matchmake::handle(cluster, request, user_id).await
}

async fn room_list<W: Wire>(State(state): State<AppState<W>>) -> Response {
    let AppState { shared, rooms, cluster, .. } = state;
    if let Some(cluster) = cluster {
        return crate::cluster::matchmake::room_list(&cluster, shared.config.max_rooms).await;
    }
    let list = RoomList { rooms: room_infos(&shared, &rooms), max_rooms: shared.config.max_rooms };
    let body = serde_json::to_string(&list).unwrap_or_default();
    let headers = [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")];
    (headers, body).into_response()
}

/// `GET /metrics`: on the public router's port, or on the admin listener's alone
/// (`--admin-bind`).
pub fn metrics_router(shared: Arc<Shared>) -> Router {
    let metrics = move || async move {
        let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
        ([(header::CONTENT_TYPE, content_type)], shared.metrics.render()).into_response()
    };
    Router::new().route("/metrics", get(metrics))
}

/// `GET /rooms/local`: this process's own live rooms (not held after a pause, not closing
/// for a lost lease), whatever the cluster says; what an operator or a test asks to see
/// where a room really runs.
async fn local_rooms<W: Wire>(State(state): State<AppState<W>>) -> Response {
    let AppState { shared, rooms, .. } = state;
    let mut infos = room_infos(&shared, &rooms);
    let live: Vec<String> =
        rooms.list().iter().filter(|r| shared.fence.live(r)).map(|r| r.name.clone()).collect();
    infos.retain(|info| live.contains(&info.name));
    let list = RoomList { rooms: infos, max_rooms: shared.config.max_rooms };
    let body = serde_json::to_string(&list).unwrap_or_default();
    let headers = [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")];
    (headers, body).into_response()
}

fn static_file(files: &[Page], path: &str) -> Response {
    let Some((_, body)) = files.iter().find(|(name, _)| *name == path) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let content_type = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], *body)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_params_decodes_as_axum_query_does() {
        let params = join_params("name=Ada%20L&team=2&flag").expect("decodes");
        let pairs = [("name", "Ada L"), ("team", "2"), ("flag", "")];
        assert_eq!(params, pairs.map(|(k, v)| (k.to_owned(), v.to_owned())));
        assert_eq!(join_params(""), Ok(Vec::new()));
    }

    #[test]
    fn the_resume_token_is_taken_out_of_the_query() {
        let hex = "00112233445566778899aabbccddeeff";
        let mut params = join_params(&format!("room=a&resume={hex}&name=x")).expect("decodes");
        let token = take_resume_token(&mut params).expect("valid").expect("present");
        assert_eq!(token[..3], [0x00, 0x11, 0x22]);
        assert_eq!(token[15], 0xff);
        assert_eq!(params, [("room".into(), "a".into()), ("name".into(), "x".into())]);
        let mut none = join_params("room=a").expect("decodes");
        assert_eq!(take_resume_token(&mut none), Ok(None));
        for bad in [
            "resume=12",
            "resume=zz112233445566778899aabbccddeeff",
            "resume=+0112233445566778899aabbccddeeff",
        ] {
            let mut params = join_params(bad).expect("decodes");
            assert!(take_resume_token(&mut params).is_err(), "{bad}");
        }
        let mut twice = join_params(&format!("resume={hex}&resume={hex}")).expect("decodes");
        assert!(take_resume_token(&mut twice).is_err());
    }

    #[test]
    fn join_params_refuses_too_many_or_too_long() {
        let many = ["a=1"; MAX_QUERY_PARAMS + 1].join("&");
        assert!(join_params(&many).is_err());
        assert!(join_params(&["a=1"; MAX_QUERY_PARAMS].join("&")).is_ok());
        let long = format!("name={}", "x".repeat(MAX_QUERY_PARAM_BYTES + 1));
        let error = join_params(&long).expect_err("too long");
        assert!(error.contains("at most 8 query parameters"), "{error}");
        // Decoded length counts: `%41` is one byte.
        assert!(join_params(&format!("n={}", "%41".repeat(MAX_QUERY_PARAM_BYTES))).is_ok());
    }
}
