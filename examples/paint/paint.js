// The paint example's page: input mapping and drawing only. Everything else (connection,
// schema, replica, input timing, interpolation) is the tickwire client library's.

import { Client, socketUrl } from "./tickwire/index.js";

const CELL_PX = 18;
const CURSOR_SCALE = 16;
const canvas = document.getElementById("canvas");
const ctx = canvas.getContext("2d");
const mouse = { x: 0, y: 0, down: false };

const params = new URLSearchParams(location.search);
const client = new Client({
  // `?sheet=N` (1 to 63) paints on a private sheet only its painters see.
  url: socketUrl(location, params.get("name") ?? `painter-${Math.floor(Math.random() * 1000)}`, "/ws", {
    sheet: params.get("sheet"),
  }),
  game: "paint",
  // One input per tick: the cursor in 1/16 of a cell, and the button.
  input: () => ({ x: mouse.x, y: mouse.y, down: mouse.down }),
  interpolation: { component: "Cursor" },
});

client.on("welcome", (welcome) => {
  canvas.width = welcome.game.width * CELL_PX;
  canvas.height = welcome.game.height * CELL_PX;
});
client.on("status", (status) => {
  const text = status.state === "open" ? `connected, ${status.rttMs ?? "–"} ms` : `${status.state} ${status.reason ?? ""}`;
  document.getElementById("status").textContent = text;
});

function track(event) {
  const box = canvas.getBoundingClientRect();
  const game = client.welcome?.game;
  if (!game) return;
  const clamp = (v, max) => Math.max(0, Math.min(max, Math.round(v)));
  mouse.x = clamp(((event.clientX - box.left) / CELL_PX) * CURSOR_SCALE, game.width * CURSOR_SCALE);
  mouse.y = clamp(((event.clientY - box.top) / CELL_PX) * CURSOR_SCALE, game.height * CURSOR_SCALE);
}
canvas.addEventListener("pointermove", track);
canvas.addEventListener("pointerdown", (e) => { track(e); mouse.down = true; });
window.addEventListener("pointerup", () => { mouse.down = false; });

const css = ([r, g, b]) => `rgb(${r}, ${g}, ${b})`;

function draw(view) {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  let strokes = 0;
  for (const entity of client.replica.entities.values()) {
    if (entity.has("Cell")) {
      const cell = entity.get("Cell");
      ctx.fillStyle = css(cell.color);
      ctx.fillRect(cell.x * CELL_PX, cell.y * CELL_PX, CELL_PX, CELL_PX);
    } else if (entity.has("Canvas")) {
      strokes = entity.get("Canvas").strokes;
    }
  }
  const cursors = view.entities.filter(({ entity }) => entity.has("Painter"));
  if (view.own) cursors.push({ entity: view.own.entity, value: view.own.entity.get("Cursor") });
  for (const { entity, value } of cursors) {
    const painter = entity.get("Painter");
    const [x, y] = [value.x * CELL_PX, value.y * CELL_PX];
    ctx.strokeStyle = css(painter.color);
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(x, y, 7, 0, Math.PI * 2);
    ctx.stroke();
    // Brush is an enum component: "Lifted", or {Painting: {x, y}} over the cell it paints.
    const brush = entity.has("Brush") ? entity.get("Brush") : "Lifted";
    if (brush !== "Lifted") {
      ctx.fillStyle = css(painter.color);
      ctx.fill();
    }
    ctx.fillStyle = "#222";
    ctx.fillText(painter.name, x + 10, y - 8);
  }
  document.getElementById("strokes").textContent = `${strokes} strokes`;
}

function frame(now) {
  client.frame(now);
  const view = client.view(now);
  if (view) draw(view);
  requestAnimationFrame(frame);
}

client.connect();
requestAnimationFrame(frame);
