//! The simulation tick counter.

use std::fmt;

/// A simulation tick. Monotonic and never wraps: a `u32` lasts over 4 years at 30 Hz, and the
/// server stops advancing (it saturates) rather than wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tick(pub u32);

impl Tick {
    /// The tick after this one.
    pub fn next(self) -> Tick {
        Tick(self.0.saturating_add(1))
    }

    /// Ticks from `earlier` to `self` (0 when `earlier` is not earlier).
    pub fn since(self, earlier: Tick) -> u32 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_order_and_measure() {
        let a = Tick(10);
        assert!(a < a.next());
        assert_eq!(a.next().since(a), 1);
        assert_eq!(a.since(a.next()), 0);
    }

    #[test]
    fn never_wraps() {
        assert_eq!(Tick(u32::MAX).next(), Tick(u32::MAX));
    }
}
