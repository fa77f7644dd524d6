//! The bots' own figures: connections, snapshot rate, bytes, latency, jitter and replica
//! correctness, from the bots' outcomes and the shared histograms.

use super::{
    ByteFigures, Churn, Clients, Jitter, PredictionFigures, Rate, ReplicaFigures, Report, RunInfo,
};
use crate::bots::bot::{BotOutcome, frame_header_bytes};
use crate::bots::shared::Shared;

/// Collects the bots' outcomes and histograms into a report.
pub fn build(shared: &Shared, run: RunInfo, outcomes: &[BotOutcome]) -> Report {
    let mut report = Report { run, ..Report::default() };
    report.clients = clients(outcomes);
    report.replica = replica(outcomes);
    report.prediction = prediction(shared, outcomes);
    report.churn = churn(outcomes);
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
        c.rematched += o.rematched;
        c.rematch_gap_max_ms = c.rematch_gap_max_ms.max(o.rematch_gap_max.as_secs_f64() * 1e3);
        if let Some(code) = &o.disconnected {
            c.disconnected += 1;
            *c.close_codes.entry(code.clone()).or_default() += 1;
        }
    }
    c
}

fn churn(outcomes: &[BotOutcome]) -> Churn {
    let opened: u64 = outcomes.iter().map(|o| o.connections).sum();
    let first: u64 = outcomes.iter().map(|o| o.connections.min(1)).sum();
    let closed = outcomes.iter().map(|o| o.churned).sum();
    let dropped = outcomes.iter().map(|o| o.dropped).sum();
    let resumed = outcomes.iter().map(|o| o.resumed).sum();
    Churn { mean_lifetime_s: None, opened, closed, reopened: opened - first, dropped, resumed }
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

fn prediction(shared: &Shared, outcomes: &[BotOutcome]) -> PredictionFigures {
    let predicted: u64 = outcomes.iter().map(|o| o.predicted).sum();
    let share = |f: fn(&BotOutcome) -> u64| {
        let n: u64 = outcomes.iter().map(f).sum();
        if predicted > 0 { n as f64 / predicted as f64 } else { 0.0 }
    };
    PredictionFigures {
        units: shared.correction_milli.summary(0.001),
        over_tenth_share: share(|o| o.corrected_over_tenth),
        over_one_share: share(|o| o.corrected_over_one),
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

    #[test]
    fn churn_counts_reconnects_apart_from_disconnects() {
        let bot = |connections, churned, disconnected: Option<&str>| BotOutcome {
            connected: connections > 0,
            connections,
            churned,
            disconnected: disconnected.map(str::to_owned),
            ..BotOutcome::default()
        };
        let outcomes = [
            bot(3, 2, None),
            bot(2, 1, Some(crate::bots::bot::RECONNECT_FAILED)),
            bot(1, 0, Some("4001")),
            bot(0, 0, None),
        ];
        let churn = churn(&outcomes);
        assert_eq!((churn.opened, churn.closed, churn.reopened), (6, 3, 3));
        let clients = clients(&outcomes);
        assert_eq!((clients.connected, clients.disconnected), (3, 2));
        assert_eq!(clients.close_codes.get("4001"), Some(&1));
    }
}
