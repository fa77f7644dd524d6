//! Paint: everyone moves a cursor over a shared grid and paints the cells under it in their
//! own colour. A second game on tickwire, written only against its public API, and shaped
//! nothing like the arena: absolute cursor positions as input, painted cells as entities
//! without a position, one canvas entity everybody sees, no interest management, and each
//! painter's [`Brush`] an enum component set after the simulation ([`TickSet::BeforeCapture`]).
//! A painter who joins with `?sheet=N` (1 to [`MAX_SHEET`]) paints on a private sheet over the
//! shared canvas: the sheet's painters and strokes are seen only by that sheet's painters
//! ([`VisibleTo`], [`MemberOf`]), who still see the shared canvas.

use bevy_ecs::prelude::*;
use glam::Vec2;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tickwire::bots::{BotGame, Steer};
use tickwire::{
    ClientInfo, Game, GameBuilder, GameInput, Inputs, MemberOf, Quantized, Replica, Replicated,
    TickSet, VisibleTo,
};

/// Cells across the canvas.
pub const WIDTH: u16 = 48;
/// Cells down the canvas.
pub const HEIGHT: u16 = 32;
/// Cursor positions are sent in 1/16 of a cell.
pub const CURSOR_SCALE: f32 = 16.0;

/// Where a painter's cursor is, in cells (on the 1/16 grid).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Cursor(pub Vec2);

impl Quantized for Cursor {
    const FIELDS: &'static [(&'static str, f32)] = &[("x", CURSOR_SCALE), ("y", CURSOR_SCALE)];
    fn quantize(&self, out: &mut [i32]) {
        out[0] = (self.0.x * CURSOR_SCALE).round() as i32;
        out[1] = (self.0.y * CURSOR_SCALE).round() as i32;
    }
    fn dequantize(values: &[i32]) -> Self {
        Cursor(Vec2::new(values[0] as f32, values[1] as f32) / CURSOR_SCALE)
    }
}

/// Who paints with a cursor, and in which colour.
#[derive(Component, Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Painter {
    /// The name from `?name=`.
    pub name: String,
    /// Red, green, blue.
    pub color: [u8; 3],
}

/// What a painter's brush is doing, for everyone to see: an enum component, sent whole
/// whenever it changes.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Brush {
    /// The button is up.
    #[default]
    Lifted,
    /// The button is down over cell (`x`, `y`).
    Painting {
        /// Column.
        x: u16,
        /// Row.
        y: u16,
    },
}

/// A painted cell.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cell {
    /// Column.
    pub x: u16,
    /// Row.
    pub y: u16,
    /// Red, green, blue.
    pub color: [u8; 3],
}

/// The one canvas entity: how many strokes changed a cell so far.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Canvas {
    /// Strokes that changed a cell's colour.
    pub strokes: u32,
}

/// A painter's input: where the cursor is (in 1/16 cell), and whether the button is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaintInput {
    /// Cursor x, 0..=WIDTH × 16.
    pub x: u16,
    /// Cursor y, 0..=HEIGHT × 16.
    pub y: u16,
    /// Painting.
    pub down: bool,
}

impl GameInput for PaintInput {
    fn validate(&self) -> Result<(), String> {
        let (w, h) = (WIDTH * CURSOR_SCALE as u16, HEIGHT * CURSOR_SCALE as u16);
        if self.x > w || self.y > h {
            return Err(format!("cursor ({}, {}) is off the {w} x {h} canvas", self.x, self.y));
        }
        Ok(())
    }
}

/// What a page needs to draw the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaintWelcome {
    /// Cells across.
    pub width: u16,
    /// Cells down.
    pub height: u16,
}

/// The highest private sheet number (`?sheet=`); 0, or none, is the shared canvas.
pub const MAX_SHEET: u32 = 63;

/// The sheet a painter paints on (0: the shared canvas); not replicated.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sheet(pub u32);

impl Sheet {
    /// Who sees what is painted on this sheet: everyone for the shared canvas.
    fn visibility(self) -> Option<VisibleTo> {
        (self.0 > 0).then(|| VisibleTo::group(self.0))
    }
}

/// The painted cells by sheet and place, so a stroke finds its cell's entity.
#[derive(Resource, Default)]
struct Cells(HashMap<(u32, u16, u16), Entity>);

/// The game.
#[derive(Debug, Default, Clone, Copy)]
pub struct Paint;

impl Game for Paint {
    type Input = PaintInput;
    type Welcome = PaintWelcome;
    type Message = tickwire::NoMessages;
    type Event = tickwire::NoMessages;
    const NAME: &'static str = "paint";

