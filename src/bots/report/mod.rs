//! The load test's report: built from the bots' outcomes, the shared histograms and the
//! server's `/metrics`; printed as a text table or JSON; checked against thresholds.
//!
//! - this file: the [`Report`] and its sections, the shape of the JSON;
//! - [`build()`]: the bots' own figures, from their outcomes and the shared histograms;
//! - [`server_figures`]: the server's figures, from the [`Scrapes`] of its `/metrics`;
//! - [`Thresholds`]: the limits that fail a run;
//! - [`render_text`]: the text table.

mod build;
mod server;
mod text;
mod thresholds;

pub use build::build;
pub use server::{Scrapes, ServerFigures, server_figures};
pub use text::render_text;
pub use thresholds::Thresholds;

use super::histogram::Summary;
use super::timeline::Timeline;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything a run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// Free-form label (the load script names scenarios with it).
    pub label: String,
    /// With matchmaking: the bots' figures by the process (`host:port`) they were sent to.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub processes: BTreeMap<String, ProcessFigures>,
    /// What was run.
    pub run: RunInfo,
    /// Connections.
    pub clients: Clients,
    /// Snapshots received per client per second.
    pub snapshot_rate: Rate,
    /// Bytes received.
    pub bytes: ByteFigures,
    /// Input sent → first snapshot reflecting it, milliseconds.
    pub latency_ms: Summary,
    /// Inputs whose latency could not be timed.
    pub latency_lost: u64,
    /// Ping → pong, milliseconds.
    pub rtt_ms: Summary,
    /// Snapshot inter-arrival time minus the tick period, milliseconds.
    pub jitter_ms: Jitter,
    /// Replica correctness.
    pub replica: ReplicaFigures,
    /// How far snapshots corrected the bots' prediction of their own entity.
    #[serde(default)]
    pub prediction: PredictionFigures,
    /// The server's own figures, or why they are missing.
    pub server: Option<ServerFigures>,
    /// Why the scrape failed, if it did.
    pub server_error: Option<String>,
    /// Connections closed and opened by churn (none without `--churn-s`).
    #[serde(default)]
    pub churn: Churn,
    /// The server's memory and clients over the whole run.
    #[serde(default)]
    pub timeline: Timeline,
}

/// The run's parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunInfo {
    /// WebSocket URL.
    pub url: String,
    /// Movement pattern.
    pub pattern: String,
    /// Bots requested.
    pub clients: usize,
    /// Seconds from start to stop.
    pub duration_s: f64,
    /// Seconds over which connects were spread.
    pub ramp_up_s: f64,
    /// Seconds of the measurement window (after ramp-up and a settle second).
    pub window_s: f64,
    /// The server's tick rate from the welcome.
    pub tick_rate_hz: u16,
    /// Runtime worker threads of the bots (1: current-thread).
    pub bot_threads: usize,
    /// Rooms the bots were spread over.
    #[serde(default)]
    pub rooms: usize,
    /// CPU the bots' own process used over the window, in cores (the server's competitor on
    /// a shared machine; includes the server when it runs in-process, as in the tests).
    #[serde(default)]
    pub bot_cpu_cores: f64,
    /// The same per snapshot received, microseconds (receive, apply, and the inputs sent).
    #[serde(default)]
    pub bot_cpu_us_per_snapshot: f64,
    /// Whether Ctrl-C ended the run early.
    pub interrupted: bool,
}

/// Connection counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Clients {
    /// Bots that received a welcome.
    pub connected: u64,
    /// Bots that never did, by reason.
    pub failed: u64,
    /// See `failed`.
    pub failures: BTreeMap<String, u64>,
    /// Bots whose turn to connect never came (the run was interrupted during the ramp-up).
    #[serde(default)]
    pub not_started: u64,
    /// Connections that ended before the run did, not by churn.
    pub disconnected: u64,
    /// By close code (`1006`: lost without a close frame; `replica-error`: we closed).
    pub close_codes: BTreeMap<String, u64>,
    /// With matchmaking: times a bot lost its server (1001, 1006, 4005, 4007, 4008),
    /// matchmade again and played on, as a new player (not counted in `disconnected`).
    #[serde(default)]
    pub rematched: u64,
    /// The longest time from such a loss to playing again, milliseconds.
    #[serde(default)]
    pub rematch_gap_max_ms: f64,
}

