//! The TCP shell around [`Link`]: accept clients, connect each to the upstream, and run two
//! pumps per connection (client → upstream with the `up` link, upstream → client with the
//! `down` link). A pump reads a chunk, stamps its arrival, asks its link for the release time
//! and hands it to a writer that writes it out then. The scheduling itself lives in `link`.

use super::link::{Link, LinkConfig};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, warn};

/// Default for [`NetsimConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default for [`NetsimConfig::max_in_flight_bytes`]: 4 MiB, a few seconds of a game's
/// snapshots even for a large world, far less than a bulk sender could queue up.
pub const DEFAULT_MAX_IN_FLIGHT_BYTES: usize = 4 << 20;
/// Bytes read from a socket at once: one chunk, scheduled as a unit.
const READ_CHUNK_BYTES: usize = 16 << 10;
/// Chunks queued in one direction at most, however small, beside the byte bound.
const MAX_CHUNKS_IN_FLIGHT: usize = 4096;
/// How long connecting to the upstream may take before the client is closed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Once one direction has delivered its end of stream, how long the other may still run.
/// A peer that half-closes and then never closes its own side would otherwise hold the
/// connection (and its task) forever.
const HALF_CLOSED_GRACE: Duration = Duration::from_secs(5);

/// Everything a [`Netsim`] needs.
#[derive(Debug, Clone)]
pub struct NetsimConfig {
    /// Where clients connect (port 0 picks a free one; see [`Netsim::local_addr`]).
    pub listen: SocketAddr,
    /// The server, `host:port`, resolved for each connection.
    pub upstream: String,
    /// Client → server.
    pub up: LinkConfig,
    /// Server → client.
    pub down: LinkConfig,
    /// Seed of every random draw; connection *i* gets links seeded from it and *i*.
    pub seed: u64,
    /// Connections proxied at once; one more is accepted and closed at once, with a warning.
    pub max_connections: usize,
    /// Bytes held in one direction of one connection at most; when full, that direction stops
    /// reading until the writer catches up, so TCP flow control pushes back on the sender.
    pub max_in_flight_bytes: usize,
}

impl NetsimConfig {
    /// A perfect link (no delay) from `listen` to `upstream`, with the default limits.
    pub fn new(listen: SocketAddr, upstream: impl Into<String>) -> NetsimConfig {
        NetsimConfig {
            listen,
            upstream: upstream.into(),
            up: LinkConfig::default(),
            down: LinkConfig::default(),
            seed: 0,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_in_flight_bytes: DEFAULT_MAX_IN_FLIGHT_BYTES,
        }
    }

    /// The same link in both directions.
    pub fn both(mut self, link: LinkConfig) -> NetsimConfig {
        self.up = link;
        self.down = link;
        self
    }

    /// Checks both links and the limits.
    pub fn validate(&self) -> Result<(), String> {
        self.up.validate().map_err(|e| format!("up: {e}"))?;
        self.down.validate().map_err(|e| format!("down: {e}"))?;
        if self.max_connections == 0 {
            return Err("max connections must be at least 1".into());
        }
        if self.max_in_flight_bytes == 0 || u32::try_from(self.max_in_flight_bytes).is_err() {
            return Err(format!(
                "max in-flight bytes {} is not between 1 and {}",
                self.max_in_flight_bytes,
                u32::MAX
            ));
        }
        Ok(())
    }

    /// The two links of connection number `index`.
    fn links(&self, index: u64) -> (Link, Link) {
        let up = Link::new(self.up, mix(self.seed ^ mix(2 * index)));
        let down = Link::new(self.down, mix(self.seed ^ mix(2 * index + 1)));
        (up, down)
    }
}

/// A running proxy. Dropping it stops accepting and closes every connection at once;
/// [`Netsim::shutdown`] does the same and waits until it is done.
#[derive(Debug)]
pub struct Netsim {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Netsim {
    /// Validates `config`, binds its listen address and starts proxying on the current
    /// runtime. An unreachable upstream is not an error here: each client it fails for is
    /// closed with a warning.
    pub async fn start(config: NetsimConfig) -> io::Result<Netsim> {
        config.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, Arc::new(config), stopped));
        Ok(Netsim { local_addr, stop: Some(stop), task: Some(task) })
    }

    /// Where clients connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every connection and waits until all of it is done.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Netsim {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The accept loop. Every connection's task lives in `connections`; when the loop ends, the
