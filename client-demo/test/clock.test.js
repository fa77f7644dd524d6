// Time: the server clock estimate and the fixed-rate input loop, with time owned by the test.

import assert from "node:assert/strict";
import { test } from "node:test";
import { FixedRateLoop, InputTiming, MAX_PACING, ServerClock } from "../tickwire/clock.js";
import { ServerBuffer } from "./fixtures/pacing.js";

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

test("pace changes the loop's period from the next tick on", () => {
  let now = 1000;
  const ticks = [];
  const loop = new FixedRateLoop(30, (tickMs) => ticks.push(tickMs), () => now);
  loop.start(); // tick at 1000; the next is due at 1000 + TICK_MS
  loop.pace(TICK_MS * 60 / 64);
  now = 1000 + 3 * TICK_MS;
  loop.poll(now);
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
  assert.ok(Math.abs(gaps[0] - TICK_MS) < 1e-9, "the scheduled tick keeps its time");
  assert.ok(gaps.slice(1).every((g) => Math.abs(g - TICK_MS * 60 / 64) < 1e-9), `${gaps}`);
  loop.stop();
});

test("inputs go out every tick scaled by the server's hint, bounded", () => {
  const timing = new InputTiming(TICK_MS);
  assert.equal(timing.periodMs, TICK_MS);
  assert.ok(Math.abs(timing.snapshot(2) - TICK_MS * 62 / 64) < 1e-9, "faster");
  assert.ok(Math.abs(timing.snapshot(-3) - TICK_MS * 67 / 64) < 1e-9, "slower");
  assert.ok(Math.abs(timing.snapshot(100) - TICK_MS * (64 - MAX_PACING) / 64) < 1e-9, "bounded");
  assert.equal(timing.snapshot(undefined), TICK_MS, "no hint: the tick rate");
});

// A client's FixedRateLoop and InputTiming feeding the server's buffer (a port, in
// fixtures/pacing.js) through links with a base delay and uniform jitter, in order; time is
// simulated in 0.25 ms steps. Returns what the server saw after the first ten seconds.
function simulate(rttMs, jitterMs, seconds, seed) {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const link = () => {
    let last = 0;
    return (sentMs) => (last = Math.max(last, sentMs + rttMs / 2 - jitterMs + 2 * jitterMs * random()));
  };
  const [up, down] = [link(), link()];
  const server = new ServerBuffer(30, TICK_MS);
  const timing = new InputTiming(TICK_MS);
  const toServer = [];
  const toClient = [];
  let now = random() * TICK_MS;
  let seq = 0;
  const loop = new FixedRateLoop(30, (tickMs) => toServer.push([up(tickMs), ++seq]), () => now);
  loop.start();
  const seen = { ticks: 0, starved: 0, multiple: 0, depthSum: 0, leadSum: 0, leads: 0, minLead: Infinity, aimSum: 0, bandSum: 0 };
  for (let n = 1; n <= seconds * 30; n++) {
    const tickMs = n * TICK_MS;
    for (; now < tickMs; now = Math.min(tickMs, now + 0.25)) {
      while (toClient.length > 0 && toClient[0][0] <= now) loop.pace(timing.snapshot(toClient.shift()[1]));
      loop.poll(now);
    }
    while (toServer.length > 0 && toServer[0][0] <= tickMs) {
      const [atMs, sent] = toServer.shift();
      server.push(sent, atMs);
    }
    const tick = server.advance(tickMs);
    toClient.push([down(tickMs), server.hint]);
    if (n > 300) {
      seen.ticks++;
      seen.starved += tick.starved ? 1 : 0;
      seen.multiple += tick.taken.length > 1 ? 1 : 0;
      seen.depthSum += tick.depth;
      seen.aimSum += server.aim;
      seen.bandSum += server.band();
      if (tick.lead !== null) {
        seen.leadSum += tick.lead;
        seen.leads++;
        seen.minLead = Math.min(seen.minLead, tick.lead);
      }
    }
  }
  loop.stop();
  const [meanLead, aim, band] = [seen.leadSum / seen.leads, seen.aimSum / seen.ticks, seen.bandSum / seen.ticks];
  return { ...seen, meanDepth: seen.depthSum / seen.ticks, meanLead, aim, band };
}

test("inputs settle just ahead of their ticks, by more on a jittery link, at 1 ms and at 300 ms RTT", () => {
  for (const [rtt, jitter] of [[1, 0], [100, 10], [300, 10], [300, 30]]) {
    for (const seed of [1, 2, 3]) {
      const seen = simulate(rtt, jitter, 60, seed);
      const which = `${rtt} ms ± ${jitter} ms, seed ${seed}: ${JSON.stringify(seen)}`;
      assert.equal(seen.starved, 0, `no tick without an input: ${which}`);
      assert.equal(seen.multiple, 0, `no backlog once settled: ${which}`);
      const onAim = seen.meanLead >= seen.aim - 2 && seen.meanLead <= seen.aim + seen.band + 2;
      assert.ok(onAim, `the lead on its aim: ${which}`);
      if (jitter === 0) assert.ok(seen.meanLead < 6, `a few ms ahead on a clean link: ${which}`);
      else assert.ok(seen.aim < 3 + 3 * jitter, `no more cushion than the jitter needs: ${which}`);
    }
  }
});
