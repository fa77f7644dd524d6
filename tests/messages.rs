//! The game's messages and events on a real server: chat in order, events stamped with their
//! tick ahead of that tick's snapshot, nothing crossing rooms, size and rate limits, and a
//! client that does not read its events closed as too slow.

mod common;

use bevy_ecs::prelude::*;
use common::{TestServer, arena_spec, connect_without_reading, http_get, small_arena, within};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tickwire::arena::{ArenaEvent, ArenaMessage};
use tickwire::bots::client::{BotError, Received};
use tickwire::bots::{BotClient, GameSpec};
use tickwire::{
    ClientInfo, Game, GameBuilder, GameMessage, NoMessages, Outgoing, Replicated, ServerConfig,
};

async fn join(server: &TestServer, room: &str, name: &str) -> BotClient {
    let url = format!("{}?room={room}&name={name}", server.ws_url());
    within(BotClient::connect(&url, &arena_spec())).await.expect("joins")
}

/// Reads until `count` arena events arrived; each is returned with its tick and the tick of
/// the first snapshot after it.
async fn events(bot: &mut BotClient, count: usize) -> Vec<(ArenaEvent, u32)> {
    let mut out = Vec::new();
    while out.len() < count {
        if let Received::Event { tick, bytes } = within(bot.receive()).await.expect("receives") {
            let event: ArenaEvent = tickwire::protocol::decode_exact(&bytes, bytes.len())
                .expect("an arena event decodes");
            out.push((event, tick));
        }
    }
    out
}

/// Reads `snapshots` snapshots and returns the events that came meanwhile.
async fn events_during(bot: &mut BotClient, snapshots: usize) -> Vec<ArenaEvent> {
    let mut out = Vec::new();
    let mut seen = 0;
    while seen < snapshots {
        match within(bot.receive()).await.expect("receives") {
            Received::Event { bytes, .. } => {
                out.push(tickwire::protocol::decode_exact(&bytes, bytes.len()).expect("decodes"))
            }
            Received::Snapshot { .. } => seen += 1,
            Received::Pong(_) | Received::Notice(_) => {}
        }
    }
    out
}

