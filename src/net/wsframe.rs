//! Client-to-server WebSocket frames (RFC 6455 §5), decoded from a byte buffer.
//!
//! The plain-TCP read path ([`super::reader`]) reads every client's socket on a few threads
//! and decodes here, without a task or a stream per connection. The rules are the RFC's, as
//! strict as tungstenite's on the TLS route: a client frame is masked, no extension is
//! negotiated (reserved bits are zero), control frames are final and at most 125 bytes, a
//! continuation needs an open message and a new message needs none, a text message and a
//! close reason are UTF-8, and a close frame's status is one a peer may send. A violation is
//! a [`Violation`] with the close status and a reason; the caller fails the connection with
//! it. Messages larger than the limit are refused before their payload is read.
//!
//! Pure: no I/O, no clock.

use crate::protocol::CloseCode;

/// Opcodes (RFC 6455 §5.2).
pub mod opcode {
    /// A continuation of a fragmented message.
    pub const CONTINUATION: u8 = 0x0;
    /// A text frame.
    pub const TEXT: u8 = 0x1;
    /// A binary frame.
    pub const BINARY: u8 = 0x2;
    /// A close frame.
    pub const CLOSE: u8 = 0x8;
    /// A ping.
    pub const PING: u8 = 0x9;
    /// A pong.
    pub const PONG: u8 = 0xA;
}

/// Largest control frame payload.
const MAX_CONTROL_PAYLOAD: usize = 125;

/// One thing a client sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A complete text message (valid UTF-8; the protocol has no use for it).
    Text,
    /// A ping, with the payload its pong must carry.
    Ping(&'a [u8]),
    /// A pong, with its payload (the ping's it answers, or anything if unsolicited).
    Pong(&'a [u8]),
    /// A close frame, with its status if it had one.
    Close(Option<u16>),
}

/// A framing rule the client broke: the close status and a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1002, 1007 or 1009.
    pub code: CloseCode,
    /// What was wrong.
    pub reason: String,
}

fn protocol(reason: impl Into<String>) -> Violation {
    Violation { code: CloseCode::ProtocolError, reason: format!("RFC 6455: {}", reason.into()) }
}

fn invalid_utf8(what: &str) -> Violation {
    Violation { code: CloseCode::InvalidPayload, reason: format!("invalid UTF-8 in a {what}") }
}

/// One connection's decoding state: bytes of a frame not yet complete, and the fragments of
/// a message not yet finished.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Received bytes not yet decoded: at most one frame's worth, since every complete frame
    /// is taken as soon as it arrives.
    buffer: Vec<u8>,
    /// How much of `buffer` was taken by frames already returned.
    taken: usize,
    /// The opcode and the payload so far of a fragmented message.
    fragments: Option<(u8, Vec<u8>)>,
    /// A message assembled from fragments, returned by the last call.
    assembled: Vec<u8>,
}

impl Decoder {
    /// Appends bytes read from the socket. Call [`Decoder::next`] until it returns `None`
    /// before appending more.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.compact();
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes held for a frame not yet complete.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.taken
    }

    /// Memory held, in bytes.
    pub fn capacity(&self) -> usize {
        self.buffer.capacity()
            + self.assembled.capacity()
            + self.fragments.as_ref().map_or(0, |(_, payload)| payload.capacity())
    }

    fn compact(&mut self) {
        if self.taken > 0 {
            self.buffer.drain(..self.taken);
            self.taken = 0;
        }
    }

    /// The next complete message or control frame, `Ok(None)` when more bytes are needed.
    /// Messages (fragments assembled) of more than `max_message` bytes are a violation.
    pub fn next(&mut self, max_message: usize) -> Result<Option<Frame<'_>>, Violation> {
        loop {
            let input = &self.buffer[self.taken..];
            let Some(header) = Header::parse(input)? else { return Ok(None) };
            let open = self.fragments.as_ref().map_or(0, |(_, payload)| payload.len());
            if header.is_data() && open.saturating_add(header.len) > max_message {
                let size = open.saturating_add(header.len);
                return Err(Violation {
                    code: CloseCode::MessageTooBig,
                    reason: format!("message too big: {size} bytes, the limit is {max_message}"),
                });
            }
            let total = header.size + header.len;
            if input.len() < total {
                self.buffer.reserve(total - input.len());
                return Ok(None);
            }
            let start = self.taken + header.size;
            self.taken += total;
            let payload = &mut self.buffer[start..start + header.len];
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= header.mask[i % 4];
            }
            match (header.opcode, header.fin) {
                (opcode::PING, _) => return Ok(Some(Frame::Ping(&self.buffer[start..self.taken]))),
                (opcode::PONG, _) => return Ok(Some(Frame::Pong(&self.buffer[start..self.taken]))),
                (opcode::CLOSE, _) => return close(&self.buffer[start..self.taken]).map(Some),
                (opcode::CONTINUATION, fin) => {
                    let Some((_, message)) = self.fragments.as_mut() else {
                        return Err(protocol("continuation frame but nothing to continue"));
                    };
                    message.extend_from_slice(&self.buffer[start..self.taken]);
                    if fin {
                        let (opcode, message) = self.fragments.take().unwrap_or_default();
                        self.assembled = message;
                        return complete(opcode, &self.assembled).map(Some);
                    }
                }
                (opcode, true) => {
                    if self.fragments.is_some() {
                        return Err(protocol("a new message started before the last one ended"));
                    }
                    return complete(opcode, &self.buffer[start..self.taken]).map(Some);
                }
                (opcode, false) => {
                    if self.fragments.is_some() {
                        return Err(protocol("a new message started before the last one ended"));
                    }
                    self.fragments = Some((opcode, self.buffer[start..self.taken].to_vec()));
                }
            }
        }
    }
}

