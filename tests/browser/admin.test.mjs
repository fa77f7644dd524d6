// The operator console in a real browser against the real server: refused without the
// token, it lists a room with bots in it once given the token, and a demo page kicked from
// the console's API shows the operator's reason and does not reconnect.
//
//   cargo build && (cd tests/browser && npm ci) && node --test tests/browser/admin.test.mjs
//
// Env: TICKWIRE_BIN (default target/debug/tickwire), TICKWIRE_CHROMIUM (default
// /usr/bin/chromium).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = path.resolve(REPO, process.env.TICKWIRE_BIN ?? "target/debug/tickwire");
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"];
const LISTEN_LINE = /http:\/\/([0-9.]+:[0-9]+)\//;
const WAIT_MS = 15_000;
const TOKEN = "browser-test-admin-token-0123456789";
const BOTS = 3;

const tmp = mkdtempSync(path.join(tmpdir(), "tickwire-admin-"));
const children = [];
let address;
let browser;

/** Starts `args` of the tickwire binary; resolves with the child and its output so far once
 *  the output matches `ready`. */
function start(args, ready) {
  const child = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tickwire ${args[0]} not ready: ${output}`)), WAIT_MS);
    const look = (chunk) => {
      output += chunk;
      const match = output.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.once("exit", (code, signal) => reject(new Error(`tickwire ${args[0]} exited (${code ?? signal}): ${output}`)));
  });
}

async function api(route, body) {
  const init = { headers: { Authorization: `Bearer ${TOKEN}` } };
  if (body !== undefined) Object.assign(init, { method: "POST", body: JSON.stringify(body) });
  const response = await fetch(`http://${address}/admin/api${route}`, init);
  assert.equal(response.status, 200, `${route}: ${await response.clone().text()}`);
  return response.json();
}

before(async () => {
  const tokenFile = path.join(tmp, "admin.token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const args = ["serve", "--bind", "127.0.0.1:0", "--admin-token-file", tokenFile, "--world-size", "60"];
  [, address] = await start(args, LISTEN_LINE);
  const bots = ["bots", "--url", `ws://${address}/ws`, "--room", "botroom", "--clients", String(BOTS), "--duration", "60s"];
  start(bots, /$^/).catch(() => {}); // runs until the test stops it
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  rmSync(tmp, { recursive: true, force: true });
});

test("the console is refused without the token and lists a room with bots once given it", { timeout: 40_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`http://${address}/admin`, { timeout: WAIT_MS });
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("refused"), null, { timeout: WAIT_MS });
  assert.equal(await page.isHidden("#console"), true);
  await page.fill("#token", "not-the-admin-token-at-all");
  await page.click("#login button");
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("refused"), null, { timeout: WAIT_MS });
  assert.equal(await page.isHidden("#console"), true, "a wrong token shows nothing");

  await page.fill("#token", TOKEN);
  await page.click("#login button");
  const players = (n) => {
    const row = document.querySelector('#rooms tr[data-room="botroom"]');
    return row !== null && Number(row.cells[1].textContent) >= n;
  };
  await page.waitForFunction(players, BOTS, { timeout: WAIT_MS, polling: 100 });
  assert.equal(await page.isVisible("#console"), true);
  await page.close();
});

test("a kicked demo page shows the operator's reason and stays closed", { timeout: 40_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`http://${address}/?room=kickroom&name=kickme`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.tickwire?.state === "open" && window.tickwire.tick !== null, null, { timeout: WAIT_MS });
  const { clients } = await api("/rooms/kickroom/clients");
  const me = clients.find((c) => c.name === "kickme");
  assert.ok(me, JSON.stringify(clients));
  const done = await api(`/rooms/kickroom/clients/${me.client_id}/kick`, { reason: "testing the console" });
  assert.equal(done.reason, "kicked by the operator: testing the console");
  await page.waitForFunction(() => window.tickwire.closeCode === 4009, null, { timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => window.tickwire.closeReason), "kicked by the operator: testing the console");
  await page.waitForFunction(() => document.getElementById("connection-text").textContent.includes("kicked by the operator: testing the console"), null, { timeout: WAIT_MS });
  // No reconnect: after a while the page is still closed with the same code.
  await page.waitForTimeout(1500);
  assert.deepEqual(await page.evaluate(() => [window.tickwire.state, window.tickwire.closeCode]), ["closed", 4009]);
  await page.close();
});
