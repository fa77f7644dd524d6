//! Bot clients: the headless client used by `tickwire bots` and by the tests.

pub mod client;

pub use client::{BotClient, BotError, Received};
