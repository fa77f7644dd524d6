//! Bad input of every kind closes only the offending connection, with a code and a reason.

mod common;

use common::{TestServer, small_arena, within};
use futures_util::SinkExt;
use tickwire::ServerConfig;
use tickwire::arena::ArenaInput;
use tickwire::bots::client::{BotError, next_binary};
use tickwire::bots::{BotClient, client};
use tickwire::protocol::ClientMessage;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// Reads until the server closes; returns the close code and reason.
async fn closed(bot: &mut BotClient) -> (u16, String) {
    within(async {
        loop {
            match next_binary(bot.socket()).await {
                Ok(_) => continue,
                Err(BotError::Closed { code, reason }) => return (code, reason),
                Err(other) => panic!("expected a close frame, got {other}"),
            }
        }
    })
    .await
}

async fn send_raw(bot: &mut BotClient, message: Message) {
    bot.socket().send(message).await.expect("send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_gets_its_close_code_and_spares_the_others() {
    let server = TestServer::start_small().await;
    let mut bystander = server.connect("bystander").await;

    let mut text = server.connect("text").await;
    send_raw(&mut text, Message::Text("hello".into())).await;
    let (code, reason) = closed(&mut text).await;
    assert_eq!(code, 1003, "{reason}");

    let mut garbage = server.connect("garbage").await;
    send_raw(&mut garbage, Message::Binary(Bytes::from_static(&[7, 7, 7]))).await;
    let (code, reason) = closed(&mut garbage).await;
    assert_eq!(code, 1007);
    assert!(reason.contains("malformed"), "{reason}");

    let mut big = server.connect("big").await;
    send_raw(&mut big, Message::Binary(Bytes::from(vec![0u8; 100]))).await;
    let (code, reason) = closed(&mut big).await;
    assert_eq!(code, 1009);
    assert!(reason.contains("100 bytes"), "{reason}");

    let mut short = server.connect("short").await;
    // An input message whose game input is cut short: tag, seq, then one byte of three.
    send_raw(&mut short, Message::Binary(Bytes::from_static(&[0, 1, 5]))).await;
    let (code, reason) = closed(&mut short).await;
    assert_eq!(code, 1007);
    assert!(reason.contains("malformed"), "{reason}");

    let mut invalid = server.connect("invalid").await;
    invalid.send_input(ArenaInput { move_x: 0, move_y: 0, buttons: 0x80 }).await.expect("send");
    let (code, reason) = closed(&mut invalid).await;
    assert_eq!(code, 1008);
    assert!(reason.contains("invalid input: input buttons 0x80"), "{reason}");

    let mut backwards = server.connect("backwards").await;
    backwards.send_input(ArenaInput::default()).await.expect("send");
    let stale = ClientMessage::<_, ()>::Input { seq: 1, input: ArenaInput::default() };
    send_raw(&mut backwards, Message::Binary(Bytes::from(stale.encode()))).await;
    let (code, reason) = closed(&mut backwards).await;
    assert_eq!(code, 1008);
    assert!(reason.contains("does not increase"), "{reason}");

    let mut flood = server.connect("flood").await;
    let (code, reason) = within(async {
        for n in 1..=1000 {
            let input = ClientMessage::<_, ()>::Input { seq: n, input: ArenaInput::default() };
            if flood.socket().send(Message::Binary(Bytes::from(input.encode()))).await.is_err() {
                break;
            }
        }
        closed(&mut flood).await
    })
    .await;
    assert_eq!(code, 1008);
    assert!(reason.contains("messages per second"), "{reason}");

    // The bystander kept its stream throughout.
    let tick = bystander.replica.tick;
    within(bystander.next_snapshot()).await.expect("still served");
    assert!(bystander.replica.tick > tick);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_refuses_with_1013() {
    let config = ServerConfig { max_clients: 1, ..ServerConfig::default() };
    let server = TestServer::start_arena(config, small_arena()).await;
    let first = server.connect("first").await;
    let mut socket = within(client::open(&server.ws_url())).await.expect("handshake succeeds");
    match within(next_binary(&mut socket)).await {
        Err(BotError::Closed { code, reason }) => {
            assert_eq!(code, 1013);
            assert!(reason.contains("server full"), "{reason}");
        }
        other => panic!("expected 1013, got {other:?}"),
    }
    first.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_clients_with_1001() {
    let server = TestServer::start_small().await;
    let mut bot = server.connect("ada").await;
    within(bot.next_snapshot()).await.expect("snapshot");
    let stopping = tokio::spawn(server.stop());
    let (code, reason) = closed(&mut bot).await;
    assert_eq!(code, 1001);
    assert_eq!(reason, "server shutting down");
    within(stopping).await.expect("server stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_message_is_closed_with_a_sentence_that_names_what_was_wrong() {
    let server = TestServer::start_small().await;
    let cases: [(&[u8], &str); 9] = [
        (&[7, 7, 7], "malformed message: tag 7 names no message"),
        // An input whose game input is cut short: tag, seq, then one byte of three.
        (&[0, 1, 5], "malformed message: it ends before its last field"),
        (&[0, 1, 0, 0, 0, 7], "malformed message: 1 byte left over after a whole 5-byte message"),
        (&[1, 0xff], "malformed message at byte 2: a varint marker that is not valid (254 or 255)"),
        (
            &[1, 253, 5, 0, 0, 0, 0, 0, 0, 0],
            "malformed message at byte 2: a 64-bit varint (marker 253) in a 32-bit field",
        ),
        // A game message whose variant index is a varint with the reserved marker.
        (
            &[2, 0xff],
            "malformed message: an integer field starts with the reserved varint marker 255 \
             (expected a u32)",
        ),
        (
            &[2, 0xfe],
            "malformed message: an integer field is written wider than its type (a u128 where \
             a u32 belongs)",
        ),
        (
            &[2, 0, 2, 0xff, 0xfe],
            "malformed message: a string is not valid UTF-8 (invalid utf-8 sequence of 1 bytes \
             from index 0)",
        ),
        (
            &[2, 5],
            "malformed message: invalid value: integer `5`, expected variant index 0 <= i < 1",
        ),
    ];
    for (bytes, expected) in cases {
        let mut bot = server.connect("bad").await;
        send_raw(&mut bot, Message::Binary(Bytes::copy_from_slice(bytes))).await;
        let (code, reason) = closed(&mut bot).await;
        assert_eq!((code, reason.as_str()), (1007, expected), "{bytes:02x?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_count_toward_the_message_rate() {
    let server = TestServer::start_small().await;
    let mut flood = server.connect("pinger").await;
    let (code, reason) = within(async {
        for id in 1..=1000 {
            let ping = ClientMessage::<ArenaInput, ()>::Ping { id };
            if flood.socket().send(Message::Binary(Bytes::from(ping.encode()))).await.is_err() {
                break;
            }
        }
        closed(&mut flood).await
    })
    .await;
    let config = ServerConfig::default();
    let limit = u32::from(config.tick_rate_hz) * config.input_rate_factor;
    assert_eq!((code, reason), (1008, format!("more than {limit} messages per second")));
    server.stop().await;
}
