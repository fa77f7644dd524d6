// Golden vectors: every tests/vectors/*.json decodes to its `message`, client messages
// re-encode to the same bytes, and every entry of invalid.json is refused.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import {
  DecodeError,
  decodeClientMessage,
  decodeServerMessage,
  encodeClientMessage,
} from "../protocol.js";

const VECTORS_DIR = new URL("../../tests/vectors/", import.meta.url);

function load(name) {
  return JSON.parse(readFileSync(new URL(name, VECTORS_DIR), "utf8"));
}

function unhex(hex) {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => parseInt(byte, 16));
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// serde's externally tagged JSON ({"Delta": {...}}) to protocol.js's form ({type: "Delta",
// ...}). A one-key object whose key is a capitalised name is a variant; unit variants
// ("Player") are strings in both forms.
function fromSerde(value) {
  if (Array.isArray(value)) return value.map(fromSerde);
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && /^[A-Z]/.test(keys[0])) {
    return { type: keys[0], ...fromSerde(value[keys[0]]) };
  }
  return Object.fromEntries(keys.map((k) => [k, fromSerde(value[k])]));
}

const vectorFiles = readdirSync(VECTORS_DIR).filter((f) => f.endsWith(".json") && f !== "invalid.json");

test("the vectors directory holds both directions", () => {
  const directions = new Set(vectorFiles.map((f) => load(f).direction));
  assert.deepEqual([...directions].sort(), ["client_to_server", "server_to_client"]);
});

for (const file of vectorFiles) {
  const vector = load(file);
  test(`vector ${vector.name} decodes to its message`, () => {
    const decode = vector.direction === "server_to_client" ? decodeServerMessage : decodeClientMessage;
    assert.deepEqual(decode(unhex(vector.hex)), fromSerde(vector.message));
  });
  if (vector.direction === "client_to_server") {
    test(`vector ${vector.name} re-encodes to the same bytes`, () => {
      assert.equal(hex(encodeClientMessage(fromSerde(vector.message))), vector.hex);
    });
  }
}

for (const invalid of load("invalid.json")) {
  test(`invalid ${invalid.name} is refused (${invalid.reason})`, () => {
    const decode = invalid.direction === "server_to_client" ? decodeServerMessage : decodeClientMessage;
    assert.throws(() => decode(unhex(invalid.hex)), DecodeError);
  });
}
