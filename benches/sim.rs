//! The simulation step: `Sim::step` at 100, 1,000 and 10,000 entities.
//!
//! The world keeps the default arena's mix and density as it grows: 100 players and 150 orbs
//! in 200 × 200 units is two players to three orbs, one entity per 160 square units, so the
//! side grows with the square root of the entity count. Every player gets a fresh input each
//! tick, steering along a slowly turning heading so it keeps moving, meets walls, other
//! players and orbs. Two figures per size:
//!
//! - `step`: `Sim::step` alone (inputs are queued outside the timed region);
//! - `inputs+step`: one `Sim::push_input` per player and the step, as the tick loop pays it.
//!
//! Run: `cargo bench --bench sim`.

use bevy_ecs::entity::Entity;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tickwire::config::WorldConfig;
use tickwire::protocol::Input;
use tickwire::sim::Sim;
use tickwire::tick::Tick;

/// Entity counts benchmarked.
const SIZES: [usize; 3] = [100, 1_000, 10_000];
/// Square world units per entity: the default arena (200 × 200) with 100 players and 150 orbs.
const AREA_PER_ENTITY: f32 = 200.0 * 200.0 / 250.0;
/// Ticks run before measuring, so orbs have been eaten and respawned and speeds are steady.
const SETTLE_TICKS: u32 = 30;

/// A world of `entities` (two players to three orbs) whose players all keep moving.
struct Arena {
    sim: Sim,
    players: Vec<Entity>,
    tick: Tick,
}

impl Arena {
    fn new(entities: usize) -> Arena {
        let players = entities * 2 / 5;
        let size = (AREA_PER_ENTITY * entities as f32).sqrt();
        let world = WorldConfig { size, orbs: entities - players, ..WorldConfig::default() };
        let mut sim = Sim::new(world, 30, 4);
        let players = (0..players).map(|n| sim.spawn_player(&format!("bot{n}")).0).collect();
        let mut arena = Arena { sim, players, tick: Tick(0) };
        for _ in 0..SETTLE_TICKS {
            arena.push_inputs();
            arena.step();
        }
        arena
    }

    /// One input per player: a heading that turns by about 1° per tick, different per player.
    fn push_inputs(&mut self) {
        let seq = self.tick.0 + 1;
        for (n, &player) in self.players.iter().enumerate() {
            let heading = n as f32 * 2.399 + seq as f32 * 0.02;
            let input = Input {
                seq,
                move_x: (heading.cos() * 127.0) as i8,
                move_y: (heading.sin() * 127.0) as i8,
                buttons: u8::from(n.is_multiple_of(4)),
            };
            // Seqs increase and only the boost bit is set, so every input is accepted.
            black_box(self.sim.push_input(player, input)).ok();
        }
    }

    fn step(&mut self) {
        self.tick = self.tick.next();
        self.sim.step(self.tick);
    }
}

fn step(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim");
    for entities in SIZES {
        group.throughput(Throughput::Elements(entities as u64));
        let mut arena = Arena::new(entities);
        group.bench_function(BenchmarkId::new("step", entities), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    arena.push_inputs();
                    let started = Instant::now();
                    arena.step();
                    total += started.elapsed();
                }
                total
            });
        });
        group.bench_function(BenchmarkId::new("inputs+step", entities), |b| {
            b.iter(|| {
                arena.push_inputs();
                arena.step();
            });
        });
        let stats = arena.sim.take_stats();
        println!(
            "sim/{entities}: {} players, {} orbs in {:.0} x {:.0} units; {} inputs applied, \
             {} orbs eaten over the run",
            arena.players.len(),
            arena.sim.rules().world.orbs,
            arena.sim.rules().world.size,
            arena.sim.rules().world.size,
            stats.inputs_applied,
            stats.orbs_eaten,
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
