//! A plain-TCP WebSocket's socket, shared by the tick, the read threads and the connection
//! task, none of which waits on the others:
//!
//! - the tick writes each client's pre-framed messages straight onto the non-blocking socket
//!   with one `writev` ([`DirectSocket::try_send`]), no task woken;
//! - a read thread ([`super::reader`]) reads it when epoll says it has data
//!   ([`DirectSocket::read`]);
//! - the connection task writes what the tick could not (a full socket, pongs, pings, the
//!   close frame) through a [`Writer`], which waits for room in the socket in tokio's
//!   reactor. The reactor watches the socket for room only: arriving data wakes no tokio
//!   thread, only the read thread's epoll.
//!
//! Two writers on one byte stream must never interleave, so every write is made under this
//! socket's lock, whole frames at a time. A write the kernel takes only in part leaves its
//! remainder here; it counts as written (the client's baseline moves to it), and every later
//! write first completes it: the tick's writes wait while one is left, and the connection
//! task drains it when the outbox asks ([`super::outbox::Batch::drain`]). TLS streams have
//! no such path: their bytes are encrypted in the TLS session's state, which only the
//! connection task may touch.
//!
//! Pure socket code: it knows WebSocket framing of server messages and nothing of the game.

use super::wsframe::opcode;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;

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
    /// Nothing was written: the socket is full, or a remainder is waiting.
    Not,
}

#[derive(Debug, Default)]
struct WriteState {
    /// The unwritten tail of a write.
    pending: Vec<u8>,
    /// How much of `pending` is written.
    pending_at: usize,
}

impl WriteState {
    fn clean(&self) -> bool {
        self.pending_at == self.pending.len()
    }
}

/// A plain-TCP WebSocket's socket (non-blocking) and the lock every write is made under.
#[derive(Debug)]
pub struct DirectSocket {
    socket: std::net::TcpStream,
    state: Mutex<WriteState>,
    /// A writer waits for room in the socket.
    want_room: AtomicBool,
    room: Notify,
}

impl DirectSocket {
    /// Shares `socket`, which must be in non-blocking mode.
    pub fn new(socket: std::net::TcpStream) -> Arc<DirectSocket> {
        Arc::new(DirectSocket {
            socket,
            state: Mutex::new(WriteState::default()),
            want_room: AtomicBool::new(false),
            room: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, WriteState> {
        // Every update leaves the state consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `payloads` as binary WebSocket messages, in order, with one `writev`, if no
    /// remainder is waiting; never blocks.
    pub fn try_send<'a>(&self, payloads: impl IntoIterator<Item = &'a [u8]>) -> Written {
        self.try_send_frames(payloads.into_iter().map(|payload| (opcode::BINARY, payload)))
    }

    /// Writes `frames` (opcode, payload), in order, with one `writev`, if no remainder is
    /// waiting; never blocks.
    pub fn try_send_frames<'a>(&self, frames: impl IntoIterator<Item = (u8, &'a [u8])>) -> Written {
        let mut state = self.lock();
        if !state.clean() {
            return Written::Not;
        }
        match self.write_frames(&mut state, frames) {
            Ok(written) => written,
            // A failed socket fails the read thread's next read too; these frames are lost
            // with the connection.
            Err(_) => Written::All,
        }
    }

    /// Writes `frames` (opcode, payload) with one `writev`, leaving any remainder in `state`.
    fn write_frames<'a>(
        &self,
        state: &mut WriteState,
        frames: impl IntoIterator<Item = (u8, &'a [u8])>,
    ) -> io::Result<Written> {
        let frames: Vec<(u8, &[u8])> = frames.into_iter().collect();
        let headers: Vec<([u8; MAX_HEADER_BYTES], usize)> =
            frames.iter().map(|(opcode, payload)| header(*opcode, payload.len())).collect();
        let slices: Vec<IoSlice<'_>> = frames
            .iter()
            .zip(&headers)
            .flat_map(|((_, payload), (header, len))| {
                [IoSlice::new(&header[..*len]), IoSlice::new(payload)]
            })
            .collect();
        let total: usize = slices.iter().map(|slice| slice.len()).sum();
        let written = match (&self.socket).write_vectored(&slices) {
            Ok(written) => written,
            Err(error) if is_retry(&error) => return Ok(Written::Not),
            Err(error) => return Err(error),
        };
        if written == total {
            return Ok(Written::All);
        }
        state.pending.clear();
        state.pending_at = 0;
        let mut skip = written;
        for slice in &slices {
            let taken = skip.min(slice.len());
            skip -= taken;
            state.pending.extend_from_slice(&slice[taken..]);
        }
        Ok(Written::Partly)
    }

    /// Writes what it can of a waiting remainder; `Ok(true)` once there is none.
    fn write_pending(&self, state: &mut WriteState) -> io::Result<bool> {
        while !state.clean() {
            match (&self.socket).write(&state.pending[state.pending_at..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => state.pending_at += n,
                Err(error) if is_retry(&error) => return Ok(false),
                Err(error) => return Err(error),
            }
        }
        *state = WriteState::default();
        Ok(true)
    }

    /// Reads what the socket holds into `buffer`, without blocking (`WouldBlock` if nothing).
    pub fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        (&self.socket).read(buffer)
    }

    /// Ends the sending direction: the peer reads the end of the stream after what was sent.
    pub fn shutdown_write(&self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Write);
    }

    /// The socket may have room again (or failed): wakes a writer waiting for it. Called by
    /// whoever watches the socket; cheap when nobody waits.
    pub fn room_freed(&self) {
        // A load first: the flag's line is shared with the tick's writes, and a swap on every
        // read event would take it from them.
        if self.want_room.load(Ordering::Acquire) && self.want_room.swap(false, Ordering::AcqRel) {
            self.room.notify_one();
        }
    }

