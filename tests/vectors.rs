//! Golden vectors: the bytes of every message type with their meaning as a generic client
//! decodes it from the schema (`tickwire::protocol::inspect`).
//!
//! The same files are decoded by `client-demo/tickwire/` under `node --test`, so the Rust
//! encoder and the JavaScript decoder cannot drift apart. Snapshots come from the real
//! replication of a small arena world, so the bytes are what the server sends. Run with
//! `TICKWIRE_BLESS=1` to rewrite the files after an intended wire change (and bump the protocol
//! version).

use bevy_ecs::prelude::*;
use glam::Vec2;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tickwire::arena::{
    Arena, ArenaConfig, ArenaEvent, ArenaInput, ArenaMessage, ArenaWelcome, Color, Name, Orb,
    Position, Radius, Score, Velocity,
};
use tickwire::protocol::{self, ClientMessage, Notice, Pong, Schema, Welcome, inspect};
use tickwire::replication::{ClientView, InputAck, Replication, assign_ids};
use tickwire::{
    ClientInfo, Game, GameBuilder, GameInput, NetId, NoMessages, Registry, Replica, Replicated,
    Tick, registry_of,
};

#[derive(Serialize, Deserialize)]
struct Vector {
    name: String,
    direction: String,
    hex: String,
    message: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct Invalid {
    name: String,
    direction: String,
    hex: String,
    reason: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits"))
        .collect()
}

fn arena() -> (Arc<Registry>, Schema) {
    let config = ArenaConfig { size: 200.0, view_radius: 200.0, ..ArenaConfig::default() };
    registry_of(&mut Arena::new(config)).expect("the arena registers")
}

/// A small world of two players and an orb, stepped by hand; returns each snapshot the
/// first player is sent, named.
fn snapshots(registry: &Arc<Registry>) -> Vec<(&'static str, Vec<u8>)> {
    let mut world = World::new();
    let player = |name: &str, at: Vec2, color: [u8; 3]| {
        let parts = (Replicated, Position(at), Radius(1.0), Color(color), Score(3));
        (parts, Name(name.into()), Velocity(Vec2::new(1.5, -2.0)))
    };
    let ada = world.spawn(player("ada", Vec2::new(10.0, 20.0), [230, 80, 40])).id();
    let bob = world.spawn(player("bob", Vec2::new(50.0, 60.5), [40, 80, 230])).id();
    let orb_parts = (Replicated, Orb, Position(Vec2::new(3.0, 4.0)), Radius(0.35), Score(1));
    let orb = world.spawn((orb_parts, Color([120, 220, 140]))).id();
    assign_ids(&mut world);
    let own = *world.get::<NetId>(ada).expect("id");
    let mut replication = Replication::new(registry.clone(), &mut world, 8);
    let mut view = ClientView::new(own);
    let mut out = Vec::new();
    // `pacing` is the server's hint to the client (send faster: positive), one per snapshot.
    let mut send = |world: &mut World, tick: u32, seq: u32, pacing: i32, taken: bool| {
        replication.begin_tick(world, Tick(tick));
        view.settle(!taken);
        let mut bytes = Vec::new();
        replication.build(&mut view, InputAck { seq, pacing }, &mut bytes);
        bytes
    };
    out.push(("full", send(&mut world, 1, 0, 4, true)));
    world.get_mut::<Position>(ada).expect("p").0 += Vec2::new(17.0, -17.0) / 64.0;
    world.get_mut::<Position>(bob).expect("p").0.x -= 1.0;
    world.get_mut::<Velocity>(ada).expect("v").0 = Vec2::new(2.0, -1.0);
    out.push(("delta_moves", send(&mut world, 2, 1, 1, true)));
    out.push(("delta_idle", send(&mut world, 3, 1, 0, true)));
    world.get_mut::<Position>(bob).expect("p").0.y += 0.25;
    world.get_mut::<Score>(bob).expect("s").0 = 9;
    world.despawn(orb);
    world.spawn((Replicated, Orb, Position(Vec2::new(150.0, 20.0)), Radius(0.55), Score(3)));
    out.push(("delta_mixed", send(&mut world, 4, 2, -2, true)));
    // The client does not read tick 5's snapshot; tick 6's catches it up with whole values.
    world.get_mut::<Position>(bob).expect("p").0.x += 2.0;
    world.get_mut::<Velocity>(ada).expect("v").0 = Vec2::ZERO;
    let _skipped = send(&mut world, 5, 3, 0, true);
    world.get_mut::<Score>(bob).expect("s").0 = 10;
    world.entity_mut(bob).remove::<Color>();
    out.push(("delta_catch_up", send(&mut world, 6, 4, -4, false)));
    out
}

fn server_vectors(registry: &Arc<Registry>, schema: &Schema) -> Vec<(&'static str, Vec<u8>)> {
    let game = protocol::encode(&ArenaWelcome {
        world_width: 200.0,
        world_height: 150.5,
        view_radius: 30.0,
        movement: ArenaConfig::default().movement,
    });
    let welcome = Welcome {
        protocol_version: protocol::PROTOCOL_VERSION,
        client_id: 7,
        entity_id: 1,
        tick_rate_hz: 30,
        schema_hash: schema.hash(),
        schema: schema.clone(),
        game,
        resume_token: *b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
    };
    let mut vectors = vec![("welcome", welcome.encode())];
    vectors.extend(snapshots(registry));
    vectors.push(("pong", Pong { id: 9, tick: 300, clients: 12 }.encode()));
    let chat = ArenaEvent::Chat { from: "ada".into(), text: "gg ✓".into() };
    vectors.push(("event_chat", protocol::encode_event(301, &chat)));
    let milestone = ArenaEvent::Milestone { name: "bob".into(), score: 50 };
    vectors.push(("event_milestone", protocol::encode_event(70_000, &milestone)));
    let notice = Notice { tick: 302, text: "server restarts in 5 min ✓".into() };
    vectors.push(("notice", notice.encode()));
    vectors
}

fn client_vectors() -> Vec<(&'static str, Vec<u8>)> {
    let input = |seq, move_x, move_y, buttons| {
        let input = ArenaInput { move_x, move_y, buttons };
        ClientMessage::<_, ArenaMessage>::Input { seq, input }.encode()
    };
    let chat = ArenaMessage::Chat { text: "hello, room".into() };
    vec![
        ("input", input(1, 127, -127, 0)),
        ("input_boost", input(300, 0, 5, 1)),
        ("ping", ClientMessage::<(), ()>::Ping { id: 70_000 }.encode()),
        ("message_chat", ClientMessage::<ArenaInput, _>::Message(chat).encode()),
    ]
}

fn invalid_vectors() -> Vec<Invalid> {
    let item = |name: &str, direction: &str, hex: &str, reason: &str| Invalid {
        name: name.into(),
        direction: direction.into(),
        hex: hex.into(),
        reason: reason.into(),
    };
    let (c, s) = ("client_to_server", "server_to_client");
    vec![
        item("empty", c, "", "no message tag"),
        item("unknown_tag", c, "0901", "tag 9 is not a client message"),
        item("truncated_input", c, "000105", "the game's input ends early"),
        item("trailing", c, "012a00", "a byte after a whole ping"),
        item("bad_marker", c, "01fe", "254 is not a varint marker"),
        item("unknown_message_variant", c, "0205", "the arena's message has no variant 5"),
        item("truncated_chat", c, "02000568", "a chat line of 5 bytes with one present"),
        item("unknown_server_tag", s, "09", "tag 9 is not a server message"),
        item("unknown_event_variant", s, "042a09", "the arena's event has no variant 9"),
        item("full_without_pacing", s, "011e00", "a full snapshot that ends after its input seq"),
        item("truncated_full", s, "011e0000", "a full snapshot without its op count"),
        item("ops_beyond_message", s, "010100000a", "ten ops announced, none present"),
        item("unknown_component", s, "010100000100010163", "a spawn of component 99"),
        item(
            "delta_on_serde_component",
            s,
            "0101000001110105",
            "a DELTA (tag 17: cop 13) on component 4, a serde one",
        ),
        item("name_not_utf8", s, "01010000010001010501ff", "a spawn whose Name is not UTF-8"),
    ]
}

fn check_or_bless(name: &str, direction: &str, bytes: &[u8], meaning: serde_json::Value) {
    let path = dir().join(format!("{name}.json"));
    let vector = Vector {
        name: name.into(),
        direction: direction.into(),
        hex: hex(bytes),
        message: meaning,
    };
    if std::env::var_os("TICKWIRE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&vector).expect("json") + "\n";
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("vector directory");
        }
        std::fs::write(&path, text).expect("write vector");
        return;
    }
    let text =
        std::fs::read_to_string(&path).expect("vector file exists (TICKWIRE_BLESS=1 writes it)");
    let stored: Vector = serde_json::from_str(&text).expect("vector file parses");
    assert_eq!(stored.hex, vector.hex, "{name}: encoding changed");
    assert_eq!(stored.message, vector.message, "{name}: meaning changed");
}

