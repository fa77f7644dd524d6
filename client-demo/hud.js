// The DOM around the canvas: connection state, traffic numbers, the scoreboard and the
// banner shown when the page stops retrying. Reads what it is given; owns no state.

const SCOREBOARD_SIZE = 8;

const $ = (id) => document.getElementById(id);

/** One line for the connection, as the socket's events reported it. */
function describeConnection(status, nowMs) {
  if (status.state === "connecting") return "connecting…";
  if (status.state === "matchmaking") return status.message ? `matchmaking… · ${status.message}` : "matchmaking…";
  // Open with a message: rejoined through matchmaking after a server was lost.
  if (status.state === "open") return status.message ? `open · ${status.message}` : "open";
  let text = status.code === null ? "closed" : `closed ${status.code}`;
  if (status.reason) text += ` “${status.reason}”`;
  if (status.message) text += ` · ${status.message}`;
  if (status.retryAtMs !== null) {
    text += ` · retrying in ${Math.max(0, (status.retryAtMs - nowMs) / 1000).toFixed(1)} s`;
  }
  return text;
}

/** The room joined, and the picker's choices from `GET /rooms` (null when unknown). */
export function showRooms(current, list) {
  $("room-name").textContent = current;
  if (!list) return;
  $("room-count").textContent = `${list.rooms.length} room${list.rooms.length === 1 ? "" : "s"} open`;
  const options = list.rooms.map((room) => {
    const option = document.createElement("option");
    option.value = room.name;
    option.label = `${room.players}/${room.capacity} players`;
    return option;
  });
  $("room-list").replaceChildren(...options);
}

export function showConnection(status, nowMs) {
  $("connection").dataset.state = status.state;
  document.body.dataset.connection = status.state;
  $("connection-text").textContent = describeConnection(status, nowMs);
  $("banner").hidden = !status.fatal;
  if (status.fatal) $("banner-text").textContent = `Disconnected (${status.code}): ${status.message}`;
}

/** Traffic and world numbers; `tick` and `players` (those in view) are null before the
 *  first snapshot. */
export function showStats(status, tick, players) {
  const open = status.state === "open";
  $("stat-rtt").textContent = open && status.rttMs !== null ? `${status.rttMs.toFixed(1)} ms` : "–";
  $("stat-snapshots").textContent = open ? status.snapshotsPerSec.toFixed(0) : "–";
  $("stat-bytes").textContent = open ? status.kBytesPerSec.toFixed(2) : "–";
  $("stat-online").textContent = open && status.clientsOnline !== null ? String(status.clientsOnline) : "–";
  $("stat-players").textContent = players ? String(players.length) : "–";
  $("stat-tick").textContent = tick === null ? "–" : String(tick);
}

/** The best players among those this client sees (highest score first, or null before
 *  the first snapshot); the own player is always listed. */
export function showScoreboard(players, selfId) {
  const list = $("scores");
  if (!players) {
    list.replaceChildren();
    return;
  }
  const top = players.slice(0, SCOREBOARD_SIZE);
  const self = players.find((p) => p.id === selfId);
  if (self && !top.includes(self)) top[top.length - 1] = self;
  list.replaceChildren(...top.map((p) => row(p, players.indexOf(p) + 1, p.id === selfId)));
}

function row(player, rank, isSelf) {
  const li = document.createElement("li");
  li.className = isSelf ? "self" : "";
  const place = document.createElement("span");
  place.className = "rank";
  place.textContent = String(rank);
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  swatch.style.background = `rgb(${player.color.join(",")})`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = player.name;
  const score = document.createElement("span");
  score.className = "score";
  score.textContent = String(player.score);
  li.append(place, swatch, who, score);
  return li;
}
