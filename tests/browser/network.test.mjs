// The demo page through `tickwire netsim` at a 100 ms round trip with ± 10 ms of jitter each
// way, five bots in its room: it connects, plays and stays correct. A short run of what
// benches/browser-netsim.mjs measures at length (tests/browser/netsim-page.mjs starts and
// stops its own server, netsim, bots and chromium). Correctness-level bounds only, loose
// enough for a busy 2-core machine: the smoothness figures are printed, not asserted.
//
//   cargo build --release && (cd tests/browser && npm ci) && node --test tests/browser/
//
// Env: TICKWIRE_BIN (the binary serving, proxying and running the bots, default
// target/release/tickwire), TICKWIRE_CHROMIUM (default /usr/bin/chromium).

import assert from "node:assert/strict";
import { test } from "node:test";
import { measure } from "./netsim-page.mjs";

test("the page plays through a jittery 100 ms link without freezing or jumping", { timeout: 90_000 }, async (t) => {
  // An arena wide enough that the page's player and the bots almost never collide (a
  // collision's push is not predicted), everyone in view of everyone.
  const serverArgs = ["--world-size", "400", "--view-radius", "400", "--orbs", "40"];
  const m = await measure("jitter", { seconds: 8, warmupS: 2, bots: 5, botPattern: "random-walk", seed: 3, serverArgs });
  t.diagnostic(JSON.stringify(m));
  const p = m.page;
  assert.deepEqual(m.consoleErrors, []);
  assert.ok(m.connected, "the page's socket stayed open");
  assert.ok(p.frames > 0 && p.remoteFrames > 0, `frames drawn, remote entities among them: ${JSON.stringify(p)}`);
  assert.ok(p.ticks > 0, "the server's tick went on");
  // Right and left in turn: the player went back and forth, several units each way.
  assert.ok(m.moved > 10, `the own player moved ${m.moved} units`);
  // A freeze is a frame past the newest snapshot by more than the bridging limit; ± 10 ms of
  // jitter never holds snapshots back that long, but a busy machine can stall the page (a
  // frame over 100 ms after the last), and then its snapshots wait too.
  const freezeBound = p.stalledFrames === 0 ? 0.05 : 0.25;
  assert.ok(p.remoteFreezeFrames <= Math.max(10, freezeBound * p.remoteFrames), `remote freeze frames: ${JSON.stringify(p)}`);
  // Every input the page predicted is applied once by the server: no correction beyond a
  // collision's push (bots share the arena).
  assert.ok(p.largestCorrection <= 1, `largest correction ${p.largestCorrection} units`);
});
