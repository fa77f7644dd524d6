// The WebSocket: connect, handshake, decode, ping, report state, reconnect.
//
// Owns the socket and the session's first rules: nothing before the Welcome, the protocol
// version, the schema (and, if the page asks, the game's name). Events, in order of a life:
//   "status"  (status)            every change of `status` (state as the socket reports it)
//   "open"    ()                  the socket opened
//   "welcome" (welcome, schema)   the Welcome decoded; `schema` is the compiled Schema
//   "message" (message, nowMs)    every Full and Delta, decoded with the schema
//   "event"   (event, tick)       one of the game's events, in the order the server sent them
//   "pong"    (pong, rttMs)       an answer to one of this connection's pings
//   "error"   (reason)            the server broke the protocol (the socket closes with 4000),
//                                 or refused to let this client in (401, 403, 409: see below)
//   "close"   (status)            the socket closed: code, reason, and whether it retries
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
   * @param {string} options.url WebSocket URL (see socketUrl)
   * @param {string} [options.game] refuse a server whose schema names another game
   * @param {string} [options.token] identity token (a JWT) sent as `?token=`
   * @param {boolean} [options.authcheck] ask `GET /authcheck` why a socket failed before it
   *   opened (default: when a token is given; a page signed in by cookie sets it)
   */
  constructor({ url, game = null, token = null, authcheck = token !== null, WebSocketImpl = globalThis.WebSocket, fetchImpl = (...args) => globalThis.fetch(...args), now = () => performance.now() }) {
    super();
    this.url = url;
    this.game = game;
    this.token = token;
    this.authcheck = authcheck;
    this.fetchImpl = fetchImpl;
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

  /** Connects now, forgetting any earlier failures (first start, Reconnect, a new name). */
  connect(url = this.url) {
    this.url = url;
    this.attempts = 0;
    this.resumeToken = null;
    this.dispose("reconnecting");
    this.open();
  }

  /** Leaves on purpose: closes with 1000 and does not come back. */
  close(reason = "bye") {
    this.dispose(reason);
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
    this.snapshots++;
    this.emit("message", message, this.now());
  }

  handleWelcome(welcome) {
    if (this.game !== null && welcome.schema.game !== this.game) {
      this.refusal = `the server runs the game "${welcome.schema.game}", this page plays "${this.game}"`;
      return this.fail(this.refusal);
    }
    this.welcomed = true;
    this.attempts = 0;
    this.welcome = welcome;
    this.resumeToken = welcome.resume_token === NO_RESUME_TOKEN ? null : welcome.resume_token;
    this.schema = new Schema(welcome.schema);
    // Pings start with the session, not the socket: nothing may come before the Welcome.
    this.pingTimer = setInterval(() => this.tickSecond(), PING_INTERVAL_MS);
    this.emit("welcome", welcome, this.schema);
    this.tickSecond();
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
    const refusal = this.refusal ?? REFUSALS.get(code);
    const resumeRefused = code === CloseCode.RESUME_REFUSED;
    const failed = !this.welcomed || this.clientReason !== null;
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

  // Detaches the current socket without letting its close event schedule a retry. A socket
  // still connecting is closed once open: closing it earlier makes the browser log an error.
  dispose(reason) {
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
