//! A throwaway `redis-server` for a test: a free port, a temp dir, no persistence; killed
//! when dropped. `scripts/test` installs Debian's `redis-server` when it is missing.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    dir: std::path::PathBuf,
}

impl RedisServer {
    /// Starts one on a free port; `None` (with a loud message) only when it is not installed
    /// and `TICKWIRE_SKIP_REDIS=1` is set. Otherwise a missing `redis-server` fails the test.
    pub fn start() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("tickwire-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut redis = RedisServer { port, child: None, dir };
        match redis.spawn() {
            Ok(()) => Some(redis),
            Err(error) if std::env::var("TICKWIRE_SKIP_REDIS").as_deref() == Ok("1") => {
                eprintln!(
                    "\n!!! SKIPPED: redis-server not runnable ({error}); TICKWIRE_SKIP_REDIS=1 is set\n"
                );
                None
            }
            Err(error) => panic!(
                "redis-server not runnable ({error}): run scripts/test, which installs it, or \
                 `apt-get install redis-server`; TICKWIRE_SKIP_REDIS=1 skips these tests"
            ),
        }
    }

    /// (Re)starts the server on its port.
    pub fn spawn(&mut self) -> std::io::Result<()> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(self.addr()).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::other("redis-server did not listen within 5 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Kills the server (SIGKILL: Redis going away, not shutting down).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `kill SIGNAL` to the server (`-STOP`: Redis hangs, as behind a partition).
    #[allow(dead_code)] // not every test file that includes this module uses it
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().map(Child::id).expect("redis-server runs");
        let status = Command::new("kill").args([signal, &pid.to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill {signal} redis-server");
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs `redis-cli -p PORT args...` and returns its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .arg("-p")
            .arg(self.port.to_string())
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
