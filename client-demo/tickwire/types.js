// The schema's `Type`: reading a type description off the wire, and turning any value of
// a described type into bytes and back.
//
// A Type is held in serde's externally tagged JSON form, the same form the golden vectors
// print: a unit variant is its name ("U8", "String"), the others are one-key objects
// ({Option: T}, {Seq: T}, {Tuple: [T...]}, {Struct: {name, fields: [{name, ty}]}},
// {Enum: {name, variants: [{name, ty}]}}). Values
// follow docs/protocol.md section 4: Unit is null, 64-bit integers are Numbers (BigInts past
// 2^53), Bytes is an array of numbers, Option is null or the value, Seq and Tuple are arrays,
// Struct is an object of its fields, and Enum is, as serde's JSON has it, the variant's name
// for a unit variant ("Wave") and a one-key object for the others ({Chat: {text: "hi"}}).
//
// Decoders and encoders are compiled once per type into closures, so a snapshot's values
// are read without walking the description again.

import { DecodeError } from "./bincode.js";

/** Type variants in wire order (docs/protocol.md, "Type"). */
export const TYPE_VARIANTS = Object.freeze([
  "Unit", "Bool", "U8", "U16", "U32", "U64", "I8", "I16", "I32", "I64", "F32", "F64",
  "String", "Bytes", "Option", "Seq", "Tuple", "Struct", "Enum",
]);
const FIRST_COMPOUND = TYPE_VARIANTS.indexOf("Option");
/** Types nest at most this deep; deeper descriptions are refused, not recursed into. */
export const MAX_TYPE_DEPTH = 32;

/** Reads one Type description. */
export function readType(r, what = "type", depth = 0) {
  if (depth > MAX_TYPE_DEPTH) throw new DecodeError(`${what}: types nest deeper than ${MAX_TYPE_DEPTH}`);
  const index = r.variant(TYPE_VARIANTS.length, `${what} Type`);
  const name = TYPE_VARIANTS[index];
  if (index < FIRST_COMPOUND) return name;
  if (name === "Option" || name === "Seq") return { [name]: readType(r, what, depth + 1) };
  if (name === "Tuple") {
    const n = r.len(`${what} tuple length`);
    const items = [];
    for (let i = 0; i < n; i++) items.push(readType(r, `${what}.${i}`, depth + 1));
    return { Tuple: items };
  }
  const structName = r.string(`${what} ${name.toLowerCase()} name`);
  const n = r.len(`${what} ${name === "Enum" ? "variant" : "field"} count`);
  const fields = [];
  for (let i = 0; i < n; i++) {
    const fieldName = r.string(`${what} field name`);
    fields.push({ name: fieldName, ty: readType(r, `${what}.${fieldName}`, depth + 1) });
  }
  if (name === "Enum") return { Enum: { name: structName, variants: fields } };
  return { Struct: { name: structName, fields } };
}

/** The variant name of a type: "U8", "Option", "Struct"... */
export function typeKind(type) {
  return typeof type === "string" ? type : Object.keys(type)[0];
}

const PRIMITIVE_READS = {
  Unit: () => () => null,
  Bool: (w) => (r) => r.bool(w),
  U8: (w) => (r) => r.u8(w),
  U16: (w) => (r) => r.u16(w),
  U32: (w) => (r) => r.u32(w),
  U64: (w) => (r) => r.u64(w),
  I8: (w) => (r) => r.i8(w),
  I16: (w) => (r) => r.i16(w),
  I32: (w) => (r) => r.i32(w),
  I64: (w) => (r) => r.i64(w),
  F32: (w) => (r) => r.f32(w),
  F64: (w) => (r) => r.f64(w),
  String: (w) => (r) => r.string(w),
  Bytes: (w) => (r) => Array.from(r.bytesOf(w)),
};

