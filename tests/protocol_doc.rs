//! The byte-by-byte examples of `docs/protocol.md` against the real encoder, so the text
//! cannot drift from the code.
//!
//! Every fenced block of the spec that opens with ```` ```hex example=NAME ```` is one
//! message. Each line's bytes are its leading run of two-digit hex numbers, separated by
//! single spaces and ended by the end of the line or by two spaces (what follows is the
//! annotation); a line that does not start so is annotation only. For each example the test
//! builds the same message in Rust (the welcome and client messages from typed values, the
//! snapshots by the real replication of a small arena world), compares the bytes, and decodes
//! the spec's bytes back: client messages to the typed values, the snapshots into a typed
//! replica whose entities must hold what the world held. The JSON vector section 12 shows must
//! be the golden vector file it names.

use bevy_ecs::prelude::*;
use glam::Vec2;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tickwire::arena::{
    Arena, ArenaConfig, ArenaEvent, ArenaInput, ArenaMessage, ArenaWelcome, Color, Name, Orb,
    Position, Radius, Score, Velocity,
};
use tickwire::protocol::{self, ClientMessage, Control, Pong, Schema, Welcome};
use tickwire::replication::{ClientView, InputAck, Replication};
use tickwire::{NetId, Registry, Replica, Replicated, Tick, registry_of};

/// The opening of a fenced block that holds one example, before its name.
const MARKER: &str = "```hex example=";

fn spec_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/protocol.md");
    std::fs::read_to_string(&path).expect("docs/protocol.md is readable")
}

/// Every example of the spec, by name, with the line each starts on.
fn examples(text: &str) -> BTreeMap<String, (usize, Vec<u8>)> {
    let mut found = BTreeMap::new();
    let mut lines = text.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        let Some(name) = line.trim().strip_prefix(MARKER) else { continue };
        let mut bytes = Vec::new();
        for (_, line) in lines.by_ref().take_while(|(_, line)| line.trim() != "```") {
            bytes.extend(line_bytes(line));
        }
        let previous = found.insert(name.trim().to_owned(), (number + 1, bytes));
        assert!(previous.is_none(), "docs/protocol.md: example {name} is given twice");
    }
    found
}

/// The bytes of one line of an example: its leading hex numbers (see the module docs).
fn line_bytes(line: &str) -> Vec<u8> {
    let line = line.trim_start();
    let run = &line[..line.find("  ").unwrap_or(line.len())];
    let pairs: Vec<&str> = run.split(' ').collect();
    if !pairs.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit())) {
        // Annotation only (`ad hoc` is words, not bytes).
        return Vec::new();
    }
    pairs.iter().map(|p| u8::from_str_radix(p, 16).expect("hex digits")).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// The spec's bytes of `name`, which must equal `expected` (the real encoder's).
fn check(examples: &BTreeMap<String, (usize, Vec<u8>)>, name: &str, expected: &[u8]) -> Vec<u8> {
    let (line, bytes) =
        examples.get(name).unwrap_or_else(|| panic!("docs/protocol.md has no example {name}"));
    assert_eq!(
        hex(bytes),
        hex(expected),
        "docs/protocol.md example {name} (line {line}) differs from the encoder (left: the spec)"
    );
    bytes.clone()
}

fn arena() -> (Arc<Registry>, Schema) {
    let config = ArenaConfig { size: 200.0, view_radius: 200.0, ..ArenaConfig::default() };
    registry_of(&mut Arena::new(config)).expect("the arena registers")
}

/// The welcome of §11: the golden vector's (`tests/vectors/welcome.json`).
fn welcome(schema: &Schema) -> Welcome {
    let game = protocol::encode(&ArenaWelcome {
        world_width: 200.0,
        world_height: 150.5,
        view_radius: 30.0,
        movement: ArenaConfig::default().movement,
    });
    Welcome {
        protocol_version: protocol::PROTOCOL_VERSION,
        client_id: 7,
        entity_id: OWN,
        tick_rate_hz: 30,
        schema_hash: schema.hash(),
        schema: schema.clone(),
        game,
        resume_token: *b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
    }
}

/// The own player's wire id in §11's examples (the welcome's `entity_id`).
const OWN: u32 = 1;

/// An entity of the example world with the wire id the spec gives it.
fn spawn_at(world: &mut World, id: u32, parts: impl Bundle) -> Entity {
    world.spawn((Replicated, NetId { id, incarnation: id }, parts)).id()
}

fn orb(at: Vec2, color: [u8; 3], score: u32) -> impl Bundle {
    (Orb, Position(at), Radius(26.0 / 64.0), Color(color), Score(score))
}

/// §11's snapshots: the Full of tick 1000 and the Delta of tick 1001 sent to the own player,
/// built by the real replication; with the world after each, to check a replica against.
struct Snapshots {
    full: Vec<u8>,
    delta: Vec<u8>,
    idle: Vec<u8>,
}

