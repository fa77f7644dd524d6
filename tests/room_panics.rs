//! A panic in a game's code closes its own room and nothing else, on a real server with one
//! simulation thread: the room's clients get 1011 "room NAME failed and was closed", a room on
//! the same thread keeps its snapshot rate through it, the name opens afresh, the panic is
//! counted and `/healthz` stays 200. A panic in a hook that runs at the connection (input
//! validation) closes only that client.

mod common;

use bevy_ecs::prelude::*;
use common::{TestServer, http_get, within};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tickwire::bots::{BotClient, BotError, GameSpec};
use tickwire::{
    ClientInfo, Game, GameBuilder, GameInput, Inputs, NoMessages, Replicated, ServerConfig,
};

/// An input that lights a fuse: [`Fuse::LIT`] makes the room's system panic; [`Fuse::WET`]
/// makes its validation, at the connection, panic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Fuse {
    state: u8,
}

impl Fuse {
    const IDLE: Fuse = Fuse { state: 0 };
    const LIT: Fuse = Fuse { state: 1 };
    const WET: Fuse = Fuse { state: 2 };
}

impl GameInput for Fuse {
    fn validate(&self) -> Result<(), String> {
        assert!(*self != Fuse::WET, "validation tripped over a wet fuse");
        Ok(())
    }
}

/// Counts up every tick, so every snapshot carries a change.
#[derive(Component, Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
struct Count(u32);

fn count(mut counts: Query<&mut Count>) {
    for mut count in &mut counts {
        count.0 += 1;
    }
}

fn explode(fuses: Query<&Inputs<Fuse>>) {
    if fuses.iter().flat_map(Inputs::this_tick).any(|fuse| *fuse == Fuse::LIT) {
        panic!("a lit fuse reached the powder");
    }
}

/// A game whose rooms panic on demand: in a system (a lit fuse), in `join` (a client named
/// `boom`), or while its world is built (once `broken` is set).
#[derive(Clone, Default)]
struct Fragile {
    broken: Arc<AtomicBool>,
}

impl Game for Fragile {
    type Input = Fuse;
    type Welcome = ();
    type Message = NoMessages;
    type Event = NoMessages;
    const NAME: &'static str = "fragile";
    fn build(&mut self, game: &mut GameBuilder<'_>) {
        assert!(!self.broken.load(Ordering::Relaxed), "the game cannot build a world");
        game.replicate::<Count>();
        game.add_systems((count, explode));
    }
    fn welcome(&self) {}
    fn join(&mut self, world: &mut World, client: &ClientInfo) -> Entity {
        assert!(client.param("name") != Some("boom"), "join tripped");
        world.spawn((Replicated, Count(0))).id()
    }
}

impl tickwire::bots::BotGame for Fragile {
    fn bot_input(_: tickwire::bots::Steer, _: &tickwire::Replica, _: u32) -> Fuse {
        Fuse::IDLE
    }
}

fn spec() -> GameSpec {
    GameSpec::of(Fragile::default()).expect("registers")
}

/// One simulation thread, so every room shares it.
fn config() -> ServerConfig {
    ServerConfig { sim_threads: Some(1), ..ServerConfig::default() }
}

async fn join(server: &TestServer, room: &str, query: &str) -> BotClient {
    let url = format!("{}?room={room}&{query}", server.ws_url());
    within(BotClient::connect(&url, &spec())).await.expect("joins")
}

/// Reads until the connection closes; its close code and reason.
async fn closed(bot: &mut BotClient) -> (u16, String) {
    loop {
        match within(bot.receive()).await {
            Ok(_) => continue,
            Err(BotError::Closed { code, reason }) => return (code, reason),
            Err(other) => panic!("expected a close frame, got {other}"),
        }
    }
}

/// The close code and reason a connection to `room` with `query` is refused with.
async fn refused(server: &TestServer, room: &str, query: &str) -> (u16, String) {
    let url = format!("{}?room={room}&{query}", server.ws_url());
    let mut socket = within(tickwire::bots::client::open(&url)).await.expect("handshake");
    match within(tickwire::bots::client::next_binary(&mut socket)).await {
        Err(BotError::Closed { code, reason }) => (code, reason),
        other => panic!("expected a close, got {other:?}"),
    }
}

