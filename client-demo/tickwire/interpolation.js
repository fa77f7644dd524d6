// The interpolation buffer: remote entities drawn a little in the past, between the
// snapshots around that moment, so 30 Hz updates look continuous at any display rate.
//
// The game names one quantized component (e.g. a position); each snapshot records its
// integers per entity and tick, and `frame(serverTick)` gives every entity visible at the
// delayed tick with that component interpolated field by field and scaled to reals. An
// entity that leaves stays drawn until the delayed clock reaches its despawn, unless the
// game's `vanishNow` says it should go at once (the arena: an orb the own player just ate).
//
// How far in the past adapts to the network (`InterpolationDelay`): each snapshot's
// lateness against the server clock is measured, and the delay is one tick plus the worst
// recent lateness plus a margin. It grows at once when a late snapshot shows the need, and
// shrinks slowly, by playing 3 % fast, once the lateness has stayed low for a few seconds.
// When the delayed tick still passes the newest snapshot (a stall), entities go on along
// their last velocity for at most MAX_EXTRAPOLATION_MS, then hold; when data comes back the
// drawn value glides onto the interpolated path over RETURN_MS instead of jumping. Pure:
// ticks in, no clock read.

/** The delay before any lateness is measured: three ticks at 30 Hz, enough to always have
 *  a snapshot on each side even when one arrives a tick late. */
export const INTERPOLATION_DELAY_MS = 100;
/** Added to one tick plus the measured lateness: a display frame's worth of slack. */
export const DELAY_MARGIN_MS = 8;
/** The most the delay grows to, whatever the lateness: past this, bridging is cheaper than
 *  drawing everyone further in the past. */
export const MAX_INTERPOLATION_DELAY_MS = 250;
/** How long a lateness keeps the delay up before it may shrink. */
const LATENESS_WINDOW_SECONDS = 4;
/** Shrinking plays the delayed clock this much faster than real time (3 %): too little to
 *  see, and 100 ms of delay gone in a little over 3 s. */
const SHRINK_SPEEDUP = 0.03;
/** Past the newest snapshot, entities follow their last velocity for this long, then hold. */
export const MAX_EXTRAPOLATION_MS = 100;
/** A return from extrapolation to the interpolated path is blended over this long. */
export const RETURN_MS = 150;
/** A return offset longer than this (in the component's units, Euclidean) is a teleport:
 *  not blended, and a last step this long is not extrapolated. */
const DEFAULT_SNAP_DISTANCE = 4;
/** Seconds of snapshot history kept per entity. */
const HISTORY_SECONDS = 1;

/**
 * The interpolation delay, in ticks, from snapshot lateness. `observe(lateTicks, tick)` per
 * snapshot; `advance(elapsedTicks)` per frame. Lateness is measured on the same server clock
 * the frame reads, so "one tick plus the worst lateness" is exactly what keeps the delayed
 * tick behind the newest snapshot.
 */
export class InterpolationDelay {
  constructor({ tickRateHz, initialMs, minMs, maxMs }) {
    this.tickMs = 1000 / tickRateHz;
    this.minTicks = minMs / this.tickMs;
    this.maxTicks = Math.max(this.minTicks, maxMs / this.tickMs);
    this.windowTicks = LATENESS_WINDOW_SECONDS * tickRateHz;
    this.ticks = this.clamp(initialMs / this.tickMs);
    this.targetTicks = this.ticks;
    /** Recent lateness, a decreasing run of maxima: [{tick, late}] (ticks). */
    this.peaks = [];
  }

  clamp(ticks) {
    return Math.min(this.maxTicks, Math.max(this.minTicks, ticks));
  }

  /** The snapshot for `tick` arrived `lateTicks` after the server clock expected it
   *  (negative: early). Returns true when the delay grew. */
  observe(lateTicks, tick) {
    while (this.peaks.length > 0 && this.peaks.at(-1).late <= lateTicks) this.peaks.pop();
    this.peaks.push({ tick, late: lateTicks });
    while (this.peaks[0].tick <= tick - this.windowTicks) this.peaks.shift();
    const worst = Math.max(0, this.peaks[0].late);
    this.targetTicks = this.clamp(1 + worst + DELAY_MARGIN_MS / this.tickMs);
    if (this.targetTicks <= this.ticks) return false;
    this.ticks = this.targetTicks;
    return true;
  }

  /** The delayed clock ran `elapsedTicks` since the last frame: shrink toward the target. */
  advance(elapsedTicks) {
    if (this.ticks > this.targetTicks) {
      this.ticks = Math.max(this.targetTicks, this.ticks - elapsedTicks * SHRINK_SPEEDUP);
    }
  }
}

