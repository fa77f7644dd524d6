// The client a game's page uses: one object wiring the connection, the replica, the server
// clock, input timing, prediction and interpolation, so the page writes only its input
// mapping and its rendering.
//
//   const client = new Client({ url, game: "arena", input: () => ({...}),
//     prediction: { components: ["Position", "Velocity"], predict, smooth: "Position" },
//     interpolation: { component: "Position" } });
//   client.connect();
//   // every display frame:  client.frame(now); draw(client.view(now));
//
// Events (besides the connection's "status", "welcome", "pong", "error", "close", forwarded):
//   "snapshot" (replica, report)  after each Full or Delta was applied and reconciled
//   "event"    (event, tick)      one of the game's events (forwarded), in order
//   "error"    (reason, error)    also: the game's input could not be sent (a value that does
//                                 not fit the schema, or `input()` threw); reported once per
//                                 distinct problem, the input skipped, the loop kept alive
//   "notice"   (text, tick)       an operator's notice to the room, sent from the console
// `send(message)` sends one of the game's messages (e.g. {Chat: {text}}).
// `onAdd`/`onChange`/`onRemove(component, fn)` and `onSpawn`/`onDespawn(fn)` are the
// replica's change callbacks (replica.js), kept across sessions: a new session first
// releases the old replica's entities (onRemove, onDespawn), then its Full adds them again.
// Each Welcome starts a new session (new replica, seq from 1); a snapshot that does not fit
// closes the connection with 4000 and it reconnects. What the page reads (`replica`,
// `welcome`, `view()`, ...) is the session on screen: a new session takes over only once its
// first Full is applied, so a reconnect or a resume never shows an empty or half-built world,
// and never a mix of two sessions.

import { FixedRateLoop, InputTiming, ServerClock } from "./clock.js";
import { Connection } from "./connection.js";
import { Emitter } from "./events.js";
import { Interpolator } from "./interpolation.js";
import { Predictor } from "./prediction.js";
import { Replica, ReplicaCallbacks } from "./replica.js";

const FORWARDED = ["status", "open", "pong", "error", "close", "event", "notice", "rematch"];

/** Distinct input problems reported before the client stops reporting new ones. */
const MAX_INPUT_PROBLEMS_REPORTED = 16;

export class Client extends Emitter {
  /**
   * @param {object} options
   * @param {string} options.url WebSocket URL (see socketUrl)
   * @param {string} [options.game] refuse a server running another game
   * @param {string} [options.token] identity token (a JWT) sent as `?token=`; a refusal of it
   *   comes as an "error" event with the server's reason
   * @param {() => object|null} [options.input] the game's input value for this tick, sampled
   *   once per server tick while connected (null: send nothing this tick)
   * @param {object} [options.prediction] {components, predict, smooth, snapDistance}: see Predictor;
   *   `predict(state, input, dt, welcome)` gets this connection's Welcome; `partialTick: false`
   *   draws the own entity a tick behind instead of stepping the current input each frame
   * @param {object} [options.interpolation] {component, delayMs, minDelayMs, maxDelayMs,
   *   maxExtrapolationMs, vanishNow}: see Interpolator
   */
  constructor({ url, matchmake, room, name, game = null, token = null, authcheck, input = null, prediction = null, interpolation = null, WebSocketImpl, fetchImpl, now }) {
    super();
    this.inputSource = input;
    this.predictionOptions = prediction;
    this.interpolationOptions = interpolation;
    /** The replica's change listeners, shared by every session's replica. */
    this.callbacks = new ReplicaCallbacks();
    this.connection = new Connection({ url, matchmake, room, name, game, token, authcheck, WebSocketImpl, fetchImpl, now });
    /** The session on screen: the latest whose first Full was applied, or null. */
    this.session = null;
    /** The current connection's session from its Welcome on (its Full may not be here yet). */
    this.live = null;
    /** Input problems already reported (their messages without the offending value). */
    this.inputProblems = new Set();
    for (const type of FORWARDED) this.connection.on(type, (...args) => this.emit(type, ...args));
    this.connection.on("welcome", (welcome, schema) => this.start(welcome, schema));
    this.connection.on("message", (message, nowMs) => this.applySnapshot(message, nowMs));
    // Inputs belong to one connection's session: a new socket gets a new one (and seq 1)
    // with its Welcome, so the old loop must not feed it.
    this.connection.on("status", (status) => status.state !== "open" && this.live?.inputLoop.stop());
  }

