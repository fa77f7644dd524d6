//! The Grafana dashboard and the Prometheus alert rules in `deploy/` name only metrics the
//! server exports: a real server is started, a client joins and leaves (so the labelled
//! families have a sample), and every `tickwire_*` name in the two files is looked up on
//! `/metrics`. The directory gauge behind the "directory unreachable" alert is driven by a
//! real `redis-server` going away and coming back.

mod common;
#[path = "common/redis.rs"]
#[allow(dead_code)]
mod redis_server;

use common::{TestServer, http_get, small_arena};
use redis_server::RedisServer;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};
use tickwire::ServerConfig;
use tickwire::arena::Arena;
use tickwire::cluster::ClusterConfig;
use tickwire::metrics::names::DIRECTORY_HEARTBEAT_FAILURES;
use tickwire::protocol::CloseCode;

/// Suffixes a sample adds to its family's name.
const SUFFIXES: &[&str] = &["_bucket", "_sum", "_count", "_total"];

fn deploy_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Every `tickwire_[a-z_]+` word in `text` (a loose reading of PromQL: names only).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("tickwire_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_lowercase() || c == '_')).unwrap_or(tail.len());
        names.insert(tail[..end].trim_end_matches('_').to_owned());
        rest = &tail[end..];
    }
    names
}

/// The sample names and `# TYPE` families on a scrape.
fn exported(page: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in page.lines() {
        if let Some(family) = line.strip_prefix("# TYPE ") {
            names.extend(family.split_whitespace().next().map(str::to_owned));
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            names.insert(name.to_owned());
        }
    }
    names
}

/// Whether `name` (a sample or family name) is on the page.
fn is_exported(name: &str, page: &BTreeSet<String>) -> bool {
    page.contains(name)
        || SUFFIXES.iter().any(|s| name.strip_suffix(s).is_some_and(|family| page.contains(family)))
}

#[tokio::test]
async fn every_metric_the_dashboard_and_the_alerts_name_is_exported() {
    let server = TestServer::start_small().await;
    // A client that joins and leaves puts a sample in the labelled families (disconnects);
    // one that stays keeps its room, and so its `room_clients` label, on the page.
    let _stays = server.connect("ops").await;
    let client = server.connect("ops").await;
    drop(client);
    let (status, page) = loop {
        let (status, page) = http_get(server.addr, "/metrics").await;
        if page.contains("tickwire_disconnects_total{") || status != 200 {
            break (status, page);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(status, 200);
    let page = exported(&page);

    let dashboard = deploy_file("grafana/tickwire.json");
    let json: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let panels = json["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10, "a panel per figure");
    let exprs: Vec<&str> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .map(|t| t["expr"].as_str().expect("every target has an expr"))
        .collect();
    let rules = deploy_file("prometheus/alerts.yml");

    for (file, text) in [("the dashboard", exprs.join("\n")), ("the alert rules", rules.clone())] {
        let names = metric_names(&text);
        assert!(names.len() >= 8, "{file} names {names:?}");
        let missing: Vec<_> = names.iter().filter(|n| !is_exported(n, &page)).collect();
        assert!(missing.is_empty(), "{file} names metrics the server does not export: {missing:?}");
    }
    // The 4001 panel and alert filter on the label the server gives that close code.
    let too_slow = format!("reason=\"{}\"", CloseCode::TooSlow.label());
    assert!(rules.contains(&too_slow) && dashboard.contains(&too_slow.replace('"', "\\\"")));
    server.stop().await;
}

/// The value of the unlabelled gauge `name` on a scrape of `server`.
async fn gauge(server: &TestServer, name: &str) -> f64 {
    let (_, page) = http_get(server.addr, "/metrics").await;
    let line = page.lines().find(|l| l.split(' ').next() == Some(name));
    let value = line.and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok());
    value.unwrap_or_else(|| panic!("no {name} on /metrics"))
}

/// Polls the gauge until `wanted` holds (at most 10 s).
async fn until(server: &TestServer, wanted: impl Fn(f64) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = gauge(server, DIRECTORY_HEARTBEAT_FAILURES).await;
        if wanted(value) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {value} after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_gauge_counts_unanswered_heartbeats_and_resets() {
    let Some(mut redis) = RedisServer::start() else { return };
    let url = redis.url();
    let server = TestServer::start_with(Arena::new(small_arena()), move |addr| {
        let cluster = ClusterConfig {
            heartbeat: Duration::from_millis(100),
            record_ttl: Duration::from_millis(500),
            ..ClusterConfig::new(url, format!("ws://{addr}"))
        };
        ServerConfig { cluster: Some(cluster), ..ServerConfig::default() }
    })
    .await;
    assert_eq!(gauge(&server, DIRECTORY_HEARTBEAT_FAILURES).await, 0.0);
    redis.kill();
    // The alert's threshold: three heartbeats in a row.
    until(&server, |v| v >= 3.0, "heartbeats unanswered with Redis gone").await;
    redis.spawn().expect("redis-server restarts");
    until(&server, |v| v == 0.0, "the count once Redis answers again").await;
    server.stop().await;
}

#[test]
fn the_loose_reading_finds_names_and_maps_suffixes() {
    let names =
        metric_names("histogram_quantile(0.99, rate(tickwire_tick_lateness_seconds_bucket[5m]))");
    assert_eq!(names, BTreeSet::from(["tickwire_tick_lateness_seconds_bucket".to_owned()]));
    let page = exported("# TYPE tickwire_x histogram\ntickwire_x_sum 1\n");
    assert!(is_exported("tickwire_x_bucket", &page));
    assert!(!is_exported("tickwire_y_bucket", &page));
}
