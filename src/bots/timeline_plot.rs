//! `tickwire bots timeline`: one report's [`Timeline`] as a hand-written SVG (server resident
//! memory, and clients, against time) and a markdown summary of a soak: memory at the start,
//! after the ramp-up, at the end and at its peak, churn, replica errors, disconnects.

use super::plot::{escape, nice, short_number};
use super::report::Report;
use super::timeline::{Timeline, TimelinePoint};
use std::fmt::Write as _;

const PANEL_W: f64 = 420.0;
const PANEL_H: f64 = 240.0;
const MARGIN: f64 = 56.0;
const MIB: f64 = 1024.0 * 1024.0;
/// The share of the run after the ramp-up averaged for "early" and "late" memory.
const STEADY_SHARE: f64 = 0.2;

/// One plotted line: its name, colour and value of a point.
type Line = (&'static str, &'static str, fn(&TimelinePoint) -> f64);

/// Two panels side by side against minutes: resident memory (MiB), and clients (the
/// server's gauge and the bots' own count).
pub fn svg(report: &Report) -> String {
    let width = 2.0 * (PANEL_W + 2.0 * MARGIN);
    let height = PANEL_H + 2.0 * MARGIN + 20.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let memory: [Line; 1] = [("resident", "#1f77b4", |p| p.resident_bytes / MIB)];
    let clients: [Line; 2] = [
        ("server clients gauge", "#d62728", |p| p.clients),
        ("bots connected", "#2ca02c", |p| p.bots_connected as f64),
    ];
    let timeline = &report.timeline;
    panel(&mut out, MARGIN, "server resident memory, MiB", timeline, &memory);
    panel(&mut out, PANEL_W + 3.0 * MARGIN, "clients", timeline, &clients);
    out.push_str("</svg>\n");
    out
}

fn panel(out: &mut String, x0: f64, title: &str, timeline: &Timeline, lines: &[Line]) {
    let points = &timeline.points;
    // The last sample comes a moment after the run's end: 10.01 minutes is drawn on a 10
    // minute axis (a hair past its edge), not a 20 minute one.
    let minutes = points.iter().map(|p| p.t_s / 60.0).fold(0.0, f64::max);
    let max_x = nice(minutes / 1.02);
    let max_y = nice(lines.iter().flat_map(|l| points.iter().map(l.2)).fold(0.0, f64::max) * 1.1);
    let y0 = MARGIN;
    let sx = |x: f64| x0 + x / max_x * PANEL_W;
    let sy = |y: f64| y0 + PANEL_H - y / max_y * PANEL_H;
    let _ = writeln!(
        out,
        "<text x=\"{x0}\" y=\"{}\" font-weight=\"bold\">{}</text>\n\
         <rect x=\"{x0}\" y=\"{y0}\" width=\"{PANEL_W}\" height=\"{PANEL_H}\" fill=\"none\" stroke=\"#888\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">minutes</text>",
        y0 - 12.0,
        escape(title),
        x0 + PANEL_W / 2.0,
        y0 + PANEL_H + 34.0
    );
    for k in 0..=4 {
        let (v, t) = (max_y * f64::from(k) / 4.0, max_x * f64::from(k) / 4.0);
        let _ = writeln!(
            out,
            "<line x1=\"{x0}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#eee\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            x0 + PANEL_W,
            x0 - 4.0,
            sy(v) + 4.0,
            short_number(v),
            sx(t),
            y0 + PANEL_H + 16.0,
            short_number(t),
            y = sy(v),
        );
    }
    for (i, (name, color, value)) in lines.iter().enumerate() {
        let path: Vec<String> =
            points.iter().map(|p| format!("{:.1},{:.1}", sx(p.t_s / 60.0), sy(value(p)))).collect();
        let legend_y = y0 + PANEL_H + 56.0;
        let legend_x = x0 + 170.0 * i as f64;
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>\n\
             <rect x=\"{legend_x}\" y=\"{}\" width=\"14\" height=\"4\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"{legend_y}\">{}</text>",
            path.join(" "),
            legend_y - 6.0,
            legend_x + 20.0,
            escape(name)
        );
    }
}

