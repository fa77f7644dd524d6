// Time: where the server's tick stands on the local clock, and a fixed-rate driver for
// input ticks. Times are milliseconds from performance.now() (or any monotonic source the
// caller passes in, which keeps ServerClock testable without timers).

/** Arrivals further than this from the estimate mean a stall or a jump: start over. */
const RESYNC_MS = 250;
/** Weight of one arrival in the running estimate; small, so jitter barely moves it. */
const SMOOTHING = 0.05;

/**
 * Maps server ticks to local time from snapshot arrival times. Each arrival of tick T at
 * local time t says the server was at T about (t - delay); the offset `t - T * tickMs` is
 * averaged so the estimate flows at the server's rate without following every jittery
 * arrival, and it never runs backwards.
 */
export class ServerClock {
  constructor(tickRateHz) {
    this.tickMs = 1000 / tickRateHz;
    this.offsetMs = null;
    this.lastEstimate = -Infinity;
  }

  /** Records that the snapshot for `tick` arrived at `nowMs`. */
  observe(tick, nowMs) {
    const sample = nowMs - tick * this.tickMs;
    if (this.offsetMs === null || Math.abs(sample - this.offsetMs) > RESYNC_MS) {
      this.offsetMs = sample;
      this.lastEstimate = -Infinity;
    } else {
      this.offsetMs += (sample - this.offsetMs) * SMOOTHING;
    }
  }

  /** The (fractional) server tick at local time `nowMs`; null before any arrival. */
  tickAt(nowMs) {
    if (this.offsetMs === null) return null;
    const estimate = (nowMs - this.offsetMs) / this.tickMs;
    // Averaging may pull the offset later by a fraction of a millisecond; hold still for
    // that instant rather than step back, which would show as a twitch.
    this.lastEstimate = Math.max(this.lastEstimate, estimate);
    return this.lastEstimate;
  }
}

/** Most ticks a late timer may catch up at once; beyond that the backlog is dropped. */
const MAX_CATCH_UP_TICKS = 3;

/**
 * Calls `onTick(nowMs)` at `hz` on average. Timers fire late and unevenly, so each wake-up
 * runs every tick that is due by the wall clock (a few at most: a throttled background
 * tab must not burst a second of inputs into the server's rate limit).
 */
export class FixedRateLoop {
  constructor(hz, onTick, now = () => performance.now()) {
    this.periodMs = 1000 / hz;
    this.onTick = onTick;
    this.now = now;
    this.timer = null;
  }

  start() {
    this.stop();
    this.nextMs = this.now();
    this.wake();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  wake() {
    const now = this.now();
    const due = Math.floor((now - this.nextMs) / this.periodMs) + 1;
    if (due > MAX_CATCH_UP_TICKS) this.nextMs += (due - MAX_CATCH_UP_TICKS) * this.periodMs;
    while (this.nextMs <= now) {
      this.onTick(now);
      this.nextMs += this.periodMs;
    }
    this.timer = setTimeout(() => this.wake(), Math.max(0, this.nextMs - this.now()));
  }
}
