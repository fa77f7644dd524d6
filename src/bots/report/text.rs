//! The report as an aligned text table, for a terminal.

use super::Report;
use std::fmt::Write as _;

/// The report as an aligned text table.
pub fn render_text(r: &Report) -> String {
    let mut t = String::new();
    let run = &r.run;
    let _ = writeln!(
        t,
        "tickwire bots{}: {} x {}{} for {:.1} s (window {:.1} s, ramp-up {:.1} s, {} Hz){}",
        if r.label.is_empty() { String::new() } else { format!(" {}", r.label) },
        run.clients,
        run.pattern,
        if run.rooms > 1 { format!(" in {} rooms", run.rooms) } else { String::new() },
        run.duration_s,
        run.window_s,
        run.ramp_up_s,
        run.tick_rate_hz,
        if run.interrupted { ", interrupted" } else { "" }
    );
    let mut row = |k: &str, v: String| {
        let _ = writeln!(t, "  {k:<34} {v}");
    };
    for (process, p) in &r.processes {
        let figures = format!(
            "{} bots, {} disconnected, {:.1} snapshots/s per bot",
            p.bots, p.disconnected, p.snapshots_per_second
        );
        row(&format!("process {process}"), figures);
    }
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
    if c.rematched > 0 {
        let gap = c.rematch_gap_max_ms;
        let what = format!("{} (played on as new players; longest gap {gap:.0} ms)", c.rematched);
        row("server lost, matchmade again", what);
    }
    if let Some(mean) = r.churn.mean_lifetime_s {
        row(
            "churn: closed / reopened",
            format!("{} / {} (mean lifetime {mean} s)", r.churn.closed, r.churn.reopened),
        );
        if r.churn.dropped > 0 {
            row(
                "churn: dropped / resumed",
                format!("{} / {} (same entity back)", r.churn.dropped, r.churn.resumed),
            );
        }
    }
    if let (Some(first), Some(peak), Some(last)) =
        (r.timeline.first(), r.timeline.peak(), r.timeline.last())
    {
        let mib = |p: &crate::bots::timeline::TimelinePoint| p.resident_bytes / 1048576.0;
        row(
            "server memory MiB start/peak/end",
            format!("{:.1} / {:.1} / {:.1}", mib(first), mib(peak), mib(last)),
        );
    }
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
    let p = &r.prediction;
    row(
        "own prediction correction p50/p99/max",
        format!(
            "{:.3} / {:.3} / {:.3} units; > 0.1: {:.2} %, > 1: {:.2} % of {}",
            p.units.p50,
            p.units.p99,
            p.units.max,
            p.over_tenth_share * 100.0,
            p.over_one_share * 100.0,
            p.units.count
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
            let [late_p50, late_p99, late_max] = s.lateness_ms;
            row(
                "server tick lateness ms p50 / p99 / max",
                format!("{late_p50:.3} / {late_p99:.3} / {late_max:.3}"),
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
            let share =
                |n: f64| if s.input_active_ticks > 0.0 { n / s.input_active_ticks } else { 0.0 };
            let lead = s.input_lead_ms_mean.map(|ms| format!("; lead mean {ms:.1} ms"));
            row(
                "server input ticks empty / multiple",
                format!(
                    "{:.2} % / {:.2} % of {} active client ticks; depth mean {:.2}{}",
                    share(s.input_starved_ticks) * 100.0,
                    share(s.input_multi_ticks) * 100.0,
                    s.input_active_ticks,
                    s.input_depth_mean,
                    lead.unwrap_or_default()
                ),
            );
            row("server disconnects (whole run)", format!("{:?}", s.disconnects));
        }
        (None, error) => {
            row("server metrics", error.clone().unwrap_or_else(|| "not scraped".into()))
        }
    }
    t
}
