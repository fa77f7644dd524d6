// The client's copy of what the server says it sees: Full and Delta snapshots applied
// exactly as docs/protocol.md section 5 describes. Pure data, no time, no sockets.
//
// Positions stay in wire units (1/64 world unit integers) so the replica equals the
// server's state bit for bit; callers convert with POSITION_SCALE when they draw.

/** A snapshot that cannot apply to this replica: the connection is broken, reconnect. */
export class ReplicaError extends Error {
  name = "ReplicaError";
}

const MAX_ENTITY_ID = 0xffffffff;

export class Replica {
  /** @param {number} selfId the welcome's entity_id; every snapshot must contain it. */
  constructor(selfId) {
    this.selfId = selfId;
    /** @type {Map<number, {kind:string,x:number,y:number,radius:number,color:number[],score:number,name:string}>} */
    this.entities = new Map();
    this.tick = 0;
    this.lastInputSeq = 0;
    /** Own velocity in wire units per second, from the last Own op. */
    this.ownVelocity = { vx: 0, vy: 0 };
    this.hasBaseline = false;
  }

  /** The own player's entity. */
  get self() {
    return this.entities.get(this.selfId);
  }

  /**
   * Applies a decoded Full or Delta message. Returns the ids spawned and despawned, in
   * op order, so interpolation can reset or retire their histories. Throws ReplicaError
   * when the snapshot does not fit; the replica is then unusable until the next Full.
   */
  apply(message) {
    if (message.type === "Full") return this.applyFull(message);
    if (message.type === "Delta") return this.applyDelta(message);
    throw new ReplicaError(`not a snapshot: ${message.type}`);
  }

  applyFull(full) {
    this.entities.clear();
    this.tick = full.tick;
    this.lastInputSeq = full.last_input_seq;
    for (const op of full.ops) {
      if (op.type !== "Own" && op.type !== "Spawn") {
        throw new ReplicaError(`a Full snapshot may only hold Own and Spawn ops, got ${op.type}`);
      }
    }
    const changes = this.applyOps(full.ops);
    this.hasBaseline = true;
    return changes;
  }

  applyDelta(delta) {
    if (!this.hasBaseline) throw new ReplicaError("a Delta arrived before any Full");
    if (delta.tick_delta < 1) throw new ReplicaError("a Delta must advance the tick");
    this.tick += delta.tick_delta;
    this.lastInputSeq += delta.input_seq_delta;
    return this.applyOps(delta.ops);
  }

  applyOps(ops) {
    const spawned = [];
    const despawned = [];
    let id = 0;
    ops.forEach((op, index) => {
      if (op.type === "Own") {
        if (index !== 0) throw new ReplicaError(`Own must be the first op, found at ${index}`);
        this.ownVelocity = { vx: op.vx, vy: op.vy };
        return;
      }
      if (op.id_gap < 1) throw new ReplicaError(`ids must ascend: id_gap 0 after id ${id}`);
      id += op.id_gap;
      if (id > MAX_ENTITY_ID) throw new ReplicaError(`entity id ${id} overflows u32`);
      if (op.type === "Spawn") {
        this.entities.set(id, { ...op.entity, color: [...op.entity.color] });
        spawned.push(id);
        return;
      }
      const entity = this.entities.get(id);
      if (!entity) throw new ReplicaError(`${op.type} names entity ${id}, which the client does not hold`);
      if (op.type === "Despawn") {
        this.entities.delete(id);
        despawned.push(id);
        return;
      }
      // Positions are i32 on the server; `| 0` keeps the same two's complement arithmetic.
      entity.x = (entity.x + op.dx) | 0;
      entity.y = (entity.y + op.dy) | 0;
      if (op.type === "Update") entity.score = op.score;
    });
    if (!this.entities.has(this.selfId)) {
      throw new ReplicaError(`own player ${this.selfId} is missing from the snapshot at tick ${this.tick}`);
    }
    return { spawned, despawned };
  }
}
