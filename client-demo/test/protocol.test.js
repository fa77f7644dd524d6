// The v2 decoder and encoder against hand-made bytes (test/fixtures/arena.js and below):
// the Welcome and its schema hash, every op form, every varint width, and what is refused.

import assert from "node:assert/strict";
import { test } from "node:test";
import { DecodeError } from "../tickwire/bincode.js";
import {
  decodeClientMessage, decodeServerMessage, encodeClientMessage, VersionError,
} from "../tickwire/protocol.js";
import { fnv1a64, Schema } from "../tickwire/schema.js";
import { ARENA_SCHEMA_HASH, ARENA_SCHEMA_HEX, ARENA_WELCOME, ARENA_WELCOME_HEX, CID, hexOf, unhex } from "./fixtures/arena.js";

const schema = new Schema(ARENA_WELCOME.schema);
const decode = (hexString) => decodeServerMessage(unhex(hexString.replaceAll(" ", "")), schema);

test("FNV-1a 64 matches the reference values", () => {
  assert.equal(fnv1a64(new Uint8Array()), 0xcbf29ce484222325n);
  assert.equal(fnv1a64(new TextEncoder().encode("a")), 0xaf63dc4c8601ec8cn);
  assert.equal(fnv1a64(unhex(ARENA_SCHEMA_HEX)).toString(16), ARENA_SCHEMA_HASH);
});

test("the arena Welcome decodes: schema, hash and the game's own welcome value", () => {
  assert.deepEqual(decodeServerMessage(unhex(ARENA_WELCOME_HEX)), ARENA_WELCOME);
});

test("a Welcome whose hash does not match its schema is refused", () => {
  const bytes = unhex(ARENA_WELCOME_HEX);
  bytes[8] ^= 1; // the schema_hash's low byte (after marker 253 at 7)
  assert.throws(() => decodeServerMessage(bytes), /schema_hash .* does not match/);
  const bent = unhex(ARENA_WELCOME_HEX);
  bent[17] = 0x62; // "arena" -> "brena": same length, other bytes
  assert.throws(() => decodeServerMessage(bent), /does not match/);
});

test("a Welcome of another protocol version is a VersionError", () => {
  const v1 = unhex(ARENA_WELCOME_HEX);
  v1[1] = 1;
  assert.throws(() => decodeServerMessage(v1), (e) => e instanceof VersionError && e.version === 1 && e instanceof DecodeError);
});

test("a Full: spawns with their components, quantized values as integers", () => {
  const full = decode(hexOf([
    ["01 fb e8 03 07 04 02", "Full, tick 1000, last_input_seq 7, pacing +2 (zz 4), 2 ops"],
    ["00 fb 2c 01 06", "SPAWN id 300 (gap 300), 6 components"],
    ["00 fb 00 32 fb 80 25", "  Position x 6400 (zz 12800), y 4800 (zz 9600)"],
    ["01 80 3f", "  Velocity x 64 (zz 128), y -32 (zz 63)"],
    ["02 80 03 c8 3c 3c 04 00 05 02 6d 65", "  Radius 64, Color (200, 60, 60), Score 0, Name \"me\""],
    ["00 01 03 00 00 00 02 34 06", "SPAWN id 301: Position (0, 0), Radius 26, Orb"],
  ]));
  assert.deepEqual(full, {
    type: "Full", tick: 1000, last_input_seq: 7, pacing: 2, ops: [
      { op: "Spawn", id: 300, components: [
        { component: CID.Position, value: [6400, 4800] },
        { component: CID.Velocity, value: [64, -32] },
        { component: CID.Radius, value: [64] },
        { component: CID.Color, value: [200, 60, 60] },
        { component: CID.Score, value: 0 },
        { component: CID.Name, value: "me" },
      ] },
      { op: "Spawn", id: 301, components: [
        { component: CID.Position, value: [0, 0] },
        { component: CID.Radius, value: [26] },
        { component: CID.Orb, value: null },
      ] },
    ],
  });
});

