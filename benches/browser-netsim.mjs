// The demo page in headless chromium through `tickwire netsim`, one condition after another:
// prints one table row per link of what the page drew (steady frames off the top speed,
// remote freeze frames, corrections of the own player) and of what the server did with the
// page's inputs. See tests/browser/netsim-page.mjs for how each run is set up.
//
//   cargo build --release && (cd tests/browser && npm ci) && node benches/browser-netsim.mjs
//
// Env: SECONDS (measured per condition, default 60), BOTS (default 20), BOT_PATTERN (default
// idle: the server's input figures are then the page's alone), CONDITIONS (subset of
// "loopback delay jitter loss"), SEED (netsim's, default 1), HOLD_MS (each direction's hold,
// default 2000), SERVER_FLAGS (added to the server's, e.g. --realtime-tick), TICKWIRE_BIN,
// TICKWIRE_CHROMIUM.

import { cpus, loadavg } from "node:os";
import { CONDITIONS, HEADER, measure, row } from "../tests/browser/netsim-page.mjs";

const seconds = Number(process.env.SECONDS ?? 60);
const bots = Number(process.env.BOTS ?? 20);
const botPattern = process.env.BOT_PATTERN ?? "idle";
const seed = Number(process.env.SEED ?? 1);
const holdMs = Number(process.env.HOLD_MS ?? 2000);
// The arena of every run, plus SERVER_FLAGS (e.g. --realtime-tick).
const serverArgs = ["--world-size", "200", "--view-radius", "200", ...(process.env.SERVER_FLAGS ?? "").split(/\s+/).filter(Boolean)];
const conditions = (process.env.CONDITIONS ?? Object.keys(CONDITIONS).join(" ")).split(/\s+/).filter(Boolean);

const rows = [];
for (const condition of conditions) {
  console.error(`browser-netsim: ${condition}, ${seconds} s of held keys, ${bots} ${botPattern} bots`);
  const m = await measure(condition, { seconds, bots, botPattern, seed, holdMs, serverArgs });
  console.error(JSON.stringify(m));
  rows.push(row(m));
}
console.log(`\n${bots} ${botPattern} bots in the page's room, ${seconds} s per condition, netsim seed ${seed}, ${holdMs} ms per direction, server ${serverArgs.join(" ")}, ` +
  `${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);
console.log(HEADER);
for (const r of rows) console.log(r);
