//! The operator console's API against a real server and real WebSocket clients: no admin
//! route without a token, 401 without the right one, kicks and room closes seen by the
//! clients with their codes and reasons, the closes listed, the rooms' figures, and
//! `--admin-bind` keeping `/metrics` and the console off the public port.

mod common;

use common::{TestServer, arena_spec, small_arena, within};
use std::net::SocketAddr;
use std::time::Duration;
use tickwire::Server;
use tickwire::admin::AdminToken;
use tickwire::arena::Arena;
use tickwire::bots::client::Received;
use tickwire::bots::client::next_binary;
use tickwire::bots::{BotClient, BotError};
use tickwire::config::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const TOKEN: &str = "test-admin-token-0123456789";

fn with_token() -> ServerConfig {
    ServerConfig {
        admin_token: Some(AdminToken::new(TOKEN).expect("long enough")),
        ..Default::default()
    }
}

/// An HTTP request over a fresh connection: the status, the headers and the body.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    within(tcp.read_to_string(&mut response)).await.expect("read");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_owned(), body.to_owned())
}

async fn api(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let (status, _, body) = request(addr, method, path, Some(TOKEN), body).await;
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)))
}

async fn join(addr: SocketAddr, room: &str, name: &str) -> BotClient {
    let url = format!("ws://{addr}/ws?room={room}&name={name}");
    let mut bot = within(BotClient::connect(&url, &arena_spec())).await.expect("connects");
    within(bot.next_snapshot()).await.expect("a snapshot");
    bot
}

/// Reads until the server closes; the close code and reason.
async fn closed(bot: &mut BotClient) -> (u16, String) {
    within(async {
        loop {
            match next_binary(bot.socket()).await {
                Ok(_) => continue,
                Err(BotError::Closed { code, reason }) => return (code, reason),
                Err(other) => panic!("expected a close frame, got {other}"),
            }
        }
    })
    .await
}

#[tokio::test]
async fn without_a_token_file_there_is_no_admin_route() {
    let server = TestServer::start_default().await;
    for path in ["/admin", "/admin/admin.js", "/admin/api/rooms", "/admin/api/closes"] {
        let (status, _, _) = request(server.addr, "GET", path, Some(TOKEN), "").await;
        assert_eq!(status, 404, "{path}");
    }
    // A POST reaches only the pages' GET catch-all: 405, and no admin handler runs.
    let (status, _, _) =
        request(server.addr, "POST", "/admin/api/rooms/lobby/close", Some(TOKEN), "").await;
    assert_eq!(status, 405);
    let (status, _, _) = request(server.addr, "GET", "/metrics", None, "").await;
    assert_eq!(status, 200, "/metrics stays on the public port without --admin-bind");
}

#[tokio::test]
async fn the_api_refuses_a_missing_or_wrong_token() {
    let server = TestServer::start_arena(with_token(), small_arena()).await;
    for token in [None, Some("test-admin-token-012345678"), Some("wrong")] {
        let (status, head, body) = request(server.addr, "GET", "/admin/api/rooms", token, "").await;
        assert_eq!(status, 401, "{token:?}");
        assert!(head.to_ascii_lowercase().contains("www-authenticate: bearer"), "{head}");
        assert!(body.contains("Authorization: Bearer"), "{body}");
    }
    let (status, _, _) =
        request(server.addr, "POST", "/admin/api/rooms/lobby/close", None, "").await;
    assert_eq!(status, 401, "actions too");
    // The page itself is served (it asks the operator for the token).
    let (status, _, page) = request(server.addr, "GET", "/admin", None, "").await;
    assert_eq!(status, 200);
    assert!(page.contains("/admin/admin.js"));
    let (status, rooms) = api(server.addr, "GET", "/admin/api/rooms", "").await;
    assert_eq!(status, 200);
    assert_eq!(rooms["rooms"][0]["name"], "lobby");
}