fn complete(opcode: u8, payload: &[u8]) -> Result<Frame<'_>, Violation> {
    if opcode == opcode::TEXT {
        std::str::from_utf8(payload).map_err(|_| invalid_utf8("text message"))?;
        return Ok(Frame::Text);
    }
    Ok(Frame::Binary(payload))
}

fn close(payload: &[u8]) -> Result<Frame<'static>, Violation> {
    match payload {
        [] => Ok(Frame::Close(None)),
        [_] => Err(protocol("a close frame of one byte")),
        [high, low, reason @ ..] => {
            let code = u16::from_be_bytes([*high, *low]);
            let allowed = matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999);
            if !allowed {
                return Err(protocol(format!("close status {code} may not be sent")));
            }
            std::str::from_utf8(reason).map_err(|_| invalid_utf8("close reason"))?;
            Ok(Frame::Close(Some(code)))
        }
    }
}

/// A frame's header.
struct Header {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    /// Header bytes.
    size: usize,
    /// Payload bytes.
    len: usize,
}

impl Header {
    fn is_data(&self) -> bool {
        self.opcode < opcode::CLOSE
    }

    /// The header at the start of `input`, `None` if it is not all there yet.
    fn parse(input: &[u8]) -> Result<Option<Header>, Violation> {
        let [first, second, rest @ ..] = input else { return Ok(None) };
        let (fin, opcode) = (first & 0x80 != 0, first & 0x0F);
        if first & 0x70 != 0 {
            return Err(protocol("reserved bits are set, and no extension was agreed"));
        }
        let known = matches!(
            opcode,
            opcode::CONTINUATION | opcode::TEXT | opcode::BINARY | opcode::CLOSE | opcode::PING
        ) || opcode == opcode::PONG;
        if !known {
            return Err(protocol(format!("unknown opcode {opcode:#x}")));
        }
        if second & 0x80 == 0 {
            return Err(protocol("a client frame must be masked"));
        }
        let (len, extended) = match second & 0x7F {
            126 => match rest {
                [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 2),
                _ => return Ok(None),
            },
            127 => match rest.get(..8) {
                Some(bytes) => {
                    let len = u64::from_be_bytes(bytes.try_into().unwrap_or_default());
                    if len >> 63 != 0 {
                        return Err(protocol("a payload length with its top bit set"));
                    }
                    (len, 8)
                }
                None => return Ok(None),
            },
            short => (u64::from(short), 0),
        };
        if opcode >= opcode::CLOSE {
            if !fin {
                return Err(protocol("a fragmented control frame"));
            }
            if len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(protocol(format!("a control frame of {len} bytes (at most 125)")));
            }
        }
        let Some(mask) = rest.get(extended..extended + 4) else { return Ok(None) };
        let mask = [mask[0], mask[1], mask[2], mask[3]];
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        Ok(Some(Header { fin, opcode, mask, size: 2 + extended + 4, len }))
    }
}

/// A server frame (unmasked, final) of `opcode` with `payload`, header and all.
pub fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let (header, len) = super::direct::header(opcode, payload.len());
    let mut frame = Vec::with_capacity(len + payload.len());
    frame.extend_from_slice(&header[..len]);
    frame.extend_from_slice(payload);
    frame
}

