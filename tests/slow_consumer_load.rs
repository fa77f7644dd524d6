//! A client that never reads, in a busy room: 20 load-tester bots moving in an all-visible
//! arena of 6,000 orbs (so the stalled client's first snapshot, a full one, is tens of KiB,
//! far more than its 2 KiB receive buffer and the server's 8 KiB send buffer hold). It is
//! closed with 4001 within `--max-lag-ticks` (plus an allowance for scheduling), and no bot
//! misses more than a fifth of the ticks meanwhile.
//!
//! Memory, by design: the server holds at most two snapshots for a client that does not
//! read, whatever its lag: the one its writer took and is blocked writing (in the kernel's
//! send buffer and tungstenite's write buffer), and the newest in its one-slot outbox, which
//! the tick takes back and replaces every tick (latest wins; a skipped snapshot is never
//! queued). Its view holds what the client was last handed, one entry per visible entity.
//! None of it grows with time, and `--max-lag-ticks` bounds the time anyway. The test checks
//! the outcome too: the process's resident memory (server and bots together) grows by less
//! than a generous bound while the client is stalled.

mod common;

use common::{TestServer, arena_spec, connect_without_reading, within};
use futures_util::StreamExt;
use std::time::{Duration, Instant};
use tickwire::arena::ArenaConfig;
use tickwire::bots::scrape::{Scrape, fetch_async};
use tickwire::bots::{LoadOptions, run};
use tickwire::config::ServerConfig;
use tickwire::metrics::names;
use tickwire::protocol::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// Bots that keep reading.
const BOTS: usize = 20;
/// The documented bound under test: 1 s at 30 Hz.
const MAX_LAG_TICKS: u32 = 30;
/// Added to the bound for a debug build sharing 2 cores with 20 bots and the test.
const SCHEDULING_ALLOWANCE: Duration = Duration::from_secs(3);
/// Most the process's resident memory may grow while the client is stalled.
const MEMORY_BOUND_BYTES: f64 = 64.0 * 1024.0 * 1024.0;
/// Each bot gets at least this share of the ticks in the measurement window.
const MIN_SHARE_OF_TICKS: f64 = 0.8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_in_bound_and_starves_nobody() {
    let config = ServerConfig {
        max_lag_ticks: MAX_LAG_TICKS,
        socket_send_buffer: Some(8192),
        ..ServerConfig::default()
    };
    let arena =
        ArenaConfig { size: 100.0, view_radius: 100.0, orbs: 6_000, ..ArenaConfig::default() };
    let server = TestServer::start_arena(config, arena).await;
    let metrics_url = format!("http://{}/metrics", server.addr);

    let mut options = LoadOptions::new(server.ws_url(), BOTS);
    options.duration = Duration::from_secs(9);
    options.ramp_up = Duration::from_secs(1);
    let load =
        tokio::spawn(
            async move { run(&arena_spec(), &options, std::future::pending::<()>()).await },
        );
    // The bots' window opens after the ramp-up and a settle second; stall inside it.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let before = fetch_async(&metrics_url).await.expect("metrics");
    let resident_before = before.gauge(names::PROCESS_RESIDENT_MEMORY_BYTES).expect("memory");

    let stalled_at = Instant::now();
    let mut stalled = connect_without_reading(&server).await;
    let resident_peak = within(wait_for_too_slow(&metrics_url)).await;
    let waited = stalled_at.elapsed();
    let bound = Duration::from_secs_f64(f64::from(MAX_LAG_TICKS) / 30.0) + SCHEDULING_ALLOWANCE;
    assert!(waited <= bound, "closed after {waited:?}, bound {bound:?}");
    let growth = resident_peak - resident_before;
    eprintln!("closed after {waited:?} (bound {bound:?}); resident memory grew {growth} bytes");
    assert!(growth < MEMORY_BOUND_BYTES, "resident memory grew by {growth} bytes");
    // Reading now drains what was buffered, then finds the close frame (4001) if it got out
    // before the close timeout, else the connection reset or ended.
    if let Some(frame) = within(closing_frame(&mut stalled)).await {
        assert_eq!(u16::from(frame.code), CloseCode::TooSlow.code(), "{frame:?}");
    }

    let report = within(load).await.expect("load task").expect("the run starts");
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    assert_eq!(report.clients.connected, BOTS as u64, "{:?}", report.clients);
    assert_eq!(report.clients.disconnected, 0, "{:?}", report.clients.close_codes);
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    let server_figures = report.server.expect("the window's scrapes");
    let too_slow = server_figures.disconnects.get(CloseCode::TooSlow.label());
    assert_eq!(too_slow, Some(&1.0), "the stalled client, and no bot");
    // Its first snapshot was handed to the kernel (in part) and never read: the read probe
    // behind it counts it, so the client may go after one snapshot fewer taken back.
    let skipped = server_figures.snapshots_skipped;
    assert!(skipped >= f64::from(MAX_LAG_TICKS - 1), "{skipped} snapshots skipped");
    // Every bot was connected for the whole window, so rate × window is its count.
    let fewest = report.snapshot_rate.min * report.run.window_s;
    assert!(
        fewest >= MIN_SHARE_OF_TICKS * server_figures.ticks,
        "the slowest bot got {fewest:.0} snapshots of {} ticks",
        server_figures.ticks
    );
    server.stop().await;
}

/// Polls `/metrics` every 100 ms until the server counts a 4001 (`too_slow`) disconnect;
/// returns the most resident memory seen meanwhile.
async fn wait_for_too_slow(metrics_url: &str) -> f64 {
    let mut peak: f64 = 0.0;
    // Bounded by the caller's `within`.
    loop {
        let scrape: Scrape = fetch_async(metrics_url).await.expect("metrics");
        peak = peak.max(scrape.gauge(names::PROCESS_RESIDENT_MEMORY_BYTES).expect("memory"));
        let too_slow = scrape.counters_by_label(names::DISCONNECTS, names::REASON);
        if too_slow.iter().any(|(reason, n)| reason == CloseCode::TooSlow.label() && *n >= 1.0) {
            return peak;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads until the connection ends; the close frame if one came.
async fn closing_frame(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> Option<CloseFrame> {
    // Ends when the server's close arrives or the connection fails, within the caller's bound.
    loop {
        match socket.next().await {
            None | Some(Err(_)) => return None,
            Some(Ok(Message::Close(frame))) => return frame,
            Some(Ok(_)) => continue,
        }
    }
}
