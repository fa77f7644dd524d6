//! The simulation in-process, with time owned by the test: movement, walls, collisions,
//! orbs, the jitter buffer and despawn.

use bevy_ecs::prelude::*;
use glam::Vec2;
use tickwire::config::WorldConfig;
use tickwire::protocol::{BUTTON_BOOST, Input};
use tickwire::sim::{Controller, InputError, NetId, Orb, Position, Queued, Score, Sim};
use tickwire::tick::Tick;

fn sim_with(orbs: usize) -> Sim {
    let world = WorldConfig { size: 100.0, orbs, ..WorldConfig::default() };
    Sim::new(world, 30, 4)
}

fn input(seq: u32, move_x: i8, move_y: i8) -> Input {
    Input { seq, move_x, move_y, buttons: 0 }
}

fn place(sim: &mut Sim, entity: Entity, at: Vec2) {
    sim.world_mut().get_mut::<Position>(entity).expect("position").0 = at;
}

fn pos(sim: &Sim, entity: Entity) -> Vec2 {
    sim.world().get::<Position>(entity).expect("position").0
}

fn run(sim: &mut Sim, from: u32, ticks: u32) {
    for t in from..from + ticks {
        sim.step(Tick(t));
    }
}

fn orb_count(sim: &mut Sim) -> usize {
    sim.world_mut().query_filtered::<(), With<Orb>>().iter(sim.world()).count()
}

#[test]
fn inputs_move_players_one_step_each() {
    let mut sim = sim_with(0);
    let (player, _) = sim.spawn_player("ada");
    place(&mut sim, player, Vec2::splat(50.0));
    for seq in 1..=3 {
        assert_eq!(sim.push_input(player, input(seq, 0, 127)), Ok(Queued::Ok));
    }
    sim.step(Tick(1));
    let applied = |sim: &Sim| sim.world().get::<Controller>(player).expect("c").last_applied_seq();
    assert_eq!(applied(&sim), 2, "a backlog is caught up two inputs per tick");
    sim.step(Tick(2));
    assert_eq!(applied(&sim), 3, "then one per tick");
    run(&mut sim, 3, 28);
    let at = pos(&sim, player);
    assert!(at.y > 55.0 && at.x == 50.0, "moved down: {at}");
    assert_eq!(
        sim.world().get::<Controller>(player).expect("c").last_applied_seq(),
        3,
        "last input held"
    );
}

#[test]
fn boost_outruns_walking() {
    let mut sim = sim_with(0);
    let (walker, _) = sim.spawn_player("walk");
    let (booster, _) = sim.spawn_player("boost");
    place(&mut sim, walker, Vec2::new(10.0, 20.0));
    place(&mut sim, booster, Vec2::new(10.0, 80.0));
    sim.push_input(walker, input(1, 127, 0)).expect("queued");
    sim.push_input(booster, Input { seq: 1, move_x: 127, move_y: 0, buttons: BUTTON_BOOST })
        .expect("queued");
    run(&mut sim, 1, 45);
    assert!(pos(&sim, booster).x > pos(&sim, walker).x + 5.0);
}

#[test]
fn walls_hold_players_inside() {
    let mut sim = sim_with(0);
    let (player, _) = sim.spawn_player("ada");
    place(&mut sim, player, Vec2::splat(95.0));
    sim.push_input(player, input(1, 127, 127)).expect("queued");
    run(&mut sim, 1, 60);
    assert_eq!(pos(&sim, player), Vec2::splat(99.0), "stopped one radius from the wall");
}

#[test]
fn overlapping_players_are_pushed_apart() {
    let mut sim = sim_with(0);
    let (a, _) = sim.spawn_player("a");
    let (b, _) = sim.spawn_player("b");
    place(&mut sim, a, Vec2::new(50.0, 50.0));
    place(&mut sim, b, Vec2::new(50.5, 50.0));
    sim.step(Tick(1));
    let gap = pos(&sim, b).x - pos(&sim, a).x;
    assert!((gap - 2.0).abs() < 0.05, "separated to two radii: {gap}");
    assert_eq!(pos(&sim, a).y, 50.0);
}

