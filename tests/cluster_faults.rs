//! Cluster faults, Jepsen-style: real `tickwire` processes (the binary, spawned) on one real
//! `redis-server`, faults injected while clients play — `SIGSTOP`/`SIGCONT` past the record
//! TTL, `kill -9`, Redis restarted empty, Redis hanging, a duplicate process id, matchmake
//! bursts — and a
//! sampler that asks every process for its own live rooms every 100 ms throughout. The
//! sampler fails the test on any instant a room name is live on two processes, or a room
//! holds more players plus unused live seats than its capacity; each test prints its counts.
//!
//! The tests run one at a time (they share two cores with their processes) and each child
//! process is killed when its handle drops, panics included.

mod common;
#[path = "common/redis.rs"]
mod redis_server;

use common::{arena_spec, within};
use redis_server::RedisServer;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickwire::bots::BotClient;
use tickwire::bots::client::BotError;
use tickwire::cluster::http_client;
use tickwire::cluster::matchmake::Placement;
use tickwire::net::http::RoomList;

/// Players a room holds in these tests.
const CAPACITY: usize = 4;

/// Short timings for the pause, restart and burst tests.
const FAST: Timings = Timings { heartbeat: "200ms", record_ttl: "1s", seat_ttl: "3s" };

/// [`FAST`] with a record TTL well past a short pause.
const LONG_TTL: Timings = Timings { heartbeat: "200ms", record_ttl: "2s", seat_ttl: "3s" };

/// The binary's defaults (`--heartbeat 1s --record-ttl 5s --seat-ttl 10s`): the failover
/// figure is measured with them.
const DEFAULTS: Timings = Timings { heartbeat: "1s", record_ttl: "5s", seat_ttl: "10s" };

/// Patience of a burst's matchmakes: a hundred at once on three debug-build processes.
const BURST: Duration = Duration::from_secs(5);

/// A client that got no snapshot for this long treats its connection as dead and
/// matchmakes again (what a browser client does on a stalled socket).
const STALL: Duration = Duration::from_millis(1_000);

/// One at a time: each test runs several processes on a 2-core machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Clone, Copy)]
struct Timings {
    heartbeat: &'static str,
    record_ttl: &'static str,
    seat_ttl: &'static str,
}

/// A `tickwire` process; killed (SIGKILL) and reaped when dropped.
struct Proc {
    id: String,
    port: u16,
    child: Option<Child>,
    log: std::path::PathBuf,
}

