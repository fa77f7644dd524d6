// Per-component change callbacks on the replica (replica.js, "Change callbacks"), driven by
// the golden vectors' snapshots (tests/vectors/full.json then each delta_*.json, decoded
// from their bytes with welcome.json's schema): what fires, with which values, in which
// order, only after the whole snapshot applied, and not after unsubscribing.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { decodeServerMessage } from "../tickwire/protocol.js";
import { Replica, ReplicaCallbacks } from "../tickwire/replica.js";
import { Schema } from "../tickwire/schema.js";
import { unhex } from "./fixtures/arena.js";

const load = (name) => JSON.parse(readFileSync(new URL(`../../tests/vectors/${name}.json`, import.meta.url), "utf8"));
const welcome = decodeServerMessage(unhex(load("welcome").hex));
const schema = new Schema(welcome.schema);
const snapshot = (name) => decodeServerMessage(unhex(load(name).hex), schema);
const COMPONENTS = schema.components.map((c) => c.name);

// A replica with a listener of every kind on every component, logging into `log`.
function watched(callbacks = new ReplicaCallbacks()) {
  const replica = new Replica(schema, welcome.entity_id, callbacks);
  const log = [];
  for (const name of COMPONENTS) {
    replica.onAdd(name, (id, value) => log.push(["add", name, id, value]));
    replica.onChange(name, (id, value, previous) => log.push(["change", name, id, value, previous]));
    replica.onRemove(name, (id, previous) => log.push(["remove", name, id, previous]));
  }
  replica.onSpawn((id, entity) => log.push(["spawn", id, entity.id]));
  replica.onDespawn((id, entity) => log.push(["despawn", id, entity.get("Name") ?? null]));
  return { replica, log };
}

test("a Full spawns every entity, then adds its components in schema order", () => {
  const { replica, log } = watched();
  replica.apply(snapshot("full"));
  assert.deepEqual(log, [
    ["spawn", 1, 1],
    ["add", "Position", 1, { x: 10, y: 20 }],
    ["add", "Velocity", 1, { x: 1.5, y: -2 }],
    ["add", "Radius", 1, { radius: 1 }],
    ["add", "Color", 1, [230, 80, 40]],
    ["add", "Score", 1, 3],
    ["add", "Name", 1, "ada"],
    ["spawn", 2, 2],
    ["add", "Position", 2, { x: 50, y: 60.5 }],
    ["add", "Radius", 2, { radius: 1 }],
    ["add", "Color", 2, [40, 80, 230]],
    ["add", "Score", 2, 3],
    ["add", "Name", 2, "bob"],
    ["spawn", 3, 3],
    ["add", "Position", 3, { x: 3, y: 4 }],
    ["add", "Radius", 3, { radius: 22 / 64 }],
    ["add", "Color", 3, [120, 220, 140]],
    ["add", "Score", 3, 1],
    ["add", "Orb", 3, null],
  ]);
});

test("a mixed Delta: changes with previous values, a despawn after its removes, a spawn", () => {
  const { replica, log } = watched();
  replica.apply(snapshot("full"));
  log.length = 0;
  replica.apply(snapshot("delta_mixed"));
  assert.deepEqual(log, [
    ["change", "Position", 2, { x: 50, y: 60.75 }, { x: 50, y: 60.5 }],
    ["change", "Score", 2, 9, 3],
    ["remove", "Position", 3, { x: 3, y: 4 }],
    ["remove", "Radius", 3, { radius: 22 / 64 }],
    ["remove", "Color", 3, [120, 220, 140]],
    ["remove", "Score", 3, 1],
    ["remove", "Orb", 3, null],
    ["despawn", 3, null],
    ["spawn", 4, 4],
    ["add", "Position", 4, { x: 150, y: 20 }],
    ["add", "Radius", 4, { radius: 35 / 64 }],
    ["add", "Score", 4, 3],
    ["add", "Orb", 4, null],
  ]);
});

test("OWN and DELTA ops change the own entity; a SET and a REMOVE in one Changes", () => {
  const moves = watched();
  moves.replica.apply(snapshot("full"));
  moves.log.length = 0;
  moves.replica.apply(snapshot("delta_moves"));
  assert.deepEqual(moves.log, [
    ["change", "Position", 1, { x: 10 + 17 / 64, y: 20 - 17 / 64 }, { x: 10, y: 20 }],
    ["change", "Velocity", 1, { x: 2, y: -1 }, { x: 1.5, y: -2 }],
    ["change", "Position", 2, { x: 49, y: 60.5 }, { x: 50, y: 60.5 }],
  ]);

  const catchUp = watched();
  catchUp.replica.apply(snapshot("full"));
  catchUp.log.length = 0;
  catchUp.replica.apply(snapshot("delta_catch_up"));
  assert.deepEqual(catchUp.log, [
    ["change", "Velocity", 1, { x: 0, y: 0 }, { x: 1.5, y: -2 }],
    ["change", "Position", 2, { x: 51, y: 60.75 }, { x: 50, y: 60.5 }],
    ["remove", "Color", 2, [40, 80, 230]],
    ["change", "Score", 2, 10, 3],
  ]);
});

