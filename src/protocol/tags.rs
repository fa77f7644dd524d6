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
/// Server message: an operator's notice to the room (text, not one of the game's events).
pub const MSG_NOTICE: u8 = 5;

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

/// A delta's input acknowledgement packs the pacing hint into the seq delta's varint:
/// `ack = input_seq_delta × PACING_SLOTS + (pacing + PACING_OFFSET)`, so an idle or one-input
/// delta still costs one byte for both.
pub const PACING_SLOTS: u64 = 16;
/// See [`PACING_SLOTS`]: the hint's offset, making −8..=7 the slots 0..=15.
pub const PACING_OFFSET: i32 = 8;

/// The packed acknowledgement of a delta (see [`PACING_SLOTS`]); `pacing` is clamped to the
/// slots.
pub fn pack_ack(input_seq_delta: u32, pacing: i32) -> u64 {
    let slot = (pacing.clamp(-PACING_OFFSET, PACING_OFFSET - 1) + PACING_OFFSET) as u64;
    u64::from(input_seq_delta) * PACING_SLOTS + slot
}

/// `(input_seq_delta, pacing)` of a packed acknowledgement; `None` past a u32 seq delta.
pub fn unpack_ack(ack: u64) -> Option<(u32, i32)> {
    let delta = u32::try_from(ack / PACING_SLOTS).ok()?;
    Some((delta, (ack % PACING_SLOTS) as i32 - PACING_OFFSET))
}

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
