// A token-protected join in a real browser.
//
// Starts `tickwire serve --jwt-secret-file FILE` on a free port and opens the demo page in
// Debian's chromium: with a valid HS256 token in its URL (`/?token=...`) the page joins and
// its player carries the token's name; without one, or with an expired one, it is refused
// before the upgrade, learns why from `GET /authcheck`, stops retrying and shows the
// server's reason. The tokens are signed here, with node's crypto, by the secret the server
// reads.
//
//   cargo build && (cd tests/browser && npm ci) && TICKWIRE_BIN=target/debug/tickwire node --test tests/browser/identity.test.mjs
//
// Env: TICKWIRE_BIN (server binary, default target/release/tickwire under the repo root),
// TICKWIRE_CHROMIUM (default /usr/bin/chromium).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = path.resolve(REPO, process.env.TICKWIRE_BIN ?? "target/release/tickwire");
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const LISTEN_LINE = /http:\/\/([0-9.]+:[0-9]+)\//;
const STARTUP_TIMEOUT_MS = 15_000;
const WAIT_MS = 10_000;
const SECRET = "browser-test-secret-0123456789";
// What chromium logs, as console errors, for a refused page: the failed handshake and the
// 401 of /authcheck. Expected on the refused pages, and only there.
const REFUSAL_NOISE = /^(WebSocket connection to 'ws:\/\/[^']+' failed|Failed to load resource: the server responded with a status of 401)/;

const tmp = mkdtempSync(path.join(tmpdir(), "tickwire-identity-"));
const consoleErrors = [];
let server;
let context;

const base64url = (data) => Buffer.from(data).toString("base64url");

/** An HS256 JWT of `claims`, signed with the server's secret. */
function jwt(claims) {
  const head = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = base64url(JSON.stringify(claims));
  const signature = createHmac("sha256", SECRET).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${signature}`;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function startServer(args) {
  const child = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const address = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line within ${STARTUP_TIMEOUT_MS} ms: ${stdout}${stderr}`)), STARTUP_TIMEOUT_MS);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = stdout.match(LISTEN_LINE);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("error", (error) => reject(new Error(`cannot start ${BIN}: ${error.message}`)));
    exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  return { child, exited, address };
}

async function openPage(label, query, { refused = false } = {}) {
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (refused && REFUSAL_NOISE.test(message.text())) return;
    consoleErrors.push(`${label}: console: ${message.text()}`);
  });
  page.on("pageerror", (error) => consoleErrors.push(`${label}: page error: ${error.message}`));
  await page.goto(`http://${await server.address}/${query}`, { timeout: WAIT_MS });
  return page;
}

async function waitFor(page, predicate) {
  try {
    await page.waitForFunction(predicate, null, { timeout: WAIT_MS, polling: 50 });
  } catch (error) {
    const shown = await page.evaluate(() => JSON.stringify({
      state: window.tickwire?.state, code: window.tickwire?.closeCode, message: window.tickwire?.message,
    })).catch((e) => `unavailable (${e.message})`);
    error.message += `\npage ${page.url()}: ${shown}\nconsole errors: ${JSON.stringify(consoleErrors)}`;
    throw error;
  }
}

before(async () => {
  const secretFile = path.join(tmp, "jwt-secret");
  writeFileSync(secretFile, `${SECRET}\n`); // the trailing newline an editor adds is dropped
  server = startServer(["serve", "--bind", "127.0.0.1:0", "--world-size", "36", "--jwt-secret-file", secretFile, "--jwt-audience", "arena"]);
  await server.address;
  context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: WAIT_MS,
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  rmSync(tmp, { recursive: true, force: true });
});

test("a page with a valid token in its URL joins as the token's user", { timeout: 30_000 }, async () => {
  const token = jwt({ sub: "user-41", name: "Grace", aud: "arena", exp: nowSeconds() + 600 });
  const page = await openPage("grace", `?name=mallory&token=${token}`);
  await waitFor(page, () => window.tickwire?.state === "open" && window.tickwire.selfServerPos !== null);
  const { selfId, players } = await page.evaluate(() => ({ selfId: window.tickwire.selfId, players: window.tickwire.players }));
  assert.ok(players.some((p) => p.id === selfId && p.name === "Grace"), JSON.stringify(players));
  assert.deepEqual(consoleErrors, []);
  await page.close();
});

test("a page without a token, or with an expired one, is refused with the reason", { timeout: 30_000 }, async () => {
  const expired = jwt({ sub: "user-41", aud: "arena", exp: nowSeconds() - 3600 });
  for (const [query, reason] of [["?name=anon", /^a token is required/], [`?token=${expired}`, /^token expired$/]]) {
    const page = await openPage(query, query, { refused: true });
    await waitFor(page, () => window.tickwire?.closeCode === 401);
    const shown = await page.evaluate(() => ({ state: window.tickwire.state, reason: window.tickwire.closeReason, message: window.tickwire.message, feed: window.tickwire.feed }));
    assert.equal(shown.state, "closed");
    assert.match(shown.reason, reason);
    assert.equal(shown.message, `refused: ${shown.reason}`);
    assert.ok(shown.feed.some((line) => line.notice === `not joined: ${shown.reason}`), JSON.stringify(shown.feed));
    // Refused for good: no retry follows.
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.tickwire.state), "closed");
    await page.close();
  }
  assert.deepEqual(consoleErrors, []);
});
