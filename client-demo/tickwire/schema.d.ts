// Declarations of schema.js: the game's schema as the Welcome carries it.

import type { Reader, Writer } from "./bincode.js";
import type { AnyGame, ComponentName, GameTypes, Type } from "./types.js";

/** Who is sent a component. */
export type Visibility = "Everyone" | "Owner";
/** One integer of a quantized component: `integer = round(value × scale)`. */
export interface QuantizedFieldDescription {
  name: string;
  scale: number;
}
/** How a component's values are written. */
export type CodecDescription = { Serde: Type } | { Quantized: QuantizedFieldDescription[] };
/** One replicated component as the schema describes it. */
export interface ComponentDescription {
  name: string;
  visibility: Visibility;
  codec: CodecDescription;
}
/** A decoded schema (`Welcome.schema`, the JSON form the golden vectors print). */
export interface SchemaDescription {
  game: string;
  components: ComponentDescription[];
  input: Type;
  welcome: Type;
  message: Type;
  event: Type;
}

/** Visibility variants in wire order. */
export declare const VISIBILITIES: readonly Visibility[];
/** Codec variants in wire order. */
export declare const CODECS: readonly ("Serde" | "Quantized")[];

/** FNV-1a 64 of `bytes`. */
export declare function fnv1a64(bytes: Iterable<number>): bigint;
/** A u64 as 16 lowercase hex digits. */
export declare function hex64(value: bigint | number): string;
/** Reads a Schema's wire form. */
export declare function readSchema(r: Reader): SchemaDescription;

/** One replicated component with its codec compiled. */
export declare class ComponentInfo {
  constructor(id: number, description: ComponentDescription);
  /** Its wire id (index in the schema). */
  readonly id: number;
  readonly name: string;
  readonly visibility: Visibility;
  /** Sent to the owner only. */
  readonly owner: boolean;
  readonly quantized: boolean;
  /** A quantized component's field names and scales. */
  readonly fields?: string[];
  readonly scales?: number[];
  /** A serde component's type. */
  readonly type?: Type;
  /** Reads a wire value (a quantized component: its integers). */
  read(r: Reader): unknown;
  /** Writes a wire value. */
  write(w: Writer, value: unknown): void;
  /** The value a game reads: quantized integers scaled to reals, anything else as is. */
  real(value: unknown): unknown;
  /** Integers from a real-valued {field: number} object, rounded like the server. */
  quantize(real: Record<string, number>): number[];
}

/** The compiled schema: components by id and by name, and the game's value codecs. */
export declare class Schema<G extends GameTypes = AnyGame> {
  constructor(raw: SchemaDescription);
  readonly raw: SchemaDescription;
  /** The game's name. */
  readonly game: string;
  /** Components by id. */
  readonly components: ComponentInfo[];
  readonly byName: Map<string, ComponentInfo>;
  readonly readInput: (r: Reader) => G["input"];
  readonly writeInput: (w: Writer, input: G["input"]) => void;
  readonly readWelcome: (r: Reader) => G["welcome"];
  readonly readMessage: (r: Reader) => G["message"];
  readonly writeMessage: (w: Writer, message: G["message"]) => void;
  readonly readEvent: (r: Reader) => G["event"];
  /** The component with this name; throws when the game has none. */
  component(name: ComponentName<G>): ComponentInfo;
  /** The component with this id; throws DecodeError past the end. */
  componentAt(cid: number, what?: string): ComponentInfo;
}
