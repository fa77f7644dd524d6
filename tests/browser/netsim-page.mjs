// The demo page through `tickwire netsim`: what the network test (network.test.mjs) and the
// measurement script (benches/browser-netsim.mjs) share. Not a test file itself.
//
// `measure(condition, options)` starts a release (or TICKWIRE_BIN) server on a free loopback
// port, a `tickwire netsim` in front of it with the condition's link (none for loopback),
// `tickwire bots` through the same link into the page's room, and headless chromium on the
// page served through the proxy. The own player holds keys in a steady pattern (right and
// left in turn, `holdMs` each) while the page's `window.tickwireStats` and the server's
// /metrics (read directly, not through the link) are sampled at both ends of the window.
// Every process started is stopped before it returns, also on failure.
//
// The bots are idle by default (`botPattern`): they are remote players on the page and send
// no inputs, so the server's input figures over the window (ticks that applied no input
// while a client was active, inputs applied two in a tick, inputs dropped) are the page's own.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = path.resolve(REPO, process.env.TICKWIRE_BIN ?? "target/release/tickwire");
const CHROMIUM = process.env.TICKWIRE_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const STARTUP_TIMEOUT_MS = 15_000;
const WAIT_MS = 15_000;
const ROOM = "net";

/** The links measured: netsim flags, each direction. */
export const CONDITIONS = {
  loopback: null,
  delay: ["--delay", "50ms"],
  jitter: ["--delay", "50ms", "--jitter", "10ms"],
  loss: ["--delay", "50ms", "--loss", "0.01"],
};

/** Starts `BIN args`; resolves `address` from the first stdout line matching `pattern`. */
function start(args, pattern) {
  const child = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const address = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]}: no address within ${STARTUP_TIMEOUT_MS} ms: ${stdout}${stderr}`)), STARTUP_TIMEOUT_MS);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = stdout.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("error", (error) => reject(new Error(`cannot start ${BIN}: ${error.message}`)));
    exited.then(({ code, signal }) => reject(new Error(`${args[0]} exited (${code ?? signal}): ${stderr}`)));
  });
  address.catch(() => {});
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return { address, exited, stop, stdout: () => stdout, stderr: () => stderr };
}

/** The server's input counters, read from its /metrics. */
async function inputCounters(server) {
  const text = await (await fetch(`http://${server}/metrics`)).text();
  const value = (name) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(" ")[1]) : NaN;
  };
  return {
    active: value("tickwire_input_active_ticks_total"),
    starved: value("tickwire_input_starved_ticks_total"),
    multi: value("tickwire_input_multi_ticks_total"),
    applied: value("tickwire_inputs_applied_total"),
    overruns: value("tickwire_tick_overruns_total"),
    dropped: text.split("\n").filter((l) => l.startsWith("tickwire_inputs_dropped_total")).reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0),
  };
}

/**
 * Measures one condition. Options: `seconds` of held keys measured (after `warmupS` of the
 * same pattern), `bots` (count), `botPattern`, `holdMs` per direction, `seed` (netsim's),
 * `serverArgs` (the arena's flags). Returns {condition, page: window.tickwireStats over the
 * window (counters as differences), server: the page's input figures, moved (world units
 * the own player travelled, summed over frames sampled), consoleErrors, connected}.
 */
