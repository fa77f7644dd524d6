//! Reading every plain-TCP client's socket on a few threads, in batches.
//!
//! A client sends an input every tick. Read by a task per connection, each input woke a tokio
//! worker, polled a task and its `select!`, and went through a stream and a waker: per
//! message, that cost more than the kernel's own receive. Here each read thread owns an
//! epoll set of its connections' sockets; it waits until one has data, reads and decodes every
//! socket that has some, hands each message to its connection's [`Handler`], and then sleeps
//! for the read interval (2 ms by default) before it looks again. Under load one wakeup
//! serves every input that arrived in the interval, whatever the number of clients; an input
//! waits at most the interval longer, well inside the tick it is meant for.
//!
//! The thread knows WebSocket framing ([`super::wsframe`]) and nothing of the game: the
//! connection's handler decodes and validates messages, and answers for the connection's
//! state. A connection is read until its handler says it is done (the peer's close frame, or
//! the end of the stream) or its task removes it; after a framing violation the rest of the
//! stream is read and dropped, so the close frame sent meanwhile is not lost to a reset.
//! The same epoll set watches each socket for room to write, for the connection task's
//! [`super::direct::Writer`] when the kernel's buffer is full.
//!
//! Bounded: one connection's bytes are read at most [`MAX_READ_PER_TURN`] per turn, and the
//! decoder holds at most one frame's bytes, whose size the limit caps before they are read.

use super::direct::DirectSocket;
use super::wsframe::{Decoder, Frame, Violation};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use prometheus_client::metrics::counter::Counter;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tracing::{debug, warn};

/// Most bytes read from one connection in one turn; the rest waits for the next turn.
pub const MAX_READ_PER_TURN: usize = 64 * 1024;

/// Bytes read with one `read` call.
const READ_CHUNK: usize = 4096;

/// What each socket is watched for: data, and room to write for a writer waiting for it.
const INTEREST: Interest = Interest::READABLE.add(Interest::WRITABLE);

/// The token of each thread's waker.
const WAKER: Token = Token(usize::MAX);

/// What a read thread found on a connection.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A complete message or a control frame.
    Frame(Frame<'a>),
    /// The client broke the framing rules; nothing after it can be decoded.
    Violation(Violation),
    /// The stream ended (the peer closed its side without a close frame, or after one).
    End,
    /// The socket failed.
    Failed(io::Error),
}

/// What to do with a connection after a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep decoding and handing over what it sends.
    Open,
    /// Keep reading, but only to drop it: the stream can no longer be decoded.
    Discard,
    /// Stop reading: the connection is over on the read side.
    Done,
}

/// One connection's side of the read thread: decodes and validates what its client sends.
pub trait Handler: Send + 'static {
    /// Handles one read; called in order, on the read thread.
    fn read(&mut self, read: Incoming<'_>) -> Flow;
}

/// What the read thread tells the connection task.
#[derive(Debug)]
pub struct Link {
    start: Instant,
    /// Milliseconds from `start` when the client was last heard from.
    heard_ms: AtomicU64,
    /// The status of the peer's close frame (0: none received, or none in it).
    close_status: AtomicU32,
    /// Whether the peer's close frame arrived.
    close_received: AtomicBool,
    /// Whether the peer closed first, with 1000: it left on purpose.
    goodbye: AtomicBool,
    /// Whether reading is over.
    done: AtomicBool,
    done_notify: Notify,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            start: Instant::now(),
            heard_ms: AtomicU64::new(0),
            close_status: AtomicU32::new(0),
            close_received: AtomicBool::new(false),
            goodbye: AtomicBool::new(false),
            done: AtomicBool::new(false),
            done_notify: Notify::new(),
        }
    }
}

