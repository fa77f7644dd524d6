//! Relevance beyond interest: entities every client is sent whatever the distance
//! ([`AlwaysRelevant`]), and the groups that decide which clients see an entity at all
//! ([`VisibleTo`] on the entity, [`MemberOf`] on a client's own entity: teams, fog of war,
//! private rooms inside a room).
//!
//! Both are read once per tick at capture into one table indexed like the frame, so deciding
//! whether a client sees an entity is a bit test: no allocation per client or per pair.

use super::{Frame, NetId};
use bevy_ecs::prelude::*;

/// Sends the entity to every client whatever spatial interest says (a scoreboard, a match
/// state). [`VisibleTo`] still applies: a team's scoreboard can be `AlwaysRelevant` and
/// visible to that team only.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlwaysRelevant;

/// The groups (at most [`VisibleTo::GROUPS`]: teams, private rooms, "spotted by team 2") that
/// see an entity: a client sees it only if the client is a [`MemberOf`] one of them.
///
/// An entity without `VisibleTo` is seen by everyone. A client always sees its own entity.
/// Entering a client's view this way is a spawn for it, leaving it a despawn, like interest;
/// both rules combine (an entity must be near, or [`AlwaysRelevant`], and visible). While any
/// entity has a `VisibleTo`, each client's snapshot is assembled from its own list of
/// entities (as with interest) instead of the one delta shared by all.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VisibleTo(pub u64);

impl VisibleTo {
    /// How many groups there are: the bits of a `u64`.
    pub const GROUPS: u32 = u64::BITS;
    /// No group: seen by no client but its owner.
    pub const NOBODY: VisibleTo = VisibleTo(0);

    /// Group `group` alone (`group` below [`VisibleTo::GROUPS`]; larger numbers wrap).
    pub fn group(group: u32) -> VisibleTo {
        VisibleTo(1 << (group % Self::GROUPS))
    }

    /// These groups and group `group` too.
    pub fn and(self, group: u32) -> VisibleTo {
        VisibleTo(self.0 | VisibleTo::group(group).0)
    }

    /// Whether the entity is in group `group`.
    pub fn contains(self, group: u32) -> bool {
        self.0 & VisibleTo::group(group).0 != 0
    }
}

/// The groups a client is in, put on the client's own entity (usually with a [`VisibleTo`]
/// of the same groups, so that teammates see each other). A client whose own entity has no
/// `MemberOf` is in no group: it sees only the entities without [`VisibleTo`], and its own.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberOf(pub u64);

impl MemberOf {
    /// Group `group` alone (`group` below [`VisibleTo::GROUPS`]; larger numbers wrap).
    pub fn group(group: u32) -> MemberOf {
        MemberOf(VisibleTo::group(group).0)
    }

    /// These groups and group `group` too.
    pub fn and(self, group: u32) -> MemberOf {
        MemberOf(self.0 | VisibleTo::group(group).0)
    }
}

/// The components read per entity.
type Markers =
    (&'static NetId, Option<&'static VisibleTo>, Option<&'static MemberOf>, Has<AlwaysRelevant>);

/// The entities that carry any of them.
type Marked = Or<(With<VisibleTo>, With<MemberOf>, With<AlwaysRelevant>)>;

/// This tick's relevance of the frame's entities, by frame index.
pub(crate) struct Relevance {
    query: QueryState<Markers, Marked>,
    /// The groups that see each entity (`None`: everyone); empty when no entity has
    /// [`VisibleTo`] this tick.
    pub groups: Vec<Option<u64>>,
    /// The groups each entity's client is in; empty when no entity has [`MemberOf`].
    pub members: Vec<u64>,
    /// Whether each entity is [`AlwaysRelevant`]; empty when none is.
    pub always: Vec<bool>,
}

impl Relevance {
    /// Reads relevance in `world`.
    pub fn new(world: &mut World) -> Relevance {
        let query = world.query_filtered();
        Relevance { query, groups: Vec::new(), members: Vec::new(), always: Vec::new() }
    }

    /// Reads the markers of `frame`'s entities.
    pub fn capture(&mut self, world: &World, frame: &Frame) {
        self.groups.clear();
        self.members.clear();
        self.always.clear();
        for (id, to, member, always) in self.query.iter(world) {
            let Some(index) = frame.find(id.id).filter(|&i| frame.ids[i] == *id) else {
                continue;
            };
            if let Some(to) = to {
                if self.groups.is_empty() {
                    self.groups.resize(frame.ids.len(), None);
                }
                self.groups[index] = Some(to.0);
            }
            if let Some(member) = member {
                if self.members.is_empty() {
                    self.members.resize(frame.ids.len(), 0);
                }
                self.members[index] = member.0;
            }
            if always {
                if self.always.is_empty() {
                    self.always.resize(frame.ids.len(), false);
                }
                self.always[index] = true;
            }
        }
    }

    /// Whether the game restricts who sees what this tick.
    pub fn restricts(&self) -> bool {
        !self.groups.is_empty()
    }

    /// Whether a client in groups `viewer` sees the entity at `index` (ignoring interest).
    pub fn sees(&self, viewer: u64, index: usize) -> bool {
        match self.groups.get(index).copied().flatten() {
            None => true,
            Some(groups) => groups & viewer != 0,
        }
    }

    /// The groups the client whose own entity is at `index` is in.
    pub fn member_of(&self, index: usize) -> u64 {
        self.members.get(index).copied().unwrap_or(0)
    }

    /// Whether the entity at `index` is always relevant.
    pub fn is_always(&self, index: usize) -> bool {
        self.always.get(index).copied().unwrap_or(false)
    }
}
