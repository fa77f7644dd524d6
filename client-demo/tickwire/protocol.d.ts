// Declarations of protocol.js: the wire protocol v2, its messages in their decoded form.

import { DecodeError } from "./bincode.js";
import type { Schema, SchemaDescription } from "./schema.js";
import type { AnyGame, GameTypes } from "./types.js";

export declare const PROTOCOL_VERSION: 2;
export declare const SUBPROTOCOL: "tickwire.v2";
/** Largest client message the server decodes by default (a game may raise it). */
export declare const MAX_CLIENT_MESSAGE_BYTES: number;
/** Entity id meaning "no entity". */
export declare const NO_ENTITY: 0;
/** A resume token of all zeros: the server does not resume sessions. */
export declare const NO_RESUME_TOKEN: string;
/** A delta's input ack is `input_seq_delta × PACING_SLOTS + (pacing + PACING_OFFSET)`. */
export declare const PACING_SLOTS: 16;
export declare const PACING_OFFSET: 8;

export declare const ServerTag: Readonly<{ WELCOME: 0; FULL: 1; DELTA: 2; PONG: 3; EVENT: 4 }>;
export declare const ClientTag: Readonly<{ INPUT: 0; PING: 1; MESSAGE: 2 }>;
export declare const OpTag: Readonly<{ SPAWN: 0; DESPAWN: 1; CHANGES: 2; OWN: 3; SINGLE: 4 }>;
export declare const ChangeKind: Readonly<{ SET: 0; DELTA: 1; REMOVE: 2; KINDS: 3 }>;

/** Close codes (docs/protocol.md, "Close codes"). */
export declare const CloseCode: Readonly<{
  NORMAL: 1000;
  GOING_AWAY: 1001;
  PROTOCOL_ERROR: 1002;
  UNSUPPORTED_DATA: 1003;
  INVALID_PAYLOAD: 1007;
  POLICY_VIOLATION: 1008;
  MESSAGE_TOO_BIG: 1009;
  INTERNAL_ERROR: 1011;
  TRY_AGAIN_LATER: 1013;
  CLIENT_PROTOCOL_ERROR: 4000;
  TOO_SLOW: 4001;
  IDLE: 4002;
  ROOM_FULL: 4003;
  TOO_MANY_ROOMS: 4004;
  RESUME_REFUSED: 4005;
  REPLACED: 4006;
  SEAT_REFUSED: 4007;
  ROOM_LOST: 4008;
}>;

/** A Welcome with a protocol_version this client does not speak. */
export declare class VersionError extends DecodeError {
  constructor(version: number);
  readonly version: number;
}

/** The first message of a session. */
export interface Welcome<G extends GameTypes = AnyGame> {
  type: "Welcome";
  protocol_version: number;
  client_id: number;
  /** The client's own entity (0: none). */
  entity_id: number;
  tick_rate_hz: number;
  /** 16 hex digits. */
  schema_hash: string;
  schema: SchemaDescription;
  /** The game's welcome value. */
  game: G["welcome"];
  /** 32 hex digits; all zeros: no resume. */
  resume_token: string;
}

/** A component's wire value in a SPAWN (a quantized one: its integers). */
export interface SpawnComponent {
  component: number;
  value: unknown;
}

/** One component change: a new value, integer differences, or a removal. */
export type Change =
  | { component: number; set: unknown }
  | { component: number; delta: number[] }
  | { component: number; remove: true };

/** One op of a snapshot, ids absolute. */
export type Op =
  | { op: "Spawn"; id: number; components: SpawnComponent[] }
  | { op: "Despawn"; id: number }
  | { op: "Changes"; id: number; changes: Change[] }
  | { op: "Own"; changes: Change[] };

/** A whole state. */
export interface Full {
  type: "Full";
  tick: number;
  last_input_seq: number;
  /** The server's input pacing hint. */
  pacing: number;
  ops: Op[];
}

/** The changes since the client's last acknowledged state. */
export interface Delta {
  type: "Delta";
  tick_delta: number;
  input_seq_delta: number;
  pacing: number;
  ops: Op[];
}

/** A Full or a Delta. */
export type Snapshot = Full | Delta;

/** The answer to a ping. */
export interface Pong {
  type: "Pong";
  id: number;
  tick: number;
  /** Clients connected to the server. */
  clients: number;
}

/** One of the game's events. */
export interface EventMessage<G extends GameTypes = AnyGame> {
  type: "Event";
  tick: number;
  event: G["event"];
}

export type ServerMessage<G extends GameTypes = AnyGame> = Welcome<G> | Full | Delta | Pong | EventMessage<G>;

export type ClientMessage<G extends GameTypes = AnyGame> =
  | { type: "Input"; seq: number; input: G["input"] }
  | { type: "Ping"; id: number }
  | { type: "Message"; message: G["message"] };

/** Decodes one server message; snapshots and events need the Welcome's schema. Throws DecodeError. */
export declare function decodeServerMessage<G extends GameTypes = AnyGame>(
  data: ArrayBuffer | Uint8Array,
  schema?: Schema<G> | null,
): ServerMessage<G>;
/** Encodes one client message. Throws TypeError/RangeError on a bad value. */
export declare function encodeClientMessage<G extends GameTypes = AnyGame>(
  message: ClientMessage<G>,
  schema?: Schema<G> | null,
): Uint8Array;
/** Decodes one client message (the server's side, for tests). Throws DecodeError. */
export declare function decodeClientMessage<G extends GameTypes = AnyGame>(
  data: ArrayBuffer | Uint8Array,
  schema?: Schema<G> | null,
  maxBytes?: number,
): ClientMessage<G>;
