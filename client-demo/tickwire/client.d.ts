// Declarations of client.js: the whole client in one object.

import type { FixedRateLoop, InputTiming, ServerClock } from "./clock.js";
import type { ConnectionOptions, Connection, ConnectionEvents, ConnectionStatus, MatchmakeTarget } from "./connection.js";
import { Emitter } from "./events.js";
import type { InterpolatedEntity, InterpolationOptions, InterpolationStats, Interpolator } from "./interpolation.js";
import type { PredictionOptions, PredictionState, PredictionStats, Predictor, RealFields } from "./prediction.js";
import type { Welcome } from "./protocol.js";
import type { AddCallback, ChangeCallback, Entity, EntityCallback, RemoveCallback, Replica, ReplicaCallbacks, SnapshotReport } from "./replica.js";
import type { Schema } from "./schema.js";
import type { AnyGame, ComponentName, ComponentValue, GameTypes } from "./types.js";

/** The Client's options: where to connect, and the game's hooks. `P` names the predicted
 *  components (`new Client<Game, "Position" | "Velocity">`). */
export interface ClientOptions<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>>
  extends ConnectionOptions {
  /** The game's input value for this tick, sampled once per server tick (null: send nothing). */
  input?: (() => G["input"] | null | undefined) | null;
  /** Predict the own entity. */
  prediction?: PredictionOptions<G, P> | null;
  /** Draw other entities a little in the past, interpolated. */
  interpolation?: InterpolationOptions<G> | null;
}

/** The events of a Client: the connection's, "snapshot" instead of "message". */
export interface ClientEvents<G extends GameTypes = AnyGame> extends Omit<ConnectionEvents<G>, "message"> {
  /** After each Full or Delta was applied and reconciled. */
  snapshot: [replica: Replica<G>, report: SnapshotReport];
}

/** The own entity in a view. */
export interface OwnView<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>> {
  id: number;
  entity: Entity<G>;
  /** The predicted state after the latest input (null without prediction). */
  state: PredictionState<G, P> | null;
  /** The smoothed component as drawn now (null without `smooth`). */
  drawn: RealFields | null;
}

/** What to draw at a moment. */
export interface View<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>> {
  /** The replica's tick. */
  tick: number;
  /** Remote entities' (fractional) tick. */
  renderTick: number;
  own: OwnView<G, P> | null;
  /** Interpolated remote entities (empty without interpolation). */
  entities: InterpolatedEntity<G>[];
}

/** Figures of the current connection for a HUD or a test. */
export type ClientStats = { delayMs: number | null; targetDelayMs: number | null } & Partial<InterpolationStats> &
  Partial<PredictionStats>;

/** One connection's state, from its Welcome on. */
export interface ClientSession<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>> {
  welcome: Welcome<G>;
  schema: Schema<G>;
  replica: Replica<G>;
  clock: ServerClock;
  timing: InputTiming;
  inputLoop: FixedRateLoop;
  predictor: Predictor<G, P> | null;
  interpolator: Interpolator<G> | null;
  /** The next input's sequence number. */
  nextSeq: number;
}

/** The client a game's page uses. */
export declare class Client<G extends GameTypes = AnyGame, P extends ComponentName<G> = ComponentName<G>> extends Emitter<
  ClientEvents<G>
> {
  constructor(options: ClientOptions<G, P>);
  readonly connection: Connection<G>;
  /** The change callbacks, shared by every session's replica. */
  readonly callbacks: ReplicaCallbacks<G>;
  /** The current connection's state, or null before its Welcome. */
  readonly session: ClientSession<G, P> | null;
  readonly status: ConnectionStatus;
  readonly welcome: Welcome<G> | null;
  readonly schema: Schema<G> | null;
  /** The replica once a Full has arrived, else null. */
  readonly replica: Replica<G> | null;
  /** The predicted own state after the latest input (null without prediction). */
  readonly predicted: PredictionState<G, P> | null;
  /** Null before a Welcome. */
  readonly stats: ClientStats | null;
  /** Connects (again): to a URL, through matchmaking, or to the last target. */
  connect(target?: string | MatchmakeTarget | null): void;
  /** Sends one of the game's messages; false when the session is not up. Throws on a
   *  message the schema does not allow. */
  send(message: G["message"]): boolean;
  /** Leaves with 1000. */
  close(reason?: string): void;
  /** Runs the input ticks due by `nowMs`; call it before drawing each frame. */
  frame(nowMs: number): void;
  /** What to draw at `nowMs`, or null before the first snapshot. */
  view(nowMs: number): View<G, P> | null;
  onAdd<K extends ComponentName<G>>(component: K, fn: AddCallback<ComponentValue<G, K>>): () => void;
  onChange<K extends ComponentName<G>>(component: K, fn: ChangeCallback<ComponentValue<G, K>>): () => void;
  onRemove<K extends ComponentName<G>>(component: K, fn: RemoveCallback<ComponentValue<G, K>>): () => void;
  onSpawn(fn: EntityCallback<G>): () => void;
  onDespawn(fn: EntityCallback<G>): () => void;
}
