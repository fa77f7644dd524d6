// Snapshot application (docs/protocol.md, "Applying a snapshot"): a Full, then Deltas of
// every op form, components read by name, and every way a snapshot can fail to fit.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Replica, ReplicaError } from "../tickwire/replica.js";
import { Schema } from "../tickwire/schema.js";
import { ARENA_SCHEMA, CID } from "./fixtures/arena.js";

const schema = new Schema(ARENA_SCHEMA);
const OWN = 2;

const c = (name, value) => ({ component: CID[name], value });
const spawn = (id, ...components) => ({ op: "Spawn", id, components });
const despawn = (id) => ({ op: "Despawn", id });
const changes = (id, ...list) => ({ op: "Changes", id, changes: list });
const own = (...list) => ({ op: "Own", changes: list });
const set = (name, value) => ({ component: CID[name], set: value });
const delta = (name, ...ints) => ({ component: CID[name], delta: ints });
const remove = (name) => ({ component: CID[name], remove: true });
const full = (tick, last_input_seq, ops) => ({ type: "Full", tick, last_input_seq, ops });
const deltaMsg = (tick_delta, input_seq_delta, ops) => ({ type: "Delta", tick_delta, input_seq_delta, ops });

const player = (id, x, y, name) => spawn(id, c("Position", [x, y]), c("Radius", [64]), c("Color", [1, 2, 3]), c("Score", 0), c("Name", name));

function started() {
  const replica = new Replica(schema, OWN);
  replica.apply(full(1000, 7, [
    spawn(OWN, c("Position", [640, 640]), c("Velocity", [64, -32]), c("Radius", [64]), c("Name", "me"), c("Score", 1)),
    player(3, 0, 0, "p"),
    spawn(300, c("Position", [128, 64]), c("Radius", [26]), c("Score", 1), c("Orb", null)),
  ]));
  return replica;
}

test("a Full builds the replica; components read by name, scaled or raw", () => {
  const replica = started();
  assert.deepEqual([...replica.entities.keys()], [2, 3, 300]);
  assert.equal(replica.tick, 1000);
  assert.equal(replica.lastInputSeq, 7);
  assert.deepEqual(replica.own.get("Position"), { x: 10, y: 10 });
  assert.deepEqual(replica.own.raw("Position"), [640, 640]);
  assert.deepEqual(replica.own.get("Velocity"), { x: 1, y: -0.5 });
  assert.equal(replica.own.get("Name"), "me");
  assert.equal(replica.entities.get(300).has("Orb"), true);
  assert.equal(replica.entities.get(3).has("Orb"), false);
  assert.equal(replica.entities.get(3).get("Velocity"), undefined);
  assert.deepEqual(replica.entities.get(300).toObject(), { id: 300, Position: { x: 2, y: 1 }, Radius: { radius: 26 / 64 }, Score: 1, Orb: null });
  assert.throws(() => replica.own.get("Health"), /no component Health/);
});

test("Deltas: OWN, DELTA adds, SET replaces, REMOVE, DESPAWN, SPAWN replaces", () => {
  const replica = started();
  const report = replica.apply(deltaMsg(2, 3, [
    own(delta("Velocity", 1, -1)),
    changes(OWN, delta("Position", 5, -5), set("Score", 42)),
    changes(3, remove("Name"), remove("Orb")),
    despawn(300),
    player(301, 9, 9, "new"),
  ]));
  assert.deepEqual(report, { spawned: [301], despawned: [300], changed: [OWN, OWN, 3] });
  assert.equal(replica.tick, 1002);
  assert.equal(replica.lastInputSeq, 10);
  assert.deepEqual(replica.own.raw("Position"), [645, 635]);
  assert.deepEqual(replica.own.raw("Velocity"), [65, -33]);
  assert.equal(replica.own.get("Score"), 42);
  assert.equal(replica.entities.get(3).has("Name"), false);
  assert.equal(replica.entities.has(300), false);
  replica.apply(deltaMsg(1, 0, [spawn(3, c("Orb", null))]));
  assert.deepEqual(replica.entities.get(3).toObject(), { id: 3, Orb: null }, "a spawn replaces the entity whole");
});

test("quantized deltas wrap like i32", () => {
  const replica = started();
  replica.apply(deltaMsg(1, 0, [changes(3, set("Position", [2147483647, -2147483648]))]));
  replica.apply(deltaMsg(1, 0, [changes(3, delta("Position", 1, -1))]));
  assert.deepEqual(replica.entities.get(3).raw("Position"), [-2147483648, 2147483647]);
});

test("a Full starts over", () => {
  const replica = started();
  replica.apply(full(5000, 0, [spawn(OWN, c("Position", [0, 0]))]));
  assert.deepEqual([...replica.entities.keys()], [OWN]);
  assert.equal(replica.tick, 5000);
  assert.equal(replica.lastInputSeq, 0);
});

test("the replica's values are its own, not the message's", () => {
  const replica = new Replica(schema, OWN);
  const message = full(1, 0, [spawn(OWN, c("Position", [1, 1]))]);
  replica.apply(message);
  replica.apply(deltaMsg(1, 0, [changes(OWN, delta("Position", 1, 1))]));
  assert.deepEqual(message.ops[0].components[0].value, [1, 1]);
});

const refusals = [
  ["a Delta before any Full", (r) => new Replica(schema, OWN).apply(deltaMsg(1, 0, [])), /before any Full/],
  ["a Delta that does not advance", (r) => r.apply(deltaMsg(0, 0, [])), /advance the tick/],
  ["ids out of order", (r) => r.apply(deltaMsg(1, 0, [despawn(3), despawn(2)])), /ids must ascend/],
  ["the same id twice", (r) => r.apply(deltaMsg(1, 0, [changes(3, set("Score", 1)), despawn(3)])), /ids must ascend/],
  ["OWN not first", (r) => r.apply(deltaMsg(1, 0, [despawn(3), own(set("Score", 1))])), /first op/],
  ["changes to an entity not held", (r) => r.apply(deltaMsg(1, 0, [changes(4, set("Score", 1))])), /does not hold/],
  ["a despawn of an entity not held", (r) => r.apply(deltaMsg(1, 0, [despawn(299)])), /does not hold/],
  ["a DELTA of a component not held", (r) => r.apply(deltaMsg(1, 0, [changes(3, delta("Velocity", 1, 1))])), /does not hold it/],
  ["OWN before the own entity exists", () => new Replica(schema, OWN).apply(full(1, 0, [own(set("Score", 1)), spawn(OWN)])), /does not hold/],
  ["OWN for a client without an entity", () => new Replica(schema).apply(full(1, 0, [own(set("Score", 1))])), /without an entity/],
  ["a Pong", (r) => r.apply({ type: "Pong" }), /not a snapshot/],
];
for (const [what, apply, message] of refusals) {
  test(`refused: ${what}`, () => {
    assert.throws(() => apply(started()), (e) => e instanceof ReplicaError && message.test(e.message));
  });
}

test("REMOVE of a component not held is ignored", () => {
  const replica = started();
  replica.apply(deltaMsg(1, 0, [changes(3, remove("Orb"))]));
  assert.equal(replica.entities.get(3).has("Orb"), false);
});
