// The client's copy of what the server says it sees: Full and Delta snapshots applied to
// entities of schema components, exactly as docs/protocol.md ("Applying a snapshot") says.
//
// Owns entity storage and the application rules (id order, OWN, SET/DELTA/REMOVE). Quantized
// components stay the server's integers, so the replica equals the server's state bit for
// bit; a game reads them by component name, scaled to reals (`get`) or as held (`raw`).
// Pure data: no time, no sockets, no game.
//
// Change callbacks (`ReplicaCallbacks`, reached through `Replica.onAdd` and the others) run
// after a whole snapshot applied, so each sees the replica consistent at the new tick. Their
// order: entities by ascending id; for an entity that appeared, `onSpawn`, then `onAdd` per
// component; for one that stayed, per component `onAdd`, `onChange` or `onRemove`; for one
// that left, `onRemove` per component, then `onDespawn`; components by id (schema order).
// A value is as `Entity.get` gives it; `onChange` fires only when the value differs (a Full
// that resends an unchanged value fires nothing). A SPAWN over an id the replica held is the
// old entity leaving and a new one appearing. A listener that throws is reported on the
// console and does not stop the others.

import { NO_ENTITY } from "./protocol.js";

/** A snapshot that cannot apply to this replica: the connection is broken, reconnect. */
export class ReplicaError extends Error {
  name = "ReplicaError";
}

/** One entity: its id and its components' wire values, read by component name. */
export class Entity {
  constructor(id, schema) {
    this.id = id;
    this.schema = schema;
    /** component id -> wire value (an array of integers for a quantized component). */
    this.values = new Map();
  }

  /** Whether the entity holds the component `name` (a marker component's only meaning). */
  has(name) {
    return this.values.has(this.schema.component(name).id);
  }

  /** The component's value for a game: a quantized one as {field: integer / scale}, any
   *  other as decoded; undefined when the entity does not hold it. */
  get(name) {
    const info = this.schema.component(name);
    const value = this.values.get(info.id);
    return value === undefined ? undefined : info.real(value);
  }

  /** The component's value as held: a quantized one as its integers (do not modify). */
  raw(name) {
    return this.values.get(this.schema.component(name).id);
  }

  /** Every held component by name, values as `get` gives them. */
  toObject() {
    const out = { id: this.id };
    for (const [cid, value] of this.values) out[this.schema.components[cid].name] = this.schema.components[cid].real(value);
    return out;
  }
}

/**
 * Change listeners, by component name: a Replica owns one, and a Client keeps one across
 * its sessions (each new replica gets it). Every `on*` returns its unsubscribe function.
 */
export class ReplicaCallbacks {
  #byKind = { add: new Map(), change: new Map(), remove: new Map() };
  #spawn = new Set();
  #despawn = new Set();

