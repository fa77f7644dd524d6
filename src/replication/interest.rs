//! Interest management: which entities each client is sent.
//!
//! A uniform grid over the world, rebuilt once per tick from the spatial entities' positions;
//! a client's view is the square of half-side `view_radius` around its own entity. Entities
//! already in view stay until they are more than `HYSTERESIS × view_radius` away, so an
//! entity on the edge does not flicker between spawn and despawn. Positions are resolved to
//! 1/[`GRID_SCALE`] of a world unit.

/// Grid units per world unit.
pub const GRID_SCALE: f32 = 64.0;

/// A world-unit length in grid units.
pub fn to_grid(value: f32) -> i32 {
    (value * GRID_SCALE).round() as i32
}

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
    /// An empty grid for a world of `size` world units and a view of `view_radius`.
    pub fn new(size: f32, view_radius: f32) -> Grid {
        let cell = to_grid(view_radius).max(64);
        let side = to_grid(size).max(1);
        let cols = (side / cell + 1).min(4096);
        let rows = cols;
        Grid { cell, cols, rows, cells: vec![Vec::new(); (cols * rows) as usize] }
    }

    fn cell_of(&self, x: i32, y: i32) -> (i32, i32) {
        ((x / self.cell).clamp(0, self.cols - 1), (y / self.cell).clamp(0, self.rows - 1))
    }

    /// Refills the grid with points `(x, y, index)` in grid units.
    pub fn rebuild(&mut self, points: impl Iterator<Item = (i32, i32, u32)>) {
        self.cells.iter_mut().for_each(Vec::clear);
        for (x, y, index) in points {
            let (cx, cy) = self.cell_of(x, y);
            self.cells[(cy * self.cols + cx) as usize].push((x, y, index));
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
