//! The room does not keep memory for clients that left: thousands of joins and leaves, with
//! every client's snapshot built every tick, leave the heap's live bytes where they were once
//! the room had warmed up. A counting allocator measures the bytes this process holds, so the
//! check is exact where the soak's resident memory (`benches/soak.sh`) also counts what the
//! allocator keeps for reuse.
//!
//! No sockets and no clock: the test owns the ticks, and its churn is seeded.

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use std::alloc::System;
use std::time::{Duration, Instant};
use tickwire::arena::{Arena, ArenaConfig, ArenaInput};
use tickwire::replication::ClientView;
use tickwire::{ClientInfo, Room, RoomSettings, Tick};

// Counts every allocation of this test binary (the crate forbids `unsafe`, so the counting
// allocator comes from `stats_alloc`).
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed, by anyone in this test binary.
fn live_bytes() -> i64 {
    // A reallocation counts its growth as allocated and its shrinking as deallocated.
    let stats = ALLOCATOR.stats();
    stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
}

/// Players at any moment.
const CLIENTS: usize = 100;
/// A player leaves with probability 1 in this many each tick (a mean lifetime of 1 s at 30
/// Hz), and a new one joins in its place.
const LEAVE_ONE_IN: u32 = 30;
/// Ticks before measuring: the world, its storages and the buffers reach their working size.
const WARM_UP_TICKS: u32 = 450;
/// Ticks measured after the warm-up, and how often live bytes are sampled in them.
const MEASURED_TICKS: u32 = 1_200;
const SAMPLE_EVERY: u32 = 300;
/// Most the live bytes may drift between the first and the last samples. A leak of even
/// 64 bytes per departed client (about 5,000 of them) or per tick would exceed it.
const MAX_DRIFT_BYTES: i64 = 128 * 1024;

/// One connected player as the tick loop holds it.
struct Player {
    info: ClientInfo,
    entity: bevy_ecs::entity::Entity,
    view: ClientView,
}

#[test]
fn thousands_of_joins_and_leaves_leave_live_memory_flat() {
    let arena = ArenaConfig { size: 300.0, view_radius: 30.0, orbs: 2_000, ..Default::default() };
    let mut room = Room::new(Arena::new(arena), RoomSettings::default()).expect("arena");
    let mut rng = fastrand::Rng::with_seed(10);
    let mut next_id = 0u32;
    let mut join = |room: &mut Room<Arena>| {
        next_id += 1;
        let info = ClientInfo { client_id: next_id, query: Vec::new(), identity: None };
        let (entity, own) = room.join(&info);
        Player { info, entity, view: ClientView::new(own) }
    };
    let mut players: Vec<Player> = (0..CLIENTS).map(|_| join(&mut room)).collect();
    let mut snapshot = Vec::new();
    let mut samples = Vec::new();
    let mut departed = 0u32;
    let start = Instant::now();
    for t in 1..=WARM_UP_TICKS + MEASURED_TICKS {
        let (tick, now) = (Tick(t), start + Duration::from_micros(33_333) * t);
        for player in &mut players {
            if rng.u32(..LEAVE_ONE_IN) == 0 {
                room.leave(&player.info, player.entity);
                *player = join(&mut room);
                departed += 1;
            }
            let input = ArenaInput { move_x: rng.i8(..), move_y: rng.i8(..), buttons: 0 };
            room.push_input(player.entity, t, input, now);
        }
        room.step(tick, now);
        // The tick loop takes the game's events every tick (to queue them for clients).
        room.take_events();
        for player in &mut players {
            player.view.settle(false);
            snapshot.clear();
            room.build(&mut player.view, player.entity, &mut snapshot);
        }
        if t >= WARM_UP_TICKS && (t - WARM_UP_TICKS).is_multiple_of(SAMPLE_EVERY) {
            samples.push(live_bytes());
        }
    }
    eprintln!("{departed} players left; live bytes every {SAMPLE_EVERY} ticks: {samples:?}");
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    assert!(departed > 4_000, "{departed}");
    assert!(
        last - first <= MAX_DRIFT_BYTES,
        "live bytes grew by {} over {MEASURED_TICKS} ticks: {samples:?}",
        last - first
    );
}
