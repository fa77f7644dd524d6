//! `tickwire bots plot`: turns JSON reports into the results table (markdown) and a small
//! hand-written SVG (server CPU per client per tick and tick p99 against clients, one line
//! per scenario). No plotting dependency.

use super::report::Report;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Reads the reports.
pub fn read_reports(paths: &[impl AsRef<Path>]) -> Result<Vec<Report>, String> {
    paths
        .iter()
        .map(|p| {
            let p = p.as_ref();
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

/// The markdown results table, one row per report, by scenario then clients.
pub fn markdown_table(reports: &[Report]) -> String {
    let mut sorted: Vec<&Report> = reports.iter().collect();
    sorted.sort_by(|a, b| (&a.label, a.run.clients).cmp(&(&b.label, b.run.clients)));
    let mut t = String::new();
    t.push_str(
        "| scenario | clients | connected | snapshots/s per client min / mean | bytes per client \
         per tick (framed) | bytes per moving player per snapshot | latency p50 / p99 ms | tick \
         p99 ms | server CPU µs per client per tick | server memory per connection | \
         disconnects | replica errors | bots' own CPU, cores |\n",
    );
    t.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for r in sorted {
        let hz = f64::from(r.run.tick_rate_hz.max(1));
        let (tick_p99, cpu, memory) =
            r.server.as_ref().map_or(("n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned()), |s| {
                (
                    format!("{:.2}", s.tick_ms_p99),
                    format!("{:.1}", s.cpu_us_per_client_per_tick),
                    format!("{:.1} KiB", s.memory_per_connection / 1024.0),
                )
            });
        let _ = writeln!(
            t,
            "| {} | {} | {} | {:.1} / {:.1} | {:.0} ({:.0}) | {:.2} | {:.1} / {:.1} | {} | {} | {} | {} {} | {} | {:.2} |",
            r.label,
            r.run.clients,
            r.clients.connected,
            r.snapshot_rate.min,
            r.snapshot_rate.mean,
            r.bytes.per_client_per_s / hz,
            r.bytes.per_client_per_s_framed / hz,
            r.bytes.per_move_op,
            r.latency_ms.p50,
            r.latency_ms.p99,
            tick_p99,
            cpu,
            memory,
            r.clients.disconnected,
            codes(&r.clients.close_codes),
            r.replica.errors(),
            r.run.bot_cpu_cores,
        );
    }
    t
}

fn codes(codes: &BTreeMap<String, u64>) -> String {
    if codes.is_empty() {
        return String::new();
    }
    let list: Vec<String> = codes.iter().map(|(c, n)| format!("{c}×{n}")).collect();
    format!("({})", list.join(", "))
}

/// One run: clients, CPU µs per client per tick, tick p99 ms.
type Point = (f64, f64, f64);
/// Picks the plotted value of a point.
type Metric = fn(&Point) -> f64;

/// Plot size and margins, px.
const PANEL_W: f64 = 360.0;
const PANEL_H: f64 = 240.0;
const MARGIN: f64 = 50.0;
const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// Two panels side by side: CPU µs per client per tick, and tick p99 ms, against clients.
pub fn svg(reports: &[Report]) -> String {
    let mut series: BTreeMap<&str, Vec<Point>> = BTreeMap::new();
    for r in reports {
        if let Some(s) = &r.server {
            series.entry(&r.label).or_default().push((
                r.run.clients as f64,
                s.cpu_us_per_client_per_tick,
                s.tick_ms_p99,
            ));
        }
    }
    for points in series.values_mut() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let width = 2.0 * (PANEL_W + 2.0 * MARGIN);
    let height = PANEL_H + 2.0 * MARGIN + 20.0 * series.len() as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let panels: [(&str, Metric); 2] =
        [("server CPU µs per client per tick", |p| p.1), ("tick duration p99, ms", |p| p.2)];
    for (i, (title, value)) in panels.into_iter().enumerate() {
        let x0 = i as f64 * (PANEL_W + 2.0 * MARGIN) + MARGIN;
        panel(&mut out, x0, title, &series, value);
    }
    for (i, name) in series.keys().enumerate() {
        let y = PANEL_H + 2.0 * MARGIN + 20.0 * i as f64;
        let color = COLORS[i % COLORS.len()];
        let _ = writeln!(
            out,
            "<rect x=\"{MARGIN}\" y=\"{}\" width=\"14\" height=\"4\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"{y}\">{}</text>",
            y - 6.0,
            MARGIN + 20.0,
            escape(name)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn panel(
    out: &mut String,
    x0: f64,
    title: &str,
    series: &BTreeMap<&str, Vec<Point>>,
    value: Metric,
) {
    let all = series.values().flatten();
    let max_x = all.clone().map(|p| p.0).fold(1.0, f64::max) * 1.05;
    let max_y = nice(all.map(value).fold(0.0, f64::max) * 1.1);
    let y0 = MARGIN;
    let sx = |x: f64| x0 + x / max_x * PANEL_W;
    let sy = |y: f64| y0 + PANEL_H - y / max_y * PANEL_H;
    panel_frame(out, x0, title, "clients");
    for k in 0..=4 {
        let v = max_y * f64::from(k) / 4.0;
        let _ = writeln!(
            out,
            "<line x1=\"{x0}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#eee\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            x0 + PANEL_W,
            x0 - 4.0,
            sy(v) + 4.0,
            short_number(v),
            y = sy(v),
        );
    }
    let mut ticks: Vec<f64> = series.values().flatten().map(|p| p.0).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    for x in ticks {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{x}</text>",
            sx(x),
            y0 + PANEL_H + 16.0
        );
    }
    for (i, points) in series.values().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> =
            points.iter().map(|p| format!("{:.1},{:.1}", sx(p.0), sy(value(p)))).collect();
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
            path.join(" ")
        );
        for p in points {
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"><title>{} clients: {}</title></circle>",
                sx(p.0),
                sy(value(p)),
                p.0,
                short_number(value(p))
            );
        }
    }
}

/// Rounds an axis maximum up to 1, 2 or 5 times a power of ten.
pub(super) fn nice(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|&v| v >= max).unwrap_or(max)
}

pub(super) fn short_number(v: f64) -> String {
    let text = if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.2}") };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A panel's title, frame and x-axis label, at `x0` (the y-axis and the lines are the
/// caller's).
pub(crate) fn panel_frame(out: &mut String, x0: f64, title: &str, x_label: &str) {
    let y0 = MARGIN;
    let _ = writeln!(
        out,
        "<text x=\"{x0}\" y=\"{}\" font-weight=\"bold\">{}</text>\n\
         <rect x=\"{x0}\" y=\"{y0}\" width=\"{PANEL_W}\" height=\"{PANEL_H}\" fill=\"none\" stroke=\"#888\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        y0 - 12.0,
        escape(title),
        x0 + PANEL_W / 2.0,
        y0 + PANEL_H + 34.0,
        escape(x_label)
    );
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bots::report::ServerFigures;

    fn report(label: &str, clients: usize, cpu: f64) -> Report {
        let mut r = Report { label: label.into(), ..Report::default() };
        r.run.clients = clients;
        r.run.tick_rate_hz = 30;
        r.server = Some(ServerFigures {
            cpu_us_per_client_per_tick: cpu,
            tick_ms_p99: 1.0,
            ..ServerFigures::default()
        });
        r
    }

    #[test]
    fn table_rows_sorted_and_svg_has_a_line_per_scenario() {
        let reports = [report("b", 100, 20.0), report("a", 500, 18.0), report("a", 100, 21.0)];
        let table = markdown_table(&reports);
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert!(rows[0].starts_with("| a | 100 ") && rows[1].starts_with("| a | 500 "), "{table}");
        assert!(rows[2].starts_with("| b | 100 "));
        let svg = svg(&reports);
        assert_eq!(svg.matches("<polyline").count(), 4, "two scenarios in two panels");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(short_number(12.5), "12.5");
        assert_eq!(short_number(37.5), "37.5");
        assert_eq!(short_number(250.0), "250");
        assert_eq!(short_number(0.0), "0");
    }

    #[test]
    fn nice_axis_maxima() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(13.0), 20.0);
        assert_eq!(nice(0.31), 0.5);
    }
}
