// Time: where the server's tick stands on the local clock, a fixed-rate driver for input
// ticks, and when inputs should leave to reach the server just before its tick. Knows no
// game. Times are milliseconds from performance.now() (or any monotonic source the caller
// passes in, which keeps all three testable without real timers).

/** Arrivals further than this from the estimate mean a stall or a jump. An early one means
 *  the estimate is behind: start over at once. A late one is what a stall looks like (TCP
 *  holding data back for a retransmission, ~200-300 ms): left out of the estimate, and only
 *  a lateness that lasts `LASTING_LATE_MS` of local time (not a burst that arrives at once)
 *  moves the clock, to the least late arrival seen meanwhile. */
const RESYNC_MS = 250;
const LASTING_LATE_MS = 1000;
/** Weight of one arrival in the running estimate; small, so jitter barely moves it. */
const SMOOTHING = 0.05;
/** Fastest the drawn clock may run fast or slow to follow the estimate (2%): a speed
 *  change that small cannot be seen, a step in time would be. */
const MAX_SLEW = 0.02;

/**
 * Maps server ticks to local time from snapshot arrival times. Each arrival of tick T at
 * local time t says the server was at T about (t - delay); the offset `t - T * tickMs` is
 * averaged into a target, and the clock that is read follows that target by running at
 * most 2% fast or slow, so it never jumps and never runs backwards.
 */
export class ServerClock {
  constructor(tickRateHz) {
    this.tickMs = 1000 / tickRateHz;
    this.targetMs = null;
    this.offsetMs = null;
    this.readAtMs = 0;
    /** Arrivals late beyond RESYNC_MS in a row: {sinceMs, leastSample}, or null. */
    this.lateRun = null;
  }

  /** Records that the snapshot for `tick` arrived at `nowMs`. */
  observe(tick, nowMs) {
    const sample = nowMs - tick * this.tickMs;
    const error = this.targetMs === null ? 0 : sample - this.targetMs;
    if (this.targetMs === null || error < -RESYNC_MS) return this.resync(sample, nowMs);
    if (error > RESYNC_MS) {
      const run = (this.lateRun ??= { sinceMs: nowMs, leastSample: sample });
      run.leastSample = Math.min(run.leastSample, sample);
      if (nowMs - run.sinceMs >= LASTING_LATE_MS) this.resync(run.leastSample, nowMs);
      return;
    }
    this.lateRun = null;
    // One arrival moves the estimate by at most a tick's worth: the burst after a stall,
    // late but under RESYNC_MS, must not drag the clock behind.
    this.targetMs += Math.max(-this.tickMs, Math.min(this.tickMs, error)) * SMOOTHING;
  }

  resync(sample, nowMs) {
    this.targetMs = this.offsetMs = sample;
    this.readAtMs = nowMs;
    this.lateRun = null;
  }

  /** The (fractional) server tick at local time `nowMs`; null before any arrival. */
  tickAt(nowMs) {
    if (this.offsetMs === null) return null;
    const slew = Math.max(0, nowMs - this.readAtMs) * MAX_SLEW;
    this.readAtMs = Math.max(this.readAtMs, nowMs);
    this.offsetMs += Math.min(slew, Math.max(-slew, this.targetMs - this.offsetMs));
    return (nowMs - this.offsetMs) / this.tickMs;
  }
}

/** Most ticks a late timer may catch up at once; beyond that the backlog is dropped. */
const MAX_CATCH_UP_TICKS = 3;

/**
 * Calls `onTick(tickMs)` at `hz`, each call with the tick's scheduled time. Timers fire
 * late and unevenly, so a wake-up runs every tick due by the wall clock (a few at most: a
 * throttled background tab must not burst a second of inputs into the server's rate
 * limit). The render loop also calls `poll` before each frame, so a frame never shows a
 * moment for which a tick is due but its timer has not fired yet: drawing between ticks
 * then blends by exactly the time since the last scheduled tick, with no timer jitter.
 * `pace(periodMs)` changes the period from the next tick on (the server's pacing hint).
 */
export class FixedRateLoop {
  constructor(hz, onTick, now = () => performance.now()) {
    this.periodMs = 1000 / hz;
    this.onTick = onTick;
    this.now = now;
    this.timer = null;
    this.running = false;
  }

  start() {
    this.stop();
    this.running = true;
    this.nextMs = this.now();
    this.wake();
  }

  stop() {
    clearTimeout(this.timer);
    this.running = false;
  }

  /** Runs every tick due by `nowMs`, oldest first. */
  poll(nowMs) {
    if (!this.running) return;
    const due = Math.floor((nowMs - this.nextMs) / this.periodMs) + 1;
    if (due > MAX_CATCH_UP_TICKS) this.nextMs += (due - MAX_CATCH_UP_TICKS) * this.periodMs;
    while (this.nextMs <= nowMs) {
      const tickMs = this.nextMs;
      this.nextMs += this.periodMs;
      this.onTick(tickMs);
    }
  }

  wake() {
    this.poll(this.now());
    if (this.running) this.timer = setTimeout(() => this.wake(), Math.max(0, this.nextMs - this.now()));
  }

  /** Ticks every `periodMs` from now on; the tick already scheduled keeps its time. */
  pace(periodMs) {
    this.periodMs = periodMs;
  }
}

/** Units of the server's pacing hint per period, and the largest hint followed either way
 *  (src/input/pacing.rs: PACING_UNITS, MAX_PACING). */
export const PACING_UNITS = 64;
export const MAX_PACING = 4;

/**
 * How fast to send inputs so they reach the server just before the tick that applies them
 * (docs/protocol.md §6, "Pacing"; the same rule as `src/bots/timing.rs`). The server measures
 * how long before its tick each input arrives, aims for a few ms more than the arrivals'
 * jitter, and says in every snapshot whether to send a little faster (pacing > 0) or slower: an input every `tickMs × (1 − pacing / 64)`, the hint
 * bounded to ±4 (about 6 %, too little to see in the predicted motion). Nothing here
 * measures the round-trip time, so the rule holds at any.
 */
export class InputTiming {
  constructor(tickMs) {
    this.tickMs = tickMs;
    this.pacing = 0;
  }

  /** The time between inputs under the current hint. */
  get periodMs() {
    return (this.tickMs * (PACING_UNITS - this.pacing)) / PACING_UNITS;
  }

  /** A snapshot carried `pacing`: returns the period to send inputs at from now on. */
  snapshot(pacing) {
    this.pacing = Math.max(-MAX_PACING, Math.min(MAX_PACING, Math.trunc(pacing) || 0));
    return this.periodMs;
  }
}
