// Golden vectors (tests/vectors/*.json, written by the Rust test): every vector decodes,
// with the arena schema from welcome.json, to its "message"; client messages re-encode to
// the same bytes; every entry of invalid.json is refused. The format is docs/protocol.md's
// last section. While the files still hold v1 vectors (no "schema" in welcome.json) these
// tests are skipped; test/protocol.test.js covers the same ground with hand-made bytes.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { DecodeError } from "../tickwire/bincode.js";
import { decodeClientMessage, decodeServerMessage, encodeClientMessage } from "../tickwire/protocol.js";
import { Schema } from "../tickwire/schema.js";
import { typeKind } from "../tickwire/types.js";
import { hex, unhex } from "./fixtures/arena.js";

// TICKWIRE_VECTORS_DIR points the test at another directory (to try vectors before they land).
const VECTORS_DIR = process.env.TICKWIRE_VECTORS_DIR
  ? pathToFileURL(`${process.env.TICKWIRE_VECTORS_DIR}/`)
  : new URL("../../tests/vectors/", import.meta.url);
const load = (name) => JSON.parse(readFileSync(new URL(name, VECTORS_DIR), "utf8"));

const welcomeVector = load("welcome.json");
const isV2 = welcomeVector.message?.type === "Welcome" && "schema" in welcomeVector.message;
const skip = isV2 ? false : "tests/vectors/ still holds v1 vectors (no schema in welcome.json)";

// JSON prints an f32 in its shortest decimal form (0.1), which as a JS number is not the
// f32 the decoder returns; round expected values through the type they were written as.
function normalize(value, type) {
  const kind = typeKind(type);
  if (kind === "F32") return Math.fround(value);
  if (value === null) return null;
  if (kind === "Option") return normalize(value, type.Option);
  if (kind === "Seq") return value.map((v) => normalize(v, type.Seq));
  if (kind === "Tuple") return value.map((v, i) => normalize(v, type.Tuple[i]));
  if (kind === "Struct") return Object.fromEntries(type.Struct.fields.map((f) => [f.name, normalize(value[f.name], f.ty)]));
  return value;
}

function normalizeSchema(raw) {
  const components = raw.components.map((c) => (c.codec.Quantized
    ? { ...c, codec: { Quantized: c.codec.Quantized.map((q) => ({ ...q, scale: Math.fround(q.scale) })) } }
    : c));
  return { ...raw, components };
}

function normalizeChange(change, schema) {
  if (!("set" in change)) return change;
  const info = schema.components[change.component];
  return info.quantized ? change : { ...change, set: normalize(change.set, info.type) };
}

function normalizeMessage(message, schema) {
  switch (message.type) {
    case "Welcome":
      return { ...message, schema: normalizeSchema(message.schema), game: normalize(message.game, message.schema.welcome) };
    case "Input":
      return { ...message, input: normalize(message.input, schema.raw.input) };
    case "Full":
    case "Delta":
      return { ...message, ops: message.ops.map((op) => normalizeOp(op, schema)) };
    default:
      return message;
  }
}

function normalizeOp(op, schema) {
  if (op.op === "Spawn") {
    return { ...op, components: op.components.map((c) => {
      const info = schema.components[c.component];
      return info.quantized ? c : { ...c, value: normalize(c.value, info.type) };
    }) };
  }
  if (op.changes) return { ...op, changes: op.changes.map((c) => normalizeChange(c, schema)) };
  return op;
}

const schema = isV2 ? new Schema(normalizeSchema(welcomeVector.message.schema)) : null;
const files = readdirSync(VECTORS_DIR).filter((f) => f.endsWith(".json") && f !== "invalid.json");

test("the vectors directory holds both directions", { skip }, () => {
  const directions = new Set(files.map((f) => load(f).direction));
  assert.deepEqual([...directions].sort(), ["client_to_server", "server_to_client"]);
});

function checkVectors(vectors, schema) {
  for (const vector of vectors) {
    test(`vector ${vector.name} decodes to its message`, { skip }, () => {
      const decode = vector.direction === "server_to_client" ? decodeServerMessage : decodeClientMessage;
      assert.deepEqual(decode(unhex(vector.hex), schema), normalizeMessage(vector.message, schema));
    });
    if (vector.direction === "client_to_server") {
      test(`vector ${vector.name} re-encodes to the same bytes`, { skip }, () => {
        assert.equal(hex(encodeClientMessage(normalizeMessage(vector.message, schema), schema)), vector.hex);
      });
    }
  }
}

checkVectors(files.map(load), schema);

// A second game (enums/) whose component and input are enums, with its own schema.
const enumFiles = readdirSync(new URL("enums/", VECTORS_DIR)).filter((f) => f.endsWith(".json"));
const enumVectors = enumFiles.map((f) => load(`enums/${f}`));
const enumWelcome = enumVectors.find((v) => v.name === "enums/welcome");
const enumSchema = isV2 ? new Schema(normalizeSchema(enumWelcome.message.schema)) : null;

test("the enum vectors hold an enum component and an enum input", { skip }, () => {
  assert.equal(typeKind(enumSchema.components[0].type), "Enum");
  assert.equal(typeKind(enumSchema.raw.input), "Enum");
  const kinds = new Set(enumVectors.map((v) => v.message.type));
  assert.deepEqual([...kinds].sort(), ["Delta", "Full", "Input", "Welcome"]);
});

checkVectors(enumVectors, enumSchema);

test("invalid vectors are refused", { skip }, async (t) => {
  for (const invalid of load("invalid.json")) {
    await t.test(`${invalid.name} (${invalid.reason})`, () => {
      const decode = invalid.direction === "server_to_client" ? decodeServerMessage : decodeClientMessage;
      assert.throws(() => decode(unhex(invalid.hex), schema), DecodeError);
    });
  }
});
