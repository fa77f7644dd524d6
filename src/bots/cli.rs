//! `tickwire bots`: the command-line face of the load tester (and its hidden `plot` and
//! `timeline` modes, which write the load and soak results).

use super::game::GameSpec;
use super::load::{self, LoadOptions};
use super::pattern::Pattern;
use super::report::{self, Thresholds};
use super::{plot, timeline_plot};
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

/// Runs N WebSocket bots against a server and reports netcode quality.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BotsArgs {
    #[command(subcommand)]
    command: Option<BotsCommand>,
    /// The server's WebSocket endpoint (ws://, or wss:// verified against the Mozilla roots,
    /// or against --ca-cert).
    #[arg(long, default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// PEM certificates to trust for wss:// (and https:// metrics) instead of the Mozilla
    /// roots: a private CA, or the server's own self-signed certificate.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Bots to connect.
    #[arg(long, default_value_t = 100, value_name = "COUNT")]
    clients: usize,
    /// From start to stop, ramp-up included (e.g. 30s).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Connects are spread over this long (e.g. 5s).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    ramp_up: Duration,
    /// How the bots move.
    #[arg(long, value_enum, default_value_t = Pattern::RandomWalk)]
    pattern: Pattern,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// The server's metrics page (default: http://HOST:PORT/metrics of --url).
    #[arg(long, value_name = "URL")]
    metrics_url: Option<String>,
    /// A label copied into the report (scenario name).
    #[arg(long, default_value = "")]
    label: String,
    /// Runtime worker threads for the bots; 1 runs them all on one current-thread runtime.
    #[arg(long, default_value_t = 1, value_name = "COUNT")]
    threads: usize,
    /// The room the bots join (`/ws?room=NAME`); with --rooms, the prefix of the rooms' names.
    #[arg(long, value_name = "NAME")]
    room: Option<String>,
    /// Spread the bots over this many rooms, NAME-0 to NAME-(COUNT-1) (`bots-…` without
    /// --room), bot i in room i mod COUNT.
    #[arg(long, default_value_t = 1, value_name = "COUNT")]
    rooms: usize,
    /// Join through matchmaking: each bot POSTs /matchmake (for its --room) to this
    /// http://host:port and connects where it is sent; the report adds figures per process.
    /// A bot whose server is lost (1001, 1006, 4005, 4007, 4008) matchmakes again and plays
    /// on, counted in the report. --url then only names the process whose /metrics are read.
    #[arg(long, value_name = "URL")]
    matchmake: Option<String>,
    /// Fail if the input-to-snapshot p99 latency exceeds this many milliseconds.
    #[arg(long, value_name = "MS")]
    max_p99_latency_ms: Option<f64>,
    /// Fail if the slowest client received fewer snapshots per second than this.
    #[arg(long, value_name = "PER_SECOND")]
    min_snapshot_rate: Option<f64>,
    /// Fail if replica errors (apply errors, own player missing, mismatches) exceed this.
    #[arg(long, default_value_t = 0, value_name = "COUNT")]
    max_replica_errors: u64,
    /// Fail if more connections than this ended before the run did.
    #[arg(long, value_name = "COUNT")]
    max_disconnects: Option<u64>,
    /// Churn: each bot closes normally after a random lifetime with this mean (exponential,
    /// at most 10 means) and connects again as a fresh client, for the whole run.
    #[arg(long, value_name = "SECONDS", value_parser = parse_churn)]
    churn_s: Option<Duration>,
    /// With --churn-s, this share (0 to 1) of the bots' leavings are drops (no close frame)
    /// after which the bot resumes its session (`/ws?resume=`) and checks it got its own
    /// player back; the others close normally and join afresh.
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    resume_share: f64,
}

#[derive(clap::Subcommand, Debug)]
enum BotsCommand {
    /// Write the results table and plot from JSON reports (used by benches/load.sh).
    #[command(hide = true)]
    Plot(PlotArgs),
    /// Write the memory-over-time plot and a summary from one JSON report (used by
    /// benches/soak.sh).
    #[command(hide = true)]
    Timeline(TimelineArgs),
}