#[test]
fn players_eat_orbs_and_orbs_respawn() {
    let mut sim = sim_with(30);
    assert_eq!(orb_count(&mut sim), 30);
    let (player, _) = sim.spawn_player("ada");
    let (orb, value) = {
        let world = sim.world_mut();
        let mut orbs = world.query_filtered::<(Entity, &Score), With<Orb>>();
        let (orb, score) = orbs.iter(world).next().expect("an orb");
        (orb, score.0)
    };
    let at = pos(&sim, orb);
    place(&mut sim, player, at);
    sim.step(Tick(1));
    assert!(sim.world().get_entity(orb).is_err(), "the orb is gone");
    assert!(sim.world().get::<Score>(player).expect("score").0 >= value);
    assert_eq!(orb_count(&mut sim), 30, "a new orb replaced it");
    assert!(sim.take_stats().orbs_eaten >= 1);
}

#[test]
fn orbs_spawned_during_play_can_be_eaten() {
    let mut sim = sim_with(30);
    let (player, _) = sim.spawn_player("ada");
    let orbs_now = |sim: &mut Sim| {
        let world = sim.world_mut();
        let mut orbs = world.query_filtered::<Entity, With<Orb>>();
        orbs.iter(world).collect::<Vec<_>>()
    };
    let first = orbs_now(&mut sim);
    // Eat one orb, then one that spawned to replace it, ticks apart.
    let at = pos(&sim, first[0]);
    place(&mut sim, player, at);
    sim.step(Tick(1));
    let respawned = orbs_now(&mut sim).into_iter().find(|o| !first.contains(o)).expect("a new orb");
    sim.step(Tick(2));
    let score = sim.world().get::<Score>(player).expect("score").0;
    let at = pos(&sim, respawned);
    place(&mut sim, player, at);
    sim.step(Tick(3));
    assert!(sim.world().get_entity(respawned).is_err(), "the respawned orb was eaten");
    assert!(sim.world().get::<Score>(player).expect("score").0 > score);
    assert_eq!(orb_count(&mut sim), 30);
}

#[test]
fn jitter_buffer_is_bounded_and_inputs_are_validated() {
    let mut sim = sim_with(0);
    let (player, _) = sim.spawn_player("ada");
    for seq in 1..=4 {
        assert_eq!(sim.push_input(player, input(seq, 1, 1)), Ok(Queued::Ok));
    }
    assert_eq!(sim.push_input(player, input(5, 1, 1)), Ok(Queued::DroppedOldest));
    assert_eq!(
        sim.push_input(player, input(5, 1, 1)),
        Err(InputError::SeqNotIncreasing { seq: 5, last: 5 })
    );
    let bad = Input { seq: 6, move_x: 0, move_y: 0, buttons: 0x80 };
    assert_eq!(sim.push_input(player, bad), Err(InputError::UnknownButtons { buttons: 0x80 }));
    sim.step(Tick(1));
    let controller = sim.world().get::<Controller>(player).expect("controller");
    assert_eq!(controller.last_applied_seq(), 3, "input 1 was dropped; 2 and 3 caught up");
}

#[test]
fn despawned_players_free_their_wire_id() {
    let mut sim = sim_with(0);
    let (a, id_a) = sim.spawn_player("a");
    sim.despawn(a);
    assert!(sim.world().get_entity(a).is_err());
    assert_eq!(sim.push_input(a, input(1, 0, 0)), Err(InputError::NoPlayer));
    let (_, id_b) = sim.spawn_player("b");
    assert_eq!(id_b.id, id_a.id, "the id is reused");
    assert_ne!(id_b, id_a, "as a new incarnation");
    let ids: Vec<NetId> = sim.world_mut().query::<&NetId>().iter(sim.world()).copied().collect();
    assert_eq!(ids.len(), 1);
}

#[test]
fn names_are_sanitized() {
    use tickwire::sim::sanitize_name;
    assert_eq!(sanitize_name("  Ada\u{7}\n Lovelace  "), "Ada Lovelace");
    assert_eq!(sanitize_name("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnop");
    assert_eq!(sanitize_name("\u{1b}[31m"), "[31m");
    assert_eq!(sanitize_name(" \t "), "");
}
