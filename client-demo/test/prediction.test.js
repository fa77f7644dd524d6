// Prediction, reconciliation and interpolation with the arena's rules, against a scripted
// server that runs the same rules with a jitter buffer, and owns time (no timers, no sleeps).

import assert from "node:assert/strict";
import { test } from "node:test";
import { predict } from "../arena.js";
import { movementRules, step } from "../movement.js";
import { INTERPOLATION_DELAY_MS, Interpolator } from "../tickwire/interpolation.js";
import { pathAt, Predictor } from "../tickwire/prediction.js";
import { Replica } from "../tickwire/replica.js";
import { Schema } from "../tickwire/schema.js";
import { ARENA_WELCOME, CID } from "./fixtures/arena.js";

const WELCOME = { ...ARENA_WELCOME, entity_id: 1 };
const schema = new Schema(WELCOME.schema);
const HZ = WELCOME.tick_rate_hz;
const TICK_MS = 1000 / HZ;
const OWN = 1;
const OTHER = 2;
const ORB = 3;
const q = (v) => Math.round(v * 64);

/** The server's side of one client: a jitter buffer, one input per tick, a Delta per tick. */
class ScriptedServer {
  constructor({ bufferDepth = 2 } = {}) {
    this.rules = movementRules(WELCOME.game, HZ);
    this.tick = 500;
    this.body = { px: 100, py: 75, vx: 0, vy: 0 };
    this.other = [110 * 64, 75 * 64];
    this.queue = [];
    this.bufferDepth = bufferDepth;
    this.lastSeq = 0;
    this.lastInput = { move_x: 0, move_y: 0, buttons: 0 };
  }

  receive(seq, input) {
    this.queue.push({ seq, input });
  }

  // Applies one buffered input (or repeats the last one) once the buffer has filled.
  advance() {
    if (this.queue.length >= this.bufferDepth || (this.started && this.queue.length > 0)) {
      this.started = true;
      const { seq, input } = this.queue.shift();
      this.lastInput = input;
      this.lastSeq = seq;
    }
    this.body = step(this.body, this.lastInput, this.rules);
    this.other[0] += 32;
    this.tick++;
  }

  full() {
    const comp = (name, value) => ({ component: CID[name], value });
    const ops = [
      { op: "Spawn", id: OWN, components: [comp("Position", this.pos()), comp("Velocity", this.vel()), comp("Radius", [64]), comp("Name", "me")] },
      { op: "Spawn", id: OTHER, components: [comp("Position", [...this.other]), comp("Radius", [64]), comp("Name", "other")] },
      { op: "Spawn", id: ORB, components: [comp("Position", [200 * 64, 75 * 64]), comp("Radius", [26]), comp("Orb", null)] },
    ];
    this.sent = { tick: this.tick, seq: this.lastSeq, pos: this.pos(), vel: this.vel(), other: [...this.other] };
    return { type: "Full", tick: this.tick, last_input_seq: this.lastSeq, ops };
  }

  delta({ push = 0, eatOrb = false } = {}) {
    this.body = { ...this.body, px: this.body.px + push };
    const [pos, vel] = [this.pos(), this.vel()];
    const minus = (a, b) => a.map((v, i) => v - b[i]);
    const ops = [
      { op: "Own", changes: [{ component: CID.Velocity, delta: minus(vel, this.sent.vel) }] },
      { op: "Changes", id: OWN, changes: [{ component: CID.Position, delta: minus(pos, this.sent.pos) }] },
      { op: "Changes", id: OTHER, changes: [{ component: CID.Position, delta: minus(this.other, this.sent.other) }] },
    ];
    if (eatOrb) ops.push({ op: "Despawn", id: ORB });
    const message = { type: "Delta", tick_delta: this.tick - this.sent.tick, input_seq_delta: this.lastSeq - this.sent.seq, ops };
    this.sent = { tick: this.tick, seq: this.lastSeq, pos, vel, other: [...this.other] };
    return message;
  }

  pos() {
    return [q(this.body.px), q(this.body.py)];
  }

  vel() {
    return [q(this.body.vx), q(this.body.vy)];
  }
}

