//! The room directory over `rediss://` and with a password, against a real `redis-server`
//! started by the test: TLS with a CA and a server certificate the test makes with `rcgen`
//! (`--tls-port`), `--requirepass`. A process that reaches its directory matchmakes (its
//! heartbeat registered it); a wrong password, plain TCP to the TLS port or an untrusted
//! certificate leave it answering 503 with the reason.

mod common;

use common::{TestServer, small_arena, within};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tickwire::ServerConfig;
use tickwire::arena::Arena;
use tickwire::cluster::{ClusterConfig, RedisPassword};

const PASSWORD: &str = "correct horse battery";

/// A `redis-server` with a password and, if asked, TLS only; killed when dropped.
struct SecureRedis {
    port: u16,
    dir: std::path::PathBuf,
    child: Child,
}

impl SecureRedis {
    fn start(tls: bool) -> Option<SecureRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("tickwire-redis-auth-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut command = Command::new("redis-server");
        command.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        command.args(["--requirepass", PASSWORD]).arg("--dir").arg(&dir);
        if tls {
            write_certificates(&dir);
            command.args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-auth-clients",
                "no",
            ]);
            command.arg("--tls-cert-file").arg(dir.join("server.pem"));
            command.arg("--tls-key-file").arg(dir.join("server.key"));
            command.arg("--tls-ca-cert-file").arg(dir.join("ca.pem"));
        } else {
            command.args(["--port", &port.to_string()]);
        }
        let child = match command.stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
            Ok(child) => child,
            Err(error) if std::env::var("TICKWIRE_SKIP_REDIS").as_deref() == Ok("1") => {
                eprintln!("\n!!! SKIPPED: redis-server not runnable ({error})\n");
                return None;
            }
            Err(error) => panic!("redis-server not runnable ({error}): run scripts/test"),
        };
        let redis = SecureRedis { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen within 5 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }

    fn ca_file(&self) -> std::path::PathBuf {
        self.dir.join("ca.pem")
    }
}

impl Drop for SecureRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA, and a certificate for 127.0.0.1 it signed: `ca.pem`, `server.pem`, `server.key`.
fn write_certificates(dir: &std::path::Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server params");
    let server = params.signed_by(&server_key, &issuer).expect("server certificate");
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write CA");
    std::fs::write(dir.join("server.pem"), server.pem()).expect("write certificate");
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).expect("write key");
}

async fn process(cluster: ClusterConfig) -> TestServer {
    TestServer::start_with(Arena::new(small_arena()), move |addr: SocketAddr| {
        let cluster = ClusterConfig {
            public_url: format!("ws://{addr}"),
            heartbeat: Duration::from_millis(100),
            record_ttl: Duration::from_millis(500),
            ..cluster
        };
        ServerConfig { cluster: Some(cluster), ..ServerConfig::default() }
    })
    .await
}

