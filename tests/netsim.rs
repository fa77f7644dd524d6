//! `tickwire netsim` on real sockets: in front of a TCP echo server it adds its delay, keeps
//! bytes whole and in order under jitter, honours a bandwidth and a stall; in front of the
//! real server the bots play through it with a round trip of twice the delay, and the demo's
//! page and origin policy work through it. Timings are asserted as lower bounds with generous
//! upper bounds, never tight.

mod common;
mod raw;

use common::{TestServer, arena_spec, run_bots, small_arena, within};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tickwire::ServerConfig;
use tickwire::arena::ArenaConfig;
use tickwire::bots::LoadOptions;
use tickwire::netsim::{LinkConfig, Netsim, NetsimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const MS: Duration = Duration::from_millis(1);

/// A TCP echo server on 127.0.0.1:0.
struct Echo {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Echo {
    async fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut tcp, _)) = listener.accept().await {
                connections.spawn(async move {
                    let (mut read, mut write) = tcp.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        Echo { addr, task }
    }

    /// Stops accepting and drops every connection.
    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn netsim(upstream: SocketAddr, up: LinkConfig, down: LinkConfig) -> Netsim {
    let mut config = NetsimConfig::new("127.0.0.1:0".parse().expect("addr"), upstream.to_string());
    config.up = up;
    config.down = down;
    config.seed = 42;
    Netsim::start(config).await.expect("netsim starts")
}

fn delayed(delay: Duration, jitter: Duration) -> LinkConfig {
    LinkConfig { delay, jitter, ..LinkConfig::default() }
}

/// Sends `message` and reads as many bytes back; returns them and the time it took.
async fn round_trip(tcp: &mut TcpStream, message: &[u8]) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    tcp.write_all(message).await.expect("write");
    let mut echoed = vec![0; message.len()];
    within(tcp.read_exact(&mut echoed)).await.expect("echo");
    (echoed, start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_trip_is_twice_the_delay() {
    let echo = Echo::start().await;
    let link = delayed(50 * MS, Duration::ZERO);
    let netsim = netsim(echo.addr, link, link).await;
    let mut tcp = TcpStream::connect(netsim.local_addr()).await.expect("connect");
    for i in 0..3 {
        let message = format!("ping {i}");
        let (echoed, took) = round_trip(&mut tcp, message.as_bytes()).await;
        assert_eq!(echoed, message.as_bytes());
        assert!(took >= 100 * MS, "round trip {took:?} under twice the 50 ms delay");
        assert!(took < 1_000 * MS, "round trip {took:?}");
    }
    netsim.shutdown().await;
    echo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_direction_has_its_own_delay() {
    let echo = Echo::start().await;
    let netsim = netsim(echo.addr, delayed(80 * MS, Duration::ZERO), LinkConfig::default()).await;
    let mut tcp = TcpStream::connect(netsim.local_addr()).await.expect("connect");
    let (_, took) = round_trip(&mut tcp, b"up only").await;
    assert!(took >= 80 * MS && took < 1_000 * MS, "round trip {took:?}");
    netsim.shutdown().await;
    echo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitter_keeps_every_byte_and_their_order() {
    let echo = Echo::start().await;
    let link = delayed(10 * MS, 10 * MS);
    let netsim = netsim(echo.addr, link, link).await;
    let tcp = TcpStream::connect(netsim.local_addr()).await.expect("connect");
    let (mut read, mut write) = tcp.into_split();
    let messages: Vec<String> = (0..2_000).map(|i| format!("message {i:05};")).collect();
    let sent = messages.concat().into_bytes();
    let writer = tokio::spawn(async move {
        for (i, message) in messages.iter().enumerate() {
            write.write_all(message.as_bytes()).await.expect("write");
            if i % 20 == 0 {
                // Spread the writes out so they travel as many chunks, each with its own sample.
                tokio::time::sleep(MS).await;
            }
        }
        write
    });
    let mut received = vec![0; sent.len()];
    within(read.read_exact(&mut received)).await.expect("every byte comes back");
    let _write = writer.await.expect("writer");
    let text = String::from_utf8(received).expect("utf-8");
    for (i, message) in text.split_terminator(';').enumerate() {
        assert_eq!(message, format!("message {i:05}"), "out of order or damaged");
    }
    assert_eq!(text.as_bytes(), sent);
    netsim.shutdown().await;
    echo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bandwidth_limit_takes_at_least_size_over_bandwidth() {
    let echo = Echo::start().await;
    let limited = LinkConfig { bandwidth: Some(100_000), ..LinkConfig::default() };
    let netsim = netsim(echo.addr, limited, LinkConfig::default()).await;
    let mut tcp = TcpStream::connect(netsim.local_addr()).await.expect("connect");
    let payload: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
    let (echoed, took) = round_trip(&mut tcp, &payload).await;
    assert_eq!(echoed, payload);
    assert!(took >= 500 * MS, "50 kB at 100 kB/s took only {took:?}");
    assert!(took < 5_000 * MS, "{took:?}");
    netsim.shutdown().await;
    echo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loss_stalls_the_stream_without_losing_bytes() {
    let echo = Echo::start().await;
    let stall = 150 * MS;
    let lossy = LinkConfig { loss: 1.0, stall, ..LinkConfig::default() };
    let netsim = netsim(echo.addr, lossy, LinkConfig::default()).await;
    let mut tcp = TcpStream::connect(netsim.local_addr()).await.expect("connect");
    let (echoed, took) = round_trip(&mut tcp, b"retransmitted").await;
    assert_eq!(echoed, b"retransmitted");
    assert!(took >= stall && took < 2_000 * MS, "round trip {took:?} with a {stall:?} stall");
    netsim.shutdown().await;
    echo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_closes_the_client() {
    // A port that was just free: nothing listens there.
    let free = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr");
    let netsim = netsim(free, LinkConfig::default(), LinkConfig::default()).await;
    let mut tcp = TcpStream::connect(netsim.local_addr()).await.expect("the proxy accepts");
    let mut buf = [0; 16];
    let read = within(tcp.read(&mut buf)).await;
    assert!(matches!(read, Ok(0) | Err(_)), "closed, not served: {read:?}");
    netsim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_past_the_limit_is_closed_and_shutdown_closes_the_rest() {
    let echo = Echo::start().await;
    let mut config = NetsimConfig::new("127.0.0.1:0".parse().expect("addr"), echo.addr.to_string());
    config.max_connections = 1;
    let netsim = Netsim::start(config).await.expect("starts");
    let mut first = TcpStream::connect(netsim.local_addr()).await.expect("connect");
    round_trip(&mut first, b"first").await;
    let mut second = TcpStream::connect(netsim.local_addr()).await.expect("connect");
    let mut buf = [0; 16];
    let read = within(second.read(&mut buf)).await;
    assert!(matches!(read, Ok(0) | Err(_)), "the second is closed: {read:?}");
    netsim.shutdown().await;
    let read = within(first.read(&mut buf)).await;
    assert!(matches!(read, Ok(0) | Err(_)), "shutdown closes the first: {read:?}");
    echo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_sender_is_held_back_when_the_upstream_does_not_read() {
    // An upstream that accepts and never reads.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let upstream = listener.local_addr().expect("addr");
    let sink = tokio::spawn(async move {
        let accepted = listener.accept().await;
        std::future::pending::<()>().await;
        drop(accepted);
    });
    let mut config = NetsimConfig::new("127.0.0.1:0".parse().expect("addr"), upstream.to_string());
    config.max_in_flight_bytes = 64 << 10;
    let netsim = Netsim::start(config).await.expect("starts");
    let mut tcp = TcpStream::connect(netsim.local_addr()).await.expect("connect");
    let block = vec![7u8; 64 << 10];
    // Kernel buffers on both sides of the proxy hold about 8 MiB here; without the byte
    // budget the proxy would go on reading until its chunk queue is full (64 MiB and more).
    let limit = 40 << 20;
    let mut written = 0;
    // Once kernel buffers and the proxy's 64 KiB are full, a write blocks.
    while let Ok(result) = tokio::time::timeout(500 * MS, tcp.write_all(&block)).await {
        result.expect("write");
        written += block.len();
        assert!(written < limit, "{written} bytes taken in without the upstream reading any");
    }
    netsim.shutdown().await;
    sink.abort();
}

#[tokio::test]
async fn bad_figures_are_refused_at_start() {
    let mut config = NetsimConfig::new("127.0.0.1:0".parse().expect("addr"), "127.0.0.1:9");
    config.up.loss = 2.0;
    let error = Netsim::start(config).await.expect_err("loss 2 is refused");
    assert!(error.to_string().contains("probability"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_and_its_socket_work_through_the_proxy() {
    let server = TestServer::start_small().await;
    let link = delayed(5 * MS, Duration::ZERO);
    let netsim = netsim(server.addr, link, link).await;
    let addr = netsim.local_addr();
    let page = within(raw::http(addr, &format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n"))).await;
    assert_eq!(raw::status(&page), 200, "{page}");
    // A browser on http://ADDR/ sends its own origin and Host: ADDR, which the server allows.
    let origin = format!("Origin: http://{addr}\r\n");
    let upgrade = within(raw::http(addr, &raw::upgrade_request(&addr.to_string(), &origin))).await;
    assert_eq!(raw::status(&upgrade), 101, "{upgrade}");
    netsim.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_play_through_a_100_ms_round_trip() {
    let arena = ArenaConfig { view_radius: 100.0, ..small_arena() };
    let server = TestServer::start_arena(ServerConfig::default(), arena).await;
    let (delay, jitter) = (50 * MS, 5 * MS);
    let netsim = netsim(server.addr, delayed(delay, jitter), delayed(delay, jitter)).await;
    let mut options = LoadOptions::new(format!("ws://{}/ws", netsim.local_addr()), 10);
    options.duration = Duration::from_secs(4);
    options.ramp_up = Duration::from_millis(500);
    let report = run_bots(&arena_spec(), &options).await;
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    assert_eq!((report.clients.connected, report.clients.failed), (10, 0), "{:?}", report.clients);
    assert_eq!(report.clients.disconnected, 0, "{:?}", report.clients.close_codes);
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    assert!(report.snapshot_rate.min > 0.0, "every bot got snapshots");
    let rtt = report.rtt_ms;
    assert!(rtt.count > 0, "pings were answered");
    // Each direction adds delay + N(0, jitter), clamped at zero and never reordered, so one
    // round trip can come in under 100 ms but their mean cannot, beyond chance: allow three
    // standard errors of the mean (the RTT's deviation is jitter × √2).
    let rtt_std_ms = 2f64.sqrt() * jitter.as_secs_f64() * 1e3;
    let floor = 2.0 * delay.as_secs_f64() * 1e3 - 3.0 * rtt_std_ms / (rtt.count as f64).sqrt();
    assert!(rtt.mean >= floor, "mean RTT {} ms under {floor} ms: {rtt:?}", rtt.mean);
    assert!(rtt.p50 >= 90.0 && rtt.mean < 600.0, "{rtt:?}");
    netsim.shutdown().await;
    server.stop().await;
}