  /** Connects (again): to a URL, through matchmaking with `{matchmake, room, name}`, or to
   *  the last target. */
  connect(target) {
    this.connection.connect(target);
  }

  /** Sends one of the game's messages ({Variant: value}, or "Variant" for a unit variant);
   *  false when the session is not up. Throws on a message the schema does not allow. */
  send(message) {
    return this.connection.send({ type: "Message", message });
  }

  /** `fn(entityId, value)` when an entity gains `component`; returns the unsubscribe. */
  onAdd(component, fn) {
    return this.callbacks.onAdd(component, fn);
  }

  /** `fn(entityId, value, previous)` when `component` changes; returns the unsubscribe. */
  onChange(component, fn) {
    return this.callbacks.onChange(component, fn);
  }

  /** `fn(entityId, previous)` when an entity loses `component`; returns the unsubscribe. */
  onRemove(component, fn) {
    return this.callbacks.onRemove(component, fn);
  }

  /** `fn(entityId, entity)` when an entity appears; returns the unsubscribe. */
  onSpawn(fn) {
    return this.callbacks.onSpawn(fn);
  }

  /** `fn(entityId, entity)` when an entity leaves; returns the unsubscribe. */
  onDespawn(fn) {
    return this.callbacks.onDespawn(fn);
  }

  /** Leaves with 1000. */
  close(reason) {
    this.live?.inputLoop.stop();
    this.connection.close(reason);
  }

  get status() {
    return this.connection.status;
  }

  get welcome() {
    return this.session?.welcome ?? null;
  }

  get schema() {
    return this.session?.schema ?? null;
  }

  /** The replica once a Full has arrived, else null. */
  get replica() {
    return this.session?.replica.hasBaseline ? this.session.replica : null;
  }

  /** The predicted own state after the latest input (null without prediction). */
  get predicted() {
    return this.session?.predictor?.state ?? null;
  }

  // A Welcome: the connection's new session, shown once its first Full is applied.
  start(welcome, schema) {
    this.live?.inputLoop.stop();
    const hz = welcome.tick_rate_hz;
    const ownId = welcome.entity_id;
    const prediction = this.predictionOptions;
    const interpolation = this.interpolationOptions;
    this.live = {
      welcome,
      schema,
      replica: new Replica(schema, ownId, this.callbacks),
      clock: new ServerClock(hz),
      timing: new InputTiming(1000 / hz),
      inputLoop: new FixedRateLoop(hz, (tickMs) => this.sendInput(tickMs), this.connection.now),
      predictor: prediction && ownId ? new Predictor({ ...prediction, tickRateHz: hz, welcome }) : null,
      interpolator: interpolation ? new Interpolator(schema, { ...interpolation, tickRateHz: hz, ownId }) : null,
      nextSeq: 1,
    };
    if (this.inputSource) this.live.inputLoop.start();
    this.emit("welcome", welcome, schema);
  }

  applySnapshot(message, nowMs) {
    const s = this.live;
    // A new session's first Full replaces the one on screen in one step: the old replica's
    // entities are released (onRemove, onDespawn) just before the new ones are added.
    if (this.session !== s && message.type === "Full") this.session?.replica.clear();
    let report;
    try {
      report = s.replica.apply(message);
    } catch (error) {
      console.error("tickwire: snapshot rejected:", error);
      return this.connection.fail(error.message);
    }
    // The new session's first Full is whole: it replaces the one on screen in one step.
    this.session = s;
    s.clock.observe(s.replica.tick, nowMs);
    s.interpolator?.record(s.replica, report, s.clock.tickAt(nowMs));
    if (s.predictor) {
      const own = s.replica.own;
      if (own) s.predictor.reconcile(own, s.replica.lastInputSeq, nowMs);
      else s.predictor.reset();
    }
    if (this.inputSource) s.inputLoop.pace(s.timing.snapshot(s.replica.pacing));
    this.emit("snapshot", s.replica, report);
  }