test("a Delta: OWN, single-form ops, CHANGES, DESPAWN, ids summed from gaps", () => {
  const delta = decode(hexOf([
    ["02 01 14 05", "Delta, tick_delta 1, ack 20 = input_seq_delta 1 × 16 + (pacing -4 + 8), 5 ops"],
    ["03 01 04 02 00", "OWN, 1 change: cop 4 = Velocity DELTA (+1, 0)"],
    ["05 fb 2c 01 02 01", "tag 5 = cop 1 = Position DELTA, id 300: (+1, -1)"],
    ["02 01 02 0c 05 14", "CHANGES id 301: cop 12 Score SET 5, cop 20 Orb REMOVE"],
    ["01 01", "DESPAWN id 302"],
    ["10 02 09", "tag 16 = cop 12 = Score SET, id 304: 9"],
  ]));
  assert.deepEqual(delta, {
    type: "Delta", tick_delta: 1, input_seq_delta: 1, pacing: -4, ops: [
      { op: "Own", changes: [{ component: CID.Velocity, delta: [1, 0] }] },
      { op: "Changes", id: 300, changes: [{ component: CID.Position, delta: [1, -1] }] },
      { op: "Changes", id: 301, changes: [{ component: CID.Score, set: 5 }, { component: CID.Orb, remove: true }] },
      { op: "Despawn", id: 302 },
      { op: "Changes", id: 304, changes: [{ component: CID.Score, set: 9 }] },
    ],
  });
});

test("an idle Delta is 4 bytes, a moving player 4 more", () => {
  assert.deepEqual(decode("02 01 08 00"), { type: "Delta", tick_delta: 1, input_seq_delta: 0, pacing: 0, ops: [] });
  assert.equal(decode("02 01 08 01 05 03 02 00").ops[0].id, 3);
});

test("component ops the schema cannot hold are refused", () => {
  assert.throws(() => decode("02 01 08 01 19 01"), /component id 7/, "tag 25 = cop 21 = cid 7");
  assert.throws(() => decode("02 01 08 01 02 01 01 0d 00"), /DELTA of Score/, "cop 13 = Score DELTA");
  assert.throws(() => decode("01 01 00 00 01 00 01 01 09 00"), /component id 9/);
});

test("ids past u32 are refused", () => {
  assert.throws(() => decode("02 01 08 02 01 fc ff ff ff ff 01 01"), /overflows u32/);
});

