//! A session against the real server over real sockets: welcome, snapshots, inputs,
//! other players, leaving.

mod common;

use common::{TestServer, small_arena, within};
use tickwire::ServerConfig;
use tickwire::arena::{ArenaInput, ArenaWelcome, Name, Orb, Position};
use tickwire::protocol::PROTOCOL_VERSION;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_then_full_then_deltas() {
    let server = TestServer::start_small().await;
    let mut bot = server.connect("ada").await;
    assert_eq!(bot.welcome.protocol_version, PROTOCOL_VERSION);
    assert_eq!(bot.welcome.tick_rate_hz, 30);
    assert_eq!(bot.welcome.schema.game, "arena");
    let arena: ArenaWelcome = bot.welcome.game().expect("the arena's welcome");
    assert_eq!(arena.world_width, 60.0);
    within(bot.next_snapshot()).await.expect("first snapshot");
    assert_eq!(bot.own::<Name>().expect("own player in the first snapshot").0, "ada");
    assert!(bot.own::<Orb>().is_none());
    assert!(bot.replica.ids().any(|id| bot.replica.has::<Orb>(id)));
    let first_tick = bot.replica.tick;
    for _ in 0..5 {
        within(bot.next_snapshot()).await.expect("snapshot");
    }
    assert_eq!(bot.replica.tick, first_tick + 5, "one snapshot per tick");
    bot.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_move_the_player_and_others_see_it() {
    let arena = tickwire::arena::ArenaConfig { view_radius: 100.0, ..small_arena() };
    let server = TestServer::start_arena(ServerConfig::default(), arena).await;
    let mut mover = server.connect("mover").await;
    let mut watcher = server.connect("watcher").await;
    within(mover.next_snapshot()).await.expect("snapshot");
    within(watcher.next_snapshot()).await.expect("snapshot");
    let id = mover.welcome.entity_id;
    let start = mover.own::<Position>().expect("own").0.x;
    let mut last_seq = 0;
    for _ in 0..20 {
        let right = ArenaInput { move_x: 127, move_y: 0, buttons: 0 };
        last_seq = mover.send_input(right).await.expect("send");
        within(mover.next_snapshot()).await.expect("snapshot");
    }
    while mover.replica.last_input_seq < last_seq {
        within(mover.next_snapshot()).await.expect("snapshot");
    }
    let moved = mover.own::<Position>().expect("own").0.x;
    assert!(moved > start + 1.0, "moved right: {start} -> {moved}");
    // The watcher's replica converges on the same server state.
    let target_tick = mover.replica.tick;
    while watcher.replica.tick < target_tick {
        within(watcher.next_snapshot()).await.expect("snapshot");
    }
    let seen = watcher.replica.get::<Position>(id).expect("watcher sees the mover").0.x;
    assert!(seen > start + 1.0, "watcher saw the move: {start} -> {seen}");
    // Leaving despawns the player for everyone.
    mover.close().await;
    within(async {
        while watcher.replica.contains(id) {
            watcher.next_snapshot().await.expect("snapshot");
        }
    })
    .await;
    watcher.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_before_the_welcome_is_answered_after_it_with_players_online() {
    use futures_util::SinkExt;
    use tickwire::bots::client::{next_binary, open};
    use tickwire::protocol::{ClientMessage, Control, decode_control};
    use tokio_tungstenite::tungstenite::Message;

    let server = TestServer::start_small().await;
    let mut other = server.connect("other").await;
    // Two snapshots: the tick that sent the first one has finished and counted `other`.
    for _ in 0..2 {
        within(other.next_snapshot()).await.expect("snapshot");
    }
    // Each socket pings the moment its handshake completes, racing the tick that welcomes it.
    for attempt in 0..10 {
        let mut socket = open(&server.ws_url()).await.expect("handshake");
        let ping = ClientMessage::<(), ()>::Ping { id: attempt }.encode();
        socket.send(Message::Binary(ping.into())).await.expect("ping sent");
        let first = within(next_binary(&mut socket)).await.expect("first message");
        let first = decode_control(&first).expect("decodes");
        assert!(matches!(first, Some(Control::Welcome(_))), "attempt {attempt}: got {first:?}");
        let pong = loop {
            let bytes = within(next_binary(&mut socket)).await.expect("message");
            if let Ok(Some(Control::Pong(pong))) = decode_control(&bytes) {
                break pong;
            }
        };
        assert_eq!(pong.id, attempt);
        // `other` is in the world, and this socket's client once a tick has seen it.
        assert!((1..=2).contains(&pong.clients), "clients online: {}", pong.clients);
        socket.close(None).await.expect("close");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_asked_for_a_realtime_tick_serves_with_or_without_the_privilege() {
    let config = ServerConfig { realtime_tick: true, ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;
    let mut bot = server.connect("rt").await;
    within(bot.next_snapshot()).await.expect("first snapshot");
    let first = bot.replica.tick;
    for _ in 0..3 {
        within(bot.next_snapshot()).await.expect("snapshot");
    }
    assert_eq!(bot.replica.tick, first + 3);
    bot.close().await;
    server.stop().await;
}
