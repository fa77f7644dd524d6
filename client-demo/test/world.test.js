// Prediction, reconciliation and interpolation, against a scripted server that runs the
// same movement rules with a jitter buffer, and owns time (no timers, no sleeps).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { movementRules, step } from "../movement.js";
import { decodeServerMessage } from "../protocol.js";
import { INTERPOLATION_DELAY_MS, sampleAt, World } from "../world.js";

const WELCOME = { ...decodeServerMessage(Buffer.from(
  JSON.parse(readFileSync(new URL("../../tests/vectors/welcome.json", import.meta.url), "utf8")).hex, "hex")), entity_id: 1 };
const TICK_MS = 1000 / WELCOME.tick_rate_hz;
const OTHER = 2;
const ORB = 3;

/** The server's side of one client: a jitter buffer, one input per tick, a Delta per tick. */
class ScriptedServer {
  constructor({ bufferDepth = 2 } = {}) {
    this.rules = movementRules(WELCOME);
    this.tick = 500;
    this.body = { px: 100, py: 75, vx: 0, vy: 0 };
    this.other = { x: 110 * 64, y: 75 * 64 };
    this.orb = true;
    this.queue = [];
    this.bufferDepth = bufferDepth;
    this.lastSeq = 0;
    this.lastInput = { move_x: 0, move_y: 0, buttons: 0 };
  }

  receive(input) {
    this.queue.push(input);
  }

  // Applies one buffered input (or repeats the last one) once the buffer has filled.
  advance() {
    if (this.queue.length >= this.bufferDepth || (this.started && this.queue.length > 0)) {
      this.started = true;
      this.lastInput = this.queue.shift();
      this.lastSeq = this.lastInput.seq;
    }
    this.body = step(this.body, this.lastInput, this.rules);
    this.other.x += 32;
    this.tick++;
  }

  full() {
    const ops = [
      { type: "Own", vx: this.body.vx * 64, vy: this.body.vy * 64 },
      { type: "Spawn", id_gap: 1, entity: this.selfState() },
      { type: "Spawn", id_gap: 1, entity: { kind: "Player", ...this.other, radius: 64, color: [9, 9, 9], score: 0, name: "other" } },
      { type: "Spawn", id_gap: 1, entity: { kind: "Orb", x: 200 * 64, y: 75 * 64, radius: 26, color: [1, 1, 1], score: 1, name: "" } },
    ];
    this.sent = { tick: this.tick, seq: this.lastSeq, self: this.selfState(), other: { ...this.other } };
    return { type: "Full", tick: this.tick, last_input_seq: this.lastSeq, ops };
  }

  delta({ push = 0, eatOrb = false } = {}) {
    this.body = { ...this.body, px: this.body.px + push };
    const self = this.selfState();
    const ops = [
      { type: "Own", vx: this.body.vx * 64, vy: this.body.vy * 64 },
      { type: "Move", id_gap: 1, dx: self.x - this.sent.self.x, dy: self.y - this.sent.self.y },
      { type: "Move", id_gap: 1, dx: this.other.x - this.sent.other.x, dy: 0 },
    ];
    if (eatOrb) ops.push({ type: "Despawn", id_gap: 1 });
    const message = { type: "Delta", tick_delta: this.tick - this.sent.tick, input_seq_delta: this.lastSeq - this.sent.seq, ops };
    this.sent = { tick: this.tick, seq: this.lastSeq, self, other: { ...this.other } };
    return message;
  }

  selfState() {
    return { kind: "Player", x: this.body.px * 64, y: this.body.py * 64, radius: 64, color: [200, 60, 60], score: 0, name: "me" };
  }
}

/** A client and a server exchanging one input and one snapshot per tick, 1 tick apart. */
function session({ bufferDepth } = {}) {
  const server = new ScriptedServer({ bufferDepth });
  const world = new World(WELCOME);
  let now = 10_000;
  world.applySnapshot(server.full(), now);
  return {
    server,
    world,
    get now() { return now; },
    tick(intent, snapshot = {}) {
      now += TICK_MS;
      const input = world.input(intent, now);
      server.receive(input);
      server.advance();
      world.applySnapshot(server.delta(snapshot), now + 1);
      return input;
    },
  };
}

const RIGHT = { move_x: 127, move_y: 0, buttons: 0 };
const UP_BOOST = { move_x: 0, move_y: -127, buttons: 1 };
const IDLE = { move_x: 0, move_y: 0, buttons: 0 };

test("inputs are numbered from 1 and only after the first snapshot", () => {
  const world = new World(WELCOME);
  assert.equal(world.input(RIGHT, 0), null);
  const s = session();
  assert.equal(s.tick(RIGHT).seq, 1);
  assert.equal(s.tick(RIGHT).seq, 2);
});

