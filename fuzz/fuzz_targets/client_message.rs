//! Client messages as the server decodes them: `decode_client` at the default 64-byte limit
//! and at a large one, the arena's input rules on whatever decodes, and a game input with
//! strings and sequences (bincode length prefixes) at the large limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use tickwire::GameInput;
use tickwire::arena::{ArenaInput, ArenaMessage};
use tickwire::protocol::{ClientMessage, MAX_CLIENT_MESSAGE_BYTES, decode_client};

/// An input with every kind of length prefix a game's input may carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Chat {
    text: String,
    tags: Vec<u16>,
    blob: Option<Vec<u8>>,
    pairs: Vec<(String, i64)>,
}

const LARGE_LIMIT_BYTES: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    for limit in [MAX_CLIENT_MESSAGE_BYTES, LARGE_LIMIT_BYTES] {
        if let Ok(message) = decode_client::<ArenaInput, ArenaMessage>(data, limit) {
            if let ClientMessage::Input { input, .. } = &message {
                let _ = input.validate();
            }
            // Whatever decodes re-encodes to bytes that decode to the same message.
            let again = decode_client::<ArenaInput, ArenaMessage>(&message.encode(), limit);
            assert_eq!(again.ok().as_ref(), Some(&message));
        }
    }
    if let Ok(message) = decode_client::<Chat, Chat>(data, LARGE_LIMIT_BYTES) {
        let again = decode_client::<Chat, Chat>(&message.encode(), LARGE_LIMIT_BYTES);
        assert_eq!(again.ok().as_ref(), Some(&message));
    }
});
