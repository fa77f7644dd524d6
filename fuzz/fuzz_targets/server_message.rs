//! Server messages as a client decodes them (the Rust decoder of the JavaScript-facing golden
//! vectors): `inspect::server_message` and `inspect::client_message` with the arena's schema,
//! `decode_control`, and a `Replica` applying the bytes, once whole and once split into a
//! sequence of messages (`[u16 LE length][bytes]` each) so deltas land on a baseline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use tickwire::arena::Arena;
use tickwire::protocol::{Control, Schema, decode_control, inspect};
use tickwire::{Registry, Replica, registry_of};

fn arena() -> &'static (Arc<Registry>, Schema) {
    static ARENA: OnceLock<(Arc<Registry>, Schema)> = OnceLock::new();
    ARENA.get_or_init(|| registry_of(&mut Arena::default()).expect("the arena registers"))
}

/// Splits `data` into messages, each prefixed with its length (u16, little endian).
fn messages(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, rest) = data.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
        let (message, rest) = rest.split_at(len);
        data = rest;
        Some(message)
    })
}

fuzz_target!(|data: &[u8]| {
    let (registry, schema) = arena();
    let _ = inspect::server_message(data, Some(schema));
    let _ = inspect::server_message(data, None);
    let _ = inspect::client_message(data, schema);
    let _ = decode_control(data);
    let _ = Replica::new(registry.clone()).apply(data);

    let mut replica = Replica::new(registry.clone());
    let mut schema = schema.clone();
    for message in messages(data) {
        if let Ok(Some(Control::Welcome(welcome))) = decode_control(message) {
            schema = welcome.schema;
        }
        let _ = inspect::server_message(message, Some(&schema));
        let _ = inspect::client_message(message, &schema);
        if replica.apply(message).is_ok() {
            for id in replica.ids().collect::<Vec<_>>() {
                let _ = (replica.fingerprint(id), replica.describe(id));
            }
        }
    }
});
