//! The WebSocket framing the server reads: arbitrary bytes as the client side of an upgraded
//! connection, read by tungstenite in the server role with the server's configuration (read
//! buffer, message and frame size limits of `net::http`), until it fails; every failure is
//! mapped to the close frame the server would send (`net::framing`), which must be a valid
//! close frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{self, Cursor, Read, Write};
use tickwire::net::framing::{MAX_CLOSE_REASON_BYTES, fit_close_reason, read_error_close};
use tickwire::net::http::{CLIENT_MAX_FRAME_BYTES, CLIENT_READ_BUFFER_BYTES};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocket, WebSocketConfig};

/// The client's bytes to read; what the server writes goes nowhere.
struct Peer<'a>(Cursor<&'a [u8]>);

impl Read for Peer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Peer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let config = WebSocketConfig::default()
        .read_buffer_size(CLIENT_READ_BUFFER_BYTES)
        .max_message_size(Some(CLIENT_MAX_FRAME_BYTES))
        .max_frame_size(Some(CLIENT_MAX_FRAME_BYTES));
    let mut socket = WebSocket::from_raw_socket(Peer(Cursor::new(data)), Role::Server, Some(config));
    // Every read consumes input or fails, so this ends.
    let error = loop {
        match socket.read() {
            Ok(message) => assert!(message.len() <= CLIENT_MAX_FRAME_BYTES),
            Err(error) => break error,
        }
    };
    if let Some((code, reason)) = read_error_close(&error) {
        let reason = fit_close_reason(&reason);
        assert!(reason.len() <= MAX_CLOSE_REASON_BYTES);
        assert!(matches!(code.code(), 1000..=1003 | 1007..=1011 | 1013 | 3000..=4999));
        let frame = Frame::close(Some(CloseFrame { code: code.code().into(), reason: reason.into() }));
        assert!(frame.payload().len() <= 2 + MAX_CLOSE_REASON_BYTES);
    }
});