    /// Bytes of a remainder waiting to be written.
    pub fn pending(&self) -> usize {
        let state = self.lock();
        state.pending.len() - state.pending_at
    }
}

impl AsRawFd for DirectSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

fn is_retry(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

/// The connection task's writes: each waits for room in the socket when the kernel's buffer
/// is full. The read thread that watches the socket for data watches it for room too
/// ([`DirectSocket::room_freed`]), so no other reactor has it registered and arriving data
/// wakes nothing but that thread.
#[derive(Debug)]
pub struct Writer {
    socket: Arc<DirectSocket>,
}

impl Writer {
    /// The connection task's writer of `socket`.
    pub fn new(socket: Arc<DirectSocket>) -> Writer {
        Writer { socket }
    }

    /// Writes any remainder, then `frames` (opcode, payload), then what is left of them.
    ///
    /// # Cancel safety
    /// Cancelled after a frame was partly written, the remainder still waits and is
    /// completed before the next write.
    pub async fn send(&self, frames: &[(u8, &[u8])]) -> io::Result<()> {
        let socket = &self.socket;
        let mut sent = frames.is_empty();
        loop {
            // Asked for before the attempt: room freed after it is not missed.
            let room = socket.room.notified();
            socket.want_room.store(true, Ordering::Release);
            {
                let mut state = socket.lock();
                if socket.write_pending(&mut state)? {
                    if sent {
                        return Ok(());
                    }
                    match socket.write_frames(&mut state, frames.iter().copied())? {
                        Written::All => return Ok(()),
                        Written::Partly => sent = true,
                        Written::Not => {}
                    }
                }
            }
            room.await;
        }
    }

    /// The socket written to.
    pub fn socket(&self) -> &Arc<DirectSocket> {
        &self.socket
    }
}

/// The header of an unmasked, final frame of `opcode` and `len` bytes, and its length.
pub fn header(opcode: u8, len: usize) -> ([u8; MAX_HEADER_BYTES], usize) {
    let mut header = [0u8; MAX_HEADER_BYTES];
    header[0] = 0x80 | opcode;
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

/// The header of a binary frame of `len` bytes, and its length.
pub fn binary_header(len: usize) -> ([u8; MAX_HEADER_BYTES], usize) {
    header(opcode::BINARY, len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn headers_use_the_shortest_length_form() {
        assert_eq!(binary_header(4).0[..2], [0x82, 4]);
        assert_eq!(binary_header(125).1, 2);
        let (header, len) = binary_header(2_102);
        assert_eq!((len, &header[..4]), (4, &[0x82, 126, 0x08, 0x36][..]));
        let (header, len) = binary_header(70_000);
        assert_eq!((len, header[1]), (10, 127));
        assert_eq!(u64::from_be_bytes(header[2..10].try_into().expect("8 bytes")), 70_000);
        assert_eq!(super::header(opcode::PING, 0).0[..2], [0x89, 0]);
    }

    async fn pair() -> (Writer, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = tokio::net::TcpStream::connect(listener.local_addr().expect("addr"));
        let (client, accepted) = tokio::join!(client, listener.accept());
        let socket = accepted.expect("accept").0.into_std().expect("std");
        let writer = Writer::new(DirectSocket::new(socket));
        // Stands in for the read thread's epoll: says there may be room, often.
        let socket = writer.socket().clone();
        tokio::spawn(async move {
            while Arc::strong_count(&socket) > 1 {
                socket.room_freed();
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        });
        (writer, client.expect("connect"))
    }

    #[tokio::test]
    async fn a_partial_write_is_completed_before_anything_else() {
        let (writer, mut client) = pair().await;
        let socket = writer.socket().clone();
        socket2::SockRef::from(&socket.socket).set_send_buffer_size(4096).expect("sndbuf");
        let big = vec![7u8; 1 << 20];
        assert_eq!(socket.try_send([&big[..]]), Written::Partly);
        assert!(socket.pending() > 0);
        assert_eq!(socket.try_send([&b"next"[..]]), Written::Not, "the remainder comes first");
        let task = tokio::spawn(async move {
            writer.send(&[(opcode::BINARY, &b"end"[..])]).await.expect("write");
            writer
        });
        let mut received = vec![0u8; 10 + big.len() + 5];
        client.read_exact(&mut received).await.expect("read");
        let writer = task.await.expect("writer");
        assert_eq!(received[..4], [0x82, 127, 0, 0]);
        assert!(received[10..10 + big.len()].iter().all(|&b| b == 7));
        assert_eq!(&received[10 + big.len()..], b"\x82\x03end");
        assert_eq!(writer.socket().try_send([&b"again"[..]]), Written::All, "clean once written");
    }

    #[tokio::test]
    async fn the_writer_waits_for_room_and_sends_every_frame() {
        let (writer, mut client) = pair().await;
        socket2::SockRef::from(&writer.socket().socket).set_send_buffer_size(4096).expect("sndbuf");
        let frames: Vec<Vec<u8>> = (0..64u8).map(|n| vec![n; 16 * 1024]).collect();
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            client.read_to_end(&mut received).await.expect("read");
            received
        });
        let slices: Vec<(u8, &[u8])> =
            frames.iter().map(|frame| (opcode::BINARY, &frame[..])).collect();
        writer.send(&slices).await.expect("send");
        writer.socket().shutdown_write();
        let received = reader.await.expect("reader");
        assert_eq!(received.len(), 64 * (4 + 16 * 1024));
        for (n, frame) in received.chunks(4 + 16 * 1024).enumerate() {
            assert_eq!(frame[..4], [0x82, 126, 0x40, 0x00]);
            assert!(frame[4..].iter().all(|&b| usize::from(b) == n));
        }
    }
}
