// The operator console: polls the admin API (docs/operations.md) with the token the operator
// typed (kept in this tab's sessionStorage), draws the tables and two charts, and sends kicks
// and room closes. Plain ES module, no build step, no library.

const POLL_MS = 1000;
const TOKEN_KEY = "tickwire-admin-token";
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY) ?? "";
let selectedRoom = null;

/** Calls the admin API; throws an Error carrying the server's reason on any non-2xx. */
async function api(path, body) {
  const init = { headers: { Authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/admin/api${path}`, init);
  if (!response.ok) {
    const reason = (await response.text()).trim();
    throw Object.assign(new Error(`${response.status}: ${reason}`), { status: response.status });
  }
  return response.json();
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function cell(row, value) {
  const td = row.insertCell();
  td.textContent = value === null || value === undefined ? "–" : String(value);
  return td;
}

function button(row, label, onClick) {
  const b = document.createElement("button");
  b.textContent = label;
  b.addEventListener("click", onClick);
  row.insertCell().append(b);
}

const fixed = (x, digits = 1) => (x === null || x === undefined ? null : x.toFixed(digits));

function drawRooms(list) {
  const body = $("rooms").tBodies[0];
  body.replaceChildren();
  for (const room of list.rooms) {
    const row = body.insertRow();
    row.dataset.room = room.name;
    if (room.name === selectedRoom) row.className = "selected";
    const name = cell(row, room.name);
    name.style.cursor = "pointer";
    name.addEventListener("click", () => { selectedRoom = room.name; refresh(); });
    for (const value of [room.players, room.waiting, room.capacity, room.uptime_seconds,
      fixed(room.tick_ms_p50, 2), fixed(room.tick_ms_p99, 2), fixed(room.lateness_ms_p99, 2),
      Math.round(room.bytes_per_second)]) cell(row, value);
    button(row, "notice", () => notice(room.name));
    button(row, "close", () => act(`/rooms/${encodeURIComponent(room.name)}/close`, `close room ${room.name}`));
  }
}

function drawClients(answer) {
  $("clients-title").textContent = answer ? `Clients of ${answer.room}` : "Clients (pick a room)";
  const body = $("clients").tBodies[0];
  body.replaceChildren();
  for (const client of answer?.clients ?? []) {
    const row = body.insertRow();
    for (const value of [client.client_id, client.name, client.user_id, client.entity,
      fixed(client.rtt_ms), fixed(client.input_lead_ms), client.lag_ticks, client.bytes,
      fixed(client.snapshots_per_second)]) cell(row, value);
    const path = `/rooms/${encodeURIComponent(answer.room)}/clients/${client.client_id}/kick`;
    button(row, "kick", () => act(path, `kick client ${client.client_id}`));
  }
}

function drawCloses(answer) {
  const body = $("closes").tBodies[0];
  body.replaceChildren();
  for (const close of answer.closes.slice(0, 20)) {
    const row = body.insertRow();
    for (const value of [new Date(close.at_unix_ms).toLocaleTimeString(), close.client_id,
      close.code, close.reason]) cell(row, value);
  }
}

/** A line chart of `values` on `canvas`, scaled to its largest value. */
function chart(canvas, values) {
  const g = canvas.getContext("2d");
  const { width, height } = canvas;
  g.clearRect(0, 0, width, height);
  const top = Math.max(1, ...values);
  g.fillStyle = "#666";
  g.fillText(String(Math.round(top)), 4, 12);
  g.strokeStyle = "#2a6fdb";
  g.beginPath();
  values.forEach((v, i) => {
    const x = values.length < 2 ? 0 : (i / (values.length - 1)) * width;
    const y = height - 2 - (v / top) * (height - 16);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}

async function act(path, what) {
  const reason = prompt(`Reason to ${what} (shown to the players):`, "");
  if (reason === null) return;
  try {
    const done = await api(path, { reason });
    setStatus(`${what}: ${done.closed} closed with “${done.reason}”`);
  } catch (error) {
    setStatus(`${what} failed: ${error.message}`, true);
  }
  refresh();
}

// Asks even without a token: the server's 401 is what tells the operator to give one.
async function notice(room) {
  const text = prompt(`Notice to everyone in room ${room}:`, "");
  if (!text) return;
  try {
    const done = await api(`/rooms/${encodeURIComponent(room)}/notice`, { text });
    setStatus(`notice sent to ${done.sent} clients of ${room}`);
  } catch (error) {
    setStatus(`notice to ${room} failed: ${error.message}`, true);
  }
}

async function refresh() {
  try {
    const [rooms, closes, series] = await Promise.all([api("/rooms"), api("/closes"), api("/series")]);
    if (selectedRoom === null && rooms.rooms.length > 0) selectedRoom = rooms.rooms[0].name;
    const clients = selectedRoom === null ? null
      : await api(`/rooms/${encodeURIComponent(selectedRoom)}/clients`).catch(() => null);
    $("console").hidden = false;
    drawRooms(rooms);
    drawClients(clients);
    drawCloses(closes);
    chart($("chart-ticks"), series.samples.map((s) => s.ticks_per_second));
    chart($("chart-clients"), series.samples.map((s) => s.clients));
    if ($("status").className !== "error" || !$("status").textContent.includes("failed")) setStatus("");
  } catch (error) {
    $("console").hidden = true;
    setStatus(error.status === 401 ? "refused: wrong or missing admin token" : `error: ${error.message}`, true);
  }
}

$("drain").addEventListener("click", async () => {
  if (!confirm("Drain: refuse new players here and shut down once the last one leaves?")) return;
  try {
    const done = await api("/drain", {});
    setStatus(`draining: ${done.clients} clients still connected; the server stops when none is left`);
  } catch (error) {
    setStatus(`drain failed: ${error.message}`, true);
  }
});

$("token").value = token;
$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  refresh();
});
setInterval(refresh, POLL_MS);
refresh();

// For tests and the browser console.
window.tickwireAdmin = { refresh, get token() { return token; } };