test("a snapshot needs the schema; Pong does not", () => {
  assert.throws(() => decodeServerMessage(unhex("02010000")), /without the Welcome's schema/);
  assert.deepEqual(decodeServerMessage(unhex("03 fc 00 28 6b ee 2a 05".replaceAll(" ", ""))), { type: "Pong", id: 4000000000, tick: 42, clients: 5 });
});

test("varints: every width, longer forms accepted, wider markers refused", () => {
  const pong = (...id) => decodeServerMessage(Uint8Array.of(3, ...id, 0, 0)).id;
  assert.equal(pong(250), 250);
  assert.equal(pong(251, 251, 0), 251);
  assert.equal(pong(252, 0, 0, 1, 0), 0x10000);
  assert.equal(pong(251, 5, 0), 5, "a wider form than needed is still a u32");
  for (const marker of [253, 254, 255]) assert.throws(() => pong(marker, 0, 0, 0, 0, 0, 0, 0, 0), DecodeError);
  assert.throws(() => decodeServerMessage(Uint8Array.of(0, 252, 2, 0, 0, 0)), /too wide/, "protocol_version is a u16");
});

test("i32 is zigzag: the extremes", () => {
  const ints = decode("02 01 08 01 05 01 fc fe ff ff ff fc ff ff ff ff").ops[0].changes[0].delta;
  assert.deepEqual(ints, [2147483647, -2147483648]);
});

test("truncated, trailing and unknown variants are refused", () => {
  assert.throws(() => decode("02 01 08 02 01 01"), DecodeError, "2 ops promised, 1 there");
  assert.throws(() => decode("02 01 08 00 00"), /trailing/);
  assert.throws(() => decode("02 01 fd 00 00 00 00 10 00 00 00 00"), /overflows u32/, "a seq delta of 2^32");
  assert.throws(() => decode("06"), /ServerMessage: unknown variant index 6/);
  assert.throws(() => decode("05"), /tick: needs 1 bytes/, "a notice without its tick");
  assert.throws(() => decode("05 01 05 68"), /text/, "a notice whose text ends early");
  assert.throws(() => decode("04"), /tick: needs 1 bytes/, "an event without its tick");
  assert.throws(() => decode("04 2a 09"), /event: variant 9, ArenaEvent has 5/);
  assert.throws(() => decode("01 01 00 00 01 00 01 01 05 02 ff fe"), /UTF-8/);
  assert.throws(() => decode("02 01 08 fb ff ff"), /exceeds/, "an op count past the bytes left");
});

test("inputs are written from the schema, and read back", () => {
  const input = { type: "Input", seq: 300, input: { move_x: -127, move_y: 127, buttons: 1 } };
  const bytes = encodeClientMessage(input, schema);
  assert.deepEqual(bytes, unhex("00fb2c01817f01"));
  assert.deepEqual(decodeClientMessage(bytes, schema), input);
  assert.deepEqual(encodeClientMessage({ type: "Ping", id: 65536 }), Uint8Array.of(1, 252, 0, 0, 1, 0));
});

test("messages are written from the schema, and read back; events are read", () => {
  const chat = { type: "Message", message: { Chat: { text: "hello, room" } } };
  const bytes = encodeClientMessage(chat, schema);
  assert.deepEqual(bytes, unhex("0200" + "0b" + Buffer.from("hello, room").toString("hex")));
  assert.deepEqual(decodeClientMessage(bytes, schema, 1024), chat);
  assert.throws(() => encodeClientMessage({ type: "Message", message: { Shout: {} } }, schema), /message must be one of Chat/);
  assert.throws(() => encodeClientMessage({ type: "Message", message: "Chat" }, schema), /carries a value/);
  const event = decode("04 2a 04 03 62 6f 62 32");
  assert.deepEqual(event, { type: "Event", tick: 42, event: { Milestone: { name: "bob", score: 50 } } });
});

test("input values that do not fit the schema are refused, naming the field", () => {
  const send = (input, seq = 1) => encodeClientMessage({ type: "Input", seq, input }, schema);
  assert.throws(() => send({ move_x: 128, move_y: 0, buttons: 0 }), /input.move_x must be an integer in -128..=127/);
  assert.throws(() => send({ move_x: 0, move_y: 0 }), /lacks field buttons/);
  assert.throws(() => send({ move_x: 0, move_y: 0, buttons: 1.5 }), RangeError);
  assert.throws(() => send({ move_x: 0, move_y: 0, buttons: 0 }, -1), RangeError);
  assert.throws(() => encodeClientMessage({ type: "Hello" }), TypeError);
});

test("client messages over 64 bytes are refused before decoding", () => {
  assert.throws(() => decodeClientMessage(new Uint8Array(65), schema), /exceeds 64/);
});

test("decoding accepts an ArrayBuffer, as WebSocket delivers it", () => {
  assert.equal(decodeServerMessage(unhex(ARENA_WELCOME_HEX).buffer).entity_id, 300);
});

test("the tests' server encoder writes the hand-made bytes back", async () => {
  const { encodeServerMessage } = await import("./fixtures/server.js");
  const bytes = "0201140503010402 0005fb2c010201 0201020c0514 0101 100209".replaceAll(" ", "");
  assert.equal(Buffer.from(encodeServerMessage(decode(bytes), schema)).toString("hex"), bytes);
});
