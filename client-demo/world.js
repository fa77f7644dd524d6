// What the client believes the world looks like, and when.
//
// - Snapshots go into the Replica (the server's truth, in wire units).
// - The own player is predicted: every input tick runs the server's movement rules on the
//   input just sent; every snapshot resets to the server's state for the last input it
//   applied and replays the inputs still pending (docs/protocol.md section 8).
// - Everything else is drawn INTERPOLATION_DELAY_MS in the past, between the two buffered
//   snapshots around that moment, so 30 Hz updates look continuous at any display rate.
//
// Pure: callers pass the time in (milliseconds, monotonic). No timers, sockets or DOM.

import { ServerClock } from "./clock.js";
import { movementRules, step } from "./movement.js";
import { POSITION_SCALE, VELOCITY_SCALE } from "./protocol.js";
import { Replica } from "./replica.js";

/** How far behind the server remote entities are drawn: three ticks at 30 Hz, enough to
 *  always have a snapshot on each side even when one arrives a tick late. */
export const INTERPOLATION_DELAY_MS = 100;
/** Seconds of inputs kept while the server does not acknowledge them (a stall); older
 *  ones are dropped and the next snapshot corrects the prediction. */
const MAX_PENDING_SECONDS = 2;
/** Seconds of snapshot history kept per entity, for interpolation and retired entities. */
const HISTORY_SECONDS = 1;
/** Points of the own player's drawn path kept (a few ticks; frames only look one back). */
const TRAIL_POINTS = 4;
/** A misprediction (a collision push) is blended out with this time constant... */
const CORRECTION_TIME_MS = 80;
/** ...unless it is this large (world units): then the player has really jumped, snap. */
const CORRECTION_SNAP_UNITS = 4;

export class World {
  /** @param {object} welcome the decoded Welcome that started this connection */
  constructor(welcome) {
    this.welcome = welcome;
    this.selfId = welcome.entity_id;
    this.rules = movementRules(welcome);
    this.tickRateHz = welcome.tick_rate_hz;
    this.tickMs = 1000 / welcome.tick_rate_hz;
    this.replica = new Replica(this.selfId);
    this.clock = new ServerClock(welcome.tick_rate_hz);
    /** id -> {entity, samples: [{at: tick, x, y}] in wire units, goneTick} for remote entities. */
    this.histories = new Map();
    /** Inputs sent and not yet applied by the server, oldest first. */
    this.pending = [];
    this.nextSeq = 1;
    /** Predicted own body {px, py, vx, vy} after the latest input. */
    this.body = null;
    /** The own player's drawn path: the body after each input tick, reached one tick after
     *  that tick's time ({at: ms, x, y}), so frames between ticks glide along it. A path
     *  rather than "previous and current" because a timer may run a tick whose time is
     *  later than the timestamp of the frame drawn just after it. */
    this.trail = [];
    /** Visual offset left by the last misprediction; decays to zero. */
    this.correction = { x: 0, y: 0, atMs: 0 };
  }

  /** True once a Full snapshot has given the own player a position. */
  get ready() {
    return this.body !== null;
  }

  /** Applies a decoded Full or Delta; throws ReplicaError when it does not fit. */
  applySnapshot(message, nowMs) {
    const { spawned } = this.replica.apply(message);
    this.clock.observe(this.replica.tick, nowMs);
    this.recordHistories(spawned);
    this.reconcile(nowMs);
  }

  /**
   * Runs one input tick: numbers the intent ({move_x, move_y, buttons}), predicts it, and
   * returns the Input message to send (null until the first snapshot).
   */
  input(intent, tickMs) {
    if (!this.ready) return null;
    const input = { type: "Input", seq: this.nextSeq++, ...intent };
    this.pending.push(input);
    const maxPending = MAX_PENDING_SECONDS * this.tickRateHz;
    if (this.pending.length > maxPending) this.pending.splice(0, this.pending.length - maxPending);
    this.body = step(this.body, input, this.rules);
    this.trail.push({ at: tickMs + this.tickMs, x: this.body.px, y: this.body.py });
    if (this.trail.length > TRAIL_POINTS) this.trail.shift();
    return input;
  }

  reconcile(nowMs) {
    const { self, lastInputSeq, ownVelocity } = this.replica;
    this.pending = this.pending.filter((input) => input.seq > lastInputSeq);
    let body = {
      px: self.x / POSITION_SCALE,
      py: self.y / POSITION_SCALE,
      vx: ownVelocity.vx / VELOCITY_SCALE,
      vy: ownVelocity.vy / VELOCITY_SCALE,
    };
    for (const input of this.pending) body = step(body, input, this.rules);
    if (this.body === null) {
      this.trail = [{ at: nowMs, x: body.px, y: body.py }];
    } else {
      this.absorbError(this.body.px - body.px, this.body.py - body.py, nowMs);
    }
    this.body = body;
  }

  // The old prediction was off by (ex, ey). Shift the drawn path by the same amount and
  // carry the difference as a decaying offset, so the drawn player glides to the truth.
  absorbError(ex, ey, nowMs) {
    if (ex === 0 && ey === 0) return;
    const { x, y } = this.correctionAt(nowMs);
    if (Math.hypot(x + ex, y + ey) > CORRECTION_SNAP_UNITS) {
      this.correction = { x: 0, y: 0, atMs: nowMs };
      this.trail = [{ at: nowMs, x: this.body.px - ex, y: this.body.py - ey }];
      return;
    }
    this.correction = { x: x + ex, y: y + ey, atMs: nowMs };
    this.trail = this.trail.map((p) => ({ at: p.at, x: p.x - ex, y: p.y - ey }));
  }

