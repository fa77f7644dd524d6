// The interpolation buffer on recorded arrival patterns: a scripted server sends one Delta
// per tick for a remote entity moving at constant speed, a pattern says when each arrives,
// and a 60 Hz display loop draws it through the real ServerClock. Time is owned by the
// test: no timers, no sleeps.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ServerClock } from "../tickwire/clock.js";
import {
  DELAY_MARGIN_MS, INTERPOLATION_DELAY_MS, Interpolator, MAX_EXTRAPOLATION_MS, MAX_INTERPOLATION_DELAY_MS,
} from "../tickwire/interpolation.js";
import { Replica } from "../tickwire/replica.js";
import { Schema } from "../tickwire/schema.js";
import { ARENA_WELCOME, CID } from "./fixtures/arena.js";

const schema = new Schema(ARENA_WELCOME.schema);
const HZ = ARENA_WELCOME.tick_rate_hz;
const TICK_MS = 1000 / HZ;
const FRAME_MS = 1000 / 60;
const OTHER = 2;
/** The remote entity moves half a unit (32/64) per tick: 0.25 units per 60 Hz frame. */
const STEP_INTS = 32;
const STEP_PER_FRAME = (STEP_INTS / 64) * (FRAME_MS / TICK_MS);
const MIN_DELAY_MS = TICK_MS + DELAY_MARGIN_MS;
/** Where tick 0 leaves the server, on the local clock, and the usual one-way delay. */
const BASE_MS = 10_000;
const TRANSIT_MS = 5;

/**
 * Runs `seconds` of ticks and frames. `arrival(tick)` is when tick's snapshot arrives (ms).
 * Returns per-frame records {now, x, delayMs, renderTick} and the interpolator.
 */
function play(seconds, arrival) {
  const replica = new Replica(schema, 1);
  const clock = new ServerClock(HZ);
  const interpolator = new Interpolator(schema, { component: "Position", tickRateHz: HZ, ownId: 1 });
  const ticks = seconds * HZ;
  const deliveries = [];
  for (let tick = 0; tick <= ticks; tick++) deliveries.push({ tick, at: arrival(tick) });
  deliveries.sort((a, b) => a.at - b.at || a.tick - b.tick); // TCP: in order, possibly at once
  const frames = [];
  let next = 0;
  for (let now = BASE_MS; now <= BASE_MS + seconds * 1000; now += FRAME_MS) {
    for (; next < deliveries.length && deliveries[next].at <= now; next++) {
      const { tick, at } = deliveries[next];
      const report = replica.apply(snapshot(tick));
      clock.observe(tick, at);
      interpolator.record(replica, report, clock.tickAt(at));
    }
    if (!replica.hasBaseline) continue;
    const { renderTick, entities } = interpolator.frame(clock.tickAt(now));
    const other = entities.find((e) => e.id === OTHER);
    if (other) frames.push({ now, x: other.value.x, delayMs: interpolator.delayMs, renderTick });
  }
  return { frames, interpolator };
}

function snapshot(tick) {
  if (tick === 0) {
    const spawn = { op: "Spawn", id: OTHER, components: [{ component: CID.Position, value: [0, 75 * 64] }] };
    return { type: "Full", tick: 0, last_input_seq: 0, ops: [spawn] };
  }
  const move = { op: "Changes", id: OTHER, changes: [{ component: CID.Position, delta: [STEP_INTS, 0] }] };
  return { type: "Delta", tick_delta: 1, input_seq_delta: 0, ops: [move] };
}

const onTime = (tick) => BASE_MS + tick * TICK_MS + TRANSIT_MS;
// ±10 ms of jitter in a scrambled but repeatable pattern.
const jittered = (tick) => onTime(tick) + 10 + ((tick * 7919) % 21) - 20;
// TCP held everything back for `ms` from tick `from`: the held snapshots arrive at once.
const stalled = (pattern, from, ms) => (tick) => {
  const released = onTime(from) + ms;
  return tick >= from && onTime(tick) < released ? Math.max(pattern(tick), released) : pattern(tick);
};

function largestStep(frames) {
  let largest = 0;
  for (let i = 1; i < frames.length; i++) largest = Math.max(largest, Math.abs(frames[i].x - frames[i - 1].x));
  return largest;
}

const within = (frames, fromMs, toMs) => frames.filter((f) => f.now >= BASE_MS + fromMs && f.now < BASE_MS + toMs);

test("regular arrivals: the delay settles at one tick plus the margin, with no underrun", () => {
  const { frames, interpolator } = play(8, onTime);
  assert.ok(frames[0].delayMs >= INTERPOLATION_DELAY_MS * 0.95, `starts near the safe default: ${frames[0].delayMs}`);
  assert.ok(Math.abs(frames.at(-1).delayMs - MIN_DELAY_MS) < 0.5, `settled at ${frames.at(-1).delayMs}`);
  assert.ok(frames.every((f) => f.delayMs >= MIN_DELAY_MS - 1e-9 && f.delayMs <= INTERPOLATION_DELAY_MS));
  assert.equal(interpolator.stats.underruns, 0);
  assert.ok(largestStep(frames) <= STEP_PER_FRAME * 1.05, `largest step ${largestStep(frames)}`);
});

