//! The arena in-process, with time owned by the test: movement, walls, collisions, orbs, the
//! input buffer and despawn, through the same `Room` the server runs.

use bevy_ecs::prelude::*;
use glam::Vec2;
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use tickwire::arena::{
    Arena, ArenaConfig, ArenaInput, ArenaStats, BUTTON_BOOST, Orb, Position, Score,
};
use tickwire::input::Queued;
use tickwire::replication::ClientView;
use tickwire::{ClientInfo, Inputs, NetId, Replica, Room, RoomSettings, Tick};

/// When tick `t` starts, on the test's clock (30 Hz).
fn tick_start(t: u32) -> Instant {
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    *START + Duration::from_micros(33_333) * t
}

fn room_with(orbs: usize) -> Room<Arena> {
    let arena = ArenaConfig { size: 100.0, orbs, ..ArenaConfig::default() };
    let settings = RoomSettings { history_ticks: 8, ..RoomSettings::default() };
    Room::new(Arena::new(arena), settings).expect("the arena registers")
}

fn client(id: u32, name: &str) -> ClientInfo {
    ClientInfo { client_id: id, query: vec![("name".into(), name.into())], identity: None }
}

fn spawn(room: &mut Room<Arena>, id: u32) -> (Entity, NetId) {
    room.join(&client(id, &format!("p{id}")))
}

fn input(move_x: i8, move_y: i8) -> ArenaInput {
    ArenaInput { move_x, move_y, buttons: 0 }
}

fn place(room: &mut Room<Arena>, entity: Entity, at: Vec2) {
    room.world_mut().get_mut::<Position>(entity).expect("position").0 = at;
}

fn pos(room: &Room<Arena>, entity: Entity) -> Vec2 {
    room.world().get::<Position>(entity).expect("position").0
}

fn run(room: &mut Room<Arena>, from: u32, ticks: u32) {
    for t in from..from + ticks {
        room.step(Tick(t), tick_start(t));
    }
}

/// Sends each player's input once a tick, as a client does, and runs `ticks` ticks from `from`.
fn drive(room: &mut Room<Arena>, players: &[(Entity, ArenaInput)], from: u32, ticks: u32) {
    for t in from..from + ticks {
        for &(player, input) in players {
            room.push_input(player, t, input, tick_start(t)).expect("queued");
        }
        room.step(Tick(t), tick_start(t));
    }
}

fn orb_count(room: &mut Room<Arena>) -> usize {
    let world = room.world_mut();
    world.query_filtered::<(), With<Orb>>().iter(world).count()
}

fn applied(room: &Room<Arena>, player: Entity) -> u32 {
    room.world().get::<Inputs<ArenaInput>>(player).expect("inputs").last_applied_seq()
}

#[test]
fn inputs_move_players_one_step_each() {
    let mut room = room_with(0);
    let (player, _) = spawn(&mut room, 1);
    place(&mut room, player, Vec2::splat(50.0));
    for seq in 1..=3 {
        assert_eq!(room.push_input(player, seq, input(0, 127), tick_start(0)), Some(Queued::Ok));
    }
    for tick in 1..=3 {
        let before = pos(&room, player);
        room.step(Tick(tick), tick_start(tick));
        assert_eq!(applied(&room, player), tick, "one input per tick");
        assert!(pos(&room, player).y > before.y, "one step down per input");
    }
    let at = pos(&room, player);
    assert!(at.y > 50.0 && at.x == 50.0, "moved down: {at}");
    run(&mut room, 4, 28);
    assert_eq!(pos(&room, player), at, "no input, no step: the last one is not repeated");
    assert_eq!(applied(&room, player), 3);
}

#[test]
fn boost_outruns_walking() {
    let mut room = room_with(0);
    let (walker, _) = spawn(&mut room, 1);
    let (booster, _) = spawn(&mut room, 2);
    place(&mut room, walker, Vec2::new(10.0, 20.0));
    place(&mut room, booster, Vec2::new(10.0, 80.0));
    let boost = ArenaInput { move_x: 127, move_y: 0, buttons: BUTTON_BOOST };
    drive(&mut room, &[(walker, input(127, 0)), (booster, boost)], 1, 45);
    assert!(pos(&room, booster).x > pos(&room, walker).x + 5.0);
}

#[test]
fn walls_hold_players_inside() {
    let mut room = room_with(0);
    let (player, _) = spawn(&mut room, 1);
    place(&mut room, player, Vec2::splat(95.0));
    drive(&mut room, &[(player, input(127, 127))], 1, 60);
    assert_eq!(pos(&room, player), Vec2::splat(99.0), "stopped one radius from the wall");
}

#[test]
fn overlapping_players_are_pushed_apart() {
    let mut room = room_with(0);
    let (a, _) = spawn(&mut room, 1);
    let (b, _) = spawn(&mut room, 2);
    place(&mut room, a, Vec2::new(50.0, 50.0));
    place(&mut room, b, Vec2::new(50.5, 50.0));
    room.step(Tick(1), tick_start(1));
    let gap = pos(&room, b).x - pos(&room, a).x;
    assert!((gap - 2.0).abs() < 0.05, "separated to two radii: {gap}");
    assert_eq!(pos(&room, a).y, 50.0);
}

#[test]
fn players_eat_orbs_and_orbs_respawn() {
    let mut room = room_with(30);
    assert_eq!(orb_count(&mut room), 30);
    let (player, _) = spawn(&mut room, 1);
    let (orb, value) = {
        let world = room.world_mut();
        let mut orbs = world.query_filtered::<(Entity, &Score), With<Orb>>();
        let (orb, score) = orbs.iter(world).next().expect("an orb");
        (orb, score.0)
    };
    let at = pos(&room, orb);
    place(&mut room, player, at);
    room.step(Tick(1), tick_start(1));
    assert!(room.world().get_entity(orb).is_err(), "the orb is gone");
    assert!(room.world().get::<Score>(player).expect("score").0 >= value);
    assert_eq!(orb_count(&mut room), 30, "a new orb replaced it");
    assert!(room.world().resource::<ArenaStats>().orbs_eaten >= 1);
}

