//! A plain-TCP WebSocket's socket, shared by its connection task and the tick: the tick writes
//! each client's pre-framed messages straight onto the non-blocking socket (one `writev`, no
//! task wakeup) through a duplicate of its descriptor ([`DirectSocket`]), and the connection
//! task's tungstenite stream reads and writes the tokio stream through [`SharedStream`]. Reads
//! go straight to tokio's own `TcpStream`, which skips the read that would only find the
//! socket empty after a short one.
//!
//! Two writers on one byte stream must never interleave, so every write, from either side, is
//! made under this socket's lock, and the tick writes only while the stream is *clean*:
//!
//! - tungstenite has written nothing since its last successful flush (its own buffer is then
//!   empty: it flushes the stream only after writing out everything it buffered), and
//! - no remainder of an earlier direct write is waiting.
//!
//! A direct write the kernel takes only in part leaves its remainder here; it counts as
//! written (the client's baseline moves to it), and every later write, tungstenite's included,
//! first completes it. The connection task drains it when the outbox asks
//! ([`super::outbox::Batch::drain`]). TLS streams have no such path: their bytes are
//! encrypted in the TLS session's state, which only the connection task may touch.
//!
//! Pure socket code: it knows WebSocket framing of server messages and nothing of the game.

use std::io::{self, IoSlice, Write};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Most frames one direct write gathers; a longer queue takes the connection task's route.
pub const MAX_DIRECT_FRAMES: usize = 64;

/// Longest WebSocket frame header of a server (unmasked) frame: 2 bytes and a 64-bit length.
const MAX_HEADER_BYTES: usize = 10;

/// What a direct write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Every byte is in the kernel.
    All,
    /// Some bytes are in the kernel and the rest waits here: the frames count as written,
    /// and the connection task must drain the rest.
    Partly,
    /// Nothing was written: the socket is full, or another write is under way.
    Not,
}

#[derive(Debug, Default)]
struct WriteState {
    /// The unwritten tail of a direct write.
    pending: Vec<u8>,
    /// How much of `pending` is written.
    pending_at: usize,
    /// tungstenite wrote since its last successful flush: its buffer may hold the rest of a
    /// frame.
    dirty: bool,
}

impl WriteState {
    fn clean(&self) -> bool {
        !self.dirty && self.pending_at == self.pending.len()
    }
}

/// The tick's handle on the socket under one plain-TCP WebSocket: a duplicate descriptor
/// (it shares the socket's non-blocking mode) and the lock every write is made under.
#[derive(Debug)]
pub struct DirectSocket {
    socket: std::net::TcpStream,
    state: Mutex<WriteState>,
}

impl DirectSocket {
    fn lock(&self) -> MutexGuard<'_, WriteState> {
        // Every update leaves the state consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `payloads` as binary WebSocket messages, in order, with one `writev`, if the
    /// stream is clean; never blocks.
    pub fn try_send<'a>(&self, payloads: impl IntoIterator<Item = &'a [u8]>) -> Written {
        let mut state = self.lock();
        if !state.clean() {
            return Written::Not;
        }
        let payloads: Vec<&[u8]> = payloads.into_iter().collect();
        let headers: Vec<([u8; MAX_HEADER_BYTES], usize)> =
            payloads.iter().map(|payload| binary_header(payload.len())).collect();
        let slices: Vec<IoSlice<'_>> = payloads
            .iter()
            .zip(&headers)
            .flat_map(|(payload, (header, len))| {
                [IoSlice::new(&header[..*len]), IoSlice::new(payload)]
            })
            .collect();
        let total: usize = slices.iter().map(|slice| slice.len()).sum();
        let written = match (&self.socket).write_vectored(&slices) {
            Ok(written) => written,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Written::Not;
            }
            // A failed socket fails the connection task's next read or write too; these
            // frames are lost with the connection.
            Err(_) => return Written::All,
        };
        if written == total {
            return Written::All;
        }
        state.pending.clear();
        state.pending_at = 0;
        let mut skip = written;
        for slice in &slices {
            let taken = skip.min(slice.len());
            skip -= taken;
            state.pending.extend_from_slice(&slice[taken..]);
        }
        Written::Partly
    }

    /// Writes out the remainder of a direct write through `stream`; `Ready(Ok)`, with the
    /// lock held, once there is none.
    fn poll_pending(
        &self,
        mut stream: Pin<&mut TcpStream>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<MutexGuard<'_, WriteState>>> {
        loop {
            let mut state = self.lock();
            if state.pending_at == state.pending.len() {
                return Poll::Ready(Ok(state));
            }
            let at = state.pending_at;
            match ready!(stream.as_mut().poll_write(cx, &state.pending[at..]))? {
                0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                n => {
                    state.pending_at += n;
                    if state.pending_at == state.pending.len() {
                        state.pending = Vec::new();
                        state.pending_at = 0;
                    }
                }
            }
        }
    }
}

