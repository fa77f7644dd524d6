//! Message encode and decode: what one input, one welcome and one big snapshot cost.
//!
//! - `encode/input`, `encode/welcome`: an input message and the arena's welcome (with its
//!   schema) encoded into a new `Vec`;
//! - `decode_client/input`: `protocol::decode_client`, as the server reads every input frame;
//! - `apply/delta_500_moves`: `Replica::apply` of the delta a client is sent when the 500
//!   players of an all-visible world of 1,250 entities (500 players, 750 orbs) have moved;
//! - `apply/full_1250_spawns`: `Replica::apply` of that world's full snapshot, what a client
//!   decodes when it joins;
//! - `inspect/delta_500_moves`: the same delta through the schema-driven JSON decoder (what a
//!   generic client does), for comparison with the typed replica.
//!
//! Both snapshots come from the real replication of a stepped arena. Message sizes are
//! printed once. Run: `cargo bench --bench protocol`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tickwire::arena::{Arena, ArenaConfig, ArenaInput, ArenaMessage};
use tickwire::protocol::{self, ClientMessage, inspect};
use tickwire::replication::ClientView;
use tickwire::{ClientInfo, NetId, Replica, Room, RoomSettings, Tick};

/// Players in the snapshots' world; all of them move.
const PLAYERS: usize = 500;
/// Orbs beside them.
const ORBS: usize = 750;

fn input() -> ClientMessage<ArenaInput, ArenaMessage> {
    ClientMessage::Input { seq: 123_456, input: ArenaInput { move_x: 90, move_y: -90, buttons: 1 } }
}

/// The arena world, its first client's welcome, a full snapshot of it, and the delta that
/// follows it, after a tick in which every player moved.
fn world() -> (Room<Arena>, Vec<u8>, Vec<u8>, Vec<u8>) {
    let config =
        ArenaConfig { size: 632.0, view_radius: 632.0, orbs: ORBS, ..ArenaConfig::default() };
    let settings = RoomSettings { history_ticks: 8, ..RoomSettings::default() };
    let mut room = Room::new(Arena::new(config), settings).expect("arena");
    let players: Vec<_> = (0..PLAYERS)
        .map(|n| room.join(&ClientInfo { client_id: n as u32, query: Vec::new(), identity: None }))
        .collect();
    let steer = |room: &mut Room<Arena>, seq: u32| {
        for (n, (entity, _)) in players.iter().enumerate() {
            let heading = n as f32 * 2.399 + seq as f32 * 0.02;
            let input = ArenaInput {
                move_x: (heading.cos() * 127.0) as i8,
                move_y: (heading.sin() * 127.0) as i8,
                buttons: 0,
            };
            room.push_input(*entity, seq, input, Instant::now());
        }
    };
    let (own_entity, own): (_, NetId) = players[0];
    let welcome = room.welcome(1, own, [7; 16]).encode();
    let mut view = ClientView::new(own);
    let mut full = Vec::new();
    let mut delta = Vec::new();
    for tick in 1..=10 {
        steer(&mut room, tick);
        room.step(Tick(tick), Instant::now());
        view.settle(false);
        delta.clear();
        room.build(&mut view, own_entity, &mut delta);
        if tick == 9 {
            // What a client joining now gets: the state the next delta applies to.
            room.build(&mut ClientView::new(own), own_entity, &mut full);
        }
    }
    (room, welcome, full, delta)
}

fn messages(c: &mut Criterion) {
    let (room, welcome, full, delta) = world();
    let registry = room.registry().clone();
    let schema = room.schema().clone();
    let encoded_input = input().encode();
    println!(
        "sizes: input {} bytes, welcome {} bytes, full ({} entities) {} bytes, delta ({PLAYERS} \
         moves) {} bytes",
        encoded_input.len(),
        welcome.len(),
        PLAYERS + ORBS,
        full.len(),
        delta.len()
    );
    let mut group = c.benchmark_group("protocol");
    group.bench_function("encode/input", |b| b.iter(|| black_box(input().encode())));
    group.bench_function("encode/welcome", |b| {
        b.iter(|| black_box(room.welcome(1, NetId { id: 1, incarnation: 1 }, [7; 16]).encode()))
    });
    group.bench_function("decode_client/input", |b| {
        b.iter(|| {
            black_box(protocol::decode_client::<ArenaInput, ArenaMessage>(&encoded_input, 64))
        })
    });
    let holding_full = || {
        let mut replica = Replica::new(registry.clone());
        replica.own_id = 1;
        replica.apply(&full).expect("the full snapshot applies");
        replica
    };
    group.throughput(Throughput::Elements(PLAYERS as u64));
    group.bench_function("apply/delta_500_moves", |b| {
        // A fresh replica holding the full snapshot for every delta (built untimed).
        b.iter_batched_ref(
            holding_full,
            |replica| replica.apply(&delta).expect("the delta applies"),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("inspect/delta_500_moves", |b| {
        b.iter(|| black_box(inspect::server_message(&delta, Some(&schema))))
    });
    group.throughput(Throughput::Elements((PLAYERS + ORBS) as u64));
    group.bench_function("apply/full_1250_spawns", |b| {
        let mut replica = Replica::new(registry.clone());
        b.iter(|| black_box(replica.apply(&full)))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = messages
}
criterion_main!(benches);
