//! Scale out: two processes (in-process servers) sharing one real `redis-server`: bots spread
//! over both through matchmaking, one new room claimed once under 50 concurrent matchmakes,
//! seats refused with 4007 (a foreign one left for its process), a crashed process leaving the
//! directory, Redis going away and coming back while rooms play on (`/readyz` 503 meanwhile),
//! a lease taken elsewhere closing the local copy with 4008, and a drained process that
//! matchmaking routes around (no new room, no seat for its rooms). Faults with real processes
//! are in `cluster_faults.rs`.

mod common;
#[path = "common/redis.rs"]
mod redis_server;

use common::{TestServer, arena_spec, http_get, run_bots, small_arena, within};
use redis_server::RedisServer;
use std::net::SocketAddr;
use std::time::Duration;
use tickwire::ServerConfig;
use tickwire::arena::Arena;
use tickwire::bots::client::{BotError, next_binary};
use tickwire::bots::{BotClient, LoadOptions, client};
use tickwire::cluster::ClusterConfig;
use tickwire::cluster::matchmake::{ClusterRoomList, Placement, request};

const HEARTBEAT: Duration = Duration::from_millis(100);
const TTL: Duration = Duration::from_millis(500);

/// The operator token of the process the drain test drains.
const ADMIN_TOKEN: &str = "an operator token long enough to be accepted";

async fn process(redis: &RedisServer, id: &str, seat_ttl: Duration) -> TestServer {
    process_with(redis, id, seat_ttl, ServerConfig::default()).await
}

async fn process_with(
    redis: &RedisServer,
    id: &str,
    seat_ttl: Duration,
    base: ServerConfig,
) -> TestServer {
    let (url, id) = (redis.url(), id.to_owned());
    TestServer::start_with(Arena::new(small_arena()), move |addr: SocketAddr| {
        let cluster = ClusterConfig {
            process_id: id,
            heartbeat: HEARTBEAT,
            record_ttl: TTL,
            seat_ttl,
            ..ClusterConfig::new(url, format!("ws://{addr}"))
        };
        ServerConfig { cluster: Some(cluster), ..base }
    })
    .await
}

fn http(server: &TestServer) -> String {
    format!("http://{}", server.addr)
}

async fn matchmake(server: &TestServer, room: Option<&str>) -> Placement {
    within(request(&http(server), room)).await.expect("matchmakes")
}

async fn cluster_rooms(server: &TestServer) -> ClusterRoomList {
    let (status, body) =
        tickwire::cluster::http_client::request("GET", &format!("{}/rooms", http(server)), None)
            .await
            .expect("GET /rooms");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a cluster room list")
}

