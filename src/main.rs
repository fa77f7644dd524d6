//! The `tickwire` binary: the arena behind the command line of [`tickwire::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    tickwire::cli::main()
}
