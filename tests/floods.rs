//! Connection floods: `--max-connections-per-ip` refuses the excess with 429 and a reason,
//! and bursts of connections that complete the handshake and vanish with a TCP reset leave
//! the server serving everyone else, with its `clients` gauge back at its baseline.

mod common;
mod raw;

use common::{TestServer, small_arena, within};
use raw::{RawClient, http, status, upgrade_request};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tickwire::bots::BotClient;
use tickwire::bots::client::BotError;
use tickwire::config::ServerConfig;
use tokio::task::JoinHandle;

/// The `tickwire_clients` gauge from `/metrics`.
async fn clients_gauge(server: &TestServer) -> u64 {
    let response = within(http(server.addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")).await;
    assert_eq!(status(&response), 200, "{response}");
    response
        .lines()
        .find_map(|line| line.strip_prefix("tickwire_clients "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no tickwire_clients gauge in {response}"))
}

/// Waits (at most 10 s) until the gauge reads `expected`.
async fn gauge_settles_at(server: &TestServer, expected: u64) {
    let mut last = 0;
    for _ in 0..200 {
        last = clients_gauge(server).await;
        if last == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clients gauge stuck at {last}, expected {expected}");
}

/// A player reading every snapshot until `stop` is set; its replica checks every delta.
/// Returns the player and how many snapshots it applied, ticks strictly increasing.
fn keep_playing(
    mut player: BotClient,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Result<(BotClient, u32), BotError>> {
    tokio::spawn(async move {
        let mut snapshots = 0;
        while !stop.load(Ordering::Relaxed) {
            let tick = player.replica.tick;
            player.next_snapshot().await?;
            assert!(player.replica.tick > tick, "ticks go forward");
            snapshots += 1;
        }
        Ok((player, snapshots))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_excess_from_one_address_gets_429_and_a_slot_comes_back() {
    let config = ServerConfig { max_connections_per_ip: 3, ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;
    let first = server.connect("first").await;
    let _second = server.connect("second").await;
    let mut third = server.connect("third").await;

    let response = within(http(server.addr, &upgrade_request("localhost", ""))).await;
    assert_eq!(status(&response), 429, "{response}");
    assert!(response.contains("too many connections from 127.0.0.1: at most 3"), "{response}");
    // The refusal cost the others nothing.
    within(third.next_snapshot()).await.expect("still served");

    // Once one leaves, its slot is free again (the server notices the close first).
    first.close().await;
    within(async {
        loop {
            let response = http(server.addr, &upgrade_request("localhost", "")).await;
            match status(&response) {
                101 => return,
                429 => tokio::time::sleep(Duration::from_millis(20)).await,
                other => panic!("unexpected {other}: {response}"),
            }
        }
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_connections_reset_after_the_handshake_leave_no_trace() {
    const BURSTS: usize = 4;
    const PER_BURST: usize = 25;
    let config =
        ServerConfig { max_connections_per_ip: BURSTS * PER_BURST + 16, ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;
    let player = server.connect("player").await;
    gauge_settles_at(&server, 1).await;

    let stop = Arc::new(AtomicBool::new(false));
    let playing = keep_playing(player, stop.clone());
    for _ in 0..BURSTS {
        let mut burst = Vec::with_capacity(PER_BURST);
        for _ in 0..PER_BURST {
            burst.push(within(RawClient::connect(server.addr, "")).await);
        }
        assert!(clients_gauge(&server).await > PER_BURST as u64, "the burst is connected");
        // Each one vanishes without a close frame or FIN: SO_LINGER 0 makes close() a reset.
        for client in burst {
            socket2::SockRef::from(&client.tcp).set_linger(Some(Duration::ZERO)).expect("linger");
            drop(client);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Everyone who vanished is gone; nobody else left; a newcomer is served.
    gauge_settles_at(&server, 1).await;
    let mut newcomer = server.connect("newcomer").await;
    within(newcomer.next_snapshot()).await.expect("newcomer served");
    stop.store(true, Ordering::Relaxed);
    let (mut player, snapshots) =
        within(playing).await.expect("player task").expect("player served throughout");
    assert!(snapshots > 0);
    let tick = player.replica.tick;
    within(player.next_snapshot()).await.expect("still served");
    assert!(player.replica.tick > tick);
    server.stop().await;
}
