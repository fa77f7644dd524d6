//! Message encode and decode: what one input, one welcome and one big snapshot cost.
//!
//! - `encode/input`, `encode/welcome`: `protocol::encode` (serde + bincode into a new `Vec`);
//! - `decode_client/input`: `protocol::decode_client`, as the server reads every input frame;
//! - `apply/delta_500_moves`: `Replica::apply` of a delta with an own-velocity op and 500 Move
//!   ops (every entity of a 1,250-entity world that moved: 500 players among 750 orbs);
//! - `apply/full_500_spawns`: `Replica::apply` of a full snapshot with 500 Spawns (100 named
//!   players, 400 orbs), what a client decodes when it joins;
//! - `decode_server/delta_500_moves`: the same delta through the serde decoder, for comparison
//!   with the replica's streaming reader.
//!
//! Message sizes are printed once. Run: `cargo bench --bench protocol`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tickwire::config::{DEFAULT_TICK_RATE_HZ, WorldConfig};
use tickwire::protocol::{
    self, ClientMessage, DeltaSnapshot, EntityKind, EntityState, FullSnapshot, Input, Op,
    PROTOCOL_VERSION, ServerMessage, Welcome,
};
use tickwire::replication::Replica;

/// Ops in the big snapshots.
const OPS: usize = 500;
/// Side of the world the snapshot entities live in, wire units (632 world units).
const WORLD_WIRE: i32 = 632 * 64;

fn input() -> ClientMessage {
    ClientMessage::Input(Input { seq: 123_456, move_x: 90, move_y: -90, buttons: 1 })
}

fn welcome() -> ServerMessage {
    let world = WorldConfig::default();
    ServerMessage::Welcome(Welcome {
        protocol_version: PROTOCOL_VERSION,
        client_id: 4_321,
        entity_id: 217,
        tick_rate_hz: DEFAULT_TICK_RATE_HZ,
        world_width: world.size,
        world_height: world.size,
        view_radius: world.view_radius,
        movement: world.movement,
    })
}

/// The ids of the snapshots' entities: ascending, gaps of 1 to 4 (the 500 movers of a world of
/// about 1,250 entities).
fn ids(rng: &mut fastrand::Rng) -> Vec<u32> {
    let mut id = 0;
    (0..OPS)
        .map(|_| {
            id += rng.u32(1..=4);
            id
        })
        .collect()
}

/// A full snapshot spawning every id: one in five a named player, the rest orbs.
fn full(ids: &[u32], rng: &mut fastrand::Rng) -> ServerMessage {
    let mut ops = vec![Op::Own { vx: 512, vy: -300 }];
    let mut previous = 0;
    for (n, &id) in ids.iter().enumerate() {
        let player = n.is_multiple_of(5);
        let entity = EntityState {
            kind: if player { EntityKind::Player } else { EntityKind::Orb },
            x: rng.i32(0..WORLD_WIRE),
            y: rng.i32(0..WORLD_WIRE),
            radius: if player { 64 } else { 22 },
            color: [rng.u8(..), rng.u8(..), rng.u8(..)],
            score: if player { rng.u32(0..300) } else { rng.u32(1..=3) },
            name: if player { format!("player{n}") } else { String::new() },
        };
        ops.push(Op::Spawn { id_gap: id - previous, entity });
        previous = id;
    }
    ServerMessage::Full(FullSnapshot { tick: 90_000, last_input_seq: 89_950, ops })
}

/// A delta moving every id by one tick's worth of movement (up to 20 units/s at 30 Hz).
fn delta(ids: &[u32], rng: &mut fastrand::Rng) -> ServerMessage {
    let mut ops = vec![Op::Own { vx: 520, vy: -290 }];
    let mut previous = 0;
    for &id in ids {
        ops.push(Op::Move { id_gap: id - previous, dx: rng.i32(-42..=42), dy: rng.i32(-42..=42) });
        previous = id;
    }
    ServerMessage::Delta(DeltaSnapshot { tick_delta: 1, input_seq_delta: 1, ops })
}

fn messages(c: &mut Criterion) {
    let mut rng = fastrand::Rng::with_seed(0x7157);
    let ids = ids(&mut rng);
    let (input, welcome) = (input(), welcome());
    let full = protocol::encode(&full(&ids, &mut rng));
    let delta = protocol::encode(&delta(&ids, &mut rng));
    let input_bytes = protocol::encode(&input);
    let welcome_bytes = protocol::encode(&welcome);
    println!(
        "bytes: input {}, welcome {}, delta with {OPS} moves {} ({:.2} per move), full with \
         {OPS} spawns {} ({:.2} per spawn)",
        input_bytes.len(),
        welcome_bytes.len(),
        delta.len(),
        delta.len() as f64 / OPS as f64,
        full.len(),
        full.len() as f64 / OPS as f64,
    );

    let mut group = c.benchmark_group("protocol");
    group.throughput(Throughput::Bytes(input_bytes.len() as u64));
    group.bench_function("encode/input", |b| b.iter(|| protocol::encode(black_box(&input))));
    group.bench_function("decode_client/input", |b| {
        b.iter(|| protocol::decode_client(black_box(&input_bytes)).is_ok())
    });
    group.throughput(Throughput::Bytes(welcome_bytes.len() as u64));
    group.bench_function("encode/welcome", |b| b.iter(|| protocol::encode(black_box(&welcome))));

    group.throughput(Throughput::Elements(OPS as u64));
    let mut replica = Replica::new();
    replica.apply(&full).expect("the full snapshot applies");
    replica.apply(&delta).expect("the delta applies");
    assert!(protocol::decode_client(&input_bytes).is_ok(), "the input decodes");
    group.bench_function("apply/delta_500_moves", |b| {
        b.iter(|| replica.apply(black_box(&delta)).is_ok())
    });
    group.bench_function("apply/full_500_spawns", |b| {
        b.iter(|| replica.apply(black_box(&full)).is_ok())
    });
    group.bench_function("decode_server/delta_500_moves", |b| {
        b.iter(|| protocol::decode_server(black_box(&delta), delta.len()).is_ok())
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = messages
}
criterion_main!(benches);
