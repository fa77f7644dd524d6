//! The components of the arena game.

use super::{POSITION_SCALE, VELOCITY_SCALE};
use crate::{Quantized, Spatial};
use bevy_ecs::prelude::*;
use glam::Vec2;
use serde::{Deserialize, Serialize};

/// Position in world units, snapped to the 1/64 wire grid at the end of every tick.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Position(pub Vec2);

impl Quantized for Position {
    const FIELDS: &'static [(&'static str, f32)] = &[("x", POSITION_SCALE), ("y", POSITION_SCALE)];
    fn quantize(&self, out: &mut [i32]) {
        out[0] = (self.0.x * POSITION_SCALE).round() as i32;
        out[1] = (self.0.y * POSITION_SCALE).round() as i32;
    }
    fn dequantize(values: &[i32]) -> Self {
        Position(Vec2::new(values[0] as f32, values[1] as f32) / POSITION_SCALE)
    }
}

impl Spatial for Position {
    fn position(&self) -> Vec2 {
        self.0
    }
}

/// Velocity in world units per second.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Velocity(pub Vec2);

impl Quantized for Velocity {
    const FIELDS: &'static [(&'static str, f32)] = &[("x", VELOCITY_SCALE), ("y", VELOCITY_SCALE)];
    fn quantize(&self, out: &mut [i32]) {
        // Velocities are truncated onto their grid by the movement rules: exact here.
        out[0] = (self.0.x * VELOCITY_SCALE) as i32;
        out[1] = (self.0.y * VELOCITY_SCALE) as i32;
    }
    fn dequantize(values: &[i32]) -> Self {
        Velocity(Vec2::new(values[0] as f32, values[1] as f32) / VELOCITY_SCALE)
    }
}

/// Radius in world units.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Radius(pub f32);

impl Quantized for Radius {
    const FIELDS: &'static [(&'static str, f32)] = &[("radius", POSITION_SCALE)];
    fn quantize(&self, out: &mut [i32]) {
        out[0] = (self.0 * POSITION_SCALE).round() as i32;
    }
    fn dequantize(values: &[i32]) -> Self {
        Radius(values[0] as f32 / POSITION_SCALE)
    }
}

/// Display colour (red, green, blue).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Color(pub [u8; 3]);

/// Display name.
#[derive(Component, Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Name(pub String);

/// A player's score, or an orb's value.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Score(pub u32);

/// A food orb.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Orb;
