// The tickwire wire protocol, version 1: bincode 2 `standard()` by hand.
//
// Mirrors, field for field and in the same order:
//   src/protocol/messages.rs  ServerMessage, Welcome, MovementParams, FullSnapshot,
//                             DeltaSnapshot, Op, EntityState, EntityKind, Pong,
//                             ClientMessage, Input, Ping
//   src/protocol/codec.rs     one message per frame; trailing bytes are an error
//   src/protocol/varint.rs    varints (marker bytes 251/252/253) and zigzag
//   src/protocol/mod.rs       PROTOCOL_VERSION, SUBPROTOCOL, scales, limits, BUTTON_BOOST
//   src/protocol/close.rs     CloseCode
// docs/protocol.md describes the same bytes in prose; tests/vectors/*.json pin them.
//
// Decoded messages are plain objects tagged with `type` (the Rust variant name) and keep
// the Rust field names (snake_case), so the spec, the Rust source and this file read alike.
// Nothing here knows about sockets or the game: it turns bytes into objects and back.

/** Version carried in the welcome; any other value must close the connection. */
export const PROTOCOL_VERSION = 1;
/** The WebSocket subprotocol to offer. */
export const SUBPROTOCOL = "tickwire.v1";
/** Wire units per world unit for positions and radii (1/64 unit fixed point). */
export const POSITION_SCALE = 64;
/** Wire units per world unit per second for velocities. */
export const VELOCITY_SCALE = 64;
/** Largest client message the server decodes. */
export const MAX_CLIENT_MESSAGE_BYTES = 64;
/** Input button bit: boost. */
export const BUTTON_BOOST = 1;

/** Close codes the server sends (docs/protocol.md section 9). */
export const CloseCode = Object.freeze({
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  TOO_SLOW: 4001,
});

const SERVER_VARIANTS = ["Welcome", "Full", "Delta", "Pong"];
const CLIENT_VARIANTS = ["Input", "Ping"];
const OP_VARIANTS = ["Spawn", "Move", "Update", "Despawn", "Own"];
const ENTITY_KINDS = ["Player", "Orb"];

// bincode varint markers: below 251 a value is its own byte.
const SINGLE_BYTE_MAX = 250;
const U16_MARKER = 251;
const U32_MARKER = 252;
const U64_MARKER = 253;

