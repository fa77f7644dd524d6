//! Reads a serde type's wire shape ([`Type`]) off a sample value: the value is "serialized"
//! into a description instead of bytes.
//!
//! A sample shows everything a struct of numbers, strings, arrays and nested structs needs;
//! an enum is described by [`describe_variants`] from one sample of each of its variants.
//! What samples cannot show is refused with a message: an empty sequence or a `None` (the
//! element type is unseen), an enum nested inside another type (only one variant is seen),
//! maps and `char`.

use super::schema::{Field, Type};
use serde::Serialize;
use serde::de::{self, DeserializeOwned};
use serde::ser::{self, Impossible};
use std::fmt;

/// Why a type could not be described from its sample.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot describe this type from its sample: {0}")]
pub struct DescribeError(pub String);

impl ser::Error for DescribeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DescribeError(msg.to_string())
    }
}

/// The wire shape of `sample`'s type.
pub fn describe<T: Serialize + ?Sized>(sample: &T) -> Result<Type, DescribeError> {
    sample.serialize(Describer)
}

/// The wire shape of an enum, read off `samples`, one for each of its variants (in any order);
/// or of a struct, read off a single sample. No sample describes an enum without variants,
/// for a game that exchanges no messages.
pub fn describe_variants<T: Serialize>(samples: &[T]) -> Result<Type, DescribeError> {
    let mut name = String::new();
    let mut variants: Vec<Option<Field>> = Vec::new();
    for sample in samples {
        let Some((enum_name, index, variant)) = sample.serialize(VariantDescriber)? else {
            // Not an enum: one sample shows a struct whole.
            return match samples {
                [single] => describe(single),
                _ => refuse("several samples of a type that is not an enum"),
            };
        };
        name = enum_name.to_owned();
        let index = index as usize;
        if index >= variants.len() {
            variants.resize(index + 1, None);
        }
        if variants[index].replace(variant).is_some() {
            return refuse(&format!("enum {name}: two samples of variant {index}"));
        }
    }
    let missing: Vec<String> = (variants.iter().enumerate())
        .filter(|(_, v)| v.is_none())
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        return refuse(&format!(
            "enum {name}: no sample of variant {}; give one sample of each",
            missing.join(", ")
        ));
    }
    let variants = variants.into_iter().flatten().collect();
    Ok(Type::Enum { name: if name.is_empty() { "None".into() } else { name }, variants })
}

/// An enum described from one sample: the sample shows only one of its variants.
fn refuse_nested_enum<T>(name: &str) -> Result<T, DescribeError> {
    refuse(&format!(
        "enum {name}: one sample shows only one of its variants; an enum must be the whole \
         component (`replicate_variants`) or input (`GameInput::samples`), described from one \
         sample of each variant, never inside another type"
    ))
}

/// The wire shape of `T` read off `samples`, checked against `T`'s own list of variants: an
/// enum must have one sample of each (a struct one sample).
pub fn describe_all<T: Serialize + DeserializeOwned>(samples: &[T]) -> Result<Type, DescribeError> {
    let ty = match samples {
        [single] if variant_count::<T>().is_none() => describe(single)?,
        _ => describe_variants(samples)?,
    };
    if let (Type::Enum { name, variants }, Some(count)) = (&ty, variant_count::<T>())
        && variants.len() != count
    {
        return refuse(&format!(
            "enum {name} has {count} variants and the samples show {}; give one sample of each \
             (`replicate_variants` for a component, `GameInput::samples` for an input, \
             `GameMessage::samples` for a message or event)",
            variants.len()
        ));
    }
    Ok(ty)
}

/// How many variants `T` has, if it is an enum (read off its `Deserialize`, which names them).
pub fn variant_count<T: DeserializeOwned>() -> Option<usize> {
    match T::deserialize(VariantCounter) {
        Err(Counted(count)) => count,
        Ok(_) => None,
    }
}

/// A deserializer that answers nothing and notes the variants an enum asks for.
struct VariantCounter;

/// What [`VariantCounter`] found: `Some(variants)` for an enum.
#[derive(Debug)]
struct Counted(Option<usize>);

impl fmt::Display for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "counted {:?}", self.0)
    }
}

impl std::error::Error for Counted {}

impl de::Error for Counted {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Counted(None)
    }
}