#[tokio::test]
async fn a_kicked_client_is_closed_with_4009_and_the_operators_reason() {
    let server = TestServer::start_arena(with_token(), small_arena()).await;
    let (mut ada, mut bob) =
        (join(server.addr, "duel", "ada").await, join(server.addr, "duel", "bob").await);
    let (status, list) = api(server.addr, "GET", "/admin/api/rooms/duel/clients", "").await;
    assert_eq!(status, 200, "{list}");
    let clients = list["clients"].as_array().expect("clients").clone();
    let names: Vec<_> = clients.iter().map(|c| c["name"].as_str().unwrap_or("")).collect();
    assert_eq!(names, ["ada", "bob"]);
    assert!(clients.iter().all(|c| c["user_id"].is_null() && c["entity"].as_u64() > Some(0)));
    let ada_id = clients[0]["client_id"].as_u64().expect("id");

    let path = format!("/admin/api/rooms/duel/clients/{ada_id}/kick");
    let long = format!("{{\"reason\": \"{}\"}}", "x".repeat(91));
    assert_eq!(api(server.addr, "POST", &path, &long).await.0, 400, "reason too long");
    assert_eq!(api(server.addr, "POST", &path, "{\"why\": 1}").await.0, 400, "not a reason");
    let (status, done) = api(server.addr, "POST", &path, r#"{"reason": "spamming chat"}"#).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["reason"], "kicked by the operator: spamming chat");
    assert_eq!(closed(&mut ada).await, (4009, "kicked by the operator: spamming chat".into()));

    assert_eq!(api(server.addr, "POST", &path, "").await.0, 404, "no longer there");
    let missing = "/admin/api/rooms/nowhere/clients/1/kick";
    assert_eq!(api(server.addr, "POST", missing, "").await.0, 404, "no such room");
    within(bob.next_snapshot()).await.expect("bob plays on");
    let (_, list) = api(server.addr, "GET", "/admin/api/rooms/duel/clients", "").await;
    assert_eq!(list["clients"].as_array().map(Vec::len), Some(1));
    let (_, closes) = api(server.addr, "GET", "/admin/api/closes", "").await;
    let first = &closes["closes"][0];
    assert_eq!((first["code"].as_u64(), first["client_id"].as_u64()), (Some(4009), Some(ada_id)));
    assert_eq!(first["label"], "kicked");
}

#[tokio::test]
async fn closing_a_room_closes_its_clients_with_4010_and_leaves_the_others() {
    let server = TestServer::start_arena(with_token(), small_arena()).await;
    let (mut a, mut b) =
        (join(server.addr, "duel", "a").await, join(server.addr, "duel", "b").await);
    let mut other = join(server.addr, "lobby", "c").await;
    let (status, done) =
        api(server.addr, "POST", "/admin/api/rooms/duel/close", r#"{"reason":"maintenance"}"#)
            .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["closed"], 2);
    let expected = (4010, "room closed by the operator: maintenance".to_owned());
    assert_eq!(closed(&mut a).await, expected);
    assert_eq!(closed(&mut b).await, expected);
    within(other.next_snapshot()).await.expect("another room plays on");
}

#[tokio::test]
async fn rooms_report_their_tick_times_bytes_and_the_series_fills() {
    let server = TestServer::start_arena(with_token(), small_arena()).await;
    let mut bot = join(server.addr, "lobby", "ada").await;
    // Two samples a second apart give a rate; keep reading so the bot keeps up.
    let reading = async {
        loop {
            let _ = bot.next_snapshot().await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(2300), reading).await;
    let (_, rooms) = api(server.addr, "GET", "/admin/api/rooms", "").await;
    let lobby = &rooms["rooms"][0];
    assert_eq!((lobby["name"].as_str(), lobby["players"].as_u64()), (Some("lobby"), Some(1)));
    assert!(lobby["tick_ms_p99"].as_f64() > Some(0.0), "{lobby}");
    assert!(lobby["tick_ms_p99"].as_f64() >= lobby["tick_ms_p50"].as_f64(), "{lobby}");
    assert!(lobby["bytes_per_second"].as_f64() > Some(0.0), "{lobby}");
    let (_, series) = api(server.addr, "GET", "/admin/api/series", "").await;
    let samples = series["samples"].as_array().expect("samples");
    assert!(samples.len() >= 2, "{series}");
    let last = samples.last().expect("one");
    assert!(last["ticks_per_second"].as_f64() > Some(0.0), "{last}");
    assert_eq!(last["clients"], 1);
}

#[tokio::test]
async fn admin_bind_keeps_metrics_and_the_console_off_the_public_port() {
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let internal = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (addr, admin) = (public.local_addr().expect("addr"), internal.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = Server::new(Arena::new(small_arena()))
        .config(with_token())
        .pages(tickwire::net::http::demo_files().iter().copied())
        .admin_listener(internal);
    let task = tokio::spawn(server.run(public, async move {
        let _ = stopped.await;
    }));
    for path in ["/metrics", "/admin", "/admin/api/rooms"] {
        assert_eq!(request(addr, "GET", path, Some(TOKEN), "").await.0, 404, "public {path}");
    }
    assert_eq!(request(addr, "GET", "/healthz", None, "").await.0, 200, "public /healthz");
    let mut bot = join(addr, "lobby", "ada").await;
    let (status, _, metrics) = request(admin, "GET", "/metrics", None, "").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("tickwire_"), "{metrics}");
    assert_eq!(request(admin, "GET", "/admin/api/rooms", None, "").await.0, 401);
    let (status, rooms) = api(admin, "GET", "/admin/api/rooms", "").await;
    assert_eq!((status, &rooms["rooms"][0]["players"]), (200, &serde_json::json!(1)));
    assert_eq!(request(admin, "GET", "/ws", None, "").await.0, 404, "no game on the admin port");
    within(bot.next_snapshot()).await.expect("plays");
    let _ = stop.send(());
    within(task).await.expect("joined").expect("stopped cleanly");
}

/// Reads until an operator's notice arrives; its text.
async fn notice(bot: &mut BotClient) -> String {
    within(async {
        loop {
            if let Received::Notice(notice) = bot.receive().await.expect("receives") {
                return notice.text;
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_notice_reaches_every_client_of_the_room_as_a_notice_message() {
    let server = TestServer::start_arena(with_token(), small_arena()).await;
    let (mut a, mut b) =
        (join(server.addr, "duel", "a").await, join(server.addr, "duel", "b").await);
    let path = "/admin/api/rooms/duel/notice";
    for bad in ["", "{}", r#"{"text": ""}"#, r#"{"text": "a\nb"}"#] {
        assert_eq!(api(server.addr, "POST", path, bad).await.0, 400, "{bad}");
    }
    let long = format!(r#"{{"text": "{}"}}"#, "x".repeat(201));
    assert_eq!(api(server.addr, "POST", path, &long).await.0, 400, "too long");
    let (status, sent) =
        api(server.addr, "POST", path, r#"{"text": "restart in 5 minutes ✓"}"#).await;
    assert_eq!((status, &sent["sent"]), (200, &serde_json::json!(2)), "{sent}");
    assert_eq!(notice(&mut a).await, "restart in 5 minutes ✓");
    assert_eq!(notice(&mut b).await, "restart in 5 minutes ✓");
    let nowhere = "/admin/api/rooms/nowhere/notice";
    assert_eq!(api(server.addr, "POST", nowhere, r#"{"text": "hi"}"#).await.0, 404);
}

#[tokio::test]
async fn a_drained_server_refuses_new_players_and_stops_once_empty() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (_stop, stopped) = oneshot::channel::<()>();
    let server = Server::new(Arena::new(small_arena())).config(with_token());
    let task = tokio::spawn(server.run(listener, async move {
        let _ = stopped.await;
    }));
    let mut playing = join(addr, "lobby", "ada").await;
    assert_eq!(request(addr, "GET", "/readyz", None, "").await.0, 200);
    let (status, drain) = api(addr, "POST", "/admin/api/drain", "").await;
    assert_eq!((status, &drain["draining"], &drain["clients"]), (200, &true.into(), &1.into()));
    let (status, _, body) = request(addr, "GET", "/readyz", None, "").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("draining"), "{body}");
    let url = format!("ws://{addr}/ws?name=late");
    let mut late = within(BotClient::connect(&url, &arena_spec())).await;
    let refusal = match late {
        Err(BotError::Closed { code, reason }) => (code, reason),
        Ok(ref mut bot) => closed(bot).await,
        Err(other) => panic!("expected a close, got {other}"),
    };
    assert_eq!(refusal.0, 1001);
    assert!(refusal.1.starts_with("server draining"), "{}", refusal.1);
    within(playing.next_snapshot()).await.expect("a player in play stays");
    assert!(!task.is_finished(), "not empty yet");
    playing.close().await;
    // The last client gone, the server stops by itself (no shutdown signal was sent).
    within(task).await.expect("joined").expect("stopped cleanly");
}
