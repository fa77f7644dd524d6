//! Rooms on a real server: isolation, opening on demand and listing, the capacity and room
//! limits with their close codes, closing after the grace period, refused names.

mod common;

use common::{TestServer, arena_spec, http_get, small_arena, within};
use std::collections::BTreeSet;
use std::time::Duration;
use tickwire::ServerConfig;
use tickwire::arena::{ArenaConfig, Name};
use tickwire::bots::client::{BotError, next_binary};
use tickwire::bots::{BotClient, client};
use tickwire::net::http::RoomList;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn room_list(server: &TestServer) -> RoomList {
    let (status, body) = http_get(server.addr, "/rooms").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("GET /rooms is JSON")
}

fn names(list: &RoomList) -> Vec<&str> {
    list.rooms.iter().map(|room| room.name.as_str()).collect()
}

async fn join(server: &TestServer, room: &str, name: &str) -> BotClient {
    let url = format!("{}?room={room}&name={name}", server.ws_url());
    within(BotClient::connect(&url, &arena_spec())).await.expect("joins")
}

/// Opens a socket to `room` and returns the close code and reason it is refused with.
async fn refused(server: &TestServer, room: &str) -> (u16, String) {
    let url = format!("{}?room={room}", server.ws_url());
    let mut socket = within(client::open(&url)).await.expect("handshake succeeds");
    match within(next_binary(&mut socket)).await {
        Err(BotError::Closed { code, reason }) => (code, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The names of the players `bot` holds, after a few snapshots.
async fn players_seen(bot: &mut BotClient) -> BTreeSet<String> {
    for _ in 0..5 {
        within(bot.next_snapshot()).await.expect("snapshot");
    }
    let replica = &bot.replica;
    replica.ids().filter_map(|id| replica.get::<Name>(id)).map(|name| name.0).collect()
}

/// Everyone sees everyone inside a room.
fn open_arena() -> ArenaConfig {
    ArenaConfig { view_radius: 1_000.0, ..small_arena() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_are_isolated() {
    let server = TestServer::start_arena(ServerConfig::default(), open_arena()).await;
    let mut ada = join(&server, "red", "ada").await;
    let mut bob = join(&server, "red", "bob").await;
    let mut cy = join(&server, "blue", "cy").await;
    let mut dee = server.connect("dee").await; // no room: the lobby

    let red: BTreeSet<String> = ["ada", "bob"].map(String::from).into();
    // Bob joined after Ada's first snapshots: wait until she has him.
    within(async {
        while players_seen(&mut ada).await != red {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(players_seen(&mut bob).await, red);
    assert_eq!(players_seen(&mut cy).await, ["cy".to_owned()].into());
    assert_eq!(players_seen(&mut dee).await, ["dee".to_owned()].into());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_opens_on_demand_and_is_listed() {
    let server = TestServer::start_small().await;
    let list = room_list(&server).await;
    assert_eq!(names(&list), ["lobby"], "a fresh server has its lobby only");
    assert_eq!(list.max_rooms, ServerConfig::default().max_rooms);

    let mut ada = join(&server, "duel-7", "ada").await;
    within(ada.next_snapshot()).await.expect("the new room ticks");
    let list = room_list(&server).await;
    assert_eq!(names(&list), ["duel-7", "lobby"]);
    let duel = &list.rooms[0];
    assert_eq!((duel.players, duel.capacity, duel.tick_rate_hz), (1, 1_000, 30));
    assert!(duel.uptime_seconds < 10.0, "{duel:?}");
    assert_eq!(list.rooms[1].players, 0);

    let (status, metrics) = http_get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("tickwire_rooms 2\n"), "{metrics}");
    assert!(metrics.contains("tickwire_room_clients{room=\"duel-7\"} 1\n"), "{metrics}");
    let (status, health) = http_get(server.addr, "/healthz").await;
    assert_eq!((status, health.as_str()), (200, "ok\n"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_room_refuses_with_4003_and_others_still_open() {
    let config = ServerConfig { room_capacity: Some(2), ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;
    let _ada = join(&server, "pair", "ada").await;
    let bob = join(&server, "pair", "bob").await;
    let (code, reason) = refused(&server, "pair").await;
    assert_eq!(code, 4003, "{reason}");
    assert_eq!(reason, "room pair is full: 2 players");
    let _cy = join(&server, "other", "cy").await;

    // A place is given back when its player leaves.
    bob.close().await;
    within(async {
        while room_list(&server).await.rooms.iter().any(|r| r.name == "pair" && r.players > 1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let _dee = join(&server, "pair", "dee").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_rooms_refuses_with_4004() {
    let config = ServerConfig { max_rooms: 2, ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;
    let _ada = join(&server, "second", "ada").await;
    let (code, reason) = refused(&server, "third").await;
    assert_eq!(code, 4004, "{reason}");
    assert_eq!(reason, "too many rooms: at most 2 open");
    let _bob = join(&server, "second", "bob").await; // an open room still takes players
    assert_eq!(names(&room_list(&server).await), ["lobby", "second"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_room_closes_after_its_grace_but_the_lobby_stays() {
    let grace = Duration::from_millis(300);
    let config = ServerConfig { room_grace: grace, ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;
    let mut ada = join(&server, "brief", "ada").await;
    within(ada.next_snapshot()).await.expect("snapshot");
    ada.close().await;
    // Still listed within the grace...
    assert!(names(&room_list(&server).await).contains(&"brief"));
    // ...and gone after it.
    within(async {
        while names(&room_list(&server).await).contains(&"brief") {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    tokio::time::sleep(grace * 2).await;
    assert_eq!(names(&room_list(&server).await), ["lobby"]);
    let (_, metrics) = http_get(server.addr, "/metrics").await;
    assert!(metrics.contains("tickwire_rooms 1\n"), "{metrics}");
    assert!(!metrics.contains("room=\"brief\""), "a closed room's label goes: {metrics}");

    // The name can be used again: a fresh room.
    let mut bob = join(&server, "brief", "bob").await;
    assert_eq!(players_seen(&mut bob).await, ["bob".to_owned()].into());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_room_names_get_400_before_the_upgrade() {
    let server = TestServer::start_small().await;
    let long = "x".repeat(tickwire::rooms::MAX_ROOM_NAME_BYTES + 1);
    for room in ["", "a%20b", "a/b", "%C3%A9t%C3%A9", long.as_str()] {
        let request = format!(
            "GET /ws?room={room} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: tickwire.v2\r\n\r\n"
        );
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut response = vec![0u8; 4096];
        let n = within(tcp.read(&mut response)).await.expect("read");
        let response = String::from_utf8_lossy(&response[..n]);
        assert!(response.starts_with("HTTP/1.1 400"), "{room}: {response}");
        assert!(response.contains("room name"), "{room}: {response}");
    }
    assert_eq!(names(&room_list(&server).await), ["lobby"]);
    server.stop().await;
}
