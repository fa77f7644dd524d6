// Declarations of types.js: the schema's `Type` descriptions and their compiled codecs, and
// the game-level types every generic class of the library takes.

import type { Reader, Writer } from "./bincode.js";

/** The primitive variants of a schema `Type`. */
export type PrimitiveType =
  | "Unit" | "Bool" | "U8" | "U16" | "U32" | "U64" | "I8" | "I16" | "I32" | "I64"
  | "F32" | "F64" | "String" | "Bytes";

/** A named struct field, or a named enum variant with its payload's type. */
export interface FieldType {
  name: string;
  ty: Type;
}

/** A schema type description in serde's externally tagged JSON form (docs/protocol.md §3). */
export type Type =
  | PrimitiveType
  | { Option: Type }
  | { Seq: Type }
  | { Tuple: Type[] }
  | { Struct: { name: string; fields: FieldType[] } }
  | { Enum: { name: string; variants: FieldType[] } };

/** The variant name of a type: "U8", "Option", "Struct"... */
export type TypeKind = PrimitiveType | "Option" | "Seq" | "Tuple" | "Struct" | "Enum";

/**
 * A decoded value of any described type (docs/protocol.md §4): Unit is null, 64-bit integers
 * are numbers (bigints past 2^53), Bytes an array of numbers, Option null or the value, Seq
 * and Tuple arrays, Struct an object, Enum a unit variant's name or `{Variant: value}`.
 */
export type Value = null | boolean | number | bigint | string | Value[] | { [key: string]: Value };

/** Type variants in wire order. */
export declare const TYPE_VARIANTS: readonly TypeKind[];
/** Types nest at most this deep; deeper descriptions are refused. */
export declare const MAX_TYPE_DEPTH: number;

/** Reads one Type description. */
export declare function readType(r: Reader, what?: string, depth?: number): Type;
/** The variant name of a type. */
export declare function typeKind(type: Type): TypeKind;
/** A compiled decoder for `type`; `what` names the value in errors. */
export declare function decoderFor(type: Type, what?: string): (r: Reader) => Value;
/** A compiled encoder for `type`; throws TypeError/RangeError on a value that does not fit. */
export declare function encoderFor(type: Type, what?: string): (w: Writer, value: unknown) => void;

/**
 * A game's value types, which the library's classes take as their first type argument:
 * `components` maps each component name to its value as `Entity.get` gives it, `raw` to its
 * value as `Entity.raw` holds it (a quantized component's integers). `tickwire schema
 * --typescript` writes a game's `Game` interface of this shape.
 */
export interface GameTypes {
  components: object;
  raw: object;
  input: unknown;
  welcome: unknown;
  message: unknown;
  event: unknown;
}

/** The default when no game types are given: any component name, any values. */
export interface AnyGame extends GameTypes {
  components: Record<string, any>;
  raw: Record<string, any>;
  input: any;
  welcome: any;
  message: any;
  event: any;
}

/** A component name of game `G`. */
export type ComponentName<G extends GameTypes> = Extract<keyof G["components"], string>;
/** Component `K`'s value as `Entity.get` gives it. */
export type ComponentValue<G extends GameTypes, K extends ComponentName<G>> = G["components"][K];
/** Component `K`'s value as `Entity.raw` holds it. */
export type RawValue<G extends GameTypes, K extends ComponentName<G>> = K extends keyof G["raw"] ? G["raw"][K] : unknown;