/// set is dropped and aborts them all, which closes their sockets.
async fn serve(listener: TcpListener, config: Arc<NetsimConfig>, mut stop: oneshot::Receiver<()>) {
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let mut connections = JoinSet::new();
    let mut index = 0;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let (client, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of descriptors, most likely: wait rather than spin.
                        warn!("netsim: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    warn!("netsim: {peer} closed: already {} connections", config.max_connections);
                    continue;
                };
                let links = config.links(index);
                index += 1;
                connections.spawn(connection(client, peer, config.clone(), links, permit));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One proxied connection, from the upstream connect to both sockets closed.
async fn connection(
    client: TcpStream,
    peer: SocketAddr,
    config: Arc<NetsimConfig>,
    (up, down): (Link, Link),
    _permit: OwnedSemaphorePermit,
) {
    let upstream =
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&config.upstream)).await {
            Ok(Ok(upstream)) => upstream,
            Ok(Err(e)) => {
                return warn!("netsim: {peer} closed: cannot connect to {}: {e}", config.upstream);
            }
            Err(_) => {
                return warn!("netsim: {peer} closed: connecting to {} timed out", config.upstream);
            }
        };
    // Without this, Nagle's algorithm would add its own delay to small messages.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    debug!("netsim: {peer} connected to {}", config.upstream);
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    let budget = config.max_in_flight_bytes;
    let upward = pump(client_read, upstream_write, up, budget);
    let downward = pump(upstream_read, client_write, down, budget);
    tokio::pin!(upward, downward);
    let (ended, rest) = tokio::select! {
        ended = &mut upward => (ended, downward),
        ended = &mut downward => (ended, upward),
    };
    match ended {
        // Returning drops both pumps, which closes both sockets.
        Err(e) => debug!("netsim: {peer} closed: {e}"),
        Ok(()) => match tokio::time::timeout(HALF_CLOSED_GRACE, rest).await {
            Ok(Ok(())) => debug!("netsim: {peer} closed by both sides"),
            Ok(Err(e)) => debug!("netsim: {peer} closed: {e}"),
            Err(_) => debug!("netsim: {peer} closed: half-closed for {HALF_CLOSED_GRACE:?}"),
        },
    }
}

/// A chunk on its way: its bytes (empty for end of stream), when it may leave, and its share
/// of the direction's byte budget, given back when the chunk is dropped after its write.
struct Chunk {
    data: Vec<u8>,
    release: Instant,
    _budget: Option<OwnedSemaphorePermit>,
}

/// One direction: reads `from` and writes `to` through `link`, until end of stream has been
/// delivered (`Ok`) or either socket fails (`Err`).
async fn pump(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    link: Link,
    max_in_flight: usize,
) -> io::Result<()> {
    let budget = Arc::new(Semaphore::new(max_in_flight));
    let (chunks, queued) = mpsc::channel(MAX_CHUNKS_IN_FLIGHT);
    let read_size = READ_CHUNK_BYTES.min(max_in_flight);
    tokio::try_join!(read(from, link, chunks, budget, read_size), write(to, queued)).map(|_| ())
}

/// Reads chunks, waits for room in the budget, schedules them. The end of stream is queued
/// as an empty chunk, so it reaches the other side after the bytes before it.
async fn read(
    mut from: OwnedReadHalf,
    mut link: Link,
    chunks: mpsc::Sender<Chunk>,
    budget: Arc<Semaphore>,
    read_size: usize,
) -> io::Result<()> {
    let mut buffer = vec![0; read_size];
    loop {
        let size = from.read(&mut buffer).await?;
        let permit = match size {
            0 => None,
            // `size` is at most `read_size`, itself at most the budget, so this completes.
            size => Some(
                budget.clone().acquire_many_owned(size as u32).await.map_err(io::Error::other)?,
            ),
        };
        // Stamped once the link has room, as a sender whose send buffer was full would be.
        let release = link.schedule(Instant::now(), size);
        let chunk = Chunk { data: buffer[..size].to_vec(), release, _budget: permit };
        if chunks.send(chunk).await.is_err() {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "writer gone"));
        }
        if size == 0 {
            return Ok(());
        }
    }
}

/// Writes each chunk at its release time; release times never go backwards, so this is a
/// plain FIFO. Ends after writing the end of stream (a FIN).
async fn write(mut to: OwnedWriteHalf, mut queued: mpsc::Receiver<Chunk>) -> io::Result<()> {
    while let Some(chunk) = queued.recv().await {
        tokio::time::sleep_until(chunk.release.into()).await;
        if chunk.data.is_empty() {
            return to.shutdown().await;
        }
        to.write_all(&chunk.data).await?;
    }
    // The reader failed; its error ends the pump.
    Ok(())
}

/// SplitMix64's finalizer: spreads a seed and a connection number over 64 bits.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
