//! The arena's movement rules, which clients predict with (`client-demo/movement.js` does the
//! same operations in the same order). Every value is `f32` and the order of operations is part of the protocol, so
//! this file is written out per component rather than with vector helpers.

use super::{ArenaInput as Input, BUTTON_BOOST, MovementParams, POSITION_SCALE, VELOCITY_SCALE};
use glam::Vec2;

/// Advances one player by one tick of `input`: accelerate, apply friction, cap the speed,
/// integrate, stop at the walls and snap to the wire grid.
pub fn step(
    pos: &mut Vec2,
    vel: &mut Vec2,
    input: &Input,
    params: &MovementParams,
    dt: f32,
    world: Vec2,
) {
    let (dir_x, dir_y) = direction(input);
    let boost = input.buttons & BUTTON_BOOST != 0;
    let accel = if boost { params.boost_accel } else { params.accel };
    let cap = if boost { params.boost_max_speed } else { params.max_speed };
    vel.x += (dir_x * accel) * dt;
    vel.y += (dir_y * accel) * dt;
    let keep = (1.0 - params.friction * dt).max(0.0);
    vel.x *= keep;
    vel.y *= keep;
    let speed2 = vel.x * vel.x + vel.y * vel.y;
    if speed2 > cap * cap {
        let factor = cap / speed2.sqrt();
        vel.x *= factor;
        vel.y *= factor;
    }
    pos.x += vel.x * dt;
    pos.y += vel.y * dt;
    confine(pos, vel, params.player_radius, world);
    *pos = snap_position(*pos);
    *vel = snap_velocity(*vel);
}

/// The input's direction, clamped to unit length.
fn direction(input: &Input) -> (f32, f32) {
    let x = f32::from(input.move_x) / 127.0;
    let y = f32::from(input.move_y) / 127.0;
    let len2 = x * x + y * y;
    if len2 > 1.0 {
        let len = len2.sqrt();
        (x / len, y / len)
    } else {
        (x, y)
    }
}

/// Keeps a circle of `radius` inside the arena, stopping velocity into a wall.
pub fn confine(pos: &mut Vec2, vel: &mut Vec2, radius: f32, world: Vec2) {
    if pos.x < radius {
        pos.x = radius;
        vel.x = vel.x.max(0.0);
    }
    if pos.x > world.x - radius {
        pos.x = world.x - radius;
        vel.x = vel.x.min(0.0);
    }
    if pos.y < radius {
        pos.y = radius;
        vel.y = vel.y.max(0.0);
    }
    if pos.y > world.y - radius {
        pos.y = world.y - radius;
        vel.y = vel.y.min(0.0);
    }
}

/// Rounds a position to the 1/64-unit wire grid.
pub fn snap_position(pos: Vec2) -> Vec2 {
    Vec2::new(
        (pos.x * POSITION_SCALE).round() / POSITION_SCALE,
        (pos.y * POSITION_SCALE).round() / POSITION_SCALE,
    )
}

/// Truncates a velocity toward zero on the 1/64-unit-per-second grid, so friction brings it
/// to rest instead of leaving it stuck one grid step from zero.
pub fn snap_velocity(vel: Vec2) -> Vec2 {
    Vec2::new(
        (vel.x * VELOCITY_SCALE).trunc() / VELOCITY_SCALE,
        (vel.y * VELOCITY_SCALE).trunc() / VELOCITY_SCALE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::ArenaConfig;

    fn input(move_x: i8, move_y: i8, buttons: u8) -> Input {
        Input { move_x, move_y, buttons }
    }

    fn run(ticks: usize, input: Input, start: Vec2) -> (Vec2, Vec2) {
        let params = ArenaConfig::default().movement;
        let (mut pos, mut vel) = (start, Vec2::ZERO);
        for _ in 0..ticks {
            step(&mut pos, &mut vel, &input, &params, 1.0 / 30.0, Vec2::splat(200.0));
        }
        (pos, vel)
    }

    #[test]
    fn holding_a_direction_reaches_the_speed_cap() {
        let (pos, vel) = run(60, input(127, 0, 0), Vec2::splat(100.0));
        assert!((vel.length() - 12.0).abs() < 0.05, "speed {}", vel.length());
        assert!(pos.x > 110.0 && pos.y == 100.0);
    }

    #[test]
    fn boost_raises_the_cap() {
        let (_, vel) = run(60, input(0, -127, BUTTON_BOOST), Vec2::splat(100.0));
        assert!(vel.length() > 19.0 && vel.length() <= 20.0, "speed {}", vel.length());
    }

    #[test]
    fn diagonal_input_is_not_faster() {
        let (_, straight) = run(5, input(127, 0, 0), Vec2::splat(100.0));
        let (_, diagonal) = run(5, input(127, 127, 0), Vec2::splat(100.0));
        assert!((straight.length() - diagonal.length()).abs() < 0.05);
    }

    #[test]
    fn friction_brings_a_player_to_rest() {
        let params = ArenaConfig::default().movement;
        let (mut pos, mut vel) = (Vec2::splat(100.0), Vec2::new(12.0, -7.0));
        for _ in 0..120 {
            step(&mut pos, &mut vel, &input(0, 0, 0), &params, 1.0 / 30.0, Vec2::splat(200.0));
        }
        assert_eq!(vel, Vec2::ZERO);
    }

    #[test]
    fn walls_stop_the_player_at_its_radius() {
        let (pos, vel) = run(120, input(-127, 127, 0), Vec2::splat(3.0));
        assert_eq!(pos.x, 1.0);
        assert_eq!(vel.x, 0.0);
        assert!(pos.y > 3.0);
    }

    #[test]
    fn state_stays_on_the_wire_grid() {
        let (pos, vel) = run(7, input(33, -90, 0), Vec2::new(50.0, 60.0));
        assert_eq!(pos * 64.0, (pos * 64.0).round());
        assert_eq!(vel * 64.0, (vel * 64.0).trunc());
    }
}