  correctionAt(nowMs) {
    const k = Math.exp(-Math.max(0, nowMs - this.correction.atMs) / CORRECTION_TIME_MS);
    return { x: this.correction.x * k, y: this.correction.y * k };
  }

  recordHistories(spawned) {
    const tick = this.replica.tick;
    const own = this.replica.self;
    for (const id of spawned) {
      if (id !== this.selfId) this.histories.set(id, { entity: null, samples: [], goneTick: null });
    }
    for (const [id, history] of this.histories) {
      const entity = this.replica.entities.get(id);
      if (entity) {
        history.entity = entity;
        pushSample(history.samples, { at: tick, x: entity.x, y: entity.y });
      } else if (history.goneTick === null) {
        // Gone from view: keep drawing it until the delayed clock reaches its last tick,
        // except what the own player just ate: the own player is drawn in the present.
        history.goneTick = touches(history.entity, own) ? -Infinity : tick;
      }
      const horizon = tick - HISTORY_SECONDS * this.tickRateHz;
      trimSamples(history.samples, horizon);
      if (history.goneTick !== null && history.goneTick < horizon) this.histories.delete(id);
    }
  }

  /** The server tick that remote entities are drawn at, `nowMs` (null before a snapshot). */
  renderTick(nowMs) {
    const now = this.clock.tickAt(nowMs);
    return now === null ? null : now - INTERPOLATION_DELAY_MS / this.tickMs;
  }

  /**
   * Everything to draw at `nowMs`, in world units: the own player (predicted, blended
   * between input ticks, plus any decaying correction) and the remote entities
   * (interpolated), each with its raw server position for the debug view.
   */
  view(nowMs) {
    if (!this.ready) return null;
    const renderTick = this.renderTick(nowMs);
    const entities = [];
    for (const [id, history] of this.histories) {
      const seen = history.samples.length > 0 && renderTick >= history.samples[0].at;
      const gone = history.goneTick !== null && renderTick >= history.goneTick;
      if (!seen || gone) continue;
      const at = sampleAt(history.samples, renderTick);
      entities.push({ id, ...this.describe(id, history.entity), x: at.x / POSITION_SCALE, y: at.y / POSITION_SCALE });
    }
    return { renderTick, self: this.describeSelf(nowMs), entities };
  }

  describeSelf(nowMs) {
    const at = sampleAt(this.trail, nowMs);
    const correction = this.correctionAt(nowMs);
    return {
      id: this.selfId,
      ...this.describe(this.selfId, this.replica.self),
      x: at.x + correction.x,
      y: at.y + correction.y,
    };
  }

  describe(id, entity) {
    const current = this.replica.entities.get(id);
    return {
      kind: entity.kind,
      name: entity.name,
      score: entity.score,
      color: entity.color,
      radius: entity.radius / POSITION_SCALE,
      serverX: current ? current.x / POSITION_SCALE : null,
      serverY: current ? current.y / POSITION_SCALE : null,
    };
  }

  /** The predicted own position after the latest input, in world units. */
  get predictedPosition() {
    return this.body && { x: this.body.px, y: this.body.py };
  }

  /** The own player's position in the replica (the server's truth), in world units. */
  get serverPosition() {
    const self = this.ready ? this.replica.self : null;
    return self && { x: self.x / POSITION_SCALE, y: self.y / POSITION_SCALE };
  }

  /** Players in the replica, in world units, highest score first. */
  get players() {
    const players = [];
    for (const [id, e] of this.replica.entities) {
      if (e.kind !== "Player") continue;
      players.push({ id, name: e.name, score: e.score, color: e.color, x: e.x / POSITION_SCALE, y: e.y / POSITION_SCALE });
    }
    return players.sort((a, b) => b.score - a.score || a.id - b.id);
  }
}

// Appends a sample; a run of identical positions keeps only its two ends, so a resting
// orb costs two samples however long it rests, and interpolation still starts moving it
// at the right tick.
function pushSample(samples, sample) {
  const n = samples.length;
  if (n >= 2 && samePlace(samples[n - 1], sample) && samePlace(samples[n - 2], sample)) {
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

/** Position at time `at` on a path of {at, x, y}: linear between the samples around it,
 *  held at the ends. `at` is a fractional tick for remote entities, ms for the own trail. */
export function sampleAt(samples, at) {
  if (at <= samples[0].at) return samples[0];
  for (let i = samples.length - 1; i >= 0; i--) {
    const a = samples[i];
    if (a.at > at) continue;
    const b = samples[i + 1];
    if (!b) return a;
    const t = (at - a.at) / (b.at - a.at);
    return { at, x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
  }
  return samples[0];
}

function samePlace(a, b) {
  return a.x === b.x && a.y === b.y;
}

// Whether two entities (wire units) overlap, with a small margin for the tick of travel.
function touches(a, b) {
  return Math.hypot(a.x - b.x, a.y - b.y) < a.radius + b.radius + POSITION_SCALE;
}