#[derive(clap::Args, Debug)]
struct TimelineArgs {
    /// Markdown file to write: the preamble, then the summary.
    #[arg(long)]
    markdown: PathBuf,
    /// SVG file to write.
    #[arg(long)]
    svg: PathBuf,
    /// Text put before the summary (machine, command, panics).
    #[arg(long)]
    preamble: Option<PathBuf>,
    /// A JSON report from `tickwire bots --json`.
    report: PathBuf,
}

#[derive(clap::Args, Debug)]
struct PlotArgs {
    /// Markdown file to write: the preamble, then the table.
    #[arg(long)]
    markdown: PathBuf,
    /// SVG file to write.
    #[arg(long)]
    svg: PathBuf,
    /// Text put before the table (machine, command).
    #[arg(long)]
    preamble: Option<PathBuf>,
    /// JSON reports from `tickwire bots --json`.
    reports: Vec<PathBuf>,
}

/// Runs the subcommand against a server of `game`; an error (or a violated threshold) is the
/// message to exit with.
pub fn main(game: GameSpec, args: BotsArgs) -> Result<(), String> {
    match &args.command {
        Some(BotsCommand::Plot(plot)) => return write_plot(plot),
        Some(BotsCommand::Timeline(timeline)) => return write_timeline(timeline),
        None => {}
    }
    let options = LoadOptions {
        url: args.url.clone(),
        clients: args.clients,
        duration: args.duration,
        ramp_up: args.ramp_up,
        pattern: args.pattern,
        metrics_url: args.metrics_url.clone(),
        label: args.label.clone(),
        progress: true,
        bot_threads: args.threads.max(1),
        rooms: load::room_names(args.room.as_deref(), args.rooms),
        churn: args.churn_s,
        resume_share: args.resume_share,
        matchmake: args.matchmake.clone(),
        tls: args
            .ca_cert
            .as_deref()
            .map(super::client::trusting)
            .transpose()
            .map_err(|e| format!("--ca-cert: {e}"))?,
    };
    if let Some(bad) = options.rooms.iter().find_map(|room| crate::rooms::check_name(room).err()) {
        return Err(bad);
    }
    let runtime = if options.bot_threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(options.bot_threads).enable_all().build()
    };
    let runtime = runtime.map_err(|e| format!("cannot start the runtime: {e}"))?;
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let report = runtime.block_on(load::run(&game, &options, ctrl_c))?;
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        print!("{}", report::render_text(&report));
    }
    if !args.json && std::io::stdout().is_terminal() {
        eprintln!();
    }
    let thresholds = Thresholds {
        max_p99_latency_ms: args.max_p99_latency_ms,
        min_snapshot_rate: args.min_snapshot_rate,
        max_replica_errors: args.max_replica_errors,
        max_disconnects: args.max_disconnects,
    };
    let violations = thresholds.violations(&report);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!("thresholds violated: {}", violations.join("; ")))
    }
}

fn write_plot(args: &PlotArgs) -> Result<(), String> {
    let reports = plot::read_reports(&args.reports)?;
    let mut markdown = preamble(args.preamble.as_ref())?;
    markdown.push_str(&plot::markdown_table(&reports));
    write(&args.markdown, &markdown)?;
    write(&args.svg, &plot::svg(&reports))
}

fn write_timeline(args: &TimelineArgs) -> Result<(), String> {
    let reports = plot::read_reports(std::slice::from_ref(&args.report))?;
    let report = reports.first().ok_or("no report")?;
    let mut markdown = preamble(args.preamble.as_ref())?;
    markdown.push_str(&timeline_plot::summary(report));
    write(&args.markdown, &markdown)?;
    write(&args.svg, &timeline_plot::svg(report))
}

fn preamble(path: Option<&PathBuf>) -> Result<String, String> {
    match path {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display())),
        None => Ok(String::new()),
    }
}

fn write(path: &PathBuf, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `--churn-s`: a positive number of seconds, fractions allowed.
fn parse_churn(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.parse().map_err(|e| format!("{text}: {e}"))?;
    match Duration::try_from_secs_f64(seconds) {
        Ok(mean) if !mean.is_zero() => Ok(mean),
        _ => Err(format!("{text}: a mean lifetime is a positive number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_is_a_positive_number_of_seconds() {
        assert_eq!(parse_churn("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_churn("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_churn("0").is_err());
        assert!(parse_churn("-1").is_err());
        assert!(parse_churn("soon").is_err());
    }
}
