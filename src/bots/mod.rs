//! Bot clients: the headless client used by the tests, and the load tester behind
//! `tickwire bots`.
//!
//! - [`client`]: one headless client (connect, receive, send); the tests drive it directly.
//! - [`game`]: what the bots need of a game ([`GameSpec`]) and the hook it provides
//!   ([`BotGame`]).
//! - [`load`]: the load test: N [`bot`]s over a ramp-up, a measurement window, `/metrics`
//!   scrapes, the [`report`]. [`cli`] is its command line, [`plot`] the results writer.
//! - [`timeline`]: the server's memory and clients sampled through a run (a soak), and
//!   [`timeline_plot`] its plot and summary.
//! - [`shared`], [`histogram`], [`scrape`], [`pattern`]: what the bots record into, and how
//!   they read the server and steer.
//!
//! Nothing here is used by the server.

pub mod bot;
pub mod cli;
pub mod client;
pub mod game;
pub mod histogram;
pub mod load;
pub mod pattern;
pub mod plot;
pub mod report;
pub mod scrape;
pub mod shared;
pub mod timeline;
pub mod timeline_plot;
pub mod timing;

pub use client::{BotClient, BotError, Received};
pub use game::{BotGame, GameSpec, Steer};
pub use load::{LoadOptions, run};
pub use report::Report;
