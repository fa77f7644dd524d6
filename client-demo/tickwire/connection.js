// The WebSocket: connect, handshake, decode, ping, report state, reconnect.
//
// Owns the socket and the session's first rules: nothing before the Welcome, the protocol
// version, the schema (and, if the page asks, the game's name). Events, in order of a life:
//   "status"  (status)            every change of `status` (state as the socket reports it)
//   "open"    ()                  the socket opened
//   "welcome" (welcome, schema)   the Welcome decoded; `schema` is the compiled Schema
//   "message" (message, nowMs)    every Full and Delta, decoded with the schema
//   "event"   (event, tick)       one of the game's events, in the order the server sent them
//   "notice"  (text, tick)        an operator's notice to the room (from the console)
//   "pong"    (pong, rttMs)       an answer to one of this connection's pings
//   "error"   (reason)            the server broke the protocol (the socket closes with 4000),
//                                 or refused to let this client in (401, 403, 409: see below)
//   "close"   (status)            the socket closed: code, reason, and whether it retries
//   "rematch" (rematch)           after a server was lost, matchmaking placed this client
//                                 again and it is playing: {room, process, previousProcess,
//                                 reason}; a new session (the match state was reset)
// Knows no game: snapshots are handed on, not applied.
//
// Session resume: the Welcome's resume token is kept, and a reconnect after a drop presents
// it (`?resume=`), so the server hands back the same entity. A refused token (4005: used,
// unknown or too late) is dropped and the next attempt joins afresh, as a new player, and
// says so in the status message; `connect()` (a new room or name) always starts afresh.
//
// Identity: the `token` option is sent as `?token=` (a page cannot set headers on a
// WebSocket). A server that refuses it does so before the upgrade, and a browser tells the
// page only that the socket failed (1006, no reason); so when a socket fails before it ever
// opened, the connection asks the server's `GET /authcheck` (same query, same cookies) why.
// A 401, 403 or 409 ends the retries and is reported as an "error" event with the server's
// reason, and in the status (`code` the HTTP status, `fatal`).
//
// Matchmaking (a cluster of servers, `POST /matchmake` on any of them): connect to
// `{matchmake: "https://any-server", room, name}` instead of a URL. The client asks for a
// placement (a server's URL and a single-use seat) and connects there. When that server is
// lost for good (its socket closes with 1001, 4005, 4007 or 4008, or a resume after a drop
// finds nobody there), the client matchmakes again by itself, with backoff, and emits
// "rematch" once it plays again: on whatever server now hosts the room, as a new player.

import { Emitter } from "./events.js";
import {
  CloseCode,
  decodeServerMessage,
  encodeClientMessage,
  NO_RESUME_TOKEN,
  ServerTag,
  SUBPROTOCOL,
  VersionError,
} from "./protocol.js";
import { Schema } from "./schema.js";

/** How often RTT is measured and the traffic rates are refreshed. */
const PING_INTERVAL_MS = 1000;
/** Reconnect delays double from the first to the cap, with ±20% jitter so a restarted
 *  server is not hit by every client in the same millisecond. The first is a whole second:
 *  a server that just said goodbye is rarely back sooner, and the closed state (with its
 *  code and reason) stays on screen long enough to read. */
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 8000;
/** Consecutive failed connections (no Welcome) before giving up: about a minute. */
const MAX_ATTEMPTS = 10;
/** Matchmaking retries start sooner: the directory answers in milliseconds, and a lost
 *  server's players should be playing again within a few seconds. */
const MATCHMAKE_BACKOFF_FIRST_MS = 250;
/** ...and stop growing sooner: a lost server's room is placed again as soon as the
 *  directory forgets the dead process, and a request costs the cluster little. */
const MATCHMAKE_BACKOFF_MAX_MS = 2000;
/** Spread of the first matchmake after a server is lost, so its players do not all ask in
 *  the same millisecond. */
const REMATCH_JITTER_MS = 200;
/** Statuses of POST /matchmake that retrying cannot fix: a bad request, no cluster, full. */
const FINAL_MATCHMAKE_STATUSES = new Set([400, 401, 403, 404, 409]);
/** Pings without a pong that are still remembered. */
const MAX_PINGS_IN_FLIGHT = 8;
/** Close reasons are at most 123 bytes; this leaves room for multi-byte characters. */
const MAX_REASON_CHARS = 120;