impl<'de> de::Deserializer<'de> for VariantCounter {
    type Error = Counted;
    fn deserialize_any<V: de::Visitor<'de>>(self, _: V) -> Result<V::Value, Counted> {
        Err(Counted(None))
    }
    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Counted> {
        Err(Counted(Some(variants.len())))
    }
    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Counted> {
        // bincode writes a newtype as its inner value, and `describe` reads through it too;
        // an enum behind a newtype is still refused by `describe`, so count nothing here.
        Err(Counted(None))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

fn refuse<T>(what: &str) -> Result<T, DescribeError> {
    Err(DescribeError(what.to_owned()))
}

struct Describer;

/// Collects the types of a sequence's, tuple's or struct's elements.
#[derive(Default)]
struct Parts {
    name: String,
    kind: PartsKind,
    types: Vec<Type>,
    names: Vec<String>,
}

#[derive(Default, PartialEq)]
enum PartsKind {
    #[default]
    Seq,
    Tuple,
    Struct,
}

impl Parts {
    fn new(kind: PartsKind, name: &str) -> Parts {
        Parts { name: name.to_owned(), kind, ..Parts::default() }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DescribeError> {
        self.types.push(describe(value)?);
        Ok(())
    }

    fn finish(self) -> Result<Type, DescribeError> {
        match self.kind {
            PartsKind::Tuple => Ok(Type::Tuple(self.types)),
            PartsKind::Struct => Ok(Type::Struct {
                name: self.name,
                fields: (self.names.into_iter().zip(self.types))
                    .map(|(name, ty)| Field { name, ty })
                    .collect(),
            }),
            PartsKind::Seq => {
                let mut types = self.types.into_iter();
                let Some(first) = types.next() else {
                    return refuse(
                        "an empty sequence shows no element type; give a sample with one element",
                    );
                };
                if types.any(|t| t != first) {
                    return refuse("a sequence whose elements differ in shape");
                }
                Ok(Type::Seq(Box::new(first)))
            }
        }
    }
}

impl ser::Serializer for Describer {
    type Ok = Type;
    type Error = DescribeError;
    type SerializeSeq = Parts;
    type SerializeTuple = Parts;
    type SerializeTupleStruct = Parts;
    type SerializeTupleVariant = Impossible<Type, DescribeError>;
    type SerializeMap = Impossible<Type, DescribeError>;
    type SerializeStruct = Parts;
    type SerializeStructVariant = Impossible<Type, DescribeError>;

    fn serialize_bool(self, _: bool) -> Result<Type, DescribeError> {
        Ok(Type::Bool)
    }
    fn serialize_i8(self, _: i8) -> Result<Type, DescribeError> {
        Ok(Type::I8)
    }
    fn serialize_i16(self, _: i16) -> Result<Type, DescribeError> {
        Ok(Type::I16)
    }
    fn serialize_i32(self, _: i32) -> Result<Type, DescribeError> {
        Ok(Type::I32)
    }
    fn serialize_i64(self, _: i64) -> Result<Type, DescribeError> {
        Ok(Type::I64)
    }
    fn serialize_u8(self, _: u8) -> Result<Type, DescribeError> {
        Ok(Type::U8)
    }
    fn serialize_u16(self, _: u16) -> Result<Type, DescribeError> {
        Ok(Type::U16)
    }
    fn serialize_u32(self, _: u32) -> Result<Type, DescribeError> {
        Ok(Type::U32)
    }
    fn serialize_u64(self, _: u64) -> Result<Type, DescribeError> {
        Ok(Type::U64)
    }
    fn serialize_f32(self, _: f32) -> Result<Type, DescribeError> {
        Ok(Type::F32)
    }
    fn serialize_f64(self, _: f64) -> Result<Type, DescribeError> {
        Ok(Type::F64)
    }
    fn serialize_char(self, _: char) -> Result<Type, DescribeError> {
        refuse("char is not supported; use a String or a u32")
    }
    fn serialize_str(self, _: &str) -> Result<Type, DescribeError> {
        Ok(Type::String)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Type, DescribeError> {
        Ok(Type::Bytes)
    }
    fn serialize_none(self) -> Result<Type, DescribeError> {
        refuse("a None shows no inner type; give a sample holding Some")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Type, DescribeError> {
        Ok(Type::Option(Box::new(describe(value)?)))
    }
    fn serialize_unit(self) -> Result<Type, DescribeError> {
        Ok(Type::Unit)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Type, DescribeError> {
        Ok(Type::Unit)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<Type, DescribeError> {
        refuse_nested_enum(name)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Type, DescribeError> {
        // bincode writes a newtype as its inner value.
        describe(value)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Type, DescribeError> {
        refuse_nested_enum(name)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Parts, DescribeError> {
        Ok(Parts::new(PartsKind::Seq, ""))
    }
    fn serialize_tuple(self, _: usize) -> Result<Parts, DescribeError> {
        Ok(Parts::new(PartsKind::Tuple, ""))
    }
    fn serialize_tuple_struct(self, name: &'static str, _: usize) -> Result<Parts, DescribeError> {
        Ok(Parts::new(PartsKind::Tuple, name))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, DescribeError> {
        refuse_nested_enum(name)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, DescribeError> {
        refuse("maps are not supported; use a sequence of pairs")
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Parts, DescribeError> {
        Ok(Parts::new(PartsKind::Struct, name))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, DescribeError> {
        refuse_nested_enum(name)
    }
}

/// Describes one enum variant: `Some((enum name, variant index, variant))`, or `None` for a
/// value that is not an enum variant.
struct VariantDescriber;

type Described = Option<(&'static str, u32, Field)>;

/// A tuple or struct variant's fields being described.
struct VariantParts {
    header: (&'static str, u32, &'static str),
    parts: Parts,
}

impl VariantParts {
    fn finish(self) -> Result<Described, DescribeError> {
        let (name, index, variant) = self.header;
        let ty = self.parts.finish()?;
        Ok(Some((name, index, Field { name: variant.to_owned(), ty })))
    }
}

impl ser::SerializeTupleVariant for VariantParts {
    type Ok = Described;
    type Error = DescribeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DescribeError> {
        self.parts.push(value)
    }
    fn end(self) -> Result<Described, DescribeError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for VariantParts {
    type Ok = Described;
    type Error = DescribeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), DescribeError> {
        self.parts.names.push(key.to_owned());
        self.parts.push(value)
    }
    fn end(self) -> Result<Described, DescribeError> {
        self.finish()
    }
}

/// Every method a non-variant value reaches answers `None`.
macro_rules! not_a_variant {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Described, DescribeError> {
            Ok(None)
        })*
    };
}

impl ser::Serializer for VariantDescriber {
    type Ok = Described;
    type Error = DescribeError;
    type SerializeSeq = NotAVariant;
    type SerializeTuple = NotAVariant;
    type SerializeTupleStruct = NotAVariant;
    type SerializeTupleVariant = VariantParts;
    type SerializeMap = NotAVariant;
    type SerializeStruct = NotAVariant;
    type SerializeStructVariant = VariantParts;

    not_a_variant! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Described, DescribeError> {
        Ok(None)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Described, DescribeError> {
        value.serialize(VariantDescriber)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Described, DescribeError> {
        Ok(Some((name, index, Field { name: variant.to_owned(), ty: Type::Unit })))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Described, DescribeError> {
        Ok(Some((name, index, Field { name: variant.to_owned(), ty: describe(value)? })))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<VariantParts, DescribeError> {
        Ok(VariantParts { header: (name, index, variant), parts: Parts::new(PartsKind::Tuple, "") })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<VariantParts, DescribeError> {
        Ok(VariantParts {
            header: (name, index, variant),
            parts: Parts::new(PartsKind::Struct, variant),
        })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<NotAVariant, DescribeError> {
        Ok(NotAVariant)
    }
    fn serialize_tuple(self, _: usize) -> Result<NotAVariant, DescribeError> {
        Ok(NotAVariant)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<NotAVariant, DescribeError> {
        Ok(NotAVariant)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<NotAVariant, DescribeError> {
        Ok(NotAVariant)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<NotAVariant, DescribeError> {
        Ok(NotAVariant)
    }
}

/// A compound value that is not an enum variant: its parts are not looked at.
struct NotAVariant;

macro_rules! skip_parts {
    ($($trait:ident { $($method:ident($($arg:ident: $ty:ty),*);)* })*) => {
        $(impl ser::$trait for NotAVariant {
            type Ok = Described;
            type Error = DescribeError;
            $(fn $method<T: Serialize + ?Sized>(&mut self, $($arg: $ty),*) -> Result<(), DescribeError> {
                let _ = ($($arg),*);
                Ok(())
            })*
            fn end(self) -> Result<Described, DescribeError> {
                Ok(None)
            }
        })*
    };
}

skip_parts! {
    SerializeSeq { serialize_element(value: &T); }
    SerializeTuple { serialize_element(value: &T); }
    SerializeTupleStruct { serialize_field(value: &T); }
    SerializeMap { serialize_key(key: &T); serialize_value(value: &T); }
    SerializeStruct { serialize_field(key: &'static str, value: &T); }
}

/// The element-by-element parts of a sequence, tuple or tuple struct: each element's type.
macro_rules! positional_parts {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for Parts {
            type Ok = Type;
            type Error = DescribeError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DescribeError> {
                self.push(value)
            }
            fn end(self) -> Result<Type, DescribeError> {
                self.finish()
            }
        })*
    };
}

positional_parts!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeStruct for Parts {
    type Ok = Type;
    type Error = DescribeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), DescribeError> {
        self.names.push(key.to_owned());
        self.push(value)
    }
    fn end(self) -> Result<Type, DescribeError> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Inner(u8, i32);

    #[derive(Serialize)]
    struct Sample {
        flag: bool,
        pair: Inner,
        rgb: [u8; 3],
        name: String,
        tags: Vec<u16>,
        maybe: Option<f32>,
    }

    #[test]
    fn describes_a_struct_from_its_sample() {
        let sample = Sample {
            flag: true,
            pair: Inner(1, -2),
            rgb: [1, 2, 3],
            name: "x".into(),
            tags: vec![7],
            maybe: Some(1.0),
        };
        let Type::Struct { name, fields } = describe(&sample).expect("describes") else {
            panic!("not a struct")
        };
        assert_eq!(name, "Sample");
        let types: Vec<_> = fields.iter().map(|f| (f.name.as_str(), f.ty.clone())).collect();
        assert_eq!(
            types,
            [
                ("flag", Type::Bool),
                ("pair", Type::Tuple(vec![Type::U8, Type::I32])),
                ("rgb", Type::Tuple(vec![Type::U8; 3])),
                ("name", Type::String),
                ("tags", Type::Seq(Box::new(Type::U16))),
                ("maybe", Type::Option(Box::new(Type::F32))),
            ]
        );
    }

    #[test]
    fn refuses_what_a_sample_cannot_show() {
        assert!(describe(&Vec::<u8>::new()).is_err());
        assert!(describe(&None::<u8>).is_err());
        assert!(describe(&'c').is_err());
        #[derive(Serialize)]
        enum Mode {
            A,
        }
        assert!(describe(&Mode::A).is_err_and(|e| e.0.contains("enum Mode: one sample")));
    }

    #[derive(Serialize)]
    enum Chat {
        Hello,
        Say { text: String },
        Emote(u8),
        Pair(u8, String),
    }

    #[test]
    fn describes_an_enum_from_one_sample_of_each_variant() {
        let samples = [
            Chat::Pair(1, "a".into()),
            Chat::Hello,
            Chat::Emote(2),
            Chat::Say { text: "hi".into() },
        ];
        let Type::Enum { name, variants } = describe_variants(&samples).expect("describes") else {
            panic!("not an enum")
        };
        assert_eq!(name, "Chat");
        let shapes: Vec<_> = variants.iter().map(|v| (v.name.as_str(), v.ty.clone())).collect();
        let text = Field { name: "text".into(), ty: Type::String };
        assert_eq!(
            shapes,
            [
                ("Hello", Type::Unit),
                ("Say", Type::Struct { name: "Say".into(), fields: vec![text] }),
                ("Emote", Type::U8),
                ("Pair", Type::Tuple(vec![Type::U8, Type::String])),
            ]
        );
    }

    #[derive(Serialize, serde::Deserialize, Default)]
    enum Stance {
        #[default]
        Idle,
        Running {
            speed: u8,
        },
        Down(u16),
    }

    #[derive(Serialize, serde::Deserialize, Default)]
    struct Holder(Stance);

    #[test]
    fn describe_all_checks_an_enum_against_its_variant_count() {
        assert_eq!(variant_count::<Stance>(), Some(3));
        assert_eq!(variant_count::<Holder>(), None);
        assert_eq!(variant_count::<u8>(), None);
        let all = [Stance::Down(1), Stance::Idle, Stance::Running { speed: 2 }];
        let Ok(Type::Enum { name, variants }) = describe_all(&all) else { panic!("an enum") };
        assert_eq!((name.as_str(), variants.len()), ("Stance", 3));
        // The last variant missing is seen only by the count.
        let short = describe_all(&[Stance::Idle, Stance::Running { speed: 2 }]).expect_err("");
        assert!(short.0.contains("Stance has 3 variants and the samples show 2"), "{short}");
        let one = describe_all(&[Stance::Idle]).expect_err("one sample");
        assert!(one.0.contains("has 3 variants"), "{one}");
        let nested = describe_all(&[Holder::default()]).expect_err("nested");
        assert!(nested.0.contains("enum Stance: one sample"), "{nested}");
        assert!(matches!(describe_all(&[(1u8, 2u16)]), Ok(Type::Tuple(_))));
    }

    #[test]
    fn an_enum_needs_every_variant_once_and_a_struct_one_sample() {
        let missing = describe_variants(&[Chat::Hello, Chat::Emote(1)]).expect_err("gaps");
        assert!(missing.0.contains("no sample of variant 1"), "{missing}");
        let twice = describe_variants(&[Chat::Hello, Chat::Hello]).expect_err("twice");
        assert!(twice.0.contains("two samples of variant 0"), "{twice}");
        #[derive(Serialize)]
        struct Note {
            text: String,
        }
        let note = Note { text: "x".into() };
        assert!(matches!(describe_variants(&[note]), Ok(Type::Struct { .. })));
        assert_eq!(
            describe_variants::<Chat>(&[]),
            Ok(Type::Enum { name: "None".into(), variants: vec![] })
        );
    }
}