#[test]
fn orbs_spawned_during_play_can_be_eaten() {
    let mut room = room_with(30);
    let (player, _) = spawn(&mut room, 1);
    let orbs_now = |room: &mut Room<Arena>| {
        let world = room.world_mut();
        let mut orbs = world.query_filtered::<Entity, With<Orb>>();
        orbs.iter(world).collect::<Vec<_>>()
    };
    let first = orbs_now(&mut room);
    // Eat one orb, then one that spawned to replace it, ticks apart.
    let at = pos(&room, first[0]);
    place(&mut room, player, at);
    room.step(Tick(1), tick_start(1));
    let respawned =
        orbs_now(&mut room).into_iter().find(|o| !first.contains(o)).expect("a new orb");
    room.step(Tick(2), tick_start(2));
    let score = room.world().get::<Score>(player).expect("score").0;
    let at = pos(&room, respawned);
    place(&mut room, player, at);
    room.step(Tick(3), tick_start(3));
    assert!(room.world().get_entity(respawned).is_err(), "the respawned orb was eaten");
    assert!(room.world().get::<Score>(player).expect("score").0 > score);
    assert_eq!(orb_count(&mut room), 30);
}

#[test]
fn the_input_buffer_is_bounded() {
    let mut room = room_with(0);
    let (player, _) = spawn(&mut room, 1);
    let capacity = RoomSettings::default().input_buffer as u32;
    for seq in 1..=capacity {
        assert_eq!(room.push_input(player, seq, input(1, 1), tick_start(0)), Some(Queued::Ok));
    }
    let next = capacity + 1;
    assert_eq!(
        room.push_input(player, next, input(1, 1), tick_start(0)),
        Some(Queued::DroppedOldest)
    );
    room.step(Tick(1), tick_start(1));
    assert_eq!(applied(&room, player), 3, "input 1 was dropped; 2 and 3 caught up");
}

#[test]
fn departed_players_free_their_wire_id() {
    let mut room = room_with(0);
    let (a, id_a) = spawn(&mut room, 1);
    room.step(Tick(1), tick_start(1));
    room.leave(&client(1, "p1"), a);
    assert!(room.world().get_entity(a).is_err());
    assert_eq!(room.push_input(a, 1, input(0, 0), tick_start(0)), None, "no buffer any more");
    room.step(Tick(2), tick_start(2));
    let (_, id_b) = spawn(&mut room, 2);
    assert_eq!(id_b.id, id_a.id, "the id is reused once a tick has seen it gone");
    assert_ne!(id_b, id_a, "as a new incarnation");
    let world = room.world_mut();
    let ids: Vec<NetId> = world.query::<&NetId>().iter(world).copied().collect();
    assert_eq!(ids, [id_b]);
}

#[test]
fn names_are_sanitized() {
    use tickwire::arena::sanitize_name;
    assert_eq!(sanitize_name("  Ada\u{7}\n Lovelace  "), "Ada Lovelace");
    assert_eq!(sanitize_name("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnop");
    assert_eq!(sanitize_name("\u{1b}[31m"), "[31m");
    assert_eq!(sanitize_name(" \t "), "");
}

#[test]
fn buttons_are_validated_at_the_boundary() {
    use tickwire::GameInput;
    assert!(input(1, 1).validate().is_ok());
    let bad = ArenaInput { move_x: 0, move_y: 0, buttons: 0x80 };
    assert_eq!(bad.validate(), Err("input buttons 0x80 set undefined bits".into()));
}

#[test]
fn every_client_sees_the_leader_whatever_the_distance() {
    let arena = ArenaConfig { size: 100.0, orbs: 0, view_radius: 10.0, ..ArenaConfig::default() };
    let settings = RoomSettings { history_ticks: 8, ..RoomSettings::default() };
    let mut room = Room::new(Arena::new(arena), settings).expect("the arena registers");
    let (ada, _) = spawn(&mut room, 1);
    let (bob, bob_id) = spawn(&mut room, 2);
    let (cid, _) = spawn(&mut room, 3);
    place(&mut room, ada, Vec2::new(10.0, 10.0));
    place(&mut room, bob, Vec2::new(90.0, 90.0));
    place(&mut room, cid, Vec2::new(90.0, 10.0));
    room.world_mut().get_mut::<Score>(ada).expect("score").0 = 5;
    room.world_mut().get_mut::<Score>(cid).expect("score").0 = 4;
    let mut view = ClientView::new(bob_id);
    let mut replica = Replica::new(room.registry().clone());
    let mut receive = |room: &mut Room<Arena>| {
        view.settle(false);
        let mut bytes = Vec::new();
        room.build(&mut view, bob, &mut bytes);
        replica.apply(&bytes).expect("applies");
        let id = |e: Entity| room.world().get::<NetId>(e).expect("id").id;
        (replica.contains(id(ada)), replica.contains(id(cid)))
    };
    room.step(Tick(1), tick_start(1));
    assert_eq!(receive(&mut room), (true, false), "Ada leads: Bob sees her from afar, not Cid");
    room.world_mut().get_mut::<Score>(cid).expect("score").0 = 6;
    room.step(Tick(2), tick_start(2));
    assert_eq!(receive(&mut room), (false, true), "Cid leads now, and Ada is out of view");
}
