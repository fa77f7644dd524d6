//! `--log-format json`: the real binary writes one JSON object per line on stderr, and the
//! lines about a client carry its room and client id as fields.

mod common;

use common::{arena_spec, within};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tickwire::bots::BotClient;

/// The binary, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every stderr line so far, parsed: a line that is not a JSON object fails the test.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: Vec<Value>,
}

impl Lines {
    /// Waits (at most 10 s) for a line whose message is `message`, checking each line read.
    fn wait_for(&mut self, message: &str) -> Value {
        self.wait_for_in(message, None)
    }

    /// [`Lines::wait_for`] a line about `room`, if given.
    fn wait_for_in(&mut self, message: &str, room: Option<&str>) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        let wanted = |v: &&Value| {
            v["fields"]["message"] == message && room.is_none_or(|r| v["fields"]["room"] == r)
        };
        loop {
            if let Some(found) = self.seen.iter().find(wanted) {
                return found.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no {message:?} line within 10 s; lines: {:#?}", self.seen)
            });
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("a stderr line is not JSON ({e}): {line}"));
            assert!(value.is_object(), "not an object: {line}");
            assert!(value["level"].is_string() && value["timestamp"].is_string(), "{line}");
            self.seen.push(value);
        }
    }
}

fn start() -> (Process, String, Lines) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args(["--bind", "127.0.0.1:0", "--log-format", "json", "--sim-threads", "1"])
        .args(["--orbs", "5", "--world-size", "60"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tickwire binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let process = Process(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("the serving line");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    (process, addr, Lines { rx, seen: Vec::new() })
}

#[tokio::test]
async fn json_lines_carry_the_room_and_client_of_a_join_and_a_leave() {
    let (_process, addr, mut lines) = start();
    let started = lines.wait_for("server started");
    assert_eq!(started["fields"]["tick_rate"], 30, "{started}");

    let url = format!("ws://{addr}/ws?name=ada&room=logs");
    let mut client = within(BotClient::connect(&url, &arena_spec())).await.expect("connects");
    within(client.next_snapshot()).await.expect("a snapshot");
    let joined = lines.wait_for("client joined");
    let fields = &joined["fields"];
    assert_eq!(fields["room"], "logs", "{joined}");
    let client_id = fields["client_id"].as_u64().expect("a numeric client_id field");
    assert_eq!(fields["resumed"], false, "{joined}");
    lines.wait_for_in("room opened", Some("logs"));

    drop(client);
    let closed = lines.wait_for("connection closed by the client");
    assert_eq!(closed["fields"]["client_id"].as_u64(), Some(client_id), "{closed}");
    assert_eq!(closed["fields"]["room"], "logs", "{closed}");
    let waiting = lines.wait_for("client dropped; its session waits to be resumed");
    assert_eq!(waiting["fields"]["client_id"].as_u64(), Some(client_id), "{waiting}");
}

#[tokio::test]
async fn a_close_by_the_server_logs_its_code_and_reason() {
    let (_process, addr, mut lines) = start();
    // A message the protocol refuses: the server closes with a code and a reason.
    let url = format!("ws://{addr}/ws?room=bad");
    let mut client = within(BotClient::connect(&url, &arena_spec())).await.expect("connects");
    within(client.send_bytes(vec![0xff; 8])).await.expect("sent");
    let closed = lines.wait_for("connection closed by the server");
    let fields = &closed["fields"];
    assert_eq!(fields["room"], "bad", "{closed}");
    assert!(fields["code"].as_u64().is_some_and(|c| c >= 1000), "{closed}");
    assert!(fields["reason"].as_str().is_some_and(|r| !r.is_empty()), "{closed}");
}
