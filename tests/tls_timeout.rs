//! `--handshake-timeout` over TLS: a client that never finishes its TLS handshake, or
//! finishes it and then sends half a request, is dropped.

mod common;

use common::{TestServer, arena_spec, small_arena, within};
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;
use tickwire::config::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A self-signed certificate for `localhost`, written as PEM files the server loads.
struct TestCert {
    dir: std::path::PathBuf,
    der: rustls::pki_types::CertificateDer<'static>,
}

impl TestCert {
    fn new() -> TestCert {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tickwire-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("cert.pem"), made.cert.pem()).expect("write cert");
        std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).expect("write key");
        TestCert { dir, der: made.cert.der().clone() }
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        tickwire::net::tls::load(&self.dir.join("cert.pem"), &self.dir.join("key.pem"))
            .expect("the test certificate loads")
    }

    fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.der.clone()).expect("root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }
}

impl Drop for TestCert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