export class Interpolator {
  /**
   * @param {import("./schema.js").Schema} schema
   * @param {object} options
   * @param {string} options.component a quantized component to interpolate
   * @param {number} options.tickRateHz the Welcome's tick rate
   * @param {number} [options.ownId] the own entity, which is not interpolated (it is predicted)
   * @param {number} [options.delayMs] the delay until lateness is measured (all along if
   *   `record` is never given arrival ticks)
   * @param {number} [options.minDelayMs] the least delay: one tick plus DELAY_MARGIN_MS
   * @param {number} [options.maxDelayMs] the most delay: MAX_INTERPOLATION_DELAY_MS
   * @param {number} [options.maxExtrapolationMs] how far past the newest snapshot to go on
   * @param {number} [options.snapDistance] a return offset this long is not blended
   * @param {(gone: Entity, replica: Replica) => boolean} [options.vanishNow] an entity that
   *   just left is dropped at once instead of after the delay
   */
  constructor(schema, {
    component, tickRateHz, ownId = 0, delayMs = INTERPOLATION_DELAY_MS,
    minDelayMs = 1000 / tickRateHz + DELAY_MARGIN_MS, maxDelayMs = MAX_INTERPOLATION_DELAY_MS,
    maxExtrapolationMs = MAX_EXTRAPOLATION_MS, snapDistance = DEFAULT_SNAP_DISTANCE, vanishNow = null,
  }) {
    this.info = schema.component(component);
    if (!this.info.quantized) throw new TypeError(`${component} is not quantized: nothing to interpolate`);
    this.ownId = ownId;
    this.tickMs = 1000 / tickRateHz;
    this.delay = new InterpolationDelay({ tickRateHz, initialMs: delayMs, minMs: minDelayMs, maxMs: maxDelayMs });
    this.maxExtrapolationTicks = maxExtrapolationMs / this.tickMs;
    this.returnTicks = RETURN_MS / this.tickMs;
    this.snapDistance = snapDistance;
    this.historyTicks = HISTORY_SECONDS * tickRateHz;
    this.vanishNow = vanishNow;
    /** id -> {entity, samples: [{at: tick, ints}], goneTick, and the drawn state: drawn,
     *  drawnAt, velocity, offset, extrapolating, rebase} */
    this.histories = new Map();
    /** The newest snapshot's tick, or null before the first. */
    this.newestTick = null;
    this.lastServerTick = null;
    /** Frames drawn with remote entities; of those, frames past the newest snapshot
     *  (underruns), bridged by extrapolation or held past the limit (frozen); returns
     *  blended onto the interpolated path. */
    this.stats = { frames: 0, underruns: 0, extrapolated: 0, frozen: 0, returns: 0 };
  }

  /** The current delay in milliseconds (what remote entities lag the server clock by). */
  get delayMs() {
    return this.delay.ticks * this.tickMs;
  }

  /** What the delay is heading for, in milliseconds. */
  get targetDelayMs() {
    return this.delay.targetTicks * this.tickMs;
  }

  /** The delay in ticks (read-only; see delayMs). */
  get delayTicks() {
    return this.delay.ticks;
  }

  /**
   * Records the replica after a snapshot was applied; `report` is what apply returned.
   * `arrivalTick` is the server clock's (fractional) tick when the snapshot arrived: its
   * distance from the snapshot's tick is the lateness the delay adapts to. Without it the
   * delay stays where it is.
   */
  record(replica, report, arrivalTick = null) {
    const tick = replica.tick;
    for (const id of report.spawned) {
      if (id !== this.ownId) this.histories.set(id, newHistory());
    }
    const horizon = tick - this.historyTicks;
    for (const [id, history] of this.histories) {
      const entity = replica.entities.get(id);
      if (entity) {
        history.entity = entity;
        const ints = entity.values.get(this.info.id);
        if (ints) pushSample(history.samples, { at: tick, ints: ints.slice() });
      } else if (history.goneTick === null) {
        history.goneTick = this.vanishNow?.(history.entity, replica) ? -Infinity : tick;
      }
      // The path under an extrapolated entity just changed: the next frame blends onto it.
      if (history.extrapolating) history.rebase = true;
      trimSamples(history.samples, horizon);
      if (history.goneTick !== null && history.goneTick < horizon) this.histories.delete(id);
    }
    this.newestTick = Math.max(this.newestTick ?? tick, tick);
    if (arrivalTick !== null && this.delay.observe(arrivalTick - tick, tick)) {
      // The delayed clock steps back: every entity glides to its new place.
      for (const history of this.histories.values()) history.rebase = true;
    }
  }

  /** The tick remote entities are drawn at, given the server's (fractional) tick now; each
   *  call is a frame: a delay above its target shrinks by the time since the last call. */
  renderTick(serverTick) {
    if (this.lastServerTick !== null) this.delay.advance(Math.max(0, serverTick - this.lastServerTick));
    this.lastServerTick = serverTick;
    return serverTick - this.delay.ticks;
  }

  /**
   * One display frame at the server's (fractional) tick `serverTick`: {renderTick, entities:
   * [{id, entity, value}]}, `value` the component ({field: real}) interpolated at the
   * delayed tick, extrapolated past the newest snapshot within the limit, and blended after
   * a return; `entity` is the latest one known (possibly gone since). Updates `stats`.
   */
  frame(serverTick) {
    const renderTick = this.renderTick(serverTick);
    const entities = [];
    for (const [id, history] of this.histories) {
      if (!visibleAt(history, renderTick)) continue;
      const ints = this.drawnInts(history, renderTick, serverTick);
      entities.push({ id, entity: history.entity, value: this.info.real(ints) });
    }
    if (entities.length > 0) this.count(renderTick);
    return { renderTick, entities };
  }

