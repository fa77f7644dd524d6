// The game's schema as the Welcome carries it: reading it, checking its hash, and the
// compiled form a replica and an input encoder work from.
//
// Owns: the Schema wire layout (game, components, input, welcome), the FNV-1a 64 hash over
// its bytes, and `Schema`, which looks components up by id or name and holds each one's
// compiled value codec. Knows nothing of any particular game.

import { DecodeError } from "./bincode.js";
import { decoderFor, encoderFor, readType } from "./types.js";

/** Visibility variants in wire order. */
export const VISIBILITIES = Object.freeze(["Everyone", "Owner"]);
/** Codec variants in wire order. */
export const CODECS = Object.freeze(["Serde", "Quantized"]);

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64_MASK = 0xffffffffffffffffn;

/** FNV-1a 64 of `bytes`, as a BigInt. */
export function fnv1a64(bytes) {
  let hash = FNV_OFFSET;
  for (const b of bytes) hash = ((hash ^ BigInt(b)) * FNV_PRIME) & U64_MASK;
  return hash;
}

/** A u64 (BigInt or Number) as 16 lowercase hex digits, the form the vectors print. */
export function hex64(value) {
  return BigInt(value).toString(16).padStart(16, "0");
}

/** Reads a Schema in its JSON form ({game, components: [{name, visibility, codec}], input,
 *  welcome, message, event}); codecs are {Serde: Type} or {Quantized: [{name, scale}]}. */
export function readSchema(r) {
  const game = r.string("schema game");
  const count = r.len("component count");
  const components = [];
  for (let i = 0; i < count; i++) components.push(readComponent(r, i));
  const input = readType(r, "input");
  const welcome = readType(r, "welcome");
  return { game, components, input, welcome, message: readType(r, "message"), event: readType(r, "event") };
}

function readComponent(r, cid) {
  const name = r.string(`component ${cid} name`);
  const visibility = VISIBILITIES[r.variant(VISIBILITIES.length, `${name} Visibility`)];
  const codecIndex = r.variant(CODECS.length, `${name} Codec`);
  if (CODECS[codecIndex] === "Serde") return { name, visibility, codec: { Serde: readType(r, name) } };
  const n = r.len(`${name} field count`);
  const fields = [];
  for (let i = 0; i < n; i++) fields.push({ name: r.string(`${name} field name`), scale: r.f32(`${name} scale`) });
  return { name, visibility, codec: { Quantized: fields } };
}

/**
 * One replicated component: `id` (its index), `name`, `visibility`, and its codec compiled.
 * A quantized component's wire value is an array of integers, one per field; its real value
 * is an object {field: integer / scale}.
 */
export class ComponentInfo {
  constructor(id, { name, visibility, codec }) {
    this.id = id;
    this.name = name;
    this.visibility = visibility;
    this.owner = visibility === "Owner";
    if (codec.Quantized) {
      this.quantized = true;
      this.fields = codec.Quantized.map((f) => f.name);
      this.scales = codec.Quantized.map((f) => f.scale);
      this.read = (r) => this.fields.map((f) => r.i32(`${name}.${f}`));
      this.write = (w, ints) => this.fields.forEach((f, i) => w.i32(ints[i], `${name}.${f}`));
    } else {
      this.quantized = false;
      this.type = codec.Serde;
      this.read = decoderFor(codec.Serde, name);
      this.write = encoderFor(codec.Serde, name);
    }
  }

  /** The value a game reads: quantized integers scaled to reals, anything else as is. */
  real(value) {
    if (!this.quantized) return value;
    const out = {};
    this.fields.forEach((f, i) => (out[f] = value[i] / this.scales[i]));
    return out;
  }

  /** Integers from a real-valued {field: number} object, rounded like the server. */
  quantize(real) {
    return this.fields.map((f, i) => roundHalfAway(real[f] * this.scales[i]) | 0);
  }
}

function roundHalfAway(x) {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** The compiled schema: components by id and by name, and the input and welcome codecs. */
export class Schema {
  /** @param {object} raw the decoded schema (Welcome.schema) */
  constructor(raw) {
    this.raw = raw;
    this.game = raw.game;
    this.components = raw.components.map((c, id) => new ComponentInfo(id, c));
    this.byName = new Map(this.components.map((c) => [c.name, c]));
    this.readInput = decoderFor(raw.input, "input");
    this.writeInput = encoderFor(raw.input, "input");
    this.readWelcome = decoderFor(raw.welcome, "welcome");
    this.readMessage = decoderFor(raw.message, "message");
    this.writeMessage = encoderFor(raw.message, "message");
    this.readEvent = decoderFor(raw.event, "event");
  }

  /** The component with this name; throws when the game has none (a typo, or the wrong game). */
  component(name) {
    const info = this.byName.get(name);
    if (!info) throw new Error(`the ${this.game} schema has no component ${name}`);
    return info;
  }

  /** The component with this id; throws DecodeError past the end (a wire fault). */
  componentAt(cid, what = "component") {
    const info = this.components[cid];
    if (!info) throw new DecodeError(`${what}: component id ${cid}, the schema has ${this.components.length}`);
    return info;
  }
}
