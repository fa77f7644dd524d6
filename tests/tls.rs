//! `wss://`: the same server over TLS, with a certificate made for the test.

mod common;
#[path = "common/tls.rs"]
mod test_cert;

use common::{TestServer, arena_spec, run_bots, small_arena, within};
use std::time::Duration;
use test_cert::TestCert;
use tickwire::ServerConfig;
use tickwire::arena::{ArenaConfig, ArenaInput};
use tickwire::bots::client::{open_with, trusting};
use tickwire::bots::{BotClient, LoadOptions};

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

/// The load tester over `wss://`, trusting the server's self-signed certificate as
/// `tickwire bots --ca-cert` does; its `/metrics` scrapes go over `https://` the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_load_a_wss_server_they_trust_through_a_ca_file() {
    let cert = TestCert::new();
    let config = ServerConfig { tls: Some(cert.server_config()), ..ServerConfig::default() };
    let arena = ArenaConfig { view_radius: 100.0, ..small_arena() };
    let server = TestServer::start_arena(config, arena).await;
    let url = format!("wss://localhost:{}/ws", server.addr.port());
    let mut options = LoadOptions::new(url, 5);
    options.duration = Duration::from_millis(2_500);
    options.ramp_up = Duration::from_millis(500);
    options.tls = Some(trusting(&cert.dir.join("cert.pem")).expect("the certificate loads"));
    let report = run_bots(&arena_spec(), &options).await;
    eprintln!("{}", tickwire::bots::report::render_text(&report));
    let clients = &report.clients;
    assert_eq!((clients.connected, clients.failed, clients.disconnected), (5, 0, 0), "{clients:?}");
    assert!(report.snapshot_rate.min > 0.0, "every bot got snapshots");
    assert_eq!(report.replica.errors(), 0, "{:?}", report.replica);
    assert!(report.replica.compared > 0, "everyone sees everyone, so replicas were compared");
    assert_eq!(report.server_error, None, "/metrics is read over https://");
    assert!(report.server.expect("server figures").ticks > 0.0);
    server.stop().await;
}

#[test]
fn a_missing_or_unusable_ca_file_is_a_clear_error() {
    let missing = trusting("/nonexistent/ca.pem".as_ref()).expect_err("no such file");
    assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
    let cert = TestCert::new();
    // A key file holds no certificate.
    let keys = trusting(&cert.dir.join("key.pem")).expect_err("no certificate in a key file");
    assert!(keys.contains("no certificate"), "{keys}");
    let junk = cert.dir.join("junk.pem");
    let body = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
    std::fs::write(&junk, body).expect("write");
    let unusable = trusting(&junk).expect_err("not a certificate");
    assert!(unusable.contains("junk.pem"), "{unusable}");
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
