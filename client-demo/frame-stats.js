// Per-frame figures of how smooth the page looks, for the debug overlay (F3) and the
// browser test (`window.tickwireStats`): whether the own player is drawn at its top speed
// while a key is held steadily, and what the client library counted (remote entities past
// the newest snapshot, bridged or frozen; prediction corrections). Knows no game: the page
// hands in the drawn position, the input and the speed the rules allow. Steady frames soon
// after a prediction correction are also counted apart: the server applied other inputs
// than predicted, which is input timing, not drawing.

/** A key change starts a new steady hold only after this long (acceleration, reaction). */
const SETTLE_MS = 200;
/** A steady frame is off when its drawn speed is further than this from the cap. */
const SPEED_TOLERANCE = 0.1;
/** The predicted speed counts as at the cap from this fraction of it (the velocity grid
 *  truncates a diagonal a hair below). */
const AT_CAP = 0.99;
/** A prediction correction is blended out over ~80 ms; frames this soon after one are
 *  counted apart, since their speed shows the correction and not the display. */
const CORRECTION_SETTLE_MS = 400;
/** A frame this long after the one before means the page itself was stalled (a busy
 *  machine): snapshots waited behind it, whatever the network did. */
const STALLED_FRAME_MS = 100;

export class FrameStats {
  constructor() {
    this.reset();
  }

  reset() {
    this.frames = 0;
    this.stalledFrames = 0;
    this.steadyFrames = 0;
    this.steadyOffFrames = 0;
    this.steadyCorrectedFrames = 0;
    this.steadyOffCorrectedFrames = 0;
    this.worstSpeedError = 0;
    this.corrections = 0;
    this.correctedAtMs = -Infinity;
    this.last = null;
    this.input = null;
    this.inputSinceMs = 0;
  }

  /**
   * One drawn frame at `nowMs`: `drawn` {x, y} the own player as drawn (null before the
   * first snapshot), `input` the input now (compared by value), `moving` whether it asks for
   * motion, `speed` the predicted speed and `cap` the rules' top speed for that input.
   * `corrections` is the client's count so far (Client.stats).
   * A frame is steady when the input has not changed for SETTLE_MS, asks for motion, the
   * prediction is at the cap (not accelerating, not against a wall), and the page did not
   * stall before it.
   */
  frame(nowMs, drawn, { input, moving, speed, cap }, corrections = 0) {
    if (corrections !== this.corrections) {
      this.corrections = corrections;
      this.correctedAtMs = nowMs;
    }
    const key = JSON.stringify(input);
    if (key !== this.input) {
      this.input = key;
      this.inputSinceMs = nowMs;
    }
    if (drawn && this.last && nowMs > this.last.atMs) {
      this.frames++;
      const stalled = nowMs - this.last.atMs > STALLED_FRAME_MS;
      if (stalled) this.stalledFrames++;
      const steady = !stalled && moving && nowMs - this.inputSinceMs >= SETTLE_MS && speed >= cap * AT_CAP;
      const drawnSpeed = Math.hypot(drawn.x - this.last.x, drawn.y - this.last.y) / ((nowMs - this.last.atMs) / 1000);
      if (steady) this.measure(drawnSpeed, cap, nowMs - this.correctedAtMs < CORRECTION_SETTLE_MS);
    }
    this.last = drawn ? { x: drawn.x, y: drawn.y, atMs: nowMs } : null;
  }

  measure(drawnSpeed, cap, corrected) {
    this.steadyFrames++;
    const error = Math.abs(drawnSpeed - cap) / cap;
    const off = error > SPEED_TOLERANCE;
    if (off) this.steadyOffFrames++;
    if (corrected) {
      this.steadyCorrectedFrames++;
      if (off) this.steadyOffCorrectedFrames++;
    } else {
      this.worstSpeedError = Math.max(this.worstSpeedError, error);
    }
  }

  /** The page's figures with the client's (`client.stats`, null before a Welcome). */
  snapshot(clientStats) {
    const c = clientStats ?? {};
    return {
      frames: this.frames,
      stalledFrames: this.stalledFrames,
      steadyFrames: this.steadyFrames,
      steadyOffFrames: this.steadyOffFrames,
      steadyCorrectedFrames: this.steadyCorrectedFrames,
      steadyOffCorrectedFrames: this.steadyOffCorrectedFrames,
      worstSpeedError: this.worstSpeedError,
      remoteFrames: c.frames ?? 0,
      remoteUnderruns: c.underruns ?? 0,
      remoteExtrapolatedFrames: c.extrapolated ?? 0,
      remoteFreezeFrames: c.frozen ?? 0,
      remoteReturns: c.returns ?? 0,
      interpolationDelayMs: c.delayMs ?? null,
      targetDelayMs: c.targetDelayMs ?? null,
      corrections: c.corrections ?? 0,
      snaps: c.snaps ?? 0,
      largestCorrection: c.largestCorrection ?? 0,
    };
  }

  /** Lines for the debug overlay. */
  lines(clientStats) {
    const s = this.snapshot(clientStats);
    const ms = (v) => (v === null ? "–" : `${v.toFixed(0)} ms`);
    return [
      `interpolation delay ${ms(s.interpolationDelayMs)} (target ${ms(s.targetDelayMs)})`,
      `past newest snapshot ${s.remoteUnderruns} frames: bridged ${s.remoteExtrapolatedFrames}, frozen ${s.remoteFreezeFrames}`,
      `corrections ${s.corrections} (snapped ${s.snaps}), largest ${s.largestCorrection.toFixed(2)}`,
      `steady frames off speed >10 %: ${s.steadyOffFrames} of ${s.steadyFrames}` +
        ` (${s.steadyOffCorrectedFrames} of ${s.steadyCorrectedFrames} blending a correction)`,
    ];
  }
}
