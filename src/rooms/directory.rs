//! Name → room: where rooms are opened on demand, joined, listed and closed.
//!
//! One `std::sync::Mutex` guards the map, and not a Tokio mutex because nothing awaits while
//! holding it: a join looks up (or opens) one room and counts itself in; a close removes a
//! room only if nobody holds a place in it. Both happen under the lock, so a client that got
//! a room's inbox is never left with a room that closed under it. Opening a room only sends
//! it to the simulation pool; its world is built on the pool's thread.

use super::status::RoomStatus;
use crate::context::Shared;
use crate::net::inbox::{Inbox, Wire};
use crate::protocol::CloseCode;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Starts a room's simulation and returns its inbox; the error says why it could not.
pub type Opener<W> = Box<dyn Fn(Arc<RoomStatus>) -> Result<Inbox<W>, String> + Send + Sync>;

/// Why a client was not let into a room: the close code and reason it is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The server holds `max_clients` connections already.
    #[error("server full: {max_clients} clients connected")]
    ServerFull {
        /// The limit.
        max_clients: usize,
    },
    /// The room holds its capacity already.
    #[error("room {room} is full: {capacity} players")]
    RoomFull {
        /// The room.
        room: String,
        /// Its capacity.
        capacity: usize,
    },
    /// Opening the room would pass the server's room limit.
    #[error("too many rooms: at most {max_rooms} open")]
    TooManyRooms {
        /// The limit.
        max_rooms: usize,
    },
    /// A clustered server refused the connection's seat.
    #[error("{0}")]
    Seat(crate::cluster::SeatRefusal),
    /// An operator is draining the server: only sessions resuming come in.
    #[error("server draining: not accepting new players here; join another server")]
    Draining,
    /// The room could not be started (the server is stopping).
    #[error("room {room} unavailable: {reason}")]
    Unavailable {
        /// The room.
        room: String,
        /// Why.
        reason: String,
    },
}

impl Refusal {
    /// The close code the client is sent.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Refusal::ServerFull { .. } => CloseCode::TryAgainLater,
            Refusal::RoomFull { .. } => CloseCode::RoomFull,
            Refusal::TooManyRooms { .. } => CloseCode::TooManyRooms,
            Refusal::Unavailable { .. } => CloseCode::InternalError,
            Refusal::Draining => CloseCode::GoingAway,
            Refusal::Seat(crate::cluster::SeatRefusal::Unchecked(_)) => CloseCode::TryAgainLater,
            Refusal::Seat(_) => CloseCode::SeatRefused,
        }
    }
}

struct Entry<W: Wire> {
    inbox: Inbox<W>,
    status: Arc<RoomStatus>,
}

/// Every open room.
pub struct Directory<W: Wire> {
    rooms: Mutex<HashMap<String, Entry<W>>>,
    /// The names opened with [`Directory::open_permanent`]: a join reopens such a room
    /// permanent again after it failed. Locked only under `rooms`' lock.
    permanent: Mutex<HashSet<String>>,
    open: Opener<W>,
    shared: Arc<Shared>,
}

/// A connection's place in a room: where its events go and the room's status. Dropping it
/// gives the place back.
pub struct Membership<W: Wire> {
    /// The room's inbox.
    pub inbox: Inbox<W>,
    /// The room's status.
    pub status: Arc<RoomStatus>,
}

