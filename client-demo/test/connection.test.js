// The socket's life: URL, handshake order, version and game checks, pings, refusals and
// reconnect backoff, against a fake WebSocket with the test owning the timers.

import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { authcheckUrl, CLIENT_PROTOCOL_ERROR, Connection, fetchRooms, socketUrl } from "../tickwire/connection.js";
import { decodeClientMessage } from "../tickwire/protocol.js";
import { Schema } from "../tickwire/schema.js";
import { ARENA_SCHEMA, ARENA_WELCOME_HEX, unhex } from "./fixtures/arena.js";

const schema = new Schema(ARENA_SCHEMA);
const WELCOME = unhex(ARENA_WELCOME_HEX).buffer;
const DELTA = Uint8Array.of(2, 1, 8, 0).buffer;
const PONG = Uint8Array.of(3, 252, 0, 0x28, 0x6b, 0xee, 42, 5).buffer; // id 4000000000
const IDLE = { move_x: 0, move_y: 0, buttons: 0 };

/** Records what the page does with its socket; the test plays the server. */
class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static made = [];

  constructor(url, protocol) {
    Object.assign(this, { url, protocol, readyState: 0, sent: [], closedWith: null });
    FakeSocket.made.push(this);
  }

  send(bytes) {
    this.sent.push(decodeClientMessage(bytes, schema));
  }

  close(code, reason) {
    this.closedWith = { code, reason };
  }

  // Server side.
  accept() {
    this.readyState = FakeSocket.OPEN;
    this.onopen();
  }

  deliver(buffer) {
    this.onmessage({ data: buffer.slice(0) });
  }

  end(code, reason = "") {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

let now;
let received;

function connect(options = {}) {
  received = [];
  const connection = new Connection({ url: "ws://host/ws", WebSocketImpl: FakeSocket, now: () => now, ...options });
  connection.on("welcome", (welcome) => received.push(welcome.type));
  connection.on("message", (message) => received.push(message.type));
  connection.connect();
  return connection;
}

const latest = () => FakeSocket.made.at(-1);

beforeEach(() => {
  now = 0;
  FakeSocket.made = [];
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
});

afterEach(() => mock.timers.reset());

function advance(ms) {
  now += ms;
  mock.timers.tick(ms);
}

test("the URL follows the page's scheme and host and carries the name", () => {
  assert.equal(socketUrl({ protocol: "http:", host: "127.0.0.1:8080" }, ""), "ws://127.0.0.1:8080/ws");
  assert.equal(socketUrl({ protocol: "https:", host: "game.example" }, "Zoë & co"), "wss://game.example/ws?name=Zo%C3%AB%20%26%20co");
});

test("the URL carries the room when there is one", () => {
  const page = { protocol: "http:", host: "h:1" };
  assert.equal(socketUrl(page, "ada", "/ws", { room: "duel-7" }), "ws://h:1/ws?name=ada&room=duel-7");
  assert.equal(socketUrl(page, "", "/ws", { room: "duel-7" }), "ws://h:1/ws?room=duel-7");
  assert.equal(socketUrl(page, "ada", "/ws", { room: "" }), "ws://h:1/ws?name=ada");
});

test("the room list is read from GET /rooms of the page's host", async () => {
  const list = { rooms: [{ name: "lobby", players: 2, capacity: 8, tick_rate_hz: 30, uptime_seconds: 1 }], max_rooms: 4 };
  const asked = [];
  const fetchImpl = async (url) => { asked.push(url); return { ok: true, json: async () => list }; };
  assert.deepEqual(await fetchRooms({ protocol: "https:", host: "game.example" }, fetchImpl), list);
  assert.deepEqual(asked, ["https://game.example/rooms"]);
  const failing = async () => ({ ok: false, status: 503 });
  await assert.rejects(fetchRooms({ protocol: "http:", host: "h" }, failing), /503/);
});


test("it offers the subprotocol and follows the socket's events", () => {
  const connection = connect();
  assert.equal(latest().protocol, "tickwire.v2");
  assert.equal(latest().binaryType, "arraybuffer");
  assert.equal(connection.status.state, "connecting");
  latest().accept();
  assert.equal(connection.status.state, "open");
  latest().deliver(WELCOME);
  latest().deliver(DELTA);
  assert.deepEqual(received, ["Welcome", "Delta"]);
});

test("pings start after the Welcome, once a second, and measure RTT", () => {
  const connection = connect();
  latest().accept();
  advance(3000);
  assert.deepEqual(latest().sent, [], "nothing is sent before the Welcome");
  latest().deliver(WELCOME);
  advance(1000);
  advance(1000);
  assert.deepEqual(latest().sent.map((m) => m.id), [1, 2, 3]);
  // The golden pong answers id 4000000000, which was never sent: ignored.
  latest().deliver(PONG);
  assert.equal(connection.status.rttMs, null);
  assert.deepEqual(received, ["Welcome"], "pongs are not handed on");
  // Ping 2 went out 1000 ms ago; its pong (tick 7, 12 players online) gives the RTT.
  latest().deliver(Uint8Array.of(3, 2, 7, 12).buffer);
  assert.equal(connection.status.rttMs, 1000);
  assert.equal(connection.status.clientsOnline, 12);
});

test("nothing is sent before the Welcome of the socket it would go to", () => {
  const connection = connect();
  latest().accept();
  latest().deliver(WELCOME);
  connection.connect("ws://host/ws?name=new"); // a new socket: a new session
  latest().accept();
  connection.send({ type: "Input", seq: 90, input: IDLE });
  assert.deepEqual(latest().sent, []);
  latest().deliver(WELCOME);
  connection.send({ type: "Input", seq: 1, input: IDLE });
  assert.deepEqual(latest().sent.map((m) => m.type), ["Ping", "Input"]);
});

test("anything before the Welcome is a protocol error, closed with 4000", () => {
  const connection = connect();
  latest().accept();
  latest().deliver(DELTA);
  assert.equal(latest().closedWith.code, CLIENT_PROTOCOL_ERROR);
  latest().deliver(WELCOME);
  assert.deepEqual(received, [], "nothing is handed on after the failure");
  latest().end(CLIENT_PROTOCOL_ERROR, latest().closedWith.reason);
  assert.match(connection.status.message, /expected Welcome first/);
  assert.equal(connection.status.fatal, false, "the spec says reconnect");
});

test("an unknown protocol version is refused for good", () => {
  const connection = connect();
  latest().accept();
  const future = new Uint8Array(WELCOME.slice(0));
  future[1] = 3; // protocol_version
  latest().deliver(future.buffer);
  latest().end(CLIENT_PROTOCOL_ERROR, latest().closedWith.reason);
  assert.equal(connection.status.fatal, true);
  assert.match(connection.status.message, /protocol version 3/);
  advance(60_000);
  assert.equal(FakeSocket.made.length, 1, "no retry");
});

for (const [code, words] of [[1013, /full/], [1008, /input rules/], [1007, /decode/], [1003, /text frame/], [1009, /too big/], [4003, /room is full/], [4004, /no room for another room/]]) {
  test(`close ${code} is a refusal: a message and no retry`, () => {
    const connection = connect();
    latest().accept();
    latest().end(code, "why");
    assert.deepEqual([connection.status.state, connection.status.code, connection.status.reason], ["closed", code, "why"]);
    assert.equal(connection.status.fatal, true);
    assert.match(connection.status.message, words);
    advance(60_000);
    assert.equal(FakeSocket.made.length, 1);
  });
}

test("an unexpected close reconnects with growing delays, then gives up", () => {
  const connection = connect();
  latest().accept();
  latest().deliver(WELCOME);
  latest().end(1001, "server shutting down");
  assert.deepEqual([connection.status.code, connection.status.reason], [1001, "server shutting down"]);
  const delays = [];
  for (;;) {
    const retryIn = connection.status.retryAtMs - now;
    if (connection.status.fatal) break;
    delays.push(retryIn);
    advance(Math.ceil(retryIn));
    assert.equal(connection.status.state, "connecting");
    latest().end(1006); // the server is still down
  }
  assert.ok(delays[0] >= 800 && delays[0] <= 1200, `first delay ${delays[0]}`);
  assert.ok(delays.at(-1) >= 6400 && delays.at(-1) <= 9600, `last delay ${delays.at(-1)}`);
  assert.ok(delays.length >= 5 && delays.length <= 12, `${delays.length} attempts`);
  assert.match(connection.status.message, /gave up/);
});

test("connect() starts over: the old socket is closed quietly and failures forgotten", () => {
  const connection = connect();
  const first = latest();
  first.accept();
  connection.connect("ws://host/ws?name=new");
  assert.equal(first.closedWith.code, 1000);
  assert.equal(first.onclose, null);
  assert.equal(latest().url, "ws://host/ws?name=new");
  assert.equal(connection.status.state, "connecting");

  // A socket still connecting is closed as soon as it opens, and says nothing.
  const second = latest();
  connection.connect("ws://host/ws?name=newer");
  assert.equal(second.closedWith, null);
  second.accept();
  assert.equal(second.closedWith.code, 1000);
  assert.equal(connection.status.state, "connecting");
});

test("a page for one game refuses a server running another, for good", () => {
  const connection = connect({ game: "cursors" });
  latest().accept();
  latest().deliver(WELCOME);
  assert.equal(latest().closedWith.code, CLIENT_PROTOCOL_ERROR);
  latest().end(CLIENT_PROTOCOL_ERROR, latest().closedWith.reason);
  assert.match(connection.status.message, /runs the game "arena", this page plays "cursors"/);
  assert.equal(connection.status.fatal, true);
});

test("the welcome comes with the compiled schema; inputs are encoded with it", () => {
  const connection = connect({ game: "arena" });
  let got = null;
  connection.on("welcome", (welcome, compiled) => (got = { welcome, compiled }));
  latest().accept();
  latest().deliver(WELCOME);
  assert.equal(got.welcome.entity_id, 300);
  assert.equal(got.compiled.component("Position").id, 0);
  assert.throws(() => connection.send({ type: "Input", seq: 1, input: { move_x: 300, move_y: 0, buttons: 0 } }), RangeError);
  assert.ok(connection.send({ type: "Input", seq: 1, input: { move_x: -5, move_y: 0, buttons: 1 } }));
  assert.deepEqual(latest().sent.at(-1), { type: "Input", seq: 1, input: { move_x: -5, move_y: 0, buttons: 1 } });
});

test("a snapshot that does not decode with the schema is a protocol error; error and close are reported", () => {
  const connection = connect();
  const events = [];
  connection.on("error", (reason) => events.push(["error", reason]));
  connection.on("close", (status) => events.push(["close", status.code]));
  latest().accept();
  latest().deliver(WELCOME);
  latest().deliver(Uint8Array.of(2, 1, 8, 1, 0x19, 1).buffer); // cop 21: no component 7
  latest().end(CLIENT_PROTOCOL_ERROR, latest().closedWith.reason);
  assert.match(events[0][1], /undecodable server message: .*component id 7/);
  assert.deepEqual(events[1], ["close", CLIENT_PROTOCOL_ERROR]);
  assert.equal(connection.status.fatal, false);
});

test("close() leaves with 1000 and does not come back", () => {
  const connection = connect();
  const socket = latest();
  socket.accept();
  latest().deliver(WELCOME);
  connection.close("leaving");
  assert.deepEqual(socket.closedWith, { code: 1000, reason: "leaving" });
  advance(60_000);
  assert.equal(FakeSocket.made.length, 1);
  assert.equal(connection.status.state, "closed");
});

test("a dropped session reconnects with its resume token; a refused token joins afresh", () => {
  const connection = connect();
  const events = [];
  connection.on("event", (event, tick) => events.push([event, tick]));
  assert.equal(latest().url, "ws://host/ws", "the first connection has no token");
  latest().accept();
  latest().deliver(WELCOME);
  assert.equal(connection.resumeToken, "00112233445566778899aabbccddeeff");
  // An event, decoded with the schema: tag 4, tick 42, Milestone {name "bob", score 50}.
  latest().deliver(Uint8Array.of(4, 42, 4, 3, 0x62, 0x6f, 0x62, 50).buffer);
  assert.deepEqual(events, [[{ Milestone: { name: "bob", score: 50 } }, 42]]);

  latest().end(1006);
  advance(10_000);
  assert.equal(FakeSocket.made.length, 2);
  assert.equal(latest().url, "ws://host/ws?resume=00112233445566778899aabbccddeeff");

  // The server refuses the token: the next attempt joins as a new player, at once.
  latest().accept();
  latest().end(4005, "resume token unknown, already used, or its window passed");
  assert.match(connection.status.message, /session had expired/);
  assert.equal(connection.status.fatal, false);
  advance(0);
  assert.equal(FakeSocket.made.length, 3);
  assert.equal(latest().url, "ws://host/ws", "no token any more");
});

test("a session taken over by another connection is not retried", () => {
  const connection = connect();
  latest().accept();
  latest().deliver(WELCOME);
  latest().end(4006, "this session was resumed on a newer connection");
  advance(60_000);
  assert.equal(FakeSocket.made.length, 1);
  assert.equal(connection.status.fatal, true);
  assert.match(connection.status.message, /resumed elsewhere/);
});

test("a game message is sent with the schema", () => {
  const connection = connect();
  latest().accept();
  latest().deliver(WELCOME);
  assert.equal(connection.send({ type: "Message", message: { Chat: { text: "hi" } } }), true);
  assert.deepEqual(latest().sent.at(-1), { type: "Message", message: { Chat: { text: "hi" } } });
});

test("a token is sent as ?token=, encoded, beside the resume token", () => {
  const connection = connect({ token: "a.b+c/d" });
  assert.equal(latest().url, "ws://host/ws?token=a.b%2Bc%2Fd");
  latest().accept();
  latest().deliver(WELCOME);
  latest().end(1006);
  advance(connection.status.retryAtMs - now + 1);
  assert.match(latest().url, /^ws:\/\/host\/ws\?token=a\.b%2Bc%2Fd&resume=[0-9a-f]{32}$/);
  assert.equal(authcheckUrl("wss://h:1/ws?room=r&token=t"), "https://h:1/authcheck?room=r&token=t");
});

/** A fetch that answers `status` and `body`, recording the URLs asked. */
function answering(status, body) {
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    return { status, text: async () => body };
  };
  return { asked, fetchImpl };
}

