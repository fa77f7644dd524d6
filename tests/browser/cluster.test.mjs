// The demo page against two tickwire processes sharing one Redis directory: a page served by
// either process matchmakes and connects wherever its room lives, so pages that name the
// same room meet, whichever process served them; a page whose process is killed matchmakes
// again by itself, plays on the other process and says so.
//
//   cargo build && (cd tests/browser && npm ci) && node --test tests/browser/
//
// Needs `redis-server` (scripts/test installs it). Env: TICKWIRE_BIN (default
// target/debug/tickwire), TICKWIRE_CHROMIUM (default /usr/bin/chromium).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.TICKWIRE_BIN ?? path.join(REPO, "target/debug/tickwire");
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? "/usr/bin/chromium";
const WAIT_MS = 15_000;

const tmp = mkdtempSync(path.join(tmpdir(), "tickwire-cluster-"));
const children = [];
let browser;
let ports;
/** The tickwire process listening on each port. */
const processes = new Map();

/** A port free right now on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `command` and resolves once its output matches `ready`. */
function start(command, args, ready) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} not ready: ${output}`)), WAIT_MS);
    const look = (chunk) => {
      output += chunk;
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.once("error", (error) => reject(new Error(`cannot start ${command}: ${error.message}`)));
    child.once("exit", (code) => reject(new Error(`${command} exited (${code}): ${output}`)));
  });
}

before(async () => {
  const redisPort = await freePort();
  await start("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp], /Ready to accept connections/);
  ports = [await freePort(), await freePort()];
  for (const [k, port] of ports.entries()) {
    processes.set(port, await start(BIN, [
      "serve", "--bind", `127.0.0.1:${port}`, "--redis", `redis://127.0.0.1:${redisPort}`,
      "--public-url", `ws://127.0.0.1:${port}`, "--process-id", `p${k}`, "--world-size", "36",
      // Not the shortest timings: a 200 ms heartbeat misses its two-beat liveness window on a
      // machine busy with Chromium, and placement then sees one process only.
      "--heartbeat", "500ms", "--record-ttl", "2s",
    ], /serving http:\/\//));
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const child of children.reverse()) child.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

async function open(port, name, room) {
  const page = await browser.newPage();
  const errors = [];
  const sockets = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("websocket", (ws) => sockets.push(new URL(ws.url())));
  await page.goto(`http://127.0.0.1:${port}/?name=${name}&room=${room}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.tickwire?.state === "open" && window.tickwire.selfServerPos !== null, null, { timeout: WAIT_MS });
  return { page, errors, sockets };
}

test("pages served by either process meet in their room, wherever it lives", { timeout: 60_000 }, async () => {
  // Both rooms are new: the directory places each on a process, and a page served by the
  // other process is sent there (with a seat) rather than opening a second copy.
  const ada = await open(ports[0], "ada", "alpha");
  const bob = await open(ports[1], "bob", "alpha");
  const cy = await open(ports[1], "cy", "beta");
  const host = (pageInfo) => pageInfo.sockets.at(-1).port;
  assert.equal(host(bob), host(ada), "both alpha pages play on the process that hosts alpha");
  for (const p of [ada, bob, cy]) assert.ok(p.sockets.at(-1).searchParams.has("seat"), "placed through matchmaking");
  assert.notEqual(host(cy), host(ada), "a second new room goes to the other, emptier process");
  await ada.page.waitForFunction(() => window.tickwire.players.some((p) => p.name === "bob"), null, { timeout: WAIT_MS });
  await bob.page.waitForFunction(() => window.tickwire.players.some((p) => p.name === "ada"), null, { timeout: WAIT_MS });
  const names = await cy.page.evaluate(() => window.tickwire.players.map((p) => p.name));
  assert.deepEqual(names, ["cy"], "beta is apart from alpha");
  for (const p of [ada, bob, cy]) assert.deepEqual(p.errors, []);
});

test("a page whose process is killed finds its room on the other one and says so", { timeout: 60_000 }, async () => {
  const host = (pageInfo) => pageInfo.sockets.at(-1).port;
  // The page must be served by the process that survives: its matchmaking goes there.
  let page = await open(ports[0], "dee", "gamma");
  const doomed = Number(host(page));
  const survivor = ports.find((port) => port !== doomed);
  if (survivor !== ports[0]) {
    await page.page.close();
    page = await open(survivor, "dee", "gamma");
    assert.equal(Number(host(page)), doomed, "gamma is still open where it was");
  }
  const killedAt = Date.now();
  processes.get(doomed).kill("SIGKILL");
  await page.page.waitForFunction(
    (port) => window.tickwire.state === "open" && document.getElementById("connection-text").textContent.includes("rejoined"),
    survivor, { timeout: WAIT_MS },
  );
  console.log(`kill -9 to playing again: ${Date.now() - killedAt} ms (heartbeat 500 ms, record TTL 2 s)`);
  assert.equal(Number(host(page)), survivor, "playing on the survivor");
  const status = await page.page.evaluate(() => document.getElementById("connection-text").textContent);
  assert.match(status, /server lost .*: rejoined room gamma on another server; the match state was reset/);
  const feed = await page.page.evaluate(() => document.getElementById("feed").textContent);
  assert.match(feed, /server lost: rejoined room gamma on another server/);
  assert.ok(page.sockets.at(-1).searchParams.has("seat"), "placed through matchmaking again");
});