/** A replica, predictor and interpolator fed one input and one snapshot per tick. */
function session({ bufferDepth, vanishNow } = {}) {
  const server = new ScriptedServer({ bufferDepth });
  const replica = new Replica(schema, OWN);
  const predictor = new Predictor({ components: ["Position", "Velocity"], predict, tickRateHz: HZ, welcome: WELCOME, smooth: "Position" });
  const interpolator = new Interpolator(schema, { component: "Position", tickRateHz: HZ, ownId: OWN, vanishNow });
  let now = 10_000;
  let seq = 1;
  const apply = (message, at) => {
    interpolator.record(replica, replica.apply(message));
    predictor.reconcile(replica.own, replica.lastInputSeq, at);
  };
  apply(server.full(), now);
  return {
    server, replica, predictor, interpolator, apply,
    get now() { return now; },
    // Remote entities at `nowMs`, with the server's tick taken as arriving on time.
    remote(nowMs) { return interpolator.at(interpolator.renderTick(replica.tick + (nowMs - now) / TICK_MS)); },
    tick(input, snapshot = {}) {
      now += TICK_MS;
      predictor.input(seq, input, now);
      server.receive(seq++, input);
      server.advance();
      apply(server.delta(snapshot), now + 1);
    },
  };
}

const RIGHT = { move_x: 127, move_y: 0, buttons: 0 };
const UP_BOOST = { move_x: 0, move_y: -127, buttons: 1 };
const IDLE = { move_x: 0, move_y: 0, buttons: 0 };

test("nothing is predicted before the own entity is known", () => {
  const predictor = new Predictor({ components: ["Position"], predict, tickRateHz: HZ });
  assert.equal(predictor.input(1, RIGHT, 0), null);
  assert.equal(predictor.drawn(0), null);
});

test("prediction matches the server exactly: reconciliation changes nothing", () => {
  const s = session({ bufferDepth: 3 });
  for (const [input, ticks] of [[RIGHT, 40], [UP_BOOST, 25], [IDLE, 30]]) {
    for (let i = 0; i < ticks; i++) {
      const before = s.predictor.state;
      s.tick(input);
      assert.equal(s.predictor.correction.value, null, "no correction was ever needed");
      assert.notEqual(s.predictor.state, before);
    }
  }
  // The server lags by the buffer; the prediction is those inputs ahead of it.
  assert.equal(s.predictor.pending.length, 2);
  let expected = { ...s.server.body };
  for (const { input } of s.predictor.pending) expected = step(expected, input, s.server.rules);
  assert.deepEqual(s.predictor.state, { Position: { x: expected.px, y: expected.py }, Velocity: { x: expected.vx, y: expected.vy } });
});

test("reconciliation replays exactly the inputs the server has not applied", () => {
  const s = session({ bufferDepth: 4 });
  for (let i = 0; i < 10; i++) s.tick(RIGHT);
  assert.equal(s.replica.lastInputSeq, 7);
  assert.deepEqual(s.predictor.pending.map((p) => p.seq), [8, 9, 10]);
  assert.equal(s.replica.own.get("Position").x, s.server.body.px);
  assert.ok(s.predictor.state.Position.x > s.server.body.px);
});

test("a server correction is blended in, then the drawn value converges", () => {
  const s = session();
  for (let i = 0; i < 10; i++) s.tick(RIGHT);
  const drawnBefore = s.predictor.drawn(s.now + 1).x;
  s.tick(IDLE, { push: -0.5 }); // the server pushed us back half a unit (a collision)
  const predicted = s.predictor.state.Position.x;
  const drawnAfter = s.predictor.drawn(s.now + 1).x;
  assert.ok(Math.abs(drawnAfter - drawnBefore) < 0.5, `no jump: ${drawnBefore} -> ${drawnAfter}`);
  for (let i = 0; i < 30; i++) s.tick(IDLE);
  const settled = s.predictor.drawn(s.now + TICK_MS).x;
  assert.ok(Math.abs(settled - s.predictor.state.Position.x) < 1e-3, `settled at ${settled}`);
  assert.ok(predicted < drawnAfter);
});

