// The interpolation buffer: remote entities drawn a little in the past (~100 ms), between
// the snapshots around that moment, so 30 Hz updates look continuous at any display rate.
//
// The game names one quantized component (e.g. a position); each snapshot records its
// integers per entity and tick, and `at(renderTick)` gives every entity visible then with
// that component interpolated field by field and scaled to reals. An entity that leaves
// stays drawn until the delayed clock reaches its despawn, unless the game's `vanishNow`
// says it should go at once (the arena: an orb the own player just ate). Pure: ticks in.

/** How far behind the server remote entities are drawn: three ticks at 30 Hz, enough to
 *  always have a snapshot on each side even when one arrives a tick late. */
export const INTERPOLATION_DELAY_MS = 100;
/** Seconds of snapshot history kept per entity. */
const HISTORY_SECONDS = 1;

export class Interpolator {
  /**
   * @param {import("./schema.js").Schema} schema
   * @param {object} options
   * @param {string} options.component a quantized component to interpolate
   * @param {number} options.tickRateHz the Welcome's tick rate
   * @param {number} [options.ownId] the own entity, which is not interpolated (it is predicted)
   * @param {number} [options.delayMs] how far in the past to draw
   * @param {(gone: Entity, replica: Replica) => boolean} [options.vanishNow] an entity that
   *   just left is dropped at once instead of after the delay
   */
  constructor(schema, { component, tickRateHz, ownId = 0, delayMs = INTERPOLATION_DELAY_MS, vanishNow = null }) {
    this.info = schema.component(component);
    if (!this.info.quantized) throw new TypeError(`${component} is not quantized: nothing to interpolate`);
    this.ownId = ownId;
    this.delayTicks = (delayMs * tickRateHz) / 1000;
    this.historyTicks = HISTORY_SECONDS * tickRateHz;
    this.vanishNow = vanishNow;
    /** id -> {entity, samples: [{at: tick, ints}], goneTick} */
    this.histories = new Map();
  }

  /** Records the replica after a snapshot was applied; `report` is what apply returned. */
  record(replica, report) {
    const tick = replica.tick;
    for (const id of report.spawned) {
      if (id !== this.ownId) this.histories.set(id, { entity: null, samples: [], goneTick: null });
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
      trimSamples(history.samples, horizon);
      if (history.goneTick !== null && history.goneTick < horizon) this.histories.delete(id);
    }
  }

  /** The tick remote entities are drawn at, given the server's (fractional) tick now. */
  renderTick(serverTick) {
    return serverTick - this.delayTicks;
  }

  /** Every entity visible at `renderTick`: [{id, entity, value}] with `value` the component
   *  interpolated ({field: real}); `entity` is the latest one known (possibly gone since). */
  at(renderTick) {
    const out = [];
    for (const [id, history] of this.histories) {
      const { samples, goneTick } = history;
      if (samples.length === 0 || renderTick < samples[0].at) continue;
      if (goneTick !== null && renderTick >= goneTick) continue;
      out.push({ id, entity: history.entity, value: this.info.real(sampleAt(samples, renderTick)) });
    }
    return out;
  }

  /** Forgets every entity (a new connection). */
  clear() {
    this.histories.clear();
  }
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
