//! The last closes the server sent to clients, with their codes and reasons: a bounded ring
//! the console lists (`GET /admin/api/closes`).

use crate::protocol::CloseCode;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Closes remembered; the oldest is dropped for a new one. 256 records of a short reason
/// each are a few tens of KB.
pub const CLOSES_KEPT: usize = 256;

/// One close the server sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClosedRecord {
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The connection's id.
    pub client_id: u32,
    /// The close code sent.
    pub code: u16,
    /// Its label (as on `/metrics`).
    pub label: String,
    /// The reason sent.
    pub reason: String,
}

/// The ring of the last [`CLOSES_KEPT`] closes. A `std::sync::Mutex`: it is held only to push
/// or copy, never across an await, and a close is rare next to a tick.
#[derive(Debug, Default)]
pub struct CloseLog {
    records: Mutex<VecDeque<ClosedRecord>>,
}

impl CloseLog {
    /// Notes that `client_id` was sent `code` with `reason`.
    pub fn record(&self, client_id: u32, code: CloseCode, reason: &str) {
        let at_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX));
        let record = ClosedRecord {
            at_unix_ms,
            client_id,
            code: code.code(),
            label: code.label().to_owned(),
            reason: reason.to_owned(),
        };
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if records.len() == CLOSES_KEPT {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// The closes kept, newest first.
    pub fn newest_first(&self) -> Vec<ClosedRecord> {
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_newest_closes() {
        let log = CloseLog::default();
        for id in 0..(CLOSES_KEPT as u32 + 10) {
            log.record(id, CloseCode::Kicked, "bye");
        }
        let kept = log.newest_first();
        assert_eq!(kept.len(), CLOSES_KEPT);
        assert_eq!(kept[0].client_id, CLOSES_KEPT as u32 + 9);
        assert_eq!(kept[CLOSES_KEPT - 1].client_id, 10);
        assert_eq!((kept[0].code, kept[0].label.as_str()), (4009, "kicked"));
    }
}