#[test]
fn server_messages_match_their_vectors() {
    let (registry, schema) = arena();
    let mut replica = Replica::new(registry.clone());
    for (name, bytes) in server_vectors(&registry, &schema) {
        let meaning = inspect::server_message(&bytes, Some(&schema)).expect("inspects");
        check_or_bless(name, "server_to_client", &bytes, meaning);
        // The typed replica applies the same bytes in order.
        replica.apply(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(replica.get::<Score>(2).map(|s| s.0), Some(10), "caught up");
    assert!(!replica.has::<Color>(2), "the removed colour is gone");
    assert_eq!(replica.get::<Velocity>(1).map(|v| v.0), Some(Vec2::ZERO), "own velocity");
}

#[test]
fn client_messages_match_their_vectors() {
    let (_, schema) = arena();
    for (name, bytes) in client_vectors() {
        let meaning = inspect::client_message(&bytes, &schema).expect("inspects");
        check_or_bless(name, "client_to_server", &bytes, meaning);
        let decoded =
            protocol::decode_client::<ArenaInput, ArenaMessage>(&bytes, 64).expect("decodes");
        assert_eq!(decoded.encode(), bytes, "{name}: the typed value encodes to the same bytes");
    }
}

#[test]
fn the_welcome_schema_hash_covers_the_schema_bytes() {
    let (_, schema) = arena();
    let bytes = protocol::encode(&schema);
    assert_eq!(schema.hash(), protocol::schema::fnv1a64(&bytes));
    assert_eq!(protocol::schema::fnv1a64(b"a"), 0xaf63dc4c8601ec8c, "FNV-1a 64 reference value");
}

#[test]
fn invalid_bytes_fail_to_decode() {
    let (registry, schema) = arena();
    let path = dir().join("invalid.json");
    if std::env::var_os("TICKWIRE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&invalid_vectors()).expect("json") + "\n";
        std::fs::write(&path, text).expect("write vectors");
    }
    let stored: Vec<Invalid> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("invalid.json exists"))
            .expect("parses");
    assert_eq!(stored.len(), invalid_vectors().len());
    for item in stored {
        let bytes = unhex(&item.hex);
        let failed = match item.direction.as_str() {
            "client_to_server" => {
                protocol::decode_client::<ArenaInput, ArenaMessage>(&bytes, 64).is_err()
                    && inspect::client_message(&bytes, &schema).is_err()
            }
            _ => {
                // A replica holds no events: only their inspection knows the event type.
                let is_event = bytes.first() == Some(&protocol::tags::MSG_EVENT);
                (is_event || Replica::new(registry.clone()).apply(&bytes).is_err())
                    && inspect::server_message(&bytes, Some(&schema)).is_err()
            }
        };
        assert!(failed, "{} decoded but must not: {}", item.name, item.reason);
    }
}

/// A player's state in the duel: an enum component (the arena has none).
#[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
enum Stance {
    #[default]
    Idle,
    Running {
        speed: u8,
    },
    Down(u16, bool),
}

/// The duel's input: an enum.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
enum Command {
    #[default]
    Stay,
    Run {
        speed: u8,
    },
    Fall(u16),
}

impl GameInput for Command {
    fn samples() -> Vec<Command> {
        vec![Command::Stay, Command::Run { speed: 0 }, Command::Fall(0)]
    }
}

/// A second game for the vectors in `enums/`: an enum component and an enum input.
#[derive(Clone)]
struct Duel;

impl Game for Duel {
    type Input = Command;
    type Welcome = ();
    type Message = NoMessages;
    type Event = NoMessages;
    const NAME: &'static str = "duel";
    fn build(&mut self, game: &mut GameBuilder<'_>) {
        game.replicate_variants(&[
            Stance::Idle,
            Stance::Running { speed: 0 },
            Stance::Down(0, false),
        ]);
    }
    fn welcome(&self) {}
    fn join(&mut self, world: &mut World, _: &ClientInfo) -> Entity {
        world.spawn((Replicated, Stance::Idle)).id()
    }
}

/// The duel's server messages: its welcome, a full snapshot and a delta of enum values.
fn enum_server_vectors(registry: &Arc<Registry>, schema: &Schema) -> Vec<(&'static str, Vec<u8>)> {
    let welcome = Welcome {
        protocol_version: protocol::PROTOCOL_VERSION,
        client_id: 3,
        entity_id: 1,
        tick_rate_hz: 30,
        schema_hash: schema.hash(),
        schema: schema.clone(),
        game: protocol::encode(&()),
        resume_token: [7; 16],
    };
    let mut world = World::new();
    let ada = world.spawn((Replicated, Stance::Idle)).id();
    let bob = world.spawn((Replicated, Stance::Running { speed: 3 })).id();
    assign_ids(&mut world);
    let own = *world.get::<NetId>(ada).expect("id");
    let mut replication = Replication::new(registry.clone(), &mut world, 8);
    let mut view = ClientView::new(own);
    let mut send = |world: &mut World, tick: u32| {
        replication.begin_tick(world, Tick(tick));
        view.settle(false);
        let mut bytes = Vec::new();
        replication.build(&mut view, InputAck { seq: tick, pacing: 0 }, &mut bytes);
        bytes
    };
    let full = send(&mut world, 1);
    *world.get_mut::<Stance>(ada).expect("stance") = Stance::Down(300, true);
    *world.get_mut::<Stance>(bob).expect("stance") = Stance::Idle;
    let delta = send(&mut world, 2);
    vec![("enums/welcome", welcome.encode()), ("enums/full", full), ("enums/delta", delta)]
}

#[test]
fn enum_components_and_inputs_match_their_vectors() {
    let (registry, schema) = registry_of(&mut Duel).expect("the duel registers");
    let mut replica = Replica::new(registry.clone());
    let mut seen = Vec::new();
    for (name, bytes) in enum_server_vectors(&registry, &schema) {
        let meaning = inspect::server_message(&bytes, Some(&schema)).expect("inspects");
        check_or_bless(name, "server_to_client", &bytes, meaning);
        replica.apply(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        seen.push([1, 2].map(|id| replica.get::<Stance>(id)));
    }
    let running = Some(Stance::Running { speed: 3 });
    assert_eq!(seen[1], [Some(Stance::Idle), running], "the full snapshot");
    assert_eq!(seen[2], [Some(Stance::Down(300, true)), Some(Stance::Idle)], "the delta");
    let input = |seq, input| ClientMessage::<_, NoMessages>::Input { seq, input }.encode();
    let client = [
        ("enums/input_run", input(1, Command::Run { speed: 9 })),
        ("enums/input_fall", input(2, Command::Fall(1000))),
        ("enums/input_stay", input(3, Command::Stay)),
    ];
    for (name, bytes) in client {
        let meaning = inspect::client_message(&bytes, &schema).expect("inspects");
        check_or_bless(name, "client_to_server", &bytes, meaning);
        let decoded = protocol::decode_client::<Command, NoMessages>(&bytes, 64).expect("decodes");
        assert_eq!(decoded.encode(), bytes, "{name}: the typed value encodes to the same bytes");
    }
}
