//! Property: for random sequences of world changes, with random snapshots skipped (taken back
//! from the outbox unsent), a client replica that applies the snapshots it is sent equals the
//! server's quantized state exactly, and holds every entity in its view.

use bevy_ecs::prelude::*;
use glam::Vec2;
use proptest::prelude::*;
use std::collections::HashMap;
use tickwire::protocol::{EntityKind, POSITION_SCALE};
use tickwire::replication::{self, ClientView, Frame, OwnState, Replica, Replication};
use tickwire::sim::{Color, Name, NetId, Orb, Position, Radius, Score};
use tickwire::tick::Tick;

const WORLD: f32 = 100.0;
const CLIENTS: usize = 3;

#[derive(Debug, Clone)]
enum Action {
    Move { pick: usize, dx: i16, dy: i16 },
    Rescore { pick: usize, score: u32 },
    Spawn { x: u16, y: u16 },
    Despawn { pick: usize },
}

#[derive(Debug, Clone)]
struct TickPlan {
    actions: Vec<Action>,
    skips: [bool; CLIENTS],
    velocities: [(i16, i16); CLIENTS],
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (any::<usize>(), -300i16..300, -300i16..300).prop_map(|(pick, dx, dy)| Action::Move { pick, dx, dy }),
        1 => (any::<usize>(), 0u32..100_000).prop_map(|(pick, score)| Action::Rescore { pick, score }),
        1 => (any::<u16>(), any::<u16>()).prop_map(|(x, y)| Action::Spawn { x, y }),
        1 => any::<usize>().prop_map(|pick| Action::Despawn { pick }),
    ]
}

fn plan() -> impl Strategy<Value = TickPlan> {
    (
        prop::collection::vec(action(), 0..12),
        prop::array::uniform3(prop::bool::weighted(0.3)),
        prop::array::uniform3((-5i16..5, -5i16..5)),
    )
        .prop_map(|(actions, skips, velocities)| TickPlan { actions, skips, velocities })
}

/// A world of orbs and three players, changed by hand the way the systems would.
struct Scenario {
    world: World,
    free: Vec<u32>,
    next_id: u32,
    incarnation: u32,
    players: Vec<Entity>,
    others: Vec<Entity>,
}

impl Scenario {
    fn new() -> Scenario {
        let mut s = Scenario {
            world: World::new(),
            free: Vec::new(),
            next_id: 0,
            incarnation: 0,
            players: Vec::new(),
            others: Vec::new(),
        };
        for n in 0..CLIENTS {
            let e = s.spawn(Vec2::new(20.0 + 30.0 * n as f32, 50.0), false);
            s.players.push(e);
        }
        for n in 0..20 {
            let e = s.spawn(Vec2::new((n * 37 % 100) as f32, (n * 53 % 100) as f32), true);
            s.others.push(e);
        }
        s
    }

    fn allocate(&mut self) -> NetId {
        self.incarnation += 1;
        let id = self.free.pop().unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id
        });
        NetId { id, incarnation: self.incarnation }
    }

    fn spawn(&mut self, at: Vec2, orb: bool) -> Entity {
        let id = self.allocate();
        let mut e = self.world.spawn((id, Position(at), Radius(0.5), Color([1, 2, 3]), Score(1)));
        if orb {
            e.insert(Orb);
        } else {
            e.insert(Name(format!("p{}", id.id)));
        }
        e.id()
    }

    fn all(&self) -> Vec<Entity> {
        self.players.iter().chain(&self.others).copied().collect()
    }

    fn apply(&mut self, action: &Action) {
        let all = self.all();
        match *action {
            Action::Move { pick, dx, dy } => {
                let e = all[pick % all.len()];
                let mut pos = self.world.get_mut::<Position>(e).expect("position");
                let moved = pos.0 + Vec2::new(f32::from(dx), f32::from(dy)) / POSITION_SCALE;
                pos.0 = moved.clamp(Vec2::ZERO, Vec2::splat(WORLD));
            }
            Action::Rescore { pick, score } => {
                let e = all[pick % all.len()];
                self.world.get_mut::<Score>(e).expect("score").0 = score;
            }
            Action::Spawn { x, y } => {
                let at = Vec2::new(f32::from(x) % WORLD, f32::from(y) % WORLD);
                let e = self.spawn(tickwire::sim::movement::snap_position(at), true);
                self.others.push(e);
            }
            Action::Despawn { pick } => {
                if self.others.is_empty() {
                    return;
                }
                let e = self.others.swap_remove(pick % self.others.len());
                let id = *self.world.get::<NetId>(e).expect("id");
                self.free.push(id.id);
                self.world.despawn(e);
            }
        }
    }
}

