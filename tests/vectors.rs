//! Golden vectors: the bytes of every message type with their decoded meaning.
//!
//! The same files are decoded by `client-demo/protocol.js` under `node --test`, so the Rust
//! encoder and the JavaScript decoder cannot drift apart. Run with `TICKWIRE_BLESS=1` to
//! rewrite the files after an intended wire change (and bump the protocol version).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tickwire::protocol::{
    self, ClientMessage, DeltaSnapshot, EntityKind, EntityState, FullSnapshot, Input,
    MovementParams, Op, Ping, Pong, ServerMessage, Welcome,
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

fn player(x: i32, y: i32, name: &str) -> EntityState {
    EntityState {
        kind: EntityKind::Player,
        x,
        y,
        radius: 64,
        color: [230, 80, 40],
        score: 3,
        name: name.into(),
    }
}

fn server_vectors() -> Vec<(&'static str, ServerMessage)> {
    vec![
        (
            "welcome",
            ServerMessage::Welcome(Welcome {
                protocol_version: 1,
                client_id: 7,
                entity_id: 300,
                tick_rate_hz: 30,
                world_width: 200.0,
                world_height: 150.5,
                view_radius: 30.0,
                movement: MovementParams {
                    accel: 60.0,
                    boost_accel: 110.0,
                    friction: 4.0,
                    max_speed: 12.0,
                    boost_max_speed: 20.0,
                    player_radius: 1.0,
                },
            }),
        ),
        (
            "full",
            ServerMessage::Full(FullSnapshot {
                tick: 70_000,
                last_input_seq: 12,
                ops: vec![
                    Op::Own { vx: -700, vy: 5 },
                    Op::Spawn { id_gap: 3, entity: player(6400, 3200, "Zoë") },
                    Op::Spawn {
                        id_gap: 300,
                        entity: EntityState {
                            kind: EntityKind::Orb,
                            x: 12_800,
                            y: 64,
                            radius: 26,
                            color: [250, 220, 60],
                            score: 1,
                            name: String::new(),
                        },
                    },
                ],
            }),
        ),
        (
            "delta_idle",
            ServerMessage::Delta(DeltaSnapshot { tick_delta: 1, input_seq_delta: 0, ops: vec![] }),
        ),
        (
            "delta_moves",
            ServerMessage::Delta(DeltaSnapshot {
                tick_delta: 1,
                input_seq_delta: 1,
                ops: vec![
                    Op::Move { id_gap: 1, dx: 17, dy: -17 },
                    Op::Move { id_gap: 1, dx: -64, dy: 0 },
                    Op::Move { id_gap: 2, dx: 0, dy: 63 },
                ],
            }),
        ),
        (
            "delta_mixed",
            ServerMessage::Delta(DeltaSnapshot {
                tick_delta: 3,
                input_seq_delta: 260,
                ops: vec![
                    Op::Own { vx: 768, vy: -1280 },
                    Op::Update { id_gap: 2, dx: 130, dy: -126, score: 70_000 },
                    Op::Despawn { id_gap: 251 },
                    Op::Spawn { id_gap: 65_536, entity: player(-5, 1_000_000, "") },
                    Op::Move { id_gap: 1, dx: i32::MIN, dy: i32::MAX },
                ],
            }),
        ),
        ("pong", ServerMessage::Pong(Pong { id: 4_000_000_000, tick: 251, players: 1000 })),
    ]
}

fn client_vectors() -> Vec<(&'static str, ClientMessage)> {
    vec![
        ("input", ClientMessage::Input(Input { seq: 1, move_x: 127, move_y: -127, buttons: 0 })),
        (
            "input_boost",
            ClientMessage::Input(Input { seq: 70_000, move_x: -90, move_y: 0, buttons: 1 }),
        ),
        ("ping", ClientMessage::Ping(Ping { id: 42 })),
    ]
}

fn invalid_vectors() -> Vec<Invalid> {
    let item = |name: &str, direction: &str, bytes: &[u8], reason: &str| Invalid {
        name: name.into(),
        direction: direction.into(),
        hex: hex(bytes),
        reason: reason.into(),
    };
    vec![
        item("empty", "client_to_server", &[], "no variant index"),
        item(
            "unknown_variant",
            "client_to_server",
            &[9, 1],
            "variant index 9 is not a ClientMessage",
        ),
        item("truncated_input", "client_to_server", &[0, 1, 5], "input ends before its fields"),
        item("trailing", "client_to_server", &[1, 42, 0], "a byte after a whole ping"),
        item(
            "bad_marker",
            "client_to_server",
            &[1, 254, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "u128 marker for a u32",
        ),
        item(
            "truncated_delta",
            "server_to_client",
            &[2, 1, 0, 2, 1, 1],
            "ops promises 2, ends inside the first",
        ),
        item(
            "bad_utf8",
            "server_to_client",
            &[1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff],
            "name is not UTF-8",
        ),
    ]
}

fn check_or_bless<T>(name: &str, direction: &str, message: &T)
where
    T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = protocol::encode(message);
    let path = dir().join(format!("{name}.json"));
    let vector = Vector {
        name: name.into(),
        direction: direction.into(),
        hex: hex(&bytes),
        message: serde_json::to_value(message).expect("wire types map to JSON"),
    };
    if std::env::var_os("TICKWIRE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&vector).expect("json") + "\n";
        std::fs::write(&path, text).expect("write vector");
        return;
    }
    let text = std::fs::read_to_string(&path).expect("vector file exists");
    let stored: Vector = serde_json::from_str(&text).expect("vector file parses");
    assert_eq!(stored.hex, vector.hex, "{name}: encoding changed");
    let decoded: T = serde_json::from_value(stored.message).expect("vector meaning parses");
    assert_eq!(&decoded, message, "{name}: meaning changed");
}

#[test]
fn server_messages_match_their_vectors() {
    for (name, message) in server_vectors() {
        check_or_bless(name, "server_to_client", &message);
        let decoded =
            protocol::decode_server(&protocol::encode(&message), 1 << 20).expect("decodes");
        assert_eq!(decoded, message, "{name}: round trip");
    }
}

#[test]
fn client_messages_match_their_vectors() {
    for (name, message) in client_vectors() {
        check_or_bless(name, "client_to_server", &message);
        let decoded = protocol::decode_client(&protocol::encode(&message)).expect("decodes");
        assert_eq!(decoded, message, "{name}: round trip");
    }
}

#[test]
fn idle_delta_is_four_bytes() {
    let idle =
        ServerMessage::Delta(DeltaSnapshot { tick_delta: 1, input_seq_delta: 0, ops: vec![] });
    assert_eq!(protocol::encode(&idle), [2, 1, 0, 0]);
}

#[test]
fn invalid_bytes_fail_to_decode() {
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
            "client_to_server" => protocol::decode_client(&bytes).is_err(),
            _ => protocol::decode_server(&bytes, 1 << 20).is_err(),
        };
        assert!(failed, "{} decoded but must not: {}", item.name, item.reason);
    }
}
