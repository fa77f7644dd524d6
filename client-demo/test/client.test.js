// The Client wiring, end to end over a fake socket with the test playing the server and
// owning time: welcome -> snapshots -> one input per tick, predicted and reconciled; the view
// a page draws; a snapshot that does not fit; a new session on reconnect.

import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { arenaClient, players, scene } from "../arena.js";
import { decodeClientMessage } from "../tickwire/protocol.js";
import { Schema } from "../tickwire/schema.js";
import { Client } from "../tickwire/client.js";
import { ARENA_WELCOME, ARENA_WELCOME_HEX, CID, unhex } from "./fixtures/arena.js";
import { encodeServerMessage } from "./fixtures/server.js";

const schema = new Schema(ARENA_WELCOME.schema);
const OWN = 300;
const TICK_MS = 1000 / 30;

class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static made = [];
  constructor(url, protocol) {
    Object.assign(this, { url, protocol, readyState: 0, sent: [], closedWith: null });
    FakeSocket.made.push(this);
  }
  send(bytes) { this.sent.push(decodeClientMessage(bytes, schema)); }
  close(code, reason) { this.closedWith = { code, reason }; }
  accept() { this.readyState = 1; this.onopen(); }
  deliver(bytes) { this.onmessage({ data: bytes.slice().buffer }); }
  snapshot(message) { this.deliver(encodeServerMessage(message, schema)); }
  end(code, reason = "") { this.readyState = 3; this.onclose({ code, reason }); }
}

let now;
const latest = () => FakeSocket.made.at(-1);
const advance = (ms) => { now += ms; mock.timers.tick(ms); };
const inputs = () => latest().sent.filter((m) => m.type === "Input");

beforeEach(() => {
  now = 1000;
  FakeSocket.made = [];
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
});
afterEach(() => mock.timers.reset());

const c = (name, value) => ({ component: CID[name], value });
const FULL = {
  type: "Full", tick: 100, last_input_seq: 0, ops: [
    { op: "Spawn", id: OWN, components: [c("Position", [6400, 4800]), c("Velocity", [0, 0]), c("Radius", [64]), c("Color", [1, 2, 3]), c("Score", 4), c("Name", "me")] },
    { op: "Spawn", id: 301, components: [c("Position", [6528, 4800]), c("Radius", [64]), c("Color", [9, 9, 9]), c("Score", 7), c("Name", "you")] },
    { op: "Spawn", id: 302, components: [c("Position", [6400, 4900]), c("Radius", [26]), c("Color", [5, 5, 5]), c("Score", 1), c("Orb", null)] },
  ],
};

function started(held = { move_x: 127, move_y: 0, buttons: 0 }) {
  const client = new Client({ ...arenaOptions(), input: () => held, WebSocketImpl: FakeSocket, now: () => now });
  client.connect();
  latest().accept();
  latest().deliver(unhex(ARENA_WELCOME_HEX));
  return client;
}

// The arena's own options, taken from arenaClient so the test runs what the page runs.
function arenaOptions() {
  const probe = arenaClient("ws://x/ws", () => null);
  return { url: "ws://host/ws", game: "arena", prediction: probe.predictionOptions, interpolation: probe.interpolationOptions };
}

test("no input before the first snapshot; then one per tick, numbered from 1, predicted", () => {
  const client = started();
  advance(5 * TICK_MS);
  assert.deepEqual(inputs(), []);
  assert.equal(client.view(now), null);
  latest().snapshot(FULL);
  advance(3 * TICK_MS);
  assert.deepEqual(inputs().map((m) => m.seq), [1, 2, 3]);
  assert.deepEqual(inputs()[0].input, { move_x: 127, move_y: 0, buttons: 0 });
  assert.ok(client.predicted.Position.x > 100, `predicted ${client.predicted.Position.x}`);
  assert.equal(client.replica.own.get("Position").x, 100, "the replica holds the server's truth");
});

test("a delta acknowledging inputs reconciles: pending inputs replayed from the server state", () => {
  const client = started();
  latest().snapshot(FULL);
  advance(3 * TICK_MS);
  const predictedBefore = structuredClone(client.predicted);
  // The server applied input 1: x 100 -> 100.0625 (+4/64), vx 0 -> 1.71875 (110/64).
  latest().snapshot({ type: "Delta", tick_delta: 1, input_seq_delta: 1, ops: [
    { op: "Own", changes: [{ component: CID.Velocity, delta: [110, 0] }] },
    { op: "Changes", id: OWN, changes: [{ component: CID.Position, delta: [4, 0] }] },
  ] });
  assert.equal(client.replica.lastInputSeq, 1);
  assert.deepEqual(client.session.predictor.pending.map((p) => p.seq), [2, 3]);
  assert.deepEqual(client.predicted, predictedBefore, "the prediction was exact");
  assert.equal(client.session.predictor.correction.value, null);
});

