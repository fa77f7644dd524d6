//! The process's open-file limit: raised at start as far as the hard limit allows, and a
//! reserve of descriptors kept below it, so that `/healthz`, `/metrics` and close handshakes
//! always find one and a client the server cannot hold is refused at once (`503`) rather than
//! left to time out in the listen queue.
//!
//! The count costs nothing: the kernel gives a new descriptor the lowest number free, so an
//! accepted socket numbered `n` means descriptors `0..n` are all open. A WebSocket upgrade
//! whose socket is numbered at or above the limit minus the reserve is refused; the
//! connections that stay (WebSockets) therefore never hold a descriptor in the reserve, which
//! only short requests and handshakes in progress use.
//!
//! When the limit is reached all the same (a flood of half-open connections), `accept` fails
//! with `EMFILE`; [`Accepting`] then waits [`ACCEPT_BACKOFF`] and tries again, keeping the
//! listener, rather than spinning.

use axum::serve::Listener;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tracing::{info, warn};

/// How long the accept loop waits after `accept` failed for want of descriptors (or any
/// other reason but a connection's own), before it tries again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Descriptors the server needs besides its clients' sockets: the listener, the runtime's
/// and the read threads' epolls, their wakers, standard streams, a Redis connection.
pub const OWN_DESCRIPTORS: u64 = 32;

/// The open-file limit in force and where descriptors for new WebSockets stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The soft `RLIMIT_NOFILE` (`None`: unlimited).
    pub limit: Option<u64>,
    /// A WebSocket whose socket is numbered at or above this is refused.
    pub threshold: u64,
}

impl Budget {
    /// The budget under `limit`, keeping `reserve` descriptors free.
    pub fn new(limit: Option<u64>, reserve: usize) -> Budget {
        let threshold = limit.map_or(u64::MAX, |limit| limit.saturating_sub(reserve as u64));
        Budget { limit, threshold }
    }

    /// Whether a connection on `socket` may become a WebSocket.
    pub fn admits(&self, socket: &impl AsRawFd) -> bool {
        u64::try_from(socket.as_raw_fd()).is_ok_and(|fd| fd < self.threshold)
    }
}

/// What [`raise`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    /// The soft limit found at start (`None`: unlimited).
    pub before: Option<u64>,
    /// The soft limit now.
    pub now: Option<u64>,
    /// The hard limit (`None`: unlimited).
    pub hard: Option<u64>,
}

/// Raises the soft open-file limit to the hard limit (Unix), and returns both. A refusal
/// (a container that forbids it) leaves the soft limit as it was.
#[cfg(unix)]
pub fn raise() -> Raised {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let found = getrlimit(Resource::Nofile);
    let mut now = found.current;
    if found.current != found.maximum {
        let wanted = Rlimit { current: found.maximum, maximum: found.maximum };
        match setrlimit(Resource::Nofile, wanted) {
            Ok(()) => now = getrlimit(Resource::Nofile).current,
            Err(error) => warn!(%error, "the open-file limit could not be raised"),
        }
    }
    Raised { before: found.current, now, hard: found.maximum }
}

/// No limit to raise off Unix.
#[cfg(not(unix))]
pub fn raise() -> Raised {
    Raised { before: None, now: None, hard: None }
}

/// Raises the limit, logs it, warns when `max_clients` and the server's own needs do not fit
/// under it, and returns the budget that keeps `reserve` descriptors free.
pub fn budget(max_clients: usize, reserve: usize) -> Budget {
    let raised = raise();
    let show = |limit: Option<u64>| limit.map_or("unlimited".to_owned(), |n| n.to_string());
    let (now, before, hard) = (show(raised.now), show(raised.before), show(raised.hard));
    info!(limit = %now, was = %before, hard = %hard, reserve, "open-file limit");
    let needed = max_clients as u64 + reserve as u64 + OWN_DESCRIPTORS;
    if let Some(limit) = raised.now
        && needed > limit
    {
        let clients = limit.saturating_sub(reserve as u64 + OWN_DESCRIPTORS);
        warn!(
            "the open-file limit ({limit}) is below --max-clients {max_clients} plus the \
             {reserve} descriptors in reserve and about {OWN_DESCRIPTORS} of the server's own: \
             about {clients} clients can connect, later ones get 503; raise the hard limit \
             (ulimit -Hn, LimitNOFILE=) or lower --max-clients"
        );
    }
    Budget::new(raised.now, reserve)
}

/// Set on a request whose connection's socket lies in the reserve: `/ws` refuses it with 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InReserve {
    /// The open-file limit.
    pub limit: u64,
}

/// A TCP listener whose accept loop backs off when descriptors run out, and tunes every
/// accepted socket with `tune`.
pub struct Accepting<F> {
    listener: TcpListener,
    tune: F,
    /// The last accept failed: its error was logged already.
    failing: bool,
}

impl<F: Fn(&TcpStream) + Send + 'static> Accepting<F> {
    /// Accepts on `listener`.
    pub fn new(listener: TcpListener, tune: F) -> Accepting<F> {
        Accepting { listener, tune, failing: false }
    }
}

impl<F: Fn(&TcpStream) + Send + 'static> Listener for Accepting<F> {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    self.failing = false;
                    (self.tune)(&stream);
                    return (stream, peer);
                }
                Err(error) if is_connection_error(&error) => {}
                Err(error) => {
                    if !std::mem::replace(&mut self.failing, true) {
                        warn!(%error, "accept failed; retrying every {ACCEPT_BACKOFF:?}");
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// An error of one connection (it went away before it was accepted), not of the listener.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_keeps_the_reserve_free() {
        let budget = Budget::new(Some(256), 64);
        assert_eq!(budget.threshold, 192);
        assert_eq!(Budget::new(Some(10), 64).threshold, 0, "a tiny limit admits nothing");
        assert_eq!(Budget::new(None, 64).threshold, u64::MAX);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let raised = raise();
        assert_eq!(raised.now, raised.hard, "{raised:?}");
    }
}
