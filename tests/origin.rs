//! The origin policy on real handshakes: pages from the server's own host, localhost and
//! `--allowed-origin` may open a socket; any other page gets 403 with the reason; clients
//! without an `Origin` (not browsers) are served.

mod common;
mod raw;

use common::{TestServer, small_arena, within};
use raw::{http, status, upgrade_request};
use tickwire::config::ServerConfig;

async fn handshake(server: &TestServer, host: &str, origin: Option<&str>) -> String {
    let extra = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
    within(http(server.addr, &upgrade_request(host, &extra))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_page_gets_403_with_the_reason() {
    let server = TestServer::start_arena(ServerConfig::default(), small_arena()).await;
    let host = server.addr.to_string();
    let response = handshake(&server, &host, Some("https://evil.example")).await;
    assert_eq!(status(&response), 403, "{response}");
    assert!(response.contains("origin https://evil.example is not allowed"), "{response}");
    assert!(response.contains("--allowed-origin https://evil.example"), "{response}");

    let response = handshake(&server, &host, Some("null")).await;
    assert_eq!(status(&response), 403, "{response}");
    assert!(response.contains("opaque origin null"), "{response}");

    // Same host name, another port: another origin.
    let response = handshake(&server, "game.example:8080", Some("http://game.example:9999")).await;
    assert_eq!(status(&response), 403, "{response}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_host_localhost_and_no_origin_are_served() {
    let server = TestServer::start_arena(ServerConfig::default(), small_arena()).await;
    let host = server.addr.to_string();
    let own = format!("http://{host}");
    for (host, origin) in [
        (host.as_str(), Some(own.as_str())),
        ("game.example:8080", Some("http://game.example:8080")),
        ("game.example", Some("https://game.example")),
        ("game.example", Some("http://localhost:5173")),
        ("game.example", Some("http://[::1]:3000")),
        ("game.example", None),
    ] {
        let response = handshake(&server, host, origin).await;
        assert_eq!(status(&response), 101, "{origin:?} on {host}: {response}");
    }
    // A bot (no Origin) plays normally.
    let mut bot = server.connect("bot").await;
    within(bot.next_snapshot()).await.expect("snapshot");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_origins_are_served_and_only_those() {
    let config = ServerConfig {
        allowed_origins: vec!["https://play.example".into(), "http://cdn.example:8000".into()],
        ..ServerConfig::default()
    };
    let server = TestServer::start_arena(config, small_arena()).await;
    for origin in ["https://play.example", "http://cdn.example:8000"] {
        let response = handshake(&server, "game.example", Some(origin)).await;
        assert_eq!(status(&response), 101, "{origin}: {response}");
    }
    for origin in ["http://play.example", "https://other.example"] {
        let response = handshake(&server, "game.example", Some(origin)).await;
        assert_eq!(status(&response), 403, "{origin}: {response}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_allowed_origin_is_refused_at_startup() {
    let config =
        ServerConfig { allowed_origins: vec!["play.example".into()], ..ServerConfig::default() };
    let error = config.validate().expect_err("refused");
    assert!(error.contains("--allowed-origin \"play.example\""), "{error}");
}
