//! Snapshot building: time per tick and bytes per client, at 1, 100 and 1,000 clients.
//!
//! One world for every run: by default 1,000 players that all keep moving and 1,500 orbs in
//! 632 × 632 units (the default arena's mix and density, 100 players and 150 orbs in
//! 200 × 200, scaled up), so the client count changes only how many snapshots are built, not
//! what they carry. `TICKWIRE_BENCH_ENTITIES=10000` runs a world of that many entities in
//! the same mix and density (client counts above its players are left out). The first
//! `clients` players are the connected clients. Two scenarios:
//!
//! - `all_visible`: view radius = world size, so every client sees every entity;
//! - `interest`: view radius 30 (the default), so a client sees the 60 × 60 square around it.
//!
//! Timed per tick, as the tick loop does it: `Room::capture` (every registered component's
//! change encoded once), then per client `ClientView::settle(false)` (the last snapshot was
//! taken, so the baseline is the previous tick) and one `Room::build` into a fresh buffer.
//! The simulation half of the tick is not timed. `shared` times the capture alone, the part
//! every tick pays whatever the client count. `tick_kept_buffers` is `tick` with each
//! client's buffer kept and cleared instead of a fresh `Vec` per client per tick (the tick
//! loop's way): the difference is what the allocator costs.
//!
//! Bytes are measured once, outside the timed loop, over `BYTES_TICKS` steady-state ticks:
//! each snapshot is applied to a replica and its ops counted by kind.
//!
//! Run: `cargo bench --bench replication`.

use bevy_ecs::entity::Entity;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::time::{Duration, Instant};
use tickwire::arena::{Arena, ArenaConfig, ArenaInput};
use tickwire::replication::ClientView;
use tickwire::replication::replica::OpCounts;
use tickwire::{ClientInfo, Replica, Room, RoomSettings, Tick};

/// Client counts benchmarked.
const CLIENTS: [usize; 3] = [1, 100, 1_000];
/// Entities in the world unless `TICKWIRE_BENCH_ENTITIES` says otherwise: two players
/// (all moving; the first `clients` of them are connected) to three orbs, as in the default
/// arena.
const DEFAULT_ENTITIES: usize = 2_500;

/// Entities in the world (`TICKWIRE_BENCH_ENTITIES`, default 2,500).
fn entities() -> usize {
    std::env::var("TICKWIRE_BENCH_ENTITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ENTITIES)
}

/// Players in the world.
fn players() -> usize {
    entities() * 2 / 5
}
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
    room: Room<Arena>,
    players: Vec<Entity>,
    clients: Vec<(Entity, ClientView)>,
    last_sizes: Vec<usize>,
    /// One buffer per client, for `replicate_into_kept`.
    kept: Vec<Vec<u8>>,
    tick: Tick,
}

impl Server {
    fn new(scenario: Scenario, connected: usize) -> Server {
        let size = (AREA_PER_ENTITY * entities() as f32).sqrt();
        let view_radius = match scenario {
            Scenario::AllVisible => size,
            Scenario::Interest => INTEREST_VIEW_RADIUS,
        };
        let config = ArenaConfig {
            size,
            view_radius,
            orbs: entities() - players(),
            ..ArenaConfig::default()
        };
        let settings = RoomSettings { history_ticks: HISTORY_TICKS, ..RoomSettings::default() };
        let mut room = Room::new(Arena::new(config), settings).expect("arena");
        let spawned: Vec<_> = (0..players())
            .map(|n| {
                room.join(&ClientInfo { client_id: n as u32, query: Vec::new(), identity: None })
            })
            .collect();
        let players = spawned.iter().map(|&(entity, _)| entity).collect();
        let clients = spawned[..connected]
            .iter()
            .map(|&(entity, id)| (entity, ClientView::new(id)))
            .collect();
        let last_sizes = vec![0; connected];
        let kept = vec![Vec::new(); connected];
        let mut server = Server { room, players, clients, last_sizes, kept, tick: Tick(0) };
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
        let (seq, now) = (self.tick.0, Instant::now());
        for (n, &player) in self.players.iter().enumerate() {
            let heading = n as f32 * 2.399 + seq as f32 * 0.02;
            let input = ArenaInput {
                move_x: (heading.cos() * 127.0) as i8,
                move_y: (heading.sin() * 127.0) as i8,
                buttons: u8::from(n.is_multiple_of(4)),
            };
            self.room.push_input(player, seq, input, now);
        }
        self.room.simulate(self.tick, now);
    }

