//! `--handshake-timeout` over TLS: a client that never finishes its TLS handshake, or
//! finishes it and then sends half a request, is dropped.

mod common;
#[path = "common/tls.rs"]
mod test_cert;

use common::{TestServer, arena_spec, small_arena, within};
use rustls::pki_types::ServerName;
use std::time::Duration;
use test_cert::TestCert;
use tickwire::config::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server ends the connection; what it sent (never a `101`).
async fn dropped(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return received,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_tls_and_stalled_requests_over_tls_are_dropped() {
    let cert = TestCert::new();
    let config = ServerConfig {
        tls: Some(cert.server_config()),
        handshake_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let server = TestServer::start_arena(config, small_arena()).await;

    // No ClientHello at all.
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    assert!(within(dropped(&mut silent)).await.is_empty());

    // A finished TLS handshake, then half a request.
    let connector = tokio_rustls::TlsConnector::from(cert.client_config());
    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = within(connector.connect(name, tcp)).await.expect("TLS handshake");
    tls.write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\n").await.expect("write");
    let received = within(dropped(&mut tls)).await;
    assert!(!received.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&received));

    // A client in time is served.
    let url = format!("wss://localhost:{}/ws?name=secure", server.addr.port());
    let mut bot = within(tickwire::bots::BotClient::connect_with(
        &url,
        &arena_spec(),
        Some(cert.client_config()),
    ))
    .await
    .expect("wss connects");
    within(bot.next_snapshot()).await.expect("snapshot over TLS");
    server.stop().await;
}
