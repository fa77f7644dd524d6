// Declarations of connection.js: the WebSocket, handshake, pings, close codes, reconnect
// and matchmaking.

import { Emitter } from "./events.js";
import type { ClientMessage, Delta, Full, Pong, Welcome } from "./protocol.js";
import type { Schema } from "./schema.js";
import type { AnyGame, GameTypes } from "./types.js";

/** Close code this client sends when the server's bytes make no sense (4000). */
export declare const CLIENT_PROTOCOL_ERROR: 4000;

/** What a HUD shows; sent with every "status" and "close" event. */
export interface ConnectionStatus {
  state: "closed" | "connecting" | "open" | "matchmaking";
  /** The last close code, or null. */
  code: number | null;
  /** The last close reason. */
  reason: string;
  /** A sentence for the user ("refused: ...", "retrying"...), or "". */
  message: string;
  /** When the next attempt starts, or null. */
  retryAtMs: number | null;
  /** No retry will come by itself. */
  fatal: boolean;
  rttMs: number | null;
  clientsOnline: number | null;
  snapshotsPerSec: number;
  kBytesPerSec: number;
}

/** A placement from POST /matchmake; `url` carries the single-use seat. */
export interface Placement {
  url: string;
  room: string;
  process: string;
}

/** Matchmaking placed this client again after its server was lost (a new session). */
export interface Rematch {
  room: string;
  process: string;
  previousProcess: string | null;
  /** Why the last server was lost. */
  reason: string;
}

/** Where to connect through matchmaking. */
export interface MatchmakeTarget {
  /** Any server of the cluster, `http(s)://host:port`. */
  matchmake: string;
  /** The room; empty: any room with space. */
  room?: string;
  name?: string;
}

/** `GET /rooms`. */
export interface RoomList {
  rooms: { name: string; players: number; capacity: number; tick_rate_hz: number; uptime_seconds: number }[];
  max_rooms: number;
}

/** The events of a Connection and their listeners' arguments. */
export interface ConnectionEvents<G extends GameTypes = AnyGame> {
  status: [status: ConnectionStatus];
  open: [];
  welcome: [welcome: Welcome<G>, schema: Schema<G>];
  message: [message: Full | Delta, nowMs: number];
  event: [event: G["event"], tick: number];
  pong: [pong: Pong, rttMs: number];
  error: [reason: string];
  close: [status: ConnectionStatus];
  rematch: [rematch: Rematch];
}

/** A WebSocket constructor (the browser's, or `ws` in Node). */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): WebSocket;
  readonly CONNECTING: number;
  readonly OPEN: number;
}

export interface ConnectionOptions {
  /** WebSocket URL (see socketUrl), or */
  url?: string | null;
  /** any server of a cluster: connect through POST /matchmake. */
  matchmake?: string | null;
  /** With matchmake: the room (empty: any room with space). */
  room?: string;
  /** With matchmake: the player's name. */
  name?: string;
  /** Refuse a server whose schema names another game. */
  game?: string | null;
  /** Identity token (a JWT) sent as `?token=`. */
  token?: string | null;
  /** Ask `GET /authcheck` why a socket failed before it opened (default: with a token). */
  authcheck?: boolean;
  WebSocketImpl?: WebSocketConstructor;
  fetchImpl?: typeof fetch;
  now?: () => number;
}

/** A failed POST /matchmake: `status` (0: no answer), the reason, and whether it is final. */
export declare class MatchmakeError extends Error {
  constructor(status: number, reason: string);
  readonly status: number;
  readonly reason: string;
  readonly final: boolean;
}

/** Asks `base` for a place in `room` (any room with space when empty). */
export declare function matchmake(base: string, room?: string, fetchImpl?: typeof fetch, token?: string | null): Promise<Placement>;
/** `url` with `name=NAME` added (nothing when empty). */
export declare function withName(url: string, name?: string | null): string;
/** `url` with `token=TOKEN` (an identity token) added when one is given. */
export declare function tokenUrl(url: string, token?: string | null): string;
/** The `GET /authcheck` URL that explains a refused WebSocket URL: same host and query. */
export declare function authcheckUrl(wsUrl: string): string;
/** `url` with `resume=TOKEN` added when a token is given. */
export declare function resumeUrl(url: string, token?: string | null): string;
/** The WebSocket URL for a page: same host, ws or wss, `path`, `?name=` and `params`. */
export declare function socketUrl(
  location: { protocol: string; host: string },
  name?: string | null,
  path?: string,
  params?: Record<string, string | null | undefined>,
): string;
/** `GET /rooms` of the page's host. */
export declare function fetchRooms(location: { protocol: string; host: string }, fetchImpl?: typeof fetch): Promise<RoomList>;

/** The WebSocket of one client: sessions, resume, reconnect, matchmaking. */
export declare class Connection<G extends GameTypes = AnyGame> extends Emitter<ConnectionEvents<G>> {
  constructor(options: ConnectionOptions);
  readonly status: ConnectionStatus;
  /** The current session's Welcome and compiled schema, or null. */
  readonly welcome: Welcome<G> | null;
  readonly schema: Schema<G> | null;
  /** With matchmaking: the last placement. */
  readonly placement: Placement | null;
  /** Placements made after a server was lost. */
  readonly rematches: number;
  /** Whether the session is up (socket open and Welcome received). */
  readonly ready: boolean;
  readonly now: () => number;
  /** Connects now, to a URL, through matchmaking, or (no argument) to the last target. */
  connect(target?: string | MatchmakeTarget | null): void;
  /** Leaves on purpose with 1000. */
  close(reason?: string): void;
  /** Sends a client message; false unless the session is up. Throws on a value the schema refuses. */
  send(message: ClientMessage<G>): boolean;
  /** The server sent something unusable: close with 4000, then reconnect. */
  fail(reason: string): void;
}
