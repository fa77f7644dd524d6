// The TypeScript declarations (tickwire/*.d.ts) against the modules they declare: every
// module has its .d.ts, and each one declares exactly the values the module exports, no
// more, no fewer (tsc checks the types' use in test/types/; this checks they did not drift
// from the code). Type-only exports are not values and are not counted.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

const DIR = new URL("../tickwire/", import.meta.url);
const modules = readdirSync(DIR).filter((f) => f.endsWith(".js"));

// The value names a .d.ts exports: `export declare const|function|class NAME` and the names
// in `export { ... } from` (not `export type { ... }`).
function declaredValues(text) {
  const names = new Set();
  for (const [, name] of text.matchAll(/^export declare (?:const|function|class) (\w+)/gm)) names.add(name);
  for (const [, list] of text.matchAll(/^export \{([^}]*)\} from/gm)) {
    for (const name of list.split(",").map((n) => n.trim()).filter(Boolean)) names.add(name);
  }
  return [...names].sort();
}

for (const file of modules) {
  test(`${file.replace(".js", ".d.ts")} declares exactly what ${file} exports`, async () => {
    const text = readFileSync(new URL(file.replace(/\.js$/, ".d.ts"), DIR), "utf8");
    const exported = Object.keys(await import(new URL(file, DIR))).sort();
    assert.deepEqual(declaredValues(text), exported);
  });
}
