//! Interest management: which entities each client is sent.
//!
//! A uniform grid over the arena, rebuilt once per tick from the frame; a client's view is
//! the square of half-side `view_radius` around its player. Entities already in view stay
//! until they are more than `HYSTERESIS × view_radius` away, so an entity on the edge does
//! not flicker between spawn and despawn.

use super::frame::Frame;

/// How much farther than the view radius an entity already in view may go before it leaves.
pub const HYSTERESIS: f32 = 1.25;

/// Entities bucketed by grid cell: each entry is a record's position and its index in the
/// frame, so a query reads each cell front to back without going back to the frame.
#[derive(Debug, Default)]
pub struct Grid {
    cell: i32,
    cols: i32,
    rows: i32,
    cells: Vec<Vec<(i32, i32, u32)>>,
}

impl Grid {
    /// An empty grid for an arena of `size` world units and a view of `view_radius`.
    pub fn new(size: f32, view_radius: f32) -> Grid {
        let cell = super::frame::to_wire(view_radius).max(64);
        let side = super::frame::to_wire(size).max(1);
        let cols = (side / cell + 1).min(4096);
        let rows = cols;
        Grid { cell, cols, rows, cells: vec![Vec::new(); (cols * rows) as usize] }
    }

    fn cell_of(&self, x: i32, y: i32) -> (i32, i32) {
        ((x / self.cell).clamp(0, self.cols - 1), (y / self.cell).clamp(0, self.rows - 1))
    }

    /// Refills the grid from a frame.
    pub fn rebuild(&mut self, frame: &Frame) {
        self.cells.iter_mut().for_each(Vec::clear);
        for (index, record) in frame.records.iter().enumerate() {
            let (cx, cy) = self.cell_of(record.x, record.y);
            self.cells[(cy * self.cols + cx) as usize].push((record.x, record.y, index as u32));
        }
    }

    /// Appends to `out` the records within `reach` (wire units, per axis) of (x, y), in no
    /// particular order.
    pub fn query(&self, x: i32, y: i32, reach: i32, out: &mut Vec<u32>) {
        let (x0, y0) = self.cell_of(x.saturating_sub(reach), y.saturating_sub(reach));
        let (x1, y1) = self.cell_of(x.saturating_add(reach), y.saturating_add(reach));
        for cy in y0..=y1 {
            for cx in x0..=x1 {
                for &(ex, ey, index) in &self.cells[(cy * self.cols + cx) as usize] {
                    if (ex - x).abs() <= reach && (ey - y).abs() <= reach {
                        out.push(index);
                    }
                }
            }
        }
    }
}
