//! The arena's simulation half of a tick: `Room::simulate` at 100, 1,000 and 10,000 entities.
//!
//! The world keeps the default arena's mix and density as it grows: 100 players and 150 orbs
//! in 200 × 200 units is two players to three orbs, one entity per 160 square units, so the
//! side grows with the square root of the entity count. Every player gets a fresh input each
//! tick, steering along a slowly turning heading so it keeps moving, meets walls, other
//! players and orbs. Two figures per size:
//!
//! - `step`: `Room::simulate` alone (inputs are queued outside the timed region);
//! - `inputs+step`: one `Room::push_input` per player and the simulation, as the tick loop
//!   pays it.
//!
//! Replication's capture is timed by `benches/replication.rs`. Run: `cargo bench --bench sim`.

use bevy_ecs::entity::Entity;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tickwire::arena::{Arena, ArenaConfig, ArenaInput, ArenaStats};
use tickwire::{ClientInfo, Room, RoomSettings, Tick};

/// Entity counts benchmarked.
const SIZES: [usize; 3] = [100, 1_000, 10_000];
/// Square world units per entity: the default arena (200 × 200) with 100 players and 150 orbs.
const AREA_PER_ENTITY: f32 = 200.0 * 200.0 / 250.0;
/// Ticks run before measuring, so orbs have been eaten and respawned and speeds are steady.
const SETTLE_TICKS: u32 = 30;

/// A world of `entities` (two players to three orbs) whose players all keep moving.
struct World {
    room: Room<Arena>,
    players: Vec<Entity>,
    tick: Tick,
    config: ArenaConfig,
}

impl World {
    fn new(entities: usize) -> World {
        let players = entities * 2 / 5;
        let size = (AREA_PER_ENTITY * entities as f32).sqrt();
        let config = ArenaConfig { size, orbs: entities - players, ..ArenaConfig::default() };
        let settings = RoomSettings { history_ticks: 64, ..RoomSettings::default() };
        let mut room = Room::new(Arena::new(config.clone()), settings).expect("arena");
        let players = (0..players)
            .map(|n| {
                room.join(&ClientInfo { client_id: n as u32, query: Vec::new(), identity: None }).0
            })
            .collect();
        let mut world = World { room, players, tick: Tick(0), config };
        for _ in 0..SETTLE_TICKS {
            world.push_inputs();
            world.step();
        }
        world
    }

    /// One input per player: a heading that turns by about 1° per tick, different per player.
    fn push_inputs(&mut self) {
        let (seq, now) = (self.tick.0 + 1, Instant::now());
        for (n, &player) in self.players.iter().enumerate() {
            let heading = n as f32 * 2.399 + seq as f32 * 0.02;
            let input = ArenaInput {
                move_x: (heading.cos() * 127.0) as i8,
                move_y: (heading.sin() * 127.0) as i8,
                buttons: u8::from(n.is_multiple_of(4)),
            };
            black_box(self.room.push_input(player, seq, input, now));
        }
    }

    fn step(&mut self) -> u64 {
        self.tick = self.tick.next();
        self.room.simulate(self.tick, Instant::now()).inputs_applied
    }
}

fn step(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim");
    for entities in SIZES {
        group.throughput(Throughput::Elements(entities as u64));
        let mut world = World::new(entities);
        let mut applied = 0;
        group.bench_function(BenchmarkId::new("step", entities), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    world.push_inputs();
                    let started = Instant::now();
                    applied += world.step();
                    total += started.elapsed();
                }
                total
            });
        });
        group.bench_function(BenchmarkId::new("inputs+step", entities), |b| {
            b.iter(|| {
                world.push_inputs();
                applied += world.step();
            });
        });
        let eaten = world.room.world().resource::<ArenaStats>().orbs_eaten;
        println!(
            "sim/{entities}: {} players, {} orbs in {:.0} x {:.0} units; {applied} inputs \
             applied, {eaten} orbs eaten over the run",
            world.players.len(),
            world.config.orbs,
            world.config.size,
            world.config.size,
        );
    }
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
    targets = step
}
criterion_main!(benches);
