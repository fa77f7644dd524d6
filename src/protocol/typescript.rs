//! TypeScript declarations of a game's values, written from its [`Schema`]: the types of its
//! components, input, welcome, messages and events exactly as the JavaScript client library
//! (`client-demo/tickwire/types.js`) decodes and encodes them.
//!
//! The mapping follows the decoder, not the Rust types: integers and floats are `number`,
//! except 64-bit integers, which the decoder hands out as a `number` up to 2^53 and a `bigint`
//! beyond (`number | bigint`); an option is `T | null`; bytes are a `number[]`; a sequence is
//! an array and a tuple a tuple; a struct is an interface named after it; an enum is a union
//! in serde's externally tagged JSON form (`"Wave" | { Chat: { text: string } }`). The schema
//! has no maps (the schema refuses them), so neither do the declarations. A quantized
//! component is `{ field: number }` as `Entity.get` gives it, and its integers as
//! `Entity.raw` holds them are listed apart (`RawComponents`).
//!
//! Pure text: no I/O. `tickwire schema --typescript` prints it; any game's binary can do the
//! same with [`declarations`] on the schema from [`crate::registry_of`].

use super::schema::{CodecSchema, ComponentSchema, Field, Schema, Type, Visibility};
use std::collections::HashSet;
use std::fmt::Write as _;

/// Names the file declares itself; a game's type of the same name is renamed (`Input2`)
/// unless it is the very type the name stands for (an input struct called `Input`).
const RESERVED: [&str; 7] =
    ["Game", "Components", "RawComponents", "Input", "Welcome", "Message", "Event"];

/// The TypeScript declarations (a `.d.ts` module) of `schema`'s types; `Game` bundles them
/// for the client library's generics (`new Client<Game>(...)`).
pub fn declarations(schema: &Schema) -> String {
    let roots = [
        ("Input", &schema.input, "What the client sends every tick (`Client` option `input`)."),
        ("Welcome", &schema.welcome, "The game's value in the Welcome (`client.welcome.game`)."),
        ("Message", &schema.message, "What the client sends the game (`client.send`)."),
        ("Event", &schema.event, "What the game tells clients (the `\"event\"` event)."),
    ];
    let mut names = Names::new(&roots);
    for component in &schema.components {
        if let CodecSchema::Serde(ty) = &component.codec {
            names.collect(ty);
        }
    }
    for (_, ty, _) in &roots {
        names.collect(ty);
    }
    let mut out = header(schema);
    for (ty, name) in &names.named {
        out.push_str(&names.declaration(name, ty));
    }
    for (alias, ty, doc) in &roots {
        if names.claimed.contains(alias) {
            continue;
        }
        let _ = writeln!(out, "/** {doc} */\nexport type {alias} = {};\n", names.expr(ty));
    }
    out.push_str(&components(&names, &schema.components));
    out.push_str(GAME);
    out
}

fn header(schema: &Schema) -> String {
    format!(
        "// The types of the game \"{}\" (schema hash {:016x}) as the tickwire JavaScript client\n\
         // decodes them. Written by `tickwire schema --typescript`: regenerate, do not edit.\n\n",
        schema.game.replace(['\n', '\r'], " "),
        schema.hash()
    )
}

fn components(names: &Names, components: &[ComponentSchema]) -> String {
    let mut get = String::from(
        "/** Every replicated component by name, as `Entity.get` gives it (quantized: scaled to reals). */\n\
         export interface Components {\n",
    );
    let mut raw = String::from(
        "/** Every replicated component by name, as `Entity.raw` holds it (quantized: the integers). */\n\
         export interface RawComponents {\n",
    );
    for component in components {
        let key = property(&component.name);
        let to = match component.visibility {
            Visibility::Everyone => "every client that sees the entity",
            Visibility::Owner => "the owner only",
        };
        let (real, ints, codec) = match &component.codec {
            CodecSchema::Serde(ty) => (names.expr(ty), names.expr(ty), String::new()),
            CodecSchema::Quantized(fields) => {
                let real = fields.iter().map(|f| format!("{}: number", property(&f.name)));
                let scales = fields.iter().map(|f| format!("{} ×{}", f.name, f.scale));
                (
                    format!("{{ {} }}", real.collect::<Vec<_>>().join("; ")),
                    format!("[{}]", vec!["number"; fields.len()].join(", ")),
                    format!("; quantized: {}", scales.collect::<Vec<_>>().join(", ")),
                )
            }
        };
        let _ = writeln!(get, "  /** Sent to {to}{codec}. */\n  {key}: {real};");
        let _ = writeln!(raw, "  {key}: {ints};");
    }
    get.push_str("}\n\n");
    raw.push_str("}\n\n");
    get + &raw
}

