// Time: the server clock estimate and the fixed-rate input loop, with time owned by the test.

import assert from "node:assert/strict";
import { test } from "node:test";
import { FixedRateLoop, InputTiming, ServerClock } from "../tickwire/clock.js";

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

test("a stall and its burst leave the server clock alone; a lasting shift moves it", () => {
  const clock = new ServerClock(30);
  for (let tick = 0; tick <= 100; tick++) clock.observe(tick, 1000 + tick * TICK_MS);
  // TCP held 270 ms back: ticks 101-108 arrive at once when the retransmission lands.
  const burstMs = 1000 + 100 * TICK_MS + 270;
  for (let tick = 101; tick <= 108; tick++) clock.observe(tick, burstMs);
  // Each late arrival under RESYNC_MS moves the estimate by a twentieth of a tick at most.
  assert.ok(Math.abs(clock.tickAt(burstMs) - (100 + 270 / TICK_MS)) < 0.5, `clock ${clock.tickAt(burstMs)}`);
  assert.ok(Math.abs(clock.targetMs - 1000) < TICK_MS * 0.05 * 8, `target moved to ${clock.targetMs}`);
  // Two seconds of arrivals all 2 s later than before: the path changed, the clock follows.
  let now = 0;
  for (let tick = 109; tick <= 200; tick++) clock.observe(tick, (now = 3000 + tick * TICK_MS));
  assert.ok(Math.abs(clock.tickAt(now) - 200) < 1e-9, `clock ${clock.tickAt(now)}`);
  // Arrivals much earlier than expected start over at once.
  clock.observe(201, now + TICK_MS - 1500);
  assert.ok(Math.abs(clock.tickAt(now + TICK_MS - 1500) - 201) < 1e-9);
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

test("steering moves the input phase toward a target by half a millisecond at most", () => {
  let now = 1000;
  const ticks = [];
  const loop = new FixedRateLoop(30, (tickMs) => ticks.push(tickMs), () => now);
  loop.start(); // tick at 1000; the next is due at 1000 + TICK_MS
  loop.steer(1000 + TICK_MS + 10); // wants the next tick 10 ms later: moves 0.5 ms
  loop.steer(1000 + 5 * TICK_MS + 10); // the same phase, four periods on
  now = 1000 + TICK_MS + 0.9;
  loop.poll(now);
  assert.equal(ticks.length, 1, "moved 1 ms later: not due yet");
  now += 0.2;
  loop.poll(now);
  assert.equal(ticks.length, 2);
  assert.ok(Math.abs(ticks[1] - (1000 + TICK_MS + 1)) < 1e-9);
  // A target just before the due time, taken modulo the period, pulls it earlier.
  loop.steer(ticks[1] + TICK_MS - 0.2);
  now = ticks[1] + TICK_MS - 0.2;
  loop.poll(now);
  assert.equal(ticks.length, 3);
  loop.stop();
});

test("inputs are timed a lead before the next snapshot; late ones grow the lead", () => {
  const timing = new InputTiming(TICK_MS);
  const lead = TICK_MS / 4;
  timing.sent(1);
  // The first snapshot after input 1 acknowledges it: on time, the lead shrinks.
  assert.ok(Math.abs(timing.snapshot(500, 1) - (500 + TICK_MS - (lead - 0.05))) < 1e-9);
  timing.sent(2);
  timing.snapshot(533, 1); // not yet
  const due = timing.snapshot(566, 2); // the second snapshot after: it missed its tick
  assert.ok(Math.abs(timing.leadMs - (lead - 0.05 + 8)) < 1e-9);
  assert.ok(Math.abs(due - (566 + TICK_MS - timing.leadMs)) < 1e-9);
  for (let i = 0; i < 100; i++) timing.snapshot(600, 2); // acknowledgements of nothing new
  assert.ok(Math.abs(timing.leadMs - (lead - 0.05 + 8)) < 1e-9, "only acknowledged inputs count");
  for (let seq = 3; seq < 1000; seq++) {
    timing.sent(seq);
    timing.snapshot(600 + seq, seq);
  }
  assert.equal(timing.leadMs, 1, "never below 1 ms");
});