test("prediction matches the server exactly: reconciliation changes nothing", () => {
  const s = session({ bufferDepth: 3 });
  for (const [intent, ticks] of [[RIGHT, 40], [UP_BOOST, 25], [IDLE, 30]]) {
    for (let i = 0; i < ticks; i++) {
      const before = s.world.predictedPosition;
      s.tick(intent);
      assert.deepEqual(s.world.correction, { x: 0, y: 0, atMs: 0 }, "no correction was ever needed");
      assert.notEqual(s.world.predictedPosition, before);
    }
  }
  // The server lags by the buffer (each input waits behind two others); the prediction is
  // those inputs ahead of it.
  assert.equal(s.world.pending.length, 2);
  let expected = { ...s.server.body };
  for (const input of s.world.pending) expected = step(expected, input, s.world.rules);
  assert.deepEqual(s.world.body, expected);
});

test("reconciliation replays exactly the inputs the server has not applied", () => {
  const s = session({ bufferDepth: 4 });
  for (let i = 0; i < 10; i++) s.tick(RIGHT);
  assert.equal(s.world.replica.lastInputSeq, 7);
  assert.deepEqual(s.world.pending.map((i) => i.seq), [8, 9, 10]);
  assert.equal(s.world.serverPosition.x, s.server.body.px);
  assert.ok(s.world.predictedPosition.x > s.world.serverPosition.x);
});

test("a server correction is blended in, then the drawn player converges", () => {
  const s = session();
  for (let i = 0; i < 10; i++) s.tick(RIGHT);
  const drawnBefore = s.world.view(s.now + 1).self.x;
  s.tick(IDLE, { push: -0.5 }); // the server pushed us back half a unit (a collision)
  const predicted = s.world.predictedPosition.x;
  const drawnAfter = s.world.view(s.now + 1).self.x;
  assert.ok(Math.abs(drawnAfter - drawnBefore) < 0.5, `no jump: ${drawnBefore} -> ${drawnAfter}`);
  for (let i = 0; i < 30; i++) s.tick(IDLE);
  const settled = s.world.view(s.now + TICK_MS).self.x;
  assert.ok(Math.abs(settled - s.world.predictedPosition.x) < 1e-3, `settled at ${settled}`);
  assert.ok(predicted < drawnAfter);
});

test("remote entities are drawn 100 ms in the past, between snapshots", () => {
  const s = session();
  for (let i = 0; i < 10; i++) s.tick(IDLE);
  // The other player moves half a unit (32 wire units) per tick.
  const delayTicks = INTERPOLATION_DELAY_MS / TICK_MS;
  const at = (nowMs) => s.world.view(nowMs).entities.find((e) => e.id === OTHER).x;
  const server = s.server.other.x / 64;
  const drawn = at(s.now + 1);
  assert.ok(Math.abs(drawn - (server - 0.5 * delayTicks)) < 0.05, `drawn ${drawn}, server ${server}`);
  // Half a tick later it has moved half as far as a tick: continuous, not stepped.
  const later = at(s.now + 1 + TICK_MS / 2);
  assert.ok(Math.abs(later - drawn - 0.25) < 0.02, `moved ${later - drawn}`);
});

test("what the own player eats vanishes now; what leaves view goes after the delay", () => {
  const s = session();
  for (let i = 0; i < 5; i++) s.tick(IDLE);
  const orbs = (nowMs) => s.world.view(nowMs).entities.filter((e) => e.id === ORB);
  assert.equal(orbs(s.now + 1).length, 1);
  s.tick(IDLE, { eatOrb: true }); // the orb at x=200 is far away: it left the view
  assert.equal(orbs(s.now + 1).length, 1, "still drawn while the delayed clock is before its despawn");
  assert.equal(orbs(s.now + 1 + INTERPOLATION_DELAY_MS + TICK_MS).length, 0);

  const near = session();
  near.server.body.px = 199; // sitting on the orb
  near.world.applySnapshot(near.server.full(), near.now);
  near.tick(IDLE, { eatOrb: true });
  assert.equal(near.world.view(near.now + 1).entities.filter((e) => e.id === ORB).length, 0);
});

test("sampleAt interpolates linearly and holds at the ends", () => {
  const samples = [{ at: 10, x: 0, y: 0 }, { at: 12, x: 64, y: -64 }, { at: 15, x: 64, y: -64 }];
  assert.deepEqual(sampleAt(samples, 9), samples[0]);
  assert.deepEqual(sampleAt(samples, 11), { at: 11, x: 32, y: -32 });
  assert.deepEqual(sampleAt(samples, 13.5), { at: 13.5, x: 64, y: -64 });
  assert.deepEqual(sampleAt(samples, 99), samples[2]);
});
