// Wires the demo together: keyboard -> input ticks -> World + Connection; Connection ->
// World; World -> Renderer and HUD on every display frame. No game logic lives here.

import { FixedRateLoop, InputTiming } from "./clock.js";
import { showConnection, showScoreboard, showStats } from "./hud.js";
import { Connection, socketUrl } from "./net.js";
import { BUTTON_BOOST } from "./protocol.js";
import { Renderer } from "./render.js";
import { World } from "./world.js";

/** DOM numbers are refreshed a few times a second; the canvas every frame. */
const HUD_REFRESH_MS = 250;
/** Closes remembered for the test hook, newest last. */
const MAX_CLOSES_REMEMBERED = 10;

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
const debugBox = document.getElementById("debug");
const closes = [];
let world = null;
let inputLoop = null;
let inputTiming = null;

const connection = new Connection({
  url: socketUrl(location, currentName()),
  onMessage: handleMessage,
  onStatus: handleStatus,
});

function currentName() {
  return new URLSearchParams(location.search).get("name") ?? "";
}

function handleMessage(message, nowMs) {
  if (message.type === "Welcome") {
    world = new World(message);
    inputLoop?.stop();
    inputLoop = new FixedRateLoop(message.tick_rate_hz, sendInput);
    inputTiming = new InputTiming(1000 / message.tick_rate_hz);
    inputLoop.start();
    return;
  }
  try {
    world.applySnapshot(message, nowMs);
    inputLoop?.steer(inputTiming.snapshot(nowMs, world.replica.lastInputSeq));
  } catch (error) {
    console.error("tickwire: snapshot rejected:", error);
    connection.fail(error.message);
  }
}

function handleStatus(status) {
  // Inputs belong to the World of one connection: a new socket gets a new World (and
  // seq 1) with its Welcome, so the old loop must not feed it.
  if (status.state !== "open") inputLoop?.stop();
  if (status.state === "closed") {
    closes.push({ code: status.code, reason: status.reason });
    if (closes.length > MAX_CLOSES_REMEMBERED) closes.shift();
  }
  showConnection(status, performance.now());
}

// One input per tick, every tick while connected: the server then applies exactly the
// inputs this page predicted, so prediction stays exact even while the player idles.
function sendInput(tickMs) {
  const input = world?.input(intent(), tickMs);
  if (!input) return;
  connection.send(input);
  inputTiming.sent(input.seq);
}

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
document.getElementById("name-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const url = new URL(location.href);
  url.searchParams.set("name", nameInput.value.trim());
  history.replaceState(null, "", url);
  nameInput.blur();
  connection.connect(socketUrl(location, currentName()));
});
document.getElementById("reconnect").addEventListener("click", () => connection.connect());

let lastHudMs = -Infinity;
function frame(nowMs) {
  inputLoop?.poll(nowMs);
  renderer.draw(world?.view(nowMs) ?? null, world?.welcome ?? null);
  if (nowMs - lastHudMs >= HUD_REFRESH_MS) {
    lastHudMs = nowMs;
    showConnection(connection.status, nowMs);
    showStats(connection.status, world);
    showScoreboard(world);
  }
  requestAnimationFrame(frame);
}

// Read-only view for tests and the console; positions in world units.
window.tickwire = Object.freeze({
  get state() { return connection.status.state; },
  get closeCode() { return connection.status.code; },
  get closeReason() { return connection.status.reason; },
  get closes() { return closes.map((c) => ({ ...c })); },
  get selfId() { return world?.selfId ?? null; },
  get tick() { return world?.ready ? world.replica.tick : null; },
  get selfServerPos() { return world?.serverPosition ?? null; },
  get selfPredictedPos() { return world?.predictedPosition ?? null; },
  get entityCount() { return world?.ready ? world.replica.entities.size : 0; },
  get players() { return world?.ready ? world.players.map(({ id, name, x, y }) => ({ id, name, x, y })) : []; },
});

connection.connect();
requestAnimationFrame(frame);
