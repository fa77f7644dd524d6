//! One live session per user id on this process: which connection holds each signed-in
//! user, so that a second login takes it over or is refused ([`super::DuplicateLogin`]).

use crate::net::outbox::Outbox;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The live connection of each signed-in user on this process, across its rooms. Bounded by
/// the connections: an entry is claimed on join and released when the client leaves.
///
/// A `std::sync::Mutex`, not a tokio one: it is held for a map lookup, by tick threads
/// and connection tasks alike, never across an await.
#[derive(Default)]
pub struct Logins {
    live: Mutex<HashMap<String, Live>>,
}

/// A user's live connection.
pub struct Live {
    /// The connection's client id.
    pub client_id: u32,
    /// Where to send its close.
    pub outbox: Arc<Outbox>,
}

impl Logins {
    /// Whether `user_id` has a live connection here.
    pub fn is_live(&self, user_id: &str) -> bool {
        self.lock().contains_key(user_id)
    }

    /// Records `client_id` as `user_id`'s live connection; returns the one it replaces (a
    /// different connection), which the caller closes.
    pub fn claim(&self, user_id: &str, client_id: u32, outbox: &Arc<Outbox>) -> Option<Live> {
        let live = Live { client_id, outbox: outbox.clone() };
        let old = self.lock().insert(user_id.to_owned(), live)?;
        (old.client_id != client_id).then_some(old)
    }

    /// Forgets `user_id`'s live connection if it is still `client_id`.
    pub fn release(&self, user_id: &str, client_id: u32) {
        let mut live = self.lock();
        if live.get(user_id).is_some_and(|live| live.client_id == client_id) {
            live.remove(user_id);
        }
    }

    /// Users with a live connection.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no user has a live connection.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
