//! What one client holds: the baseline its next delta is encoded against.

use super::NetId;
use crate::tick::Tick;

/// The client's replica after a snapshot, described by what produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// The snapshot's tick.
    pub tick: Tick,
    /// Last input seq it reported.
    pub seq: u32,
    /// The entities it held.
    pub visible: Visible,
}

/// Which entities a snapshot left the client holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    /// Every entity of that tick's frame (no list is kept).
    All,
    /// These entities, ascending by id.
    List(Vec<NetId>),
}

/// Per-client replication state, owned by the tick loop.
///
/// `confirmed` is what the client holds for certain: the last snapshot its socket writer took.
/// `inflight` is what the last snapshot built would leave it with, once taken. Before each
/// build the tick loop calls [`ClientView::settle`] with whether that snapshot was taken back
/// unsent, which decides which of the two the next delta is encoded against.
#[derive(Debug, Clone)]
pub struct ClientView {
    /// The client's own entity.
    pub own: NetId,
    pub(crate) confirmed: Option<Baseline>,
    pub(crate) inflight: Option<Baseline>,
    /// The list of the last baseline dropped, kept for the next build to fill.
    pub(crate) spare: Vec<NetId>,
    /// Where the own entity was in the last frame: a hint that saves a search, checked
    /// before use.
    pub(crate) own_index: usize,
}

impl ClientView {
    /// A client that holds nothing yet: its first snapshot is full.
    pub fn new(own: NetId) -> ClientView {
        ClientView { own, confirmed: None, inflight: None, spare: Vec::new(), own_index: 0 }
    }

    /// Records the fate of the last snapshot built: taken by the writer (`reclaimed == false`)
    /// or taken back from the outbox unsent.
    pub fn settle(&mut self, reclaimed: bool) {
        let Some(inflight) = self.inflight.take() else { return };
        let dropped = if reclaimed { Some(inflight) } else { self.confirmed.replace(inflight) };
        if let Some(Baseline { visible: Visible::List(ids), .. }) = dropped {
            self.spare = ids;
        }
    }

    /// The baseline the next delta will be encoded against.
    pub fn baseline(&self) -> Option<&Baseline> {
        self.confirmed.as_ref()
    }

    /// Bytes of heap this view holds (for the per-connection memory figure).
    pub fn heap_bytes(&self) -> usize {
        let list = |b: &Option<Baseline>| match b {
            Some(Baseline { visible: Visible::List(ids), .. }) => {
                ids.capacity() * size_of::<NetId>()
            }
            _ => 0,
        };
        list(&self.confirmed) + list(&self.inflight) + self.spare.capacity() * size_of::<NetId>()
    }
}