    fn build(&mut self, game: &mut GameBuilder<'_>) {
        game.world().init_resource::<Cells>();
        game.world().spawn((Replicated, Canvas::default()));
        game.replicate_quantized::<Cursor>();
        game.replicate::<Painter>();
        game.replicate::<Cell>();
        game.replicate::<Canvas>();
        game.replicate_variants(&[Brush::Lifted, Brush::Painting { x: 0, y: 0 }]);
        game.add_systems((move_cursors, paint).chain());
        game.add_systems_to(TickSet::BeforeCapture, show_brushes);
    }

    fn welcome(&self) -> PaintWelcome {
        PaintWelcome { width: WIDTH, height: HEIGHT }
    }

    fn join(&mut self, world: &mut World, client: &ClientInfo) -> Entity {
        let name = client.param("name").unwrap_or("painter").chars().take(16).collect();
        let hue = client.client_id.wrapping_mul(0x9E37_79B9).to_le_bytes();
        let color = [hue[0] | 0x40, hue[1] | 0x40, hue[2] | 0x40];
        let center = Vec2::new(f32::from(WIDTH), f32::from(HEIGHT)) / 2.0;
        let sheet = client.param("sheet").and_then(|s| s.parse().ok()).filter(|&s| s <= MAX_SHEET);
        let sheet = Sheet(sheet.unwrap_or(0));
        let painter = (Replicated, Cursor(center), Painter { name, color }, Brush::Lifted, sheet);
        let mut entity = world.spawn(painter);
        if let Some(visible) = sheet.visibility() {
            entity.insert((visible, MemberOf::group(sheet.0)));
        }
        entity.id()
    }
}

/// Each cursor goes where its latest input puts it.
fn move_cursors(mut cursors: Query<(&Inputs<PaintInput>, &mut Cursor)>) {
    for (inputs, mut cursor) in &mut cursors {
        if let Some(input) = inputs.this_tick().last() {
            cursor.0 = Vec2::new(f32::from(input.x), f32::from(input.y)) / CURSOR_SCALE;
        }
    }
}

/// The cell under a cursor.
fn cell_under(cursor: &Cursor) -> (u16, u16) {
    ((cursor.0.x as u16).min(WIDTH - 1), (cursor.0.y as u16).min(HEIGHT - 1))
}

/// Once the tick's painting is done, shows each brush as its latest input left it.
fn show_brushes(mut brushes: Query<(&Inputs<PaintInput>, &Cursor, &mut Brush)>) {
    for (inputs, cursor, mut brush) in &mut brushes {
        let Some(input) = inputs.this_tick().last() else { continue };
        let (x, y) = cell_under(cursor);
        brush.set_if_neq(if input.down { Brush::Painting { x, y } } else { Brush::Lifted });
    }
}

/// Paints the cell under every cursor whose button is down.
fn paint(
    mut commands: Commands,
    painters: Query<(&Inputs<PaintInput>, &Cursor, &Painter, &Sheet)>,
    mut cells: Query<&mut Cell>,
    mut index: ResMut<Cells>,
    mut canvas: Query<&mut Canvas>,
) {
    for (inputs, cursor, painter, sheet) in &painters {
        if !inputs.this_tick().iter().any(|input| input.down) {
            continue;
        }
        let (x, y) = cell_under(cursor);
        let stroke = Cell { x, y, color: painter.color };
        let place = (sheet.0, x, y);
        let changed = match index.0.get(&place).and_then(|&e| cells.get_mut(e).ok()) {
            Some(mut cell) if *cell != stroke => {
                *cell = stroke;
                true
            }
            Some(_) => false,
            None => {
                let mut cell = commands.spawn((Replicated, stroke));
                if let Some(visible) = sheet.visibility() {
                    cell.insert(visible);
                }
                index.0.insert(place, cell.id());
                true
            }
        };
        if changed && let Ok(mut canvas) = canvas.single_mut() {
            canvas.strokes += 1;
        }
    }
}

impl BotGame for Paint {
    /// Bots sweep their cursor in their steering's direction and paint while it points down.
    fn bot_input(steer: Steer, replica: &Replica, own: u32) -> PaintInput {
        let at = replica.get::<Cursor>(own).map_or(Vec2::ZERO, |c| c.0);
        let step = Vec2::new(f32::from(steer.x), f32::from(steer.y)) / 127.0 * 0.5;
        let max = Vec2::new(f32::from(WIDTH), f32::from(HEIGHT));
        let next = ((at + step).clamp(Vec2::ZERO, max) * CURSOR_SCALE).round();
        PaintInput { x: next.x as u16, y: next.y as u16, down: steer.action || steer.y > 0 }
    }
}
