//! Session resume on a real server: a dropped client comes back to its own entity within the
//! window; a token works once; after the window the entity is gone and the token refused; a
//! client that reconnects before its old connection is seen to drop takes the session over; a
//! client the server closes as idle (4002) or too slow (4001) keeps its place meanwhile too.

mod common;

use common::{TestServer, arena_spec, small_arena, within};
use std::time::Duration;
use tickwire::ServerConfig;
use tickwire::arena::ArenaConfig;
use tickwire::arena::{Name, Position};
use tickwire::bots::BotClient;
use tickwire::bots::client::{BotError, next_binary, open};
use tickwire::protocol::tags::{MSG_DELTA, MSG_FULL};
use tickwire::protocol::{self, Control, inspect};

fn url(server: &TestServer, query: &str) -> String {
    format!("{}?room=resume&{query}", server.ws_url())
}

async fn join(server: &TestServer, query: &str) -> BotClient {
    within(BotClient::connect(&url(server, query), &arena_spec())).await.expect("joins")
}

/// The close code and reason a connection with `query` is refused with.
async fn refused(server: &TestServer, query: &str) -> (u16, String) {
    let mut socket =
        within(tickwire::bots::client::open(&url(server, query))).await.expect("handshake");
    match within(next_binary(&mut socket)).await {
        Err(BotError::Closed { code, reason }) => (code, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Reads snapshots until `done` holds for the replica, at most 90.
async fn until(bot: &mut BotClient, done: impl Fn(&BotClient) -> bool) -> bool {
    for _ in 0..90 {
        within(bot.next_snapshot()).await.expect("snapshot");
        if done(bot) {
            return true;
        }
    }
    false
}

/// A small arena where everyone sees everyone.
fn arena() -> ArenaConfig {
    ArenaConfig { view_radius: 100.0, ..small_arena() }
}

/// The default resume window.
const WINDOW: Duration = Duration::from_secs(15);

/// Reads until the connection closes; its close code and reason.
async fn closed(bot: &mut BotClient) -> (u16, String) {
    loop {
        match within(bot.receive()).await {
            Ok(_) => continue,
            Err(BotError::Closed { code, reason }) => return (code, reason),
            Err(other) => panic!("expected a close frame, got {other}"),
        }
    }
}

fn config(window: Duration) -> ServerConfig {
    ServerConfig { resume_window: window, ..ServerConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_client_resumes_its_own_entity_and_the_token_works_once() {
    let server = TestServer::start_arena(config(Duration::from_secs(15)), arena()).await;
    let mut ada = join(&server, "name=ada").await;
    let mut watcher = join(&server, "name=watcher").await;
    within(ada.next_snapshot()).await.expect("snapshot");
    let (id, token) = (ada.welcome.entity_id, ada.resume_token());
    assert_eq!(token.len(), 32);
    assert_ne!(token, "0".repeat(32), "a real token");
    let position = ada.own::<Position>().expect("own position");
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_some()).await);

    // The connection drops without a close handshake (a phone leaving Wi-Fi).
    drop(ada);
    // The entity stays in the world meanwhile.
    for _ in 0..10 {
        within(watcher.next_snapshot()).await.expect("snapshot");
        assert_eq!(watcher.replica.get::<Name>(id).map(|n| n.0), Some("ada".to_owned()));
    }

    let mut back = join(&server, &format!("resume={token}&name=someone-else")).await;
    assert_eq!(back.welcome.entity_id, id, "the same entity");
    assert_ne!(back.resume_token(), token, "a fresh token for next time");
    within(back.next_snapshot()).await.expect("a full snapshot");
    assert_eq!(back.own::<Name>().map(|n| n.0), Some("ada".to_owned()));
    assert_eq!(back.own::<Position>(), Some(position), "where it was left");

    // The token was used: a second try is refused, and no player is made for it.
    let (code, reason) = refused(&server, &format!("resume={token}")).await;
    assert_eq!(code, 4005, "{reason}");
    assert_eq!(reason, "resume token unknown, already used, or its window passed");
    // The new token works in turn.
    let next = back.resume_token();
    drop(back);
    let again = join(&server, &format!("resume={next}")).await;
    assert_eq!(again.welcome.entity_id, id);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_says_goodbye_leaves_at_once() {
    let server = TestServer::start_arena(config(Duration::from_secs(15)), arena()).await;
    let ada = join(&server, "name=ada").await;
    let mut watcher = join(&server, "name=watcher").await;
    let (id, token) = (ada.welcome.entity_id, ada.resume_token());
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_some()).await);
    ada.close().await; // a close frame with 1000
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_none()).await, "gone at once");
    let (code, _) = refused(&server, &format!("resume={token}")).await;
    assert_eq!(code, 4005);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_window_the_entity_is_gone_and_the_token_refused() {
    let server = TestServer::start_arena(config(Duration::from_millis(300)), arena()).await;
    let ada = join(&server, "name=ada").await;
    let mut watcher = join(&server, "name=watcher").await;
    let (id, token) = (ada.welcome.entity_id, ada.resume_token());
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_some()).await);
    drop(ada);
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_none()).await, "removed");
    let (code, _) = refused(&server, &format!("resume={token}")).await;
    assert_eq!(code, 4005);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_before_the_drop_is_seen_takes_the_session_over() {
    let server = TestServer::start_arena(config(Duration::from_secs(15)), arena()).await;
    let mut old = join(&server, "name=ada").await;
    within(old.next_snapshot()).await.expect("snapshot");
    let (id, token) = (old.welcome.entity_id, old.resume_token());
    let new = join(&server, &format!("resume={token}")).await;
    assert_eq!(new.welcome.entity_id, id);
    let closed = loop {
        match within(old.receive()).await {
            Ok(_) => continue,
            Err(error) => break error,
        }
    };
    match closed {
        BotError::Closed { code, reason } => {
            assert_eq!(
                (code, reason.as_str()),
                (4006, "this session was resumed on a newer connection")
            );
        }
        other => panic!("expected 4006, got {other}"),
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_window_there_is_no_token_and_a_drop_removes_the_entity() {
    let server = TestServer::start_arena(config(Duration::ZERO), arena()).await;
    let ada = join(&server, "name=ada").await;
    let mut watcher = join(&server, "name=watcher").await;
    assert_eq!(ada.resume_token(), "0".repeat(32));
    let id = ada.welcome.entity_id;
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_some()).await);
    drop(ada);
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_none()).await);
    let (code, _) = refused(&server, &format!("resume={}", "0".repeat(32))).await;
    assert_eq!(code, 4005, "the all-zero token resumes nothing");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_token_is_a_bad_request() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_arena(ServerConfig::default(), arena()).await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let request = "GET /ws?resume=nothex HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n\
        Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Protocol: tickwire.v2\r\n\r\n";
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = vec![0; 512];
    let n = within(tcp.read(&mut response)).await.expect("read");
    let response = String::from_utf8_lossy(&response[..n]);
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("resume must be 32 hexadecimal digits"), "{response}");
    server.stop().await;
}