export async function measure(condition, {
  seconds = 10, warmupS = 3, bots = 5, botPattern = "idle", holdMs = 2_000, seed = 1,
  serverArgs = ["--world-size", "200", "--view-radius", "200"],
} = {}) {
  if (!(condition in CONDITIONS)) throw new Error(`unknown condition ${condition}`);
  const tmp = mkdtempSync(path.join(tmpdir(), "tickwire-netsim-page-"));
  const processes = [];
  let context = null;
  const consoleErrors = [];
  try {
    const server = start(["serve", "--bind", "127.0.0.1:0", ...serverArgs], /http:\/\/([0-9.]+:[0-9]+)\//);
    processes.push(server);
    const serverAddr = await server.address;
    let front = serverAddr;
    if (CONDITIONS[condition]) {
      const netsim = start(["netsim", "--listen", "127.0.0.1:0", "--upstream", serverAddr, "--seed", String(seed), ...CONDITIONS[condition]],
        /^netsim: http:\/\/([0-9.]+:[0-9]+)\//m);
      processes.push(netsim);
      front = await netsim.address;
    }
    const botSeconds = warmupS + seconds + 30;
    const botRun = start(["bots", "--url", `ws://${front}/ws`, "--metrics-url", `http://${serverAddr}/metrics`,
      "--clients", String(bots), "--duration", `${botSeconds}s`, "--ramp-up", "1s", "--pattern", botPattern,
      "--room", ROOM], /(never)/);
    processes.push(botRun);

    context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 720 }, timeout: WAIT_MS,
    });
    const page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
    await page.goto(`http://${front}/?name=page&room=${ROOM}`, { timeout: WAIT_MS });
    await page.waitForFunction(() => window.tickwire?.state === "open" && window.tickwire.selfServerPos !== null,
      null, { timeout: WAIT_MS, polling: 50 });

    const sample = () => page.evaluate(() => ({ stats: window.tickwireStats, tick: window.tickwire.tick, pos: window.tickwire.selfPredictedPos, state: window.tickwire.state }));
    const keys = ["ArrowRight", "ArrowLeft"];
    let moved = 0;
    let last = null;
    let first = null;
    let firstCounters = null;
    const holds = Math.ceil(((warmupS + seconds) * 1000) / holdMs);
    const warmupHolds = Math.round((warmupS * 1000) / holdMs);
    for (let i = 0; i < holds; i++) {
      if (i === warmupHolds) {
        first = await sample();
        firstCounters = await inputCounters(serverAddr);
        last = first.pos;
      }
      const key = keys[i % 2];
      await page.keyboard.down(key);
      // Sample the position a few times a hold, to sum how far the player went.
      for (let t = 0; t < holdMs; t += 250) {
        await page.waitForTimeout(Math.min(250, holdMs - t));
        if (first) {
          const { pos } = await sample();
          if (last && pos) moved += Math.hypot(pos.x - last.x, pos.y - last.y);
          last = pos;
        }
      }
      await page.keyboard.up(key);
    }
    const end = await sample();
    const endCounters = await inputCounters(serverAddr);
    const during = {};
    for (const [name, value] of Object.entries(end.stats)) {
      const counter = typeof value === "number" && !["worstSpeedError", "largestCorrection", "interpolationDelayMs", "targetDelayMs"].includes(name);
      during[name] = counter ? value - first.stats[name] : value;
    }
    during.ticks = end.tick - first.tick;
    // The client's largest correction counts from the connect: within the window it is the
    // end's if it grew, at most the start's if there were corrections, else none.
    const grew = end.stats.largestCorrection > first.stats.largestCorrection;
    during.largestCorrection = grew ? end.stats.largestCorrection : during.corrections > 0 ? first.stats.largestCorrection : 0;
    during.largestCorrectionBound = !grew && during.corrections > 0;
    const c = Object.fromEntries(Object.keys(endCounters).map((k) => [k, endCounters[k] - firstCounters[k]]));
    return {
      condition,
      connected: end.state === "open",
      page: during,
      server: {
        activeTicks: c.active,
        starvedShare: c.active > 0 ? c.starved / c.active : 0,
        multiShare: c.active > 0 ? c.multi / c.active : 0,
        applied: c.applied,
        dropped: c.dropped,
        overruns: c.overruns,
      },
      moved,
      consoleErrors,
    };
  } finally {
    await context?.close().catch(() => {});
    for (const p of processes.reverse()) await p.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A markdown table row of one measurement (see HEADER). */
export function row(m) {
  const p = m.page;
  const pct = (a, b) => (b > 0 ? `${((100 * a) / b).toFixed(1)} %` : "–");
  return `| ${m.condition} | ${pct(m.server.starvedShare, 1)} | ${pct(m.server.multiShare, 1)} | ${m.server.dropped} | ` +
    `${pct(p.corrections, p.ticks)} | ${p.largestCorrectionBound ? "≤ " : ""}${p.largestCorrection.toFixed(2)} | ${pct(p.steadyOffFrames, p.steadyFrames)} | ` +
    `${pct(p.steadyOffFrames - p.steadyOffCorrectedFrames, p.steadyFrames - p.steadyCorrectedFrames)} | ` +
    `${pct(p.remoteFreezeFrames, p.remoteFrames)} | ${pct(p.remoteExtrapolatedFrames, p.remoteFrames)} | ` +
    `${p.interpolationDelayMs?.toFixed(0) ?? "–"} ms | ${p.stalledFrames} of ${p.frames} | ${m.server.overruns} |`;
}

export const HEADER = [
  "| link | page's ticks without an input (key held) | two inputs in a tick | inputs dropped | snapshots correcting the own player | largest correction | steady frames > 10 % off speed | the same, leaving out frames blending a correction | remote freeze frames | remote bridged frames | interpolation delay | page stalls (frames > 100 ms) | server tick overruns |",
  "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
].join("\n");
