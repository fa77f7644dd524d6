// Snapshot application (docs/protocol.md section 5): a Full, then Deltas, and every way a
// snapshot can fail to fit the replica.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Replica, ReplicaError } from "../replica.js";

const SELF = 2;

const player = (x, y, name = "p") => ({ kind: "Player", x, y, radius: 64, color: [1, 2, 3], score: 0, name });
const orb = (x, y, score = 1) => ({ kind: "Orb", x, y, radius: 26, color: [4, 5, 6], score, name: "" });
const spawn = (id_gap, entity) => ({ type: "Spawn", id_gap, entity });
const move = (id_gap, dx, dy) => ({ type: "Move", id_gap, dx, dy });
const update = (id_gap, dx, dy, score) => ({ type: "Update", id_gap, dx, dy, score });
const despawn = (id_gap) => ({ type: "Despawn", id_gap });
const own = (vx, vy) => ({ type: "Own", vx, vy });
const full = (tick, last_input_seq, ops) => ({ type: "Full", tick, last_input_seq, ops });
const delta = (tick_delta, input_seq_delta, ops) => ({ type: "Delta", tick_delta, input_seq_delta, ops });

// Ids 2 (self), 3 and 300.
function started() {
  const replica = new Replica(SELF);
  replica.apply(full(1000, 7, [own(64, -32), spawn(2, player(640, 640, "me")), spawn(1, player(0, 0)), spawn(297, orb(128, 64))]));
  return replica;
}

test("a Full builds the replica from gaps, and Deltas change it", () => {
  const replica = started();
  assert.deepEqual([...replica.entities.keys()], [2, 3, 300]);
  assert.equal(replica.self.name, "me");
  assert.deepEqual(replica.ownVelocity, { vx: 64, vy: -32 });
  assert.equal(replica.tick, 1000);
  assert.equal(replica.lastInputSeq, 7);

  const changes = replica.apply(delta(2, 3, [move(2, 5, -5), update(1, -10, 0, 42), despawn(297), spawn(1, orb(9, 9))]));
  assert.deepEqual(changes, { spawned: [301], despawned: [300] });
  assert.equal(replica.tick, 1002);
  assert.equal(replica.lastInputSeq, 10);
  assert.deepEqual([replica.self.x, replica.self.y], [645, 635]);
  assert.deepEqual([replica.entities.get(3).x, replica.entities.get(3).score], [-10, 42]);
  assert.equal(replica.entities.has(300), false);
  assert.equal(replica.entities.get(301).kind, "Orb");
  // Own is remembered across deltas that do not carry it.
  assert.deepEqual(replica.ownVelocity, { vx: 64, vy: -32 });
});

test("Own leads without moving the id cursor; an idle delta changes only the tick", () => {
  const replica = started();
  replica.apply(delta(1, 0, [own(-1, 1), move(3, 1, 1)]));
  assert.deepEqual(replica.ownVelocity, { vx: -1, vy: 1 });
  assert.deepEqual([replica.entities.get(3).x, replica.entities.get(3).y], [1, 1]);
  const before = structuredClone([...replica.entities]);
  replica.apply(delta(1, 0, []));
  assert.equal(replica.tick, 1002);
  assert.deepEqual([...replica.entities], before);
});

test("Spawn replaces an entity with the same id", () => {
  const replica = started();
  replica.apply(delta(1, 0, [spawn(3, orb(1, 2, 5))]));
  assert.deepEqual(replica.entities.get(3), orb(1, 2, 5));
});

test("a Full discards everything held before", () => {
  const replica = started();
  replica.apply(full(5000, 0, [own(0, 0), spawn(2, player(1, 1))]));
  assert.deepEqual([...replica.entities.keys()], [2]);
  assert.equal(replica.tick, 5000);
  assert.equal(replica.lastInputSeq, 0);
});

test("positions wrap like the server's i32", () => {
  const replica = started();
  replica.apply(delta(1, 0, [move(3, 2147483647, -2147483648)]));
  assert.deepEqual([replica.entities.get(3).x, replica.entities.get(3).y], [2147483647, -2147483648]);
});

test("snapshots that do not fit are errors", () => {
  const cases = {
    "a Delta before any Full": () => new Replica(SELF).apply(delta(1, 0, [])),
    "a Move of an unknown id": (r) => r.apply(delta(1, 0, [move(4, 1, 1)])),
    "an Update of an unknown id": (r) => r.apply(delta(1, 0, [update(4, 1, 1, 1)])),
    "a Despawn of an unknown id": (r) => r.apply(delta(1, 0, [despawn(4)])),
    "an id gap of 0": (r) => r.apply(delta(1, 0, [move(2, 1, 1), move(0, 1, 1)])),
    "Own after another op": (r) => r.apply(delta(1, 0, [move(2, 1, 1), own(0, 0)])),
    "a Move inside a Full": (r) => r.apply(full(1, 0, [own(0, 0), spawn(2, player(0, 0)), move(0, 1, 1)])),
    "a Full without the own player": (r) => r.apply(full(1, 0, [own(0, 0), spawn(3, player(0, 0))])),
    "a Despawn of the own player": (r) => r.apply(delta(1, 0, [despawn(2)])),
    "a Delta that does not advance the tick": (r) => r.apply(delta(0, 0, [])),
    "an id beyond u32": (r) => r.apply(delta(1, 0, [move(2, 1, 1), spawn(0xfffffffe, orb(0, 0))])),
  };
  for (const [what, apply] of Object.entries(cases)) {
    assert.throws(() => apply(started()), ReplicaError, what);
  }
});
