//! Any message decoded into JSON from the bytes and the schema alone: what a generic client
//! sees. The golden vectors pin this JSON beside the bytes, and `client-demo/tickwire/` must
//! decode the same bytes to the same JSON.

use super::schema::{CodecSchema, Schema, Type};
use super::tags::{
    COP_DELTA, COP_KINDS, COP_REMOVE, COP_SET, MSG_DELTA, MSG_EVENT, MSG_FULL, MSG_INPUT,
    MSG_MESSAGE, MSG_NOTICE, MSG_PING, MSG_PONG, MSG_WELCOME, OP_CHANGES, OP_DESPAWN, OP_OWN,
    OP_SINGLE, OP_SPAWN,
};
use super::{Reader, Welcome, WireError, decode_exact};
use serde_json::{Map, Value, json};

/// Why bytes could not be inspected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    /// Not a valid encoding.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// Valid bytes that name something the schema lacks, or need a schema not given.
    #[error("{0}")]
    Schema(String),
}

/// A server message as JSON; snapshots and the game's welcome value need `schema`.
pub fn server_message(bytes: &[u8], schema: Option<&Schema>) -> Result<Value, InspectError> {
    let mut r = Reader::new(bytes);
    let tag = r.u32()?;
    let value = match u8::try_from(tag).unwrap_or(u8::MAX) {
        MSG_WELCOME => {
            let welcome: Welcome = decode_exact(r.rest(), usize::MAX)
                .map_err(|e| InspectError::Schema(e.to_string()))?;
            let game = value(&mut Reader::new(&welcome.game), &welcome.schema.welcome)?;
            return Ok(json!({
                "type": "Welcome",
                "protocol_version": welcome.protocol_version,
                "client_id": welcome.client_id,
                "entity_id": welcome.entity_id,
                "tick_rate_hz": welcome.tick_rate_hz,
                "schema_hash": format!("{:016x}", welcome.schema_hash),
                "schema": serde_json::to_value(&welcome.schema).map_err(|e| InspectError::Schema(e.to_string()))?,
                "game": game,
                "resume_token": welcome.resume_token.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            }));
        }
        MSG_PONG => json!({"type": "Pong", "id": r.u32()?, "tick": r.u32()?, "clients": r.u32()?}),
        MSG_NOTICE => {
            let notice: super::Notice = decode_exact(r.rest(), usize::MAX)
                .map_err(|e| InspectError::Schema(e.to_string()))?;
            return Ok(json!({"type": "Notice", "tick": notice.tick, "text": notice.text}));
        }
        MSG_EVENT => {
            let schema =
                schema.ok_or_else(|| InspectError::Schema("an event needs the schema".into()))?;
            let tick = r.u32()?;
            json!({"type": "Event", "tick": tick, "event": value(&mut r, &schema.event)?})
        }
        MSG_FULL | MSG_DELTA => {
            let schema =
                schema.ok_or_else(|| InspectError::Schema("a snapshot needs the schema".into()))?;
            let a = r.u32()?;
            let (b, pacing) = if tag == u32::from(MSG_FULL) {
                (r.u32()?, r.i32()?)
            } else {
                super::tags::unpack_ack(r.u64()?)
                    .ok_or_else(|| r.malformed("seq delta overflow"))?
            };
            let ops = ops(&mut r, schema)?;
            if tag == u32::from(MSG_FULL) {
                json!({"type": "Full", "tick": a, "last_input_seq": b, "pacing": pacing, "ops": ops})
            } else {
                json!({"type": "Delta", "tick_delta": a, "input_seq_delta": b, "pacing": pacing, "ops": ops})
            }
        }
        _ => return Err(r.malformed("unknown message tag").into()),
    };
    r.finish()?;
    Ok(value)
}

