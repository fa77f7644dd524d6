// The byte-by-byte examples of docs/protocol.md through the JavaScript client: every block
// marked "hex example=NAME" is read the way tests/protocol_doc.rs reads it (each line's leading
// two-digit hex numbers, up to two spaces), decoded, and, for snapshots, applied to a replica
// in order. The Rust test checks the same bytes against the server's encoder; together they
// keep the spec, the server and this client saying the same thing.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { decodeClientMessage, decodeServerMessage, encodeClientMessage } from "../tickwire/protocol.js";
import { Replica } from "../tickwire/replica.js";
import { Schema } from "../tickwire/schema.js";
import { hex } from "./fixtures/arena.js";

const MARKER = "```hex example=";
const SPEC = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");

/** The bytes of one example line, or none for a line of annotation only. */
function lineBytes(line) {
  const trimmed = line.trimStart();
  const end = trimmed.indexOf("  ");
  const pairs = (end === -1 ? trimmed : trimmed.slice(0, end)).split(" ");
  if (!pairs.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return [];
  return pairs.map((p) => parseInt(p, 16));
}

/** Every example of the spec, by name. */
function examples(text) {
  const found = new Map();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = lines[i].trim();
    if (!start.startsWith(MARKER)) continue;
    const name = start.slice(MARKER.length).trim();
    const bytes = [];
    for (i++; i < lines.length && lines[i].trim() !== "```"; i++) bytes.push(...lineBytes(lines[i]));
    assert.ok(!found.has(name), `example ${name} is given twice`);
    found.set(name, Uint8Array.from(bytes));
  }
  return found;
}

const EXAMPLES = examples(SPEC);
const bytesOf = (name) => {
  assert.ok(EXAMPLES.has(name), `docs/protocol.md has no example ${name}`);
  return EXAMPLES.get(name);
};

test("the reader takes bytes and leaves annotations", () => {
  assert.deepEqual(lineBytes("01 fb e8 03 07    Full, tick 1000"), [1, 0xfb, 0xe8, 3, 7]);
  assert.deepEqual(lineBytes("                        schema, 476 bytes:"), []);
  assert.deepEqual(lineBytes("ad hoc words"), []);
  assert.deepEqual([...EXAMPLES.keys()].sort(), ["delta", "delta_idle", "event", "full", "input", "message", "ping", "pong", "welcome"]);
});

test("the spec's server messages decode, and its snapshots apply in order", () => {
  const welcome = decodeServerMessage(bytesOf("welcome"));
  assert.equal(welcome.type, "Welcome");
  assert.equal(welcome.entity_id, 1);
  assert.equal(welcome.resume_token, "00112233445566778899aabbccddeeff");
  assert.equal(welcome.game.movement.accel, 60);
  const schema = new Schema(welcome.schema);
  const replica = new Replica(schema, welcome.entity_id);
  const full = decodeServerMessage(bytesOf("full"), schema);
  assert.deepEqual([full.type, full.tick, full.last_input_seq, full.pacing], ["Full", 1000, 7, 2]);
  replica.apply(full);
  assert.deepEqual([...replica.entities.keys()], [1, 2, 300, 301]);
  assert.deepEqual(replica.own.toObject(), {
    id: 1, Position: { x: 100, y: 75 }, Velocity: { x: 1, y: -0.5 }, Radius: { radius: 1 },
    Color: [200, 60, 60], Score: 0, Name: "me",
  });
  assert.deepEqual(replica.entities.get(2).toObject(), {
    id: 2, Position: { x: 0, y: 0 }, Radius: { radius: 26 / 64 }, Color: [120, 220, 140], Score: 1, Orb: null,
  });
  const delta = decodeServerMessage(bytesOf("delta"), schema);
  assert.deepEqual([delta.type, delta.tick_delta, delta.input_seq_delta, delta.pacing], ["Delta", 1, 1, -4]);
  replica.apply(delta);
  assert.equal(replica.tick, 1001);
  assert.deepEqual([...replica.entities.keys()], [1, 2, 301], "300 despawned");
  assert.deepEqual(replica.own.raw("Position"), [6401, 4799]);
  assert.deepEqual(replica.own.raw("Velocity"), [65, -32]);
  assert.equal(replica.entities.get(2).get("Score"), 5);
  assert.equal(replica.entities.get(2).has("Orb"), false, "the Orb marker removed");
  assert.equal(replica.entities.get(301).get("Score"), 9);
  replica.apply(decodeServerMessage(bytesOf("delta_idle"), schema));
  assert.equal(replica.tick, 1002);
  assert.deepEqual(decodeServerMessage(bytesOf("pong"), schema), { type: "Pong", id: 4_000_000_000, tick: 42, clients: 5 });
  const event = decodeServerMessage(bytesOf("event"), schema);
  assert.deepEqual([event.tick, event.event], [42, { Milestone: { name: "bob", score: 50 } }]);
});

test("the spec's client messages decode and encode back to the same bytes", () => {
  const schema = new Schema(decodeServerMessage(bytesOf("welcome")).schema);
  const expected = {
    input: { type: "Input", seq: 300, input: { move_x: -127, move_y: 127, buttons: 1 } },
    ping: { type: "Ping", id: 4_000_000_000 },
    message: { type: "Message", message: { Chat: { text: "hi" } } },
  };
  for (const [name, message] of Object.entries(expected)) {
    const bytes = bytesOf(name);
    assert.deepEqual(decodeClientMessage(bytes, schema), message, name);
    assert.equal(hex(encodeClientMessage(message, schema)), hex(bytes), name);
  }
});
