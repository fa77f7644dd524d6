// Wires the arena page: keyboard -> the game's input; the tickwire Client -> Renderer and
// HUD on every display frame; the room's events -> the feed, and the chat box -> messages; the name and room boxes and Reconnect -> the connection; the
// room list (GET /rooms) -> the room picker. The room is in the page's URL (`?room=`), so a
// shared link joins the same match. No protocol and no game rules live here: those are in
// tickwire/ and arena.js.

import { arenaClient, BUTTON_BOOST, ownMotion, players, scene } from "./arena.js";
import { FrameStats } from "./frame-stats.js";
import { showConnection, showRooms, showScoreboard, showStats } from "./hud.js";
import { Renderer } from "./render.js";
import { fetchRooms, socketUrl } from "./tickwire/index.js";

/** DOM numbers are refreshed a few times a second; the canvas every frame. */
const HUD_REFRESH_MS = 250;
/** Closes remembered for the test hook, newest last. */
const MAX_CLOSES_REMEMBERED = 10;
/** How often the room picker's list is refreshed from GET /rooms. */
const ROOMS_REFRESH_MS = 5000;
/** The room the server puts a client in when its URL names none. */
const DEFAULT_ROOM = "lobby";
/** Lines the event feed keeps. */
const MAX_FEED_LINES = 8;

const KEYS = {
  up: ["KeyW", "ArrowUp"],
  down: ["KeyS", "ArrowDown"],
  left: ["KeyA", "ArrowLeft"],
  right: ["KeyD", "ArrowRight"],
  boost: ["Space", "ShiftLeft", "ShiftRight"],
};
const GAME_KEYS = new Set(Object.values(KEYS).flat());

const held = new Set();
const renderer = new Renderer(document.getElementById("view"));
const nameInput = document.getElementById("name");
const roomInput = document.getElementById("room");
const debugBox = document.getElementById("debug");
const closes = [];
const feed = [];
const feedList = document.getElementById("feed");
const chatInput = document.getElementById("chat-input");
const frameStats = new FrameStats();

// A page opened with `?token=` (a JWT from the studio's sign-in) joins with it.
const client = arenaClient(pageSocketUrl(), intent, new URLSearchParams(location.search).get("token"));
client.on("status", (status) => showConnection(status, performance.now()));
client.on("close", (status) => {
  closes.push({ code: status.code, reason: status.reason });
  if (closes.length > MAX_CLOSES_REMEMBERED) closes.shift();
});
client.on("event", (event) => showEvent(event));
client.on("error", (reason) => addLine({ notice: `not joined: ${reason}` }));
client.on("notice", (text) => addLine({ notice: `operator: ${text}` }));
client.on("welcome", (welcome) => {
  const resumed = resumedFrom !== null && welcome.entity_id === resumedFrom && !client.connection.pendingRematch;
  if (resumed) addLine({ notice: "reconnected: your player is back" });
  resumedFrom = welcome.entity_id;
});
let resumedFrom = null;
// A server was lost and matchmaking placed this page again: say so in the feed (the status
// line says it too).
client.on("rematch", (rematch) => {
  const where = rematch.process === rematch.previousProcess ? "the same server" : "another server";
  addLine({ notice: `server lost: rejoined room ${rematch.room} on ${where}; the match state was reset` });
});

// The arena's events as feed lines. Text goes in with textContent: names and chat come from
// other players.
function showEvent(event) {
  const [kind, value] = typeof event === "string" ? [event, null] : Object.entries(event)[0];
  if (kind === "Chat") return addLine({ who: value.from, text: value.text });
  if (kind === "Joined") return addLine({ notice: `${value.name} joined` });
  if (kind === "Left") return addLine({ notice: `${value.name} left` });
  if (kind === "Returned") return addLine({ notice: `${value.name} is back` });
  if (kind === "Milestone") return addLine({ notice: `${value.name} reached ${value.score}` });
}

function addLine(line) {
  feed.push(line);
  if (feed.length > MAX_FEED_LINES) feed.shift();
  const item = document.createElement("li");
  if (line.notice) {
    item.className = "notice";
    item.textContent = line.notice;
  } else {
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = `${line.who}: `;
    item.append(who, document.createTextNode(line.text));
  }
  feedList.append(item);
  while (feedList.children.length > MAX_FEED_LINES) feedList.firstElementChild.remove();
}

function currentName() {
  return new URLSearchParams(location.search).get("name") ?? "";
}

function currentRoom() {
  return new URLSearchParams(location.search).get("room") ?? "";
}

function pageSocketUrl() {
  return socketUrl(location, currentName(), "/ws", { room: currentRoom() });
}

// A clustered server (GET /rooms says "cluster": true) places the client through
// POST /matchmake, which names the process hosting the room and a single-use seat for it;
// the client library does it, and does it again by itself if that process is lost.
async function connectToRoom() {
  try {
    rooms = await fetchRooms(location);
  } catch {
    // no list: connect as a server alone expects
  }
  if (rooms?.cluster) {
    client.connect({ matchmake: `${location.protocol}//${location.host}`, room: currentRoom(), name: currentName() });
  } else {
    client.connect(pageSocketUrl());
  }
}