/// Over `window`: the snapshots `bot` receives, the ticks its room ran, and the largest gap
/// between consecutive snapshots' ticks.
async fn snapshots_over(bot: &mut BotClient, window: Duration) -> (u32, u32, u32) {
    let start = Instant::now();
    let first = bot.replica.tick;
    let (mut snapshots, mut widest, mut last) = (0, 0, first);
    while start.elapsed() < window {
        within(bot.next_snapshot()).await.expect("still served");
        snapshots += 1;
        widest = widest.max(bot.replica.tick - last);
        last = bot.replica.tick;
    }
    (snapshots, last - first, widest)
}

fn metric(page: &str, name: &str) -> Option<f64> {
    page.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_room_closes_alone_while_its_thread_keeps_the_other_rooms_deadlines() {
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("error").try_init();
    let server = TestServer::start_game(Fragile::default(), config()).await;
    let mut doomed = join(&server, "doomed", "name=ada").await;
    let mut neighbour = join(&server, "doomed", "name=bob").await;
    let mut steady = join(&server, "steady", "name=cy").await;
    within(doomed.next_snapshot()).await.expect("snapshot");
    within(steady.next_snapshot()).await.expect("snapshot");
    let token = doomed.resume_token();

    // The steady room is counted over 3 s; the fuse is lit 1 s into the window.
    const WINDOW: Duration = Duration::from_secs(3);
    let counting = tokio::spawn(async move {
        let counted = snapshots_over(&mut steady, WINDOW).await;
        (steady, counted)
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let lit = Instant::now();
    within(doomed.send_input(Fuse::LIT)).await.expect("sent");
    let (code, reason) = closed(&mut doomed).await;
    let close_ms = lit.elapsed().as_secs_f64() * 1e3;
    assert_eq!((code, reason.as_str()), (1011, "room doomed failed and was closed"));
    let failed_at = doomed.replica.tick;
    let (code, reason) = closed(&mut neighbour).await;
    assert_eq!((code, reason.as_str()), (1011, "room doomed failed and was closed"));

    let (mut steady, (snapshots, ticks, widest)) = within(counting).await.expect("counted");
    let expected = WINDOW.as_secs_f64() * 30.0;
    println!(
        "fuse lit -> 1011 at the client: {close_ms:.1} ms; steady room: {snapshots} snapshots \
         in {WINDOW:?} ({:.1} % of {expected}), {ticks} ticks run, widest tick gap {widest}",
        100.0 * f64::from(snapshots) / expected
    );
    assert!(f64::from(snapshots) >= 0.9 * expected, "{snapshots} of {expected} snapshots");

    let (status, page) = http_get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(metric(&page, "tickwire_room_panics_total"), Some(1.0), "{page}");
    assert_eq!(http_get(server.addr, "/healthz").await, (200, "ok\n".to_owned()));
    let (_, rooms) = http_get(server.addr, "/rooms").await;
    assert!(!rooms.contains("\"doomed\""), "the failed room is closed: {rooms}");
    assert!(rooms.contains("\"steady\""), "{rooms}");

    // Its world is gone: the session cannot be resumed, and the name opens afresh.
    let (code, _) = refused(&server, "doomed", &format!("resume={token}")).await;
    assert_eq!(code, 4005, "a failed room's sessions are not resumable");
    let mut again = join(&server, "doomed", "name=ada").await;
    within(again.next_snapshot()).await.expect("the new room ticks");
    assert!(again.replica.tick < failed_at, "a fresh room counts from its start");
    within(steady.next_snapshot()).await.expect("the steady room still ticks");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_join_or_while_building_fails_only_that_room_and_tells_the_joiner() {
    let game = Fragile::default();
    let server = TestServer::start_game(game.clone(), config()).await;
    let mut steady = join(&server, "steady", "name=cy").await;
    let mut inside = join(&server, "tense", "name=ada").await;
    within(inside.next_snapshot()).await.expect("snapshot");

    // The game's `join` panics for this client: it, and the room's other client, get 1011.
    let (code, reason) = refused(&server, "tense", "name=boom").await;
    assert_eq!((code, reason.as_str()), (1011, "room tense failed and was closed"));
    assert_eq!(closed(&mut inside).await, (1011, "room tense failed and was closed".into()));

    // The game panics building a new room's world: its joiner is told, not left waiting.
    game.broken.store(true, Ordering::Relaxed);
    let (code, reason) = refused(&server, "unbuilt", "name=dee").await;
    assert_eq!((code, reason.as_str()), (1011, "room unbuilt failed and was closed"));
    game.broken.store(false, Ordering::Relaxed);

    let (_, page) = http_get(server.addr, "/metrics").await;
    assert_eq!(metric(&page, "tickwire_room_panics_total"), Some(2.0), "{page}");
    let tick = steady.replica.tick;
    within(steady.next_snapshot()).await.expect("the steady room still ticks");
    assert!(steady.replica.tick > tick);
    let mut back = join(&server, "tense", "name=ada").await;
    within(back.next_snapshot()).await.expect("the name opens afresh");
    assert_eq!(http_get(server.addr, "/healthz").await, (200, "ok\n".to_owned()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_validating_an_input_closes_only_that_client() {
    let server = TestServer::start_game(Fragile::default(), config()).await;
    let mut careless = join(&server, "shared", "name=ada").await;
    let mut careful = join(&server, "shared", "name=bob").await;
    within(careless.send_input(Fuse::WET)).await.expect("sent");
    let (code, reason) = closed(&mut careless).await;
    assert_eq!(
        (code, reason.as_str()),
        (1011, "server error while handling this client's message")
    );

    // The room, the read thread and the other client carry on.
    let (snapshots, _, _) = snapshots_over(&mut careful, Duration::from_millis(500)).await;
    assert!(snapshots > 0);
    within(careful.send_input(Fuse::IDLE)).await.expect("sent");
    let mut later = join(&server, "shared", "name=cy").await;
    within(later.next_snapshot()).await.expect("a new client is served");
    let (_, page) = http_get(server.addr, "/metrics").await;
    assert_eq!(metric(&page, "tickwire_room_panics_total"), Some(0.0), "no room failed");
    server.stop().await;
}

/// A resource whose destructor panics: the world holding it panics as it is dropped.
#[derive(Resource)]
struct Tripwire;

impl Drop for Tripwire {
    fn drop(&mut self) {
        // Not while a test thread is already unwinding: that would abort the test binary.
        if !std::thread::panicking() {
            panic!("the tripwire went off as the world was dropped");
        }
    }
}

/// [`Fragile`], with a [`Tripwire`] in the world of a room built `armed`.
struct Armed {
    game: Fragile,
    armed: bool,
}

impl Game for Armed {
    type Input = Fuse;
    type Welcome = ();
    type Message = NoMessages;
    type Event = NoMessages;
    const NAME: &'static str = "fragile";
    fn build(&mut self, game: &mut GameBuilder<'_>) {
        self.game.build(game);
        if self.armed {
            game.world().insert_resource(Tripwire);
        }
    }
    fn welcome(&self) {}
    fn join(&mut self, world: &mut World, client: &ClientInfo) -> Entity {
        self.game.join(world, client)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_dropping_a_closed_rooms_world_ends_nothing_else() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = ServerConfig { room_grace: Duration::from_millis(100), ..config() };
    let server = tickwire::Server::with_rooms(|name| Armed {
        game: Fragile::default(),
        armed: name == "brief" || name == "last",
    })
    .config(config);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(listener, async move {
        let _ = stopped.await;
    }));
    let ws = format!("ws://{addr}/ws");
    let connect = |room: &str| {
        let url = format!("{ws}?room={room}");
        async move { within(BotClient::connect(&url, &spec())).await.expect("joins") }
    };
    // Opened in this order, so at shutdown "last" is closed before "steady".
    let _last = connect("last").await;
    let mut steady = connect("steady").await;
    let brief = connect("brief").await;
    brief.close().await;

    // The empty room closes after its grace period; its world's destructor panics.
    within(async {
        while http_get(addr, "/rooms").await.1.contains("\"brief\"") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let (snapshots, _, _) = snapshots_over(&mut steady, Duration::from_millis(500)).await;
    assert!(snapshots >= 10, "the thread still runs the other rooms: {snapshots} snapshots");

    // At shutdown the room "last" panics as it is dropped: the thread still closes the rooms
    // after it, and the server stops cleanly.
    let _ = stop.send(());
    assert_eq!(closed(&mut steady).await, (1001, "server shutting down".to_owned()));
    let result = tokio::time::timeout(Duration::from_secs(10), task).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "the server stops: {result:?}");
}
