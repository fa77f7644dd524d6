//! What a failed WebSocket read tells the client: the close code and reason for each way a
//! client can break RFC 6455 framing or the message limits, on the TLS route (the plain-TCP
//! route's decoder, [`super::wsframe`], returns its own [`super::wsframe::Violation`]s).
//!
//! tungstenite detects every framing violation (unmasked frame, reserved bits, unknown
//! opcode, fragmented or oversized control frame, stray continuation, interleaved data
//! frames, bad close frame, invalid UTF-8) but only returns the error: it sends nothing. The
//! RFC says the endpoint must then *fail the connection*, and a close frame with the status
//! (1002, or 1007 for invalid UTF-8) and a reason is what tells the client's developer why.
//! Only an invalid close code is answered by tungstenite itself (1002). Pure: no I/O.

use crate::protocol::CloseCode;
use tokio_tungstenite::tungstenite::Error;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};

/// The close code and reason for a read error the client caused; `None` when the connection
/// is simply gone (reset, I/O error) and no close frame can help.
pub fn read_error_close(error: &Error) -> Option<(CloseCode, String)> {
    match error {
        // The same sentence as the plain-TCP route's (`wsframe`), not tungstenite's.
        Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => Some((
            CloseCode::MessageTooBig,
            format!("message too big: {size} bytes, the limit is {max_size}"),
        )),
        Error::Capacity(limit) => {
            Some((CloseCode::MessageTooBig, format!("message too big: {limit}")))
        }
        Error::Utf8(_) => Some((
            CloseCode::InvalidPayload,
            "invalid UTF-8 in a text frame or close reason".to_owned(),
        )),
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        Error::Protocol(violation) => {
            Some((CloseCode::ProtocolError, format!("RFC 6455: {violation}")))
        }
        _ => None,
    }
}

/// Longest close reason, in bytes: a close frame is a control frame of at most 125 bytes, two
/// of them the status code.
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

/// `reason` cut to [`MAX_CLOSE_REASON_BYTES`], at a character boundary.
pub fn fit_close_reason(reason: &str) -> String {
    let mut reason = reason.to_owned();
    while reason.len() > MAX_CLOSE_REASON_BYTES {
        reason.pop();
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::error::CapacityError;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::Data;

    fn code(error: Error) -> Option<u16> {
        read_error_close(&error).map(|(code, _)| code.code())
    }

    #[test]
    fn framing_violations_are_1002_with_the_violation_named() {
        for violation in [
            ProtocolError::UnmaskedFrameFromClient,
            ProtocolError::NonZeroReservedBits,
            ProtocolError::UnknownDataFrameType(3),
            ProtocolError::UnknownControlFrameType(11),
            ProtocolError::FragmentedControlFrame,
            ProtocolError::ControlFrameTooBig,
            ProtocolError::UnexpectedContinueFrame,
            ProtocolError::ExpectedFragment(Data::Binary),
            ProtocolError::InvalidCloseSequence,
            ProtocolError::InvalidOpcode(3),
        ] {
            assert_eq!(code(Error::Protocol(violation)), Some(1002));
        }
        let (_, reason) =
            read_error_close(&Error::Protocol(ProtocolError::NonZeroReservedBits)).expect("1002");
        assert_eq!(reason, "RFC 6455: Reserved bits are non-zero");
    }

    #[test]
    fn invalid_utf8_is_1007_and_size_is_1009() {
        assert_eq!(code(Error::Utf8("bad".into())), Some(1007));
        let too_long = CapacityError::MessageTooLong { size: 5000, max_size: 4096 };
        let (code, reason) = read_error_close(&Error::Capacity(too_long)).expect("closes");
        assert_eq!(
            (code.code(), reason.as_str()),
            (1009, "message too big: 5000 bytes, the limit is 4096")
        );
    }

    #[test]
    fn close_reasons_fit_a_control_frame_at_a_character_boundary() {
        assert_eq!(fit_close_reason("short"), "short");
        let long = "é".repeat(100);
        let fitted = fit_close_reason(&long);
        assert_eq!(fitted.len(), 122);
        assert!(long.starts_with(&fitted));
    }

    #[test]
    fn a_vanished_peer_gets_no_close_frame() {
        assert_eq!(code(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)), None);
        assert_eq!(code(Error::ConnectionClosed), None);
        assert_eq!(code(Error::Io(std::io::ErrorKind::BrokenPipe.into())), None);
    }
}