impl<W: Wire> Drop for Membership<W> {
    fn drop(&mut self) {
        self.status.members.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<W: Wire> Directory<W> {
    /// An empty directory that starts rooms with `open`.
    pub fn new(shared: Arc<Shared>, open: Opener<W>) -> Directory<W> {
        let permanent = Mutex::new(HashSet::new());
        Directory { rooms: Mutex::new(HashMap::new()), permanent, open, shared }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry<W>>> {
        // A panic while holding the lock leaves the map consistent: every change is one call.
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a room that stays open when empty (the default room). If it ever fails (its
    /// game panicked), the next join opens it permanent again.
    pub fn open_permanent(&self, name: &str) -> Result<(), Refusal> {
        let mut rooms = self.lock();
        self.permanent_names().insert(name.to_owned());
        self.open_locked(&mut rooms, name, true)
    }

    fn permanent_names(&self) -> MutexGuard<'_, HashSet<String>> {
        self.permanent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place in room `name`, opening the room if it is not open. The name must have passed
    /// [`super::check_name`]. A client `resuming` its session is let into a full room: its
    /// place is the one its dropped connection held (the room checks its token).
    pub fn join(&self, name: &str, resuming: bool) -> Result<Membership<W>, Refusal> {
        if !resuming && self.shared.is_draining() {
            return Err(Refusal::Draining);
        }
        let mut rooms = self.lock();
        // A copy whose lease was lost is closing: a client with a seat for the room's new
        // lease (granted to this process again) gets a fresh copy.
        if rooms.get(name).is_some_and(|entry| entry.status.lease_lost()) {
            rooms.remove(name);
        }
        if !rooms.contains_key(name) {
            let permanent = self.permanent_names().contains(name);
            self.open_locked(&mut rooms, name, permanent)?;
        }
        let entry = &rooms[name];
        let capacity = entry.status.capacity;
        let held = entry.status.members.fetch_add(1, Ordering::AcqRel) + entry.status.waiting();
        if held >= capacity && !resuming {
            entry.status.members.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::RoomFull { room: name.to_owned(), capacity });
        }
        Ok(Membership { inbox: entry.inbox.clone(), status: entry.status.clone() })
    }

    fn open_locked(
        &self,
        rooms: &mut HashMap<String, Entry<W>>,
        name: &str,
        permanent: bool,
    ) -> Result<(), Refusal> {
        let max_rooms = self.shared.config.max_rooms;
        if rooms.len() >= max_rooms {
            return Err(Refusal::TooManyRooms { max_rooms });
        }
        let capacity = self.shared.config.room_capacity();
        let status = Arc::new(RoomStatus::new(name, permanent, capacity));
        // Opened for a seat the directory just checked against the lease: proven now.
        self.shared.fence.prove(&status, self.shared.fence.generation());
        let inbox = (self.open)(status.clone())
            .map_err(|reason| Refusal::Unavailable { room: name.to_owned(), reason })?;
        rooms.insert(name.to_owned(), Entry { inbox, status });
        self.shared.metrics.rooms.set(rooms.len() as i64);
        Ok(())
    }

    /// Removes `room` if nobody holds a place in it; whether it did. Its simulation ends
    /// when the caller drops it.
    pub fn close_if_empty(&self, room: &Arc<RoomStatus>) -> bool {
        let mut rooms = self.lock();
        if room.members() > 0 || room.waiting() > 0 {
            return false;
        }
        self.remove_locked(&mut rooms, room)
    }

    /// Removes `room` whatever its members (its simulation failed to start, or failed).
    pub fn remove(&self, room: &Arc<RoomStatus>) {
        self.remove_locked(&mut self.lock(), room);
    }

    fn remove_locked(&self, rooms: &mut HashMap<String, Entry<W>>, room: &Arc<RoomStatus>) -> bool {
        let same = rooms.get(&room.name).is_some_and(|entry| Arc::ptr_eq(&entry.status, room));
        if same {
            rooms.remove(&room.name);
            self.shared.metrics.rooms.set(rooms.len() as i64);
        }
        same
    }

    /// The inbox of the open room `name`, to send it an operator's command.
    pub fn inbox(&self, name: &str) -> Option<Inbox<W>> {
        self.lock().get(name).map(|entry| entry.inbox.clone())
    }

    /// Every open room, by name.
    pub fn list(&self) -> Vec<Arc<RoomStatus>> {
        let mut list: Vec<_> = self.lock().values().map(|entry| entry.status.clone()).collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServerConfig;

    /// A directory whose rooms are inboxes nobody reads (no simulation).
    fn directory(config: ServerConfig) -> Directory<((), crate::NoMessages)> {
        let shared = Arc::new(Shared::new(config));
        Directory::new(shared, Box::new(|_| Ok(tokio::sync::mpsc::channel(1).0)))
    }

    #[test]
    fn capacity_and_room_limit_refuse_and_places_come_back() {
        let config = ServerConfig { room_capacity: Some(2), max_rooms: 2, ..Default::default() };
        let rooms = directory(config);
        rooms.open_permanent("lobby").expect("opens");
        let (a, b) =
            (rooms.join("duel", false).expect("opens"), rooms.join("duel", false).expect("fits"));
        let full = Refusal::RoomFull { room: "duel".into(), capacity: 2 };
        assert_eq!(rooms.join("duel", false).err(), Some(full));
        assert_eq!(rooms.join("third", false).err(), Some(Refusal::TooManyRooms { max_rooms: 2 }));
        drop(a);
        let _c = rooms.join("duel", false).expect("a place came back");
        assert_eq!(rooms.list().iter().map(|r| r.members()).collect::<Vec<_>>(), [2, 0]);
        drop(b);
    }

    #[test]
    fn a_room_closes_only_when_nobody_holds_a_place() {
        let rooms = directory(ServerConfig::default());
        let member = rooms.join("duel", false).expect("opens");
        let status = member.status.clone();
        assert!(!rooms.close_if_empty(&status), "a member holds it");
        drop(member);
        assert!(rooms.close_if_empty(&status));
        assert!(rooms.list().is_empty());
        let again = rooms.join("duel", false).expect("opens afresh");
        assert!(!Arc::ptr_eq(&again.status, &status));
        assert!(!rooms.close_if_empty(&status), "the old room is not the open one");
    }

    #[test]
    fn a_failed_room_is_opened_afresh_and_a_permanent_one_stays_permanent() {
        let rooms = directory(ServerConfig::default());
        rooms.open_permanent("lobby").expect("opens");
        let member = rooms.join("lobby", false).expect("joins");
        let (lobby, duel) = (member.status.clone(), rooms.join("duel", false).expect("opens"));
        rooms.remove(&lobby);
        rooms.remove(&duel.status);
        assert!(rooms.list().is_empty(), "gone whatever their members");
        let (lobby_again, duel_again) =
            (rooms.join("lobby", false).expect("opens"), rooms.join("duel", false).expect("opens"));
        assert!(!Arc::ptr_eq(&lobby_again.status, &lobby), "afresh");
        assert!(lobby_again.status.permanent);
        assert!(!duel_again.status.permanent);
        drop(member);
    }
}