/// The first snapshot on a connection after its Welcome: its raw bytes (events and pongs
/// before it are skipped).
async fn first_snapshot(socket: &mut tickwire::bots::client::Socket) -> Vec<u8> {
    loop {
        let bytes = within(next_binary(socket)).await.expect("a message");
        if matches!(bytes.first(), Some(&(MSG_FULL | MSG_DELTA))) {
            return bytes.to_vec();
        }
    }
}

/// The component ids of `id`'s SPAWN in a Full, or `None` if it has none.
fn spawned_components(full: &serde_json::Value, id: u32) -> Option<Vec<u64>> {
    let ops = full["ops"].as_array()?;
    let spawn = ops.iter().find(|op| op["op"] == "Spawn" && op["id"] == id)?;
    let components = spawn["components"].as_array()?;
    Some(components.iter().filter_map(|c| c["component"].as_u64()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_snapshot_after_a_resume_is_a_full_with_every_component_of_the_player() {
    let server = TestServer::start_arena(config(Duration::from_secs(15)), arena()).await;
    let mut ada = join(&server, "name=ada").await;
    let schema = ada.welcome.schema.clone();
    let every: Vec<u64> = (0..schema.components.len() as u64).filter(|&cid| cid != 6).collect();
    let names: Vec<&str> =
        every.iter().map(|&c| schema.components[c as usize].name.as_str()).collect();
    assert_eq!(names, ["Position", "Velocity", "Radius", "Color", "Score", "Name"]);
    within(ada.next_snapshot()).await.expect("snapshot");
    let id = ada.welcome.entity_id;
    let mut token = ada.resume_token();
    drop(ada);
    // Both ways back, several times: after the server saw the drop (the session waits), and
    // before it (the old connection is taken over), right after a Welcome each time.
    let mut old = None;
    for round in 0..6 {
        let mut socket =
            within(open(&url(&server, &format!("resume={token}")))).await.expect("open");
        let welcome = match protocol::decode_control(
            &within(next_binary(&mut socket)).await.expect("welcome"),
        ) {
            Ok(Some(Control::Welcome(welcome))) => welcome,
            other => panic!("round {round}: expected a Welcome, got {other:?}"),
        };
        assert_eq!(welcome.entity_id, id, "round {round}: the same player");
        let bytes = first_snapshot(&mut socket).await;
        assert_eq!(
            bytes[0], MSG_FULL,
            "round {round}: the first snapshot after a resume is a Full"
        );
        let full = inspect::server_message(&bytes, Some(&schema)).expect("the Full decodes");
        assert_eq!(
            spawned_components(&full, id),
            Some(every.clone()),
            "round {round}: the player whole in its Full: {full}"
        );
        token = welcome.resume_token.iter().map(|b| format!("{b:02x}")).collect();
        // Even rounds drop the connection and let the server see it; odd ones keep it open,
        // so the next resume takes it over (4006).
        drop(old.take());
        if round % 2 == 0 {
            drop(socket);
            tokio::time::sleep(Duration::from_millis(100)).await;
        } else {
            old = Some(socket);
        }
    }
    server.stop().await;
}

/// Reads `watcher`'s snapshots for `window` in a task of its own (so it answers the server's
/// pings and keeps up throughout); returns it with how many of them lacked entity `id`.
fn watch(
    mut watcher: BotClient,
    id: u32,
    window: Duration,
) -> tokio::task::JoinHandle<(BotClient, u32, u32)> {
    tokio::spawn(async move {
        let (start, mut snapshots, mut without) = (std::time::Instant::now(), 0, 0);
        while start.elapsed() < window {
            within(watcher.next_snapshot()).await.expect("the watcher is served");
            snapshots += 1;
            without += u32::from(watcher.replica.get::<Name>(id).is_none());
        }
        (watcher, snapshots, without)
    })
}

/// The value of an unlabelled sample of the server's `/metrics`.
async fn metric(server: &TestServer, sample: &str) -> Option<f64> {
    let (_, page) = common::http_get(server.addr, "/metrics").await;
    page.lines().find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

/// A client the server closes as idle (4002) keeps its place for the resume window, as one
/// whose connection dropped does: a peer that answers nothing may be gone, or on a link that
/// stalled for a while, which is what resume is for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_closed_as_idle_keeps_its_place_for_the_window() {
    let config = ServerConfig { idle_timeout: Duration::from_millis(900), ..config(WINDOW) };
    let server = TestServer::start_arena(config, arena()).await;
    let mut ada = join(&server, "name=ada").await;
    let mut watcher = join(&server, "name=watcher").await;
    let (id, token) = (ada.welcome.entity_id, ada.resume_token());
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_some()).await);

    // Ada reads nothing, so her library answers none of the server's pings.
    let watching = watch(watcher, id, Duration::from_millis(2_500));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (code, reason) = closed(&mut ada).await;
    assert_eq!(code, 4002, "{reason}");
    // Her session waits once the connection is gone.
    drop(ada);
    within(async {
        while metric(&server, "tickwire_sessions_waiting").await != Some(1.0) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let (_, snapshots, without) = within(watching).await.expect("watched");
    assert_eq!(without, 0, "ada stayed in the world in all {snapshots} snapshots");

    let back = join(&server, &format!("resume={token}")).await;
    assert_eq!(back.welcome.entity_id, id, "her own player back");
    server.stop().await;
}

/// A client the server closes as too slow (4001) keeps its place for the resume window too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_closed_as_too_slow_keeps_its_place_for_the_window() {
    use futures_util::StreamExt;
    use tickwire::protocol::{Control, decode_control};
    use tokio_tungstenite::tungstenite::Message;
    // Thousands of orbs in view make a full snapshot far larger than a tiny receive window
    // plus the server's capped send buffer: a client that stops reading is too slow at once.
    let config =
        ServerConfig { max_lag_ticks: 10, socket_send_buffer: Some(4096), ..config(WINDOW) };
    let arena = ArenaConfig { size: 100.0, view_radius: 100.0, orbs: 6_000, ..small_arena() };
    let server = TestServer::start_arena(config, arena).await;
    let mut watcher = server.connect("watcher").await;
    // Reads its welcome, then nothing more.
    let mut stalled = common::connect_without_reading(&server).await;
    let welcome = match within(stalled.next()).await {
        Some(Ok(Message::Binary(bytes))) => match decode_control(&bytes) {
            Ok(Some(Control::Welcome(welcome))) => welcome,
            other => panic!("expected a welcome, got {other:?}"),
        },
        other => panic!("expected a welcome, got {other:?}"),
    };
    let id = welcome.entity_id;
    let token: String = welcome.resume_token.iter().map(|b| format!("{b:02x}")).collect();
    assert!(until(&mut watcher, |w| w.replica.get::<Name>(id).is_some()).await);

    let (_, snapshots, without) =
        within(watch(watcher, id, Duration::from_secs(2))).await.expect("watched");
    let too_slow = "tickwire_disconnects_total{reason=\"too_slow\"}";
    assert_eq!(metric(&server, too_slow).await, Some(1.0), "closed with 4001 meanwhile");
    assert_eq!(metric(&server, "tickwire_sessions_waiting").await, Some(1.0));
    assert_eq!(without, 0, "its player stayed in the world in all {snapshots} snapshots");

    let url = format!("{}?resume={token}", server.ws_url());
    let back = within(BotClient::connect(&url, &arena_spec())).await.expect("resumes");
    assert_eq!(back.welcome.entity_id, id, "its own player back");
    drop(stalled);
    server.stop().await;
}

/// The `clients` of the pong answering a ping `bot` sends now.
async fn pong_clients(bot: &mut BotClient, id: u32) -> u32 {
    bot.send_ping(id).await.expect("ping");
    loop {
        if let tickwire::bots::client::Received::Pong(pong) =
            within(bot.receive()).await.expect("a message")
            && pong.id == id
        {
            return pong.clients;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pong_counts_connected_clients_not_sessions_waiting_to_resume() {
    let server = TestServer::start_arena(config(WINDOW), arena()).await;
    let ada = join(&server, "name=ada").await;
    let mut bob = join(&server, "name=bob").await;
    let id = ada.welcome.entity_id;
    assert!(until(&mut bob, |b| b.replica.get::<Name>(id).is_some()).await);
    assert_eq!(pong_clients(&mut bob, 1).await, 2);
    drop(ada);
    // Ada's session waits, her player still in the world; the pong counts bob alone.
    let mut waited = 0;
    while pong_clients(&mut bob, 2 + waited).await != 1 {
        waited += 1;
        assert!(waited < 100, "the dropped client is still counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(bob.replica.get::<Name>(id).is_some(), "her player stays meanwhile");
    let metric = metric(&server, "tickwire_sessions_waiting").await;
    assert_eq!(metric, Some(1.0), "one session waits");
    server.stop().await;
}
