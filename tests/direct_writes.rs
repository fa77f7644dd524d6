//! On plain TCP the tick writes each client's snapshot straight onto its socket, and the
//! client cannot tell: every snapshot arrives, in order, each a delta against the one before.

mod common;

use common::{TestServer, http_get, small_arena, within};
use tickwire::arena::ArenaInput;
use tickwire::config::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_written_by_the_tick_and_arrive_in_order() {
    snapshots_arrive_in_order(ServerConfig::default(), 2).await;
}

/// Three flusher threads share each tick's clients: every client still gets every snapshot,
/// in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_between_flusher_threads_snapshots_still_arrive_in_order() {
    snapshots_arrive_in_order(ServerConfig { flush_threads: 3, ..ServerConfig::default() }, 7)
        .await;
}

async fn snapshots_arrive_in_order(config: ServerConfig, clients: usize) {
    let server = TestServer::start_arena(config, small_arena()).await;
    let mut bots = Vec::new();
    for n in 0..clients {
        bots.push(server.connect(&format!("bot{n}")).await);
    }
    for bot in &mut bots {
        within(bot.next_snapshot()).await.expect("first snapshot");
    }
    for round in 0..20 {
        for bot in &mut bots {
            if round < 5 {
                bot.send_input(ArenaInput::default()).await.expect("input");
            }
            let before = bot.replica.tick;
            within(bot.next_snapshot()).await.expect("snapshot");
            assert!(bot.replica.tick > before, "ticks only move forward");
        }
    }
    let (_, metrics) = http_get(server.addr, "/metrics").await;
    let direct = counter(&metrics, "tickwire_frames_direct_total");
    assert!(
        direct >= 20 * clients as u64,
        "most snapshots written by the tick directly: {direct}\n{metrics}"
    );
    for bot in bots {
        bot.close().await;
    }
    server.stop().await;
}

fn counter(metrics: &str, name: &str) -> u64 {
    let line = metrics.lines().find(|line| line.starts_with(name)).expect("the counter");
    line.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("a number")
}
