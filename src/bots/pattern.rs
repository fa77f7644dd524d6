//! How a bot moves: one input per tick from a small deterministic state machine.

use super::game::Steer;
use serde::{Deserialize, Serialize};
use std::f32::consts::TAU;

/// A movement pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// Walk in a direction for about a second, then pick another; boost now and then.
    RandomWalk,
    /// Turn a little every tick: a full circle every three seconds.
    Circles,
    /// Send no input at all, only a ping per second.
    Idle,
}

/// One bot's steering state.
#[derive(Debug, Clone)]
pub struct Steering {
    pattern: Pattern,
    rng: fastrand::Rng,
    angle: f32,
    turn_per_tick: f32,
    boost: bool,
}

impl Steering {
    /// A steering seeded by the bot's index, for a server ticking at `tick_rate_hz`.
    pub fn new(pattern: Pattern, seed: u64, tick_rate_hz: u16) -> Steering {
        let mut rng = fastrand::Rng::with_seed(seed);
        let angle = rng.f32() * TAU;
        let turn_per_tick = TAU / (3.0 * f32::from(tick_rate_hz.max(1)));
        Steering { pattern, rng, angle, turn_per_tick, boost: false }
    }

    /// Whether this pattern sends inputs.
    pub fn sends_inputs(&self) -> bool {
        self.pattern != Pattern::Idle
    }

    /// The next tick's steering.
    pub fn next_input(&mut self, tick_rate_hz: u16) -> Steer {
        match self.pattern {
            Pattern::RandomWalk => {
                if self.rng.u32(..u32::from(tick_rate_hz.max(1))) == 0 {
                    self.angle = self.rng.f32() * TAU;
                    self.boost = self.rng.u8(..10) == 0;
                }
            }
            Pattern::Circles => self.angle = (self.angle + self.turn_per_tick) % TAU,
            Pattern::Idle => return Steer::default(),
        }
        let axis = |v: f32| (v * 127.0).round().clamp(-127.0, 127.0) as i8;
        Steer { x: axis(self.angle.cos()), y: axis(self.angle.sin()), action: self.boost }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circles_turn_a_full_circle_in_three_seconds() {
        let mut s = Steering::new(Pattern::Circles, 1, 30);
        let first = s.next_input(30);
        for _ in 0..89 {
            s.next_input(30);
        }
        let Steer { x, y, .. } = s.next_input(30);
        assert!((i32::from(x) - i32::from(first.x)).abs() <= 2, "{x} vs {first:?}");
        assert!((i32::from(y) - i32::from(first.y)).abs() <= 2, "{y} vs {first:?}");
    }

    #[test]
    fn idle_sends_nothing_and_walks_stay_in_range() {
        assert!(!Steering::new(Pattern::Idle, 1, 30).sends_inputs());
        let mut s = Steering::new(Pattern::RandomWalk, 7, 30);
        for _ in 0..1_000 {
            let Steer { x, y, .. } = s.next_input(30);
            assert!(x >= -127 && y >= -127);
        }
    }
}
