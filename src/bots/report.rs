//! The load test's report: built from the bots' outcomes, the shared histograms and the
//! server's `/metrics`; printed as a text table or JSON; checked against thresholds.

use super::bot::{BotOutcome, frame_header_bytes};
use super::histogram::{Summary, bucket_max, bucket_quantile};
use super::scrape::{Scrape, bucket_counts_between};
use super::shared::Shared;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Everything a run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// Free-form label (the load script names scenarios with it).
    pub label: String,
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
    /// The server's own figures, or why they are missing.
    pub server: Option<ServerFigures>,
    /// Why the scrape failed, if it did.
    pub server_error: Option<String>,
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
    /// Connections that ended before the run did.
    pub disconnected: u64,
    /// By close code (`1006`: lost without a close frame; `replica-error`: we closed).
    pub close_codes: BTreeMap<String, u64>,
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

/// What the server's `/metrics` said over the window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServerFigures {
    /// Ticks in the window.
    pub ticks: f64,
    /// Clients the server counted at the end of the window.
    pub clients: f64,
    /// Tick work, milliseconds (interpolated in histogram buckets).
    pub tick_ms_p50: f64,
    /// See `tick_ms_p50`.
    pub tick_ms_p99: f64,
    /// Upper bound of the highest non-empty bucket.
    pub tick_ms_max: f64,
    /// Mean tick work, milliseconds of wall time.
    #[serde(default)]
    pub tick_ms_mean: f64,
    /// CPU of the tick thread per tick, milliseconds: much less than `tick_ms_mean` means
    /// the tick thread waited (for a core or a lock) during its work.
    #[serde(default)]
    pub tick_thread_cpu_ms_per_tick: f64,
    /// Ticks that overran the period.
    pub overruns: f64,
    /// Server CPU per client per tick, microseconds.
    pub cpu_us_per_client_per_tick: f64,
    /// Server CPU, fraction of one core.
    pub cpu_cores: f64,
    /// Resident memory growth per connection since before the first connect, bytes.
    pub memory_per_connection: f64,
    /// Snapshots taken back unsent (slow clients).
    pub snapshots_skipped: f64,
    /// Inputs the server dropped, by reason.
    pub inputs_dropped: BTreeMap<String, f64>,
    /// Disconnects over the whole run, by reason (our closes at the end included).
    pub disconnects: BTreeMap<String, f64>,
}

/// The three scrapes: before connecting, at window start, at window end; and one after
/// the bots closed, for disconnect reasons.
#[derive(Debug, Clone, Default)]
pub struct Scrapes {
    /// Before any bot connected.
    pub before: Option<Scrape>,
    /// When the window began.
    pub start: Option<Scrape>,
    /// When it ended.
    pub end: Option<Scrape>,
    /// After the bots closed.
    pub after: Option<Scrape>,
}

/// Collects the bots' outcomes and histograms into a report.
pub fn build(shared: &Shared, run: RunInfo, outcomes: &[BotOutcome]) -> Report {
    let mut report = Report { run, ..Report::default() };
    report.clients = clients(outcomes);
    report.replica = replica(outcomes);
    let staying: Vec<&BotOutcome> =
        outcomes.iter().filter(|o| o.connected && o.disconnected.is_none()).collect();
    let rates = |f: fn(&BotOutcome) -> u64| -> Vec<f64> {
        staying
            .iter()
            .filter(|o| o.window_seconds > 0.0)
            .map(|o| f(o) as f64 / o.window_seconds)
            .collect()
    };
    let snapshot_rates = rates(|o| o.snapshots);
    report.snapshot_rate = Rate {
        mean: mean(&snapshot_rates),
        min: snapshot_rates.iter().copied().reduce(f64::min).unwrap_or(0.0),
    };
    report.bytes = bytes(shared, outcomes, &rates(|o| o.payload_bytes), &rates(|o| o.framed_bytes));
    report.latency_ms = shared.latency_us.summary(0.001);
    report.latency_lost = outcomes.iter().map(|o| o.latency_lost).sum();
    report.rtt_ms = shared.rtt_us.summary(0.001);
    let period_ms = 1000.0 / f64::from(report.run.tick_rate_hz.max(1));
    let interval = shared.interval_us.summary(0.001);
    // Without two snapshots in a row there is no interval, and no jitter to report.
    report.jitter_ms = if interval.count == 0 {
        Jitter::default()
    } else {
        Jitter {
            stddev: interval.stddev,
            p99: interval.p99 - period_ms,
            max: interval.max - period_ms,
        }
    };
    report
}

