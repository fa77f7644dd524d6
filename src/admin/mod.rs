//! The operator console: `/admin` (a page) and the JSON API behind it, served only when the
//! server has an admin token (`--admin-token-file`), on the public port or, with
//! `--admin-bind`, on an internal listener of its own.
//!
//! - [`token`]: the bearer token and the check every API request passes (constant time).
//! - [`command`]: what the API asks a room's tick to do (kick, close, list its clients);
//!   the tick answers on a oneshot, so no lock is shared with the simulation.
//! - [`closes`]: the last closes the server sent, a bounded ring.
//! - [`drain`]: no new players, then shut down once empty.
//! - [`series`]: the server's own figures sampled once a second into a bounded ring, for
//!   the console's charts and the rooms' byte rates.
//! - [`api`]: the routes.
//!
//! Nothing here touches a world: rooms are reached only through their inbox.

pub mod api;
pub mod closes;
pub mod command;
pub mod drain;
pub mod series;
pub mod token;

pub use api::{AdminState, router};
pub use closes::{CloseLog, ClosedRecord};
pub use command::{ClientRow, Command};
pub use series::Series;
pub use token::AdminToken;
