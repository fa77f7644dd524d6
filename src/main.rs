//! The `tickwire` binary: the arena, with its demo page, behind [`tickwire::cli`].

use std::process::ExitCode;
use tickwire::cli::{ArenaArgs, run_with};

fn main() -> ExitCode {
    run_with(ArenaArgs::arena, tickwire::net::http::demo_files().iter().copied())
}
