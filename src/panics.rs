//! Panics caught where they start: a game's code that panics inside a room (its systems, its
//! hooks) or at a connection (decoding and validating what a client sent) fails that room or
//! that connection, and nothing else.
//!
//! [`catch`] is `std::panic::catch_unwind` plus what the log needs: the panic's message, where
//! it was raised, and a backtrace when `RUST_BACKTRACE` asks for one. The standard panic hook
//! would also print each caught panic to stderr, apart from the `error!` line the caller
//! logs; a process-wide hook, installed once and wrapping whatever hook was there, keeps that
//! dump for every panic but those raised inside [`catch`] on the same thread. A panic that
//! the game catches itself, inside a `catch` region, is not lost either: the hook holds it,
//! and `catch` prints it as the standard hook would once the region ends.
//!
//! What is not here: what a caught panic means. The caller decides (a room is closed and
//! dropped, a connection is closed), and says why its `AssertUnwindSafe` is sound.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::{Cell, RefCell};
use std::panic::{self, PanicHookInfo, UnwindSafe};
use std::sync::{Arc, Once};

/// A panic caught by [`catch`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}{}", location.as_ref().map(|at| format!(" (at {at})")).unwrap_or_default())]
pub struct Panic {
    /// The panic's message (`"Box<dyn Any>"` when its payload is not a string).
    pub message: String,
    /// `file:line:column` where it was raised, when the hook saw it.
    pub location: Option<String>,
    /// The backtrace, when `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) asks for one; its
    /// symbols are not resolved yet (see [`Panic::log_backtrace`]).
    pub backtrace: Option<Arc<Backtrace>>,
}

impl Panic {
    /// Logs the backtrace, if one was captured, at `error!` from a thread of its own:
    /// resolving its symbols takes tens to hundreds of milliseconds, which a simulation
    /// thread owes its other rooms' deadlines.
    pub fn log_backtrace(&self, context: String) {
        let Some(backtrace) = self.backtrace.clone() else { return };
        let logged = std::thread::Builder::new().name("tickwire-backtrace".into()).spawn(
            move || tracing::error!(context, backtrace = %backtrace, "backtrace of the panic"),
        );
        if let Err(error) = logged {
            tracing::warn!(%error, "no thread to log the panic's backtrace");
        }
    }
}

/// What the hook saw of a panic raised inside a `catch` region.
struct Seen {
    message: String,
    location: Option<String>,
    backtrace: Option<Arc<Backtrace>>,
}

thread_local! {
    /// How many `catch` regions this thread is inside (they may nest).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Panics raised inside the regions and not yet claimed by a `catch`, oldest first.
    static SEEN: RefCell<Vec<Seen>> = const { RefCell::new(Vec::new()) };
}

static HOOK: Once = Once::new();

/// Runs `f`; a panic inside it is returned as `Err` instead of unwinding further.
///
/// The caller passes `AssertUnwindSafe(..)` and must never use again what `f` may have left
/// half-updated.
pub fn catch<R>(f: impl FnOnce() -> R + UnwindSafe) -> Result<R, Panic> {
    HOOK.call_once(install_hook);
    DEPTH.set(DEPTH.get() + 1);
    let before = SEEN.with_borrow(Vec::len);
    let result = panic::catch_unwind(f);
    DEPTH.set(DEPTH.get() - 1);
    let mut seen = SEEN.with_borrow_mut(|seen| seen.split_off(before.min(seen.len())));
    match result {
        Ok(value) => {
            // Panics the code caught itself: shown as the standard hook would have.
            seen.iter().for_each(print);
            Ok(value)
        }
        Err(payload) => {
            // The last one raised is the one that unwound to here (a re-raise with
            // `resume_unwind` passes no hook, so the last seen is still its origin).
            let last = seen.pop();
            seen.iter().for_each(print);
            let message = message_of(payload.as_ref());
            let (location, backtrace) = last.map_or((None, None), |s| (s.location, s.backtrace));
            Err(Panic { message, location, backtrace })
        }
    }
}

/// Wraps the current hook: panics inside a `catch` region are held for it, the rest go to the
/// hook that was there.
fn install_hook() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
        if DEPTH.get() == 0 {
            return previous(info);
        }
        let backtrace = Backtrace::capture();
        let seen = Seen {
            message: message_of(info.payload()),
            location: info.location().map(ToString::to_string),
            backtrace: (backtrace.status() == BacktraceStatus::Captured)
                .then(|| Arc::new(backtrace)),
        };
        // A panic while the list is borrowed cannot happen: nothing here panics with it held.
        SEEN.with_borrow_mut(|held| held.push(seen));
    }));
}

/// A panic payload's text.
fn message_of(payload: &(dyn Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_owned(),
        (None, Some(text)) => text.clone(),
        (None, None) => "Box<dyn Any>".to_owned(),
    }
}

/// Prints a held panic the way the standard hook does.
fn print(seen: &Seen) {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let at = seen.location.as_deref().unwrap_or("an unknown location");
    eprintln!("\nthread '{name}' panicked at {at}:\n{}", seen.message);
    if let Some(backtrace) = &seen.backtrace {
        eprintln!("stack backtrace:\n{backtrace}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::AssertUnwindSafe;

    #[test]
    fn a_value_passes_and_a_panic_is_returned_with_its_message_and_place() {
        assert_eq!(catch(|| 7).ok(), Some(7));
        let caught = catch(|| panic!("room {} broke", "duel")).expect_err("caught");
        assert_eq!(caught.message, "room duel broke");
        let at = caught.location.expect("the hook saw where");
        assert!(at.starts_with(file!()), "{at}");
        let caught = catch(|| std::panic::panic_any(42u8)).expect_err("caught");
        assert_eq!(caught.message, "Box<dyn Any>");
    }

    #[test]
    fn nested_regions_each_get_their_own_panic() {
        let mut inner = None;
        let outer = catch(AssertUnwindSafe(|| {
            inner = Some(catch(|| panic!("inner")));
            panic!("outer");
        }));
        assert_eq!(inner.expect("ran").expect_err("caught").message, "inner");
        assert_eq!(outer.expect_err("caught").message, "outer");
        assert!(SEEN.with_borrow(Vec::is_empty), "nothing left held");
    }

    #[test]
    fn a_panic_the_code_catches_itself_is_not_returned() {
        let result = catch(|| std::panic::catch_unwind(|| panic!("handled")).is_err());
        assert_eq!(result.ok(), Some(true));
        assert!(SEEN.with_borrow(Vec::is_empty), "printed, not held");
    }
}
