//! tickwire: an authoritative game state-sync server.
//!
//! # Layout
//!
//! - [`protocol`]: wire types, the bincode configuration, close codes.
pub mod protocol;
pub mod config;
pub mod sim;
pub mod tick;
pub mod replication;
