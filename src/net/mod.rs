//! Networking: the accept loop, HTTP routes, the WebSocket handshake and its checks (origin,
//! connections per address), and per-connection reader and writer.
//!
//! The only layer besides the tick loop that touches tokio. It decodes and validates what
//! clients send, hands inputs to the tick, and writes what the tick leaves in each outbox.
//! The limits it enforces, each with its status or close code, are listed in
//! `docs/limits.md`.

pub mod accept;
pub mod connection;
pub mod cors;
pub mod descriptors;
pub mod direct;
pub mod flusher;
pub mod framing;
pub mod http;
pub mod idle;
pub mod inbox;
pub mod origin;
pub mod outbox;
pub mod per_ip;
pub mod pool;
pub mod reader;
pub mod tls;
pub mod upgraded;
pub mod wsframe;

pub use outbox::Outbox;