fn clients(outcomes: &[BotOutcome]) -> Clients {
    let mut c = Clients::default();
    for o in outcomes {
        if let Some(why) = &o.failed {
            c.failed += 1;
            *c.failures.entry(short(why)).or_default() += 1;
            continue;
        }
        if !o.connected {
            c.not_started += 1;
            continue;
        }
        c.connected += 1;
        if let Some(code) = &o.disconnected {
            c.disconnected += 1;
            *c.close_codes.entry(code.clone()).or_default() += 1;
        }
    }
    c
}

fn replica(outcomes: &[BotOutcome]) -> ReplicaFigures {
    let sum = |f: fn(&BotOutcome) -> u64| outcomes.iter().map(f).sum();
    ReplicaFigures {
        apply_errors: sum(|o| o.apply_errors),
        own_missing: sum(|o| o.own_missing),
        compared: sum(|o| o.compared),
        mismatches: sum(|o| o.mismatches),
        resyncs: sum(|o| o.resyncs),
    }
}

fn bytes(shared: &Shared, outcomes: &[BotOutcome], payload: &[f64], framed: &[f64]) -> ByteFigures {
    let snapshots: u64 = outcomes.iter().map(|o| o.snapshots).sum();
    let total = |f: fn(&BotOutcome) -> u64| outcomes.iter().map(f).sum::<u64>() as f64;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let sizes = shared.snapshot_bytes.summary(1.0);
    ByteFigures {
        per_client_per_s: mean(payload),
        per_client_per_s_framed: mean(framed),
        per_snapshot_mean: sizes.mean,
        per_snapshot_p99: sizes.p99,
        per_snapshot_framed_mean: ratio(total(|o| o.framed_bytes), snapshots as f64),
        per_snapshot_framed_p99: sizes.p99 + frame_header_bytes(sizes.p99 as usize) as f64,
        per_move_op: ratio(total(|o| o.moves.bytes), total(|o| o.moves.count)),
        moves_per_snapshot: ratio(total(|o| o.moves.count), snapshots as f64),
        per_update_op: ratio(total(|o| o.updates.bytes), total(|o| o.updates.count)),
    }
}

/// The server's figures from the scrapes; `None` when a needed scrape is missing.
pub fn server_figures(
    scrapes: &Scrapes,
    fallback_clients: u64,
    window_s: f64,
) -> Option<ServerFigures> {
    let (before, start, end) =
        (scrapes.before.as_ref()?, scrapes.start.as_ref()?, scrapes.end.as_ref()?);
    let delta = |name: &str| (end.value(name) - start.value(name)).max(0.0);
    let ticks = delta("tickwire_ticks_total");
    let mut clients = end.value("tickwire_clients");
    if clients <= 0.0 {
        clients = fallback_clients as f64;
    }
    let per = |x: f64, n: f64| if n > 0.0 { x / n } else { 0.0 };
    let buckets = bucket_counts_between(start, end, "tickwire_tick_duration_seconds");
    let cpu = delta("tickwire_process_cpu_seconds_total");
    let memory = end.value("tickwire_process_resident_memory_bytes")
        - before.value("tickwire_process_resident_memory_bytes");
    let after = scrapes.after.as_ref().unwrap_or(end);
    let family_delta = |name: &str, from: &Scrape, to: &Scrape| -> BTreeMap<String, f64> {
        let earlier = from.by_label(name, "reason");
        to.by_label(name, "reason")
            .into_iter()
            .map(|(reason, v)| {
                let was = earlier.iter().find(|(r, _)| *r == reason).map_or(0.0, |(_, v)| *v);
                (reason, v - was)
            })
            .filter(|(_, v)| *v > 0.0)
            .collect()
    };
    Some(ServerFigures {
        ticks,
        clients,
        tick_ms_p50: bucket_quantile(&buckets, 0.5) * 1e3,
        tick_ms_p99: bucket_quantile(&buckets, 0.99) * 1e3,
        tick_ms_max: bucket_max(&buckets) * 1e3,
        tick_ms_mean: per(delta("tickwire_tick_duration_seconds_sum") * 1e3, ticks),
        tick_thread_cpu_ms_per_tick: per(
            delta("tickwire_tick_thread_cpu_seconds_total") * 1e3,
            ticks,
        ),
        overruns: delta("tickwire_tick_overruns_total"),
        cpu_us_per_client_per_tick: per(per(cpu * 1e6, clients), ticks),
        cpu_cores: per(cpu, window_s),
        memory_per_connection: per(memory, clients),
        snapshots_skipped: delta("tickwire_snapshots_skipped_total"),
        inputs_dropped: family_delta("tickwire_inputs_dropped_total", start, end),
        disconnects: family_delta("tickwire_disconnects_total", before, after),
    })
}