test("the scene: own player predicted, others interpolated, described by components", () => {
  const client = started({ move_x: 0, move_y: 0, buttons: 0 });
  latest().snapshot(FULL);
  for (let i = 1; i <= 6; i++) {
    advance(TICK_MS);
    latest().snapshot({ type: "Delta", tick_delta: 1, input_seq_delta: 1, ops: [] });
  }
  const view = scene(client, now);
  assert.deepEqual({ ...view.self, x: Math.round(view.self.x), y: Math.round(view.self.y) }, {
    id: OWN, kind: "Player", name: "me", score: 4, color: [1, 2, 3], radius: 1, x: 100, y: 75, serverX: 100, serverY: 75,
  });
  const orb = view.entities.find((e) => e.id === 302);
  assert.deepEqual([orb.kind, orb.radius, orb.x, orb.y], ["Orb", 26 / 64, 100, 4900 / 64]);
  assert.deepEqual(players(client.replica).map((p) => p.name), ["you", "me"]);
});

test("a snapshot that does not fit closes with 4000 and the next Welcome starts over", () => {
  const client = started();
  latest().snapshot(FULL);
  advance(2 * TICK_MS);
  const errors = [];
  client.on("error", (reason) => errors.push(reason));
  mock.method(console, "error", () => {});
  latest().snapshot({ type: "Delta", tick_delta: 1, input_seq_delta: 0, ops: [{ op: "Despawn", id: 999 }] });
  assert.equal(latest().closedWith.code, 4000);
  assert.match(errors[0], /entity 999, which the client does not hold/);
  latest().end(4000, latest().closedWith.reason);
  advance(10_000);
  latest().accept();
  latest().deliver(unhex(ARENA_WELCOME_HEX));
  latest().snapshot(FULL);
  advance(TICK_MS);
  assert.deepEqual(inputs().map((m) => m.seq), [1], "a new session numbers inputs from 1");
  assert.equal(client.session.predictor.pending.length, 1);
});

test("the view of a client without prediction or interpolation is the replica's tick", () => {
  const client = new Client({ url: "ws://h/ws", WebSocketImpl: FakeSocket, now: () => now });
  client.connect();
  latest().accept();
  latest().deliver(unhex(ARENA_WELCOME_HEX));
  latest().snapshot(FULL);
  const view = client.view(now);
  assert.equal(view.tick, 100);
  assert.deepEqual(view.entities, []);
  assert.equal(view.own.state, null);
  advance(TICK_MS * 3);
  assert.deepEqual(latest().sent.filter((m) => m.type === "Input"), [], "no input source, no inputs");
});

test("change callbacks on the client outlive a session: released on a new Welcome, added again", () => {
  const client = started();
  const log = [];
  client.onSpawn((id) => log.push(["spawn", id]));
  client.onDespawn((id) => log.push(["despawn", id]));
  const off = client.onChange("Score", (id, score, previous) => log.push(["score", id, score, previous]));
  client.onRemove("Name", (id, name) => log.push(["name gone", id, name]));
  latest().snapshot(FULL);
  latest().snapshot({ type: "Delta", tick_delta: 1, input_seq_delta: 0, ops: [
    { op: "Changes", id: 301, changes: [{ component: CID.Score, set: 8 }] },
  ] });
  off();
  latest().snapshot({ type: "Delta", tick_delta: 1, input_seq_delta: 0, ops: [
    { op: "Changes", id: 301, changes: [{ component: CID.Score, set: 9 }] },
  ] });
  assert.deepEqual(log, [["spawn", OWN], ["spawn", 301], ["spawn", 302], ["score", 301, 8, 7]]);
  log.length = 0;
  latest().end(1006);
  advance(10_000);
  latest().accept();
  latest().deliver(unhex(ARENA_WELCOME_HEX));
  assert.deepEqual(log, [
    ["name gone", OWN, "me"], ["despawn", OWN], ["name gone", 301, "you"], ["despawn", 301], ["despawn", 302],
  ], "the old session's entities are released before the new one starts");
  log.length = 0;
  latest().snapshot(FULL);
  assert.deepEqual(log, [["spawn", OWN], ["spawn", 301], ["spawn", 302]]);
});
