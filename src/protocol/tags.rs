//! Every message and op tag of the wire protocol, in one place. `docs/protocol.md` and
//! `client-demo/tickwire/protocol.js` use the same numbers.

/// Server message: the welcome.
pub const MSG_WELCOME: u8 = 0;
/// Server message: a full snapshot.
pub const MSG_FULL: u8 = 1;
/// Server message: a delta snapshot.
pub const MSG_DELTA: u8 = 2;
/// Server message: the answer to a ping.
pub const MSG_PONG: u8 = 3;
/// Server message: one of the game's events, stamped with its tick.
pub const MSG_EVENT: u8 = 4;

/// Client message: one tick of input.
pub const MSG_INPUT: u8 = 0;
/// Client message: a round-trip probe.
pub const MSG_PING: u8 = 1;
/// Client message: one of the game's messages.
pub const MSG_MESSAGE: u8 = 2;

/// Op: an entity with all its components (replacing whatever its id held).
pub const OP_SPAWN: u8 = 0;
/// Op: an entity is gone from the client's view.
pub const OP_DESPAWN: u8 = 1;
/// Op: several component ops for one entity.
pub const OP_CHANGES: u8 = 2;
/// Op: component ops for the client's own entity, including owner-only components; no id.
pub const OP_OWN: u8 = 3;
/// Op tags from here on carry one component op each: `tag = OP_SINGLE + cop`.
pub const OP_SINGLE: u8 = 4;

/// Component op kinds: `cop = component id × COP_KINDS + kind`.
pub const COP_KINDS: u32 = 3;
/// Component op kind: the whole new value.
pub const COP_SET: u32 = 0;
/// Component op kind: the difference of each quantized integer.
pub const COP_DELTA: u32 = 1;
/// Component op kind: the component was removed from the entity.
pub const COP_REMOVE: u32 = 2;

/// The component op for component `cid` of kind `kind`.
pub fn cop(cid: u16, kind: u32) -> u32 {
    u32::from(cid) * COP_KINDS + kind
}