fn chat(from: &str, text: &str) -> ArenaEvent {
    ArenaEvent::Chat { from: from.into(), text: text.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_reaches_the_room_in_order_and_no_other_room() {
    let server = TestServer::start_arena(ServerConfig::default(), small_arena()).await;
    let mut ada = join(&server, "chat", "ada").await;
    let mut elsewhere = join(&server, "other", "cy").await;
    within(ada.next_snapshot()).await.expect("snapshot");
    let mut bob = join(&server, "chat", "bob").await;
    assert_eq!(events(&mut ada, 1).await[0].0, ArenaEvent::Joined { name: "bob".into() });

    let lines: Vec<String> = (1..=6).map(|n| format!("line {n}")).collect();
    for line in &lines {
        ada.send_message(ArenaMessage::Chat { text: line.clone() }).await.expect("sends");
    }
    let expected: Vec<ArenaEvent> = lines.iter().map(|line| chat("ada", line)).collect();
    for bot in [&mut ada, &mut bob] {
        let got: Vec<ArenaEvent> = events(bot, 6).await.into_iter().map(|(e, _)| e).collect();
        assert_eq!(got, expected, "in order, to the sender too");
    }
    // Ten snapshots after the last line, the other room has seen none of it.
    let other = events_during(&mut elsewhere, 10).await;
    assert!(other.is_empty(), "nothing crosses rooms: {other:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_stamped_with_its_tick_and_arrives_before_that_ticks_snapshot() {
    let server = TestServer::start_arena(ServerConfig::default(), small_arena()).await;
    let mut ada = join(&server, "ticks", "ada").await;
    within(ada.next_snapshot()).await.expect("snapshot");
    for n in 0..3 {
        ada.send_message(ArenaMessage::Chat { text: format!("hi {n}") }).await.expect("sends");
        let tick = loop {
            if let Received::Event { tick, .. } = within(ada.receive()).await.expect("receives") {
                break tick;
            }
        };
        within(ada.next_snapshot()).await.expect("snapshot");
        assert_eq!(ada.replica.tick, tick, "the snapshot right after the event is its tick's");
    }
    server.stop().await;
}

/// Reads until the server closes the connection; its close code and reason.
async fn closed_after(bot: &mut BotClient) -> (u16, String) {
    loop {
        match within(bot.receive()).await {
            Ok(_) => continue,
            Err(BotError::Closed { code, reason }) => return (code, reason),
            Err(other) => panic!("expected a close, got {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_empty_and_too_frequent_messages_are_refused_with_reasons() {
    let config = ServerConfig { game_message_rate: 3, ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;

    let mut long = server.connect("long").await;
    let text = "x".repeat(2_000);
    long.send_message(ArenaMessage::Chat { text }).await.expect("sends");
    let (code, reason) = closed_after(&mut long).await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("game message of 2005 bytes exceeds 1024"), "{reason}");

    let mut blank = server.connect("blank").await;
    blank.send_message(ArenaMessage::Chat { text: "   ".into() }).await.expect("sends");
    let (code, reason) = closed_after(&mut blank).await;
    assert_eq!((code, reason.as_str()), (1008, "invalid message: empty chat line"));

    let mut chatty = server.connect("chatty").await;
    for n in 0..5 {
        let text = format!("spam {n}");
        if chatty.send_message(ArenaMessage::Chat { text }).await.is_err() {
            break;
        }
    }
    let (code, reason) = closed_after(&mut chatty).await;
    assert_eq!((code, reason.as_str()), (1008, "more than 3 game messages per second"));

    // A well-behaved client beside them chats on.
    let mut calm = server.connect("calm").await;
    calm.send_message(ArenaMessage::Chat { text: "still here".into() }).await.expect("sends");
    let mine = chat("calm", "still here");
    let mut heard = Vec::new();
    while !heard.contains(&mine) && heard.len() < 10 {
        heard.push(events(&mut calm, 1).await.remove(0).0);
    }
    assert!(heard.contains(&mine), "{heard:?}");
    server.stop().await;
}

/// A game that broadcasts a burst of notes every tick.
#[derive(Clone)]
struct Flood;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Note {
    text: String,
}

impl GameMessage for Note {
    fn samples() -> Vec<Note> {
        vec![Note { text: String::new() }]
    }
}

#[derive(Component, Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
struct Marker(u8);

fn flood(mut out: ResMut<Outgoing<Note>>) {
    for _ in 0..20 {
        out.broadcast(Note { text: "n".repeat(200) });
    }
}

impl Game for Flood {
    type Input = ();
    type Welcome = ();
    type Message = NoMessages;
    type Event = Note;
    const NAME: &'static str = "flood";
    fn build(&mut self, game: &mut GameBuilder<'_>) {
        game.replicate::<Marker>();
        game.add_systems(flood);
    }
    fn welcome(&self) {}
    fn join(&mut self, world: &mut World, _: &ClientInfo) -> Entity {
        world.spawn((Replicated, Marker(1))).id()
    }
}

impl tickwire::bots::BotGame for Flood {
    fn bot_input(_: tickwire::bots::Steer, _: &tickwire::Replica, _: u32) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_its_events_unread_is_closed_as_too_slow() {
    let config = ServerConfig {
        event_queue: 64,
        max_lag_ticks: 10_000,
        socket_send_buffer: Some(4096),
        ..ServerConfig::default()
    };
    let server = TestServer::start_game(Flood, config).await;
    // A tiny receive window, never read: the server's writer blocks and events pile up.
    let mut stalled = connect_without_reading(&server).await;

    let spec = GameSpec::of(Flood).expect("registers");
    let mut healthy = within(BotClient::connect(&server.ws_url(), &spec)).await.expect("joins");
    let mut notes = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline {
        if let Received::Event { .. } = within(healthy.receive()).await.expect("keeps receiving") {
            notes += 1;
        }
    }
    assert!(notes > 200, "the reader gets every note: {notes}");

    // The stalled client was closed as too slow (its socket is full, so the close frame
    // cannot reach it: the server counts it and drops the connection).
    let (status, metrics) = http_get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("tickwire_disconnects_total{reason=\"too_slow\"} 1\n"), "{metrics}");
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let ended = within(async {
        while let Some(Ok(message)) = stalled.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await;
    assert!(matches!(ended, None | Some(4001)), "{ended:?}");
    server.stop().await;
}