/// Limits that make the run fail.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    /// Most input-to-snapshot p99 latency, ms.
    pub max_p99_latency_ms: Option<f64>,
    /// Fewest snapshots per second for the slowest client.
    pub min_snapshot_rate: Option<f64>,
    /// Most replica errors (apply errors, missing own player, mismatches).
    pub max_replica_errors: u64,
    /// Most connections ended early.
    pub max_disconnects: Option<u64>,
}

impl Thresholds {
    /// One message per violated threshold, naming its flag.
    pub fn violations(&self, report: &Report) -> Vec<String> {
        let mut out = Vec::new();
        if report.clients.connected == 0 {
            out.push("no client connected".to_owned());
        }
        if let Some(max) = self.max_p99_latency_ms.filter(|&max| report.latency_ms.p99 > max) {
            out.push(format!(
                "p99 latency {:.1} ms > --max-p99-latency-ms {max}",
                report.latency_ms.p99
            ));
        }
        if let Some(min) = self.min_snapshot_rate.filter(|&min| report.snapshot_rate.min < min) {
            out.push(format!(
                "slowest client {:.1} snapshots/s < --min-snapshot-rate {min}",
                report.snapshot_rate.min
            ));
        }
        let errors = report.replica.errors();
        if errors > self.max_replica_errors {
            out.push(format!(
                "{errors} replica errors > --max-replica-errors {}",
                self.max_replica_errors
            ));
        }
        if let Some(max) = self.max_disconnects.filter(|&max| report.clients.disconnected > max) {
            out.push(format!(
                "{} disconnects > --max-disconnects {max}",
                report.clients.disconnected
            ));
        }
        out
    }
}