impl Link {
    /// The client sent something.
    pub fn heard(&self, now: Instant) {
        let ms = now.saturating_duration_since(self.start).as_millis();
        self.heard_ms.store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// When the client was last heard from (the link's creation if never).
    pub fn last_heard(&self) -> Instant {
        self.start + Duration::from_millis(self.heard_ms.load(Ordering::Relaxed))
    }

    /// The peer's close frame arrived, with this status.
    pub fn close_received(&self, status: Option<u16>) {
        self.close_status.store(status.map_or(0, u32::from), Ordering::Relaxed);
        self.close_received.store(true, Ordering::Release);
    }

    /// The peer's close frame, if it arrived: `Some(status)` (`None` inside: no status).
    pub fn peer_close(&self) -> Option<Option<u16>> {
        if !self.close_received.load(Ordering::Acquire) {
            return None;
        }
        let status = self.close_status.load(Ordering::Relaxed);
        Some(u16::try_from(status).ok().filter(|&s| s != 0))
    }

    /// The peer closed first, with `status`: a 1000 means it left on purpose.
    pub fn said_goodbye_with(&self, status: Option<u16>) {
        self.goodbye.store(status == Some(1000), Ordering::Relaxed);
    }

    /// Whether the peer closed first with 1000 (its session is not kept for a resume).
    pub fn said_goodbye(&self) -> bool {
        self.goodbye.load(Ordering::Relaxed)
    }

    /// Reading is over.
    pub fn finish(&self) {
        self.done.store(true, Ordering::Release);
        self.done_notify.notify_waiters();
    }

    /// Completes once reading is over.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn done(&self) {
        loop {
            let notified = self.done_notify.notified();
            if self.done.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// A connection handed to a read thread.
pub struct Connection {
    /// Its key, unique among open connections (the client id).
    pub key: u32,
    /// The socket.
    pub socket: Arc<DirectSocket>,
    /// Bytes already read from it (behind the HTTP request).
    pub early: Vec<u8>,
    /// Largest message accepted.
    pub max_message: usize,
    /// Where what it sends goes.
    pub handler: Box<dyn Handler>,
    /// What the task is told.
    pub link: Arc<Link>,
}

enum Command {
    Add(Connection),
    Remove(u32),
    Stop,
}

struct Thread {
    commands: Sender<Command>,
    waker: Arc<Waker>,
    handle: Option<JoinHandle<()>>,
}

/// The read threads, started with the first connection.
pub struct ReadPool {
    threads: usize,
    interval: Duration,
    /// Counts the threads' wakeups that found data.
    wakeups: Counter,
    started: OnceLock<Result<Vec<Mutex<Thread>>, String>>,
}

impl ReadPool {
    /// A pool of `threads` read threads that sleep `interval` after each batch.
    pub fn new(threads: usize, interval: Duration) -> ReadPool {
        let wakeups = Counter::default();
        ReadPool { threads: threads.max(1), interval, wakeups, started: OnceLock::new() }
    }

    /// Counts the threads' wakeups that found data in `wakeups` (set before the first
    /// connection).
    pub fn counting(mut self, wakeups: Counter) -> ReadPool {
        self.wakeups = wakeups;
        self
    }

    fn threads(&self) -> Result<&[Mutex<Thread>], &str> {
        let started = self.started.get_or_init(|| {
            (0..self.threads)
                .map(|index| start(index, self.interval, self.wakeups.clone()).map(Mutex::new))
                .collect::<io::Result<Vec<_>>>()
                .map_err(|error| format!("cannot start the read threads: {error}"))
        });
        started.as_deref().map_err(String::as_str)
    }

    fn send(&self, key: u32, command: Command) -> Result<(), String> {
        let threads = self.threads()?;
        let thread = &threads[key as usize % threads.len()];
        let thread = thread.lock().unwrap_or_else(PoisonError::into_inner);
        thread.commands.send(command).map_err(|_| "the read thread stopped".to_owned())?;
        thread.waker.wake().map_err(|error| format!("cannot wake the read thread: {error}"))
    }

    /// Starts reading `connection`.
    pub fn add(&self, connection: Connection) -> Result<(), String> {
        self.send(connection.key, Command::Add(connection))
    }

    /// Stops reading the connection of `key` (its handler is dropped on the read thread).
    pub fn remove(&self, key: u32) {
        if let Err(error) = self.send(key, Command::Remove(key)) {
            debug!(key, %error, "connection not removed");
        }
    }
}

impl Drop for ReadPool {
    fn drop(&mut self) {
        let Some(Ok(threads)) = self.started.take() else { return };
        for thread in threads {
            let mut thread = thread.into_inner().unwrap_or_else(PoisonError::into_inner);
            let _ = thread.commands.send(Command::Stop);
            let _ = thread.waker.wake();
            // The last handle to the server's shared state may be a handler dropped on a read
            // thread itself: that thread stops after this command, and cannot join itself.
            if let Some(handle) = thread.handle.take()
                && handle.thread().id() != std::thread::current().id()
            {
                let _ = handle.join();
            }
        }
    }
}

fn start(index: usize, interval: Duration, wakeups: Counter) -> io::Result<Thread> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (commands, receiver) = channel();
    let handle = std::thread::Builder::new()
        .name(format!("tickwire-read-{index}"))
        .spawn(move || ReadThread::new(poll, receiver, interval, wakeups).run())?;
    Ok(Thread { commands, waker, handle: Some(handle) })
}

/// Hashes the connections' keys (client ids, unique and mostly sequential) with one
/// multiplication: SipHash's resistance to chosen keys buys nothing for ids the server picks.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, key: u32) {
        self.0 = u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A connection on its read thread.
struct Open {
    connection: Connection,
    decoder: Decoder,
    flow: Flow,
}

struct ReadThread {
    poll: Poll,
    commands: Receiver<Command>,
    interval: Duration,
    wakeups: Counter,
    connections: HashMap<u32, Open, BuildHasherDefault<KeyHasher>>,
    /// Connections with bytes left after their turn's budget.
    unfinished: Vec<u32>,
    buffer: Box<[u8]>,
}

impl ReadThread {
    fn new(
        poll: Poll,
        commands: Receiver<Command>,
        interval: Duration,
        wakeups: Counter,
    ) -> ReadThread {
        ReadThread {
            poll,
            commands,
            interval,
            wakeups,
            connections: HashMap::default(),
            unfinished: Vec::new(),
            buffer: vec![0; READ_CHUNK].into_boxed_slice(),
        }
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = (!self.unfinished.is_empty()).then_some(Duration::ZERO);
            if let Err(error) = self.poll.poll(&mut events, timeout) {
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                warn!(%error, "read thread stopped: epoll failed");
                return;
            }
            let mut ready = std::mem::take(&mut self.unfinished);
            for event in &events {
                if event.token() == WAKER {
                    if !self.commands() {
                        return;
                    }
                } else if let Ok(key) = u32::try_from(event.token().0) {
                    let room = event.is_writable() || event.is_error() || event.is_write_closed();
                    if room && let Some(open) = self.connections.get(&key) {
                        open.connection.socket.room_freed();
                    }
                    if event.is_readable() || event.is_read_closed() || event.is_error() {
                        ready.push(key);
                    }
                }
            }
            let any = !ready.is_empty();
            if any {
                self.wakeups.inc();
            }
            let now = Instant::now();
            for key in ready {
                self.read(key, now);
            }
            if any && !self.interval.is_zero() {
                std::thread::sleep(self.interval);
            }
        }
    }

    /// Applies the commands waiting; `false` on stop.
    fn commands(&mut self) -> bool {
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Add(connection) => self.add(connection),
                Command::Remove(key) => self.remove(key),
                Command::Stop => return false,
            }
        }
        true
    }

    fn add(&mut self, connection: Connection) {
        let key = connection.key;
        let fd = connection.socket.as_raw_fd();
        let registered =
            self.poll.registry().register(&mut SourceFd(&fd), Token(key as usize), INTEREST);
        let mut open = Open { decoder: Decoder::default(), flow: Flow::Open, connection };
        if let Err(error) = registered {
            debug!(key, %error, "cannot watch the socket");
            open.connection.handler.read(Incoming::Failed(error));
            open.connection.link.finish();
            return;
        }
        let early = std::mem::take(&mut open.connection.early);
        if !early.is_empty() {
            open.decoder.extend(&early);
            open.flow = decode(&mut open, Instant::now());
        }
        self.connections.insert(key, open);
        // Bytes that arrived before the registration raised no edge: read them now.
        self.unfinished.push(key);
    }

    fn remove(&mut self, key: u32) {
        if let Some(open) = self.connections.remove(&key) {
            let fd = open.connection.socket.as_raw_fd();
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            open.connection.link.finish();
        }
    }

    /// Reads one connection: until the socket is empty, or its budget for this turn is spent.
    /// `now` is the turn's start: when what is read counts as heard.
    fn read(&mut self, key: u32, now: Instant) {
        let Some(open) = self.connections.get_mut(&key) else { return };
        let mut budget = MAX_READ_PER_TURN;
        while open.flow != Flow::Done {
            if budget == 0 {
                self.unfinished.push(key);
                return;
            }
            let want = self.buffer.len().min(budget);
            let read = open.connection.socket.read(&mut self.buffer[..want]);
            match read {
                Ok(0) => {
                    open.connection.handler.read(Incoming::End);
                    open.flow = Flow::Done;
                }
                Ok(n) => {
                    budget -= n;
                    if open.flow == Flow::Open {
                        open.decoder.extend(&self.buffer[..n]);
                        open.flow = decode(open, now);
                    }
                    if n < want {
                        // A short read emptied the socket; new data raises a new edge.
                        break;
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    open.connection.handler.read(Incoming::Failed(error));
                    open.flow = Flow::Done;
                }
            }
        }
        if open.flow == Flow::Done {
            self.remove(key);
        }
    }
}