/// A client message as JSON; an input needs `schema` for the game's input.
pub fn client_message(bytes: &[u8], schema: &Schema) -> Result<Value, InspectError> {
    let mut r = Reader::new(bytes);
    let value = match u8::try_from(r.u32()?).unwrap_or(u8::MAX) {
        MSG_INPUT => {
            let seq = r.u32()?;
            json!({"type": "Input", "seq": seq, "input": value(&mut r, &schema.input)?})
        }
        MSG_PING => json!({"type": "Ping", "id": r.u32()?}),
        MSG_MESSAGE => json!({"type": "Message", "message": value(&mut r, &schema.message)?}),
        _ => return Err(r.malformed("unknown message tag").into()),
    };
    r.finish()?;
    Ok(value)
}

fn ops(r: &mut Reader<'_>, schema: &Schema) -> Result<Vec<Value>, InspectError> {
    let count = r.count()?;
    let mut out = Vec::with_capacity(count);
    let mut id = 0u32;
    for _ in 0..count {
        let tag = r.u32()?;
        if tag == u32::from(OP_OWN) {
            out.push(json!({"op": "Own", "changes": component_ops(r, schema)?}));
            continue;
        }
        id = id.checked_add(r.u32()?).ok_or_else(|| r.malformed("id overflow"))?;
        out.push(match tag {
            t if t == u32::from(OP_SPAWN) => {
                let n = r.count()?;
                let mut components = Vec::with_capacity(n);
                for _ in 0..n {
                    let cid = r.u32()?;
                    components.push(json!({"component": cid, "value": full(r, schema, cid)?}));
                }
                json!({"op": "Spawn", "id": id, "components": components})
            }
            t if t == u32::from(OP_DESPAWN) => json!({"op": "Despawn", "id": id}),
            t if t == u32::from(OP_CHANGES) => {
                json!({"op": "Changes", "id": id, "changes": component_ops(r, schema)?})
            }
            t => {
                let change = component_op(r, schema, t - u32::from(OP_SINGLE))?;
                json!({"op": "Changes", "id": id, "changes": [change]})
            }
        });
    }
    Ok(out)
}

fn component_ops(r: &mut Reader<'_>, schema: &Schema) -> Result<Vec<Value>, InspectError> {
    let n = r.count()?;
    (0..n)
        .map(|_| {
            let cop = r.u32()?;
            component_op(r, schema, cop)
        })
        .collect()
}

fn component_op(r: &mut Reader<'_>, schema: &Schema, cop: u32) -> Result<Value, InspectError> {
    let (cid, kind) = (cop / COP_KINDS, cop % COP_KINDS);
    Ok(match kind {
        COP_SET => json!({"component": cid, "set": full(r, schema, cid)?}),
        COP_DELTA => {
            let Some(CodecSchema::Quantized(fields)) = codec(schema, cid).map(Some)? else {
                return Err(InspectError::Schema(format!(
                    "delta for component {cid}, which is not quantized"
                )));
            };
            let deltas = fields.iter().map(|_| r.i32()).collect::<Result<Vec<_>, _>>()?;
            json!({"component": cid, "delta": deltas})
        }
        COP_REMOVE => json!({"component": cid, "remove": true}),
        _ => unreachable!("cop % 3 is below 3"),
    })
}

fn codec(schema: &Schema, cid: u32) -> Result<&CodecSchema, InspectError> {
    let component = usize::try_from(cid).ok().and_then(|i| schema.components.get(i));
    component
        .map(|c| &c.codec)
        .ok_or_else(|| InspectError::Schema(format!("component {cid} is not in the schema")))
}

/// A component's whole value.
fn full(r: &mut Reader<'_>, schema: &Schema, cid: u32) -> Result<Value, InspectError> {
    match codec(schema, cid)? {
        CodecSchema::Serde(ty) => value(r, ty),
        CodecSchema::Quantized(fields) => {
            let ints = fields.iter().map(|_| r.i32()).collect::<Result<Vec<_>, _>>()?;
            Ok(json!(ints))
        }
    }
}

/// One value of type `ty`.
pub fn value(r: &mut Reader<'_>, ty: &Type) -> Result<Value, InspectError> {
    let mut empty_budget = r.rest().len();
    value_in(r, ty, &mut empty_budget)
}