test("shrinking is a playback speed change of a few percent, never a step", () => {
  const { frames } = play(6, onTime);
  for (let i = 1; i < frames.length; i++) {
    const rate = (frames[i].renderTick - frames[i - 1].renderTick) / (FRAME_MS / TICK_MS);
    assert.ok(rate >= 0.97 && rate <= 1.06, `playback rate ${rate.toFixed(3)} at frame ${i}`);
  }
});

test("jittered ±10 ms arrivals: a delay of about one tick plus the jitter, no freeze", () => {
  const { frames, interpolator } = play(10, jittered);
  const settled = within(frames, 5000, 10_000);
  for (const f of settled) {
    assert.ok(f.delayMs >= MIN_DELAY_MS && f.delayMs <= MIN_DELAY_MS + 25, `delay ${f.delayMs.toFixed(1)} ms`);
  }
  assert.equal(interpolator.stats.frozen, 0);
  assert.ok(largestStep(settled) <= STEP_PER_FRAME * 1.15, `largest step ${largestStep(settled)}`);
});

test("a stall shorter than the extrapolation limit is bridged: no freeze frame, no jump", () => {
  // At the settled delay (~41 ms) a snapshot held back 90 ms leaves the drawn time past the
  // newest snapshot for 90 + 33 - 41 = 82 ms, under the 100 ms limit.
  const { frames, interpolator } = play(6, stalled(onTime, 150, 90));
  assert.ok(interpolator.stats.extrapolated > 0, "the stall was bridged by extrapolation");
  assert.equal(interpolator.stats.frozen, 0);
  assert.ok(interpolator.stats.returns > 0, "and the return was blended");
  assert.ok(largestStep(frames) <= STEP_PER_FRAME * 2, `largest step ${largestStep(frames)}`);
});

test("a 270 ms stall then a burst: the delay grows at once, bridges the next stall, shrinks slowly", () => {
  // Two stalls three seconds apart, as 1 % loss behind 100 ms RTT gives.
  const pattern = stalled(stalled(jittered, 150, 270), 240, 270);
  const { frames, interpolator } = play(20, pattern);
  const stallAt = (tick) => onTime(tick) - BASE_MS;
  // Within a few snapshots of the burst the delay covers the stall.
  const afterBurst = within(frames, stallAt(150) + 270, stallAt(150) + 270 + 3 * TICK_MS);
  assert.ok(afterBurst.at(-1).delayMs >= 200, `delay ${afterBurst.at(-1).delayMs} after the burst`);
  assert.ok(frames.every((f) => f.delayMs <= MAX_INTERPOLATION_DELAY_MS + 1e-9));
  // The first stall, at the lowest delay, froze for what extrapolation could not bridge;
  // the second, three seconds later, found the delay still up: not a single frozen frame.
  const frozenFirst = interpolator.stats.frozen;
  assert.ok(frozenFirst > 0 && frozenFirst < (270 - MAX_EXTRAPOLATION_MS) / FRAME_MS, `frozen ${frozenFirst}`);
  const second = within(frames, stallAt(240) - 100, stallAt(240) + 1000);
  assert.ok(second.every((f) => f.delayMs > 200), "the delay held up through the second stall");
  // Shrinking: still high a second after the last stall, back near the least in ~15 s.
  const oneSecondLater = within(frames, stallAt(240) + 1270, stallAt(240) + 1300)[0];
  assert.ok(oneSecondLater.delayMs > 200, `delay ${oneSecondLater.delayMs} a second after`);
  assert.ok(frames.at(-1).delayMs < MIN_DELAY_MS + 25, `delay ${frames.at(-1).delayMs} at the end`);
  // Every return is continuous: no frame moves the entity more than twice a frame's travel.
  assert.ok(largestStep(frames) <= STEP_PER_FRAME * 2, `largest step ${largestStep(frames)}`);
  // It never goes backwards by more than a little either (the delay stepping back is blended).
  for (let i = 1; i < frames.length; i++) {
    assert.ok(frames[i].x - frames[i - 1].x > -STEP_PER_FRAME, `back by ${frames[i - 1].x - frames[i].x} at ${i}`);
  }
});

test("without arrival ticks the delay stays where it was set", () => {
  const replica = new Replica(schema, 1);
  const interpolator = new Interpolator(schema, { component: "Position", tickRateHz: HZ, delayMs: 150 });
  interpolator.record(replica, replica.apply(snapshot(0)));
  for (let tick = 1; tick < 100; tick++) {
    interpolator.record(replica, replica.apply(snapshot(tick)));
    interpolator.frame(tick);
  }
  assert.equal(interpolator.delayMs, 150);
});

test("past the newest snapshot an entity goes on for the limit, then holds", () => {
  const replica = new Replica(schema, 1);
  const interpolator = new Interpolator(schema, { component: "Position", tickRateHz: HZ });
  for (let tick = 0; tick <= 10; tick++) interpolator.record(replica, replica.apply(snapshot(tick)));
  const x = (renderTick) => interpolator.at(renderTick).find((e) => e.id === OTHER).value.x;
  assert.equal(x(10), 5);
  assert.equal(x(11), 5.5, "one tick on along the last velocity");
  const limitTicks = MAX_EXTRAPOLATION_MS / TICK_MS;
  assert.ok(Math.abs(x(10 + limitTicks) - (5 + 0.5 * limitTicks)) < 1e-9);
  assert.equal(x(30), x(10 + limitTicks), "held after the limit");
});
