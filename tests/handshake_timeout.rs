//! `--handshake-timeout`: a connection that does not complete its HTTP request in time is
//! dropped, and hundreds of such connections do not hold up anyone else.

mod common;

use common::{TestServer, small_arena, within};
use std::time::Duration;
use tickwire::config::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config(timeout: Duration) -> ServerConfig {
    ServerConfig { handshake_timeout: timeout, ..ServerConfig::default() }
}

/// Reads until the server ends the connection; returns what it sent before (at most a
/// `408` response, never a `101`).
async fn dropped(tcp: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

fn assert_no_upgrade(response: &str) {
    assert!(response.is_empty() || response.starts_with("HTTP/1.1 408"), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_half_sent_and_idle_keep_alive_connections_are_dropped() {
    let server = TestServer::start_arena(config(Duration::from_millis(300)), small_arena()).await;

    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    assert_no_upgrade(&within(dropped(&mut silent)).await);

    let mut half = TcpStream::connect(server.addr).await.expect("connect");
    half.write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: webs").await.expect("write");
    assert_no_upgrade(&within(dropped(&mut half)).await);

    // A finished request is answered; waiting for the next one is bounded as well.
    let mut keep_alive = TcpStream::connect(server.addr).await.expect("connect");
    keep_alive.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
    let response = within(dropped(&mut keep_alive)).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // A request that completes in time is served as always.
    let mut bot = server.connect("ada").await;
    within(bot.next_snapshot()).await.expect("snapshot");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_half_open_connections_do_not_hold_up_players() {
    const HALF_OPEN: usize = 200;
    let server = TestServer::start_arena(config(Duration::from_secs(2)), small_arena()).await;
    let mut player = server.connect("player").await;
    within(player.next_snapshot()).await.expect("first snapshot");

    let mut stalled = Vec::new();
    for _ in 0..HALF_OPEN {
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nSec-WebSocket-Ver")
            .await
            .expect("write");
        stalled.push(tcp);
    }

    // While they hang: the player's stream goes on, tick after tick, and a newcomer gets in.
    let mut last = player.replica.tick;
    for _ in 0..10 {
        within(player.next_snapshot()).await.expect("snapshot while others stall");
        assert!(player.replica.tick > last);
        last = player.replica.tick;
    }
    let mut newcomer = server.connect("newcomer").await;
    within(newcomer.next_snapshot()).await.expect("newcomer served");

    // Every stalled connection is dropped; the player never noticed.
    for tcp in &mut stalled {
        assert_no_upgrade(&within(dropped(tcp)).await);
    }
    let tick = player.replica.tick;
    within(player.next_snapshot()).await.expect("snapshot after");
    assert!(player.replica.tick > tick);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_handshake_timeout_is_refused() {
    let error = config(Duration::ZERO).validate().expect_err("refused");
    assert!(error.contains("handshake timeout"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_half_sent_requests() {
    let server = TestServer::start_arena(config(Duration::from_secs(60)), small_arena()).await;
    let mut half = TcpStream::connect(server.addr).await.expect("connect");
    half.write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\n").await.expect("write");
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let mut bot = server.connect("ada").await;
    within(bot.next_snapshot()).await.expect("snapshot");
    // `stop` bounds itself to 10 s; the handshake timeout is 60.
    server.stop().await;
    assert_no_upgrade(&within(dropped(&mut half)).await);
    assert_no_upgrade(&within(dropped(&mut silent)).await);
}