struct Client {
    view: ClientView,
    replica: Replica,
    pending: Option<(Vec<u8>, Tick, OwnState)>,
}

fn check(
    replica: &Replica,
    frame: &Frame,
    own_id: u32,
    own: OwnState,
    view_radius: f32,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(replica.tick, frame.tick.0);
    prop_assert_eq!(replica.last_input_seq, own.seq);
    prop_assert_eq!(replica.own_velocity, own.velocity);
    for (id, held) in replica.iter() {
        let index = frame.find(id);
        prop_assert!(index.is_some(), "replica holds {} which the server does not have", id);
        let record = frame.records[index.unwrap_or_default()];
        prop_assert_eq!(
            (held.x, held.y, held.score),
            (record.x, record.y, record.score),
            "entity {}",
            id
        );
    }
    let me = frame.records[frame.find(own_id).expect("own player exists")];
    let reach = replication::to_wire(view_radius);
    for record in &frame.records {
        if (record.x - me.x).abs() <= reach && (record.y - me.y).abs() <= reach {
            prop_assert!(
                replica.get(record.id.id).is_some(),
                "entity {} in view but not held",
                record.id.id
            );
        }
    }
    let own_entity = replica.get(own_id);
    prop_assert!(own_entity.is_some_and(|e| e.kind == EntityKind::Player));
    Ok(())
}

fn run(plans: Vec<TickPlan>, view_radius: f32) -> Result<(), TestCaseError> {
    let mut scenario = Scenario::new();
    let mut replication = Replication::new(WORLD, view_radius, 4);
    let mut frames: HashMap<Tick, Frame> = HashMap::new();
    let mut clients: Vec<Client> = scenario
        .players
        .iter()
        .map(|&e| Client {
            view: ClientView::new(*scenario.world.get::<NetId>(e).expect("id")),
            replica: Replica::new(),
            pending: None,
        })
        .collect();
    for (n, plan) in plans.iter().enumerate() {
        let tick = Tick(n as u32 + 1);
        for action in &plan.actions {
            scenario.apply(action);
        }
        let frame = replication::capture(&mut scenario.world, tick);
        frames.insert(tick, frame.clone());
        replication.begin_tick(frame);
        for (c, client) in clients.iter_mut().enumerate() {
            let reclaimed = plan.skips[c] && client.pending.is_some();
            // A snapshot not taken back was written to the socket: the client applies it.
            if let Some((bytes, sent_tick, own)) = client.pending.take()
                && !reclaimed
            {
                client
                    .replica
                    .apply(&bytes)
                    .map_err(|e| TestCaseError::fail(format!("apply: {e}")))?;
                check(&client.replica, &frames[&sent_tick], client.view.own.id, own, view_radius)?;
            }
            client.view.settle(reclaimed);
            let (vx, vy) = plan.velocities[c];
            let own = OwnState { seq: n as u32 / 2, velocity: (i32::from(vx), i32::from(vy)) };
            let mut bytes = Vec::new();
            replication.build(&scenario.world, &mut client.view, own, &mut bytes);
            client.pending = Some((bytes, tick, own));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn replicas_match_the_server_when_everyone_sees_everything(plans in prop::collection::vec(plan(), 1..40)) {
        run(plans, WORLD)?;
    }

    #[test]
    fn replicas_match_the_server_with_interest(plans in prop::collection::vec(plan(), 1..40)) {
        run(plans, 20.0)?;
    }
}

#[test]
fn serde_decoder_agrees_with_the_streaming_replica() {
    // The same bytes through both decoders: the serde types and the replica must agree.
    let mut scenario = Scenario::new();
    let mut replication = Replication::new(WORLD, WORLD, 4);
    let mut view = ClientView::new(*scenario.world.get::<NetId>(scenario.players[0]).expect("id"));
    let own = OwnState { seq: 1, velocity: (3, 4) };
    let mut replica = Replica::new();
    for tick in 1..5 {
        scenario.apply(&Action::Move { pick: tick, dx: 100, dy: -50 });
        replication.begin_tick(replication::capture(&mut scenario.world, Tick(tick as u32)));
        view.settle(false);
        let mut bytes = Vec::new();
        replication.build(&scenario.world, &mut view, own, &mut bytes);
        let decoded = tickwire::protocol::decode_server(&bytes, 1 << 20).expect("serde decodes");
        assert_eq!(
            tickwire::protocol::encode(&decoded),
            bytes,
            "assembled bytes are canonical bincode"
        );
        replica.apply(&bytes).expect("replica applies");
    }
    assert_eq!(replica.len(), scenario.all().len());
}
