//! `tickwire netsim`: a userspace network link emulator, for trying a game at 150 ms on a
//! machine without netem, and for tests and load runs that need a real network's delay.
//!
//! It is a TCP proxy between clients and a server that shapes each direction on its own:
//! a one-way delay, jitter (normal, with a standard deviation), a bandwidth, and loss modelled
//! as a TCP retransmission stall. The proxy forwards bytes, not WebSocket messages, so it
//! carries the demo page, `/ws`, `/metrics` and anything else on the port alike.
//!
//! # The model
//!
//! A *chunk* is what one read from a socket returned. Its release time, in one direction, is
//!
//! ```text
//! sent    = max(arrival, previous chunk sent) + size / bandwidth
//! release = max(previous release, sent + max(0, delay + N(0, jitter)) [+ stall with p = loss])
//! ```
//!
//! **Nothing is reordered or dropped.** The proxy speaks TCP on both sides, and TCP hands the
//! bytes over in order or not at all; a chunk whose jitter sample came out low therefore
//! waits behind the one before it (as netem does once a rate or a limit is set). Jitter then
//! shows as bunching, never as bytes overtaking each other. **Loss** is modelled as what a
//! lost segment costs a TCP stream: the chunk and everything behind it in that direction are
//! held for `stall` (default 200 ms, Linux's minimum retransmission timeout) more. Connection
//! setup is not delayed: a client's connect completes against the proxy at once.
//!
//! # Layout
//!
//! - [`link`]: the pure scheduler: arrival time and size in, release time out; seeded.
//! - [`proxy`]: the tokio shell: accept, connect upstream, pump both directions, bounded.
//! - [`cli`]: the `tickwire netsim` flags, their parsers, and the command's `main`.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use tickwire::netsim::{LinkConfig, Netsim, NetsimConfig};
//!
//! let link = LinkConfig { delay: Duration::from_millis(50), ..LinkConfig::default() };
//! let config = NetsimConfig::new("127.0.0.1:0".parse().expect("address"), "127.0.0.1:8080");
//! let netsim = Netsim::start(config.both(link)).await?;
//! println!("connect to ws://{}/ws for a 100 ms round trip", netsim.local_addr());
//! netsim.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod cli;
pub mod link;
pub mod proxy;

pub use cli::{NetsimArgs, parse_bandwidth};
pub use link::{DEFAULT_STALL, Link, LinkConfig};
pub use proxy::{DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT_BYTES, Netsim, NetsimConfig};
