//! Limits that make a run fail, checked against a finished report.

use super::Report;

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
