// The tickwire wire protocol, version 2: messages, ops and component ops over bincode.
//
// Owns: the version and subprotocol, every tag (message variants, op tags, component-op
// kinds) in one place, close codes, and decoding/encoding whole messages. A snapshot or an
// input needs the game's Schema (from the Welcome) to read or write component values.
// docs/protocol.md describes the same bytes; tests/vectors/*.json pin them.
//
// Decoded messages are plain objects in the golden vectors' JSON form: {type: "Full", tick,
// last_input_seq, pacing, ops: [...]} (pacing: the server's input pacing hint), ops as {op: "Spawn", id, components: [{component, value}]},
// {op: "Despawn", id}, {op: "Changes", id, changes}, {op: "Own", changes}, with ids absolute
// (the gaps are summed here) and a change as {component, set} | {component, delta} |
// {component, remove: true}. Nothing here knows about sockets or any game.

import { DecodeError, Reader, Writer } from "./bincode.js";
import { fnv1a64, hex64, readSchema, Schema } from "./schema.js";

/** Version carried in the welcome; any other value must close the connection. */
export const PROTOCOL_VERSION = 2;
/** The WebSocket subprotocol to offer. */
export const SUBPROTOCOL = "tickwire.v2";
/** Largest client message the server decodes by default (a game may raise it). */
export const MAX_CLIENT_MESSAGE_BYTES = 64;
/** Entity id meaning "no entity" (a Welcome.entity_id for a client without one). */
export const NO_ENTITY = 0;
const MAX_ENTITY_ID = 0xffffffff;

/** A delta's input ack is `input_seq_delta × PACING_SLOTS + (pacing + PACING_OFFSET)`. */
export const PACING_SLOTS = 16;
export const PACING_OFFSET = 8;

/** Server message variants. */
export const ServerTag = Object.freeze({ WELCOME: 0, FULL: 1, DELTA: 2, PONG: 3, EVENT: 4, NOTICE: 5 });
/** Client message variants. */
export const ClientTag = Object.freeze({ INPUT: 0, PING: 1, MESSAGE: 2 });
/** Op tags; a tag >= SINGLE is one component op with cop = tag - SINGLE. */
export const OpTag = Object.freeze({ SPAWN: 0, DESPAWN: 1, CHANGES: 2, OWN: 3, SINGLE: 4 });
/** Component-op kinds: cop = cid * KINDS + kind. */
export const ChangeKind = Object.freeze({ SET: 0, DELTA: 1, REMOVE: 2, KINDS: 3 });

/** Close codes the server sends (docs/protocol.md, "Close codes"). */
export const CloseCode = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** RFC 6455 framing broken (a browser never does; a hand-written client might). */
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  /** Sent by clients when the server's bytes make no sense. */
  CLIENT_PROTOCOL_ERROR: 4000,
  TOO_SLOW: 4001,
  /** Nothing received for the server's idle timeout (a page asleep): reconnecting is right. */
  IDLE: 4002,
  /** The room holds --room-capacity players already. */
  ROOM_FULL: 4003,
  /** The room is not open and the server holds --max-rooms rooms already. */
  TOO_MANY_ROOMS: 4004,
  /** The resume token is unknown, used already, or its window passed: join afresh. */
  RESUME_REFUSED: 4005,
  /** This session was resumed on a newer connection (another tab took it over). */
  REPLACED: 4006,
  /** A clustered server wants a seat from POST /matchmake (missing, used, expired or foreign). */
  SEAT_REFUSED: 4007,
  /** This room's server lost its ownership of it: matchmake again (the match state is gone). */
  ROOM_LOST: 4008,
  /** An operator kicked this client from the console; the reason says why. Do not retry. */
  KICKED: 4009,
  /** An operator closed this client's room from the console; the reason says why. */
  ROOM_CLOSED: 4010,
});

/** A resume token of all zeros: the server does not resume sessions. */
export const NO_RESUME_TOKEN = "0".repeat(32);

/** A Welcome with a protocol_version this client does not speak. */
export class VersionError extends DecodeError {
  name = "VersionError";
  constructor(version) {
    super(`the server speaks protocol version ${version}, this client speaks ${PROTOCOL_VERSION}`);
    this.version = version;
  }
}

/**
 * Decodes one server message (one WebSocket binary frame). Snapshots need `schema` (a
 * Schema built from the Welcome); a Welcome, a Pong and a Notice do not. Throws DecodeError.
 */
export function decodeServerMessage(data, schema = null) {
  const r = new Reader(data);
  const tag = r.variant(Object.keys(ServerTag).length, "ServerMessage");
  let message;
  if (tag === ServerTag.WELCOME) message = readWelcome(r);
  else if (tag === ServerTag.PONG) message = { type: "Pong", id: r.u32("id"), tick: r.u32("tick"), clients: r.u32("clients") };
  else if (tag === ServerTag.NOTICE) message = { type: "Notice", tick: r.u32("tick"), text: r.string("text") };
  else if (!schema) throw new DecodeError("a snapshot or an event cannot be read without the Welcome's schema");
  else if (tag === ServerTag.EVENT) message = { type: "Event", tick: r.u32("tick"), event: schema.readEvent(r) };
  else if (tag === ServerTag.FULL) {
    message = { type: "Full", tick: r.u32("tick"), last_input_seq: r.u32("last_input_seq"), pacing: r.i32("pacing"), ops: readOps(r, schema) };
  } else {
    const tick_delta = r.u32("tick_delta");
    // The seq delta and the pacing hint share one varint: delta × 16 + (pacing + 8).
    const ack = r.u64("input ack");
    if (typeof ack === "bigint") throw new DecodeError(`input ack ${ack}: the seq delta overflows u32`);
    const input_seq_delta = Math.floor(ack / PACING_SLOTS);
    if (input_seq_delta > 0xffffffff) throw new DecodeError(`input ack ${ack}: the seq delta overflows u32`);
    const pacing = (ack % PACING_SLOTS) - PACING_OFFSET;
    message = { type: "Delta", tick_delta, input_seq_delta, pacing, ops: readOps(r, schema) };
  }
  r.finish();
  return message;
}