const GAME: &str =
    "/** The game's types together, for the client library's generics: `new Client<Game>(...)`. */
export interface Game {
  components: Components;
  raw: RawComponents;
  input: Input;
  welcome: Welcome;
  message: Message;
  event: Event;
}
";

/// The structs and enums of a schema, each with the unique TypeScript name it is declared as.
struct Names {
    /// In first-seen order: (type, name).
    named: Vec<(Type, String)>,
    taken: HashSet<String>,
    /// Root aliases that name their type directly (an input struct called `Input`).
    claimed: HashSet<&'static str>,
}

impl Names {
    fn new(roots: &[(&'static str, &Type, &str)]) -> Names {
        let mut names = Names { named: Vec::new(), taken: HashSet::new(), claimed: HashSet::new() };
        names.taken.extend(RESERVED.iter().map(|name| (*name).to_owned()));
        for (alias, ty, _) in roots {
            if type_name(ty) == Some(*alias) && !names.named.iter().any(|(t, _)| t == *ty) {
                names.claimed.insert(alias);
                names.named.push(((*ty).clone(), (*alias).to_owned()));
            }
        }
        names
    }

    /// Gives every struct and enum inside `ty` a name, inner ones first.
    fn collect(&mut self, ty: &Type) {
        match ty {
            Type::Option(inner) | Type::Seq(inner) => self.collect(inner),
            Type::Tuple(items) => items.iter().for_each(|item| self.collect(item)),
            Type::Struct { fields, .. } => fields.iter().for_each(|f| self.collect(&f.ty)),
            Type::Enum { variants, .. } => {
                for variant in variants {
                    match &variant.ty {
                        // A struct variant is declared inside its enum.
                        Type::Struct { name, fields } if *name == variant.name => {
                            fields.iter().for_each(|f| self.collect(&f.ty));
                        }
                        other => self.collect(other),
                    }
                }
            }
            _ => {}
        }
        let Some(base) = type_name(ty) else { return };
        if self.named.iter().any(|(t, _)| t == ty) {
            return;
        }
        let base = identifier(base);
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.named.push((ty.clone(), name));
    }

    /// The `export` of a named struct or enum.
    fn declaration(&self, name: &str, ty: &Type) -> String {
        match ty {
            Type::Struct { name: rust, fields } => {
                format!("/** `{rust}` */\nexport interface {name} {}\n\n", self.object(fields))
            }
            Type::Enum { name: rust, .. } => {
                format!("/** `{rust}` */\nexport type {name} = {};\n\n", self.union(ty))
            }
            _ => String::new(),
        }
    }

    /// The TypeScript type of a value of `ty`: a name for structs and enums.
    fn expr(&self, ty: &Type) -> String {
        match ty {
            Type::Unit => "null".into(),
            Type::Bool => "boolean".into(),
            Type::U8 | Type::U16 | Type::U32 | Type::I8 | Type::I16 | Type::I32 => "number".into(),
            Type::F32 | Type::F64 => "number".into(),
            Type::U64 | Type::I64 => "number | bigint".into(),
            Type::String => "string".into(),
            Type::Bytes => "number[]".into(),
            Type::Option(inner) => format!("{} | null", self.expr(inner)),
            Type::Seq(inner) => format!("Array<{}>", self.expr(inner)),
            Type::Tuple(items) => {
                let items: Vec<String> = items.iter().map(|item| self.expr(item)).collect();
                format!("[{}]", items.join(", "))
            }
            Type::Struct { .. } | Type::Enum { .. } => self.name_of(ty),
        }
    }

    fn name_of(&self, ty: &Type) -> String {
        let found = self.named.iter().find(|(t, _)| t == ty);
        found.map_or_else(|| self.inline(ty), |(_, name)| name.clone())
    }

    /// A struct or enum written out where it is used (a struct variant's payload).
    fn inline(&self, ty: &Type) -> String {
        match ty {
            Type::Struct { fields, .. } => self.object(fields),
            _ => self.union(ty),
        }
    }

    fn object(&self, fields: &[Field]) -> String {
        if fields.is_empty() {
            return "{}".into();
        }
        let fields: Vec<String> =
            fields.iter().map(|f| format!("{}: {}", property(&f.name), self.expr(&f.ty))).collect();
        format!("{{ {} }}", fields.join("; "))
    }

    /// An enum as the decoder yields it: a unit variant is its name, any other a one-key
    /// object; no variants at all is `never` (nothing can be sent or received).
    fn union(&self, ty: &Type) -> String {
        let Type::Enum { variants, .. } = ty else { return self.expr(ty) };
        if variants.is_empty() {
            return "never".into();
        }
        let variants: Vec<String> = (variants.iter())
            .map(|v| match &v.ty {
                Type::Unit => string(&v.name),
                Type::Struct { name, fields } if *name == v.name => {
                    format!("{{ {}: {} }}", property(&v.name), self.object(fields))
                }
                other => format!("{{ {}: {} }}", property(&v.name), self.expr(other)),
            })
            .collect();
        variants.join(" | ")
    }
}

fn type_name(ty: &Type) -> Option<&str> {
    match ty {
        Type::Struct { name, .. } | Type::Enum { name, .. } => Some(name),
        _ => None,
    }
}

/// A TypeScript identifier from a Rust type name (which may carry generics: `Pair<u8>`).
fn identifier(name: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A property key: bare when it is an identifier, quoted otherwise.
fn property(name: &str) -> String {
    let bare = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if bare { name.to_owned() } else { string(name) }
}

/// A TypeScript string literal.
fn string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::QuantizedField;

    fn field(name: &str, ty: Type) -> Field {
        Field { name: name.into(), ty }
    }

    fn point() -> Type {
        Type::Struct {
            name: "Point".into(),
            fields: vec![field("x", Type::F32), field("y", Type::F32)],
        }
    }

    /// A schema with every shape a `Type` has, in components, input, welcome, messages and
    /// events, plus the naming cases: a struct called like a root alias, a name two
    /// different structs share, a key that is not an identifier, an enum without variants.
    fn every_shape() -> Schema {
        let every = Type::Struct {
            name: "Every".into(),
            fields: vec![
                field("unit", Type::Unit),
                field("flag", Type::Bool),
                field("a", Type::U8),
                field("b", Type::U16),
                field("c", Type::U32),
                field("d", Type::U64),
                field("e", Type::I8),
                field("f", Type::I16),
                field("g", Type::I32),
                field("h", Type::I64),
                field("i", Type::F32),
                field("j", Type::F64),
                field("name", Type::String),
                field("blob", Type::Bytes),
                field("maybe", Type::Option(Box::new(Type::U32))),
                field("list", Type::Seq(Box::new(point()))),
                field("pair", Type::Tuple(vec![Type::U8, Type::String])),
                field("empty", Type::Tuple(vec![])),
                field("at", point()),
                field("big one", Type::Option(Box::new(Type::I64))),
            ],
        };
        let shape = Type::Enum {
            name: "Shape".into(),
            variants: vec![
                field("Dot", Type::Unit),
                field("Circle", Type::F32),
                field("Segment", Type::Tuple(vec![point(), point()])),
                field(
                    "Box",
                    Type::Struct { name: "Box".into(), fields: vec![field("w", Type::U16)] },
                ),
                field("Labelled", point()),
            ],
        };
        let other_point = Type::Struct { name: "Point".into(), fields: vec![field("q", Type::I8)] };
        Schema {
            game: "shapes".into(),
            components: vec![
                ComponentSchema {
                    name: "Position".into(),
                    visibility: Visibility::Everyone,
                    codec: CodecSchema::Quantized(vec![
                        QuantizedField { name: "x".into(), scale: 100.0 },
                        QuantizedField { name: "y".into(), scale: 100.0 },
                    ]),
                },
                ComponentSchema {
                    name: "Every".into(),
                    visibility: Visibility::Owner,
                    codec: CodecSchema::Serde(every),
                },
                ComponentSchema {
                    name: "Orb".into(),
                    visibility: Visibility::Everyone,
                    codec: CodecSchema::Serde(Type::Unit),
                },
                ComponentSchema {
                    name: "Shape".into(),
                    visibility: Visibility::Everyone,
                    codec: CodecSchema::Serde(shape),
                },
                ComponentSchema {
                    name: "Other".into(),
                    visibility: Visibility::Everyone,
                    codec: CodecSchema::Serde(other_point),
                },
            ],
            input: Type::Struct {
                name: "Input".into(),
                fields: vec![field("move_x", Type::I8), field("fire", Type::Bool)],
            },
            welcome: Type::Tuple(vec![Type::U32, Type::F32]),
            message: Type::Enum {
                name: "Message".into(),
                variants: vec![
                    field("Wave", Type::Unit),
                    field(
                        "Chat",
                        Type::Struct {
                            name: "Chat".into(),
                            fields: vec![field("text", Type::String)],
                        },
                    ),
                ],
            },
            event: Type::Enum { name: "NoMessages".into(), variants: vec![] },
        }
    }

    #[test]
    fn every_shape_is_declared_as_the_decoder_yields_it() {
        let schema = every_shape();
        let expected = format!(
            r#"// The types of the game "shapes" (schema hash {:016x}) as the tickwire JavaScript client
// decodes them. Written by `tickwire schema --typescript`: regenerate, do not edit.

/** `Input` */
export interface Input {{ move_x: number; fire: boolean }}

/** `Message` */
export type Message = "Wave" | {{ Chat: {{ text: string }} }};

/** `Point` */
export interface Point {{ x: number; y: number }}

/** `Every` */
export interface Every {{ unit: null; flag: boolean; a: number; b: number; c: number; d: number | bigint; e: number; f: number; g: number; h: number | bigint; i: number; j: number; name: string; blob: number[]; maybe: number | null; list: Array<Point>; pair: [number, string]; empty: []; at: Point; "big one": number | bigint | null }}

/** `Shape` */
export type Shape = "Dot" | {{ Circle: number }} | {{ Segment: [Point, Point] }} | {{ Box: {{ w: number }} }} | {{ Labelled: Point }};

/** `Point` */
export interface Point2 {{ q: number }}

/** `NoMessages` */
export type NoMessages = never;

/** The game's value in the Welcome (`client.welcome.game`). */
export type Welcome = [number, number];

/** What the game tells clients (the `"event"` event). */
export type Event = NoMessages;

/** Every replicated component by name, as `Entity.get` gives it (quantized: scaled to reals). */
export interface Components {{
  /** Sent to every client that sees the entity; quantized: x ×100, y ×100. */
  Position: {{ x: number; y: number }};
  /** Sent to the owner only. */
  Every: Every;
  /** Sent to every client that sees the entity. */
  Orb: null;
  /** Sent to every client that sees the entity. */
  Shape: Shape;
  /** Sent to every client that sees the entity. */
  Other: Point2;
}}

/** Every replicated component by name, as `Entity.raw` holds it (quantized: the integers). */
export interface RawComponents {{
  Position: [number, number];
  Every: Every;
  Orb: null;
  Shape: Shape;
  Other: Point2;
}}

{GAME}"#,
            schema.hash()
        );
        assert_eq!(declarations(&schema), expected);
    }

    #[test]
    fn an_enum_input_is_declared_as_a_union() {
        let mut schema = every_shape();
        schema.input = Type::Enum {
            name: "Command".into(),
            variants: vec![field("Stay", Type::Unit), field("Fall", Type::U16)],
        };
        let out = declarations(&schema);
        assert!(out.contains("export type Command = \"Stay\" | { Fall: number };"), "{out}");
        assert!(out.contains("export type Input = Command;"), "{out}");
    }

    #[test]
    fn a_type_named_like_a_reserved_name_is_renamed() {
        let mut schema = every_shape();
        // A component struct called `Event` that is not the event type.
        schema.components[2].codec =
            CodecSchema::Serde(Type::Struct { name: "Event".into(), fields: vec![] });
        let text = declarations(&schema);
        assert!(text.contains("export interface Event2 {}"), "{text}");
        assert!(text.contains("  Orb: Event2;"), "{text}");
        assert!(text.contains("export type Event = NoMessages;"), "{text}");
    }

    #[test]
    fn odd_names_become_identifiers_and_quoted_keys() {
        assert_eq!(identifier("Pair<u8, f32>"), "Pair_u8__f32_");
        assert_eq!(identifier("3d"), "_3d");
        assert_eq!(property("x"), "x");
        assert_eq!(property("big one"), "\"big one\"");
        assert_eq!(string("a\"b"), "\"a\\\"b\"");
    }
}
