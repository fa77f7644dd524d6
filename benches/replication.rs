//! Snapshot building: time per tick and bytes per client, at 1, 100 and 1,000 clients.
//!
//! One world for every run: 1,000 players that all keep moving and 1,500 orbs in 632 × 632
//! units (the default arena's mix and density, 100 players and 150 orbs in 200 × 200, scaled
//! up), so the client count changes only how many snapshots are built, not what they carry.
//! The first `clients` players are the connected clients. Two scenarios:
//!
//! - `all_visible`: view radius = world size, so every client sees every entity;
//! - `interest`: view radius 30 (the default), so a client sees the 60 × 60 square around it.
//!
//! Timed per tick, as the tick loop does it: `replication::capture`, `Replication::begin_tick`,
//! then per client its own-player state, `ClientView::settle(false)` (the last snapshot was
//! taken, so the baseline is the previous tick) and one `Replication::build` into a fresh
//! buffer. The simulation step between ticks is not timed. `shared` times capture and
//! begin_tick alone, the part every tick pays whatever the client count; `capture` times
//! `replication::capture` alone. `tick_kept_buffers` is `tick` with each client's buffer kept
//! and cleared instead of a fresh `Vec` per client per tick (the tick loop's way): the
//! difference is what the allocator costs.
//!
//! Bytes are measured once, outside the timed loop, over `BYTES_TICKS` steady-state ticks:
//! each snapshot is decoded and its ops counted by kind.
//!
//! Run: `cargo bench --bench replication`.

use bevy_ecs::entity::Entity;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::time::{Duration, Instant};
use tickwire::config::WorldConfig;
use tickwire::protocol::{self, Input, Op, ServerMessage};
use tickwire::replication::{self, ClientView, OwnState, Replication};
use tickwire::sim::{Controller, Sim, Velocity};
use tickwire::tick::Tick;

/// Client counts benchmarked.
const CLIENTS: [usize; 3] = [1, 100, 1_000];
/// Players in the world (all moving); the first `clients` of them are connected.
const PLAYERS: usize = 1_000;
/// Orbs in the world: 150 per 100 players, as in the default arena.
const ORBS: usize = 1_500;
/// Square world units per entity: the default arena (200 × 200) with 100 players and 150 orbs.
const AREA_PER_ENTITY: f32 = 200.0 * 200.0 / 250.0;
/// View radius of the interest-managed scenario (the server's default).
const INTEREST_VIEW_RADIUS: f32 = 30.0;
/// Ticks of history replication keeps (the server's default).
const HISTORY_TICKS: usize = 64;
/// Ticks run before measuring: speeds are steady and every client holds a baseline.
const SETTLE_TICKS: u32 = 30;
/// Ticks over which bytes are averaged.
const BYTES_TICKS: u32 = 30;
/// Clients whose snapshots are decoded to count ops (their sizes do not depend on how many
/// clients there are: the world is the same).
const DECODED_CLIENTS: usize = 100;

#[derive(Clone, Copy, Debug)]
enum Scenario {
    AllVisible,
    Interest,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::AllVisible => "all_visible",
            Scenario::Interest => "interest",
        }
    }
}

/// The server side of one run: the world, replication, and the connected clients' views.
struct Server {
    sim: Sim,
    replication: Replication,
    players: Vec<Entity>,
    clients: Vec<(Entity, ClientView)>,
    last_sizes: Vec<usize>,
    /// One buffer per client, for `replicate_into_kept`.
    kept: Vec<Vec<u8>>,
    tick: Tick,
}

impl Server {
    fn new(scenario: Scenario, connected: usize) -> Server {
        let size = (AREA_PER_ENTITY * (PLAYERS + ORBS) as f32).sqrt();
        let view_radius = match scenario {
            Scenario::AllVisible => size,
            Scenario::Interest => INTEREST_VIEW_RADIUS,
        };
        let world = WorldConfig { size, view_radius, orbs: ORBS, ..WorldConfig::default() };
        let mut sim = Sim::new(world, 30, 4);
        let spawned: Vec<_> = (0..PLAYERS).map(|n| sim.spawn_player(&format!("bot{n}"))).collect();
        let players = spawned.iter().map(|&(entity, _)| entity).collect();
        let clients = spawned[..connected]
            .iter()
            .map(|&(entity, id)| (entity, ClientView::new(id)))
            .collect();
        let replication = Replication::new(size, view_radius, HISTORY_TICKS);
        let last_sizes = vec![0; connected];
        let kept = vec![Vec::new(); connected];
        let mut server =
            Server { sim, replication, players, clients, last_sizes, kept, tick: Tick(0) };
        for _ in 0..SETTLE_TICKS {
            server.step();
            server.replicate();
        }
        server
    }