/// The report as an aligned text table.
pub fn render_text(r: &Report) -> String {
    let mut t = String::new();
    let run = &r.run;
    let _ = writeln!(
        t,
        "tickwire bots{}: {} x {} for {:.1} s (window {:.1} s, ramp-up {:.1} s, {} Hz){}",
        if r.label.is_empty() { String::new() } else { format!(" {}", r.label) },
        run.clients,
        run.pattern,
        run.duration_s,
        run.window_s,
        run.ramp_up_s,
        run.tick_rate_hz,
        if run.interrupted { ", interrupted" } else { "" }
    );
    let mut row = |k: &str, v: String| {
        let _ = writeln!(t, "  {k:<34} {v}");
    };
    let c = &r.clients;
    let waiting = if c.not_started > 0 {
        format!(", {} never started", c.not_started)
    } else {
        String::new()
    };
    row(
        "clients connected / failed",
        format!("{} / {} {:?}{waiting}", c.connected, c.failed, c.failures),
    );
    row("disconnected (by close code)", format!("{} {:?}", c.disconnected, c.close_codes));
    row(
        "snapshots/s per client mean / min",
        format!("{:.2} / {:.2}", r.snapshot_rate.mean, r.snapshot_rate.min),
    );
    let b = &r.bytes;
    row(
        "bytes/s per client (framed)",
        format!("{:.0} ({:.0})", b.per_client_per_s, b.per_client_per_s_framed),
    );
    row(
        "bytes/snapshot mean / p99",
        format!("{:.1} / {:.0}", b.per_snapshot_mean, b.per_snapshot_p99),
    );
    row(
        "  with framing",
        format!("{:.1} / {:.0}", b.per_snapshot_framed_mean, b.per_snapshot_framed_p99),
    );
    row(
        "bytes per moving entity (Move op)",
        format!("{:.2} ({:.1} per snapshot)", b.per_move_op, b.moves_per_snapshot),
    );
    let l = &r.latency_ms;
    row(
        "input->snapshot ms p50/p90/p99/max",
        format!(
            "{:.1} / {:.1} / {:.1} / {:.1} ({} samples, {} lost)",
            l.p50, l.p90, l.p99, l.max, l.count, r.latency_lost
        ),
    );
    row("ping rtt ms p50 / p99", format!("{:.1} / {:.1}", r.rtt_ms.p50, r.rtt_ms.p99));
    row(
        "snapshot jitter ms stddev / p99",
        format!("{:.2} / {:.1}", r.jitter_ms.stddev, r.jitter_ms.p99),
    );
    let re = &r.replica;
    row(
        "replica errors (apply/own/mismatch)",
        format!(
            "{} ({}/{}/{} of {} compared), {} resyncs",
            re.errors(),
            re.apply_errors,
            re.own_missing,
            re.mismatches,
            re.compared,
            re.resyncs
        ),
    );
    match (&r.server, &r.server_error) {
        (Some(s), _) => {
            row(
                "bots' own CPU (cores, us/snapshot)",
                format!("{:.2}, {:.1}", run.bot_cpu_cores, run.bot_cpu_us_per_snapshot),
            );
            row(
                "server tick ms p50 / p99 / max",
                format!(
                    "{:.3} / {:.3} / {:.3} ({} ticks, {} overruns)",
                    s.tick_ms_p50, s.tick_ms_p99, s.tick_ms_max, s.ticks, s.overruns
                ),
            );
            row(
                "server tick ms mean, tick thread CPU",
                format!("{:.3}, {:.3}", s.tick_ms_mean, s.tick_thread_cpu_ms_per_tick),
            );
            row(
                "server CPU us per client per tick",
                format!("{:.1} ({} clients)", s.cpu_us_per_client_per_tick, s.clients),
            );
            row("server memory per connection", format!("{:.0} bytes", s.memory_per_connection));
            row("server snapshots skipped", format!("{}", s.snapshots_skipped));
            row("server inputs dropped", format!("{:?}", s.inputs_dropped));
            row("server disconnects (whole run)", format!("{:?}", s.disconnects));
        }
        (None, error) => {
            row("server metrics", error.clone().unwrap_or_else(|| "not scraped".into()))
        }
    }
    t
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 }
}

/// A failure reason shortened for grouping (URLs and ports vary per bot).
fn short(why: &str) -> String {
    why.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bots::pattern::Pattern;
    use std::time::Duration;

    #[test]
    fn a_run_where_nobody_connected_reports_no_jitter() {
        let second = Duration::from_secs(1);
        let game = crate::bots::GameSpec::of(crate::arena::Arena::default()).expect("arena");
        let shared = Shared::new(
            game,
            "ws://127.0.0.1:1/ws".into(),
            Pattern::Idle,
            2,
            Duration::ZERO,
            second,
            second,
            second,
        );
        let report = build(&shared, RunInfo::default(), &[]);
        assert_eq!(report.jitter_ms.p99, 0.0);
        assert_eq!(report.jitter_ms.max, 0.0);
        assert_eq!(report.clients.connected, 0);
    }
}
