//! What a snapshot costs on the wire: a moving entity, an idle entity, an idle client.
//! Run with `--nocapture` to see the figures.

use bevy_ecs::entity::Entity;
use glam::Vec2;
use std::time::{Duration, Instant};
use tickwire::arena::{Arena, ArenaConfig, ArenaInput, Position};
use tickwire::replication::ClientView;
use tickwire::{ClientInfo, Room, RoomSettings, Tick};

/// Puts the `n`th player of a group on a grid 4 units apart, starting at (`corner`, `corner`),
/// so that no two players touch and the groups stay far apart.
fn place(room: &mut Room<Arena>, player: Entity, corner: f32, n: usize) {
    let at = Vec2::new(corner + 4.0 * (n % 100) as f32, corner + 4.0 * (n / 100) as f32);
    room.world_mut().get_mut::<Position>(player).expect("position").0 = at;
}

fn join(room: &mut Room<Arena>, id: u32) -> (Entity, tickwire::NetId) {
    room.join(&ClientInfo { client_id: id, query: Vec::new(), identity: None })
}

/// Runs `movers` players holding a direction and `idle` players standing still, everyone in
/// view, and returns the size of one observer's steady-state delta.
fn delta_bytes(movers: usize, idle: usize) -> usize {
    let arena =
        ArenaConfig { size: 4000.0, view_radius: 4000.0, orbs: 0, ..ArenaConfig::default() };
    let settings = RoomSettings { history_ticks: 8, ..RoomSettings::default() };
    let mut room = Room::new(Arena::new(arena), settings).expect("arena");
    let (observer_entity, observer) = join(&mut room, 1);
    let mut moving = Vec::new();
    for n in 0..movers {
        let (player, _) = join(&mut room, 2 + n as u32);
        place(&mut room, player, 100.0, n);
        let dir = if n % 2 == 0 { 127 } else { -127 };
        moving.push((player, ArenaInput { move_x: dir, move_y: dir / 2, buttons: 0 }));
    }
    for n in 0..idle {
        let (player, _) = join(&mut room, 10_000 + n as u32);
        place(&mut room, player, 2000.0, n);
    }
    let mut view = ClientView::new(observer);
    let mut size = 0;
    // Ten ticks reach a steady speed; no one reaches a wall or another player.
    let start = Instant::now();
    for t in 1..=10 {
        let now = start + Duration::from_micros(33_333) * t;
        // One input a tick, as a client holding a key sends (an empty buffer moves nobody).
        for &(player, input) in &moving {
            room.push_input(player, t, input, now).expect("queued");
        }
        room.step(Tick(t), now);
        view.settle(false);
        let mut bytes = Vec::new();
        room.build(&mut view, observer_entity, &mut bytes);
        size = bytes.len();
    }
    size
}

#[test]
fn a_moving_entity_costs_four_bytes_and_an_idle_one_nothing() {
    let header = delta_bytes(0, 0);
    let movers = delta_bytes(200, 0);
    let movers_and_idle = delta_bytes(200, 300);
    let per_mover = (movers - header) as f64 / 200.0;
    let per_idle = (movers_and_idle as f64 - movers as f64) / 300.0;
    println!("idle client delta: {header} bytes payload, {} with WebSocket framing", header + 2);
    println!("per moving entity: {per_mover:.2} bytes; per idle entity: {per_idle:.2} bytes");
    assert_eq!(header, 4, "tag, tick delta, input ack and pacing hint, empty op list");
    assert!(per_mover <= 4.0, "one Position delta op is tag, id gap, dx, dy: {per_mover}");
    assert_eq!(movers_and_idle, movers, "an idle entity costs 0 bytes");
}