impl Proc {
    fn spawn(redis: &RedisServer, id: &str, timings: Timings, max_rooms: usize) -> Proc {
        let port = free_port();
        let log = std::env::temp_dir()
            .join(format!("tickwire-faults-{}-{id}-{port}.log", std::process::id()));
        let stderr = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_tickwire"))
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--redis", &redis.url(), "--public-url", &format!("ws://127.0.0.1:{port}")])
            .args(["--process-id", id, "--heartbeat", timings.heartbeat])
            .args(["--record-ttl", timings.record_ttl, "--seat-ttl", timings.seat_ttl])
            .args(["--room-capacity", &CAPACITY.to_string(), "--max-rooms", &max_rooms.to_string()])
            .args(["--sim-threads", "1", "--io-threads", "1", "--world-size", "60", "--orbs", "10"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn tickwire");
        Proc { id: id.to_owned(), port, child: Some(child), log }
    }

    /// Starts one and waits until it says it is ready (`/readyz` 200).
    async fn start(redis: &RedisServer, id: &str, timings: Timings, max_rooms: usize) -> Proc {
        let proc = Proc::spawn(redis, id, timings, max_rooms);
        let deadline = Instant::now() + Duration::from_secs(10);
        while get(proc.port, "/readyz").await.map(|(status, _)| status) != Some(200) {
            assert!(Instant::now() < deadline, "{id} not ready within 10 s: {}", proc.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        proc
    }

    fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.pid().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill {signal} {}", self.id);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("process {} log kept: {}", self.id, self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("addr").port()
}

/// `GET path` on a process, bounded to 500 ms: `None` when it does not answer (stopped,
/// killed).
async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let answer =
        tokio::time::timeout(Duration::from_millis(500), http_client::request("GET", &url, None));
    answer.await.ok()?.ok()
}

/// `POST /matchmake` on `base`, bounded to 500 ms (a player's patience with a process that
/// may be paused): the placement, or the status and body.
async fn matchmake(base: &str, room: Option<&str>) -> Result<Placement, (u16, String)> {
    matchmake_within(base, room, Duration::from_millis(500)).await
}

/// `POST /matchmake` on `base`, bounded to `bound`.
async fn matchmake_within(
    base: &str,
    room: Option<&str>,
    bound: Duration,
) -> Result<Placement, (u16, String)> {
    let url = format!("{base}/matchmake");
    let body = match room {
        Some(room) => format!("{{\"room\":\"{room}\"}}"),
        None => "{}".to_owned(),
    };
    let answer = tokio::time::timeout(bound, http_client::request("POST", &url, Some(body)));
    match answer.await {
        Ok(Ok((200, body))) => serde_json::from_str(&body).map_err(|e| (0, e.to_string())),
        Ok(Ok((status, body))) => Err((status, body)),
        Ok(Err(error)) => Err((0, error)),
        Err(_) => Err((0, format!("no answer within {bound:?}"))),
    }
}

/// What the sampler saw.
#[derive(Debug, Default)]
struct Samples {
    /// Sampling rounds.
    rounds: u64,
    /// Rounds in which some room name was live on two processes.
    split_instants: u64,
    /// Rounds in which some room held more players plus unused seats than its capacity.
    over_capacity: u64,
    /// The first few violations, for the failure message.
    violations: Vec<String>,
    /// Most processes seen hosting one room name at once.
    most_hosts: usize,
}

/// Samples every process's own live rooms (`/rooms/local`) every 100 ms until dropped.
struct Sampler {
    samples: Arc<Mutex<Samples>>,
    /// Processes not to ask (stopped or killed): their rooms run nothing.
    skip: Arc<Mutex<BTreeSet<u16>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    async fn start(redis: &RedisServer, ports: Vec<u16>) -> Sampler {
        let samples = Arc::new(Mutex::new(Samples::default()));
        let skip = Arc::new(Mutex::new(BTreeSet::new()));
        let client = redis::Client::open(redis.url()).expect("redis URL");
        let connection = redis::aio::ConnectionManager::new(client).await.expect("redis");
        let task = tokio::spawn({
            let (samples, skip) = (samples.clone(), skip.clone());
            async move {
                let mut every = tokio::time::interval(Duration::from_millis(100));
                loop {
                    every.tick().await;
                    let asked: Vec<u16> = {
                        let skip = skip.lock().expect("skip");
                        ports.iter().copied().filter(|port| !skip.contains(port)).collect()
                    };
                    sample(&asked, connection.clone(), &samples).await;
                }
            }
        });
        Sampler { samples, skip, task }
    }

    fn skip(&self, proc: &Proc, skipped: bool) {
        let mut skip = self.skip.lock().expect("skip");
        if skipped {
            skip.insert(proc.port);
        } else {
            skip.remove(&proc.port);
        }
    }

    /// Stops sampling, prints the counts and fails on any violation.
    fn finish(self, test: &str) -> Samples {
        self.task.abort();
        let samples = std::mem::take(&mut *self.samples.lock().expect("samples"));
        eprintln!(
            "[{test}] sampler: {} rounds, {} instants with a room on two processes, {} with a room over capacity (most hosts of one name: {})",
            samples.rounds, samples.split_instants, samples.over_capacity, samples.most_hosts
        );
        assert!(samples.rounds > 0, "the sampler ran");
        assert_eq!(samples.split_instants, 0, "{:#?}", samples.violations);
        assert_eq!(samples.over_capacity, 0, "{:#?}", samples.violations);
        samples
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Unused live seats of a room: reserved, not expired, not taken yet.
const UNUSED_SEATS: &str = "local t = redis.call('TIME') \
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) local n = 0 \
    for _, token in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do \
    n = n + redis.call('EXISTS', 'tickwire:seat:' .. token) end return n";

async fn sample(ports: &[u16], mut redis: redis::aio::ConnectionManager, samples: &Mutex<Samples>) {
    // Rooms first, then seats: a seat used in between is counted once at most.
    let mut hosts: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    let mut players: BTreeMap<(String, u16), (usize, usize)> = BTreeMap::new();
    for &port in ports {
        let Some((200, body)) = get(port, "/rooms/local").await else { continue };
        let Ok(list) = serde_json::from_str::<RoomList>(&body) else { continue };
        for room in list.rooms.into_iter().filter(|room| room.name != "lobby") {
            hosts.entry(room.name.clone()).or_default().push(port);
            players.insert((room.name, port), (room.players, room.capacity));
        }
    }
    let mut over = Vec::new();
    for ((name, port), (players, capacity)) in &players {
        let mut call = redis::cmd("EVAL");
        call.arg(UNUSED_SEATS).arg(1).arg(format!("tickwire:seats:{name}"));
        let seats: usize =
            match tokio::time::timeout(Duration::from_millis(300), call.query_async(&mut redis))
                .await
            {
                Ok(Ok(seats)) => seats,
                _ => continue, // Redis away: nothing to count seats against
            };
        if players + seats > *capacity {
            over.push(format!(
                "room {name} on :{port}: {players} players + {seats} seats > {capacity}"
            ));
        }
    }
    let split: Vec<String> = hosts
        .iter()
        .filter(|(_, on)| on.len() > 1)
        .map(|(name, on)| format!("room {name} live on {on:?}"))
        .collect();
    let mut samples = samples.lock().expect("samples");
    samples.rounds += 1;
    samples.most_hosts = samples.most_hosts.max(hosts.values().map(Vec::len).max().unwrap_or(0));
    if !split.is_empty() {
        samples.split_instants += 1;
    }
    if !over.is_empty() {
        samples.over_capacity += 1;
    }
    if samples.violations.len() < 20 {
        samples.violations.extend(split.into_iter().chain(over));
    }
}

/// A player that matchmakes into its room, plays, and matchmakes again whenever its
/// connection ends or stalls, asking the processes in turn (as a client behind a load
/// balancer would), with a short backoff.
struct Player {
    state: Arc<Mutex<PlayerState>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Default, Clone)]
struct PlayerState {
    /// The process it plays on now, and since when (its first snapshot there).
    playing: Option<(String, Instant)>,
    /// Close codes its connections ended with.
    closes: Vec<u16>,
    /// Matchmake refusals, by status.
    refusals: BTreeMap<u16, usize>,
}

impl Player {
    fn start(room: &str, bases: Vec<String>, offset: usize) -> Player {
        let state = Arc::new(Mutex::new(PlayerState::default()));
        let task = tokio::spawn(play(room.to_owned(), bases, offset, state.clone()));
        Player { state, task }
    }

    fn state(&self) -> PlayerState {
        self.state.lock().expect("player").clone()
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn play(room: String, bases: Vec<String>, mut turn: usize, state: Arc<Mutex<PlayerState>>) {
    let game = arena_spec();
    let mut backoff = Duration::from_millis(50);
    loop {
        turn += 1;
        let placement = match matchmake(&bases[turn % bases.len()], Some(&room)).await {
            Ok(placement) => placement,
            Err((status, _)) => {
                *state.lock().expect("player").refusals.entry(status).or_default() += 1;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(400));
                continue;
            }
        };
        let connected =
            tokio::time::timeout(STALL, BotClient::connect(&placement.url, &game)).await;
        let Ok(Ok(mut client)) = connected else {
            if let Ok(Err(BotError::Closed { code, .. })) = connected {
                state.lock().expect("player").closes.push(code);
            }
            tokio::time::sleep(backoff).await; // placed on a process that just went away
            backoff = (backoff * 2).min(Duration::from_millis(400));
            continue;
        };
        backoff = Duration::from_millis(50);
        let mut first = true;
        loop {
            match tokio::time::timeout(STALL, client.next_snapshot()).await {
                Ok(Ok(_)) => {
                    if first {
                        state.lock().expect("player").playing =
                            Some((placement.process.clone(), Instant::now()));
                        first = false;
                    }
                }
                Ok(Err(error)) => {
                    let mut state = state.lock().expect("player");
                    state.playing = None;
                    if let BotError::Closed { code, .. } = error {
                        state.closes.push(code);
                    }
                    break;
                }
                Err(_) => {
                    state.lock().expect("player").playing = None;
                    break; // stalled: the process is paused or gone
                }
            }
        }
    }
}

/// Waits (bounded) until every player plays on a process other than `not`, having started
/// there after `after`; the instant the last one did.
async fn all_playing_again(
    players: &[&Player],
    not: &str,
    after: Instant,
    bound: Duration,
) -> Instant {
    let deadline = Instant::now() + bound;
    loop {
        let states: Vec<PlayerState> = players.iter().map(|p| p.state()).collect();
        let again: Vec<Instant> = states
            .iter()
            .filter_map(|s| s.playing.as_ref())
            .filter(|(process, since)| process != not && *since > after)
            .map(|(_, since)| *since)
            .collect();
        if again.len() == players.len() {
            return again.into_iter().max().unwrap_or(after);
        }
        assert!(
            Instant::now() < deadline,
            "not all players play again within {bound:?}: {states:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (bounded) until every player plays.
async fn all_playing(players: &[Player]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !players.iter().all(|p| p.state().playing.is_some()) {
        let states: Vec<PlayerState> = players.iter().map(Player::state).collect();
        assert!(Instant::now() < deadline, "not all players play within 10 s: {states:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The process hosting `room` per the directory (its lease's owner).
fn owner(redis: &RedisServer, room: &str) -> String {
    redis.cli(&["HGET", &format!("tickwire:room:{room}"), "owner"]).trim().to_owned()
}

fn bases(procs: &[&Proc]) -> Vec<String> {
    procs.iter().map(|p| p.http()).collect()
}

/// Waits (bounded) for a client to be closed, skipping snapshots; its close code.
async fn closed_with(client: &mut BotClient, bound: Duration) -> u16 {
    let ended = tokio::time::timeout(bound, async {
        loop {
            if let Err(error) = client.next_snapshot().await {
                return error;
            }
        }
    });
    match ended.await {
        Ok(BotError::Closed { code, .. }) => code,
        other => panic!("expected a close, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_paused_past_its_ttl_fences_its_rooms_and_players_move() {
    let _serial = SERIAL.lock().await;
    let Some(redis) = RedisServer::start() else { return };
    let procs = [
        Proc::start(&redis, "a", FAST, 13).await,
        Proc::start(&redis, "b", FAST, 13).await,
        Proc::start(&redis, "c", FAST, 13).await,
    ];
    let sampler = Sampler::start(&redis, procs.iter().map(|p| p.port).collect()).await;
    let all = bases(&procs.iter().collect::<Vec<_>>());
    let players: Vec<Player> =
        (0..9).map(|k| Player::start(&format!("p{}", k % 3), all.clone(), k)).collect();
    all_playing(&players).await;
    let victim_id = owner(&redis, "p0");
    let victim = procs.iter().find(|p| p.id == victim_id).expect("p0's host");
    // A room on the paused process that nobody asks for meanwhile, with a player that does
    // not move: its lease expires during the pause, so the copy must close after it.
    let mut quiet = None;
    for k in 0..8 {
        let placement =
            matchmake(&victim.http(), Some(&format!("quiet-{k}"))).await.expect("matchmakes");
        if placement.process == victim_id {
            quiet = Some(
                within(BotClient::connect(&placement.url, &arena_spec())).await.expect("joins"),
            );
            break;
        }
    }
    let mut quiet = quiet.expect("a quiet room placed on the victim");

    let on_victim: Vec<&Player> = (players.iter())
        .filter(|p| p.state().playing.is_some_and(|(on, _)| on == victim_id))
        .collect();
    assert!(!on_victim.is_empty(), "players on the victim");
    sampler.skip(victim, true);
    victim.signal("-STOP");
    let paused_at = Instant::now();
    let moved = all_playing_again(&on_victim, &victim_id, paused_at, Duration::from_secs(10)).await;
    eprintln!(
        "[pause] {} players of the paused process {victim_id} play elsewhere {} ms after SIGSTOP",
        on_victim.len(),
        (moved - paused_at).as_millis()
    );
    // Past the 1 s record TTL and the 3 s a claim lasts: the quiet room's lease expires.
    tokio::time::sleep(Duration::from_millis(3_500).saturating_sub(paused_at.elapsed())).await;
    victim.signal("-CONT");
    sampler.skip(victim, false);
    let code = closed_with(&mut quiet, Duration::from_secs(5)).await;
    assert_eq!(code, 4008, "the quiet room's copy closed as lost");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    all_playing(&players).await;
    let metrics = get(victim.port, "/metrics").await.expect("metrics").1;
    let lost = metrics
        .lines()
        .find(|l| l.starts_with("tickwire_room_leases_lost_total"))
        .unwrap_or_default()
        .to_owned();
    eprintln!("[pause] victim {victim_id}: {lost}");
    assert!(!lost.ends_with(" 0"), "{lost}");
    let samples = sampler.finish("pause");
    assert!(samples.most_hosts <= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_every_player_plays_again_elsewhere() {
    let _serial = SERIAL.lock().await;
    let Some(redis) = RedisServer::start() else { return };
    let mut procs = [
        Proc::start(&redis, "a", DEFAULTS, 13).await,
        Proc::start(&redis, "b", DEFAULTS, 13).await,
        Proc::start(&redis, "c", DEFAULTS, 13).await,
    ];
    let sampler = Sampler::start(&redis, procs.iter().map(|p| p.port).collect()).await;
    let all = bases(&procs.iter().collect::<Vec<_>>());
    let players: Vec<Player> =
        (0..12).map(|k| Player::start(&format!("k{}", k % 3), all.clone(), k)).collect();
    all_playing(&players).await;
    let victim_id = owner(&redis, "k0");
    let on_victim: Vec<&Player> = (players.iter())
        .filter(|p| p.state().playing.is_some_and(|(on, _)| on == victim_id))
        .collect();
    let victim = procs.iter_mut().find(|p| p.id == victim_id).expect("k0's host");
    sampler.skip(victim, true);
    let killed_at = Instant::now();
    victim.kill();
    let again = all_playing_again(&on_victim, &victim_id, killed_at, Duration::from_secs(10)).await;
    let failover = again - killed_at;
    let refusals: usize =
        on_victim.iter().map(|p| p.state().refusals.values().sum::<usize>()).sum();
    eprintln!(
        "[kill] {} players of {victim_id} (kill -9) all play again after {} ms (default flags: --heartbeat 1s --record-ttl 5s); {refusals} matchmake refusals or failures meanwhile",
        on_victim.len(),
        failover.as_millis()
    );
    all_playing(&players).await;
    sampler.finish("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_gives_rooms_back_to_their_owners() {
    let _serial = SERIAL.lock().await;
    let Some(mut redis) = RedisServer::start() else { return };
    let procs =
        [Proc::start(&redis, "a", FAST, 13).await, Proc::start(&redis, "b", FAST, 13).await];
    let sampler = Sampler::start(&redis, procs.iter().map(|p| p.port).collect()).await;
    let all = bases(&procs.iter().collect::<Vec<_>>());
    let players: Vec<Player> =
        (0..8).map(|k| Player::start(&format!("r{}", k % 4), all.clone(), k)).collect();
    all_playing(&players).await;
    let rooms = ["r0", "r1", "r2", "r3"];
    let before: Vec<(String, u64)> = rooms
        .iter()
        .map(|room| {
            let epoch = redis.cli(&["HGET", &format!("tickwire:room:{room}"), "epoch"]);
            (owner(&redis, room), epoch.trim().parse().expect("an epoch"))
        })
        .collect();

    redis.kill();
    redis.spawn().expect("redis-server restarts on its port, empty");
    // While the owners take their rooms back, matchmaking refuses to place anyone.
    let mut recovering = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match matchmake(&all[0], Some("r0")).await {
            Ok(placement) => {
                assert_eq!(placement.process, before[0].0, "r0 stays with its owner");
                break;
            }
            Err((status, body)) => {
                if status == 503 && body.contains("directory recovering") {
                    recovering += 1;
                }
                assert!(Instant::now() < deadline, "matchmaking back within 5 s: {status} {body}");
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovering > 0, "matchmaking answered 503 \"directory recovering\" meanwhile");
    for (room, (host, epoch)) in rooms.iter().zip(&before) {
        assert_eq!(&owner(&redis, room), host, "{room} kept its owner");
        let after: u64 = redis
            .cli(&["HGET", &format!("tickwire:room:{room}"), "epoch"])
            .trim()
            .parse()
            .expect("an epoch");
        assert!(after > *epoch, "{room}: epoch {epoch} -> {after} (re-seeded above)");
    }
    eprintln!(
        "[restart] {recovering} matchmakes answered 503 \"directory recovering\"; every room kept its owner under a higher epoch"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    for player in &players {
        let closes = player.state().closes;
        assert!(!closes.contains(&4008), "no room lost its owner: {closes:?}");
    }
    all_playing(&players).await;
    sampler.finish("restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_process_id_is_refused_at_start() {
    let _serial = SERIAL.lock().await;
    let Some(redis) = RedisServer::start() else { return };
    let first = Proc::start(&redis, "same", FAST, 13).await;
    let mut second = Proc::spawn(&redis, "same", FAST, 13);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = second.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            break status;
        }
        assert!(Instant::now() < deadline, "the duplicate exits within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = second.log_text();
    assert!(!status.success(), "non-zero exit: {status:?}");
    assert!(log.contains("process id same is already in use by another live process"), "{log}");
    let url = redis.cli(&["HGET", "tickwire:process:same", "url"]);
    assert_eq!(url.trim(), format!("ws://127.0.0.1:{}", first.port), "the record is the first's");
    eprintln!("[duplicate] refused: {}", log.lines().last().unwrap_or_default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matchmake_bursts_never_grant_more_than_a_room_holds() {
    let _serial = SERIAL.lock().await;
    let Some(redis) = RedisServer::start() else { return };
    let procs = [
        Proc::start(&redis, "a", FAST, 40).await,
        Proc::start(&redis, "b", FAST, 40).await,
        Proc::start(&redis, "c", FAST, 40).await,
    ];
    let sampler = Sampler::start(&redis, procs.iter().map(|p| p.port).collect()).await;
    let all = bases(&procs.iter().collect::<Vec<_>>());
    let game = arena_spec();

    // 30 new rooms at once over three processes: spread by load counted in Redis.
    let asks = (0..30).map(|k| {
        let base = all[k % 3].clone();
        tokio::spawn(
            async move { matchmake_within(&base, Some(&format!("spread-{k}")), BURST).await },
        )
    });
    let mut spread: BTreeMap<String, usize> = BTreeMap::new();
    for ask in asks {
        let placement = ask.await.expect("task").expect("placed");
        *spread.entry(placement.process).or_default() += 1;
    }
    eprintln!("[burst] 30 new rooms at once: {spread:?}");
    assert!(spread.values().all(|&rooms| rooms <= 12), "{spread:?}");

    // 100 matchmakes at once for one room of capacity 4.
    let asks = (0..100).map(|k| {
        let base = all[k % 3].clone();
        tokio::spawn(async move { matchmake_within(&base, Some("crowded"), BURST).await })
    });
    let (mut seats, mut refusals) = (Vec::new(), BTreeMap::<u16, usize>::new());
    for ask in asks {
        match ask.await.expect("task") {
            Ok(placement) => seats.push(placement),
            Err((status, body)) => {
                if status == 409 {
                    let reason: serde_json::Value = serde_json::from_str(&body).expect("JSON");
                    assert_eq!(reason["reason"], "room_full", "{body}");
                }
                *refusals.entry(status).or_default() += 1;
            }
        }
    }
    let mut closes_after_connecting = 0;
    let mut crowd = Vec::new();
    for seat in &seats {
        match within(BotClient::connect(&seat.url, &game)).await {
            Ok(client) => crowd.push(client),
            Err(_) => closes_after_connecting += 1,
        }
    }
    for client in &mut crowd {
        within(client.next_snapshot()).await.expect("plays");
    }
    eprintln!(
        "[burst] 100 matchmakes for one room of {CAPACITY}: {} seats, refusals at matchmake {refusals:?}, {closes_after_connecting} closed after connecting",
        seats.len()
    );
    assert_eq!(seats.len(), CAPACITY);
    assert_eq!(refusals, BTreeMap::from([(409, 100 - CAPACITY)]));
    assert_eq!(closes_after_connecting, 0);

    // 50 quick matches at once, while rooms have space (or may be opened).
    let asks = (0..50).map(|k| {
        let base = all[k % 3].clone();
        tokio::spawn(async move { matchmake_within(&base, None, BURST).await })
    });
    let mut placements = Vec::new();
    let mut quick_refusals = 0;
    for ask in asks {
        match ask.await.expect("task") {
            Ok(placement) => placements.push(placement),
            Err(_) => quick_refusals += 1,
        }
    }
    let joins = placements.iter().map(|placement| {
        let (url, game) = (placement.url.clone(), game.clone());
        tokio::spawn(within(async move {
            let mut client = BotClient::connect(&url, &game).await?;
            client.next_snapshot().await?;
            Ok::<_, BotError>(client)
        }))
    });
    let mut playing = Vec::new();
    let mut quick_closes = BTreeMap::<String, usize>::new();
    for join in joins {
        match join.await.expect("task") {
            Ok(client) => playing.push(client),
            Err(error) => *quick_closes.entry(format!("{error:?}")).or_default() += 1,
        }
    }
    let rooms: BTreeSet<&str> = placements.iter().map(|p| p.room.as_str()).collect();
    eprintln!(
        "[burst] 50 quick matches: {} play in {} rooms, {quick_refusals} refused at matchmake, closes after connecting {quick_closes:?}",
        playing.len(),
        rooms.len()
    );
    assert!(playing.len() * 100 >= 50 * 95, "at least 95 % play");
    sampler.finish("burst");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_play_on_while_redis_hangs() {
    let _serial = SERIAL.lock().await;
    let Some(redis) = RedisServer::start() else { return };
    let procs =
        [Proc::start(&redis, "a", FAST, 13).await, Proc::start(&redis, "b", FAST, 13).await];
    let sampler = Sampler::start(&redis, procs.iter().map(|p| p.port).collect()).await;
    let all = bases(&procs.iter().collect::<Vec<_>>());
    let players: Vec<Player> =
        (0..6).map(|k| Player::start(&format!("h{}", k % 3), all.clone(), k)).collect();
    all_playing(&players).await;
    let before: Vec<PlayerState> = players.iter().map(Player::state).collect();

    // Redis stops answering (its connections stay open): every directory call now takes its
    // whole timeout, longer than two heartbeats. That is not a pause of the processes.
    redis.signal("-STOP");
    let hung = Instant::now();
    let unready = loop {
        if let Some((503, reason)) = get(procs[0].port, "/readyz").await {
            break reason;
        }
        assert!(hung.elapsed() < Duration::from_secs(5), "readyz 503 within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(3_000).saturating_sub(hung.elapsed())).await;
    redis.signal("-CONT");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    for (player, before) in players.iter().zip(&before) {
        let state = player.state();
        assert_eq!(state.playing, before.playing, "played on, never reconnected: {state:?}");
        assert!(state.closes.is_empty(), "{state:?}");
    }
    eprintln!(
        "[hang] Redis stopped 3 s: 6 players played on without a reconnect; /readyz said {unready:?}"
    );
    sampler.finish("hang");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_pause_nobody_noticed_resumes_once_the_leases_are_proven() {
    let _serial = SERIAL.lock().await;
    let Some(redis) = RedisServer::start() else { return };
    let procs = [
        Proc::start(&redis, "a", LONG_TTL, 13).await,
        Proc::start(&redis, "b", LONG_TTL, 13).await,
    ];
    let sampler = Sampler::start(&redis, procs.iter().map(|p| p.port).collect()).await;
    let all = bases(&procs.iter().collect::<Vec<_>>());
    let players: Vec<Player> =
        (0..4).map(|k| Player::start(&format!("s{}", k % 2), all.clone(), k)).collect();
    all_playing(&players).await;
    let before: Vec<PlayerState> = players.iter().map(Player::state).collect();
    let victim_id = owner(&redis, "s0");
    let victim = procs.iter().find(|p| p.id == victim_id).expect("s0's host");

    // Past the 400 ms liveness window (the process fences its rooms on waking), well short of
    // the 2 s record TTL and of the players' 1 s patience: nobody took the rooms meanwhile.
    sampler.skip(victim, true);
    victim.signal("-STOP");
    tokio::time::sleep(Duration::from_millis(600)).await;
    victim.signal("-CONT");
    sampler.skip(victim, false);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    for (player, before) in players.iter().zip(&before) {
        let state = player.state();
        assert_eq!(state.playing, before.playing, "played on where it was: {state:?}");
        assert!(state.closes.is_empty(), "{state:?}");
    }
    let metrics = get(victim.port, "/metrics").await.expect("metrics").1;
    assert!(metrics.contains("tickwire_room_leases_lost_total 0\n"), "no lease lost");
    let log = victim.log_text();
    assert!(log.contains("rooms held until their leases are proven"), "the pause was seen: {log}");
    eprintln!(
        "[short pause] {victim_id} stopped 600 ms: fenced, proven, played on; no player moved"
    );
    sampler.finish("short pause");
}
