// The client's copy of what the server says it sees: Full and Delta snapshots applied to
// entities of schema components, exactly as docs/protocol.md ("Applying a snapshot") says.
//
// Owns entity storage and the application rules (id order, OWN, SET/DELTA/REMOVE). Quantized
// components stay the server's integers, so the replica equals the server's state bit for
// bit; a game reads them by component name, scaled to reals (`get`) or as held (`raw`).
// Pure data: no time, no sockets, no game.

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

export class Replica {
  /**
   * @param {import("./schema.js").Schema} schema the Welcome's schema
   * @param {number} ownId the Welcome's entity_id (0: the client has no entity)
   */
  constructor(schema, ownId = NO_ENTITY) {
    this.schema = schema;
    this.ownId = ownId;
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

  /**
   * Applies a decoded Full or Delta. Returns what happened, in op order: {spawned,
   * despawned, changed} (entity ids; `changed` by CHANGES or OWN), for interpolation and
   * change callbacks. Throws ReplicaError when the snapshot does not fit; the replica is
   * then unusable until the next Full.
   */
  apply(message) {
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
}

function copy(value) {
  return Array.isArray(value) ? value.slice() : value;
}
