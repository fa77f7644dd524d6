// The arena's movement rules (docs/protocol.md, "The arena"). The expected numbers were
// computed with Rust f32 arithmetic, the same operations as src/sim/movement.rs.

import assert from "node:assert/strict";
import { test } from "node:test";
import { movementRules as rulesOf, step } from "../movement.js";
import { ARENA_WELCOME } from "./fixtures/arena.js";

// The arena welcome: the server's default rules in a 200 × 150.5 arena at 30 Hz.
const welcome = ({ tickRateHz = 30 } = {}) => ({ ...ARENA_WELCOME, tick_rate_hz: tickRateHz });
const movementRules = (w) => rulesOf(w.game, w.tick_rate_hz);

const input = (move_x, move_y, buttons = 0) => ({ move_x, move_y, buttons });

function run(body, rules, segments) {
  for (const [move, ticks] of segments) for (let i = 0; i < ticks; i++) body = step(body, move, rules);
  return body;
}

// Each case is one step where plain f64 arithmetic lands one 1/64 grid step away from f32.
const F32_EDGES = [
  [20, [104.453125, 85.4375, 16.71875, 10.703125], input(0, 93, 1), [105.125, 86.03125, 13.375, 11.78125]],
  [20, [153.640625, 95.21875, 2.375, -1.015625], input(-30, 0, 1), [153.6875, 95.171875, 0.859375, -0.8125]],
  [20, [56.609375, 12.125, -13.546875, 13.671875], input(-103, 0, 1), [55.890625, 12.671875, -14.390625, 10.9375]],
  [60, [61.859375, 119.4375, -0.46875, -1.640625], input(22, 0, 1), [61.859375, 119.40625, -0.140625, -1.53125]],
  [20, [165.625, 12.859375, -2.265625, 12.546875], input(0, 83), [165.53125, 13.4375, -1.8125, 11.59375]],
  [60, [93.015625, 23.15625, -18.21875, -17.359375], input(-120, 7), [92.875, 23.015625, -8.90625, -8.03125]],
];

test("steps match Rust f32 where f64 arithmetic would not", () => {
  for (const [hz, [px, py, vx, vy], move, expected] of F32_EDGES) {
    const next = step({ px, py, vx, vy }, move, movementRules(welcome({ tickRateHz: hz })));
    assert.deepEqual([next.px, next.py, next.vx, next.vy], expected, `at ${hz} Hz from ${[px, py, vx, vy]}`);
  }
});

test("long runs match Rust f32", () => {
  const mixed = run({ px: 100, py: 75.5, vx: 0, vy: 0 }, movementRules(welcome()), [
    [input(127, 0), 20], [input(33, -90), 13], [input(-127, 127, 1), 25], [input(0, 0), 40], [input(-128, -128, 1), 7],
  ]);
  assert.deepEqual(mixed, { px: 96.34375, py: 82.015625, vx: -10.625, vy: -10.625 });
  const oddRate = run({ px: 50, py: 60, vx: -7.25, vy: 2.5 }, movementRules(welcome({ tickRateHz: 47 })), [
    [input(17, -3), 11], [input(-60, 99, 1), 17], [input(5, 5), 60],
  ]);
  assert.deepEqual(oddRate, { px: 45.734375, py: 67.09375, vx: 0.359375, vy: 0.53125 });
});

test("walls stop the player at its radius and kill velocity into them", () => {
  const rules = movementRules(welcome());
  const corner = run({ px: 3, py: 3, vx: 0, vy: 0 }, rules, [[input(-127, -127, 1), 40]]);
  assert.deepEqual(corner, { px: 1, py: 1, vx: 0, vy: 0 });
  const far = run({ px: 196, py: 147, vx: 5, vy: 3 }, movementRules(welcome({ tickRateHz: 20 })), [[input(127, 127), 30], [input(100, -5, 1), 10]]);
  assert.deepEqual(far, { px: 199, py: 149.234375, vx: 0, vy: -0.734375 });
});

test("speed is capped, higher while boosting, and diagonals are not faster", () => {
  const rules = movementRules(welcome());
  const speed = (b) => Math.hypot(b.vx, b.vy);
  const walk = run({ px: 100, py: 75, vx: 0, vy: 0 }, rules, [[input(127, 0), 60]]);
  const diagonal = run({ px: 100, py: 75, vx: 0, vy: 0 }, rules, [[input(127, 127), 60]]);
  const boost = run({ px: 100, py: 75, vx: 0, vy: 0 }, rules, [[input(0, -127, 1), 60]]);
  assert.ok(speed(walk) <= 12 && speed(walk) > 11.9, `walk ${speed(walk)}`);
  assert.ok(Math.abs(speed(diagonal) - speed(walk)) < 0.05, `diagonal ${speed(diagonal)}`);
  assert.ok(speed(boost) <= 20 && speed(boost) > 19, `boost ${speed(boost)}`);
});

test("state stays on the 1/64 grid and friction brings the player to rest", () => {
  const rules = movementRules(welcome());
  let body = { px: 50, py: 60, vx: 12, vy: -7 };
  for (let i = 0; i < 120; i++) {
    body = step(body, input(0, 0), rules);
    for (const v of Object.values(body)) assert.equal(v * 64, Math.trunc(v * 64));
  }
  assert.equal(body.vx, 0);
  assert.equal(body.vy, 0);
});

test("constants come from the welcome", () => {
  const game = ARENA_WELCOME.game;
  const slow = { ...welcome(), game: { ...game, movement: { ...game.movement, max_speed: 3 } } };
  const body = run({ px: 100, py: 75, vx: 0, vy: 0 }, movementRules(slow), [[input(127, 0), 60]]);
  assert.ok(body.vx <= 3 && body.vx > 2.9, `vx ${body.vx}`);
});
