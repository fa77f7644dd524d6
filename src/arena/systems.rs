//! The arena's systems, in schedule order: move, separate, eat, respawn orbs.

use super::components::{Color, Name, Orb, Position, Radius, Score, Velocity};
use super::{ArenaEvent, ArenaInput, ArenaRng, ArenaStats, MILESTONE, Rules, movement};
use crate::{AlwaysRelevant, Inputs, Outgoing, Replicated};
use bevy_ecs::prelude::*;
use glam::Vec2;

/// A player: an entity with a client's inputs.
type Controls = Inputs<ArenaInput>;

/// Moves every player by the rules clients predict with: one step per input applied this
/// tick, and none on a tick without (the client predicted none).
pub(crate) fn move_players(
    mut players: Query<(&Controls, &mut Position, &mut Velocity)>,
    rules: Res<Rules>,
) {
    let arena = rules.arena();
    for (controls, mut pos, mut vel) in &mut players {
        for input in controls.this_tick() {
            movement::step(&mut pos.0, &mut vel.0, input, &rules.config.movement, rules.dt, arena);
        }
    }
}

/// Pushes overlapping players apart, each by half the overlap (sweep and prune on x).
pub(crate) fn separate_players(
    mut players: Query<(&mut Position, &mut Velocity, &Radius), With<Controls>>,
    rules: Res<Rules>,
) {
    let mut bodies: Vec<(Vec2, f32, Vec2)> =
        players.iter().map(|(pos, _, radius)| (pos.0, radius.0, Vec2::ZERO)).collect();
    let mut order: Vec<usize> = (0..bodies.len()).collect();
    order.sort_unstable_by(|&a, &b| bodies[a].0.x.total_cmp(&bodies[b].0.x));
    let max_radius = bodies.iter().map(|b| b.1).fold(0.0, f32::max);
    for (n, &i) in order.iter().enumerate() {
        for &j in &order[n + 1..] {
            let (pi, ri, _) = bodies[i];
            let (pj, rj, _) = bodies[j];
            if pj.x - pi.x > ri + max_radius {
                break;
            }
            let offset = pj - pi;
            let reach = ri + rj;
            let dist2 = offset.length_squared();
            if dist2 >= reach * reach {
                continue;
            }
            let dist = dist2.sqrt();
            // Coincident centres: push apart along x so the pair still separates.
            let normal = if dist > 1e-6 { offset / dist } else { Vec2::X };
            let push = normal * ((reach - dist) * 0.5);
            bodies[i].2 -= push;
            bodies[j].2 += push;
        }
    }
    let arena = rules.arena();
    for ((mut pos, mut vel, radius), (_, _, push)) in players.iter_mut().zip(bodies) {
        if push != Vec2::ZERO {
            pos.0 += push;
            movement::confine(&mut pos.0, &mut vel.0, radius.0, arena);
            pos.0 = movement::snap_position(pos.0);
        }
    }
}

/// Players, as distinct from orbs (so a player query and an orb query may share `Score`).
type PlayersOnly = (With<Controls>, Without<Orb>);

/// Keeps the top scorer [`AlwaysRelevant`], so every client sees the leader whatever the
/// distance (the page can point to them). A tie keeps the current leader; nobody leads at 0.
/// Runs in [`crate::TickSet::BeforeCapture`], after the tick's scores changed.
pub(super) fn mark_leader(
    mut commands: Commands,
    players: Query<(Entity, &Score, Has<AlwaysRelevant>), PlayersOnly>,
) {
    let leader = (players.iter())
        .filter(|(_, score, _)| score.0 > 0)
        .max_by_key(|&(entity, score, marked)| (score.0, marked, std::cmp::Reverse(entity)))
        .map(|(entity, ..)| entity);
    for (entity, _, marked) in &players {
        match (Some(entity) == leader, marked) {
            (true, false) => {
                commands.entity(entity).insert(AlwaysRelevant);
            }
            (false, true) => {
                commands.entity(entity).remove::<AlwaysRelevant>();
            }
            _ => {}
        }
    }
}

/// The orbs sorted by x, as `eat_orbs` keeps them between ticks, and its scratch marks.
#[derive(Debug, Default)]
pub(crate) struct Pantry {
    food: Vec<Food>,
    eaten: Vec<bool>,
}

