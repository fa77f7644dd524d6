//! The floor under the server's per-client cost: what one snapshot out and one input in cost
//! the *server's side* of a loopback TCP connection, with nothing else around them.
//!
//! Per client per tick the server writes one snapshot and reads one input. Over loopback the
//! kernel runs the receiver's TCP processing inside the sender's `send`, so a server pays for
//! much of its clients' receive path too, and no server on this transport can cost less than
//! this floor. Two variants, each over 100 connected socket pairs:
//!
//! - `tcp`: plain blocking `write_all` / `read_exact` of the payloads;
//! - `websocket`: the same through tungstenite's framing (server role, unmasked frames out,
//!   masked frames in) with the server's read buffer and frame limits;
//! - `tcp_waiting_peer`: plain TCP again, but the clients are tasks on a tokio runtime in
//!   another thread, asleep in `epoll_wait` until their snapshot arrives, as real clients
//!   are: each send now also wakes the peer. Here the figure is the server thread's own CPU
//!   time (`/proc/thread-self/schedstat`), since its reads sleep until the peers answer.
//! - `direct_waiting_peer`: the server's real path on plain TCP, to the same waiting peers
//!   speaking WebSocket: the tick's direct write ([`DirectSocket::try_send`]: frame header and
//!   snapshot in one non-blocking `writev`), then the inputs read by a read thread
//!   ([`ReadPool`]: one epoll set, batched reads every 2 ms, frames decoded) and handed to a
//!   handler. The figure is the CPU time of this thread and the read thread. Its ratio to
//!   `tcp_waiting_peer` is what the server adds to the floor.
//!
//! In `tcp` and `websocket` only the server's calls are timed (`iter_custom`); the client
//! side of each exchange runs between the timed parts. One reported iteration is **one client
//! for one tick**. Compare with `server CPU µs per client per tick` from `tickwire bots` at
//! the same snapshot size.
//!
//! ```sh
//! cargo bench --bench loopback
//! ```

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tickwire::config::ServerConfig;
use tickwire::net::direct::{DirectSocket, Written};
use tickwire::net::http::{CLIENT_MAX_FRAME_BYTES, CLIENT_READ_BUFFER_BYTES};
use tickwire::net::reader::{Connection, Flow, Handler, Incoming, Link, ReadPool};
use tickwire::net::wsframe::Frame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message, WebSocket};

const CLIENTS: usize = 100;
/// An input frame's payload: variant, seq varint, three bytes.
const INPUT_BYTES: usize = 7;
/// Snapshot payloads: an idle client (4), the large-arena mean (35) and the all-visible
/// 500-bot mean (2,102).
const SNAPSHOT_BYTES: [usize; 3] = [4, 35, 2_102];

fn socket_pairs() -> Vec<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    (0..CLIENTS)
        .map(|_| {
            let client = TcpStream::connect(addr).expect("connect");
            let (server, _) = listener.accept().expect("accept");
            for socket in [&server, &client] {
                socket.set_nodelay(true).expect("nodelay");
            }
            (server, client)
        })
        .collect()
}

/// Plain TCP: per iteration of `iters`, every pair exchanges one snapshot and one input.
fn tcp(pairs: &mut [(TcpStream, TcpStream)], snapshot: &[u8], iters: u64) -> Duration {
    let input = [0u8; INPUT_BYTES];
    let mut buffer = vec![0u8; snapshot.len().max(INPUT_BYTES)];
    let mut timed = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        for (server, _) in pairs.iter_mut() {
            server.write_all(snapshot).expect("server write");
        }
        timed += start.elapsed();
        for (_, client) in pairs.iter_mut() {
            client.read_exact(&mut buffer[..snapshot.len()]).expect("client read");
            client.write_all(&input).expect("client write");
        }
        let start = Instant::now();
        for (server, _) in pairs.iter_mut() {
            server.read_exact(&mut buffer[..INPUT_BYTES]).expect("server read");
        }
        timed += start.elapsed();
        black_box(&buffer);
    }
    timed / CLIENTS as u32
}

