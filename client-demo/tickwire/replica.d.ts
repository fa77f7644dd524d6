// Declarations of replica.js: snapshots applied to entities, and change callbacks.

import type { Snapshot } from "./protocol.js";
import type { Schema } from "./schema.js";
import type { AnyGame, ComponentName, ComponentValue, GameTypes, RawValue } from "./types.js";

/** A snapshot that cannot apply to this replica: reconnect. */
export declare class ReplicaError extends Error {
  name: string;
}

/** What a snapshot did, in op order (entity ids; `changed` by CHANGES or OWN). */
export interface SnapshotReport {
  spawned: number[];
  despawned: number[];
  changed: number[];
}

/** One entity: its id and its components, read by name. */
export declare class Entity<G extends GameTypes = AnyGame> {
  constructor(id: number, schema: Schema<G>);
  readonly id: number;
  readonly schema: Schema<G>;
  /** Component id -> wire value (a quantized component: its integers). */
  readonly values: Map<number, unknown>;
  /** Whether the entity holds the component (a marker component's only meaning). */
  has(name: ComponentName<G>): boolean;
  /** The component's value (quantized: `{field: integer / scale}`); undefined when not held. */
  get<K extends ComponentName<G>>(name: K): ComponentValue<G, K> | undefined;
  /** The component's value as held (quantized: its integers; do not modify). */
  raw<K extends ComponentName<G>>(name: K): RawValue<G, K> | undefined;
  /** Every held component by name, as `get` gives them. */
  toObject(): { id: number } & Partial<G["components"]>;
}

/** `fn(entityId, value)`: an entity gained the component (or appeared with it). */
export type AddCallback<V> = (entityId: number, value: V) => void;
/** `fn(entityId, value, previous)`: the component's value differs after a snapshot. */
export type ChangeCallback<V> = (entityId: number, value: V, previous: V) => void;
/** `fn(entityId, previous)`: an entity lost the component (or left with it). */
export type RemoveCallback<V> = (entityId: number, previous: V) => void;
/** `fn(entityId, entity)`: an entity appeared, or left (`entity` as last held). */
export type EntityCallback<G extends GameTypes> = (entityId: number, entity: Entity<G>) => void;

/**
 * Change listeners by component name; they run after a whole snapshot applied, entities by
 * ascending id: onSpawn then onAdd per component for an entity that appeared; onAdd,
 * onChange or onRemove per component for one that stayed; onRemove per component then
 * onDespawn for one that left. Each `on*` returns its unsubscribe function.
 */
export declare class ReplicaCallbacks<G extends GameTypes = AnyGame> {
  onAdd<K extends ComponentName<G>>(component: K, fn: AddCallback<ComponentValue<G, K>>): () => void;
  onChange<K extends ComponentName<G>>(component: K, fn: ChangeCallback<ComponentValue<G, K>>): () => void;
  onRemove<K extends ComponentName<G>>(component: K, fn: RemoveCallback<ComponentValue<G, K>>): () => void;
  onSpawn(fn: EntityCallback<G>): () => void;
  onDespawn(fn: EntityCallback<G>): () => void;
  /** Whether anything listens. */
  readonly active: boolean;
  /** The component names listened to. */
  readonly components: Set<string>;
}

/** The client's copy of what the server says it sees. */
export declare class Replica<G extends GameTypes = AnyGame> {
  /** `ownId`: the Welcome's entity_id (0: none); `callbacks`: listeners to share (a Client's). */
  constructor(schema: Schema<G>, ownId?: number, callbacks?: ReplicaCallbacks<G>);
  readonly schema: Schema<G>;
  readonly ownId: number;
  readonly callbacks: ReplicaCallbacks<G>;
  readonly entities: Map<number, Entity<G>>;
  /** The tick of the last snapshot applied. */
  readonly tick: number;
  /** The last input the server applied. */
  readonly lastInputSeq: number;
  /** The last snapshot's input pacing hint. */
  readonly pacing: number;
  /** Whether a Full has arrived. */
  readonly hasBaseline: boolean;
  /** The client's own entity, when held. */
  readonly own: Entity<G> | undefined;
  /** Applies a decoded Full or Delta, then runs the change callbacks; throws ReplicaError. */
  apply(message: Snapshot): SnapshotReport;
  /** Empties the replica, firing onRemove and onDespawn for every entity. */
  clear(): void;
  /** Throws when the schema has no such component. */
  onAdd<K extends ComponentName<G>>(component: K, fn: AddCallback<ComponentValue<G, K>>): () => void;
  onChange<K extends ComponentName<G>>(component: K, fn: ChangeCallback<ComponentValue<G, K>>): () => void;
  onRemove<K extends ComponentName<G>>(component: K, fn: RemoveCallback<ComponentValue<G, K>>): () => void;
  onSpawn(fn: EntityCallback<G>): () => void;
  onDespawn(fn: EntityCallback<G>): () => void;
}
