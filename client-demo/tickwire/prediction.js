// Client-side prediction and reconciliation of the own entity, with the game's rules as a
// hook, plus the smoothing that hides corrections.
//
// The game names the components its rules read and write (the prediction state is
// {Name: value} with values as Entity.get gives them) and supplies `predict(state, input,
// dt, welcome)`, one server tick of its rules (which may read the Welcome, e.g. the game's
// movement parameters), returning the next state without modifying its argument. The library keeps the inputs the server has not applied yet; on each snapshot
// it resets the state to the server's (the own entity in the replica, which is the state
// right after input `last_input_seq`) and replays the rest (docs/protocol.md, "Prediction").
//
// Optionally one quantized component (`smooth`, e.g. a position) is drawn smoothly, with a
// misprediction blended out over CORRECTION_TIME_MS instead of a jump. Given the input the
// game would send now, it is drawn in the present: the state after the latest input tick,
// stepped once more with that input and taken by the part of the tick elapsed since (a
// partial tick), so a key press shows on the next display frame and not at the next input
// tick. That step is for display only: `state` still advances one step per sent input, and
// reconciliation never sees it. Without an input, it is drawn a tick behind, along the
// path of predicted states. Pure: time is passed in.

/** Seconds of inputs kept while the server does not acknowledge them (a stall); older
 *  ones are dropped and the next snapshot corrects the prediction. */
const MAX_PENDING_SECONDS = 2;
/** Points of the drawn path kept (a few ticks; frames only look one back). */
const TRAIL_POINTS = 4;
/** A misprediction is blended out with this time constant... */
const CORRECTION_TIME_MS = 80;
/** ...unless it is this far (in the smoothed component's units, Euclidean): then snap. */
const DEFAULT_SNAP_DISTANCE = 4;

export class Predictor {
  /**
   * @param {object} options
   * @param {string[]} options.components component names making up the predicted state
   * @param {(state: object, input: object, dt: number, welcome: object) => object} options.predict one tick
   * @param {number} options.tickRateHz the Welcome's tick rate (dt = 1 / tickRateHz)
   * @param {object} [options.welcome] handed to `predict` as is
   * @param {string} [options.smooth] a component of the state to draw smoothly
   * @param {number} [options.snapDistance] a correction this large is not blended
   */
  constructor({ components, predict, tickRateHz, welcome = null, smooth = null, snapDistance = DEFAULT_SNAP_DISTANCE }) {
    this.components = components;
    this.step = (state, input) => predict(state, input, this.dt, welcome);
    this.dt = 1 / tickRateHz;
    this.tickMs = 1000 / tickRateHz;
    this.maxPending = Math.ceil(MAX_PENDING_SECONDS * tickRateHz);
    this.smooth = smooth;
    this.snapDistance = snapDistance;
    /** Inputs sent and not yet applied by the server, oldest first: [{seq, input}]. */
    this.pending = [];
    /** The predicted state after the latest input; null until the own entity is known. */
    this.state = null;
    /** The smoothed component's path: {at: ms, value} at each input tick, after it. */
    this.trail = [];
    /** What is left of the last misprediction, per field; decays to zero. */
    this.correction = { value: null, atMs: 0 };
    /** The last display step: {state, input, next}, reused while neither changes. */
    this.peeked = null;
    /** Mispredictions absorbed (blended or snapped), snaps, and the largest one's length. */
    this.stats = { corrections: 0, snaps: 0, largestCorrection: 0 };
  }

  /** The prediction state read from an entity (the server's truth). */
  read(entity) {
    const state = {};
    for (const name of this.components) state[name] = entity.get(name);
    return state;
  }

  /** One input tick, scheduled at `tickMs`: remembers input `seq` and predicts it.
   *  Returns the new state (null before reconcile). */
  input(seq, input, tickMs) {
    if (this.state === null) return null;
    this.pending.push({ seq, input });
    if (this.pending.length > this.maxPending) this.pending.splice(0, this.pending.length - this.maxPending);
    this.state = this.step(this.state, input);
    if (this.smooth) {
      this.trail.push({ at: tickMs, value: this.state[this.smooth] });
      if (this.trail.length > TRAIL_POINTS) this.trail.shift();
    }
    return this.state;
  }

  /**
   * A snapshot arrived: the own entity as the server has it after input `lastInputSeq`.
   * Drops the inputs it applied, replays the others, and returns the new predicted state.
   */
  reconcile(entity, lastInputSeq, nowMs) {
    this.pending = this.pending.filter((p) => p.seq > lastInputSeq);
    let state = this.read(entity);
    for (const { input } of this.pending) state = this.step(state, input);
    if (this.smooth) this.absorb(this.state, state, nowMs);
    this.state = state;
    return state;
  }