/// The header of an unmasked, final, binary frame of `len` bytes, and its length.
pub fn binary_header(len: usize) -> ([u8; MAX_HEADER_BYTES], usize) {
    let mut header = [0u8; MAX_HEADER_BYTES];
    header[0] = 0x82;
    if len < 126 {
        header[1] = len as u8;
        (header, 2)
    } else if let Ok(short) = u16::try_from(len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&short.to_be_bytes());
        (header, 4)
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        (header, 10)
    }
}

/// The connection task's stream, for tungstenite: tokio's stream, whose writes are made
/// under the [`DirectSocket`]'s lock and complete its remainder first.
#[derive(Debug)]
pub struct SharedStream {
    stream: TcpStream,
    direct: Arc<DirectSocket>,
}

impl SharedStream {
    /// Shares `stream` with the tick.
    pub fn new(stream: TcpStream) -> io::Result<(SharedStream, Arc<DirectSocket>)> {
        let socket = std::net::TcpStream::from(stream.as_fd().try_clone_to_owned()?);
        let direct = Arc::new(DirectSocket { socket, state: Mutex::new(WriteState::default()) });
        Ok((SharedStream { stream, direct: direct.clone() }, direct))
    }
}

impl AsyncRead for SharedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let SharedStream { stream, direct } = self.get_mut();
        let mut state = ready!(direct.poll_pending(Pin::new(stream), cx))?;
        state.dirty = true;
        Pin::new(stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // tungstenite flushes the stream only once its own buffer is written out.
        let SharedStream { stream, direct } = self.get_mut();
        let mut state = ready!(direct.poll_pending(Pin::new(stream), cx))?;
        state.dirty = false;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let SharedStream { stream, direct } = self.get_mut();
        drop(ready!(direct.poll_pending(Pin::new(&mut *stream), cx))?);
        Pin::new(stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn headers_use_the_shortest_length_form() {
        assert_eq!(binary_header(4).0[..2], [0x82, 4]);
        assert_eq!(binary_header(125).1, 2);
        let (header, len) = binary_header(2_102);
        assert_eq!((len, &header[..4]), (4, &[0x82, 126, 0x08, 0x36][..]));
        let (header, len) = binary_header(70_000);
        assert_eq!((len, header[1]), (10, 127));
        assert_eq!(u64::from_be_bytes(header[2..10].try_into().expect("8 bytes")), 70_000);
    }

    async fn pair() -> (SharedStream, Arc<DirectSocket>, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = tokio::net::TcpStream::connect(listener.local_addr().expect("addr"));
        let (client, accepted) = tokio::join!(client, listener.accept());
        let (stream, socket) = SharedStream::new(accepted.expect("accept").0).expect("shared");
        (stream, socket, client.expect("connect"))
    }

    #[tokio::test]
    async fn a_partial_write_is_completed_before_anything_else() {
        let (mut stream, socket, mut client) = pair().await;
        socket2::SockRef::from(&socket.socket).set_send_buffer_size(4096).expect("sndbuf");
        let big = vec![7u8; 1 << 20];
        assert_eq!(socket.try_send([&big[..]]), Written::Partly);
        assert_eq!(socket.try_send([&b"next"[..]]), Written::Not, "the remainder comes first");
        let writer = tokio::spawn(async move {
            stream.write_all(&[0x82, 3, b'e', b'n', b'd']).await.expect("write");
            stream.flush().await.expect("flush");
        });
        let mut received = vec![0u8; 10 + big.len() + 5];
        client.read_exact(&mut received).await.expect("read");
        writer.await.expect("writer");
        assert_eq!(received[..4], [0x82, 127, 0, 0]);
        assert!(received[10..10 + big.len()].iter().all(|&b| b == 7));
        assert_eq!(&received[10 + big.len()..], b"\x82\x03end");
        assert_eq!(socket.try_send([&b"again"[..]]), Written::All, "clean once flushed");
    }
}
