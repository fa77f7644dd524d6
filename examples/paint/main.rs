//! Paint, served by tickwire: `cargo run --release --example paint`, then open the printed
//! URL in two browser windows. `cargo run --release --example paint -- bots --url
//! ws://127.0.0.1:8081/ws --clients 20` load-tests it with the same bots as the arena.

mod game;

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::process::ExitCode;
use tickwire::bots::GameSpec;
use tickwire::net::http::{Page, client_library};
use tickwire::{Server, ServerConfig};

/// The paint example.
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    bind: SocketAddr,
}

#[derive(Subcommand)]
enum Command {
    /// Load-test a paint server with bots.
    Bots(Box<tickwire::bots::cli::BotsArgs>),
    /// Print the TypeScript declarations of paint's components, input, welcome, messages
    /// and events (for `paint.d.ts`).
    Schema {
        /// TypeScript declarations (the only form this example prints).
        #[arg(long, required = true)]
        typescript: bool,
    },
}

/// The page: its own files, and the client library.
fn pages() -> impl Iterator<Item = Page> {
    let own: [Page; 2] =
        [("index.html", include_bytes!("index.html")), ("paint.js", include_bytes!("paint.js"))];
    own.into_iter().chain(client_library())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Bots(args)) => {
            GameSpec::of(game::Paint).and_then(|spec| tickwire::bots::cli::main(spec, *args))
        }
        Some(Command::Schema { .. }) => {
            tickwire::registry_of(&mut game::Paint).map(|(_, schema)| {
                print!("{}", tickwire::protocol::typescript::declarations(&schema));
            })
        }
        None => serve(cli.bind),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("paint: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(bind: SocketAddr) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("paint: serving http://{addr}/");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        Server::new(game::Paint)
            .config(ServerConfig::default())
            .pages(pages())
            .run(listener, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}
