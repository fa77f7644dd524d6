// The WebSocket: connect, decode, ping, report state, reconnect.
//
// Owns the socket and nothing else: decoded messages go to `onMessage`, every state
// change (as the socket's own open/error/close events report it) to `onStatus`. The game
// lives in world.js; this file knows only the protocol's framing, handshake and close codes.

import {
  CloseCode,
  decodeServerMessage,
  encodeClientMessage,
  PROTOCOL_VERSION,
  SUBPROTOCOL,
} from "./protocol.js";

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

/** Close code this client sends when the server's bytes do not make sense (protocol
 *  section 5: fatal, reconnect). Browsers only let a page send 1000 or 3000-4999; 4000 is
 *  the first private code, next to the server's own 4001. */
export const CLIENT_PROTOCOL_ERROR = 4000;

// Closes that mean "do not come back like this": retrying cannot help, so the page says
// why and waits for the user. 1013 (full) is included: hammering a full server makes it
// worse, and the Reconnect button is one click away.
const REFUSALS = new Map([
  [CloseCode.UNSUPPORTED_DATA, "the server refused a text frame"],
  [CloseCode.INVALID_PAYLOAD, "the server could not decode a message from this client"],
  [CloseCode.POLICY_VIOLATION, "the server says this client broke the input rules"],
  [CloseCode.MESSAGE_TOO_BIG, "this client sent a message that is too big"],
  [CloseCode.TRY_AGAIN_LATER, "the server is full, try again later"],
]);

/** The WebSocket URL for this page: same host, ws or wss following the page's scheme. */
export function socketUrl(location, name) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = name ? `?name=${encodeURIComponent(name)}` : "";
  return `${scheme}//${location.host}/ws${query}`;
}

export class Connection {
  /**
   * @param {object} options
   * @param {string} options.url WebSocket URL (see socketUrl)
   * @param {(message: object, nowMs: number) => void} options.onMessage every server message but Pong
   * @param {(status: object) => void} options.onStatus called on every change of `status`
   */
  constructor({ url, onMessage, onStatus, WebSocketImpl = globalThis.WebSocket, now = () => performance.now() }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.WebSocketImpl = WebSocketImpl;
    this.now = now;
    this.ws = null;
    this.attempts = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    /** What the HUD shows; `state` follows the socket's events. */
    this.status = {
      state: "closed", code: null, reason: "", message: "", retryAtMs: null, fatal: false,
      rttMs: null, playersOnline: null, snapshotsPerSec: 0, kBytesPerSec: 0,
    };
  }

  /** Connects now, forgetting any earlier failures (first start, Reconnect, a new name). */
  connect(url = this.url) {
    this.url = url;
    this.attempts = 0;
    this.dispose("reconnecting");
    this.open();
  }

  /** Sends a ClientMessage object; dropped unless the session is up (open and welcomed). */
  send(message) {
    if (this.welcomed && this.ws?.readyState === this.WebSocketImpl.OPEN) this.ws.send(encodeClientMessage(message));
  }

  /** The server sent something this client cannot use: close, then reconnect with backoff. */
  fail(reason) {
    this.clientReason = reason;
    this.ws?.close(CLIENT_PROTOCOL_ERROR, reason.slice(0, 120));
  }

  open() {
    clearTimeout(this.retryTimer);
    this.welcomed = false;
    this.clientReason = null;
    this.refusal = null;
    this.pings = new Map();
    this.nextPingId = 1;
    this.resetCounters();
    const ws = new this.WebSocketImpl(this.url, SUBPROTOCOL);
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
    this.update({ state: "open", code: null, reason: "" });
  }

  handleMessage(data) {
    // After fail() the socket is closing; what still arrives would only fail again.
    if (this.clientReason !== null) return;
    if (!(data instanceof ArrayBuffer)) return this.fail("the server sent a text frame");
    this.bytesIn += data.byteLength;
    let message;
    try {
      message = decodeServerMessage(data);
    } catch (error) {
      return this.fail(`undecodable server message: ${error.message}`);
    }
    if (!this.welcomed) {
      if (message.type !== "Welcome") return this.fail(`expected Welcome first, got ${message.type}`);
      if (message.protocol_version !== PROTOCOL_VERSION) {
        this.refusal = `the server speaks protocol version ${message.protocol_version}, this page speaks ${PROTOCOL_VERSION}`;
        return this.fail(this.refusal);
      }
      this.welcomed = true;
      this.attempts = 0;
      // Pings start with the session, not the socket: nothing may come before the Welcome.
      this.pingTimer = setInterval(() => this.tickSecond(), PING_INTERVAL_MS);
      this.tickSecond();
    }
    if (message.type === "Pong") return this.handlePong(message);
    if (message.type === "Full" || message.type === "Delta") this.snapshots++;
    this.onMessage(message, this.now());
  }

  handlePong(pong) {
    const sentMs = this.pings.get(pong.id);
    if (sentMs === undefined) return;
    this.pings.delete(pong.id);
    this.update({ rttMs: this.now() - sentMs, playersOnline: pong.players });
  }

  // Once a second while open: one ping, and the traffic rates over the second just gone.
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
    const failed = !this.welcomed || this.clientReason !== null;
    if (failed) this.attempts++;
    let message = this.clientReason ? `closed by this page: ${this.clientReason}` : "";
    let retryAtMs = null;
    if (refusal) {
      message = `refused: ${refusal}`;
    } else if (this.attempts >= MAX_ATTEMPTS) {
      message = `gave up after ${this.attempts} failed attempts`;
    } else {
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, this.attempts - 1));
      const jittered = delay * (0.8 + 0.4 * Math.random());
      retryAtMs = this.now() + jittered;
      this.retryTimer = setTimeout(() => this.open(), jittered);
    }
    this.update({ state: "closed", code, reason, message, retryAtMs, fatal: retryAtMs === null, rttMs: null, playersOnline: null });
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
    ws.onopen = () => ws.close(1000, reason);
    if (ws.readyState !== this.WebSocketImpl.CONNECTING) ws.onopen();
  }

  update(changes) {
    Object.assign(this.status, changes);
    this.onStatus(this.status);
  }
}