const SERVER_MESSAGES = Object.fromEntries(Object.entries(ServerTag).map(([name, tag]) => [tag, name]));

/** Close code this client sends when the server's bytes do not make sense: fatal for the
 *  connection, reconnect. Browsers only let a page send 1000 or 3000-4999. */
export const CLIENT_PROTOCOL_ERROR = CloseCode.CLIENT_PROTOCOL_ERROR;

// Closes that mean "do not come back like this": retrying cannot help, so the page says
// why and waits for the user. 1013 (full) is included: hammering a full server makes it
// worse, and a reconnect is one call away.
const REFUSALS = new Map([
  [CloseCode.PROTOCOL_ERROR, "the server says this client broke WebSocket framing"],
  [CloseCode.UNSUPPORTED_DATA, "the server refused a text frame"],
  [CloseCode.INVALID_PAYLOAD, "the server could not decode a message from this client"],
  [CloseCode.POLICY_VIOLATION, "the server says this client broke the input rules"],
  [CloseCode.MESSAGE_TOO_BIG, "this client sent a message that is too big"],
  [CloseCode.TRY_AGAIN_LATER, "the server is full, try again later"],
  [CloseCode.ROOM_FULL, "this room is full, pick another"],
  [CloseCode.TOO_MANY_ROOMS, "the server has no room for another room, join an open one"],
  [CloseCode.REPLACED, "this session was resumed elsewhere (another tab, or a new sign-in?)"],
  [CloseCode.SEAT_REFUSED, "this seat is no longer valid: join the room again"],
  [CloseCode.KICKED, "an operator removed this client"],
  [CloseCode.ROOM_CLOSED, "an operator closed this room"],
]);

/** What a browser reports when a socket failed without a close frame (a refused upgrade
 *  among other things). */
const ABNORMAL_CLOSURE = 1006;
/** HTTP statuses of `GET /authcheck` that mean "not with these credentials": no retry. */
const AUTH_REFUSALS = new Set([401, 403, 409]);

/** The URL to open: `url`, with `token=TOKEN` (an identity token, e.g. a JWT) added. */
export function tokenUrl(url, token) {
  if (!token) return url;
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

/** The `GET /authcheck` URL that explains a refused WebSocket URL: same host and query. */
export function authcheckUrl(wsUrl) {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = "/authcheck";
  return url.toString();
}

// Closes after which a matchmaking client asks for a new placement instead of giving up or
// retrying the same server: that server is leaving (1001), forgot the session (4005), wants
// a new seat (4007) or no longer hosts the room (4008).
const REMATCH_ON = new Map([
  [CloseCode.GOING_AWAY, "the server shut down"],
  [CloseCode.RESUME_REFUSED, "the session was gone"],
  [CloseCode.SEAT_REFUSED, "the seat was refused"],
  [CloseCode.ROOM_LOST, "the server lost the room"],
]);

/** A failed `POST /matchmake`: `status` (0 for no answer), the server's reason, and
 *  whether retrying can help. */
export class MatchmakeError extends Error {
  name = "MatchmakeError";
  constructor(status, reason) {
    super(status ? `POST /matchmake: ${status} ${reason}` : `POST /matchmake: ${reason}`);
    this.status = status;
    this.reason = reason;
    this.final = FINAL_MATCHMAKE_STATUSES.has(status);
  }
}

/** Asks `base` (any server of the cluster, `http(s)://host:port`) for a place in `room`
 *  (any room with space when empty): `{url, room, process}`, `url` carrying the seat. */
export async function matchmake(base, room = "", fetchImpl = globalThis.fetch, token = null) {
  let response;
  try {
    response = await fetchImpl(tokenUrl(`${base.replace(/\/+$/, "")}/matchmake`, token), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(room ? { room } : {}),
      cache: "no-store",
    });
  } catch (error) {
    throw new MatchmakeError(0, error?.message ?? String(error));
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    let reason = text.trim();
    try {
      reason = JSON.parse(text).error ?? reason;
    } catch {
      // a plain-text reason
    }
    throw new MatchmakeError(response.status, reason.slice(0, MAX_REASON_CHARS));
  }
  const placement = await response.json().catch(() => null);
  if (typeof placement?.url !== "string" || !/^wss?:\/\//.test(placement.url)) {
    throw new MatchmakeError(response.status, "the answer holds no ws:// or wss:// url");
  }
  return placement;
}