  /** Every entity visible at `renderTick`, interpolated (extrapolated past the newest
   *  snapshot within the limit), without blending or counting: [{id, entity, value}]. */
  at(renderTick) {
    const out = [];
    for (const [id, history] of this.histories) {
      if (!visibleAt(history, renderTick)) continue;
      const ints = this.pathAt(history.samples, renderTick);
      out.push({ id, entity: history.entity, value: this.info.real(ints) });
    }
    return out;
  }

  /** Forgets every entity (a new connection). */
  clear() {
    this.histories.clear();
    this.newestTick = null;
  }

  count(renderTick) {
    this.stats.frames++;
    const past = renderTick - this.newestTick;
    if (past <= 0) return;
    this.stats.underruns++;
    if (past <= this.maxExtrapolationTicks) this.stats.extrapolated++;
    else this.stats.frozen++;
  }

  // Interpolated between samples; past the last one, along the last step's velocity for at
  // most the extrapolation limit, then held.
  pathAt(samples, at) {
    const n = samples.length;
    const last = samples[n - 1];
    if (at <= last.at || n < 2) return sampleAt(samples, at);
    const prev = samples[n - 2];
    if (this.distance(last.ints.map((v, k) => v - prev.ints[k])) > this.snapDistance) return last.ints;
    const t = Math.min(at - last.at, this.maxExtrapolationTicks) / (last.at - prev.at);
    return last.ints.map((v, k) => v + (v - prev.ints[k]) * t);
  }

  // The path's value plus what is left of a return offset. On a rebase the offset is set so
  // that the drawn value goes on from where it was, at the speed it had.
  drawnInts(history, renderTick, nowTick) {
    const ints = this.pathAt(history.samples, renderTick);
    history.extrapolating = renderTick > history.samples.at(-1).at;
    if (history.rebase && history.drawn) {
      const dt = nowTick - history.drawnAt;
      const offset = history.drawn.map((v, k) => v + history.velocity[k] * dt - ints[k]);
      history.offset = this.distance(offset) > this.snapDistance ? null : { ints: offset, atTick: nowTick };
      if (history.offset) this.stats.returns++;
    }
    history.rebase = false;
    let drawn = ints;
    if (history.offset) {
      const w = 1 - smoothstep((nowTick - history.offset.atTick) / this.returnTicks);
      if (w <= 0) history.offset = null;
      else drawn = ints.map((v, k) => v + history.offset.ints[k] * w);
    }
    const dt = nowTick - history.drawnAt;
    if (!history.drawn) history.velocity = drawn.map(() => 0);
    else if (dt > 0) history.velocity = drawn.map((v, k) => (v - history.drawn[k]) / dt);
    history.drawn = drawn;
    history.drawnAt = nowTick;
    return drawn;
  }

  // Euclidean length of an integer difference, in the component's real units.
  distance(ints) {
    return Math.hypot(...Object.values(this.info.real(ints)));
  }
}

function newHistory() {
  return {
    entity: null, samples: [], goneTick: null,
    drawn: null, drawnAt: 0, velocity: null, offset: null, extrapolating: false, rebase: false,
  };
}

function visibleAt({ samples, goneTick }, renderTick) {
  if (samples.length === 0 || renderTick < samples[0].at) return false;
  return goneTick === null || renderTick < goneTick;
}

function smoothstep(t) {
  if (t <= 0) return 0;
  if (t >= 1) return 1;
  return t * t * (3 - 2 * t);
}

// Appends a sample; a run of identical values keeps only its two ends, so a resting entity
// costs two samples however long it rests, and still starts moving at the right tick.
function pushSample(samples, sample) {
  const n = samples.length;
  if (n >= 2 && same(samples[n - 1].ints, sample.ints) && same(samples[n - 2].ints, sample.ints)) {
    samples[n - 1] = sample;
  } else {
    samples.push(sample);
  }
}

// Drops samples that no render tick after `horizon` can need, keeping the one before it.
function trimSamples(samples, horizon) {
  let drop = 0;
  while (drop + 1 < samples.length && samples[drop + 1].at <= horizon) drop++;
  if (drop > 0) samples.splice(0, drop);
}

/** The integers at fractional tick `at`: linear between the samples around it, held at
 *  the ends (fractional results: these are for drawing). */
export function sampleAt(samples, at) {
  if (at <= samples[0].at) return samples[0].ints;
  for (let i = samples.length - 1; i >= 0; i--) {
    const a = samples[i];
    if (a.at > at) continue;
    const b = samples[i + 1];
    if (!b) return a.ints;
    const t = (at - a.at) / (b.at - a.at);
    return a.ints.map((v, k) => v + (b.ints[k] - v) * t);
  }
  return samples[0].ints;
}

function same(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