/// The same exchange through tungstenite's framing.
fn websocket(
    pairs: &mut [(WebSocket<TcpStream>, WebSocket<TcpStream>)],
    snapshot: &Bytes,
    iters: u64,
) -> Duration {
    let input = Bytes::from_static(&[0u8; INPUT_BYTES]);
    let mut timed = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        for (server, _) in pairs.iter_mut() {
            server.send(Message::Binary(snapshot.clone())).expect("server send");
        }
        timed += start.elapsed();
        for (_, client) in pairs.iter_mut() {
            black_box(client.read().expect("client read"));
            client.send(Message::Binary(input.clone())).expect("client send");
        }
        let start = Instant::now();
        for (server, _) in pairs.iter_mut() {
            black_box(server.read().expect("server read"));
        }
        timed += start.elapsed();
    }
    timed / CLIENTS as u32
}

/// This thread's CPU time so far (user, system and the softirq work its syscalls ran).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let nanos = stat.split_whitespace().next().and_then(|f| f.parse().ok()).expect("run time");
    Duration::from_nanos(nanos)
}

/// Socket pairs whose client ends are served by a tokio runtime on a thread of its own: each
/// client waits for `snapshot_bytes` bytes (a snapshot), then answers with `reply` (an input).
fn waiting_peers(snapshot_bytes: usize, reply: &'static [u8]) -> Vec<TcpStream> {
    let pairs = socket_pairs();
    let (servers, clients): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build();
        let runtime = runtime.expect("runtime");
        runtime.block_on(async move {
            let tasks: Vec<_> = clients
                .into_iter()
                .map(|client| tokio::spawn(answer(client, snapshot_bytes, reply)))
                .collect();
            for task in tasks {
                let _ = task.await;
            }
        });
    });
    servers
}

/// One client: reads snapshots of `size` bytes and answers each with `input`, until the
/// server side closes.
async fn answer(client: TcpStream, size: usize, input: &[u8]) {
    client.set_nonblocking(true).expect("nonblocking");
    let client = tokio::net::TcpStream::from_std(client).expect("tokio stream");
    let mut buffer = vec![0u8; size];
    loop {
        let mut got = 0;
        while got < size {
            if client.readable().await.is_err() {
                return;
            }
            match client.try_read(&mut buffer[got..]) {
                Ok(0) => return,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(_) => return,
            }
        }
        let mut sent = 0;
        while sent < input.len() {
            if client.writable().await.is_err() {
                return;
            }
            match client.try_write(&input[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(_) => return,
            }
        }
    }
}

/// Plain TCP to waiting peers: the server thread's CPU time per client per tick.
fn tcp_waiting_peer(servers: &mut [TcpStream], snapshot: &[u8], iters: u64) -> Duration {
    let mut input = [0u8; INPUT_BYTES];
    let start = thread_cpu();
    for _ in 0..iters {
        for server in servers.iter_mut() {
            server.write_all(snapshot).expect("server write");
        }
        for server in servers.iter_mut() {
            server.read_exact(&mut input).expect("server read");
        }
    }
    (thread_cpu() - start) / CLIENTS as u32
}

/// An input as a client sends it: a masked binary frame of `INPUT_BYTES` (mask all zero).
const MASKED_INPUT: [u8; 6 + INPUT_BYTES] = {
    let mut frame = [0u8; 6 + INPUT_BYTES];
    frame[0] = 0x82;
    frame[1] = 0x80 | INPUT_BYTES as u8;
    frame
};

/// The server's side of `waiting_peers` on its real path: each socket shared with a read
/// thread of a [`ReadPool`] that decodes the inputs and counts them.
struct DirectServer {
    sockets: Vec<Arc<DirectSocket>>,
    inputs: Arc<Counter>,
    /// Dropped last: stops the read thread after the sockets' last use.
    _pool: ReadPool,
}

/// Inputs decoded so far (and how many the bench waits for), and a condition to wait on.
#[derive(Default)]
struct Counter {
    count: Mutex<(u64, u64)>,
    more: Condvar,
}

/// A connection's handler that counts its inputs.
struct Count(Arc<Counter>);

impl Handler for Count {
    fn read(&mut self, read: Incoming<'_>) -> Flow {
        match read {
            Incoming::Frame(Frame::Binary(payload)) => {
                black_box(payload);
                let mut count = self.0.count.lock().expect("counter");
                count.0 += 1;
                // One wakeup a tick, not one an input: the bench's thread is not the server.
                if count.0 == count.1 {
                    self.0.more.notify_one();
                }
                Flow::Open
            }
            Incoming::Frame(_) => Flow::Open,
            _ => Flow::Done,
        }
    }
}

fn direct_server(snapshot_bytes: usize) -> DirectServer {
    let framed = snapshot_bytes + tickwire::net::direct::binary_header(snapshot_bytes).1;
    let servers = waiting_peers(framed, &MASKED_INPUT);
    let pool = ReadPool::new(1, ServerConfig::default().read_interval);
    let inputs = Arc::new(Counter::default());
    let mut sockets = Vec::new();
    for (key, server) in servers.into_iter().enumerate() {
        server.set_nonblocking(true).expect("nonblocking");
        let socket = DirectSocket::new(server);
        let connection = Connection {
            key: u32::try_from(key).expect("key"),
            socket: socket.clone(),
            early: Vec::new(),
            max_message: CLIENT_MAX_FRAME_BYTES,
            handler: Box::new(Count(inputs.clone())),
            link: Arc::new(Link::default()),
        };
        pool.add(connection).expect("read thread");
        sockets.push(socket);
    }
    DirectServer { sockets, inputs, _pool: pool }
}

/// CPU time so far of this process's read threads.
fn read_threads_cpu() -> Duration {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").expect("tasks").flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.starts_with("tickwire-read") {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            let nanos = stat.split_whitespace().next().and_then(|f| f.parse().ok()).unwrap_or(0);
            total += Duration::from_nanos(nanos);
        }
    }
    total
}