/// Churn over the whole run: connections the bots closed at the end of their lifetime and
/// opened again, counted apart from disconnects (which are the server's or the network's).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Churn {
    /// The mean connection lifetime asked for, seconds (`None`: no churn).
    pub mean_lifetime_s: Option<f64>,
    /// Connections that received a welcome, first ones and reconnects.
    pub opened: u64,
    /// Connections the bots closed normally (1000) because their lifetime was over.
    pub closed: u64,
    /// Fresh connections opened after such a close (`opened` minus each bot's first).
    pub reopened: u64,
    /// Of the closes, drops without a goodbye (`--resume-share`).
    #[serde(default)]
    pub dropped: u64,
    /// Sessions resumed after a drop, each checked to give back the bot's own entity.
    #[serde(default)]
    pub resumed: u64,
}

/// Snapshots per client per second over the window, across clients that stayed connected.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Rate {
    /// Mean.
    pub mean: f64,
    /// Slowest client.
    pub min: f64,
}

/// Bytes per client and per snapshot.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ByteFigures {
    /// Payload bytes per client per second (mean over clients).
    pub per_client_per_s: f64,
    /// With WebSocket framing.
    pub per_client_per_s_framed: f64,
    /// Payload bytes per snapshot.
    pub per_snapshot_mean: f64,
    /// See `per_snapshot_mean`.
    pub per_snapshot_p99: f64,
    /// With framing.
    pub per_snapshot_framed_mean: f64,
    /// With framing.
    pub per_snapshot_framed_p99: f64,
    /// Bytes of one `Move` op (tag, id gap, dx, dy): the cost of a moving entity.
    pub per_move_op: f64,
    /// `Move` ops per snapshot.
    pub moves_per_snapshot: f64,
    /// Bytes of one `Update` op (a move with a new score).
    pub per_update_op: f64,
}

/// Snapshot inter-arrival jitter.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Jitter {
    /// Standard deviation of the inter-arrival time.
    pub stddev: f64,
    /// 99th percentile of inter-arrival minus the tick period.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// How far each snapshot moved a bot's predicted own position (reconciliation), for a game
/// whose bots predict (the arena); all zero otherwise.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PredictionFigures {
    /// The correction per reconciled snapshot, world units.
    pub units: Summary,
    /// Share of reconciled snapshots with a correction over 0.1 unit.
    pub over_tenth_share: f64,
    /// Share of reconciled snapshots with a correction over 1 unit.
    pub over_one_share: f64,
}

/// Replica correctness.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ReplicaFigures {
    /// Messages that could not be applied.
    pub apply_errors: u64,
    /// Snapshots after which the own player was missing.
    pub own_missing: u64,
    /// Entities compared across bots at sampled ticks.
    pub compared: u64,
    /// Of which disagreed.
    pub mismatches: u64,
    /// Full snapshots after the first (server lost the baseline).
    pub resyncs: u64,
}

impl ReplicaFigures {
    /// Everything that counts against `--max-replica-errors`.
    pub fn errors(&self) -> u64 {
        self.apply_errors + self.own_missing + self.mismatches
    }
}

/// The bots' figures on one process of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessFigures {
    /// Bots whose (last) connection was sent there.
    pub bots: u64,
    /// Of them, connections that ended before the run did.
    pub disconnected: u64,
    /// Snapshots they received per bot per second of the window.
    pub snapshots_per_second: f64,
}

/// Groups the outcomes of matchmade bots by process; empty when none matchmade.
pub fn per_process(
    outcomes: &[crate::bots::bot::BotOutcome],
    window_s: f64,
) -> BTreeMap<String, ProcessFigures> {
    let mut processes: BTreeMap<String, (ProcessFigures, u64)> = BTreeMap::new();
    for outcome in outcomes {
        let Some(process) = &outcome.process else { continue };
        let (figures, snapshots) = processes.entry(process.clone()).or_default();
        figures.bots += 1;
        figures.disconnected += u64::from(outcome.disconnected.is_some());
        *snapshots += outcome.snapshots;
    }
    processes
        .into_iter()
        .map(|(process, (mut figures, snapshots))| {
            figures.snapshots_per_second =
                snapshots as f64 / (figures.bots as f64 * window_s.max(1e-3));
            (process, figures)
        })
        .collect()
}
