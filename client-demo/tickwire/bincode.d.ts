// Declarations of bincode.js: bincode 2 `standard()` reads and writes by hand.

/** The varint markers: below 251 a varint is its own byte; these say 2, 4 or 8 bytes follow. */
export declare const U16_MARKER: 251;
export declare const U32_MARKER: 252;
export declare const U64_MARKER: 253;

/** Bytes that are not a valid message: truncated, trailing, unknown variant, bad UTF-8. */
export declare class DecodeError extends Error {
  name: string;
}

/** An ArrayBuffer (what a WebSocket delivers) or a Uint8Array, as a Uint8Array. */
export declare function asBytes(data: ArrayBuffer | Uint8Array): Uint8Array;

/** A 64-bit integer as the decoder yields it: a number up to 2^53, a bigint beyond. */
export type Int64 = number | bigint;

/** A cursor over one message's bytes; every read checks the length first and throws
 *  DecodeError naming `what`. */
export declare class Reader {
  constructor(data: ArrayBuffer | Uint8Array);
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Offset of the next byte to read. */
  pos: number;
  /** Bytes left to read. */
  readonly remaining: number;
  /** Skips `n` bytes; returns the offset they start at. */
  take(n: number, what: string): number;
  u8(what: string): number;
  i8(what: string): number;
  bool(what: string): boolean;
  f32(what: string): number;
  f64(what: string): number;
  /** A varint's value, refusing markers wider than `widest`. */
  rawVarint(what: string, widest: number): number | bigint;
  u16(what: string): number;
  u32(what: string): number;
  u64(what: string): Int64;
  i16(what: string): number;
  i32(what: string): number;
  i64(what: string): Int64;
  /** A length, at most the bytes left. */
  len(what: string): number;
  bytesOf(what: string): Uint8Array;
  string(what: string): string;
  /** An enum variant index below `count`. */
  variant(count: number, what: string): number;
  /** Throws DecodeError when bytes are left over. */
  finish(what?: string): void;
}

/** Builds one message; every write checks the value's range and throws TypeError or
 *  RangeError naming `what`. */
export declare class Writer {
  constructor();
  u8(value: number, what?: string): void;
  i8(value: number, what?: string): void;
  bool(value: boolean, what?: string): void;
  f32(value: number, what?: string): void;
  f64(value: number, what?: string): void;
  varint(value: number | bigint): void;
  u16(value: number, what?: string): void;
  u32(value: number, what?: string): void;
  u64(value: Int64, what?: string): void;
  i16(value: number, what?: string): void;
  i32(value: number, what?: string): void;
  i64(value: Int64, what?: string): void;
  len(n: number): void;
  raw(bytes: Iterable<number>): void;
  bytesOf(bytes: number[] | Uint8Array, what?: string): void;
  string(value: string, what?: string): void;
  /** The message written so far. */
  finish(): Uint8Array;
}
