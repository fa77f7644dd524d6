//! Reads a serde type's wire shape ([`Type`]) off a sample value: the value is "serialized"
//! into a description instead of bytes.
//!
//! A sample shows everything a struct of numbers, strings, arrays and nested structs needs.
//! What a sample cannot show is refused with a message: an empty sequence or a `None` (the
//! element type is unseen), enums (only one variant is seen), maps and `char`.

use super::schema::{Field, Type};
use serde::Serialize;
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
        refuse(&format!("enum {name}: enums are not supported; use a number or a struct"))
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
        refuse(&format!("enum {name}: enums are not supported; use a number or a struct"))
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
        refuse(&format!("enum {name}: enums are not supported; use a number or a struct"))
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
        refuse(&format!("enum {name}: enums are not supported; use a number or a struct"))
    }
}

impl ser::SerializeSeq for Parts {
    type Ok = Type;
    type Error = DescribeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DescribeError> {
        self.push(value)
    }
    fn end(self) -> Result<Type, DescribeError> {
        self.finish()
    }
}

impl ser::SerializeTuple for Parts {
    type Ok = Type;
    type Error = DescribeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DescribeError> {
        self.push(value)
    }
    fn end(self) -> Result<Type, DescribeError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Parts {
    type Ok = Type;
    type Error = DescribeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DescribeError> {
        self.push(value)
    }
    fn end(self) -> Result<Type, DescribeError> {
        self.finish()
    }
}

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
        assert!(describe(&Mode::A).is_err_and(|e| e.0.contains("enum Mode")));
    }
}