  /** Forgets everything (a new connection). */
  reset() {
    this.pending = [];
    this.state = null;
    this.trail = [];
    this.correction = { value: null, atMs: 0 };
    this.peeked = null;
  }

  // The old prediction was off by `error`. Shift the drawn path by the same amount and
  // carry the difference as a decaying offset, so the drawn value glides to the truth.
  absorb(before, after, nowMs) {
    const next = after[this.smooth];
    if (before === null || this.trail.length === 0) {
      this.trail = [{ at: nowMs, value: next }];
      return;
    }
    const error = subtract(before[this.smooth], next);
    if (Object.values(error).every((e) => e === 0)) return;
    this.stats.corrections++;
    this.stats.largestCorrection = Math.max(this.stats.largestCorrection, Math.hypot(...Object.values(error)));
    const carried = add(error, this.correctionAt(nowMs));
    if (Math.hypot(...Object.values(carried)) > this.snapDistance) {
      this.stats.snaps++;
      this.correction = { value: null, atMs: nowMs };
      this.trail = [{ at: nowMs, value: next }];
      return;
    }
    this.correction = { value: carried, atMs: nowMs };
    this.trail = this.trail.map((p) => ({ at: p.at, value: subtract(p.value, error) }));
  }

  correctionAt(nowMs) {
    const { value, atMs } = this.correction;
    if (value === null) return {};
    const k = Math.exp(-Math.max(0, nowMs - atMs) / CORRECTION_TIME_MS);
    return scale(value, k);
  }

  /**
   * The smoothed component's value to draw at `nowMs` ({field: real}); null before the
   * first reconcile or without `smooth`. With `input` (the game's input as it is now), the
   * present: the latest state moved toward one more step with `input` by the part of the
   * tick elapsed since the latest input tick: of the time to `nextTickMs`, when the next
   * input tick is due (paced, so not always a tick period away; default one period).
   * Without, a tick behind along the trail.
   */
  drawn(nowMs, input, nextTickMs) {
    if (!this.smooth || this.trail.length === 0) return null;
    const base = input === undefined ? pathAt(this.trail, nowMs - this.tickMs) : this.partialTick(nowMs, input, nextTickMs);
    return add(base, this.correctionAt(nowMs));
  }

  partialTick(nowMs, input, nextTickMs) {
    const last = this.trail[this.trail.length - 1];
    // The input loop's timer can run a tick due after a frame's time (taken when the frame
    // began) before the frame draws: draw that frame on the path, not at the tick ahead.
    if (nowMs < last.at) return pathAt(this.trail, nowMs);
    // The step is drawn over the time until the next input tick really runs: with a pacing
    // hint that is up to 6 % off a period, and a period's worth would jump at each tick.
    const spanMs = nextTickMs > last.at ? nextTickMs - last.at : this.tickMs;
    const t = Math.min(1, (nowMs - last.at) / spanMs);
    return lerp(last.value, this.peek(input)[this.smooth], t);
  }

  // The state one step after the latest with `input`; a display frame asks many times per
  // tick with the same input, so the step runs once per state and input.
  peek(input) {
    const p = this.peeked;
    if (p && p.state === this.state && shallowEqual(p.input, input)) return p.next;
    const copy = input !== null && typeof input === "object" ? { ...input } : input;
    this.peeked = { state: this.state, input: copy, next: this.step(this.state, input) };
    return this.peeked.next;
  }
}

function shallowEqual(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** The value at time `at` on a path of {at, value} ({field: number} values): linear
 *  between the points around it, held at the ends. */
export function pathAt(path, at) {
  if (at <= path[0].at) return path[0].value;
  for (let i = path.length - 1; i >= 0; i--) {
    const a = path[i];
    if (a.at > at) continue;
    const b = path[i + 1];
    if (!b) return a.value;
    return lerp(a.value, b.value, (at - a.at) / (b.at - a.at));
  }
  return path[0].value;
}

function lerp(a, b, t) {
  const out = {};
  for (const k in a) out[k] = a[k] + (b[k] - a[k]) * t;
  return out;
}

function subtract(a, b) {
  const out = {};
  for (const k in a) out[k] = a[k] - b[k];
  return out;
}

// Fields missing from `b` count as 0 (an empty correction is {}).
function add(a, b) {
  const out = {};
  for (const k in a) out[k] = a[k] + (b[k] ?? 0);
  return out;
}

function scale(a, k) {
  const out = {};
  for (const key in a) out[key] = a[key] * k;
  return out;
}