/// The server's real path to waiting peers, per client per tick: the tick's direct write
/// ([`DirectSocket::try_send`]) on this thread, and the read thread's batched reads and
/// decoding; the CPU time of both.
fn direct_waiting_peer(server: &mut DirectServer, snapshot: &[u8], iters: u64) -> Duration {
    let start = thread_cpu() + read_threads_cpu();
    for _ in 0..iters {
        {
            let mut count = server.inputs.count.lock().expect("counter");
            count.1 = count.0 + CLIENTS as u64;
        }
        for socket in &server.sockets {
            assert_eq!(socket.try_send([snapshot]), Written::All, "the socket took it");
        }
        let mut count = server.inputs.count.lock().expect("counter");
        while count.0 < count.1 {
            count = server.inputs.more.wait(count).expect("counter");
        }
    }
    (thread_cpu() + read_threads_cpu() - start) / CLIENTS as u32
}

fn loopback(c: &mut Criterion) {
    let mut group = c.benchmark_group("loopback");
    let mut plain = socket_pairs();
    let mut framed: Vec<_> = socket_pairs()
        .into_iter()
        .map(|(server, client)| {
            let config = WebSocketConfig::default()
                .read_buffer_size(CLIENT_READ_BUFFER_BYTES)
                .max_message_size(Some(CLIENT_MAX_FRAME_BYTES))
                .max_frame_size(Some(CLIENT_MAX_FRAME_BYTES));
            let client_config = WebSocketConfig::default().read_buffer_size(16 * 1024);
            (
                WebSocket::from_raw_socket(server, Role::Server, Some(config)),
                WebSocket::from_raw_socket(client, Role::Client, Some(client_config)),
            )
        })
        .collect();
    for size in SNAPSHOT_BYTES {
        let snapshot = vec![7u8; size];
        group.bench_function(BenchmarkId::new("tcp", size), |b| {
            b.iter_custom(|iters| tcp(&mut plain, &snapshot, iters));
        });
        let mut servers = waiting_peers(size, &[0u8; INPUT_BYTES]);
        group.bench_function(BenchmarkId::new("tcp_waiting_peer", size), |b| {
            b.iter_custom(|iters| tcp_waiting_peer(&mut servers, &snapshot, iters));
        });
        let mut direct = direct_server(size);
        group.bench_function(BenchmarkId::new("direct_waiting_peer", size), |b| {
            b.iter_custom(|iters| direct_waiting_peer(&mut direct, &snapshot, iters));
        });
        let snapshot = Bytes::from(snapshot);
        group.bench_function(BenchmarkId::new("websocket", size), |b| {
            b.iter_custom(|iters| websocket(&mut framed, &snapshot, iters));
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = loopback
}
criterion_main!(benches);
