//! Byte-level clients for hardening tests: HTTP requests written by hand over TCP, and a
//! WebSocket client that builds every frame itself, so a test can break RFC 6455 on purpose.

#![allow(dead_code)]

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A handshake request for `/ws` with the tickwire subprotocol; `extra` header lines end in
/// `\r\n`.
pub fn upgrade_request(host: &str, extra: &str) -> String {
    let subprotocol = tickwire::protocol::SUBPROTOCOL;
    format!(
        "GET /ws HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: {subprotocol}\r\n{extra}\r\n"
    )
}

/// Sends `request` and returns the response head and body: until the server closes, the
/// end of a `101` head, or a head and its `content-length` body.
pub async fn http(addr: SocketAddr, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    read_response(&mut tcp, &mut buf).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// Reads into `buf` until a whole response is there (or the connection ends).
async fn read_response(tcp: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    while !complete(buf) {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Whether `bytes` start with a whole response: a 101 head, or a head and its body.
fn complete(bytes: &[u8]) -> bool {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&bytes[..end]);
    if head.starts_with("HTTP/1.1 101") {
        return true;
    }
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
    });
    length.is_some_and(|length| bytes.len() >= end + 4 + length)
}

/// The status code of a response (`0` if there is none).
pub fn status(response: &str) -> u16 {
    response.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
}

/// One frame as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The status code and reason of a close frame (`None`: a close frame without a status).
    pub fn close_status(&self) -> Option<(u16, String)> {
        if self.payload.len() < 2 {
            return None;
        }
        let code = u16::from_be_bytes([self.payload[0], self.payload[1]]);
        Some((code, String::from_utf8_lossy(&self.payload[2..]).into_owned()))
    }
}

/// Opcodes (each test uses some of them).
#[allow(unused_imports)]
pub use tickwire::net::wsframe::opcode::{BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT};

/// Builds a frame byte by byte: `first` is the whole first byte (FIN, RSV1-3, opcode), so a
/// test can set any bit; `mask` `None` sends it unmasked.
pub fn raw_frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A well-formed masked frame: FIN as given, no reserved bits.
pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let first = if fin { 0x80 } else { 0 } | opcode;
    raw_frame(first, payload, Some([0x37, 0xfa, 0x21, 0x3d]))
}

/// A close frame's payload: the code then the reason.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

/// A WebSocket client over a bare TCP stream, past a real handshake.
pub struct RawClient {
    pub tcp: TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    /// Connects and completes the handshake (with `extra` header lines); panics unless `101`.
    pub async fn connect(addr: SocketAddr, extra: &str) -> RawClient {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(upgrade_request("localhost", extra).as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        read_response(&mut tcp, &mut buf).await;
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        RawClient { tcp, buf: buf[end..].to_vec() }
    }

    /// Writes bytes as they are.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.expect("write");
    }

    /// Writes bytes, ignoring failure (the server may already have failed the connection).
    pub async fn try_send(&mut self, bytes: &[u8]) {
        let _ = self.tcp.write_all(bytes).await;
    }

    /// The next frame, or `None` when the connection ends (EOF or reset).
    pub async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            let mut chunk = [0u8; 8192];
            match self.tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// A close frame that has already arrived, without waiting for one (other frames that
    /// arrived are skipped).
    pub async fn pending_close(&mut self) -> Option<Frame> {
        let quick = std::time::Duration::from_millis(5);
        while let Ok(Some(frame)) = tokio::time::timeout(quick, self.next_frame()).await {
            if frame.opcode == CLOSE {
                return Some(frame);
            }
        }
        None
    }

    /// Skips data and ping frames until a close frame; `None` if the connection ends without
    /// one. Answers nothing (not even pings).
    pub async fn close_frame(&mut self) -> Option<Frame> {
        while let Some(frame) = self.next_frame().await {
            if frame.opcode == CLOSE {
                return Some(frame);
            }
        }
        None
    }
}

/// Parses one server frame (unmasked) from the front of `bytes`: the frame and its length.
fn parse(bytes: &[u8]) -> Option<(Frame, usize)> {
    let (&first, rest) = bytes.split_first()?;
    let (&second, rest) = rest.split_first()?;
    assert_eq!(second & 0x80, 0, "server frames are not masked");
    let (len, header) = match second & 0x7f {
        126 => (u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize, 4),
        127 => (u64::from_be_bytes(rest.get(..8)?.try_into().ok()?) as usize, 10),
        n => (n as usize, 2),
    };
    let payload = bytes.get(header..header + len)?.to_vec();
    Some((Frame { fin: first & 0x80 != 0, opcode: first & 0x0f, payload }, header + len))
}