/** Bytes that are not a valid message: truncated, trailing, unknown variant, bad UTF-8. */
export class DecodeError extends Error {
  name = "DecodeError";
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** A cursor over one message's bytes; every read checks the length first. */
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  take(n, what) {
    if (this.pos + n > this.bytes.length) {
      throw new DecodeError(`${what}: needs ${n} bytes at offset ${this.pos}, message has ${this.bytes.length}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what) {
    return this.bytes[this.take(1, what)];
  }

  i8(what) {
    return this.view.getInt8(this.take(1, what));
  }

  f32(what) {
    return this.view.getFloat32(this.take(4, what), true);
  }

  // bincode accepts a wider form than needed (251 + u16 for a small u32) but refuses a
  // marker wider than the type; `widest` is the widest marker the type allows.
  varint(what, widest) {
    const marker = this.u8(what);
    if (marker <= SINGLE_BYTE_MAX) return marker;
    if (marker > widest) throw new DecodeError(`${what}: varint marker ${marker} is too wide`);
    if (marker === U16_MARKER) return this.view.getUint16(this.take(2, what), true);
    if (marker === U32_MARKER) return this.view.getUint32(this.take(4, what), true);
    const at = this.take(8, what);
    // A u64 above 2^53 cannot be exact in a Number; it only appears as a length, where
    // any value that large is longer than the message and fails as truncation.
    return this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 2 ** 32;
  }

  u16(what) {
    return this.varint(what, U16_MARKER);
  }

  u32(what) {
    return this.varint(what, U32_MARKER);
  }

  i32(what) {
    const n = this.u32(what);
    return (n >>> 1) ^ -(n & 1);
  }

  len(what) {
    return this.varint(what, U64_MARKER);
  }

  string(what) {
    const n = this.len(`${what} length`);
    const at = this.take(n, what);
    try {
      return utf8Decoder.decode(this.bytes.subarray(at, at + n));
    } catch {
      throw new DecodeError(`${what}: not valid UTF-8`);
    }
  }

  variant(names, what) {
    const index = this.u32(what);
    if (index >= names.length) throw new DecodeError(`${what}: unknown variant index ${index}`);
    return names[index];
  }

  finish() {
    if (this.pos !== this.bytes.length) {
      throw new DecodeError(`${this.bytes.length - this.pos} trailing bytes after a ${this.pos}-byte message`);
    }
  }
}

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError("expected an ArrayBuffer or Uint8Array");
}

/** Decodes one server message (one WebSocket binary frame). Throws DecodeError. */
export function decodeServerMessage(data) {
  const r = new Reader(asBytes(data));
  const type = r.variant(SERVER_VARIANTS, "ServerMessage");
  const message = { type, ...SERVER_BODIES[type](r) };
  r.finish();
  return message;
}

/** Decodes one client message; the server's side, used by tests. Throws DecodeError. */
export function decodeClientMessage(data) {
  const bytes = asBytes(data);
  if (bytes.length > MAX_CLIENT_MESSAGE_BYTES) {
    throw new DecodeError(`message of ${bytes.length} bytes exceeds ${MAX_CLIENT_MESSAGE_BYTES}`);
  }
  const r = new Reader(bytes);
  const type = r.variant(CLIENT_VARIANTS, "ClientMessage");
  const message = type === "Input"
    ? { type, seq: r.u32("seq"), move_x: r.i8("move_x"), move_y: r.i8("move_y"), buttons: r.u8("buttons") }
    : { type, id: r.u32("id") };
  r.finish();
  return message;
}

const SERVER_BODIES = {
  Welcome: (r) => ({
    protocol_version: r.u16("protocol_version"),
    client_id: r.u32("client_id"),
    entity_id: r.u32("entity_id"),
    tick_rate_hz: r.u16("tick_rate_hz"),
    world_width: r.f32("world_width"),
    world_height: r.f32("world_height"),
    view_radius: r.f32("view_radius"),
    movement: {
      accel: r.f32("accel"),
      boost_accel: r.f32("boost_accel"),
      friction: r.f32("friction"),
      max_speed: r.f32("max_speed"),
      boost_max_speed: r.f32("boost_max_speed"),
      player_radius: r.f32("player_radius"),
    },
  }),
  Full: (r) => ({ tick: r.u32("tick"), last_input_seq: r.u32("last_input_seq"), ops: readOps(r) }),
  Delta: (r) => ({
    tick_delta: r.u32("tick_delta"),
    input_seq_delta: r.u32("input_seq_delta"),
    ops: readOps(r),
  }),
  Pong: (r) => ({ id: r.u32("id"), tick: r.u32("tick"), players: r.u32("players") }),
};

function readOps(r) {
  const count = r.len("ops length");
  const ops = [];
  // Each op is at least 2 bytes, so a count beyond what is left fails at the first
  // missing op instead of allocating for a lie.
  for (let i = 0; i < count; i++) ops.push(readOp(r));
  return ops;
}

function readOp(r) {
  const type = r.variant(OP_VARIANTS, "Op");
  switch (type) {
    case "Spawn":
      return { type, id_gap: r.u32("id_gap"), entity: readEntity(r) };
    case "Move":
      return { type, id_gap: r.u32("id_gap"), dx: r.i32("dx"), dy: r.i32("dy") };
    case "Update":
      return { type, id_gap: r.u32("id_gap"), dx: r.i32("dx"), dy: r.i32("dy"), score: r.u32("score") };
    case "Despawn":
      return { type, id_gap: r.u32("id_gap") };
    default:
      return { type, vx: r.i32("vx"), vy: r.i32("vy") };
  }
}

function readEntity(r) {
  return {
    kind: r.variant(ENTITY_KINDS, "EntityKind"),
    x: r.i32("x"),
    y: r.i32("y"),
    radius: r.u16("radius"),
    color: [r.u8("color"), r.u8("color"), r.u8("color")],
    score: r.u32("score"),
    name: r.string("name"),
  };
}

/** Appends bincode values to a growable byte list. */
class Writer {
  constructor() {
    this.bytes = [];
  }

  u8(value) {
    this.bytes.push(value & 0xff);
  }

  u32(value) {
    if (value <= SINGLE_BYTE_MAX) {
      this.bytes.push(value);
    } else if (value <= 0xffff) {
      this.bytes.push(U16_MARKER, value & 0xff, value >>> 8);
    } else {
      this.bytes.push(U32_MARKER, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
    }
  }

  finish() {
    return Uint8Array.from(this.bytes);
  }
}

function checkInt(value, min, max, what) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer in ${min}..=${max}, got ${value}`);
  }
}

/** Encodes one client message ({type:"Input", seq, move_x, move_y, buttons} or {type:"Ping", id}). */
export function encodeClientMessage(message) {
  const w = new Writer();
  if (message.type === "Input") {
    checkInt(message.seq, 0, 0xffffffff, "seq");
    checkInt(message.move_x, -128, 127, "move_x");
    checkInt(message.move_y, -128, 127, "move_y");
    checkInt(message.buttons, 0, 255, "buttons");
    w.u32(CLIENT_VARIANTS.indexOf("Input"));
    w.u32(message.seq);
    w.u8(message.move_x);
    w.u8(message.move_y);
    w.u8(message.buttons);
  } else if (message.type === "Ping") {
    checkInt(message.id, 0, 0xffffffff, "id");
    w.u32(CLIENT_VARIANTS.indexOf("Ping"));
    w.u32(message.id);
  } else {
    throw new TypeError(`not a client message type: ${message.type}`);
  }
  return w.finish();
}
