//! Strict RFC 6455 framing: every framing violation the RFC says fails the connection is
//! answered with a close frame carrying 1002 (1007 for invalid UTF-8) and a reason, never a
//! bare close frame or a silent drop. Each case is written byte for byte after a real
//! handshake.

mod common;
mod raw;

use common::{TestServer, small_arena, within};
use raw::{
    BINARY, CLOSE, CONTINUATION, PING, PONG, RawClient, TEXT, close_payload, frame, raw_frame,
};
use tickwire::config::ServerConfig;
use tickwire::protocol::{ClientMessage, Control, decode_control};

const MASK: Option<[u8; 4]> = Some([1, 2, 3, 4]);

/// One violation: what is sent, and the status the close frame must carry.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    code: u16,
}

fn case(name: &'static str, bytes: Vec<u8>, code: u16) -> Case {
    Case { name, bytes, code }
}

fn cases() -> Vec<Case> {
    let input = [0u8, 1, 0, 0, 0, 0]; // any binary payload; never reached the decoder
    vec![
        case("unmasked client frame", raw_frame(0x80 | BINARY, &input, None), 1002),
        case("RSV1 set", raw_frame(0x80 | 0x40 | BINARY, &input, MASK), 1002),
        case("RSV2 set", raw_frame(0x80 | 0x20 | BINARY, &input, MASK), 1002),
        case("RSV3 set on a ping", raw_frame(0x80 | 0x10 | PING, b"", MASK), 1002),
        case("reserved data opcode 0x3", frame(true, 0x3, &input), 1002),
        case("reserved data opcode 0x7", frame(true, 0x7, &input), 1002),
        case("reserved control opcode 0xB", frame(true, 0xB, b""), 1002),
        case("reserved control opcode 0xF", frame(true, 0xF, b""), 1002),
        case("fragmented ping", frame(false, PING, b"x"), 1002),
        case("fragmented pong", frame(false, PONG, b"x"), 1002),
        case("fragmented close", frame(false, CLOSE, &close_payload(1000, b"")), 1002),
        case("ping of 126 bytes", frame(true, PING, &[7; 126]), 1002),
        case("close of 126 bytes", frame(true, CLOSE, &close_payload(1000, &[b'a'; 124])), 1002),
        case("continuation without a start", frame(true, CONTINUATION, &input), 1002),
        case(
            "new data frame while a fragmented message is open",
            [frame(false, BINARY, &input[..3]), frame(true, BINARY, &input)].concat(),
            1002,
        ),
        case(
            "new text frame while a fragmented binary is open",
            [frame(false, BINARY, &input[..3]), frame(true, TEXT, b"hi")].concat(),
            1002,
        ),
        case("close with a 1-byte payload", frame(true, CLOSE, &[0x03]), 1002),
        case("close code 999", frame(true, CLOSE, &close_payload(999, b"")), 1002),
        case("close code 1004 (reserved)", frame(true, CLOSE, &close_payload(1004, b"")), 1002),
        case("close code 1005 (no status)", frame(true, CLOSE, &close_payload(1005, b"")), 1002),
        case("close code 1006 (abnormal)", frame(true, CLOSE, &close_payload(1006, b"")), 1002),
        case("close code 1015 (TLS)", frame(true, CLOSE, &close_payload(1015, b"")), 1002),
        case("close code 5000", frame(true, CLOSE, &close_payload(5000, b"")), 1002),
        case("text frame with invalid UTF-8", frame(true, TEXT, &[b'a', 0xff, 0xfe]), 1007),
        case(
            "fragmented text with invalid UTF-8",
            [frame(false, TEXT, b"ok"), frame(true, CONTINUATION, &[0xc3, 0x28])].concat(),
            1007,
        ),
        case(
            "close reason with invalid UTF-8",
            frame(true, CLOSE, &close_payload(1000, &[0xff])),
            1007,
        ),
    ]
}

/// Runs one case on a fresh connection: the close frame's status and reason, or why not.
async fn run(server: &TestServer, case: &Case) -> Result<(u16, String), String> {
    let mut client = RawClient::connect(server.addr, "").await;
    client.try_send(&case.bytes).await;
    let close = client.close_frame().await.ok_or("the connection ended without a close frame")?;
    let status = close.close_status().ok_or("a close frame without a status")?;
    // Complete the closing handshake, as a well-behaved client would.
    client.try_send(&frame(true, CLOSE, &close_payload(status.0, b""))).await;
    Ok(status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_framing_violation_gets_a_close_status_and_a_reason() {
    let server = TestServer::start_arena(ServerConfig::default(), small_arena()).await;
    let mut bystander = server.connect("bystander").await;
    let mut wrong = Vec::new();
    for case in cases() {
        match within(run(&server, &case)).await {
            Ok((code, reason)) if code == case.code && !reason.is_empty() => {}
            Ok((code, reason)) => {
                wrong.push(format!("{}: got {code} {reason:?}, want {}", case.name, case.code));
            }
            Err(why) => wrong.push(format!("{}: {why}", case.name)),
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    // None of it touched anyone else.
    let tick = bystander.replica.tick;
    within(bystander.next_snapshot()).await.expect("still served");
    assert!(bystander.replica.tick > tick);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn well_formed_control_frames_and_fragments_are_accepted() {
    let server = TestServer::start_arena(ServerConfig::default(), small_arena()).await;
    let mut client = RawClient::connect(server.addr, "").await;
    // A ping of the largest allowed size is answered with a pong carrying the same payload.
    client.send(&frame(true, PING, &[9; 125])).await;
    let pong = within(async {
        loop {
            let frame = client.next_frame().await.expect("connection open");
            if frame.opcode == PONG {
                return frame;
            }
        }
    })
    .await;
    assert_eq!(pong.payload, vec![9; 125]);
    // A ping between the fragments of a message is allowed; the message is a valid ping.
    let ping = ClientMessage::<(), ()>::Ping { id: 7 }.encode();
    let (head, tail) = ping.split_at(1);
    let bytes =
        [frame(false, BINARY, head), frame(true, PING, b""), frame(true, CONTINUATION, tail)]
            .concat();
    client.send(&bytes).await;
    within(async {
        while let Some(frame) = client.next_frame().await {
            assert_ne!(frame.opcode, CLOSE, "closed: {:?}", frame.close_status());
            if let Ok(Some(Control::Pong(pong))) = decode_control(&frame.payload) {
                assert_eq!(pong.id, 7);
                return;
            }
        }
        panic!("connection ended");
    })
    .await;
    // A normal close with a valid code and UTF-8 reason is answered with the same code.
    client.send(&frame(true, CLOSE, &close_payload(1000, "au revoir é".as_bytes()))).await;
    let close = within(client.close_frame()).await.expect("a close frame");
    assert_eq!(close.close_status().map(|(code, _)| code), Some(1000));
    server.stop().await;
}