  /** `fn(entityId, value)` when an entity gains `component` (or appears with it). */
  onAdd(component, fn) {
    return subscribe(this.#byKind.add, component, fn);
  }

  /** `fn(entityId, value, previous)` when `component`'s value differs after a snapshot. */
  onChange(component, fn) {
    return subscribe(this.#byKind.change, component, fn);
  }

  /** `fn(entityId, previous)` when an entity loses `component` (or leaves with it). */
  onRemove(component, fn) {
    return subscribe(this.#byKind.remove, component, fn);
  }

  /** `fn(entityId, entity)` when an entity appears, before its components' onAdd. */
  onSpawn(fn) {
    this.#spawn.add(fn);
    return () => this.#spawn.delete(fn);
  }

  /** `fn(entityId, entity)` when an entity leaves, after its components' onRemove;
   *  `entity` is the last state the replica held. */
  onDespawn(fn) {
    this.#despawn.add(fn);
    return () => this.#despawn.delete(fn);
  }

  /** The component names listened to. */
  get components() {
    const { add, change, remove } = this.#byKind;
    return new Set([...add.keys(), ...change.keys(), ...remove.keys()]);
  }

  /** Whether anything listens (else a snapshot records nothing for them). */
  get active() {
    const { add, change, remove } = this.#byKind;
    return add.size + change.size + remove.size + this.#spawn.size + this.#despawn.size > 0;
  }

  /** Whether anything listens to `component` changing in the way `kind` says. */
  listens(kind, component) {
    return this.#byKind[kind].has(component);
  }

  fire(kind, component, ...args) {
    call(this.#byKind[kind].get(component), kind, args);
  }

  fireSpawn(id, entity) {
    call(this.#spawn, "spawn", [id, entity]);
  }

  fireDespawn(id, entity) {
    call(this.#despawn, "despawn", [id, entity]);
  }
}

function subscribe(map, component, fn) {
  if (!map.has(component)) map.set(component, new Set());
  const set = map.get(component);
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0 && map.get(component) === set) map.delete(component);
  };
}

function call(listeners, kind, args) {
  for (const fn of listeners ?? []) {
    try {
      fn(...args);
    } catch (error) {
      console.error(`tickwire: an ${kind} callback threw:`, error);
    }
  }
}

export class Replica {
  /**
   * @param {import("./schema.js").Schema} schema the Welcome's schema
   * @param {number} ownId the Welcome's entity_id (0: the client has no entity)
   * @param {ReplicaCallbacks} [callbacks] change listeners (a Client shares its own)
   */
  constructor(schema, ownId = NO_ENTITY, callbacks = new ReplicaCallbacks()) {
    this.schema = schema;
    this.ownId = ownId;
    this.callbacks = callbacks;
    // Shared callbacks were subscribed before this schema was known (a Client's): a name it
    // lacks would never fire, so say so once per replica.
    for (const name of callbacks.components) {
      if (!schema.byName.has(name)) console.error(`tickwire: a change callback listens to ${name}, which the ${schema.game} schema does not have`);
    }
    /** @type {Map<number, Entity>} */
    this.entities = new Map();
    this.tick = 0;
    this.lastInputSeq = 0;
    /** The last snapshot's input pacing hint (docs/protocol.md, "Inputs"). */
    this.pacing = 0;
    this.hasBaseline = false;
  }

  /** The client's own entity, when the replica holds it. */
  get own() {
    return this.entities.get(this.ownId);
  }

  /** `fn(entityId, value)` when an entity gains `component`; returns the unsubscribe. */
  onAdd(component, fn) {
    return this.callbacks.onAdd(this.schema.component(component).name, fn);
  }

  /** `fn(entityId, value, previous)` when `component` changes; returns the unsubscribe. */
  onChange(component, fn) {
    return this.callbacks.onChange(this.schema.component(component).name, fn);
  }

  /** `fn(entityId, previous)` when an entity loses `component`; returns the unsubscribe. */
  onRemove(component, fn) {
    return this.callbacks.onRemove(this.schema.component(component).name, fn);
  }

  /** `fn(entityId, entity)` when an entity appears; returns the unsubscribe. */
  onSpawn(fn) {
    return this.callbacks.onSpawn(fn);
  }

  /** `fn(entityId, entity)` when an entity leaves; returns the unsubscribe. */
  onDespawn(fn) {
    return this.callbacks.onDespawn(fn);
  }

  /** Empties the replica (its session ended), firing onRemove and onDespawn for every
   *  entity, so a page's listeners let go of what they drew. */
  clear() {
    const before = this.callbacks.active ? this.capture(this.entities.keys()) : null;
    this.entities.clear();
    this.hasBaseline = false;
    if (before) this.notify(before, new Set());
  }

  /**
   * Applies a decoded Full or Delta. Returns what happened, in op order: {spawned,
   * despawned, changed} (entity ids; `changed` by CHANGES or OWN), for interpolation and
   * change callbacks. Throws ReplicaError when the snapshot does not fit; the replica is
   * then unusable until the next Full.
   */
  apply(message) {
    const watched = this.callbacks.active;
    const before = watched ? this.capture(this.touched(message)) : null;
    const report = this.applySnapshot(message);
    // A Full's SPAWNs rebuild the replica: only a Delta's SPAWN replaces an entity.
    if (watched) this.notify(before, new Set(message.type === "Full" ? [] : report.spawned));
    return report;
  }

  applySnapshot(message) {
    if (message.type === "Full") {
      this.entities.clear();
      this.tick = message.tick;
      this.lastInputSeq = message.last_input_seq;
      this.hasBaseline = true;
    } else if (message.type === "Delta") {
      if (!this.hasBaseline) throw new ReplicaError("a Delta arrived before any Full");
      if (message.tick_delta < 1) throw new ReplicaError("a Delta must advance the tick");
      this.tick += message.tick_delta;
      this.lastInputSeq += message.input_seq_delta;
    } else {
      throw new ReplicaError(`not a snapshot: ${message.type}`);
    }
    this.pacing = message.pacing ?? 0;
    return this.applyOps(message.ops);
  }

  applyOps(ops) {
    const report = { spawned: [], despawned: [], changed: [] };
    let lastId = 0;
    ops.forEach((op, index) => {
      if (op.op === "Own") {
        if (index !== 0) throw new ReplicaError(`OWN must be the first op, found at ${index}`);
        this.applyChanges(this.ownEntity(), op.changes);
        report.changed.push(this.ownId);
        return;
      }
      if (op.id <= lastId) throw new ReplicaError(`ids must ascend: ${op.op} of ${op.id} after ${lastId}`);
      lastId = op.id;
      if (op.op === "Spawn") {
        this.spawn(op);
        report.spawned.push(op.id);
      } else if (op.op === "Despawn") {
        this.held(op.id, op.op);
        this.entities.delete(op.id);
        report.despawned.push(op.id);
      } else {
        this.applyChanges(this.held(op.id, op.op), op.changes);
        report.changed.push(op.id);
      }
    });
    return report;
  }

  // SPAWN replaces whatever the id held.
  spawn({ id, components }) {
    const entity = new Entity(id, this.schema);
    for (const { component, value } of components) entity.values.set(component, copy(value));
    this.entities.set(id, entity);
  }

  ownEntity() {
    if (this.ownId === NO_ENTITY) throw new ReplicaError("OWN for a client without an entity");
    const entity = this.entities.get(this.ownId);
    if (!entity) throw new ReplicaError(`OWN applies to entity ${this.ownId}, which the client does not hold`);
    return entity;
  }

  held(id, what) {
    const entity = this.entities.get(id);
    if (!entity) throw new ReplicaError(`${what} names entity ${id}, which the client does not hold`);
    return entity;
  }

  applyChanges(entity, changes) {
    for (const change of changes) {
      const cid = change.component;
      if ("set" in change) {
        entity.values.set(cid, copy(change.set));
      } else if (change.remove) {
        entity.values.delete(cid);
      } else {
        const ints = entity.values.get(cid);
        const name = this.schema.components[cid].name;
        if (!ints) throw new ReplicaError(`a DELTA of ${name} on entity ${entity.id}, which does not hold it`);
        // i32 on the server, wrapping: `| 0` is the same two's complement arithmetic.
        change.delta.forEach((d, i) => (ints[i] = (ints[i] + d) | 0));
      }
    }
  }

  // The ids a snapshot can touch: every held one for a Full, the ops' for a Delta.
  touched(message) {
    if (message.type === "Full") return [...this.entities.keys(), ...message.ops.map((op) => op.id)];
    return (message.ops ?? []).map((op) => (op.op === "Own" ? this.ownId : op.id));
  }

  // id -> {entity, values: Map(component id -> copied wire value)} | null (not held), for the
  // ids a snapshot may touch.
  capture(ids) {
    const before = new Map();
    for (const id of ids) {
      if (before.has(id) || id === undefined) continue;
      const entity = this.entities.get(id);
      before.set(id, entity ? { entity, values: new Map([...entity.values].map(([cid, v]) => [cid, copy(v)])) } : null);
    }
    return before;
  }

  // Fires the callbacks for the difference between `before` and the replica now, in the order
  // the module comment gives. `respawned`: ids a SPAWN op replaced.
  notify(before, respawned) {
    const cb = this.callbacks;
    const components = this.schema.components;
    const real = (cid, value) => components[cid].real(value);
    for (const id of [...before.keys()].sort((a, b) => a - b)) {
      const old = before.get(id);
      const now = this.entities.get(id);
      const replaced = old && now && respawned.has(id);
      if (old && (!now || replaced)) {
        for (const [cid, value] of sorted(old.values)) cb.fire("remove", components[cid].name, id, real(cid, value));
        cb.fireDespawn(id, old.entity);
      }
      if (!now) continue;
      if (!old || replaced) {
        cb.fireSpawn(id, now);
        for (const [cid, value] of sorted(now.values)) cb.fire("add", components[cid].name, id, real(cid, value));
        continue;
      }
      for (const cid of [...new Set([...old.values.keys(), ...now.values.keys()])].sort((a, b) => a - b)) {
        const name = components[cid].name;
        const had = old.values.has(cid);
        const has = now.values.has(cid);
        if (!had) cb.fire("add", name, id, real(cid, now.values.get(cid)));
        else if (!has) cb.fire("remove", name, id, real(cid, old.values.get(cid)));
        else if (cb.listens("change", name) && !same(old.values.get(cid), now.values.get(cid))) {
          cb.fire("change", name, id, real(cid, now.values.get(cid)), real(cid, old.values.get(cid)));
        }
      }
    }
  }
}

function sorted(values) {
  return [...values].sort(([a], [b]) => a - b);
}

// Deep equality of two decoded values (numbers, bigints, strings, null, arrays, objects).
function same(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
}

function copy(value) {
  return Array.isArray(value) ? value.slice() : value;
}
