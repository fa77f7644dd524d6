//! tickwire: an authoritative game state-sync server.
//!
//! # Layout
//!
//! - [`protocol`]: wire types, the bincode configuration, close codes.
pub mod protocol;
