//! The server lives within the operating system's open-file limit: started under a lowered
//! limit with more clients than it can hold, it serves what fits, refuses the rest at once
//! with `503` (not a connect that times out), and `/healthz` and `/metrics` answer throughout.

mod common;

use common::http_get;
use futures_util::StreamExt;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error, Message};

/// The open-file limit the server runs under (soft and hard).
const LIMIT: u32 = 256;
/// Clients that try to connect: well past what the limit holds.
const CLIENTS: usize = 240;

/// The server binary under `ulimit -n LIMIT`, killed when dropped.
struct Limited {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Limited {
    fn start() -> Limited {
        let script = format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\"");
        let mut child = Command::new("sh")
            .args(["-c", &script, env!("CARGO_BIN_EXE_tickwire")])
            .args(["--bind", "127.0.0.1:0", "--max-clients", "1000"])
            .args(["--max-connections-per-ip", "1000", "--world-size", "40", "--orbs", "0"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn({
            let log = log.clone();
            move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    log.lock().expect("log").push_str(&(line + "\n"));
                }
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the serving line");
        let addr = line
            .split("ws://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Limited { child, addr, log }
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Connects one client: the socket, or the refusal's status and body.
async fn connect(addr: SocketAddr) -> Result<Socket, (u16, String)> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!("ws://{addr}/ws").into_client_request().expect("request");
    let protocol = HeaderValue::from_static(tickwire::protocol::SUBPROTOCOL);
    request.headers_mut().insert("Sec-WebSocket-Protocol", protocol);
    match tokio_tungstenite::client_async(request, tcp).await {
        Ok((socket, _)) => Ok(socket),
        Err(Error::Http(response)) => {
            let body = response.body().as_deref().map(String::from_utf8_lossy);
            Err((response.status().as_u16(), body.unwrap_or_default().into_owned()))
        }
        Err(error) => Err((0, error.to_string())),
    }
}

/// `/healthz` and `/metrics` both answer 200, within 2 s each.
async fn routes_answer(addr: SocketAddr) {
    for path in ["/healthz", "/metrics"] {
        let answered = tokio::time::timeout(Duration::from_secs(2), http_get(addr, path)).await;
        let (status, _) = answered.unwrap_or_else(|_| panic!("{path} did not answer within 2 s"));
        assert_eq!(status, 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_lowered_open_file_limit_the_excess_is_refused_quickly() {
    let server = Limited::start();
    let addr = server.addr;
    routes_answer(addr).await;

    let mut served = Vec::new();
    let mut refused = 0;
    let mut slowest_refusal = Duration::ZERO;
    for n in 0..CLIENTS {
        let started = Instant::now();
        let attempt = tokio::time::timeout(Duration::from_secs(5), connect(addr)).await;
        match attempt.unwrap_or_else(|_| panic!("client {n} neither served nor refused in 5 s")) {
            Ok(socket) => served.push(socket),
            Err((status, body)) => {
                assert_eq!(status, 503, "client {n}: {body}");
                assert!(body.contains("open-file limit"), "client {n}: {body}");
                refused += 1;
                slowest_refusal = slowest_refusal.max(started.elapsed());
            }
        }
        if n % 40 == 0 {
            routes_answer(addr).await;
        }
    }
    println!(
        "under ulimit -n {LIMIT}: {} of {CLIENTS} clients served, {refused} refused with 503 \
         (slowest refusal {slowest_refusal:?})",
        served.len()
    );
    assert!(served.len() >= 100, "only {} clients served", served.len());
    assert!(refused > 0, "all {CLIENTS} served under a limit of {LIMIT}");
    assert!(slowest_refusal < Duration::from_secs(2), "a refusal took {slowest_refusal:?}");
    routes_answer(addr).await;

    // Every client served keeps receiving snapshots.
    let readers: Vec<_> = served
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                let mut snapshots = 0u32;
                let until = tokio::time::Instant::now() + Duration::from_secs(2);
                while let Ok(Some(Ok(message))) =
                    tokio::time::timeout_at(until, socket.next()).await
                {
                    snapshots += u32::from(matches!(message, Message::Binary(_)));
                }
                snapshots
            })
        })
        .collect();
    routes_answer(addr).await;
    for reader in readers {
        let snapshots = reader.await.expect("reader");
        assert!(snapshots >= 20, "a served client received {snapshots} messages in 2 s");
    }
    let (_, metrics) = http_get(addr, "/metrics").await;
    let counted = format!("tickwire_upgrades_refused_descriptors_total {refused}");
    assert!(metrics.contains(&counted), "{counted} missing");
    let log = server.log.lock().expect("log").clone();
    assert!(log.contains("open-file limit"), "the limit is logged: {log}");
}
