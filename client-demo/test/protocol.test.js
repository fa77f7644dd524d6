// The bincode details the golden vectors do not all reach: every varint width, the markers
// each integer type refuses, zigzag at the extremes, and what the encoder will not write.

import assert from "node:assert/strict";
import { test } from "node:test";
import { DecodeError, decodeClientMessage, decodeServerMessage, encodeClientMessage } from "../protocol.js";

const bytes = (...values) => Uint8Array.from(values);
const pong = (...idBytes) => decodeServerMessage(bytes(3, ...idBytes, 0, 0));

test("u32 varints: one byte below 251, marker forms above, longer forms accepted", () => {
  assert.equal(pong(250).id, 250);
  assert.equal(pong(251, 251, 0).id, 251);
  assert.equal(pong(251, 0xff, 0xff).id, 0xffff);
  assert.equal(pong(252, 0, 0, 1, 0).id, 0x10000);
  assert.equal(pong(252, 0xff, 0xff, 0xff, 0xff).id, 0xffffffff);
  assert.equal(pong(251, 5, 0).id, 5, "a wider form than needed is still a u32");
  assert.equal(pong(252, 5, 0, 0, 0).id, 5);
});

test("u32 varints refuse the u64, u128 and reserved markers", () => {
  for (const marker of [253, 254, 255]) {
    assert.throws(() => pong(marker, 0, 0, 0, 0, 0, 0, 0, 0), DecodeError, `marker ${marker}`);
  }
});

test("u16 varints refuse markers wider than u16", () => {
  // Welcome's first field is protocol_version: u16.
  assert.throws(() => decodeServerMessage(bytes(0, 252, 1, 0, 0, 0)), /too wide/);
});

test("lengths are u64 varints: marker 253 is read, and a length past the end is truncation", () => {
  // A Full with ops length written as 253 + 8 bytes = 0 ops.
  const full = decodeServerMessage(bytes(1, 9, 0, 253, 0, 0, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(full, { type: "Full", tick: 9, last_input_seq: 0, ops: [] });
  assert.throws(() => decodeServerMessage(bytes(1, 9, 0, 253, 0, 0, 0, 0, 0, 0, 0, 1)), DecodeError);
  assert.throws(() => decodeServerMessage(bytes(1, 9, 0, 254, 0)), /too wide/);
});

test("i32 is zigzag over a u32 varint", () => {
  const move = (...payload) => decodeServerMessage(bytes(2, 1, 0, 1, 1, 1, ...payload)).ops[0];
  assert.deepEqual(move(0, 1), { type: "Move", id_gap: 1, dx: 0, dy: -1 });
  assert.deepEqual(move(2, 3), { type: "Move", id_gap: 1, dx: 1, dy: -2 });
  assert.deepEqual(move(252, 0xfe, 0xff, 0xff, 0xff, 252, 0xff, 0xff, 0xff, 0xff),
    { type: "Move", id_gap: 1, dx: 2147483647, dy: -2147483648 });
});

test("unknown variants anywhere are refused", () => {
  assert.throws(() => decodeServerMessage(bytes(4)), /ServerMessage: unknown variant index 4/);
  assert.throws(() => decodeServerMessage(bytes(2, 1, 0, 1, 5)), /Op: unknown variant index 5/);
  const orb = [1, 0, 0, 26, 0, 0, 0, 1, 0];
  assert.throws(() => decodeServerMessage(bytes(2, 1, 0, 1, 0, 1, 2, ...orb.slice(1))), /EntityKind/);
  assert.deepEqual(decodeServerMessage(bytes(2, 1, 0, 1, 0, 1, ...orb)).ops[0].entity.kind, "Orb");
});

test("client messages over 64 bytes are refused before decoding", () => {
  assert.throws(() => decodeClientMessage(new Uint8Array(65)), /exceeds 64/);
});

test("i8 fields are two's complement bytes", () => {
  assert.deepEqual(decodeClientMessage(bytes(0, 1, 0x80, 0x7f, 1)), { type: "Input", seq: 1, move_x: -128, move_y: 127, buttons: 1 });
});

test("the encoder writes the smallest varint and refuses values out of range", () => {
  assert.deepEqual(encodeClientMessage({ type: "Ping", id: 250 }), bytes(1, 250));
  assert.deepEqual(encodeClientMessage({ type: "Ping", id: 251 }), bytes(1, 251, 251, 0));
  assert.deepEqual(encodeClientMessage({ type: "Ping", id: 65536 }), bytes(1, 252, 0, 0, 1, 0));
  assert.deepEqual(encodeClientMessage({ type: "Input", seq: 3, move_x: -1, move_y: -128, buttons: 0 }), bytes(0, 3, 0xff, 0x80, 0));
  const input = { type: "Input", seq: 1, move_x: 0, move_y: 0, buttons: 0 };
  assert.throws(() => encodeClientMessage({ ...input, move_x: 128 }), RangeError);
  assert.throws(() => encodeClientMessage({ ...input, seq: -1 }), RangeError);
  assert.throws(() => encodeClientMessage({ ...input, seq: 2 ** 32 }), RangeError);
  assert.throws(() => encodeClientMessage({ ...input, buttons: 1.5 }), RangeError);
  assert.throws(() => encodeClientMessage({ type: "Hello" }), TypeError);
});

test("decoding accepts an ArrayBuffer, as WebSocket delivers it", () => {
  assert.deepEqual(decodeServerMessage(bytes(3, 1, 2, 9).buffer), { type: "Pong", id: 1, tick: 2, players: 9 });
});
