//! Paint, served by tickwire: `cargo run --release --example paint`, then open the printed
//! URL in two browser windows. `cargo run --release --example paint -- bots --url
//! ws://127.0.0.1:8080/ws --clients 20` load-tests it with the same bots as the arena; every
//! other subcommand and flag of `tickwire` works too (`netsim`, `config`, `schema
//! --typescript`, `--bind`, `TICKWIRE_*`, `--config FILE`).

mod game;

use std::process::ExitCode;
use tickwire::net::http::{Page, client_library};

/// The page: its own files, and the client library.
fn pages() -> impl Iterator<Item = Page> {
    let own: [Page; 2] =
        [("index.html", include_bytes!("index.html")), ("paint.js", include_bytes!("paint.js"))];
    own.into_iter().chain(client_library())
}

fn main() -> ExitCode {
    tickwire::cli::run(game::Paint, pages())
}
