//! Bots that lose their server matchmake again by themselves and play on: a real `tickwire`
//! process killed with SIGKILL (its bots see the connection die, then matchmaking answers
//! with the dead process until its record expires, then with the survivor), and a process
//! shut down cleanly (its bots get 1001). One real `redis-server`; the survivor runs in the
//! test.

mod common;
#[path = "common/redis.rs"]
#[allow(dead_code)]
mod redis_server;

use common::{TestServer, arena_spec, run_bots, small_arena};
use redis_server::RedisServer;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tickwire::ServerConfig;
use tickwire::arena::Arena;
use tickwire::bots::LoadOptions;
use tickwire::cluster::ClusterConfig;

const HEARTBEAT: Duration = Duration::from_millis(100);
const TTL: Duration = Duration::from_millis(500);

async fn in_process(redis: &RedisServer, id: &str) -> TestServer {
    let (url, id) = (redis.url(), id.to_owned());
    TestServer::start_with(Arena::new(small_arena()), move |addr: SocketAddr| {
        let cluster = ClusterConfig {
            process_id: id,
            heartbeat: HEARTBEAT,
            record_ttl: TTL,
            ..ClusterConfig::new(url, format!("ws://{addr}"))
        };
        ServerConfig { cluster: Some(cluster), ..ServerConfig::default() }
    })
    .await
}

/// The `tickwire` binary as a clustered process; SIGKILLed when dropped.
struct Process {
    child: Child,
}

impl Process {
    fn start(redis: &RedisServer, id: &str) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_tickwire"))
            .args(["--bind", &format!("127.0.0.1:{port}"), "--redis", &redis.url()])
            .args(["--public-url", &format!("ws://127.0.0.1:{port}"), "--process-id", id])
            .args(["--heartbeat", "100ms", "--record-ttl", "500ms", "--world-size", "400"])
            .args(["--orbs", "20", "--sim-threads", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the tickwire binary starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tickwire did not listen within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Process { child }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Bots over `rooms` rooms, matchmaking at `survivor`, for `duration`.
fn options(survivor: &TestServer, clients: usize, rooms: usize, duration: Duration) -> LoadOptions {
    let mut options = LoadOptions::new(survivor.ws_url(), clients);
    options.duration = duration;
    options.ramp_up = Duration::from_millis(500);
    options.rooms = tickwire::bots::load::room_names(Some("kept"), rooms);
    options.matchmake = Some(format!("http://{}", survivor.addr));
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_of_a_killed_process_matchmake_again_and_play_on() {
    let Some(redis) = RedisServer::start() else { return };
    let mut doomed = Process::start(&redis, "doomed");
    let survivor = in_process(&redis, "survivor").await;
    // Both records are in the directory before the bots ask.
    tokio::time::sleep(HEARTBEAT * 3).await;
    let run = tokio::spawn({
        let options = options(&survivor, 8, 4, Duration::from_millis(5_000));
        async move { run_bots(&arena_spec(), &options).await }
    });
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    doomed.kill();
    let report = run.await.expect("the bots' run");
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    assert_eq!(report.clients.connected, 8, "{:?}", report.clients);
    assert_eq!(report.clients.disconnected, 0, "every bot plays on: {:?}", report.clients);
    assert!(
        report.clients.rematched > 0,
        "some bots were on the killed process: {:?}",
        report.processes
    );
    // The room's new copy is another world: its replicas are compared among themselves.
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    let hosts: Vec<&String> = report.processes.keys().collect();
    assert_eq!(hosts, [&survivor.addr.to_string()], "all end on the survivor");
    survivor.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_of_a_process_shutting_down_matchmake_again_and_play_on() {
    let Some(redis) = RedisServer::start() else { return };
    let leaving = in_process(&redis, "leaving").await;
    let survivor = in_process(&redis, "survivor").await;
    tokio::time::sleep(HEARTBEAT * 3).await;
    let run = tokio::spawn({
        let options = options(&survivor, 6, 2, Duration::from_millis(4_000));
        async move { run_bots(&arena_spec(), &options).await }
    });
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    leaving.stop().await; // its clients are closed with 1001
    let report = run.await.expect("the bots' run");
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    assert_eq!(report.clients.connected, 6, "{:?}", report.clients);
    assert_eq!(report.clients.disconnected, 0, "{:?}", report.clients);
    assert!(report.clients.rematched > 0, "{:?}", report.processes);
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    survivor.stop().await;
}
