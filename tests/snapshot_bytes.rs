//! What a snapshot costs on the wire: a moving entity, an idle entity, an idle client.
//! Run with `--nocapture` to see the figures.

use bevy_ecs::entity::Entity;
use glam::Vec2;
use tickwire::config::WorldConfig;
use tickwire::protocol::Input;
use tickwire::replication::{self, ClientView, OwnState, Replication};
use tickwire::sim::{Position, Sim};
use tickwire::tick::Tick;

/// Puts the `n`th player of a group on a grid 4 units apart, starting at (`corner`, `corner`),
/// so that no two players touch and the groups stay far apart.
fn place(sim: &mut Sim, player: Entity, corner: f32, n: usize) {
    let at = Vec2::new(corner + 4.0 * (n % 100) as f32, corner + 4.0 * (n / 100) as f32);
    sim.world_mut().get_mut::<Position>(player).expect("position").0 = at;
}

/// Runs `movers` players holding a direction and `idle` players standing still, everyone in
/// view, and returns the size of one observer's steady-state delta.
fn delta_bytes(movers: usize, idle: usize) -> usize {
    let world =
        WorldConfig { size: 4000.0, view_radius: 4000.0, orbs: 0, ..WorldConfig::default() };
    let mut sim = Sim::new(world, 30, 4);
    let mut replication = Replication::new(4000.0, 4000.0, 8);
    let (_, observer) = sim.spawn_player("observer");
    for n in 0..movers {
        let (player, _) = sim.spawn_player(&format!("p{n}"));
        place(&mut sim, player, 100.0, n);
        let dir = if n % 2 == 0 { 127 } else { -127 };
        sim.push_input(player, Input { seq: 1, move_x: dir, move_y: dir / 2, buttons: 0 })
            .expect("queued");
    }
    for n in 0..idle {
        let (player, _) = sim.spawn_player(&format!("idle{n}"));
        place(&mut sim, player, 2000.0, n);
    }
    let mut view = ClientView::new(observer);
    let mut size = 0;
    // Ten ticks reach a steady speed; no one reaches a wall or another player.
    for t in 1..=10 {
        sim.step(Tick(t));
        replication.begin_tick(replication::capture(sim.world_mut(), Tick(t)));
        view.settle(false);
        let mut bytes = Vec::new();
        let own = OwnState { seq: 0, velocity: (0, 0) };
        replication.build(sim.world(), &mut view, own, &mut bytes);
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
    assert_eq!(header, 4, "tag, tick delta, input delta, empty op list");
    assert!(per_mover <= 4.0, "a Move op is tag, id gap, dx, dy: {per_mover}");
    assert_eq!(movers_and_idle, movers, "an idle entity costs 0 bytes");
}
