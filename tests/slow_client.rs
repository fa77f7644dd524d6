//! A client that stops reading does not slow the others: its snapshots are replaced
//! (latest wins) while its socket is full, and after `max_lag_ticks` it is disconnected.

mod common;

use common::{TestServer, connect_without_reading, http_get, within};
use futures_util::StreamExt;
use std::time::{Duration, Instant};
use tickwire::arena::ArenaConfig;
use tickwire::config::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_is_dropped_without_stalling_the_rest() {
    // Thousands of orbs in view make the first full snapshot far larger than the stalled
    // client's tiny receive window plus the server's capped send buffer.
    let mut config = ServerConfig::default();
    let arena =
        ArenaConfig { size: 100.0, view_radius: 100.0, orbs: 6_000, ..ArenaConfig::default() };
    config.max_lag_ticks = 10;
    config.socket_send_buffer = Some(4096);
    let server = TestServer::start_arena(config, arena).await;

    let mut stalled = connect_without_reading(&server).await;

    let mut healthy = server.connect("healthy").await;
    within(healthy.next_snapshot()).await.expect("snapshot");
    let started = Instant::now();
    let first_tick = healthy.replica.tick;
    let mut snapshots = 0u32;
    while started.elapsed() < Duration::from_secs(2) {
        within(healthy.next_snapshot()).await.expect("the healthy client is served");
        snapshots += 1;
    }
    assert_eq!(
        healthy.replica.tick - first_tick,
        snapshots,
        "no tick skipped for the healthy client"
    );
    assert!(snapshots >= 40, "about 60 snapshots in 2 s at 30 Hz, got {snapshots}");

    // By now the stalled client has been disconnected: reading drains what was buffered and
    // then finds the connection closed (a close frame 4001 if it fit, else a reset or EOF).
    let ended = within(async {
        loop {
            match stalled.next().await {
                None | Some(Err(_)) => return None,
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    if let Some(frame) = ended {
        assert_eq!(u16::from(frame.code), 4001, "{frame:?}");
        assert!(frame.reason.contains("too slow"), "{frame:?}");
    }
    let (_, metrics) = http_get(server.addr, "/metrics").await;
    assert!(metrics.contains("tickwire_disconnects_total{reason=\"too_slow\"} 1"), "{metrics}");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("tickwire_snapshots_skipped_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    healthy.close().await;
    server.stop().await;
}
