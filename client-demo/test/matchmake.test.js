// Matchmaking in the client library: POST /matchmake, then the placement's socket; when
// that server is lost for good (4008, 1001, 4005 or 4007, or a resume that reaches nobody)
// the connection matchmakes again by itself, with backoff, and reports a "rematch" once it
// plays again. A fake WebSocket and a fake fetch; the test owns the timers.

import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { Connection, matchmake, MatchmakeError } from "../tickwire/connection.js";
import { ARENA_WELCOME_HEX, unhex } from "./fixtures/arena.js";

const WELCOME = unhex(ARENA_WELCOME_HEX).buffer;
const TOKEN = "00112233445566778899aabbccddeeff"; // the fixture Welcome's resume token

class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static made = [];

  constructor(url) {
    Object.assign(this, { url, readyState: 0, closedWith: null });
    FakeSocket.made.push(this);
  }

  send() {}

  close(code, reason) {
    this.closedWith = { code, reason };
  }

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

/** A matchmaker: answers the queued responses in order (the last one again when the
 *  queue runs dry), recording each request. */
class FakeMatchmaker {
  constructor(...answers) {
    this.answers = answers;
    this.requests = [];
  }

  fetch = async (url, init) => {
    this.requests.push({ url, method: init.method, body: JSON.parse(init.body), type: init.headers["content-type"] });
    const answer = this.answers.length > 1 ? this.answers.shift() : this.answers[0];
    if (answer instanceof Error) throw answer;
    return {
      ok: answer.status === 200,
      status: answer.status,
      json: async () => answer.body,
      text: async () => JSON.stringify(answer.body),
    };
  };
}

const placed = (process, room = "duel") => ({
  status: 200,
  body: { url: `ws://${process}:7000/ws?room=${room}&seat=s-${process}`, room, process },
});

let now;
const latest = () => FakeSocket.made.at(-1);

beforeEach(() => {
  now = 0;
  FakeSocket.made = [];
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
});

afterEach(() => mock.timers.reset());

/** Lets the fake fetch's promises settle (they are not timers). */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function advance(ms) {
  now += ms;
  mock.timers.tick(ms);
  await settle();
}

function connection(matchmaker) {
  const made = new Connection({
    matchmake: "http://any:8080/", room: "duel", name: "Zoë",
    WebSocketImpl: FakeSocket, fetchImpl: matchmaker.fetch, now: () => now,
  });
  made.rematched = [];
  made.on("rematch", (rematch) => made.rematched.push(rematch));
  return made;
}

/** The latest socket opens and gets its Welcome. */
function play() {
  latest().accept();
  latest().deliver(WELCOME);
}

test("matchmake() posts the room as JSON and returns the placement", async () => {
  const matchmaker = new FakeMatchmaker(placed("a"));
  const placement = await matchmake("https://game.example/", "duel", matchmaker.fetch);
  assert.equal(placement.url, "ws://a:7000/ws?room=duel&seat=s-a");
  assert.deepEqual(matchmaker.requests, [
    { url: "https://game.example/matchmake", method: "POST", body: { room: "duel" }, type: "application/json" },
  ]);
  await matchmake("https://game.example", "", matchmaker.fetch);
  assert.deepEqual(matchmaker.requests[1].body, {}, "no room: any room with space");
});