test("a correction beyond the snap distance is not blended", () => {
  const s = session();
  for (let i = 0; i < 5; i++) s.tick(IDLE);
  s.tick(IDLE, { push: 10 });
  assert.equal(s.predictor.correction.value, null);
  assert.equal(s.predictor.drawn(s.now + 1).x, s.predictor.state.Position.x);
});

test("remote entities are drawn 100 ms in the past, between snapshots", () => {
  const s = session();
  for (let i = 0; i < 10; i++) s.tick(IDLE);
  const delayTicks = INTERPOLATION_DELAY_MS / TICK_MS;
  const at = (nowMs) => s.remote(nowMs).find((e) => e.id === OTHER).value.x;
  const server = s.server.other[0] / 64;
  const drawn = at(s.now);
  assert.ok(Math.abs(drawn - (server - 0.5 * delayTicks)) < 1e-9, `drawn ${drawn}, server ${server}`);
  // Half a tick later it has moved half as far as a tick: continuous, not stepped.
  assert.ok(Math.abs(at(s.now + TICK_MS / 2) - drawn - 0.25) < 1e-9);
  assert.equal(s.remote(s.now).some((e) => e.id === OWN), false, "the own entity is predicted, not interpolated");
});

test("what leaves view goes after the delay; what vanishNow picks goes at once", () => {
  const s = session();
  for (let i = 0; i < 5; i++) s.tick(IDLE);
  const orbs = (ses, nowMs) => ses.remote(nowMs).filter((e) => e.id === ORB);
  s.tick(IDLE, { eatOrb: true });
  assert.equal(orbs(s, s.now).length, 1, "still drawn while the delayed clock is before its despawn");
  assert.equal(orbs(s, s.now + INTERPOLATION_DELAY_MS + TICK_MS).length, 0);

  const eaten = session({ vanishNow: (gone) => gone.has("Orb") });
  eaten.tick(IDLE, { eatOrb: true });
  assert.equal(orbs(eaten, eaten.now).length, 0);
});

test("a resting entity keeps two samples however long it rests", () => {
  const s = session();
  for (let i = 0; i < 20; i++) s.tick(IDLE);
  assert.equal(s.interpolator.histories.get(ORB).samples.length, 2);
  assert.ok(s.interpolator.histories.get(OTHER).samples.length <= HZ + 1, "history is trimmed to a second");
});

test("pathAt interpolates every field linearly and holds at the ends", () => {
  const path = [{ at: 10, value: { x: 0, y: 0 } }, { at: 12, value: { x: 64, y: -64 } }, { at: 15, value: { x: 64, y: -64 } }];
  assert.deepEqual(pathAt(path, 9), { x: 0, y: 0 });
  assert.deepEqual(pathAt(path, 11), { x: 32, y: -32 });
  assert.deepEqual(pathAt(path, 13.5), { x: 64, y: -64 });
  assert.deepEqual(pathAt(path, 99), { x: 64, y: -64 });
});

test("only quantized components can be interpolated", () => {
  assert.throws(() => new Interpolator(schema, { component: "Name", tickRateHz: HZ }), /not quantized/);
});

test("partial tick: the drawn own entity moves on the first frame after an input change", () => {
  const s = session();
  for (let i = 0; i < 5; i++) s.tick(IDLE);
  const frame = (k) => s.now + (k * TICK_MS) / 4; // four frames per tick
  const still = s.predictor.drawn(frame(1), IDLE);
  assert.deepEqual(still, s.predictor.drawn(frame(0), IDLE), "at rest, idle: nothing moves");
  // The key goes down between two frames of the same tick; no input tick has run yet.
  const pressed = s.predictor.drawn(frame(2), RIGHT);
  assert.ok(pressed.x > still.x, `moved on the next frame: ${still.x} -> ${pressed.x}`);
  assert.equal(pressed.y, still.y);
  // Drawn without the current input (a tick behind), the same frame shows nothing yet.
  assert.equal(s.predictor.drawn(frame(2)).x, still.x);
});

