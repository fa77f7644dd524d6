// bincode 2 `standard()` by hand: the byte layer every tickwire message is made of.
//
// Owns the primitive reads and writes (raw bytes, varints with the 251/252/253 markers,
// zigzag, IEEE floats, UTF-8, lengths) and nothing above them: no message, no schema, no
// game. Mirrors the Rust side's one bincode configuration (docs/protocol.md section 2).

// Below 251 a varint is its own byte; above, a marker says how many bytes follow.
const SINGLE_BYTE_MAX = 250;
export const U16_MARKER = 251;
export const U32_MARKER = 252;
export const U64_MARKER = 253;

const MAX_U32 = 0xffffffff;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** Bytes that are not a valid message: truncated, trailing, unknown variant, bad UTF-8. */
export class DecodeError extends Error {
  name = "DecodeError";
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** An ArrayBuffer (what a WebSocket delivers) or a Uint8Array, as a Uint8Array. */
export function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError("expected an ArrayBuffer or Uint8Array");
}

/** A u64 as a Number when it is exact, as a BigInt otherwise. */
function narrow(big) {
  return big <= MAX_SAFE && big >= MIN_SAFE ? Number(big) : big;
}

/** A cursor over one message's bytes; every read checks the length first. */
export class Reader {
  constructor(data) {
    this.bytes = asBytes(data);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.pos = 0;
  }

  get remaining() {
    return this.bytes.length - this.pos;
  }