/// Hands over every complete frame the decoder holds. A complete frame, not a byte, counts
/// as hearing from the client (at `now`): a peer that trickles a frame a byte at a time
/// still reaches the idle timeout.
fn decode(open: &mut Open, now: Instant) -> Flow {
    let Open { connection, decoder, .. } = open;
    loop {
        match decoder.next(connection.max_message) {
            Ok(Some(frame)) => {
                connection.link.heard(now);
                match connection.handler.read(Incoming::Frame(frame)) {
                    Flow::Open => {}
                    other => return other,
                }
            }
            Ok(None) => return Flow::Open,
            Err(violation) => return connection.handler.read(Incoming::Violation(violation)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;

    /// Sends what its connection reads to the test, as text.
    struct Report(mpsc::Sender<String>);

    impl Handler for Report {
        fn read(&mut self, read: Incoming<'_>) -> Flow {
            let (line, flow) = match read {
                Incoming::Frame(Frame::Binary(payload)) => (format!("{payload:?}"), Flow::Open),
                Incoming::Frame(frame) => (format!("{frame:?}"), Flow::Open),
                Incoming::Violation(violation) => (violation.reason, Flow::Discard),
                Incoming::End => ("end".to_owned(), Flow::Done),
                Incoming::Failed(error) => (error.to_string(), Flow::Done),
            };
            let _ = self.0.send(line);
            flow
        }
    }

    fn masked(payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x82, 0x80 | payload.len() as u8, 0, 0, 0, 0];
        frame.extend_from_slice(payload);
        frame
    }

    fn connect(
        pool: &ReadPool,
        key: u32,
        early: Vec<u8>,
    ) -> (TcpStream, Arc<Link>, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        server.set_nonblocking(true).expect("nonblocking");
        let (sender, receiver) = mpsc::channel();
        let link = Arc::new(Link::default());
        let connection = Connection {
            key,
            socket: DirectSocket::new(server),
            early,
            max_message: 64,
            handler: Box::new(Report(sender)),
            link: link.clone(),
        };
        pool.add(connection).expect("added");
        (client, link, receiver)
    }

    fn next(receiver: &mpsc::Receiver<String>) -> String {
        receiver.recv_timeout(Duration::from_secs(5)).expect("a read within 5 s")
    }

    #[test]
    fn messages_arrive_in_order_early_bytes_first_and_the_end_finishes_the_link() {
        let pool = ReadPool::new(1, Duration::from_millis(2));
        let (mut client, link, reads) = connect(&pool, 1, masked(b"early"));
        assert_eq!(next(&reads), format!("{:?}", b"early"));
        let mut burst = Vec::new();
        for n in 0..100u8 {
            burst.extend(masked(&[n]));
        }
        std::thread::sleep(Duration::from_millis(10));
        // Split mid-frame: the decoder waits for the rest.
        client.write_all(&burst[..301]).expect("write");
        client.write_all(&burst[301..]).expect("write");
        for n in 0..100u8 {
            assert_eq!(next(&reads), format!("{:?}", [n]));
        }
        let heard = link.last_heard().duration_since(link.start);
        assert!(heard >= Duration::from_millis(10), "complete frames count as heard: {heard:?}");
        drop(client);
        assert_eq!(next(&reads), "end");
        let finished = tokio::runtime::Builder::new_current_thread().enable_time().build();
        finished.expect("runtime").block_on(async {
            tokio::time::timeout(Duration::from_secs(5), link.done()).await.expect("done")
        });
    }

    #[test]
    fn a_violation_stops_decoding_but_not_reading_and_others_are_unaffected() {
        let pool = ReadPool::new(1, Duration::from_millis(2));
        let (mut bad, _, bad_reads) = connect(&pool, 1, Vec::new());
        let (mut good, _, good_reads) = connect(&pool, 2, Vec::new());
        bad.write_all(&[0x82, 0x01, 0x00]).expect("an unmasked frame");
        assert_eq!(next(&bad_reads), "RFC 6455: a client frame must be masked");
        bad.write_all(&masked(b"ignored")).expect("write");
        good.write_all(&masked(b"hello")).expect("write");
        assert_eq!(next(&good_reads), format!("{:?}", b"hello"));
        drop(bad);
        assert_eq!(next(&bad_reads), "end", "nothing decoded after the violation");
    }

    #[test]
    fn a_removed_connection_is_no_longer_read() {
        let pool = ReadPool::new(2, Duration::ZERO);
        let (mut client, link, reads) = connect(&pool, 7, Vec::new());
        client.write_all(&masked(b"one")).expect("write");
        assert_eq!(next(&reads), format!("{:?}", b"one"));
        pool.remove(7);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build();
        runtime.expect("runtime").block_on(async {
            tokio::time::timeout(Duration::from_secs(5), link.done()).await.expect("done")
        });
        let _ = client.write_all(&masked(b"two"));
        assert!(reads.recv_timeout(Duration::from_millis(100)).is_err(), "the handler is gone");
    }
}