/// The payload of a close frame with `code` and `reason` (cut to fit a control frame).
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let reason = super::framing::fit_close_reason(reason);
    [&code.to_be_bytes()[..], reason.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 4096;

    fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = vec![first];
        match payload.len() {
            len @ 0..=125 => frame.push(0x80 | len as u8),
            len @ 126..=0xFFFF => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        frame
    }

    /// Decodes `bytes` fed in pieces of `step`; what came out, as owned values.
    fn decode_in_steps(bytes: &[u8], step: usize) -> Result<Vec<String>, Violation> {
        let mut decoder = Decoder::default();
        let mut out = Vec::new();
        for piece in bytes.chunks(step) {
            decoder.extend(piece);
            while let Some(frame) = decoder.next(LIMIT)? {
                out.push(match frame {
                    Frame::Binary(payload) => format!("binary {payload:?}"),
                    Frame::Text => "text".to_owned(),
                    Frame::Ping(payload) => format!("ping {payload:?}"),
                    Frame::Pong(payload) => format!("pong {payload:?}"),
                    Frame::Close(code) => format!("close {code:?}"),
                });
            }
        }
        Ok(out)
    }

    #[test]
    fn messages_and_control_frames_decode_whatever_the_read_boundaries() {
        let bytes = [
            client_frame(0x82, &[1, 2, 3]),
            client_frame(0x02, &[4]),
            client_frame(0x89, b"hi"),
            client_frame(0x80, &[5, 6]),
            client_frame(0x81, "é".as_bytes()),
            client_frame(0x82, &[9; 300]),
            client_frame(0x8A, b""),
            client_frame(0x88, &close_payload(1000, "bye")),
        ]
        .concat();
        let expected = vec![
            "binary [1, 2, 3]".to_owned(),
            "ping [104, 105]".to_owned(),
            "binary [4, 5, 6]".to_owned(),
            "text".to_owned(),
            format!("binary {:?}", [9u8; 300]),
            "pong []".to_owned(),
            "close Some(1000)".to_owned(),
        ];
        for step in [1, 2, 3, 7, 64, bytes.len()] {
            assert_eq!(decode_in_steps(&bytes, step).expect("valid"), expected, "step {step}");
        }
    }

    #[test]
    fn violations_carry_their_status() {
        let cases: Vec<(&str, Vec<u8>, u16)> = vec![
            ("unmasked", vec![0x82, 1, 0], 1002),
            ("rsv1", client_frame(0xC2, &[1]), 1002),
            ("opcode 3", client_frame(0x83, &[1]), 1002),
            ("opcode 0xB", client_frame(0x8B, &[]), 1002),
            ("fragmented ping", client_frame(0x09, b"x"), 1002),
            ("big ping", client_frame(0x89, &[0; 126]), 1002),
            ("stray continuation", client_frame(0x80, &[1]), 1002),
            ("interleaved", [client_frame(0x02, &[1]), client_frame(0x82, &[2])].concat(), 1002),
            ("close of one byte", client_frame(0x88, &[3]), 1002),
            ("close 1005", client_frame(0x88, &close_payload(1005, "")), 1002),
            ("close 999", client_frame(0x88, &close_payload(999, "")), 1002),
            ("close 5000", client_frame(0x88, &close_payload(5000, "")), 1002),
            ("bad text", client_frame(0x81, &[b'a', 0xff]), 1007),
            ("bad reason", client_frame(0x88, &[0x03, 0xe8, 0xff]), 1007),
            ("too big", client_frame(0x82, &[0; LIMIT + 1]), 1009),
            (
                "too big in fragments",
                [client_frame(0x02, &[0; LIMIT]), client_frame(0x80, &[0])].concat(),
                1009,
            ),
        ];
        for (name, bytes, code) in cases {
            let error = decode_in_steps(&bytes, bytes.len()).expect_err(name);
            assert_eq!(error.code.code(), code, "{name}: {}", error.reason);
            assert!(!error.reason.is_empty());
        }
    }

    #[test]
    fn an_oversized_frame_is_refused_from_its_header_alone() {
        let mut decoder = Decoder::default();
        let mut header = vec![0x82, 0x80 | 127];
        header.extend_from_slice(&(1u64 << 40).to_be_bytes());
        header.extend_from_slice(&[0; 4]);
        decoder.extend(&header);
        let error = decoder.next(LIMIT).expect_err("too big");
        assert_eq!(error.code, CloseCode::MessageTooBig);
        assert!(decoder.capacity() < 1024, "nothing reserved for the payload");
    }

    #[test]
    fn server_frames_have_the_shortest_header() {
        assert_eq!(server_frame(opcode::PONG, b"ab"), vec![0x8A, 2, b'a', b'b']);
        let close = server_frame(opcode::CLOSE, &close_payload(1000, "x"));
        assert_eq!(close, vec![0x88, 3, 0x03, 0xe8, b'x']);
    }
}