  // One input per tick, every tick while connected: the server then applies exactly the
  // inputs this client predicted, so prediction stays exact even while the player idles.
  // An input that cannot be sent is skipped (not numbered, not predicted) and reported, so a
  // game's bad value never throws out of frame() and stops its requestAnimationFrame loop.
  sendInput(tickMs) {
    const s = this.live;
    if (!s?.replica.hasBaseline || !this.connection.ready) return;
    const seq = s.nextSeq;
    let input;
    try {
      input = this.inputSource();
      if (input === null || input === undefined) return;
      this.connection.send({ type: "Input", seq, input });
    } catch (error) {
      return this.reportInputProblem(error);
    }
    s.nextSeq++;
    s.predictor?.input(seq, input, tickMs);
  }

  // Once per distinct problem: the same field failing every tick is one report, whatever
  // value it holds.
  reportInputProblem(error) {
    const message = error?.message ?? String(error);
    const problem = message.replace(/, got .*$/s, "");
    if (this.inputProblems.has(problem) || this.inputProblems.size >= MAX_INPUT_PROBLEMS_REPORTED) return;
    this.inputProblems.add(problem);
    const reason = `input not sent: ${message}`;
    console.error(`tickwire: ${reason}`);
    this.emit("error", reason, error);
  }

  /** Runs the input ticks due by `nowMs`; call it before drawing each frame. Never throws
   *  for a bad input: see the "error" event. */
  frame(nowMs) {
    this.live?.inputLoop.poll(nowMs);
  }

  /**
   * What to draw at `nowMs`, or null before the first snapshot: {tick (the replica's),
   * renderTick (remote entities' time), own: {id, entity, state, drawn} | null, entities:
   * [{id, entity, value}] (interpolated, without the own entity)}.
   */
  view(nowMs) {
    const s = this.session;
    if (!s?.replica.hasBaseline) return null;
    const serverTick = s.clock.tickAt(nowMs);
    const remote = s.interpolator?.frame(serverTick) ?? { renderTick: serverTick, entities: [] };
    const entity = s.replica.own;
    const own = entity
      ? { id: entity.id, entity, state: s.predictor?.state ?? null, drawn: s.predictor?.drawn(nowMs, this.displayInput(), s.inputLoop.nextMs) ?? null }
      : null;
    return { tick: s.replica.tick, renderTick: remote.renderTick, own, entities: remote.entities };
  }

  // The input the own entity is drawn with between ticks: the game's input as it is now, so
  // a key press shows on the next frame (see Predictor.drawn); undefined turns that off.
  displayInput() {
    if (!this.inputSource || this.predictionOptions?.partialTick === false) return undefined;
    return this.inputSource() ?? undefined;
  }

  /**
   * Figures for a HUD or a test, for the current connection (null before its Welcome):
   * {delayMs, targetDelayMs} of the interpolation buffer; {frames, underruns, extrapolated,
   * frozen, returns} counted per frame drawn with remote entities (Interpolator.stats);
   * {corrections, snaps, largestCorrection} of the prediction (Predictor.stats).
   */
  get stats() {
    const s = this.session;
    if (!s) return null;
    const interpolator = s.interpolator;
    return {
      delayMs: interpolator?.delayMs ?? null,
      targetDelayMs: interpolator?.targetDelayMs ?? null,
      ...(interpolator?.stats ?? {}),
      ...(s.predictor?.stats ?? {}),
    };
  }
}
