//! Clients between their seat and their place in a room, counted so that a place is never
//! free twice: a used seat stays reserved in the directory until a heartbeat that counts its
//! player removes it.
//!
//! `/ws` opens an [`Admission`] before it takes the seat and drops it once the client holds
//! its place (or was refused). A heartbeat calls [`Admissions::drain`] *before* it reads the
//! rooms' players: every seat it drains was used by a client already counted, either as
//! admitting or as a member; seats used after the drain stay reserved until the next one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[derive(Default)]
struct Book {
    /// Clients admitting, per room.
    admitting: HashMap<String, usize>,
    /// Seats used since the last drain, per room.
    used: HashMap<String, Vec<String>>,
}

/// Every admission in progress on this process.
#[derive(Default, Clone)]
pub struct Admissions {
    // A `std::sync::Mutex`: held for a map update, never across an await.
    book: Arc<Mutex<Book>>,
}

/// What a heartbeat reads of the admissions: per room, clients admitting and seats used.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Clients admitting, per room.
    pub admitting: HashMap<String, usize>,
    /// Seats used since the last drain, per room.
    pub used: HashMap<String, Vec<String>>,
}

impl Admissions {
    fn book(&self) -> MutexGuard<'_, Book> {
        // Every change is one map update: a panic elsewhere leaves the book consistent.
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A client starts its admission to `room`, before its seat is taken.
    pub fn start(&self, room: &str) -> Admission {
        *self.book().admitting.entry(room.to_owned()).or_default() += 1;
        Admission { admissions: self.clone(), room: room.to_owned() }
    }

    /// Takes the seats used since the last call, and counts the clients admitting.
    pub fn drain(&self) -> Drained {
        let mut book = self.book();
        Drained { admitting: book.admitting.clone(), used: std::mem::take(&mut book.used) }
    }
}

/// One client's admission; dropping it ends it.
pub struct Admission {
    admissions: Admissions,
    room: String,
}

impl Admission {
    /// Notes that the client's seat `token` was taken.
    pub fn seat_used(&self, token: &str) {
        let mut book = self.admissions.book();
        book.used.entry(self.room.clone()).or_default().push(token.to_owned());
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut book = self.admissions.book();
        if let Some(count) = book.admitting.get_mut(&self.room) {
            *count -= 1;
            if *count == 0 {
                book.admitting.remove(&self.room);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_used_seat_is_drained_once_while_its_client_is_counted() {
        let admissions = Admissions::default();
        let admission = admissions.start("duel");
        admission.seat_used("t1");
        let drained = admissions.drain();
        assert_eq!(drained.admitting["duel"], 1, "the client is counted while admitting");
        assert_eq!(drained.used["duel"], ["t1"]);
        assert!(admissions.drain().used.is_empty(), "drained once");
        drop(admission);
        assert_eq!(admissions.drain(), Drained::default());
    }
}