test("partial tick: display only; the predicted state and reconciliation are unchanged", () => {
  const s = session({ bufferDepth: 3 });
  let drawnBefore = null;
  let largestStep = 0;
  for (let i = 0; i < 30; i++) {
    // Frames in between ticks draw with the input the next tick will send.
    for (let k = 0; k < 4; k++) {
      const drawn = s.predictor.drawn(s.now + (k * TICK_MS) / 4, RIGHT);
      if (drawnBefore) largestStep = Math.max(largestStep, Math.abs(drawn.x - drawnBefore.x));
      drawnBefore = drawn;
    }
    s.tick(RIGHT);
    assert.equal(s.predictor.correction.value, null, "no correction was ever needed");
  }
  let expected = { ...s.server.body };
  for (const { input } of s.predictor.pending) expected = step(expected, input, s.server.rules);
  assert.deepEqual(s.predictor.state.Position, { x: expected.px, y: expected.py });
  // Continuous across input ticks: no frame moves more than a quarter tick at top speed.
  const cap = WELCOME.game.movement.max_speed;
  assert.ok(largestStep <= (cap / HZ / 4) * 1.05, `largest step ${largestStep}`);
  // At the start of a tick the drawn value is the predicted state itself.
  assert.deepEqual(s.predictor.drawn(s.now, RIGHT), s.predictor.state.Position);
  assert.deepEqual(s.predictor.stats, { corrections: 0, snaps: 0, largestCorrection: 0 });
});

test("partial tick: a frame timed before the latest input tick is drawn on the path, not ahead of it", () => {
  // The input loop runs on its own timer: a tick scheduled between a frame's time (the
  // display's, taken when the frame began) and its drawing has already run when it draws.
  const s = session({ bufferDepth: 3 });
  for (let i = 0; i < 30; i++) s.tick(RIGHT);
  const speed = (a, b, ms) => (b.x - a.x) / (ms / 1000);
  const cap = WELCOME.game.movement.max_speed;
  const early = s.predictor.drawn(s.now - TICK_MS / 4, RIGHT);
  assert.deepEqual(early, pathAt(s.predictor.trail, s.now - TICK_MS / 4));
  assert.ok(early.x < s.predictor.state.Position.x, "behind the latest input tick's state");
  const before = s.predictor.drawn(s.now - TICK_MS / 2, RIGHT);
  const after = s.predictor.drawn(s.now + TICK_MS / 4, RIGHT);
  for (const [a, b, ms] of [[before, early, TICK_MS / 4], [early, after, TICK_MS / 2]]) {
    const v = speed(a, b, ms);
    assert.ok(Math.abs(v - cap) / cap < 0.05, `drawn at ${v} units/s, cap ${cap}`);
  }
});

test("partial tick: inputs paced faster or slower than the tick are drawn at an even speed", () => {
  const s = session({ bufferDepth: 3 });
  for (let i = 0; i < 30; i++) s.tick(RIGHT);
  let at = s.now;
  let seq = 1000;
  for (const pacing of [4, -4]) {
    const paced = (TICK_MS * (64 - pacing)) / 64;
    let previous = null;
    const steps = [];
    for (let i = 0; i < 8; i++) {
      for (const k of [0, 1]) {
        const drawn = s.predictor.drawn(at + (k * paced) / 2, RIGHT, at + paced);
        if (previous) steps.push(drawn.x - previous.x);
        previous = drawn;
      }
      at += paced;
      s.predictor.input(seq++, RIGHT, at);
    }
    const [least, most] = [Math.min(...steps), Math.max(...steps)];
    assert.ok(most - least < 1e-9 + 0.01 * most, `pacing ${pacing}: frame steps ${least} to ${most}`);
  }
});

test("prediction counts its corrections and the largest", () => {
  const s = session();
  for (let i = 0; i < 5; i++) s.tick(IDLE);
  s.tick(IDLE, { push: -0.5 });
  s.tick(IDLE, { push: 10 });
  assert.equal(s.predictor.stats.corrections, 2);
  assert.equal(s.predictor.stats.snaps, 1);
  assert.equal(s.predictor.stats.largestCorrection, 10);
});