function readWelcome(r) {
  const protocol_version = r.u16("protocol_version");
  if (protocol_version !== PROTOCOL_VERSION) throw new VersionError(protocol_version);
  const client_id = r.u32("client_id");
  const entity_id = r.u32("entity_id");
  const tick_rate_hz = r.u16("tick_rate_hz");
  const hash = BigInt(r.rawVarint("schema_hash", 253));
  const start = r.pos;
  const schema = readSchema(r);
  const actual = fnv1a64(r.bytes.subarray(start, r.pos));
  if (actual !== hash) {
    throw new DecodeError(`schema_hash ${hex64(hash)} does not match the schema's bytes (FNV-1a 64 ${hex64(actual)})`);
  }
  const gameBytes = new Reader(r.bytesOf("game"));
  const game = new Schema(schema).readWelcome(gameBytes);
  gameBytes.finish("game welcome value");
  const at = r.take(16, "resume_token");
  const token = Array.from(r.bytes.subarray(at, at + 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return { type: "Welcome", protocol_version, client_id, entity_id, tick_rate_hz, schema_hash: hex64(hash), schema, game, resume_token: token };
}

function readOps(r, schema) {
  const count = r.len("op count");
  const ops = [];
  let cursor = 0;
  const nextId = () => {
    cursor += r.u32("id_gap");
    if (cursor > MAX_ENTITY_ID) throw new DecodeError(`entity id ${cursor} overflows u32`);
    return cursor;
  };
  for (let i = 0; i < count; i++) {
    const tag = r.u32("op tag");
    if (tag === OpTag.SPAWN) {
      const id = nextId();
      const n = r.len("spawn component count");
      const components = [];
      for (let j = 0; j < n; j++) {
        const info = schema.componentAt(r.u32("spawn component"), "spawn");
        components.push({ component: info.id, value: info.read(r) });
      }
      ops.push({ op: "Spawn", id, components });
    } else if (tag === OpTag.DESPAWN) {
      ops.push({ op: "Despawn", id: nextId() });
    } else if (tag === OpTag.CHANGES) {
      const id = nextId();
      ops.push({ op: "Changes", id, changes: readChanges(r, schema) });
    } else if (tag === OpTag.OWN) {
      ops.push({ op: "Own", changes: readChanges(r, schema) });
    } else {
      const id = nextId();
      ops.push({ op: "Changes", id, changes: [readChange(r, schema, tag - OpTag.SINGLE)] });
    }
  }
  return ops;
}

function readChanges(r, schema) {
  const n = r.len("change count");
  const changes = [];
  for (let i = 0; i < n; i++) changes.push(readChange(r, schema, r.u32("component op")));
  return changes;
}

function readChange(r, schema, cop) {
  const info = schema.componentAt(Math.floor(cop / ChangeKind.KINDS), `component op ${cop}`);
  const kind = cop % ChangeKind.KINDS;
  if (kind === ChangeKind.SET) return { component: info.id, set: info.read(r) };
  if (kind === ChangeKind.REMOVE) return { component: info.id, remove: true };
  if (!info.quantized) throw new DecodeError(`a DELTA of ${info.name}, whose codec is not Quantized`);
  return { component: info.id, delta: info.read(r) };
}

/** Encodes one client message: {type: "Input", seq, input} (the game's input value, per
 *  the schema), {type: "Ping", id} or {type: "Message", message} (the game's message). Throws TypeError/RangeError on a bad value. */
export function encodeClientMessage(message, schema = null) {
  const w = new Writer();
  if (message.type === "Input") {
    if (!schema) throw new TypeError("an Input cannot be written without the Welcome's schema");
    w.u32(ClientTag.INPUT);
    w.u32(message.seq, "seq");
    schema.writeInput(w, message.input);
  } else if (message.type === "Ping") {
    w.u32(ClientTag.PING);
    w.u32(message.id, "id");
  } else if (message.type === "Message") {
    if (!schema) throw new TypeError("a Message cannot be written without the Welcome's schema");
    w.u32(ClientTag.MESSAGE);
    schema.writeMessage(w, message.message);
  } else {
    throw new TypeError(`not a client message type: ${message.type}`);
  }
  return w.finish();
}

/** Decodes one client message; the server's side, used by tests. Throws DecodeError, also
 *  for a message over `maxBytes` (the server closes those with 1009 before decoding). */
export function decodeClientMessage(data, schema = null, maxBytes = MAX_CLIENT_MESSAGE_BYTES) {
  const r = new Reader(data);
  if (r.bytes.length > maxBytes) throw new DecodeError(`message of ${r.bytes.length} bytes exceeds ${maxBytes}`);
  const tag = r.variant(3, "ClientMessage");
  let message;
  if (tag === ClientTag.PING) {
    message = { type: "Ping", id: r.u32("id") };
  } else if (tag === ClientTag.MESSAGE) {
    if (!schema) throw new DecodeError("a Message cannot be read without the Welcome's schema");
    message = { type: "Message", message: schema.readMessage(r) };
  } else {
    if (!schema) throw new DecodeError("an Input cannot be read without the Welcome's schema");
    message = { type: "Input", seq: r.u32("seq"), input: schema.readInput(r) };
  }
  r.finish();
  return message;
}