/** A function `(reader) => value` for `type`; `what` names the value in errors. */
export function decoderFor(type, what = "value") {
  const kind = typeKind(type);
  if (PRIMITIVE_READS[kind]) return PRIMITIVE_READS[kind](what);
  if (kind === "Option") {
    const inner = decoderFor(type.Option, what);
    return (r) => {
      const tag = r.u8(`${what} option tag`);
      if (tag > 1) throw new DecodeError(`${what}: option tag ${tag} is neither 0 nor 1`);
      return tag === 1 ? inner(r) : null;
    };
  }
  if (kind === "Seq") {
    const item = decoderFor(type.Seq, `${what}[]`);
    return (r) => {
      const n = r.len(`${what} length`);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = item(r);
      return out;
    };
  }
  if (kind === "Tuple") {
    const items = type.Tuple.map((t, i) => decoderFor(t, `${what}.${i}`));
    return (r) => items.map((read) => read(r));
  }
  if (kind === "Struct") {
    const fields = type.Struct.fields.map((f) => [f.name, decoderFor(f.ty, `${what}.${f.name}`)]);
    return (r) => {
      const out = {};
      for (const [name, read] of fields) out[name] = read(r);
      return out;
    };
  }
  if (kind === "Enum") {
    const variants = type.Enum.variants.map((v) => [v.name, v.ty === "Unit" ? null : decoderFor(v.ty, `${what}.${v.name}`)]);
    return (r) => {
      const index = r.u32(`${what} variant`);
      if (index >= variants.length) throw new DecodeError(`${what}: variant ${index}, ${type.Enum.name} has ${variants.length}`);
      const [name, read] = variants[index];
      return read ? { [name]: read(r) } : name;
    };
  }
  throw new TypeError(`not a Type: ${JSON.stringify(type)}`);
}

const PRIMITIVE_WRITES = {
  Unit: (w) => (out, v) => {
    if (v !== null && v !== undefined) throw new TypeError(`${w} is Unit: expected null, got ${v}`);
  },
  Bool: (w) => (out, v) => out.bool(v, w),
  U8: (w) => (out, v) => out.u8(v, w),
  U16: (w) => (out, v) => out.u16(v, w),
  U32: (w) => (out, v) => out.u32(v, w),
  U64: (w) => (out, v) => out.u64(v, w),
  I8: (w) => (out, v) => out.i8(v, w),
  I16: (w) => (out, v) => out.i16(v, w),
  I32: (w) => (out, v) => out.i32(v, w),
  I64: (w) => (out, v) => out.i64(v, w),
  F32: (w) => (out, v) => out.f32(v, w),
  F64: (w) => (out, v) => out.f64(v, w),
  String: (w) => (out, v) => out.string(v, w),
  Bytes: (w) => (out, v) => out.bytesOf(v, w),
};

/** A function `(writer, value) => void` for `type`; throws TypeError/RangeError on a value
 *  that does not fit, naming the field. */
export function encoderFor(type, what = "value") {
  const kind = typeKind(type);
  if (PRIMITIVE_WRITES[kind]) return PRIMITIVE_WRITES[kind](what);
  if (kind === "Option") {
    const inner = encoderFor(type.Option, what);
    return (out, v) => {
      if (v === null || v === undefined) return out.u8(0);
      out.u8(1);
      inner(out, v);
    };
  }
  if (kind === "Seq") {
    const item = encoderFor(type.Seq, `${what}[]`);
    return (out, v) => {
      if (!Array.isArray(v)) throw new TypeError(`${what} must be an array`);
      out.len(v.length);
      for (const x of v) item(out, x);
    };
  }
  if (kind === "Tuple") {
    const items = type.Tuple.map((t, i) => encoderFor(t, `${what}.${i}`));
    return (out, v) => {
      if (!Array.isArray(v) || v.length !== items.length) throw new TypeError(`${what} must be an array of ${items.length}`);
      items.forEach((write, i) => write(out, v[i]));
    };
  }
  if (kind === "Struct") {
    const fields = type.Struct.fields.map((f) => [f.name, encoderFor(f.ty, `${what}.${f.name}`)]);
    return (out, v) => {
      if (v === null || typeof v !== "object") throw new TypeError(`${what} must be an object`);
      for (const [name, write] of fields) {
        if (!(name in v)) throw new TypeError(`${what} lacks field ${name}`);
        write(out, v[name]);
      }
    };
  }
  if (kind === "Enum") {
    const variants = new Map(type.Enum.variants.map((v, i) => [v.name, [i, v.ty === "Unit" ? null : encoderFor(v.ty, `${what}.${v.name}`)]]));
    return (out, v) => {
      const name = typeof v === "string" ? v : v && typeof v === "object" && Object.keys(v).length === 1 ? Object.keys(v)[0] : null;
      const variant = name === null ? undefined : variants.get(name);
      if (!variant) throw new TypeError(`${what} must be one of ${[...variants.keys()].join(", ") || "(no variants)"}`);
      const [index, write] = variant;
      out.u32(index, `${what} variant`);
      if (write) {
        if (typeof v === "string") throw new TypeError(`${what}.${name} carries a value: {${name}: ...}`);
        write(out, v[name]);
      }
    };
  }
  throw new TypeError(`not a Type: ${JSON.stringify(type)}`);
}
