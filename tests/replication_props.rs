//! Property: for random sequences of world changes, with random snapshots skipped (taken back
//! from the outbox unsent), a client replica that applies the snapshots it is sent equals the
//! server's quantized state exactly, holds every entity in its view, and holds its own
//! owner-only velocity.

use bevy_ecs::prelude::*;
use glam::Vec2;
use proptest::prelude::*;
use std::collections::HashMap;
use tickwire::arena::{
    Arena, ArenaConfig, Color, Name, Orb, POSITION_SCALE, Position, Radius, Score, Velocity,
};
use tickwire::replication::{ClientView, InputAck, Replication, assign_ids};
use tickwire::{NetId, Replica, Replicated, Tick, registry_of};

const WORLD: f32 = 100.0;
const CLIENTS: usize = 3;

#[derive(Debug, Clone)]
enum Action {
    Move {
        pick: usize,
        dx: i16,
        dy: i16,
    },
    Rescore {
        pick: usize,
        score: u32,
    },
    Spawn {
        x: u16,
        y: u16,
    },
    Despawn {
        pick: usize,
    },
    /// Removes an entity's colour, or gives it one back.
    Recolor {
        pick: usize,
        red: Option<u8>,
    },
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
        1 => (any::<usize>(), any::<Option<u8>>()).prop_map(|(pick, red)| Action::Recolor { pick, red }),
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
    players: Vec<Entity>,
    others: Vec<Entity>,
}

impl Scenario {
    fn new() -> Scenario {
        let mut s = Scenario { world: World::new(), players: Vec::new(), others: Vec::new() };
        for n in 0..CLIENTS {
            let e = s.spawn(Vec2::new(20.0 + 30.0 * n as f32, 50.0), false);
            s.players.push(e);
        }
        for n in 0..20 {
            let e = s.spawn(Vec2::new((n * 37 % 100) as f32, (n * 53 % 100) as f32), true);
            s.others.push(e);
        }
        assign_ids(&mut s.world);
        s
    }

    fn spawn(&mut self, at: Vec2, orb: bool) -> Entity {
        let parts = (Replicated, Position(at), Radius(0.5), Color([1, 2, 3]), Score(1));
        let mut e = self.world.spawn(parts);
        if orb {
            e.insert(Orb);
        } else {
            e.insert((Name(format!("p{}", self.players.len())), Velocity::default()));
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
                let e = self.spawn(tickwire::arena::movement::snap_position(at), true);
                self.others.push(e);
            }
            Action::Recolor { pick, red } => {
                let e = all[pick % all.len()];
                match red {
                    Some(red) => drop(self.world.entity_mut(e).insert(Color([red, 2, 3]))),
                    None => drop(self.world.entity_mut(e).remove::<Color>()),
                }
            }
            Action::Despawn { pick } => {
                if self.others.is_empty() {
                    return;
                }
                let e = self.others.swap_remove(pick % self.others.len());
                self.world.despawn(e);
            }
        }
    }

    /// The replicated state now: each entity's position, score, velocity and colour by id.
    fn state(&mut self) -> State {
        let mut query =
            self.world.query::<(&NetId, &Position, &Score, Option<&Velocity>, Option<&Color>)>();
        query
            .iter(&self.world)
            .map(|(id, p, s, v, c)| (id.id, (p.0, s.0, v.map(|v| v.0), c.map(|c| c.0))))
            .collect()
    }
}

type State = HashMap<u32, (Vec2, u32, Option<Vec2>, Option<[u8; 3]>)>;

struct Client {
    view: ClientView,
    replica: Replica,
    pending: Option<(Vec<u8>, Tick, u32)>,
}

fn check(
    replica: &Replica,
    state: &State,
    (tick, seq): (Tick, u32),
    own_id: u32,
    view_radius: f32,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(replica.tick, tick.0);
    prop_assert_eq!(replica.last_input_seq, seq);
    for id in replica.ids() {
        let server = state.get(&id);
        prop_assert!(server.is_some(), "replica holds {} which the server does not have", id);
        let Some(&(at, score, velocity, color)) = server else { continue };
        let held =
            (replica.get::<Position>(id).map(|p| p.0), replica.get::<Score>(id).map(|s| s.0));
        prop_assert_eq!(held, (Some(at), Some(score)), "entity {}", id);
        prop_assert_eq!(replica.get::<Color>(id).map(|c| c.0), color, "colour of {}", id);
        let own_velocity = replica.get::<Velocity>(id).map(|v| v.0);
        if id == own_id {
            prop_assert_eq!(own_velocity, velocity, "own velocity");
        } else {
            prop_assert_eq!(own_velocity, None, "velocity is owner-only, seen on {}", id);
        }
    }
    let me = state[&own_id].0;
    for (&id, &(at, ..)) in state {
        let near = (at - me).abs();
        if near.x <= view_radius && near.y <= view_radius {
            prop_assert!(replica.contains(id), "entity {} in view but not held", id);
        }
    }
    prop_assert!(replica.has::<Name>(own_id), "the own player is held whole");
    Ok(())
}

fn run(plans: Vec<TickPlan>, view_radius: f32) -> Result<(), TestCaseError> {
    let arena = ArenaConfig { size: WORLD, view_radius, ..ArenaConfig::default() };
    let (registry, _) = registry_of(&mut Arena::new(arena)).expect("arena");
    let mut scenario = Scenario::new();
    let mut replication = Replication::new(registry.clone(), &mut scenario.world, 4);
    let mut states: HashMap<Tick, State> = HashMap::new();
    let mut clients: Vec<Client> = scenario
        .players
        .iter()
        .map(|&e| {
            let own = *scenario.world.get::<NetId>(e).expect("id");
            let mut replica = Replica::new(registry.clone());
            replica.own_id = own.id;
            Client { view: ClientView::new(own), replica, pending: None }
        })
        .collect();
    for (n, plan) in plans.iter().enumerate() {
        let tick = Tick(n as u32 + 1);
        for action in &plan.actions {
            scenario.apply(action);
        }
        for (c, &(vx, vy)) in plan.velocities.iter().enumerate() {
            let v = Vec2::new(f32::from(vx), f32::from(vy)) / 64.0;
            scenario.world.get_mut::<Velocity>(scenario.players[c]).expect("velocity").0 = v;
        }
        replication.begin_tick(&mut scenario.world, tick);
        states.insert(tick, scenario.state());
        for (c, client) in clients.iter_mut().enumerate() {
            let reclaimed = plan.skips[c] && client.pending.is_some();
            // A snapshot not taken back was written to the socket: the client applies it.
            if let Some((bytes, sent_tick, seq)) = client.pending.take()
                && !reclaimed
            {
                client
                    .replica
                    .apply(&bytes)
                    .map_err(|e| TestCaseError::fail(format!("apply: {e}")))?;
                let own = client.view.own.id;
                check(&client.replica, &states[&sent_tick], (sent_tick, seq), own, view_radius)?;
            }
            client.view.settle(reclaimed);
            let seq = n as u32 / 2;
            let mut bytes = Vec::new();
            let ack = InputAck { seq, pacing: n as i32 % 9 - 4 };
            replication.build(&mut client.view, ack, &mut bytes);
            client.pending = Some((bytes, tick, seq));
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
