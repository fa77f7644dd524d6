// Declarations of interpolation.js: remote entities drawn a little in the past.

import type { RealFields } from "./prediction.js";
import type { Entity, Replica, SnapshotReport } from "./replica.js";
import type { Schema } from "./schema.js";
import type { AnyGame, ComponentName, GameTypes } from "./types.js";

export declare const INTERPOLATION_DELAY_MS: 100;
export declare const DELAY_MARGIN_MS: 8;
export declare const MAX_INTERPOLATION_DELAY_MS: 250;
export declare const MAX_EXTRAPOLATION_MS: 100;
export declare const RETURN_MS: 150;

/** What the game supplies for interpolation (the `Client` option `interpolation`). */
export interface InterpolationOptions<G extends GameTypes = AnyGame> {
  /** A quantized component to interpolate (e.g. a position). */
  component: ComponentName<G>;
  /** The delay until lateness is measured; default INTERPOLATION_DELAY_MS. */
  delayMs?: number;
  /** The least delay; default one tick plus DELAY_MARGIN_MS. */
  minDelayMs?: number;
  /** The most delay; default MAX_INTERPOLATION_DELAY_MS. */
  maxDelayMs?: number;
  /** How far past the newest snapshot to go on; default MAX_EXTRAPOLATION_MS. */
  maxExtrapolationMs?: number;
  /** A return offset this long is not blended; default 4. */
  snapDistance?: number;
  /** An entity that just left is dropped at once instead of after the delay. */
  vanishNow?: ((gone: Entity<G>, replica: Replica<G>) => boolean) | null;
}

/** The Interpolator's own options: the game's, plus the tick rate and the own entity. */
export interface InterpolatorOptions<G extends GameTypes = AnyGame> extends InterpolationOptions<G> {
  tickRateHz: number;
  /** The own entity, not interpolated (it is predicted). */
  ownId?: number;
}

/** One remote entity to draw: the component interpolated at the delayed tick. */
export interface InterpolatedEntity<G extends GameTypes = AnyGame> {
  id: number;
  /** The latest entity known (possibly gone since). */
  entity: Entity<G>;
  /** The component's fields, interpolated, as reals. */
  value: RealFields;
}

/** One display frame of remote entities. */
export interface InterpolatedFrame<G extends GameTypes = AnyGame> {
  /** The (fractional) tick remote entities are drawn at. */
  renderTick: number;
  entities: InterpolatedEntity<G>[];
}

/** Frames drawn with remote entities; of those, past the newest snapshot (underruns),
 *  extrapolated or frozen; returns blended onto the interpolated path. */
export interface InterpolationStats {
  frames: number;
  underruns: number;
  extrapolated: number;
  frozen: number;
  returns: number;
}

/** The interpolation delay, in ticks, adapted to snapshot lateness. */
export declare class InterpolationDelay {
  constructor(options: { tickRateHz: number; initialMs: number; minMs: number; maxMs: number });
  readonly ticks: number;
  readonly targetTicks: number;
  /** Returns true when the delay grew. */
  observe(lateTicks: number, tick: number): boolean;
  advance(elapsedTicks: number): void;
}

/** The adaptive interpolation buffer. */
export declare class Interpolator<G extends GameTypes = AnyGame> {
  constructor(schema: Schema<G>, options: InterpolatorOptions<G>);
  readonly delayMs: number;
  readonly targetDelayMs: number;
  readonly delayTicks: number;
  /** The newest snapshot's tick, or null before the first. */
  readonly newestTick: number | null;
  readonly stats: InterpolationStats;
  /** Records the replica after a snapshot; `arrivalTick`: the server clock's tick at arrival. */
  record(replica: Replica<G>, report: SnapshotReport, arrivalTick?: number | null): void;
  /** The tick remote entities are drawn at (one call per frame). */
  renderTick(serverTick: number): number;
  /** One display frame at the server's tick `serverTick`; updates `stats`. */
  frame(serverTick: number): InterpolatedFrame<G>;
  /** Every entity visible at `renderTick`, without blending or counting. */
  at(renderTick: number): InterpolatedEntity<G>[];
  /** Forgets every entity. */
  clear(): void;
}

/** The integers at fractional tick `at` on a path of samples. */
export declare function sampleAt(samples: { at: number; ints: number[] }[], at: number): number[];
