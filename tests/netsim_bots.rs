//! The real server and the bots through `tickwire netsim` at a 100 ms round trip with
//! ± 10 ms of jitter each way: every replica stays exact, nobody is dropped, and the input
//! buffer policy holds (ticks rarely find an active client's buffer empty, no input is
//! dropped on overflow, no snapshot corrects a bot's prediction by more than a unit).
//! Correctness only, never speed: the bounds are loose enough for a busy 2-core machine.

mod common;

use common::{TestServer, arena_spec, run_bots};
use std::time::Duration;
use tickwire::ServerConfig;
use tickwire::arena::ArenaConfig;
use tickwire::bots::LoadOptions;
use tickwire::bots::pattern::Pattern;
use tickwire::netsim::{LinkConfig, Netsim, NetsimConfig};

const BOTS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_behind_a_jittery_100_ms_link_keep_their_buffers_fed() {
    // A large arena, so that players rarely collide (collisions are not predicted).
    let arena = ArenaConfig { size: 400.0, orbs: 10, view_radius: 50.0, ..ArenaConfig::default() };
    let server = TestServer::start_arena(ServerConfig::default(), arena).await;
    let link = LinkConfig {
        delay: Duration::from_millis(50),
        jitter: Duration::from_millis(10),
        ..LinkConfig::default()
    };
    let mut config =
        NetsimConfig::new("127.0.0.1:0".parse().expect("addr"), server.addr.to_string());
    config.seed = 7;
    let netsim = Netsim::start(config.both(link)).await.expect("netsim starts");

    let mut options = LoadOptions::new(format!("ws://{}/ws", netsim.local_addr()), BOTS);
    options.duration = Duration::from_secs(6);
    options.ramp_up = Duration::from_millis(500);
    options.pattern = Pattern::RandomWalk;
    // The server's own figures straight from it, so the window's edges are not delayed.
    options.metrics_url = Some(format!("http://{}/metrics", server.addr));
    let report = run_bots(&arena_spec(), &options).await;
    eprintln!("{}", tickwire::bots::report::render_text(&report));

    assert_eq!((report.clients.connected, report.clients.failed), (BOTS as u64, 0));
    assert_eq!(report.clients.disconnected, 0, "{:?}", report.clients.close_codes);
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    assert!(report.rtt_ms.p50 >= 90.0, "the link is in the way: {:?}", report.rtt_ms);
    let s = report.server.as_ref().expect("the metrics scrape succeeded");
    assert!(s.input_active_ticks > 0.0, "{s:?}");
    let starved = s.input_starved_ticks / s.input_active_ticks;
    assert!(starved <= 0.05, "ticks without an input while active: {starved}: {s:?}");
    assert!(s.inputs_dropped.is_empty(), "no input dropped: {:?}", s.inputs_dropped);
    let p = &report.prediction;
    assert!(p.units.count > 0, "the bots predicted their player");
    assert_eq!(p.over_one_share, 0.0, "no correction over a unit: {p:?}");
    netsim.shutdown().await;
    server.stop().await;
}