test("an idle Delta and a Full that resends the same state fire nothing", () => {
  const { replica, log } = watched();
  replica.apply(snapshot("full"));
  log.length = 0;
  replica.apply(snapshot("delta_idle"));
  replica.apply(snapshot("full"));
  assert.deepEqual(log, []);
});

test("a Full after changes reports the difference: what changed back, what came back", () => {
  const { replica, log } = watched();
  replica.apply(snapshot("full"));
  replica.apply(snapshot("delta_mixed"));
  log.length = 0;
  replica.apply(snapshot("full"));
  assert.deepEqual(log, [
    ["change", "Position", 2, { x: 50, y: 60.5 }, { x: 50, y: 60.75 }],
    ["change", "Score", 2, 3, 9],
    ["spawn", 3, 3],
    ["add", "Position", 3, { x: 3, y: 4 }],
    ["add", "Radius", 3, { radius: 22 / 64 }],
    ["add", "Color", 3, [120, 220, 140]],
    ["add", "Score", 3, 1],
    ["add", "Orb", 3, null],
    ["remove", "Position", 4, { x: 150, y: 20 }],
    ["remove", "Radius", 4, { radius: 35 / 64 }],
    ["remove", "Score", 4, 3],
    ["remove", "Orb", 4, null],
    ["despawn", 4, null],
  ]);
});

test("callbacks see the whole snapshot applied; a throwing one does not stop the rest", () => {
  const replica = new Replica(schema, welcome.entity_id);
  const seen = [];
  replica.onChange("Score", (id) => {
    // By the time any callback runs, the despawn and the spawn later in the ops are done.
    seen.push([id, replica.tick, replica.entities.has(3), replica.entities.has(4)]);
    throw new Error("a page bug");
  });
  replica.onAdd("Orb", (id) => seen.push([id, "orb"]));
  replica.apply(snapshot("full"));
  const errors = [];
  const original = console.error;
  console.error = (...args) => errors.push(args);
  try {
    replica.apply(snapshot("delta_mixed"));
  } finally {
    console.error = original;
  }
  assert.deepEqual(seen, [[3, "orb"], [2, 2, false, true], [4, "orb"]]);
  assert.equal(errors.length, 1);
  assert.equal(replica.entities.get(2).get("Score"), 9, "the snapshot applied despite the throw");
});

test("unsubscribing stops a callback; a typo names the schema; clear() releases everything", () => {
  const replica = new Replica(schema, welcome.entity_id);
  const adds = [];
  const removes = [];
  const off = replica.onAdd("Name", (id, name) => adds.push(name));
  replica.onRemove("Name", (id, name) => removes.push(name));
  assert.throws(() => replica.onAdd("Nmae", () => {}), /no component Nmae/);
  replica.apply(snapshot("full"));
  off();
  replica.apply(snapshot("delta_mixed"));
  replica.entities.clear();
  replica.apply(snapshot("full"));
  assert.deepEqual(adds, ["ada", "bob"], "no add after unsubscribing");
  replica.clear();
  assert.deepEqual(removes, ["ada", "bob"]);
  assert.equal(replica.entities.size, 0);
  assert.equal(replica.hasBaseline, false);
});

test("callbacks shared by two replicas (a Client's sessions) follow the new one", () => {
  const callbacks = new ReplicaCallbacks();
  const spawned = [];
  callbacks.onSpawn((id) => spawned.push(id));
  const first = new Replica(schema, welcome.entity_id, callbacks);
  first.apply(snapshot("full"));
  first.clear();
  const second = new Replica(schema, welcome.entity_id, callbacks);
  second.apply(snapshot("full"));
  assert.deepEqual(spawned, [1, 2, 3, 1, 2, 3]);
});

test("a shared callback on a component the schema lacks is reported when a replica starts", (t) => {
  const callbacks = new ReplicaCallbacks();
  callbacks.onAdd("Helth", () => {});
  callbacks.onChange("Score", () => {});
  const errors = t.mock.method(console, "error", () => {});
  new Replica(schema, welcome.entity_id, callbacks);
  assert.equal(errors.mock.callCount(), 1);
  assert.match(errors.mock.calls[0].arguments[0], /listens to Helth, which the arena schema does not have/);
});