test("a token refused before the upgrade is explained by /authcheck and not retried", async () => {
  const { asked, fetchImpl } = answering(401, "token expired\n");
  const connection = connect({ url: "ws://host/ws?room=r", token: "t", fetchImpl });
  const errors = [];
  connection.on("error", (reason) => errors.push(reason));
  latest().end(1006); // the browser's word for a refused upgrade
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(asked, ["http://host/authcheck?room=r&token=t"]);
  assert.deepEqual(errors, ["token expired"]);
  assert.equal(connection.status.code, 401);
  assert.equal(connection.status.message, "refused: token expired");
  assert.ok(connection.status.fatal);
  const made = FakeSocket.made.length;
  advance(60_000);
  assert.equal(FakeSocket.made.length, made, "no retry");
});

test("a failure /authcheck does not call a refusal is retried as before", async () => {
  const { fetchImpl } = answering(200, '{"user_id":"ada"}');
  const connection = connect({ token: "t", fetchImpl });
  const errors = [];
  connection.on("error", (reason) => errors.push(reason));
  latest().end(1006);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, []);
  assert.equal(connection.status.fatal, false);
  const made = FakeSocket.made.length;
  advance(connection.status.retryAtMs - now + 1);
  assert.equal(FakeSocket.made.length, made + 1, "retried");
});
