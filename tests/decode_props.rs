//! Property: arbitrary bytes (up to 4 KiB, and mutations of the golden vectors) never make a
//! decoder panic, and never make it allocate more than its message can justify. The bounded
//! cousin of the fuzz targets in `fuzz/` (`docs/fuzzing.md`), run with the normal suite.
//!
//! How allocation is bounded, and checked. A counting `#[global_allocator]` would need an
//! `unsafe impl GlobalAlloc`, which `unsafe_code = "forbid"` (Cargo.toml `[lints]`, every
//! target) rules out, so the bound is checked where each decoder takes it from:
//!
//! - the hand-written decoders (`Reader`: `decode_client`'s header, `inspect`, `Replica`) size
//!   a collection only from `Reader::count`, which refuses a length beyond the bytes left;
//!   `inspect` also limits elements that take no bytes to the message's length, and a
//!   `Replica` holds no entity id above `MAX_ENTITY_ID`;
//! - serde values go through bincode with a limit on what a length prefix may claim, chosen
//!   from the message's size (`SHORT_DECODE_LIMIT_BYTES` for a client message of at most 64
//!   bytes). bincode checks the claim *before* it allocates, so a decode that claims more fails
//!   with `LimitExceeded` having allocated nothing for it;
//! - `decode_client` refuses a message over its limit before reading a byte.

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use tickwire::arena::{Arena, ArenaInput, ArenaMessage};
use tickwire::net::wsframe::{Decoder, Frame};
use tickwire::protocol::{
    ClientMessage, DecodeError, Reader, SHORT_DECODE_LIMIT_BYTES, SHORT_MESSAGE_BYTES, Schema,
    decode_client, decode_control, inspect, varint,
};
use tickwire::replication::ReplicaError;
use tickwire::replication::replica::MAX_ENTITY_ID;
use tickwire::{GameInput, Registry, Replica, registry_of};

/// bincode `standard()`'s varint of `value`.
fn write_u64(out: &mut Vec<u8>, value: u64) {
    match value {
        0..=250 => out.push(value as u8),
        251..=0xFFFF => out.extend([&[251][..], &(value as u16).to_le_bytes()].concat()),
        0x1_0000..=0xFFFF_FFFF => out.extend([&[252][..], &(value as u32).to_le_bytes()].concat()),
        _ => out.extend([&[253][..], &value.to_le_bytes()].concat()),
    }
}

/// A game input with every kind of length prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Chat {
    text: String,
    tags: Vec<u16>,
    blob: Option<Vec<u8>>,
}

const LARGE_LIMIT_BYTES: usize = 1 << 16;

fn arena() -> &'static (Arc<Registry>, Schema) {
    static ARENA: OnceLock<(Arc<Registry>, Schema)> = OnceLock::new();
    ARENA.get_or_init(|| registry_of(&mut Arena::default()).expect("the arena registers"))
}

/// The bytes of every golden vector (tests/vectors/*.json).
fn golden() -> &'static [Vec<u8>] {
    static GOLDEN: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    GOLDEN.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("vectors") {
            // The arena's vectors; `enums/` holds another game's.
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let text = std::fs::read_to_string(path).expect("read");
            let json: serde_json::Value = serde_json::from_str(&text).expect("json");
            let vectors = json.as_array().cloned().unwrap_or_else(|| vec![json]);
            for vector in vectors {
                let hex = vector["hex"].as_str().expect("hex");
                out.push(
                    (0..hex.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                        .collect(),
                );
            }
        }
        out
    })
}

