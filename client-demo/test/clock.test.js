// Time: the server clock estimate and the fixed-rate input loop, with time owned by the test.

import assert from "node:assert/strict";
import { test } from "node:test";
import { FixedRateLoop, ServerClock } from "../clock.js";

const TICK_MS = 1000 / 30;

test("the server clock runs at the tick rate through jitter and never backwards", () => {
  const clock = new ServerClock(30);
  let last = -Infinity;
  for (let tick = 0; tick < 300; tick++) {
    const jitter = (tick * 7919) % 13; // 0-12 ms of arrival delay
    clock.observe(tick, 5000 + tick * TICK_MS + jitter);
    for (const dt of [0, 5, 11, 22]) {
      const estimate = clock.tickAt(5000 + tick * TICK_MS + jitter + dt);
      assert.ok(estimate >= last, `estimate went back at tick ${tick}`);
      last = estimate;
    }
  }
  const estimate = clock.tickAt(5000 + 300 * TICK_MS);
  assert.ok(Math.abs(estimate - 300) < 0.5, `estimate ${estimate}`);
});

test("the server clock never runs more than 2% fast or slow between frames", () => {
  const clock = new ServerClock(30);
  const FRAME_MS = 1000 / 60;
  let nextTick = 0;
  let last = null;
  for (let frame = 0; frame < 600; frame++) {
    const now = frame * FRAME_MS;
    // Snapshots arrive 1-25 ms after their tick, in a scrambled pattern.
    while (nextTick * TICK_MS + 1 + ((nextTick * 7919) % 25) <= now) {
      clock.observe(nextTick, nextTick * TICK_MS + 1 + ((nextTick * 7919) % 25));
      nextTick++;
    }
    const estimate = clock.tickAt(now);
    if (last !== null && estimate !== null) {
      const rate = (estimate - last) / (FRAME_MS / TICK_MS);
      assert.ok(rate >= 0.98 - 1e-9 && rate <= 1.02 + 1e-9, `rate ${rate} at frame ${frame}`);
    }
    last = estimate;
  }
});

test("the server clock resynchronises after a long stall", () => {
  const clock = new ServerClock(30);
  clock.observe(100, 1000);
  clock.observe(101, 1000 + 2000); // two seconds late
  assert.ok(Math.abs(clock.tickAt(3000) - 101) < 1e-9);
});

test("the input loop runs due ticks at their scheduled times, and a few at most", () => {
  let now = 1000;
  const ticks = [];
  const loop = new FixedRateLoop(30, (tickMs) => ticks.push(tickMs), () => now);
  // The test is synchronous, so the loop's own timer cannot fire before stop().
  loop.start();
  assert.deepEqual(ticks, [1000]);
  now += 2.5 * TICK_MS;
  loop.poll(now);
  assert.equal(ticks.length, 3);
  ticks.forEach((t, i) => assert.ok(Math.abs(t - (1000 + i * TICK_MS)) < 1e-9, `tick ${i} at ${t}`));
  loop.poll(now);
  assert.equal(ticks.length, 3, "a tick runs once");
  ticks.length = 0;
  now += 100 * TICK_MS; // a throttled tab comes back
  loop.poll(now);
  assert.equal(ticks.length, 3);
  assert.ok(ticks.every((t) => t <= now && t > now - 3 * TICK_MS));
  loop.stop();
  loop.poll(now + 1000);
  assert.equal(ticks.length, 3, "a stopped loop runs nothing");
});