fn snapshots(registry: &Arc<Registry>) -> Snapshots {
    let mut world = World::new();
    let own_parts = (Position(Vec2::new(100.0, 75.0)), Velocity(Vec2::new(1.0, -0.5)));
    let own = spawn_at(
        &mut world,
        OWN,
        (own_parts, Radius(1.0), Color([200, 60, 60]), Score(0), Name("me".into())),
    );
    let eaten = spawn_at(&mut world, 2, orb(Vec2::ZERO, [120, 220, 140], 1));
    let gone = spawn_at(&mut world, 300, orb(Vec2::new(0.5, 0.25), [120, 220, 140], 1));
    let scored = spawn_at(&mut world, 301, orb(Vec2::new(1.0, 0.0), [240, 200, 60], 3));
    let own_id = *world.get::<NetId>(own).expect("id");
    let mut replication = Replication::new(registry.clone(), &mut world, 8);
    let mut view = ClientView::new(own_id);
    let mut send = |world: &mut World, tick: u32, seq: u32, pacing: i32| {
        replication.begin_tick(world, Tick(tick));
        view.settle(false);
        let mut bytes = Vec::new();
        replication.build(&mut view, InputAck { seq, pacing }, &mut bytes);
        bytes
    };
    let full = send(&mut world, 1000, 7, 2);
    world.get_mut::<Velocity>(own).expect("v").0.x += 1.0 / 64.0;
    world.get_mut::<Position>(own).expect("p").0 += Vec2::new(1.0, -1.0) / 64.0;
    world.get_mut::<Score>(eaten).expect("s").0 = 5;
    world.entity_mut(eaten).remove::<Orb>();
    world.despawn(gone);
    world.get_mut::<Score>(scored).expect("s").0 = 9;
    let delta = send(&mut world, 1001, 8, -4);
    let idle = send(&mut world, 1002, 8, 0);
    Snapshots { full, delta, idle }
}

/// What a replica holds of one entity of the example world.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    at: (f32, f32),
    velocity: Option<(f32, f32)>,
    radius: f32,
    color: [u8; 3],
    score: u32,
    name: Option<String>,
    orb: bool,
}

impl Held {
    fn me() -> Held {
        let (at, velocity, radius, name) = ((0.0, 0.0), None, 0.0, Some("me".into()));
        Held { at, velocity, radius, color: [200, 60, 60], score: 0, name, orb: false }
    }

    fn orb(at: (f32, f32), color: [u8; 3], score: u32) -> Held {
        let (velocity, radius, name) = (None, 26.0 / 64.0, None);
        Held { at, velocity, radius, color, score, name, orb: true }
    }
}

fn held(replica: &Replica, id: u32) -> Held {
    let pair = |v: Vec2| (v.x, v.y);
    Held {
        at: pair(replica.get::<Position>(id).expect("a position").0),
        velocity: replica.get::<Velocity>(id).map(|v| pair(v.0)),
        radius: replica.get::<Radius>(id).expect("a radius").0,
        color: replica.get::<Color>(id).expect("a colour").0,
        score: replica.get::<Score>(id).expect("a score").0,
        name: replica.get::<Name>(id).map(|n| n.0),
        orb: replica.has::<Orb>(id),
    }
}

