//! CORS on `GET /rooms` and `POST /matchmake`, over real HTTP requests: a page the `/ws`
//! origin policy allows (`--allowed-origin`, localhost, the server's own host) gets the
//! `Access-Control-Allow-*` headers, preflight included; any other page gets 403 with the
//! reason and no CORS header; a request without `Origin` is served as before.

mod common;
mod raw;

use common::{TestServer, small_arena, within};
use raw::{http, status};
use tickwire::config::ServerConfig;

const PAGE: &str = "https://play.example";

async fn start() -> TestServer {
    let config = ServerConfig { allowed_origins: vec![PAGE.into()], ..ServerConfig::default() };
    TestServer::start_arena(config, small_arena()).await
}

async fn send(server: &TestServer, head: &str) -> String {
    let request = format!("{head}\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr);
    within(http(server.addr, &request)).await
}

/// The value of header `name` (lower case) in `response`, if any.
fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_page_gets_the_preflight_and_the_headers() {
    let server = start().await;
    let preflight = send(
        &server,
        &format!(
            "OPTIONS /matchmake HTTP/1.1\r\nOrigin: {PAGE}\r\nAccess-Control-Request-Method: POST\r\n\
             Access-Control-Request-Headers: content-type"
        ),
    )
    .await;
    assert_eq!(status(&preflight), 204, "{preflight}");
    assert_eq!(header(&preflight, "access-control-allow-origin"), Some(PAGE), "{preflight}");
    let methods = header(&preflight, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST") && methods.contains("GET"), "{preflight}");
    let headers = header(&preflight, "access-control-allow-headers").unwrap_or_default();
    assert!(headers.contains("content-type"), "{preflight}");
    assert_eq!(header(&preflight, "access-control-max-age"), Some("600"), "{preflight}");

    let rooms = send(&server, &format!("GET /rooms HTTP/1.1\r\nOrigin: {PAGE}")).await;
    assert_eq!(status(&rooms), 200, "{rooms}");
    assert_eq!(header(&rooms, "access-control-allow-origin"), Some(PAGE), "{rooms}");
    assert_eq!(header(&rooms, "vary"), Some("Origin"), "{rooms}");
    assert!(rooms.contains("\"lobby\""), "{rooms}");

    // Not clustered: the page can read why.
    let request = format!(
        "POST /matchmake HTTP/1.1\r\nHost: {}\r\nOrigin: {PAGE}\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{{}}",
        server.addr
    );
    let matchmake = within(http(server.addr, &request)).await;
    assert_eq!(status(&matchmake), 404, "{matchmake}");
    assert_eq!(header(&matchmake, "access-control-allow-origin"), Some(PAGE), "{matchmake}");

    let local = send(&server, "GET /rooms HTTP/1.1\r\nOrigin: http://localhost:5173").await;
    assert_eq!(header(&local, "access-control-allow-origin"), Some("http://localhost:5173"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_page_gets_403_and_no_cors_header() {
    let server = start().await;
    for head in [
        "OPTIONS /matchmake HTTP/1.1\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST",
        "GET /rooms HTTP/1.1\r\nOrigin: https://evil.example",
        "POST /matchmake HTTP/1.1\r\nOrigin: https://evil.example\r\nContent-Length: 0",
        "GET /rooms HTTP/1.1\r\nOrigin: null",
    ] {
        let response = send(&server, head).await;
        assert_eq!(status(&response), 403, "{head}: {response}");
        assert!(response.contains("is not allowed"), "{response}");
        assert!(!response.to_ascii_lowercase().contains("access-control-"), "{response}");
    }
    // Without Origin (bots, curl): served as always, no CORS header needed.
    let plain = send(&server, "GET /rooms HTTP/1.1").await;
    assert_eq!(status(&plain), 200, "{plain}");
    assert_eq!(header(&plain, "access-control-allow-origin"), None, "{plain}");
    server.stop().await;
}
