//! A client that stops reading is closed with 4001 within `--max-lag-ticks` (plus the read
//! probe's interval), however small its snapshots: a quiet room's few bytes a tick would fill
//! the kernel's buffers (the server's send buffer and the client's receive buffer) only after
//! minutes, so the server asks the client to prove it reads (a ping behind a snapshot) and
//! counts the ticks its answer takes.

mod common;
mod raw;

use common::{TestServer, http_get, within};
use raw::RawClient;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tickwire::arena::ArenaConfig;
use tickwire::config::ServerConfig;

const TOO_SLOW: &str = "tickwire_disconnects_total{reason=\"too_slow\"}";

/// How many clients the server has closed as too slow, from its `/metrics`.
async fn too_slow(server: &TestServer) -> u32 {
    let (_, metrics) = http_get(server.addr, "/metrics").await;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(TOO_SLOW))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_reader_in_a_quiet_room_is_closed_with_4001() {
    // A quiet room: no orbs, two players standing still; a snapshot is a few bytes.
    let config = ServerConfig { max_lag_ticks: 15, ..ServerConfig::default() };
    let bound = Duration::from_secs_f64(15.0 / 30.0) + Duration::from_secs(1);
    let arena = ArenaConfig { size: 60.0, orbs: 0, ..ArenaConfig::default() };
    let server = TestServer::start_arena(config, arena).await;

    // A client that keeps reading, all along: it answers the probes and must stay.
    let mut reader = server.connect("reader").await;
    within(reader.next_snapshot()).await.expect("first snapshot");
    let stop = Arc::new(AtomicBool::new(false));
    let reading = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut snapshots = 0u32;
            while !stop.load(Ordering::Acquire) {
                within(reader.next_snapshot()).await.expect("the reader is served throughout");
                snapshots += 1;
            }
            snapshots
        }
    });

    // The silent client completes the handshake and never reads a byte.
    let mut silent = RawClient::connect(server.addr, "").await;
    let stopped_reading = Instant::now();
    let dropped = within(async {
        while too_slow(&server).await == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stopped_reading.elapsed()
    })
    .await;
    println!("silent reader closed with 4001 after {dropped:?} (bound {bound:?})");
    // The bound itself, plus 2 s for a debug build on a shared 2-core machine.
    assert!(dropped < bound + Duration::from_secs(2), "closed after {dropped:?}");

    // What it would have read: its snapshots, the probes, then the close frame.
    let close = within(silent.close_frame()).await.expect("a close frame");
    let (code, reason) = close.close_status().expect("a status");
    assert_eq!(code, 4001, "{reason}");
    assert!(reason.contains("too slow"), "{reason}");

    // Another second of play: the reader, which answers every probe, is never dropped.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Release);
    let snapshots = within(reading).await.expect("reader task");
    assert!(snapshots >= 30, "the reader kept receiving snapshots: {snapshots}");
    assert_eq!(too_slow(&server).await, 1, "only the silent client was too slow");
    server.stop().await;
}
