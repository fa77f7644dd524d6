//! A session against the real server over real sockets: welcome, snapshots, inputs,
//! other players, leaving.

mod common;

use common::{TestServer, small_world, within};
use tickwire::protocol::{EntityKind, PROTOCOL_VERSION};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_then_full_then_deltas() {
    let server = TestServer::start(small_world()).await;
    let mut bot = server.connect("ada").await;
    assert_eq!(bot.welcome.protocol_version, PROTOCOL_VERSION);
    assert_eq!(bot.welcome.tick_rate_hz, 30);
    assert_eq!(bot.welcome.world_width, 60.0);
    within(bot.next_snapshot()).await.expect("first snapshot");
    let own = bot.own().expect("own player in the first snapshot").clone();
    assert_eq!(own.kind, EntityKind::Player);
    assert_eq!(own.name, "ada");
    assert!(bot.replica.iter().any(|(_, e)| e.kind == EntityKind::Orb));
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
    let mut config = small_world();
    config.world.view_radius = 100.0;
    let server = TestServer::start(config).await;
    let mut mover = server.connect("mover").await;
    let mut watcher = server.connect("watcher").await;
    within(mover.next_snapshot()).await.expect("snapshot");
    within(watcher.next_snapshot()).await.expect("snapshot");
    let id = mover.welcome.entity_id;
    let start = mover.own().expect("own").x;
    let mut last_seq = 0;
    for _ in 0..20 {
        last_seq = mover.send_input(127, 0, 0).await.expect("send");
        within(mover.next_snapshot()).await.expect("snapshot");
    }
    while mover.replica.last_input_seq < last_seq {
        within(mover.next_snapshot()).await.expect("snapshot");
    }
    let moved = mover.own().expect("own").x;
    assert!(moved > start + 64, "moved right: {start} -> {moved}");
    // The watcher's replica converges on the same server state.
    let target_tick = mover.replica.tick;
    while watcher.replica.tick < target_tick {
        within(watcher.next_snapshot()).await.expect("snapshot");
    }
    let seen = watcher.replica.get(id).expect("watcher sees the mover").x;
    assert!(seen > start + 64, "watcher saw the move: {start} -> {seen}");
    // Leaving despawns the player for everyone.
    mover.close().await;
    within(async {
        while watcher.replica.get(id).is_some() {
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
    use tickwire::protocol::{self, ClientMessage, Ping, ServerMessage};
    use tokio_tungstenite::tungstenite::Message;

    let server = TestServer::start(small_world()).await;
    let mut other = server.connect("other").await;
    // Two snapshots: the tick that sent the first one has finished and counted `other`.
    for _ in 0..2 {
        within(other.next_snapshot()).await.expect("snapshot");
    }
    // Each socket pings the moment its handshake completes, racing the tick that welcomes it.
    for attempt in 0..10 {
        let mut socket = open(&server.ws_url()).await.expect("handshake");
        let ping = protocol::encode(&ClientMessage::Ping(Ping { id: attempt }));
        socket.send(Message::Binary(ping.into())).await.expect("ping sent");
        let first = within(next_binary(&mut socket)).await.expect("first message");
        let first = protocol::decode_server(&first, first.len()).expect("decodes");
        assert!(matches!(first, ServerMessage::Welcome(_)), "attempt {attempt}: got {first:?}");
        let pong = loop {
            let bytes = within(next_binary(&mut socket)).await.expect("message");
            if let Ok(ServerMessage::Pong(pong)) = protocol::decode_server(&bytes, bytes.len()) {
                break pong;
            }
        };
        assert_eq!(pong.id, attempt);
        // `other` is in the world, and this socket's player once a tick has seen it.
        assert!((1..=2).contains(&pong.players), "players online: {}", pong.players);
        socket.close(None).await.expect("close");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_asked_for_a_realtime_tick_serves_with_or_without_the_privilege() {
    let mut config = small_world();
    config.realtime_tick = true;
    let server = TestServer::start(config).await;
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
