//! The load tester against the real server: every bot connects, keeps a correct replica and
//! receives snapshots, and the `/metrics` scrape works. Correctness only, never speed.

mod common;

use common::{TestServer, arena_spec, run_bots, small_arena};
use std::time::Duration;
use tickwire::ServerConfig;
use tickwire::arena::ArenaConfig;
use tickwire::bots::pattern::Pattern;
use tickwire::bots::{LoadOptions, run};

async fn load(server: &TestServer, clients: usize, pattern: Pattern) -> tickwire::bots::Report {
    let mut options = LoadOptions::new(server.ws_url(), clients);
    options.duration = Duration::from_millis(2_500);
    options.ramp_up = Duration::from_millis(500);
    options.pattern = pattern;
    let report = run_bots(&arena_spec(), &options).await;
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_bots_connect_and_keep_correct_replicas() {
    let arena = ArenaConfig { view_radius: 100.0, ..small_arena() };
    let server = TestServer::start_arena(ServerConfig::default(), arena).await;
    let report = load(&server, 20, Pattern::RandomWalk).await;
    assert_eq!(report.clients.connected, 20, "{:?}", report.clients);
    assert_eq!(report.clients.failed, 0);
    assert_eq!(report.clients.disconnected, 0, "{:?}", report.clients.close_codes);
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    assert!(report.replica.compared > 0, "everyone sees everyone, so replicas were compared");
    assert!(report.snapshot_rate.min > 0.0, "every bot got snapshots");
    assert!(report.latency_ms.count > 0, "inputs were acknowledged by snapshots");
    assert!(report.bytes.per_move_op > 0.0, "moving players cost bytes");
    let server_figures = report.server.expect("the metrics scrape succeeded");
    assert!(server_figures.ticks > 0.0);
    assert_eq!(report.server_error, None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_bots_send_no_inputs_and_still_get_snapshots() {
    let server = TestServer::start_small().await;
    let report = load(&server, 5, Pattern::Idle).await;
    assert_eq!(report.clients.connected, 5);
    assert_eq!(report.replica.errors(), 0);
    assert_eq!(report.latency_ms.count, 0, "no input, no latency sample");
    assert!(report.snapshot_rate.min > 0.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churning_bots_reconnect_as_fresh_clients_with_correct_replicas() {
    let arena = ArenaConfig { view_radius: 100.0, ..small_arena() };
    let server = TestServer::start_arena(ServerConfig::default(), arena).await;
    let mut options = LoadOptions::new(server.ws_url(), 20);
    options.duration = Duration::from_secs(4);
    options.ramp_up = Duration::from_millis(500);
    options.churn = Some(Duration::from_millis(800));
    let report = run_bots(&arena_spec(), &options).await;
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    let (clients, churn) = (&report.clients, &report.churn);
    assert_eq!((clients.connected, clients.failed), (20, 0), "{clients:?}");
    assert_eq!(clients.disconnected, 0, "churn is not a disconnect: {:?}", clients.close_codes);
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    assert!(churn.closed >= 20, "about 5 lifetimes per bot: {churn:?}");
    assert!(churn.reopened + 20 >= churn.closed, "each close but the last reconnects: {churn:?}");
    assert_eq!(churn.opened, 20 + churn.reopened);
    assert_eq!(churn.mean_lifetime_s, Some(0.8));
    let timeline = &report.timeline;
    assert!(timeline.points.len() >= 3 && timeline.missed == 0, "{timeline:?}");
    assert!(timeline.points.iter().all(|p| p.resident_bytes > 0.0));
    assert!(timeline.points.iter().any(|p| p.clients > 0.0), "{timeline:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churning_bots_that_drop_resume_their_own_players() {
    let arena = ArenaConfig { view_radius: 100.0, ..small_arena() };
    let server = TestServer::start_arena(ServerConfig::default(), arena).await;
    let mut options = LoadOptions::new(server.ws_url(), 20);
    options.duration = Duration::from_secs(4);
    options.ramp_up = Duration::from_millis(500);
    options.churn = Some(Duration::from_millis(800));
    options.resume_share = 0.5;
    let report = run_bots(&arena_spec(), &options).await;
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    let (clients, churn) = (&report.clients, &report.churn);
    assert_eq!((clients.connected, clients.failed), (20, 0), "{clients:?}");
    assert_eq!(clients.disconnected, 0, "no resume failed: {:?}", clients.close_codes);
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    assert!(churn.dropped >= 10 && churn.dropped < churn.closed, "about half drop: {churn:?}");
    // Every drop but a bot's last (cut off by the end of the run) was resumed, each to the
    // bot's own entity (the bot checks, and counts a mismatch as a disconnect).
    assert!(churn.resumed + 20 >= churn.dropped && churn.resumed > 0, "{churn:?}");
    server.stop().await;
}

#[tokio::test]
async fn refuses_bad_urls_and_ramp_up() {
    let options = LoadOptions::new("http://127.0.0.1:1/ws", 1);
    let error =
        run(&arena_spec(), &options, std::future::pending::<()>()).await.expect_err("http refused");
    assert!(error.contains("ws://"), "{error}");
    let mut options = LoadOptions::new("ws://127.0.0.1:1/ws", 1);
    options.ramp_up = options.duration;
    assert!(run(&arena_spec(), &options, std::future::pending::<()>()).await.is_err());
}
