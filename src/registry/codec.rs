//! The two ways a component's values are written: whole with serde, or as quantized integers
//! whose changes are sent as differences.

use super::rule::{AnyValue, WireBytes};
use crate::protocol::{self, CodecSchema, QuantizedField, Reader, WireError, varint};
use bevy_ecs::component::Component;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::marker::PhantomData;

/// Most integers one quantized component may have.
pub const MAX_QUANTIZED_FIELDS: usize = 4;

/// A component written as fixed-point integers, so that a small change costs a byte or two.
///
/// `quantize` and `dequantize` must round-trip exactly for values already on the grid: the
/// simulation should keep such a component snapped (a position moved in 1/64 steps, for
/// example), so that what clients rebuild equals what the server holds.
///
/// ```
/// use bevy_ecs::component::Component;
/// use tickwire::Quantized;
///
/// #[derive(Component, Clone, PartialEq, Debug)]
/// struct Heading(f32);
///
/// impl Quantized for Heading {
///     const FIELDS: &'static [(&'static str, f32)] = &[("radians", 1024.0)];
///     fn quantize(&self, out: &mut [i32]) {
///         out[0] = (self.0 * 1024.0).round() as i32;
///     }
///     fn dequantize(values: &[i32]) -> Self {
///         Heading(values[0] as f32 / 1024.0)
///     }
/// }
/// ```
pub trait Quantized: Component + Clone + PartialEq + Debug {
    /// Each integer's name and scale (wire units per unit); at most [`MAX_QUANTIZED_FIELDS`].
    const FIELDS: &'static [(&'static str, f32)];
    /// Writes one integer per field into `out` (whose length is `FIELDS.len()`).
    fn quantize(&self, out: &mut [i32]);
    /// The value the integers stand for.
    fn dequantize(values: &[i32]) -> Self;
}

/// How one component's values are captured, compared and written (internal).
pub(crate) trait Codec: Send + Sync + 'static {
    /// The component.
    type C: Component + Clone;
    /// What is kept and compared: the component itself, or its integers.
    type V: Clone + PartialEq + Debug + Send + Sync + 'static;
    /// A quantized codec's integers per value; 0 for any other.
    const FIELDS: usize;
    fn value(component: &Self::C) -> Self::V;
    /// Whether `component` is what `held` stands for (without building a value for it).
    fn same(component: &Self::C, held: &Self::V) -> bool;
    fn component(value: &Self::V) -> Self::C;
    /// The wire shape, read off `samples` (a struct's one sample, an enum's one per variant).
    fn schema(samples: &[Self::C]) -> Result<CodecSchema, String>;
    fn encode(value: &Self::V, out: &mut Vec<u8>);
    fn decode(reader: &mut Reader<'_>) -> Result<Self::V, WireError>;
    /// Writes the change from `old` to `new` as a delta; `false` when this codec has none.
    fn encode_delta(old: &Self::V, new: &Self::V, out: &mut Vec<u8>) -> bool;
    /// The value as a client replica holds it; `wire` is its encoding as received.
    fn hold(value: Self::V, wire: &[u8]) -> AnyValue;
    /// A value a client replica holds, back.
    fn unhold(held: &AnyValue) -> Option<Self::V>;
}

/// The default codec: the whole value with serde, whenever it changes.
pub(crate) struct SerdeCodec<C>(PhantomData<fn() -> C>);

impl<C> Codec for SerdeCodec<C>
where
    C: Component + Clone + PartialEq + Debug + Serialize + DeserializeOwned + Send + Sync,
{
    type C = C;
    type V = C;
    const FIELDS: usize = 0;
    fn value(component: &C) -> C {
        component.clone()
    }
    fn same(component: &C, held: &C) -> bool {
        component == held
    }
    fn component(value: &C) -> C {
        value.clone()
    }
    fn schema(samples: &[C]) -> Result<CodecSchema, String> {
        if samples.is_empty() {
            return Err("a serde component needs a sample value".into());
        }
        let ty = protocol::describe::describe_all(samples).map_err(|e| e.to_string())?;
        Ok(CodecSchema::Serde(ty))
    }
    fn encode(value: &C, out: &mut Vec<u8>) {
        protocol::encode_into(value, out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<C, WireError> {
        reader.value()
    }
    fn encode_delta(_: &C, _: &C, _: &mut Vec<u8>) -> bool {
        false
    }
    fn hold(_: C, wire: &[u8]) -> AnyValue {
        AnyValue::Bytes(WireBytes::new(wire))
    }
    fn unhold(held: &AnyValue) -> Option<C> {
        let AnyValue::Bytes(bytes) = held else { return None };
        let bytes = bytes.as_slice();
        protocol::decode_exact(bytes, bytes.len()).ok()
    }
}

/// The quantized codec: integers, changes as differences.
pub(crate) struct QuantizedCodec<C>(PhantomData<fn() -> C>);

/// A quantized component's integers (unused ones are 0).
pub(crate) type Quants = [i32; MAX_QUANTIZED_FIELDS];

impl<C: Quantized> Codec for QuantizedCodec<C> {
    type C = C;
    type V = Quants;
    const FIELDS: usize = C::FIELDS.len();
    fn value(component: &C) -> Quants {
        let mut out = [0; MAX_QUANTIZED_FIELDS];
        component.quantize(&mut out[..C::FIELDS.len()]);
        out
    }
    fn same(component: &C, held: &Quants) -> bool {
        Self::value(component) == *held
    }
    fn component(value: &Quants) -> C {
        C::dequantize(&value[..C::FIELDS.len()])
    }
    fn schema(_: &[C]) -> Result<CodecSchema, String> {
        if C::FIELDS.is_empty() || C::FIELDS.len() > MAX_QUANTIZED_FIELDS {
            return Err(format!("a quantized component has 1 to {MAX_QUANTIZED_FIELDS} fields"));
        }
        let fields =
            C::FIELDS.iter().map(|&(name, scale)| QuantizedField { name: name.to_owned(), scale });
        Ok(CodecSchema::Quantized(fields.collect()))
    }
    fn encode(value: &Quants, out: &mut Vec<u8>) {
        for &v in &value[..C::FIELDS.len()] {
            varint::write_i32(out, v);
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Quants, WireError> {
        let mut out = [0; MAX_QUANTIZED_FIELDS];
        for v in &mut out[..C::FIELDS.len()] {
            *v = reader.i32()?;
        }
        Ok(out)
    }
    fn encode_delta(old: &Quants, new: &Quants, out: &mut Vec<u8>) -> bool {
        for (a, b) in old.iter().zip(new).take(C::FIELDS.len()) {
            varint::write_i32(out, b.wrapping_sub(*a));
        }
        true
    }
    fn hold(value: Quants, _: &[u8]) -> AnyValue {
        AnyValue::Ints(value)
    }
    fn unhold(held: &AnyValue) -> Option<Quants> {
        match held {
            AnyValue::Ints(ints) => Some(*ints),
            AnyValue::Bytes(_) => None,
        }
    }
}