    /// The untimed part of a tick: one input per player (a heading turning about 1° per
    /// tick, different per player, a quarter of them boosting), then the simulation step.
    fn step(&mut self) {
        self.tick = self.tick.next();
        let seq = self.tick.0;
        for (n, &player) in self.players.iter().enumerate() {
            let heading = n as f32 * 2.399 + seq as f32 * 0.02;
            let input = Input {
                seq,
                move_x: (heading.cos() * 127.0) as i8,
                move_y: (heading.sin() * 127.0) as i8,
                buttons: u8::from(n.is_multiple_of(4)),
            };
            // Seqs increase and only the boost bit is set, so every input is accepted.
            self.sim.push_input(player, input).ok();
        }
        self.sim.step(self.tick);
    }

    /// Capture and begin_tick: the shared part of a tick.
    fn begin_tick(&mut self) {
        let frame = replication::capture(self.sim.world_mut(), self.tick);
        self.replication.begin_tick(frame);
    }

    /// The timed part of a tick: shared capture, then one snapshot per client.
    fn replicate(&mut self) -> Vec<Vec<u8>> {
        self.begin_tick();
        let mut sent = Vec::with_capacity(self.clients.len());
        for ((entity, view), last_size) in self.clients.iter_mut().zip(&mut self.last_sizes) {
            let own = own_state(&self.sim, *entity);
            view.settle(false);
            let mut bytes = Vec::with_capacity(*last_size + 16);
            self.replication.build(self.sim.world(), view, own, &mut bytes);
            *last_size = bytes.len();
            sent.push(bytes);
        }
        sent
    }

    /// Like `replicate`, but each client's snapshot goes into a buffer kept from the last tick:
    /// the build without the allocator's share (what a buffer pool would leave).
    fn replicate_into_kept(&mut self) {
        self.begin_tick();
        for ((entity, view), bytes) in self.clients.iter_mut().zip(&mut self.kept) {
            let own = own_state(&self.sim, *entity);
            view.settle(false);
            bytes.clear();
            self.replication.build(self.sim.world(), view, own, bytes);
        }
    }
}

/// The own-player figures a snapshot reports, read as the tick loop reads them.
fn own_state(sim: &Sim, entity: Entity) -> OwnState {
    let world = sim.world();
    let seq = world.get::<Controller>(entity).map_or(0, Controller::last_applied_seq);
    let velocity = world.get::<Velocity>(entity).map_or((0, 0), |v| {
        let scale = protocol::VELOCITY_SCALE;
        ((v.0.x * scale) as i32, (v.0.y * scale) as i32)
    });
    OwnState { seq, velocity }
}

/// Snapshot sizes, and op counts of the decoded ones, summed over many snapshots.
#[derive(Default)]
struct Tally {
    snapshots: usize,
    bytes: usize,
    decoded: usize,
    decoded_bytes: usize,
    /// Move, Update, Spawn, Despawn, Own: count and encoded bytes.
    ops: [(usize, usize); 5],
    scratch: Vec<u8>,
}

impl Tally {
    fn add(&mut self, snapshot: &[u8]) {
        self.snapshots += 1;
        self.bytes += snapshot.len();
    }

    fn decode(&mut self, snapshot: &[u8]) {
        self.decoded += 1;
        self.decoded_bytes += snapshot.len();
        let ops = match protocol::decode_server(snapshot, snapshot.len()) {
            Ok(ServerMessage::Delta(delta)) => delta.ops,
            Ok(ServerMessage::Full(full)) => full.ops,
            other => panic!("not a snapshot: {other:?}"),
        };
        for op in &ops {
            let kind = match op {
                Op::Move { .. } => 0,
                Op::Update { .. } => 1,
                Op::Spawn { .. } => 2,
                Op::Despawn { .. } => 3,
                Op::Own { .. } => 4,
            };
            self.scratch.clear();
            protocol::encode_into(op, &mut self.scratch);
            self.ops[kind].0 += 1;
            self.ops[kind].1 += self.scratch.len();
        }
    }

