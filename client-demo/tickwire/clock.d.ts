// Declarations of clock.js: server time and input timing (milliseconds, monotonic).

/** Maps server ticks to local time from snapshot arrivals; never jumps, never runs back. */
export declare class ServerClock {
  constructor(tickRateHz: number);
  readonly tickMs: number;
  /** The snapshot for `tick` arrived at `nowMs`. */
  observe(tick: number, nowMs: number): void;
  /** The (fractional) server tick at `nowMs`; null before any arrival. */
  tickAt(nowMs: number): number | null;
}

/** Calls `onTick(tickMs)` at `hz`, catching up at most a few ticks at once. */
export declare class FixedRateLoop {
  constructor(hz: number, onTick: (tickMs: number) => void, now?: () => number);
  readonly periodMs: number;
  /** When the next tick is due. */
  readonly nextMs: number;
  readonly running: boolean;
  start(): void;
  stop(): void;
  /** Runs every tick due by `nowMs`, oldest first. */
  poll(nowMs: number): void;
  /** Ticks every `periodMs` from now on. */
  pace(periodMs: number): void;
}

/** Units of the pacing hint per period, and the largest hint followed either way. */
export declare const PACING_UNITS: 64;
export declare const MAX_PACING: 4;

/** How fast to send inputs, from the server's pacing hint. */
export declare class InputTiming {
  constructor(tickMs: number);
  readonly tickMs: number;
  readonly pacing: number;
  /** The time between inputs under the current hint. */
  readonly periodMs: number;
  /** A snapshot carried `pacing`: returns the period to send inputs at. */
  snapshot(pacing: number): number;
}
