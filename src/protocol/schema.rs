//! The schema a game sends in its welcome: what each replicated component looks like on the
//! wire, so a generic client decodes any game without knowing it.
//!
//! Built once at startup from the game's registrations ([`crate::GameBuilder`]); its bytes are
//! hashed ([`Schema::hash`]) so a client can tell it holds the same schema as its server.

use serde::{Deserialize, Deserializer, Serialize};
use std::cell::Cell;

/// A game's whole wire schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The game's name.
    pub game: String,
    /// Replicated components; a component's wire id is its index here.
    pub components: Vec<ComponentSchema>,
    /// The game's input type (the payload of an input message).
    pub input: Type,
    /// The game's welcome type (the `game` bytes of the welcome).
    pub welcome: Type,
    /// The messages clients send the game (the payload of a message), usually an enum.
    pub message: Type,
    /// The events the game sends clients (the payload of an event), usually an enum.
    pub event: Type,
}

impl Schema {
    /// FNV-1a 64 over the schema's bincode bytes: the `schema_hash` of the welcome.
    pub fn hash(&self) -> u64 {
        fnv1a64(&super::encode(self))
    }
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One replicated component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentSchema {
    /// Its name (the Rust type's name unless the game chose another).
    pub name: String,
    /// Who is sent it.
    pub visibility: Visibility,
    /// How its values are written.
    pub codec: CodecSchema,
}

/// Who is sent a component of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Visibility {
    /// 0: every client that sees the entity.
    Everyone,
    /// 1: only the client whose own entity it is (for example its velocity, for prediction).
    Owner,
}

/// How a component's values are written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CodecSchema {
    /// 0: the whole value, bincode-encoded as this type, whenever it changes.
    Serde(Type),
    /// 1: fixed-point integers, one zigzag varint per field; a change is sent as the
    /// difference of each integer.
    Quantized(Vec<QuantizedField>),
}

/// One integer of a quantized component: `integer = round(value × scale)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedField {
    /// The field's name.
    pub name: String,
    /// Wire units per unit of the value.
    pub scale: f32,
}

/// The shape of a serde value as bincode writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Type {
    /// 0: nothing (a unit or a unit struct: a marker component).
    Unit,
    /// 1: one byte, 0 or 1.
    Bool,
    /// 2: one byte.
    U8,
    /// 3: varint.
    U16,
    /// 4: varint.
    U32,
    /// 5: varint.
    U64,
    /// 6: one byte, two's complement.
    I8,
    /// 7: zigzag varint.
    I16,
    /// 8: zigzag varint.
    I32,
    /// 9: zigzag varint.
    I64,
    /// 10: 4 bytes, little endian.
    F32,
    /// 11: 8 bytes, little endian.
    F64,
    /// 12: length, then UTF-8 bytes.
    String,
    /// 13: length, then bytes.
    Bytes,
    /// 14: one byte (0 none, 1 some), then the value if some.
    Option(#[serde(deserialize_with = "nested")] Box<Type>),
    /// 15: length, then the elements.
    Seq(#[serde(deserialize_with = "nested")] Box<Type>),
    /// 16: the elements in order (tuples and fixed-size arrays).
    Tuple(#[serde(deserialize_with = "nested")] Vec<Type>),
    /// 17: the fields in order.
    Struct {
        /// The struct's name.
        name: String,
        /// Its fields.
        #[serde(deserialize_with = "nested")]
        fields: Vec<Field>,
    },
    /// 18: the variant's index (varint), then its fields: nothing for a unit variant, the
    /// value for a newtype variant, a tuple or a struct for the others.
    Enum {
        /// The enum's name.
        name: String,
        /// Its variants in index order, each named, with its payload's type.
        #[serde(deserialize_with = "nested")]
        variants: Vec<Field>,
    },
}

/// A named field of a struct type, or a named variant of an enum type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its type.
    pub ty: Type,
}

/// Deepest nesting of types inside one another (an option of a sequence of a struct ...) that
/// a schema may have. Decoding recurses once per level, and each level is one byte on the
/// wire, so without a bound a welcome of a few hundred KiB would overflow the decoder's stack.
pub const MAX_TYPE_DEPTH: u32 = 64;

thread_local! {
    /// Levels of [`Type`] being decoded on this thread.
    static TYPE_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Decodes the types inside a type one level deeper, refusing more than [`MAX_TYPE_DEPTH`].
fn nested<'de, D: Deserializer<'de>, T: Deserialize<'de>>(decoder: D) -> Result<T, D::Error> {
    struct Level(u32);
    impl Drop for Level {
        fn drop(&mut self) {
            TYPE_DEPTH.set(self.0);
        }
    }
    let depth = TYPE_DEPTH.get();
    if depth >= MAX_TYPE_DEPTH {
        return Err(serde::de::Error::custom(format_args!(
            "types nested deeper than {MAX_TYPE_DEPTH} levels"
        )));
    }
    let _level = Level(depth);
    TYPE_DEPTH.set(depth + 1);
    T::deserialize(decoder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_options(depth: usize) -> Vec<u8> {
        let mut bytes = vec![14; depth];
        bytes.push(0);
        bytes
    }

    #[test]
    fn types_nest_up_to_the_limit() {
        let depth = MAX_TYPE_DEPTH as usize;
        let ty: Type = crate::protocol::decode_exact(&nested_options(depth), usize::MAX)
            .expect("at the limit");
        assert_eq!(super::super::encode(&ty), nested_options(depth));
    }

    #[test]
    fn deeper_types_are_refused_without_exhausting_the_stack() {
        for depth in [MAX_TYPE_DEPTH as usize + 1, 500_000] {
            let error = crate::protocol::decode_exact::<Type>(&nested_options(depth), usize::MAX)
                .expect_err("too deep");
            assert!(error.to_string().contains("nested deeper than 64"), "{error}");
        }
        // The depth is back to zero after a refusal.
        let ty: Type = crate::protocol::decode_exact(&nested_options(3), 64).expect("shallow");
        assert_eq!(
            ty,
            Type::Option(Box::new(Type::Option(Box::new(Type::Option(Box::new(Type::Unit))))))
        );
    }
}