test("matchmake() failures carry the status, the server's reason and whether to retry", async () => {
  const full = new FakeMatchmaker({ status: 409, body: { error: "room duel is full (4 of 4)" } });
  const error = await matchmake("http://h", "duel", full.fetch).catch((e) => e);
  assert.ok(error instanceof MatchmakeError);
  assert.deepEqual([error.status, error.reason, error.final], [409, "room duel is full (4 of 4)", true]);
  const busy = new FakeMatchmaker({ status: 503, body: { error: "directory recovering" } });
  assert.equal((await matchmake("http://h", "duel", busy.fetch).catch((e) => e)).final, false);
  const down = new FakeMatchmaker(new TypeError("Failed to fetch"));
  const unreachable = await matchmake("http://h", "duel", down.fetch).catch((e) => e);
  assert.deepEqual([unreachable.status, unreachable.final], [0, false]);
  const odd = new FakeMatchmaker({ status: 200, body: { url: "http://not-a-socket" } });
  assert.match((await matchmake("http://h", "", odd.fetch).catch((e) => e)).message, /no ws:\/\//);
});

test("a matchmaking client connects to its placement, with its name", async () => {
  const matchmaker = new FakeMatchmaker(placed("a"));
  const client = connection(matchmaker);
  client.connect();
  assert.equal(client.status.state, "matchmaking");
  await settle();
  assert.equal(latest().url, "ws://a:7000/ws?room=duel&seat=s-a&name=Zo%C3%AB");
  play();
  assert.equal(client.ready, true);
  assert.deepEqual(client.rematched, [], "a first join is no rematch");
  assert.equal(client.status.message, "");
});

test("4008 (room lost) matchmakes again at once and reports the rematch", async () => {
  const matchmaker = new FakeMatchmaker(placed("a"), placed("b"));
  const client = connection(matchmaker);
  client.connect();
  await settle();
  play();
  latest().end(4008, "room lost: this room's server lost its ownership of it; matchmake again");
  assert.equal(client.status.fatal, false);
  assert.match(client.status.message, /lost the room: matchmaking again/);
  await advance(250);
  assert.equal(matchmaker.requests.length, 2);
  assert.equal(latest().url, "ws://b:7000/ws?room=duel&seat=s-b&name=Zo%C3%AB", "a new seat, no resume token");
  play();
  assert.deepEqual(client.rematched, [{ room: "duel", process: "b", previousProcess: "a", reason: "the server lost the room" }]);
  assert.match(client.status.message, /server lost .*: rejoined room duel on another server; the match state was reset/);
  assert.equal(client.rematches, 1);
});

test("a dropped session is resumed first; a resume that reaches nobody matchmakes again", async () => {
  const matchmaker = new FakeMatchmaker(placed("a"), placed("b"));
  const client = connection(matchmaker);
  client.connect();
  await settle();
  play();
  latest().end(1006); // the process was killed
  await advance(1300);
  assert.equal(latest().url, `ws://a:7000/ws?room=duel&seat=s-a&name=Zo%C3%AB&resume=${TOKEN}`, "tries its server first");
  assert.equal(matchmaker.requests.length, 1);
  latest().end(1006); // connection refused: nobody there
  await advance(250);
  assert.equal(matchmaker.requests.length, 2);
  assert.equal(latest().url, "ws://b:7000/ws?room=duel&seat=s-b&name=Zo%C3%AB");
  play();
  assert.equal(client.rematched.length, 1);
  assert.equal(client.rematched[0].reason, "the server did not answer");
});

test("4007 or 4005 after a drop is not final for a matchmaking client", async () => {
  for (const code of [4007, 4005]) {
    FakeSocket.made = [];
    const matchmaker = new FakeMatchmaker(placed("a"), placed("a"));
    const client = connection(matchmaker);
    client.connect();
    await settle();
    play();
    latest().end(1006);
    await advance(1300);
    latest().accept(); // the process came back, without the session
    latest().end(code, "refused");
    assert.equal(client.status.fatal, false, `${code} is not final`);
    await advance(250);
    assert.equal(matchmaker.requests.length, 2, `${code} matchmakes again`);
    play();
    assert.equal(client.rematched.length, 1);
    assert.match(client.status.message, /rejoined room duel on the same server/);
    client.close();
  }
});

test("1001 (a server shutting down) matchmakes again instead of knocking on its door", async () => {
  const matchmaker = new FakeMatchmaker(placed("a"), placed("c"));
  const client = connection(matchmaker);
  client.connect();
  await settle();
  play();
  latest().end(1001, "server shutting down");
  await advance(250);
  assert.equal(latest().url, "ws://c:7000/ws?room=duel&seat=s-c&name=Zo%C3%AB");
});

test("matchmaking failures are retried with growing delays; a final one stops", async () => {
  const busy = { status: 503, body: { error: "directory recovering" } };
  const matchmaker = new FakeMatchmaker(busy, busy, new TypeError("Failed to fetch"), placed("a"));
  const client = connection(matchmaker);
  client.connect();
  await settle();
  assert.equal(FakeSocket.made.length, 0);
  assert.match(client.status.message, /503 directory recovering: retrying/);
  assert.equal(client.status.fatal, false);
  const first = client.status.retryAtMs - now;
  assert.ok(first >= 200 && first <= 300, `first retry after ~250 ms, not ${first}`);
  await advance(300);
  const second = client.status.retryAtMs - now;
  assert.ok(second >= 400 && second <= 600, `then ~500 ms, not ${second}`);
  await advance(600);
  await advance(1200);
  assert.equal(matchmaker.requests.length, 4);
  assert.equal(FakeSocket.made.length, 1);
  play();
  assert.equal(client.ready, true);

  FakeSocket.made = [];
  const full = new FakeMatchmaker({ status: 409, body: { error: "room duel is full" } });
  const refused = connection(full);
  refused.connect();
  await settle();
  assert.equal(refused.status.fatal, true);
  assert.match(refused.status.message, /refused: POST \/matchmake: 409 room duel is full/);
  await advance(60_000);
  assert.equal(full.requests.length, 1, "no retry");
});

test("a lost server keeps being replaced, but the client gives up after its attempts", async () => {
  const matchmaker = new FakeMatchmaker(placed("a"));
  const client = connection(matchmaker);
  client.connect();
  await settle();
  play();
  latest().end(4008, "room lost");
  for (let i = 0; i < 12 && !client.status.fatal; i++) {
    await advance(10_000);
    latest().end(1006); // every placement's server is unreachable
  }
  assert.equal(client.status.fatal, true);
  assert.match(client.status.message, /gave up after 10 failed attempts/);
  const asked = matchmaker.requests.length;
  await advance(60_000);
  assert.equal(matchmaker.requests.length, asked, "no more requests");
});

test("connect() during a matchmake wins: the late answer is ignored", async () => {
  let answer;
  const slow = async () => new Promise((resolve) => { answer = resolve; });
  const client = new Connection({ matchmake: "http://h", room: "x", WebSocketImpl: FakeSocket, fetchImpl: slow, now: () => now });
  client.connect();
  await settle();
  client.connect("ws://direct/ws");
  assert.equal(latest().url, "ws://direct/ws");
  answer({ ok: true, status: 200, json: async () => placed("late").body });
  await settle();
  assert.equal(FakeSocket.made.length, 1, "the late placement opens nothing");
});

test("a client without matchmaking still treats 4007 as final", () => {
  const client = new Connection({ url: "ws://h/ws", WebSocketImpl: FakeSocket, now: () => now });
  client.connect();
  play();
  latest().end(4007, "seat refused");
  assert.equal(client.status.fatal, true);
});

test("a token goes to /matchmake and to the placement's socket; a refusal of it is final", async () => {
  const matchmaker = new FakeMatchmaker(placed("a"));
  const client = new Connection({
    matchmake: "http://any:8080", room: "duel", token: "j.w+t",
    WebSocketImpl: FakeSocket, fetchImpl: matchmaker.fetch, now: () => now,
  });
  client.connect();
  await settle();
  assert.equal(matchmaker.requests[0].url, "http://any:8080/matchmake?token=j.w%2Bt");
  assert.equal(latest().url, "ws://a:7000/ws?room=duel&seat=s-a&token=j.w%2Bt");

  const refusing = new FakeMatchmaker({ status: 401, body: { error: "token expired" } });
  const refused = new Connection({
    matchmake: "http://any:8080", room: "duel", token: "old",
    WebSocketImpl: FakeSocket, fetchImpl: refusing.fetch, now: () => now,
  });
  const errors = [];
  refused.on("error", (reason) => errors.push(reason));
  refused.connect();
  await settle();
  assert.deepEqual(errors, ["token expired"]);
  assert.equal(refused.status.fatal, true);
  await advance(10_000);
  assert.equal(refusing.requests.length, 1, "not retried");
});
