//! The plain-TCP read path's WebSocket decoding: arbitrary bytes as the client side of an
//! upgraded connection, fed to `net::wsframe::Decoder` in pieces whose sizes come from the
//! input (as a read thread's reads would split them), at the server's frame limit. Every
//! message must be within the limit, the decoder must hold at most one frame's bytes beyond
//! it, and a violation must carry a close status the server may send with a reason that fits
//! a close frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickwire::net::framing::{MAX_CLOSE_REASON_BYTES, fit_close_reason};
use tickwire::net::http::CLIENT_MAX_FRAME_BYTES;
use tickwire::net::wsframe::{Decoder, Frame};

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else { return };
    let step = usize::from(split % 64) + 1;
    let mut decoder = Decoder::default();
    for piece in bytes.chunks(step) {
        decoder.extend(piece);
        loop {
            match decoder.next(CLIENT_MAX_FRAME_BYTES) {
                Ok(Some(Frame::Binary(payload))) => assert!(payload.len() <= CLIENT_MAX_FRAME_BYTES),
                Ok(Some(Frame::Ping(payload))) => assert!(payload.len() <= 125),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(violation) => {
                    assert!(matches!(violation.code.code(), 1002 | 1007 | 1009));
                    assert!(!violation.reason.is_empty());
                    assert!(fit_close_reason(&violation.reason).len() <= MAX_CLOSE_REASON_BYTES);
                    return;
                }
            }
        }
        // A frame in progress: its header and at most the limit's worth of payload.
        assert!(decoder.pending() <= CLIENT_MAX_FRAME_BYTES + 14 + step);
    }
});