    fn per_snapshot(&self, kind: usize) -> f64 {
        self.ops[kind].0 as f64 / self.decoded as f64
    }

    fn print(&self, label: &str) {
        let per_client = self.bytes as f64 / self.snapshots as f64;
        let moving = self.ops[0].0 + self.ops[1].0;
        let per_mover = self.decoded_bytes as f64 / moving.max(1) as f64;
        let op_size = |kind: usize| self.ops[kind].1 as f64 / self.ops[kind].0.max(1) as f64;
        println!(
            "{label}: {per_client:.1} bytes per client per tick ({} snapshots); per snapshot \
             ({} decoded) {:.1} moves, {:.2} updates, {:.2} spawns, {:.2} despawns, {:.2} own; \
             {per_mover:.2} bytes per moving entity (whole snapshot / (moves + updates)); \
             op sizes: move {:.2}, update {:.2}, spawn {:.2}, despawn {:.2}, own {:.2} bytes",
            self.snapshots,
            self.decoded,
            self.per_snapshot(0),
            self.per_snapshot(1),
            self.per_snapshot(2),
            self.per_snapshot(3),
            self.per_snapshot(4),
            op_size(0),
            op_size(1),
            op_size(2),
            op_size(3),
            op_size(4),
        );
    }
}

/// Prints the bytes a scenario sends: the first (full) snapshot and the steady-state deltas.
fn report_bytes(scenario: Scenario, clients: usize) {
    let label = format!("bytes {}/{clients}", scenario.name());
    let mut server = Server::new(scenario, clients);
    let mut fresh = ClientView::new(server.clients[0].1.own);
    let mut full = Vec::new();
    let own = own_state(&server.sim, server.clients[0].0);
    server.replication.build(server.sim.world(), &mut fresh, own, &mut full);
    let mut tally = Tally::default();
    for _ in 0..BYTES_TICKS {
        server.step();
        for (n, snapshot) in server.replicate().iter().enumerate() {
            tally.add(snapshot);
            if n < DECODED_CLIENTS {
                tally.decode(snapshot);
            }
        }
    }
    println!("{label}: first (full) snapshot {} bytes", full.len());
    tally.print(&label);
}

fn build(c: &mut Criterion) {
    for scenario in [Scenario::AllVisible, Scenario::Interest] {
        let mut group = c.benchmark_group(format!("replication/{}", scenario.name()));
        let mut server = Server::new(scenario, 0);
        group.bench_function("capture", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    server.step();
                    let started = Instant::now();
                    let frame = replication::capture(server.sim.world_mut(), server.tick);
                    total += started.elapsed();
                    server.replication.begin_tick(frame);
                }
                total
            });
        });
        group.bench_function("shared", |b| {
            b.iter_custom(|iters| timed(iters, &mut server, Server::begin_tick));
        });
        for clients in CLIENTS {
            report_bytes(scenario, clients);
            let mut server = Server::new(scenario, clients);
            group.throughput(Throughput::Elements(clients as u64));
            group.bench_function(BenchmarkId::new("tick", clients), |b| {
                b.iter_custom(|iters| timed(iters, &mut server, Server::replicate));
            });
            group.bench_function(BenchmarkId::new("tick_kept_buffers", clients), |b| {
                b.iter_custom(|iters| timed(iters, &mut server, Server::replicate_into_kept));
            });
        }
        group.finish();
    }
}

/// Runs `iters` ticks, timing only `replicate`: not the simulation step, and not freeing the
/// snapshots (in the server the socket writers free them).
fn timed<T>(
    iters: u64,
    server: &mut Server,
    mut replicate: impl FnMut(&mut Server) -> T,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        server.step();
        let started = Instant::now();
        let sent = replicate(server);
        total += started.elapsed();
        drop(sent);
    }
    total
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
    targets = build
}
criterion_main!(benches);