    /// The capture: the shared part of a tick.
    fn begin_tick(&mut self) {
        self.room.capture(self.tick);
    }

    /// The timed part of a tick: shared capture, then one snapshot per client.
    fn replicate(&mut self) -> Vec<Vec<u8>> {
        self.begin_tick();
        let mut sent = Vec::with_capacity(self.clients.len());
        for ((entity, view), last_size) in self.clients.iter_mut().zip(&mut self.last_sizes) {
            view.settle(false);
            let mut bytes = Vec::with_capacity(*last_size + 16);
            self.room.build(view, *entity, &mut bytes);
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
            view.settle(false);
            bytes.clear();
            self.room.build(view, *entity, bytes);
        }
    }
}

/// Snapshot sizes, and op counts of the decoded ones, summed over many snapshots.
#[derive(Default)]
struct Tally {
    snapshots: usize,
    bytes: usize,
    decoded: usize,
    decoded_bytes: usize,
    /// Single-component changes (moves), multi-component changes, spawns, despawns, own
    /// ops: count and encoded bytes.
    ops: [(usize, usize); 5],
}

impl Tally {
    fn add(&mut self, snapshot: &[u8]) {
        self.snapshots += 1;
        self.bytes += snapshot.len();
    }

    fn decode(&mut self, replica: &mut Replica, snapshot: &[u8]) {
        self.decoded += 1;
        self.decoded_bytes += snapshot.len();
        let mut counts = OpCounts::default();
        replica.apply_counting(snapshot, &mut counts).expect("the snapshot applies");
        let kinds = [counts.single, counts.changes, counts.spawn, counts.despawn, counts.own];
        for (kind, tally) in kinds.into_iter().enumerate() {
            self.ops[kind].0 += tally.count as usize;
            self.ops[kind].1 += tally.bytes as usize;
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
             ({} decoded) {:.1} moves, {:.2} multi-changes, {:.2} spawns, {:.2} despawns, \
             {:.2} own; {per_mover:.2} bytes per moving entity (whole snapshot / changed \
             entities); op sizes: move {:.2}, multi-change {:.2}, spawn {:.2}, despawn {:.2}, \
             own {:.2} bytes",
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
    server.room.build(&mut fresh, server.clients[0].0, &mut full);
    let mut tally = Tally::default();
    let registry = server.room.registry().clone();
    // Each decoded client starts from a full snapshot of its own, then follows the deltas.
    let mut replicas: Vec<Replica> = server.clients[..clients.min(DECODED_CLIENTS)]
        .iter_mut()
        .map(|(entity, view)| {
            let mut replica = Replica::new(registry.clone());
            replica.own_id = view.own.id;
            *view = ClientView::new(view.own);
            let mut bytes = Vec::new();
            server.room.build(view, *entity, &mut bytes);
            replica.apply(&bytes).expect("the full snapshot applies");
            replica
        })
        .collect();
    for _ in 0..BYTES_TICKS {
        server.step();
        for (n, snapshot) in server.replicate().iter().enumerate() {
            tally.add(snapshot);
            if let Some(replica) = replicas.get_mut(n) {
                tally.decode(replica, snapshot);
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
        group.bench_function("shared", |b| {
            b.iter_custom(|iters| timed(iters, &mut server, Server::begin_tick));
        });
        for clients in CLIENTS.into_iter().filter(|&c| c <= players()) {
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