/// Arbitrary bytes, or a golden vector with a few bytes changed, cut or extended.
fn message() -> impl Strategy<Value = Vec<u8>> {
    let mutated = (any::<prop::sample::Index>(), prop::collection::vec(any::<(usize, u8)>(), 0..6))
        .prop_map(|(pick, edits)| {
            let mut bytes = pick.get(golden()).clone();
            for (at, byte) in edits {
                match at % 3 {
                    0 if !bytes.is_empty() => {
                        let at = at % bytes.len();
                        bytes[at] = byte;
                    }
                    1 => bytes.truncate(at % (bytes.len() + 1)),
                    _ => bytes.push(byte),
                }
            }
            bytes
        });
    prop_oneof![prop::collection::vec(any::<u8>(), 0..4096), mutated]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn client_decoders_never_panic(bytes in message()) {
        for limit in [SHORT_MESSAGE_BYTES, LARGE_LIMIT_BYTES] {
            match decode_client::<ArenaInput, ArenaMessage>(&bytes, limit) {
                Ok(ClientMessage::Input { input, .. }) => { let _ = input.validate(); }
                Ok(_) => {}
                Err(DecodeError::TooLarge { .. }) => prop_assert!(bytes.len() > limit),
                Err(_) => prop_assert!(bytes.len() <= limit),
            }
        }
        let _ = decode_client::<Chat, Chat>(&bytes, LARGE_LIMIT_BYTES);
        let _ = inspect::client_message(&bytes, &arena().1);
    }

    #[test]
    fn server_decoders_never_panic(messages in prop::collection::vec(message(), 1..6)) {
        let (registry, schema) = arena();
        let mut replica = Replica::new(registry.clone());
        for bytes in &messages {
            let _ = inspect::server_message(bytes, Some(schema));
            let _ = decode_control(bytes);
            let _ = Replica::new(registry.clone()).apply(bytes);
            let _ = replica.apply(bytes);
            prop_assert!(replica.ids().all(|id| id <= MAX_ENTITY_ID));
        }
    }

    /// The read threads' frame decoder, on arbitrary bytes split at arbitrary reads: no
    /// panic, messages within the limit, a violation with a status the server may send, and
    /// never more than one frame's bytes held.
    #[test]
    fn client_frames_decode_within_their_limits(
        bytes in prop::collection::vec(any::<u8>(), 0..6000),
        step in 1usize..100,
        masked in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if masked && bytes.len() > 1 {
            // Mostly well-formed headers, so decoding goes past the first two bytes.
            bytes[0] = 0x80 | ((bytes[0] & 0x0F) % 3);
            bytes[1] |= 0x80;
        }
        let limit = tickwire::config::CLIENT_MAX_FRAME_BYTES;
        let mut decoder = Decoder::default();
        'pieces: for piece in bytes.chunks(step) {
            decoder.extend(piece);
            loop {
                match decoder.next(limit) {
                    Ok(Some(Frame::Binary(payload))) => prop_assert!(payload.len() <= limit),
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(violation) => {
                        prop_assert!(matches!(violation.code.code(), 1002 | 1007 | 1009));
                        prop_assert!(!violation.reason.is_empty());
                        break 'pieces;
                    }
                }
            }
            prop_assert!(decoder.pending() <= limit + 14);
        }
    }

    /// A length is never larger than the bytes left after it.
    #[test]
    fn reader_counts_fit_the_message(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut reader = Reader::new(&bytes);
        if let Ok(count) = reader.count() {
            prop_assert!(count <= reader.rest().len());
        }
    }

    /// A string's length prefix in a short client message either fits the message, or claims
    /// at most `SHORT_DECODE_LIMIT_BYTES` (allocated, then refused as truncated), or is refused
    /// by the limit before anything is allocated.
    #[test]
    fn length_prefixes_claim_within_the_short_limit(
        claimed in prop_oneof![0u64..64, 0u64..(4 * SHORT_DECODE_LIMIT_BYTES as u64), any::<u64>()],
        tail in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut bytes = vec![0, 1]; // MSG_INPUT, seq 1
        write_u64(&mut bytes, claimed);
        bytes.extend_from_slice(&tail);
        prop_assume!(bytes.len() <= SHORT_MESSAGE_BYTES);
        let result = decode_client::<Chat, Chat>(&bytes, SHORT_MESSAGE_BYTES);
        if claimed > SHORT_DECODE_LIMIT_BYTES as u64 {
            let refused = matches!(
                result,
                Err(DecodeError::Malformed(bincode::error::DecodeError::LimitExceeded))
            );
            prop_assert!(refused, "{claimed}-byte claim not refused by the limit: {result:?}");
        } else if claimed > tail.len() as u64 {
            prop_assert!(result.is_err());
        }
    }
}

#[test]
fn a_spawn_beyond_the_entity_id_limit_is_refused_not_allocated() {
    let (registry, _) = arena();
    for id in [MAX_ENTITY_ID + 1, u32::MAX] {
        // FULL, tick 1, last seq 0, pacing 0, one op: SPAWN of `id` with no component.
        let mut bytes = vec![1, 1, 0, 0, 1, 0];
        varint::write_u32(&mut bytes, id);
        bytes.push(0);
        let error = Replica::new(registry.clone()).apply(&bytes).expect_err("refused");
        assert_eq!(error, ReplicaError::EntityIdTooLarge { id, max: MAX_ENTITY_ID });
    }
    let mut bytes = vec![1, 1, 0, 0, 1, 0];
    varint::write_u32(&mut bytes, MAX_ENTITY_ID);
    bytes.push(0);
    let mut replica = Replica::new(registry.clone());
    replica.apply(&bytes).expect("the largest id is held");
    assert!(replica.contains(MAX_ENTITY_ID));
}

#[test]
fn sequences_of_empty_values_are_bounded_by_the_message() {
    use tickwire::protocol::{Reader, Type};
    // A sequence of sequences of units: each inner length (one byte) may name up to the bytes
    // left, so without a bound 4 KiB would yield about four million values.
    let ty = Type::Seq(Box::new(Type::Seq(Box::new(Type::Unit))));
    let mut bytes = Vec::new();
    varint::write_u32(&mut bytes, 2000);
    bytes.extend(std::iter::repeat_n(200, 2000));
    let error = inspect::value(&mut Reader::new(&bytes), &ty).expect_err("refused");
    assert!(error.to_string().contains("more empty elements"), "{error}");
    // As many empty elements as the message has bytes still decode.
    let bytes = [2, 1, 0];
    let value = inspect::value(&mut Reader::new(&bytes), &ty).expect("small");
    assert_eq!(value, serde_json::json!([[null], []]));
}