/// An orb as `eat_orbs` keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Food {
    entity: Entity,
    at: Vec2,
    radius: f32,
    value: u32,
}

/// Players eat the orbs they overlap: the orb's value is added to the score and it despawns.
///
/// Orbs never move, so the list sorted by x is kept between ticks: orbs spawned since the
/// last run are added, eaten ones removed, and each player sweeps only the orbs within its
/// reach along x.
pub(crate) fn eat_orbs(
    mut commands: Commands,
    mut players: Query<(&Position, &Radius, &mut Score, &Name), PlayersOnly>,
    new_orbs: Query<(Entity, &Position, &Radius, &Score), Added<Orb>>,
    orbs: Query<(), With<Orb>>,
    mut pantry: Local<Pantry>,
    mut stats: ResMut<ArenaStats>,
    mut events: ResMut<Outgoing<ArenaEvent>>,
) {
    let Pantry { food, eaten } = &mut *pantry;
    let before = food.len();
    food.extend(new_orbs.iter().map(|(entity, pos, radius, score)| Food {
        entity,
        at: pos.0,
        radius: radius.0,
        value: score.0,
    }));
    if food.len() > before {
        // A stable sort finds the sorted run kept from the last tick and merges the few
        // new orbs into it.
        food.sort_by(|a, b| a.at.x.total_cmp(&b.at.x));
    }
    eaten.clear();
    eaten.resize(food.len(), false);
    let max_orb_radius = food.iter().map(|f| f.radius).fold(0.0, f32::max);
    for (pos, radius, mut score, name) in &mut players {
        let before = score.0;
        let reach = radius.0 + max_orb_radius;
        let start = food.partition_point(|f| f.at.x < pos.0.x - reach);
        for (k, orb) in food.iter().enumerate().skip(start) {
            if orb.at.x > pos.0.x + reach {
                break;
            }
            let touch = radius.0 + orb.radius;
            if eaten[k] || pos.0.distance_squared(orb.at) >= touch * touch {
                continue;
            }
            eaten[k] = true;
            if !orbs.contains(orb.entity) {
                continue; // gone some other way: dropped from the list below
            }
            score.0 = score.0.saturating_add(orb.value);
            stats.orbs_eaten += 1;
            commands.entity(orb.entity).despawn();
        }
        if score.0 / MILESTONE > before / MILESTONE {
            let milestone = score.0 / MILESTONE * MILESTONE;
            events.broadcast(ArenaEvent::Milestone { name: name.0.clone(), score: milestone });
        }
    }
    let mut k = 0;
    food.retain(|_| {
        k += 1;
        !eaten[k - 1]
    });
}

/// Tops the arena up to its orb count at random places.
pub(crate) fn spawn_orbs(
    mut commands: Commands,
    orbs: Query<(), With<Orb>>,
    rules: Res<Rules>,
    mut rng: ResMut<ArenaRng>,
) {
    let missing = rules.config.orbs.saturating_sub(orbs.iter().count());
    let size = rules.config.size;
    let rng = &mut rng.0;
    for _ in 0..missing {
        let value = 1 + u32::from(rng.u8(0..8) == 0) + u32::from(rng.u8(0..16) == 0);
        let radius = 0.25 + 0.1 * value as f32;
        let at = Vec2::new(
            radius + rng.f32() * (size - 2.0 * radius),
            radius + rng.f32() * (size - 2.0 * radius),
        );
        commands.spawn((
            Replicated,
            Orb,
            Position(movement::snap_position(at)),
            Radius(radius),
            Color(ORB_COLORS[value as usize - 1]),
            Score(value),
        ));
    }
}

const ORB_COLORS: [[u8; 3]; 3] = [[120, 220, 140], [90, 170, 250], [250, 200, 70]];

/// A bright colour from a hue picked at random.
pub(crate) fn player_color(rng: &mut fastrand::Rng) -> [u8; 3] {
    let hue = rng.f32() * 6.0;
    let ramp = |offset: f32| {
        let k = (hue + offset) % 6.0;
        let level = 1.0 - (k.min(4.0 - k).clamp(0.0, 1.0));
        (70.0 + 185.0 * (1.0 - level)) as u8
    };
    [ramp(5.0), ramp(3.0), ramp(1.0)]
}