#[test]
fn the_examples_are_what_the_server_sends_and_decode_back() {
    let text = spec_text();
    let examples = examples(&text);
    let (registry, schema) = arena();

    let welcome = welcome(&schema);
    let bytes = check(&examples, "welcome", &welcome.encode());
    match protocol::decode_control(&bytes).expect("the spec's welcome decodes") {
        Some(Control::Welcome(decoded)) => assert_eq!(*decoded, welcome),
        other => panic!("the spec's welcome decodes as {other:?}"),
    }
    let vector = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/welcome.json"),
    )
    .expect("welcome.json");
    let compact: String = hex(&bytes).split(' ').collect();
    assert!(
        vector.contains(&format!("\"hex\": \"{compact}\"")),
        "the spec's welcome is welcome.json's"
    );
    let schema_bytes = protocol::encode(&schema).len();
    assert!(
        text.contains(&format!("schema, {schema_bytes} bytes")),
        "the spec gives the schema's length ({schema_bytes} bytes)"
    );

    // The snapshots: the spec's bytes applied in order to a replica leave it holding what
    // the world held.
    let built = snapshots(&registry);
    let mut replica = Replica::new(registry.clone());
    replica.apply(&bytes).expect("the welcome applies");
    let full = check(&examples, "full", &built.full);
    replica.apply(&full).expect("the spec's Full applies");
    assert_eq!(replica.ids().collect::<Vec<_>>(), vec![1, 2, 300, 301]);
    let own = Held { at: (100.0, 75.0), velocity: Some((1.0, -0.5)), radius: 1.0, ..Held::me() };
    assert_eq!(held(&replica, OWN), own);
    assert_eq!(held(&replica, 2), Held::orb((0.0, 0.0), [120, 220, 140], 1));
    assert_eq!(held(&replica, 300), Held::orb((0.5, 0.25), [120, 220, 140], 1));
    assert_eq!(held(&replica, 301), Held::orb((1.0, 0.0), [240, 200, 60], 3));
    let delta = check(&examples, "delta", &built.delta);
    replica.apply(&delta).expect("the spec's Delta applies to the spec's Full");
    assert_eq!(replica.ids().collect::<Vec<_>>(), vec![1, 2, 301], "300 despawned");
    let moved = (100.0 + 1.0 / 64.0, 75.0 - 1.0 / 64.0);
    assert_eq!(held(&replica, OWN), Held { at: moved, velocity: Some((65.0 / 64.0, -0.5)), ..own });
    let eaten = Held { orb: false, ..Held::orb((0.0, 0.0), [120, 220, 140], 5) };
    assert_eq!(held(&replica, 2), eaten);
    assert_eq!(held(&replica, 301), Held::orb((1.0, 0.0), [240, 200, 60], 9));
    let idle = check(&examples, "delta_idle", &built.idle);
    replica.apply(&idle).expect("the idle delta applies");

    let input = ArenaInput { move_x: -127, move_y: 127, buttons: 1 };
    let client: [(&str, ClientMessage<ArenaInput, ArenaMessage>); 3] = [
        ("input", ClientMessage::Input { seq: 300, input }),
        ("ping", ClientMessage::Ping { id: 4_000_000_000 }),
        ("message", ClientMessage::Message(ArenaMessage::Chat { text: "hi".into() })),
    ];
    for (name, message) in client {
        let bytes = check(&examples, name, &message.encode());
        let decoded = protocol::decode_client::<ArenaInput, ArenaMessage>(&bytes, 64)
            .unwrap_or_else(|e| panic!("the spec's {name} does not decode: {e}"));
        assert_eq!(decoded, message, "{name}");
    }

    let pong = Pong { id: 4_000_000_000, tick: 42, clients: 5 };
    let bytes = check(&examples, "pong", &pong.encode());
    assert_eq!(protocol::decode_control(&bytes).expect("decodes"), Some(Control::Pong(pong)));
    let milestone = ArenaEvent::Milestone { name: "bob".into(), score: 50 };
    let bytes = check(&examples, "event", &protocol::encode_event(42, &milestone));
    let Some(Control::Event { tick: 42, bytes }) = protocol::decode_control(&bytes).expect("ok")
    else {
        panic!("the spec's event is not an event of tick 42");
    };
    assert_eq!(protocol::decode_exact::<ArenaEvent>(&bytes, 64).expect("decodes"), milestone);

    let checked = ["welcome", "full", "delta", "delta_idle", "input", "ping", "message"];
    let others = ["pong", "event"];
    let unchecked: Vec<&String> = examples
        .keys()
        .filter(|k| !checked.contains(&k.as_str()) && !others.contains(&k.as_str()))
        .collect();
    assert!(unchecked.is_empty(), "examples this test does not check: {unchecked:?}");
}

#[test]
fn the_vector_shown_in_section_12_is_the_golden_vector() {
    let text = spec_text();
    let section = &text[text.find("## 12. Golden vectors").expect("section 12")..];
    let block = section.split("```json\n").nth(1).and_then(|rest| rest.split("```").next());
    let shown: serde_json::Value =
        serde_json::from_str(block.expect("a json block")).expect("section 12's JSON parses");
    let name = shown["name"].as_str().expect("a name");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/vectors/{name}.json"));
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the vector")).expect("parses");
    assert_eq!(shown, file, "section 12 shows tests/vectors/{name}.json as it is");
}

#[test]
fn the_reader_takes_bytes_and_leaves_annotations() {
    assert_eq!(line_bytes("01 fb e8 03 07    Full, tick 1000"), vec![1, 0xfb, 0xe8, 3, 7]);
    assert_eq!(line_bytes("  00 00 00"), vec![0, 0, 0]);
    assert_eq!(line_bytes("                        schema, 476 bytes:"), Vec::<u8>::new());
    assert_eq!(line_bytes("ad hoc words"), Vec::<u8>::new());
    assert_eq!(line_bytes("02 01 08 00"), vec![2, 1, 8, 0]);
    let text = "x\n```hex example=a\n01 02  one\n  03\n```\n```hex example=b\nff\n```\n";
    let found = examples(text);
    assert_eq!(found["a"], (2, vec![1, 2, 3]));
    assert_eq!(found["b"], (6, vec![0xff]));
}
