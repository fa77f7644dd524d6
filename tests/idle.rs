//! `--idle-timeout`: a client that sends nothing at all is pinged, then closed with 4002 and
//! a reason; one that answers pings (as every browser does) stays.

mod common;
mod raw;

use common::{TestServer, small_arena, within};
use raw::{PING, RawClient, http, status};
use std::time::{Duration, Instant};
use tickwire::config::ServerConfig;

fn config(idle_timeout: Duration) -> ServerConfig {
    ServerConfig { idle_timeout, ..ServerConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_pinged_then_closed_with_4002() {
    let server = TestServer::start_arena(config(Duration::from_millis(900)), small_arena()).await;
    // Reads throughout, so its library answers the server's pings, as a browser's does.
    let mut bystander = server.connect("bystander").await;
    let watching = tokio::spawn(async move {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            bystander.next_snapshot().await?;
        }
        Ok::<_, tickwire::bots::client::BotError>(bystander)
    });

    // Reads everything, answers nothing: not even the pings.
    let mut silent = within(RawClient::connect(server.addr, "")).await;
    let (pings, close) = within(async {
        let mut pings = 0;
        loop {
            let frame = silent.next_frame().await.expect("a close frame before the end");
            match frame.opcode {
                PING => pings += 1,
                raw::CLOSE => return (pings, frame),
                _ => {}
            }
        }
    })
    .await;
    assert!(pings >= 1, "pinged before being closed");
    let (code, reason) = close.close_status().expect("a close frame with a status");
    assert_eq!(code, 4002, "{reason}");
    assert!(reason.contains("idle"), "{reason}");

    let metrics = within(http(server.addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")).await;
    assert_eq!(status(&metrics), 200);
    assert!(metrics.contains("reason=\"idle\""), "{metrics}");

    // The bystander, quiet too but answering pings, was served all along.
    let mut bystander = within(watching).await.expect("task").expect("served throughout");
    let tick = bystander.replica.tick;
    within(bystander.next_snapshot()).await.expect("still served");
    assert!(bystander.replica.tick > tick);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_answers_pings_outlives_the_timeout() {
    let timeout = Duration::from_millis(600);
    let server = TestServer::start_arena(config(timeout), small_arena()).await;
    // Sends no input and no protocol ping; only its library's pongs.
    let mut watcher = server.connect("watcher").await;
    let start = Instant::now();
    let mut snapshots = 0;
    while start.elapsed() < timeout * 4 {
        within(watcher.next_snapshot()).await.expect("not closed while answering pings");
        snapshots += 1;
    }
    assert!(snapshots > 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_idle_timeout_is_refused() {
    let error = config(Duration::ZERO).validate().expect_err("refused");
    assert!(error.contains("idle"), "{error}");
}

/// Bytes that never complete a frame are not a sign of life: a client that trickles one
/// frame a byte at a time is closed with 4002 like a silent one, its partial frame held to
/// one frame's bytes meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_a_frame_byte_by_byte_is_closed_as_idle() {
    let server = TestServer::start_arena(config(Duration::from_millis(900)), small_arena()).await;
    let mut trickler = within(RawClient::connect(server.addr, "")).await;
    // A binary frame announcing 100 bytes (masked), sent a byte every 100 ms: 3 s to finish.
    let frame = raw::raw_frame(0x80 | raw::BINARY, &[0u8; 100], Some([1, 2, 3, 4]));
    let start = Instant::now();
    let close = within(async {
        for byte in frame {
            trickler.try_send(&[byte]).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Some(close) = trickler.pending_close().await {
                return close;
            }
        }
        panic!("the whole frame went through without a close");
    })
    .await;
    let (code, reason) = close.close_status().expect("a close frame with a status");
    assert_eq!(code, 4002, "{reason}");
    assert!(start.elapsed() < Duration::from_secs(3), "closed before the frame completed");
    server.stop().await;
}
