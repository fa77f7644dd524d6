//! `wss://`: the same server over TLS, with a certificate made for the test.

mod common;
#[path = "common/tls.rs"]
mod test_cert;

use common::{TestServer, arena_spec, small_arena, within};
use test_cert::TestCert;
use tickwire::ServerConfig;
use tickwire::arena::ArenaInput;
use tickwire::bots::BotClient;
use tickwire::bots::client::open_with;

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