let rooms = null;
async function refreshRooms() {
  try {
    rooms = await fetchRooms(location);
  } catch {
    rooms = null; // the list is a convenience: joining by name works without it
  }
  showRooms(currentRoom() || DEFAULT_ROOM, rooms);
}

// The arena's input mapping: the keys held now, as {move_x, move_y, buttons}.
function intent() {
  const axis = (minus, plus) => (plus.some((k) => held.has(k)) ? 1 : 0) - (minus.some((k) => held.has(k)) ? 1 : 0);
  return {
    move_x: 127 * axis(KEYS.left, KEYS.right),
    move_y: 127 * axis(KEYS.up, KEYS.down),
    buttons: KEYS.boost.some((k) => held.has(k)) ? BUTTON_BOOST : 0,
  };
}

function typingIn(event) {
  return event.target instanceof HTMLInputElement && event.target.type === "text";
}

window.addEventListener("keydown", (event) => {
  if (event.code === "Enter" && !typingIn(event)) {
    event.preventDefault();
    held.clear();
    chatInput.focus();
    return;
  }
  if (event.code === "Escape" && event.target === chatInput) return chatInput.blur();
  if (event.code === "F3") {
    event.preventDefault();
    debugBox.checked = !debugBox.checked;
    renderer.debug = debugBox.checked;
    return;
  }
  if (typingIn(event) || !GAME_KEYS.has(event.code)) return;
  event.preventDefault();
  held.add(event.code);
});
window.addEventListener("keyup", (event) => held.delete(event.code));
window.addEventListener("blur", () => held.clear());
debugBox.addEventListener("change", () => (renderer.debug = debugBox.checked));

nameInput.value = currentName();
roomInput.value = currentRoom();
document.getElementById("name-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const url = new URL(location.href);
  url.searchParams.set("name", nameInput.value.trim());
  const room = roomInput.value.trim();
  if (room && room !== DEFAULT_ROOM) url.searchParams.set("room", room);
  else url.searchParams.delete("room");
  history.replaceState(null, "", url);
  nameInput.blur();
  roomInput.blur();
  connectToRoom();
  refreshRooms();
});
roomInput.addEventListener("focus", refreshRooms);
document.getElementById("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = chatInput.value.trim();
  if (!text) return chatInput.blur();
  try {
    if (client.send({ Chat: { text } })) chatInput.value = "";
  } catch (error) {
    addLine({ notice: `not sent: ${error.message}` });
  }
});
document.getElementById("reconnect").addEventListener("click", () => client.connect());

let lastHudMs = -Infinity;
function frame(nowMs) {
  client.frame(nowMs);
  const view = scene(client, nowMs);
  frameStats.frame(nowMs, view?.self ?? null, ownMotion(client, intent()), client.stats?.corrections);
  renderer.draw(view, client.welcome?.game ?? null, renderer.debug ? frameStats.lines(client.stats) : null);
  if (nowMs - lastHudMs >= HUD_REFRESH_MS) {
    lastHudMs = nowMs;
    const replica = client.replica;
    const list = replica ? players(replica) : null;
    showConnection(client.status, nowMs);
    showStats(client.status, replica?.tick ?? null, list);
    showScoreboard(list, client.welcome?.entity_id);
  }
  requestAnimationFrame(frame);
}

// A view for tests and the console (positions in world units), and one test action: dropping
// the socket as a network would (code 3000, not a goodbye), to watch the session resume.
const ownPosition = () => client.replica?.own?.get("Position") ?? null;
window.tickwire = Object.freeze({
  get state() { return client.status.state; },
  get closeCode() { return client.status.code; },
  get closeReason() { return client.status.reason; },
  get message() { return client.status.message; },
  get closes() { return closes.map((c) => ({ ...c })); },
  get selfId() { return client.welcome?.entity_id ?? null; },
  get tick() { return client.replica?.tick ?? null; },
  get selfServerPos() { return ownPosition(); },
  get selfPredictedPos() { return client.predicted ? { ...client.predicted.Position } : null; },
  get entityCount() { return client.replica?.entities.size ?? 0; },
  get players() { return players(client.replica).map(({ id, name, x, y }) => ({ id, name, x, y })); },
  get schema() { return client.schema?.raw ?? null; },
  get room() { return currentRoom() || DEFAULT_ROOM; },
  get rooms() { return rooms?.rooms.map((r) => ({ ...r })) ?? null; },
  get feed() { return feed.map((line) => ({ ...line })); },
  get selfScore() { return client.replica?.own?.get("Score") ?? null; },
  dropSocket() { client.connection.ws?.close(3000, "dropped by the test hook"); },
});

// Per-frame smoothness figures (FrameStats.snapshot), for the browser test and F3.
Object.defineProperty(window, "tickwireStats", { get: () => frameStats.snapshot(client.stats) });

connectToRoom();
refreshRooms();
setInterval(refreshRooms, ROOMS_REFRESH_MS);
requestAnimationFrame(frame);