/// Fewest bytes a value of `ty` takes on the wire.
fn min_wire_bytes(ty: &Type) -> usize {
    match ty {
        Type::Unit => 0,
        Type::F32 => 4,
        Type::F64 => 8,
        Type::Tuple(items) => items.iter().map(min_wire_bytes).sum(),
        Type::Struct { fields, .. } => fields.iter().map(|f| min_wire_bytes(&f.ty)).sum(),
        // The variant index is a varint of at least one byte.
        _ => 1,
    }
}

/// [`value`], with `empty_budget` the elements taking no bytes (a sequence of units) still
/// allowed. A length is bounded by the bytes left, which bounds the elements only when each
/// takes a byte: without the budget a sequence of sequences of units would yield a number of
/// values quadratic in the message's length (a 64 KiB message, a billion).
fn value_in(
    r: &mut Reader<'_>,
    ty: &Type,
    empty_budget: &mut usize,
) -> Result<Value, InspectError> {
    Ok(match ty {
        Type::Unit => Value::Null,
        Type::Bool => match r.u8()? {
            0 => json!(false),
            1 => json!(true),
            _ => return Err(r.malformed("bool is neither 0 nor 1").into()),
        },
        Type::U8 => json!(r.u8()?),
        Type::U16 => json!(u16::try_from(r.u64()?).map_err(|_| r.malformed("u16 overflow"))?),
        Type::U32 => json!(r.u32()?),
        Type::U64 => json!(r.u64()?),
        Type::I8 => json!(r.u8()? as i8),
        Type::I16 => json!(i16::try_from(r.i64()?).map_err(|_| r.malformed("i16 overflow"))?),
        Type::I32 => json!(r.i32()?),
        Type::I64 => json!(r.i64()?),
        Type::F32 => {
            json!(f32::from_le_bytes(r.take(4)?.try_into().map_err(|_| r.malformed("f32"))?))
        }
        Type::F64 => {
            json!(f64::from_le_bytes(r.take(8)?.try_into().map_err(|_| r.malformed("f64"))?))
        }
        Type::String => {
            let len = r.count()?;
            let at = r.position();
            let text = std::str::from_utf8(r.take(len)?)
                .map_err(|_| WireError { at, what: "string is not UTF-8" })?;
            json!(text)
        }
        Type::Bytes => {
            let len = r.count()?;
            json!(r.take(len)?)
        }
        Type::Option(inner) => match r.u8()? {
            0 => Value::Null,
            1 => value_in(r, inner, empty_budget)?,
            _ => return Err(r.malformed("option tag is neither 0 nor 1").into()),
        },
        Type::Seq(inner) => {
            let len = r.count()?;
            if min_wire_bytes(inner) == 0 {
                *empty_budget = empty_budget
                    .checked_sub(len)
                    .ok_or_else(|| r.malformed("more empty elements than the message has bytes"))?;
            }
            let items = (0..len).map(|_| value_in(r, inner, empty_budget));
            Value::Array(items.collect::<Result<_, _>>()?)
        }
        Type::Tuple(items) => {
            let items = items.iter().map(|t| value_in(r, t, empty_budget));
            Value::Array(items.collect::<Result<_, _>>()?)
        }
        Type::Struct { fields, .. } => {
            let mut map = Map::new();
            for field in fields {
                map.insert(field.name.clone(), value_in(r, &field.ty, empty_budget)?);
            }
            Value::Object(map)
        }
        Type::Enum { variants, .. } => {
            let index = r.u32()? as usize;
            let Some(variant) = variants.get(index) else {
                return Err(r.malformed("enum variant index out of range").into());
            };
            // serde's externally tagged form: a unit variant is its name, the others a
            // one-key object.
            if variant.ty == Type::Unit {
                json!(variant.name)
            } else {
                let mut map = Map::new();
                map.insert(variant.name.clone(), value_in(r, &variant.ty, empty_budget)?);
                Value::Object(map)
            }
        }
    })
}