/// The soak's figures as markdown: a table of memory, churn, correctness and disconnects.
pub fn summary(r: &Report) -> String {
    let mut t = String::from("| figure | value |\n| --- | --- |\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(t, "| {k} | {v} |");
    };
    let run = &r.run;
    row("bots", format!("{} ({}), {} Hz", run.clients, run.pattern, run.tick_rate_hz));
    row("run", format!("{:.0} s, ramp-up {:.0} s", run.duration_s, run.ramp_up_s));
    let churn = &r.churn;
    let lifetime = churn.mean_lifetime_s.map_or("no churn".into(), |s| format!("{s} s"));
    row("mean connection lifetime", lifetime);
    row(
        "connections opened / closed by churn / reopened",
        format!("{} / {} / {}", churn.opened, churn.closed, churn.reopened),
    );
    memory_rows(&mut row, r);
    let re = &r.replica;
    row(
        "replica errors (apply / own missing / mismatch)",
        format!(
            "**{}** ({} / {} / {}; {} entities compared)",
            re.errors(),
            re.apply_errors,
            re.own_missing,
            re.mismatches,
            re.compared
        ),
    );
    let c = &r.clients;
    row("connect failures", format!("{} {}", c.failed, map(&c.failures)));
    row(
        "disconnects seen by the bots, by close code",
        format!("{} {}", c.disconnected, map(&c.close_codes)),
    );
    if let Some(s) = &r.server {
        row("server disconnects by reason (whole run, churn included)", map(&s.disconnects));
        row("server tick p99 / max, ms", format!("{:.2} / {:.2}", s.tick_ms_p99, s.tick_ms_max));
        row("snapshots skipped (slow clients)", format!("{}", s.snapshots_skipped));
    }
    row(
        "snapshots/s per bot, mean / min",
        format!("{:.2} / {:.2}", r.snapshot_rate.mean, r.snapshot_rate.min),
    );
    row("memory samples (missed)", format!("{} ({})", r.timeline.points.len(), r.timeline.missed));
    t
}

fn memory_rows(row: &mut impl FnMut(&str, String), r: &Report) {
    let timeline = &r.timeline;
    let mib = |b: f64| format!("{:.1} MiB", b / MIB);
    let at = |p: &TimelinePoint| format!("{} at {:.0} s", mib(p.resident_bytes), p.t_s);
    if let Some(first) = timeline.first() {
        row("resident memory before the bots", at(first));
    }
    let (start, end) = (r.run.ramp_up_s, r.run.duration_s);
    let share = (end - start) * STEADY_SHARE;
    let early = timeline.mean_resident(start, start + share);
    let late = timeline.mean_resident(end - share, end);
    if let (Some(early), Some(late)) = (early, late) {
        row(
            &format!("mean resident memory, {start:.0}–{:.0} s (after the ramp-up)", start + share),
            mib(early),
        );
        row(&format!("mean resident memory, {:.0}–{end:.0} s (the end)", end - share), mib(late));
        row("growth from the one to the other", format!("{:+.1} MiB", (late - early) / MIB));
    }
    if let Some(peak) = timeline.peak() {
        row("peak resident memory", at(peak));
    }
    if let Some(last) = timeline.last() {
        row(
            "resident memory after the bots left",
            format!("{} ({} clients)", at(last), last.clients),
        );
    }
}

fn map<V: std::fmt::Display>(map: &std::collections::BTreeMap<String, V>) -> String {
    let items: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bots::report::Churn;

    fn soak() -> Report {
        let mut r = Report::default();
        r.run.clients = 3;
        r.run.ramp_up_s = 10.0;
        r.run.duration_s = 60.0;
        r.churn = Churn {
            mean_lifetime_s: Some(5.0),
            opened: 20,
            closed: 17,
            reopened: 17,
            ..Churn::default()
        };
        let point = |t_s: f64, mib: f64, clients: f64| TimelinePoint {
            t_s,
            resident_bytes: mib * MIB,
            clients,
            bots_connected: clients as u64,
        };
        let points = vec![
            point(0.0, 10.0, 0.0),
            point(12.0, 20.0, 3.0),
            point(55.0, 21.0, 3.0),
            point(62.0, 15.0, 0.0),
        ];
        r.timeline = Timeline { period_s: 1.0, points, missed: 0 };
        r
    }

    #[test]
    fn summary_names_memory_at_each_stage_and_churn() {
        let text = summary(&soak());
        for expected in [
            "| resident memory before the bots | 10.0 MiB at 0 s |",
            "| mean resident memory, 10–20 s (after the ramp-up) | 20.0 MiB |",
            "| mean resident memory, 50–60 s (the end) | 21.0 MiB |",
            "| growth from the one to the other | +1.0 MiB |",
            "| peak resident memory | 21.0 MiB at 55 s |",
            "| resident memory after the bots left | 15.0 MiB at 62 s (0 clients) |",
            "| connections opened / closed by churn / reopened | 20 / 17 / 17 |",
            "| disconnects seen by the bots, by close code | 0 none |",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
    }

    #[test]
    fn svg_has_a_line_per_series() {
        let svg = svg(&soak());
        assert_eq!(svg.matches("<polyline").count(), 3, "memory; server and bots' clients");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}