  take(n, what) {
    if (n > this.remaining) {
      throw new DecodeError(`${what}: needs ${n} bytes at offset ${this.pos}, message has ${this.bytes.length}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what) {
    return this.bytes[this.take(1, what)];
  }

  i8(what) {
    return this.view.getInt8(this.take(1, what));
  }

  bool(what) {
    const byte = this.u8(what);
    if (byte > 1) throw new DecodeError(`${what}: bool byte ${byte} is neither 0 nor 1`);
    return byte === 1;
  }

  f32(what) {
    return this.view.getFloat32(this.take(4, what), true);
  }

  f64(what) {
    return this.view.getFloat64(this.take(8, what), true);
  }

  // bincode accepts a wider form than needed (251 + u16 for a small u32) but refuses a
  // marker wider than the type; `widest` is the widest marker the type allows. Returns a
  // BigInt for the 8-byte form.
  rawVarint(what, widest) {
    const marker = this.u8(what);
    if (marker <= SINGLE_BYTE_MAX) return marker;
    if (marker > widest) throw new DecodeError(`${what}: varint marker ${marker} is too wide`);
    if (marker === U16_MARKER) return this.view.getUint16(this.take(2, what), true);
    if (marker === U32_MARKER) return this.view.getUint32(this.take(4, what), true);
    return this.view.getBigUint64(this.take(8, what), true);
  }

  u16(what) {
    return this.rawVarint(what, U16_MARKER);
  }

  u32(what) {
    return this.rawVarint(what, U32_MARKER);
  }

  /** A u64: a Number up to 2^53, a BigInt beyond. */
  u64(what) {
    const n = this.rawVarint(what, U64_MARKER);
    return typeof n === "bigint" ? narrow(n) : n;
  }

  i16(what) {
    return unzigzag32(this.u16(what));
  }

  i32(what) {
    return unzigzag32(this.u32(what));
  }

  i64(what) {
    const n = BigInt(this.rawVarint(what, U64_MARKER));
    return narrow((n >> 1n) ^ -(n & 1n));
  }

  /** A length (u64 varint); more than the bytes left is truncation (see `seq` in types.js). */
  len(what) {
    const n = this.rawVarint(what, U64_MARKER);
    if (typeof n === "bigint" || n > this.remaining) {
      throw new DecodeError(`${what}: length ${n} at offset ${this.pos} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }

  bytesOf(what) {
    const n = this.len(`${what} length`);
    const at = this.take(n, what);
    return this.bytes.subarray(at, at + n);
  }

  string(what) {
    const raw = this.bytesOf(what);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      throw new DecodeError(`${what}: not valid UTF-8`);
    }
  }

  /** An enum's variant index, checked against `count` variants. */
  variant(count, what) {
    const index = this.u32(what);
    if (index >= count) throw new DecodeError(`${what}: unknown variant index ${index}`);
    return index;
  }

  finish(what = "message") {
    if (this.remaining !== 0) {
      throw new DecodeError(`${this.remaining} trailing bytes after a ${this.pos}-byte ${what}`);
    }
  }
}

function unzigzag32(n) {
  return (n >>> 1) ^ -(n & 1);
}

function checkInt(value, min, max, what) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer in ${min}..=${max}, got ${value}`);
  }
}

function checkBig(value, min, max, what) {
  const ok = typeof value === "bigint" || Number.isInteger(value);
  if (!ok || BigInt(value) < min || BigInt(value) > max) {
    throw new RangeError(`${what} must be an integer in ${min}..=${max}, got ${value}`);
  }
  return BigInt(value);
}

/** Appends bincode values to a growable byte list; `finish` returns the Uint8Array. */
export class Writer {
  constructor() {
    this.bytes = [];
    this.scratch = new DataView(new ArrayBuffer(8));
  }

  u8(value, what = "u8") {
    checkInt(value, 0, 0xff, what);
    this.bytes.push(value);
  }

  i8(value, what = "i8") {
    checkInt(value, -0x80, 0x7f, what);
    this.bytes.push(value & 0xff);
  }

  bool(value, what = "bool") {
    if (typeof value !== "boolean") throw new TypeError(`${what} must be a boolean, got ${value}`);
    this.bytes.push(value ? 1 : 0);
  }

  f32(value, what = "f32") {
    if (typeof value !== "number") throw new TypeError(`${what} must be a number, got ${value}`);
    this.scratch.setFloat32(0, value, true);
    for (let i = 0; i < 4; i++) this.bytes.push(this.scratch.getUint8(i));
  }

  f64(value, what = "f64") {
    if (typeof value !== "number") throw new TypeError(`${what} must be a number, got ${value}`);
    this.scratch.setFloat64(0, value, true);
    for (let i = 0; i < 8; i++) this.bytes.push(this.scratch.getUint8(i));
  }

  // Writers use the smallest form that fits.
  varint(value) {
    if (value <= SINGLE_BYTE_MAX) {
      this.bytes.push(value);
    } else if (value <= 0xffff) {
      this.bytes.push(U16_MARKER, value & 0xff, value >>> 8);
    } else if (value <= MAX_U32) {
      this.bytes.push(U32_MARKER, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
    } else {
      this.scratch.setBigUint64(0, BigInt(value), true);
      this.bytes.push(U64_MARKER);
      for (let i = 0; i < 8; i++) this.bytes.push(this.scratch.getUint8(i));
    }
  }

  u16(value, what = "u16") {
    checkInt(value, 0, 0xffff, what);
    this.varint(value);
  }

  u32(value, what = "u32") {
    checkInt(value, 0, MAX_U32, what);
    this.varint(value);
  }

  u64(value, what = "u64") {
    const big = checkBig(value, 0n, 0xffffffffffffffffn, what);
    this.varint(big <= BigInt(MAX_U32) ? Number(big) : big);
  }

  i16(value, what = "i16") {
    checkInt(value, -0x8000, 0x7fff, what);
    this.varint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  i32(value, what = "i32") {
    checkInt(value, -0x80000000, 0x7fffffff, what);
    this.varint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  i64(value, what = "i64") {
    const big = checkBig(value, -(2n ** 63n), 2n ** 63n - 1n, what);
    const zz = big >= 0n ? big << 1n : ((-big) << 1n) - 1n;
    this.varint(zz <= BigInt(MAX_U32) ? Number(zz) : zz);
  }

  len(n) {
    this.varint(n);
  }

  raw(bytes) {
    for (const b of bytes) this.bytes.push(b);
  }

  bytesOf(bytes, what = "bytes") {
    if (!Array.isArray(bytes) && !(bytes instanceof Uint8Array)) throw new TypeError(`${what} must be an array of bytes`);
    this.len(bytes.length);
    bytes.forEach((b, i) => this.u8(b, `${what}[${i}]`));
  }

  string(value, what = "string") {
    if (typeof value !== "string") throw new TypeError(`${what} must be a string, got ${value}`);
    const utf8 = utf8Encoder.encode(value);
    this.len(utf8.length);
    this.raw(utf8);
  }

  finish() {
    return Uint8Array.from(this.bytes);
  }
}