async fn refused(url: &str) -> (u16, String) {
    let mut socket = within(client::open(url)).await.expect("handshake succeeds");
    match within(next_binary(&mut socket)).await {
        Err(BotError::Closed { code, reason }) => (code, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn join(placement: &Placement) -> BotClient {
    within(BotClient::connect(&placement.url, &arena_spec())).await.expect("joins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_matchmake_over_rooms_on_two_processes() {
    let Some(redis) = RedisServer::start() else { return };
    let a = process(&redis, "a", Duration::from_secs(10)).await;
    let b = process(&redis, "b", Duration::from_secs(10)).await;
    let mut options = LoadOptions::new(a.ws_url(), 8);
    options.duration = Duration::from_millis(3_000);
    options.ramp_up = Duration::from_millis(1_000);
    options.rooms = tickwire::bots::load::room_names(Some("spread"), 4);
    options.matchmake = Some(http(&b));
    let report = run_bots(&arena_spec(), &options).await;
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    assert_eq!(report.clients.connected, 8, "{:?}", report.clients);
    assert_eq!(report.clients.disconnected, 0);
    assert_eq!(report.replica.apply_errors, 0);
    let hosts: std::collections::BTreeSet<String> = report.processes.keys().cloned().collect();
    let expected = [a.addr.to_string(), b.addr.to_string()].into();
    assert_eq!(hosts, expected, "both processes host rooms");
    // Four rooms opened within a heartbeat or two split two and two.
    let bots: Vec<u64> = report.processes.values().map(|figures| figures.bots).collect();
    assert_eq!(bots, [4, 4], "{:?}", report.processes);
    for figures in report.processes.values() {
        assert!(figures.bots >= 2 && figures.snapshots_per_second > 20.0, "{figures:?}");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_matchmakes_open_a_new_room_once() {
    let Some(redis) = RedisServer::start() else { return };
    let a = process(&redis, "a", Duration::from_secs(10)).await;
    let b = process(&redis, "b", Duration::from_secs(10)).await;
    let (http_a, http_b) = (http(&a), http(&b));
    let asks = (0..50).map(|k| {
        let base = if k % 2 == 0 { http_a.clone() } else { http_b.clone() };
        tokio::spawn(async move { request(&base, Some("rush")).await })
    });
    let mut owners = std::collections::BTreeSet::new();
    for ask in asks {
        let placement = within(ask).await.expect("task").expect("matchmakes");
        assert_eq!(placement.room, "rush");
        owners.insert(placement.process);
    }
    assert_eq!(owners.len(), 1, "one process hosts the room: {owners:?}");
    let owner = owners.into_iter().next().unwrap_or_default();
    assert_eq!(redis.cli(&["HGET", "tickwire:room:rush", "owner"]).trim(), owner);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_missing_reused_foreign_or_expired_are_refused_with_4007() {
    let Some(redis) = RedisServer::start() else { return };
    let seat_ttl = Duration::from_millis(300);
    let a = process(&redis, "a", seat_ttl).await;
    let b = process(&redis, "b", seat_ttl).await;

    let (code, reason) = refused(&format!("{}?room=free", a.ws_url())).await;
    assert_eq!((code, reason.as_str()), (4007, "a seat is required: get one from POST /matchmake"));

    let placement = matchmake(&a, Some("seated")).await;
    let mut first = join(&placement).await;
    within(first.next_snapshot()).await.expect("plays");
    let (code, reason) = refused(&placement.url).await;
    assert_eq!(code, 4007, "reused: {reason}");
    assert!(reason.contains("unknown, used or expired"), "{reason}");

    let placement = matchmake(&a, Some("seated")).await;
    let (host, other) = if placement.process == "a" { (&a, &b) } else { (&b, &a) };
    let foreign = placement.url.replace(&host.addr.to_string(), &other.addr.to_string());
    let (code, reason) = refused(&foreign).await;
    assert_eq!(
        (code, reason),
        (4007, format!("seat is for process {}, not this one", placement.process))
    );
    // Shown to the wrong process, the seat was not used up: its own process takes it.
    let mut second = join(&placement).await;
    within(second.next_snapshot()).await.expect("the seat still works where it belongs");

    let placement = matchmake(&b, Some("seated")).await;
    tokio::time::sleep(seat_ttl + Duration::from_millis(200)).await;
    let (code, reason) = refused(&placement.url).await;
    assert_eq!(code, 4007, "expired: {reason}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_process_leaves_the_directory_and_its_clients_matchmake_again() {
    let Some(redis) = RedisServer::start() else { return };
    let a = process(&redis, "a", Duration::from_secs(10)).await;
    let b = process(&redis, "b", Duration::from_secs(10)).await;
    let placement = matchmake(&a, Some("doomed")).await;
    let mut player = join(&placement).await;
    within(player.next_snapshot()).await.expect("plays");
    let (dead, survivor) = if placement.process == "a" { (a, b) } else { (b, a) };
    let dead_id = placement.process.clone();
    dead.crash();
    drop(player);

    let gone = within(async {
        loop {
            let list = cluster_rooms(&survivor).await;
            if list.processes.iter().all(|p| p.id != dead_id) {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(gone.rooms.iter().all(|room| room.process != dead_id), "{gone:?}");
    let again = matchmake(&survivor, Some("doomed")).await;
    assert_ne!(again.process, dead_id);
    let mut player = join(&again).await;
    within(player.next_snapshot()).await.expect("plays on the survivor");
    survivor.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_play_on_without_redis_and_the_process_registers_again() {
    let Some(mut redis) = RedisServer::start() else { return };
    let a = process(&redis, "a", Duration::from_secs(10)).await;
    assert_eq!(http_get(a.addr, "/readyz").await, (200, "ready\n".into()));
    let mut player = join(&matchmake(&a, Some("steady")).await).await;
    redis.kill();
    let unready = "not accepting new players: room directory unreachable\n";
    within(async {
        while http_get(a.addr, "/readyz").await != (503, unready.into()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(http_get(a.addr, "/healthz").await.0, 200, "liveness is not readiness");

    within(player.next_snapshot()).await.expect("snapshot");
    let before = player.replica.tick;
    for _ in 0..30 {
        within(player.next_snapshot()).await.expect("the room plays on without Redis");
    }
    let after = player.replica.tick;
    assert!(after >= before + 30, "{before} -> {after}");
    let url = format!("{}/matchmake", http(&a));
    let (status, body) = tickwire::cluster::http_client::request("POST", &url, Some("{}".into()))
        .await
        .expect("answers");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("room directory unavailable"), "{body}");

    redis.spawn().expect("redis-server restarts on its port");
    within(async {
        while !redis.cli(&["EXISTS", "tickwire:process:a"]).starts_with('1') {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // Redis came back empty: matchmaking waits one record TTL ("directory recovering")
    // while the owner takes its room back under a higher epoch.
    let placement = within(async {
        loop {
            match request(&http(&a), Some("steady")).await {
                Ok(placement) => return placement,
                Err(error) => assert!(error.contains("directory recovering"), "{error}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(placement.process, "a");
    // Readiness follows at the next heartbeat.
    within(async {
        while http_get(a.addr, "/readyz").await.0 != 200 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let rooms = cluster_rooms(&a).await;
    assert!(
        rooms.rooms.iter().any(|r| r.room.name == "steady" && r.room.players == 1),
        "{rooms:?}"
    );
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_shutdown_leaves_the_directory_at_once() {
    let Some(redis) = RedisServer::start() else { return };
    let a = process(&redis, "a", Duration::from_secs(10)).await;
    let mut player = join(&matchmake(&a, Some("brief")).await).await;
    within(player.next_snapshot()).await.expect("plays");
    assert!(redis.cli(&["EXISTS", "tickwire:room:brief"]).starts_with('1'));
    a.stop().await;
    assert!(redis.cli(&["EXISTS", "tickwire:process:a"]).starts_with('0'));
    assert!(redis.cli(&["EXISTS", "tickwire:room:brief"]).starts_with('0'));
    assert_eq!(redis.cli(&["SMEMBERS", "tickwire:processes"]).trim(), "");
    // Snapshots already on their way come first, then the close.
    let closed = within(async {
        loop {
            if let Err(error) = player.next_snapshot().await {
                return error;
            }
        }
    })
    .await;
    match closed {
        BotError::Closed { code, .. } => assert_eq!(code, 1001),
        other => panic!("expected 1001, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_taken_elsewhere_closes_the_copy_with_4008_and_voids_its_seats() {
    let Some(redis) = RedisServer::start() else { return };
    let a = process(&redis, "a", Duration::from_secs(10)).await;
    let b = process(&redis, "b", Duration::from_secs(10)).await;
    let placement = matchmake(&a, Some("moved")).await;
    let mut player = join(&placement).await;
    within(player.next_snapshot()).await.expect("plays");
    let unused = matchmake(&b, Some("moved")).await;
    let (host, other) = if placement.process == "a" { (&a, "b") } else { (&b, "a") };
    // Another process takes the lease (what a matchmaker does once the host's beat is stale).
    let lease = "tickwire:room:moved";
    redis.cli(&["HSET", lease, "owner", other, "instance", "x", "epoch", "999999"]);
    let closed = within(async {
        loop {
            if let Err(error) = player.next_snapshot().await {
                return error;
            }
        }
    })
    .await;
    match closed {
        BotError::Closed { code, reason } => {
            assert_eq!(code, 4008);
            assert!(reason.contains("matchmake again"), "{reason}");
        }
        other => panic!("expected 4008, got {other:?}"),
    }
    let (code, reason) = refused(&unused.url).await;
    assert_eq!(
        (code, reason.as_str()),
        (4007, "seat is for a room this process no longer hosts: matchmake again")
    );
    let metrics = http_get(host.addr, "/metrics").await.1;
    assert!(metrics.contains("tickwire_room_leases_lost_total 1\n"), "{metrics}");
    a.stop().await;
    b.stop().await;
}

/// `POST /admin/api/drain` with the operator token; the status.
async fn drain(server: &TestServer) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let request = format!(
        "POST /admin/api/drain HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: 0\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    within(tcp.read_to_string(&mut response)).await.expect("read");
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_process_gets_no_new_room_and_no_seat() {
    let Some(redis) = RedisServer::start() else { return };
    let token = tickwire::admin::AdminToken::new(ADMIN_TOKEN).expect("long enough");
    let admin = ServerConfig { admin_token: Some(token), ..ServerConfig::default() };
    let a = process_with(&redis, "a", Duration::from_secs(10), admin).await;
    let b = process(&redis, "b", Duration::from_secs(10)).await;
    // A room on `a` with a player in it, which keeps `a` from stopping once drained.
    let mut kept = None;
    for k in 0..8 {
        let placement = matchmake(&b, Some(&format!("kept{k}"))).await;
        if placement.process == "a" {
            kept = Some(placement);
            break;
        }
    }
    let kept = kept.expect("a room placed on process a");
    let mut player = join(&kept).await;
    within(player.next_snapshot()).await.expect("a snapshot");
    assert_eq!(drain(&a).await, 200);
    // The next heartbeat marks `a` draining: its room gets no new seat.
    let refusal = within(async {
        loop {
            match request(&http(&b), Some(&kept.room)).await {
                Err(refusal) => return refusal,
                Ok(_) => tokio::time::sleep(HEARTBEAT / 2).await,
            }
        }
    })
    .await;
    assert!(refusal.contains("503"), "{refusal}");
    assert!(refusal.contains("draining"), "{refusal}");
    assert_eq!(redis.cli(&["HGET", "tickwire:process:a", "draining"]).trim(), "1");
    // New rooms and quick matches all land on `b`, asked of either process.
    for k in 0..6 {
        let asked = if k % 2 == 0 { &a } else { &b };
        let placement = matchmake(asked, Some(&format!("fresh{k}"))).await;
        assert_eq!(placement.process, "b", "{placement:?}");
        let quick = matchmake(asked, None).await;
        assert_eq!(quick.process, "b", "{quick:?}");
    }
    // The player in play stays.
    within(player.next_snapshot()).await.expect("a player in play stays");
    player.close().await;
    a.stop().await;
    b.stop().await;
}
