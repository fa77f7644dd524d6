// Declarations of prediction.js: prediction and reconciliation of the own entity.

import type { Welcome } from "./protocol.js";
import type { Entity } from "./replica.js";
import type { AnyGame, ComponentName, ComponentValue, GameTypes } from "./types.js";

/** The prediction state: each predicted component's value, as `Entity.get` gives it. */
export type PredictionState<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>> = {
  [K in P]: ComponentValue<G, K>;
};

/** A quantized component's real value, `{field: number}`: what is smoothed and drawn. */
export type RealFields = Record<string, number>;

/** What the game supplies for prediction (the `Client` option `prediction`). */
export interface PredictionOptions<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>> {
  /** The components making up the predicted state. */
  components: P[];
  /** One server tick of the game's rules; returns the next state, leaving its argument alone. */
  predict: (state: PredictionState<G, P>, input: G["input"], dt: number, welcome: Welcome<G>) => PredictionState<G, P>;
  /** A quantized component of the state drawn smoothly (corrections blended). */
  smooth?: P | null;
  /** A correction this long (Euclidean, the component's units) snaps; default 4. */
  snapDistance?: number;
  /** false: draw the own entity a tick behind instead of stepping the current input. */
  partialTick?: boolean;
}

/** The Predictor's own options: the game's, plus the tick rate and the Welcome. */
export interface PredictorOptions<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>>
  extends PredictionOptions<G, P> {
  tickRateHz: number;
  /** Handed to `predict` as is. */
  welcome?: Welcome<G> | null;
}

/** Mispredictions absorbed (blended or snapped), snaps, and the largest one's length. */
export interface PredictionStats {
  corrections: number;
  snaps: number;
  largestCorrection: number;
}

/** Pending inputs, reconcile and replay, smoothing, partial-tick display. */
export declare class Predictor<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>> {
  constructor(options: PredictorOptions<G, P>);
  readonly components: P[];
  /** Inputs sent and not yet applied by the server, oldest first. */
  readonly pending: { seq: number; input: G["input"] }[];
  /** The predicted state after the latest input; null until the own entity is known. */
  readonly state: PredictionState<G, P> | null;
  readonly stats: PredictionStats;
  /** The prediction state read from an entity. */
  read(entity: Entity<G>): PredictionState<G, P>;
  /** One input tick at `tickMs`: remembers and predicts it; null before reconcile. */
  input(seq: number, input: G["input"], tickMs: number): PredictionState<G, P> | null;
  /** A snapshot arrived: drops applied inputs, replays the rest from the server's state. */
  reconcile(entity: Entity<G>, lastInputSeq: number, nowMs: number): PredictionState<G, P>;
  /** Forgets everything (a new connection). */
  reset(): void;
  /** The smoothed component to draw at `nowMs`; null before the first reconcile or without `smooth`. */
  drawn(nowMs: number, input?: G["input"], nextTickMs?: number): RealFields | null;
}

/** The value at time `at` on a path of `{at, value}` points. */
export declare function pathAt(path: { at: number; value: RealFields }[], at: number): RealFields;