/// The first successful matchmake within 5 s, or the last refusal.
async fn matchmake(server: &TestServer) -> Result<String, String> {
    let base = format!("http://{}", server.addr);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match tickwire::cluster::matchmake::request(&base, Some("vault")).await {
            Ok(placement) => return Ok(placement.url),
            Err(error) if Instant::now() > deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Refused for 1.5 s (every answer then is an error): the reason of the last one.
async fn refused(server: &TestServer) -> String {
    let base = format!("http://{}", server.addr);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let result = within(tickwire::cluster::matchmake::request(&base, Some("vault"))).await;
    result.expect_err("no directory, no placement")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_with_a_private_ca_and_a_password() {
    let Some(redis) = SecureRedis::start(true) else { return };
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    let good = ClusterConfig {
        redis_password: Some(RedisPassword(PASSWORD.into())),
        redis_ca_file: Some(redis.ca_file()),
        ..ClusterConfig::new(url.clone(), "")
    };
    let server = process(good.clone()).await;
    let placed = within(matchmake(&server)).await.expect("matchmakes over rediss://");
    assert!(placed.contains("room=vault"), "{placed}");
    server.stop().await;

    // The system's roots do not trust the test's CA.
    let untrusted = ClusterConfig { redis_ca_file: None, ..good.clone() };
    let server = process(untrusted).await;
    let error = refused(&server).await;
    assert!(error.contains("503"), "{error}");
    server.stop().await;

    // Plain TCP to the TLS port.
    let plain = ClusterConfig {
        redis_url: format!("redis://127.0.0.1:{}", redis.port),
        redis_ca_file: None,
        ..good
    };
    let server = process(plain).await;
    let error = refused(&server).await;
    assert!(error.contains("503"), "{error}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_the_url_or_given_apart_and_a_wrong_one_refused() {
    let Some(redis) = SecureRedis::start(false) else { return };
    let in_url = format!("redis://:{}@127.0.0.1:{}", PASSWORD.replace(' ', "%20"), redis.port);
    let server = process(ClusterConfig::new(in_url, "")).await;
    within(matchmake(&server)).await.expect("matchmakes with the password in the URL");
    server.stop().await;

    let bare = format!("redis://127.0.0.1:{}", redis.port);
    let apart = ClusterConfig {
        redis_password: Some(RedisPassword(PASSWORD.into())),
        ..ClusterConfig::new(bare.clone(), "")
    };
    let server = process(apart).await;
    within(matchmake(&server)).await.expect("matchmakes with the password given apart");
    server.stop().await;

    let wrong = ClusterConfig {
        redis_password: Some(RedisPassword("wrong".into())),
        ..ClusterConfig::new(bare.clone(), "")
    };
    let server = process(wrong).await;
    let error = refused(&server).await;
    assert!(error.contains("503"), "{error}");
    assert!(!error.contains("wrong"), "the password is never shown: {error}");
    server.stop().await;

    let none = process(ClusterConfig::new(bare, "")).await;
    let error = refused(&none).await;
    assert!(error.contains("503"), "{error}");
    none.stop().await;
}

/// The binary with `args`; its exit status and stderr once it exits (within 10 s).
fn run_binary(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("the tickwire binary runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reads_the_password_from_a_file_kept_out_of_ps() {
    let Some(redis) = SecureRedis::start(false) else { return };
    let file = redis.dir.join("password");
    std::fs::write(&file, format!("{PASSWORD}\n")).expect("write the password file");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    // Killed on drop, so a failing assertion leaves no process behind.
    struct Killed(Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--redis", &format!("redis://127.0.0.1:{}", redis.port)])
        .arg("--redis-password-file")
        .arg(&file)
        .args(["--public-url", &format!("ws://127.0.0.1:{port}"), "--heartbeat", "100ms"])
        .args(["--record-ttl", "500ms", "--sim-threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Killed)
        .expect("the tickwire binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let placed = within(async {
        loop {
            match tickwire::cluster::matchmake::request(&base, Some("vault")).await {
                Ok(placement) => break placement,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    })
    .await;
    drop(child);
    assert!(placed.url.starts_with(&format!("ws://127.0.0.1:{port}/ws?")), "{placed:?}");

    let missing = redis.dir.join("absent");
    let missing = missing.to_string_lossy();
    let (ok, stderr) = run_binary(&["--redis", "redis://h", "--redis-password-file", &missing]);
    assert!(
        !ok && stderr.contains("--redis-password-file") && stderr.contains("absent"),
        "{stderr}"
    );
    let empty = redis.dir.join("empty");
    std::fs::write(&empty, "\n").expect("write");
    let (ok, stderr) =
        run_binary(&["--redis", "redis://h", "--redis-password-file", &empty.to_string_lossy()]);
    assert!(!ok && stderr.contains("the file is empty"), "{stderr}");
    let (ok, stderr) = run_binary(&["--redis", "redis://h"]);
    assert!(!ok && stderr.contains("--public-url, or --agones"), "{stderr}");
}