/** `url` with `name=NAME` added (nothing when the name is empty). */
export function withName(url, name) {
  if (!name) return url;
  return `${url}${url.includes("?") ? "&" : "?"}name=${encodeURIComponent(name)}`;
}

/** The URL to open: `url`, with `resume=TOKEN` added when a session is to be resumed. */
export function resumeUrl(url, token) {
  if (!token) return url;
  return `${url}${url.includes("?") ? "&" : "?"}resume=${token}`;
}

/** The WebSocket URL for a page: same host, ws or wss following the page's scheme, path
 *  /ws, and `?name=` when a name is given. */
export function socketUrl(location, name, path = "/ws", params = {}) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const pairs = Object.entries({ name, ...params }).filter(([, value]) => value);
  const query = pairs.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join("&");
  return `${scheme}//${location.host}${path}${query ? `?${query}` : ""}`;
}

/** The room list a server serves at `GET /rooms` (same host as the page):
 *  `{ rooms: [{ name, players, capacity, tick_rate_hz, uptime_seconds }], max_rooms }`. */
export async function fetchRooms(location, fetchImpl = globalThis.fetch) {
  const response = await fetchImpl(`${location.protocol}//${location.host}/rooms`, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET /rooms: ${response.status}`);
  return response.json();
}

export class Connection extends Emitter {
  /**
   * @param {object} options
   * @param {string} [options.url] WebSocket URL (see socketUrl), or
   * @param {string} [options.matchmake] any server of a cluster (`https://host:port`):
   *   connect through POST /matchmake, and matchmake again when the server is lost
   * @param {string} [options.room] with matchmake: the room (empty: any room with space)
   * @param {string} [options.name] with matchmake: the player's name
   * @param {string} [options.game] refuse a server whose schema names another game
   * @param {string} [options.token] identity token (a JWT) sent as `?token=`
   * @param {boolean} [options.authcheck] ask `GET /authcheck` why a socket failed before it
   *   opened (default: when a token is given; a page signed in by cookie sets it)
   */
  constructor({
    url = null, matchmake = null, room = "", name = "", game = null, token = null, authcheck = token !== null,
    WebSocketImpl = globalThis.WebSocket, fetchImpl = (...args) => globalThis.fetch(...args),
    now = () => performance.now(),
  }) {
    super();
    this.target = matchmake ? { matchmake, room, name } : { url };
    this.url = url;
    this.fetchImpl = fetchImpl;
    /** With matchmaking: the last placement ({url, room, process}), and the pending
     *  "rematch" (emitted with the next Welcome). */
    this.placement = null;
    this.pendingRematch = null;
    /** Placements made after a server was lost (each one a "rematch" once welcomed). */
    this.rematches = 0;
    /** Bumped by every connect/close/dispose: a matchmake answer for an older one is ignored. */
    this.generation = 0;
    this.game = game;
    this.token = token;
    this.authcheck = authcheck;
    this.WebSocketImpl = WebSocketImpl;
    this.now = now;
    this.ws = null;
    this.clientReason = null;
    this.schema = null;
    this.welcome = null;
    this.attempts = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    /** The token that resumes the last session, or null (none yet, or refused). */
    this.resumeToken = null;
    /** Whether the current socket presented a resume token. */
    this.resuming = false;
    /** What a HUD shows; `state` follows the socket's events. */
    this.status = {
      state: "closed", code: null, reason: "", message: "", retryAtMs: null, fatal: false,
      rttMs: null, clientsOnline: null, snapshotsPerSec: 0, kBytesPerSec: 0,
    };
  }

  /** Connects now, forgetting any earlier failures (first start, Reconnect, a new name):
   *  to a WebSocket URL, or through matchmaking with `{matchmake, room, name}`; without an
   *  argument, to the last target. */
  connect(target = null) {
    if (typeof target === "string") this.target = { url: target };
    else if (target?.matchmake) this.target = { room: "", name: "", ...target };
    this.attempts = 0;
    this.resumeToken = null;
    this.pendingRematch = null;
    this.played = false;
    this.dispose("reconnecting");
    if (this.target.matchmake) return this.place(null);
    this.url = this.target.url;
    this.open();
  }

  /** Matchmakes (`lost`: why the last server was lost, or null for a first join), then
   *  opens the placement's URL; retries with backoff while the failure can pass. */
  async place(lost) {
    const generation = this.generation;
    this.update({ state: "matchmaking", message: lost ? `${lost}: finding the room again` : "", retryAtMs: null, fatal: false });
    let placement;
    try {
      placement = await matchmake(this.target.matchmake, this.target.room, this.fetchImpl, this.token);
    } catch (error) {
      if (generation !== this.generation) return;
      return this.matchmakeFailed(error, lost);
    }
    if (generation !== this.generation) return;
    const previous = this.placement;
    this.placement = placement;
    this.url = withName(placement.url, this.target.name);
    this.resumeToken = null;
    if (lost && this.played) {
      const previousProcess = previous?.process ?? null;
      this.pendingRematch = { room: placement.room, process: placement.process, previousProcess, reason: lost };
    }
    this.open();
  }

  matchmakeFailed(error, lost) {
    this.attempts++;
    const reason = error instanceof MatchmakeError ? error.message : `POST /matchmake: ${error}`;
    if (error.final || this.attempts >= MAX_ATTEMPTS) {
      const message = error.final ? `refused: ${reason}` : `gave up after ${this.attempts} failed attempts: ${reason}`;
      this.update({ state: "closed", code: null, reason: "", message, retryAtMs: null, fatal: true });
      this.emit("close", this.status);
      // Refused credentials come as an "error" too, as a refused /ws does.
      if (AUTH_REFUSALS.has(error.status)) this.emit("error", error.reason);
      return;
    }
    const delay = Math.min(MATCHMAKE_BACKOFF_MAX_MS, MATCHMAKE_BACKOFF_FIRST_MS * 2 ** (this.attempts - 1));
    const jittered = delay * (0.8 + 0.4 * Math.random());
    this.retryTimer = setTimeout(() => this.place(lost), jittered);
    this.update({ state: "closed", message: `${reason}: retrying`, retryAtMs: this.now() + jittered, fatal: false });
  }

  /** Leaves on purpose: closes with 1000 and does not come back. */
  close(reason = "bye") {
    this.dispose(reason);
    this.pendingRematch = null;
    this.update({ state: "closed", code: CloseCode.NORMAL, reason, message: "", retryAtMs: null, fatal: true });
  }

  /** Whether the session is up: the socket open and the Welcome received. */
  get ready() {
    return this.welcomed && this.ws?.readyState === this.WebSocketImpl.OPEN;
  }

  /** Sends a client message ({type: "Input", seq, input}, {type: "Ping", id} or
   *  {type: "Message", message}); dropped unless the session is up. Throws on a value that
   *  does not fit the schema. */
  send(message) {
    if (!this.ready) return false;
    this.ws.send(encodeClientMessage(message, this.schema));
    return true;
  }

  /** The server sent something this client cannot use: close with 4000, then reconnect. */
  fail(reason) {
    if (this.clientReason !== null) return;
    this.clientReason = reason;
    this.emit("error", reason);
    this.ws?.close(CLIENT_PROTOCOL_ERROR, reason.slice(0, MAX_REASON_CHARS));
  }

  open() {
    clearTimeout(this.retryTimer);
    this.welcomed = false;
    this.clientReason = null;
    this.refusal = null;
    this.pings = new Map();
    this.nextPingId = 1;
    this.resetCounters();
    this.resuming = this.resumeToken !== null;
    this.opened = false;
    const ws = new this.WebSocketImpl(resumeUrl(tokenUrl(this.url, this.token), this.resumeToken), SUBPROTOCOL);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => this.handleOpen();
    ws.onmessage = (event) => this.handleMessage(event.data);
    ws.onclose = (event) => this.handleClose(event.code, event.reason);
    // An error event carries no detail and is always followed by close; close reports it.
    ws.onerror = () => {};
    this.ws = ws;
    this.update({ state: "connecting", message: "", retryAtMs: null, fatal: false });
  }

  handleOpen() {
    this.opened = true;
    this.update({ state: "open", code: null, reason: "" });
    this.emit("open");
  }

  handleMessage(data) {
    // After fail() the socket is closing; what still arrives would only fail again.
    if (this.clientReason !== null) return;
    if (!(data instanceof ArrayBuffer)) return this.fail("the server sent a text frame");
    this.bytesIn += data.byteLength;
    const tag = new Uint8Array(data)[0];
    if (!this.welcomed && tag !== ServerTag.WELCOME) {
      return this.fail(`expected Welcome first, got ${SERVER_MESSAGES[tag] ?? `message tag ${tag}`}`);
    }
    let message;
    try {
      message = decodeServerMessage(data, this.welcomed ? this.schema : null);
    } catch (error) {
      if (error instanceof VersionError) this.refusal = error.message;
      return this.fail(error instanceof VersionError ? error.message : `undecodable server message: ${error.message}`);
    }
    if (!this.welcomed) return this.handleWelcome(message);
    if (message.type === "Welcome") return this.fail("a second Welcome");
    if (message.type === "Pong") return this.handlePong(message);
    if (message.type === "Event") return this.emit("event", message.event, message.tick);
    if (message.type === "Notice") return this.emit("notice", message.text, message.tick);
    this.snapshots++;
    this.emit("message", message, this.now());
  }

  handleWelcome(welcome) {
    if (this.game !== null && welcome.schema.game !== this.game) {
      this.refusal = `the server runs the game "${welcome.schema.game}", this page plays "${this.game}"`;
      return this.fail(this.refusal);
    }
    this.welcomed = true;
    this.played = true;
    this.attempts = 0;
    this.welcome = welcome;
    this.resumeToken = welcome.resume_token === NO_RESUME_TOKEN ? null : welcome.resume_token;
    this.schema = new Schema(welcome.schema);
    // Pings start with the session, not the socket: nothing may come before the Welcome.
    this.pingTimer = setInterval(() => this.tickSecond(), PING_INTERVAL_MS);
    this.emit("welcome", welcome, this.schema);
    this.tickSecond();
    if (this.pendingRematch) this.reportRematch(this.pendingRematch);
  }

  reportRematch(rematch) {
    this.pendingRematch = null;
    this.rematches++;
    const where = rematch.process !== null && rematch.process === rematch.previousProcess ? "the same server" : "another server";
    const message = `server lost (${rematch.reason}): rejoined room ${rematch.room} on ${where}; the match state was reset`;
    this.update({ message });
    this.emit("rematch", rematch);
  }

  handlePong(pong) {
    const sentMs = this.pings.get(pong.id);
    if (sentMs === undefined) return;
    this.pings.delete(pong.id);
    const rttMs = this.now() - sentMs;
    this.update({ rttMs, clientsOnline: pong.clients });
    this.emit("pong", pong, rttMs);
  }

  // Once a second while welcomed: one ping, and the traffic rates over the second just gone.
  tickSecond() {
    const now = this.now();
    const seconds = (now - this.countersSinceMs) / 1000;
    if (seconds > 0) {
      this.update({ snapshotsPerSec: this.snapshots / seconds, kBytesPerSec: this.bytesIn / 1000 / seconds });
    }
    this.resetCounters();
    const id = this.nextPingId++;
    this.pings.set(id, now);
    if (this.pings.size > MAX_PINGS_IN_FLIGHT) this.pings.delete(this.pings.keys().next().value);
    this.send({ type: "Ping", id });
  }

  resetCounters() {
    this.snapshots = 0;
    this.bytesIn = 0;
    this.countersSinceMs = this.now();
  }

  handleClose(code, reason) {
    clearInterval(this.pingTimer);
    this.ws = null;
    const failed = !this.welcomed || this.clientReason !== null;
    const lost = this.lostServer(code, failed);
    if (lost) return this.rematch(code, reason, lost, failed);
    const refusal = this.refusal ?? REFUSALS.get(code);
    const resumeRefused = code === CloseCode.RESUME_REFUSED;
    if (failed && !resumeRefused) this.attempts++;
    let message = this.clientReason ? `closed by this page: ${this.clientReason}` : "";
    let retryAtMs = null;
    if (resumeRefused) {
      // The old session is gone for good: join again now, as a new player, and say so.
      this.resumeToken = null;
      message = "your session had expired: joining as a new player";
      retryAtMs = this.now();
      this.retryTimer = setTimeout(() => this.open(), 0);
    } else if (refusal) {
      message = `refused: ${refusal}`;
    } else if (this.attempts >= MAX_ATTEMPTS) {
      message = `gave up after ${this.attempts} failed attempts`;
    } else {
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, this.attempts - 1));
      const jittered = delay * (0.8 + 0.4 * Math.random());
      retryAtMs = this.now() + jittered;
      this.retryTimer = setTimeout(() => this.open(), jittered);
    }
    this.update({ state: "closed", code, reason, message, retryAtMs, fatal: retryAtMs === null, rttMs: null, clientsOnline: null });
    this.emit("close", this.status);
    if (this.authcheck && !this.opened && code === ABNORMAL_CLOSURE) this.explainFailure(tokenUrl(this.url, this.token));
  }

  // A socket that never opened may have been refused before the upgrade; the browser does
  // not say why, so ask the server. A refusal of these credentials stops the retries.
  async explainFailure(wsUrl) {
    let response;
    try {
      response = await this.fetchImpl(authcheckUrl(wsUrl), { cache: "no-store", credentials: "same-origin" });
    } catch {
      return; // the server is unreachable: the retries go on
    }
    if (!AUTH_REFUSALS.has(response.status) || wsUrl !== tokenUrl(this.url, this.token)) return;
    const reason = (await response.text()).trim().slice(0, MAX_REASON_CHARS);
    this.dispose("refused");
    this.update({ state: "closed", code: response.status, reason, message: `refused: ${reason}`, retryAtMs: null, fatal: true });
    this.emit("error", reason);
  }

  // With matchmaking: why the server this socket went to is lost for good (a reason for
  // the status line), or null. A resume that reached nobody counts; a first drop does not
  // (it is resumed on the same server first, which keeps the player's state).
  lostServer(code, failed) {
    if (!this.target.matchmake || this.clientReason !== null || this.refusal !== null) return null;
    if (REMATCH_ON.has(code)) return REMATCH_ON.get(code);
    if (this.resuming && failed) return "the server did not answer";
    // A placement's socket that never got its Welcome: its seat may be spent or stale.
    if (!this.welcomed) return "the server could not be reached";
    return null;
  }

  rematch(code, reason, lost, failed) {
    if (failed) this.attempts++;
    this.resumeToken = null;
    if (this.attempts >= MAX_ATTEMPTS) {
      const message = `gave up after ${this.attempts} failed attempts (${lost})`;
      this.update({ state: "closed", code, reason, message, retryAtMs: null, fatal: true, rttMs: null, clientsOnline: null });
      return this.emit("close", this.status);
    }
    // The first try at once (give or take the jitter); then backoff, as for any failure.
    const backoff = this.attempts <= 1 ? 0 : Math.min(MATCHMAKE_BACKOFF_MAX_MS, MATCHMAKE_BACKOFF_FIRST_MS * 2 ** (this.attempts - 2));
    const delay = backoff + Math.random() * REMATCH_JITTER_MS;
    this.retryTimer = setTimeout(() => this.place(lost), delay);
    const message = `${lost}: matchmaking again`;
    this.update({ state: "closed", code, reason, message, retryAtMs: this.now() + delay, fatal: false, rttMs: null, clientsOnline: null });
    this.emit("close", this.status);
  }

  // Detaches the current socket without letting its close event schedule a retry. A socket
  // still connecting is closed once open: closing it earlier makes the browser log an error.
  dispose(reason) {
    this.generation++;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onmessage = ws.onclose = ws.onerror = null;
    ws.onopen = () => ws.close(CloseCode.NORMAL, reason);
    if (ws.readyState !== this.WebSocketImpl.CONNECTING) ws.onopen();
  }

  update(changes) {
    Object.assign(this.status, changes);
    this.emit("status", this.status);
  }
}
