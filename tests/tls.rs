//! `wss://`: the same server over TLS, with a certificate made for the test.

mod common;

use common::{TestServer, arena_spec, small_arena, within};
use std::sync::Arc;
use tickwire::ServerConfig;
use tickwire::arena::ArenaInput;
use tickwire::bots::BotClient;
use tickwire::bots::client::open_with;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_serves_the_same_protocol() {
    let cert = TestCert::new();
    let config = ServerConfig { tls: Some(cert.server_config()), ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;
    let url = format!("wss://localhost:{}/ws?name=secure", server.addr.port());
    let mut bot = within(BotClient::connect_with(&url, &arena_spec(), Some(cert.client_config())))
        .await
        .expect("wss connects");
    within(bot.next_snapshot()).await.expect("snapshot over TLS");
    assert_eq!(bot.own::<tickwire::arena::Name>().expect("own player").0, "secure");
    let seq = bot
        .send_input(ArenaInput { move_x: 0, move_y: 127, buttons: 0 })
        .await
        .expect("input over TLS");
    within(async {
        while bot.replica.last_input_seq < seq {
            bot.next_snapshot().await.expect("snapshot");
        }
    })
    .await;
    bot.close().await;

    // A client that does not trust the certificate is refused during the handshake.
    let untrusted = within(open_with(&url, None)).await;
    assert!(untrusted.is_err(), "an unknown issuer must not verify");
    // And plain ws:// to a TLS port does not get a WebSocket.
    let plain = format!("ws://127.0.0.1:{}/ws", server.addr.port());
    assert!(within(open_with(&plain, None)).await.is_err());
    server.stop().await;
}

#[test]
fn a_missing_or_bad_certificate_is_a_clear_error() {
    let missing =
        tickwire::net::tls::load("/nonexistent/cert.pem".as_ref(), "/nonexistent/key.pem".as_ref());
    let message = missing.expect_err("no such file");
    assert!(message.contains("/nonexistent/cert.pem"), "{message}");
    let cert = TestCert::new();
    let swapped = tickwire::net::tls::load(&cert.dir.join("key.pem"), &cert.dir.join("cert.pem"));
    assert!(swapped.is_err());
}
