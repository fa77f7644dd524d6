//! The HTTP side of the port: the RFC 6455 handshake and its refusals, the demo page,
//! health and metrics. Requests are written byte for byte over TCP, as curl would send them.

mod common;

use common::{TestServer, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends a raw request and returns the response head and body (until close or 64 KiB).
async fn raw(server: &TestServer, request: &str) -> String {
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0;
    // Until the server closes, or, after a 101 (the connection stays open and frames
    // follow), until the end of the response head.
    loop {
        let n = tcp.read(&mut buf[len..]).await.expect("read");
        len += n;
        if n == 0 || len == buf.len() || complete(&buf[..len]) {
            break;
        }
    }
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// Whether `bytes` hold a whole response: a 101 head, or a head and its content-length body.
fn complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    if head.starts_with("HTTP/1.1 101") {
        return true;
    }
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
    });
    length.is_some_and(|length| body.len() >= length)
}

fn upgrade_request(extra: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_upgrade_switches_protocols_with_the_subprotocol() {
    let server = TestServer::start_default().await;
    let request = upgrade_request(
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat, tickwire.v2\r\n",
    );
    let response = within(raw(&server, &request)).await;
    assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{response}");
    let lower = response.to_ascii_lowercase();
    assert!(lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), "{response}");
    assert!(lower.contains("sec-websocket-protocol: tickwire.v2"), "{response}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_get_is_a_clear_400() {
    let server = TestServer::start_default().await;
    let response =
        within(raw(&server, "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
            .await;
    assert!(response.starts_with("HTTP/1.1 400 Bad Request"), "{response}");
    assert!(response.contains("Connection header did not include 'upgrade'"), "{response}");
    assert!(response.contains("tickwire.v2"), "{response}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_without_a_key_is_a_clear_400() {
    let server = TestServer::start_default().await;
    let request = upgrade_request("Sec-WebSocket-Protocol: tickwire.v2\r\nConnection: close\r\n");
    let response = within(raw(&server, &request)).await;
    assert!(response.starts_with("HTTP/1.1 400 Bad Request"), "{response}");
    assert!(response.contains("Sec-WebSocket-Key"), "{response}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_wrong_subprotocol_is_a_clear_400() {
    let server = TestServer::start_default().await;
    for offered in ["", "Sec-WebSocket-Protocol: tickwire.v1\r\n"] {
        let request =
            upgrade_request(&format!("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{offered}"));
        let response = within(raw(&server, &request)).await;
        assert!(response.starts_with("HTTP/1.1 400 Bad Request"), "{response}");
        assert!(response.contains("this server speaks tickwire.v2"), "{response}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_health_and_metrics_are_served() {
    let server = TestServer::start_default().await;
    let page =
        within(raw(&server, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
            .await;
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(page.to_ascii_lowercase().contains("content-type: text/html"), "{page}");
    assert!(
        page.contains("<html") || page.contains("<!doctype") || page.contains("<!DOCTYPE"),
        "{page}"
    );
    let script = within(raw(
        &server,
        "GET /tickwire/protocol.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ))
    .await;
    assert!(script.to_ascii_lowercase().contains("content-type: text/javascript"), "{script}");
    let missing = within(raw(
        &server,
        "GET /nope.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ))
    .await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let health = within(raw(
        &server,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ))
    .await;
    assert!(health.starts_with("HTTP/1.1 200 OK"), "{health}");
    let metrics = within(raw(
        &server,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ))
    .await;
    for name in [
        "tickwire_ticks_total",
        "tickwire_tick_duration_seconds_bucket",
        "tickwire_process_cpu_seconds_total",
        "tickwire_clients",
    ] {
        assert!(metrics.contains(name), "{name} missing from\n{metrics}");
    }
    server.stop().await;
}
