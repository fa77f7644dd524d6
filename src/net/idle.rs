//! Quiet connections: pinged so proxies keep them open, and closed with 4002 when the client
//! has sent nothing at all (no message, no ping, no pong) for the idle timeout.
//!
//! A live browser or library answers every WebSocket ping with a pong without the page's
//! help, so a client that only watches is never idle; one that stops answering is gone (its
//! machine slept, its network dropped without a FIN) or its link stalled, and its session
//! waits for the resume window as a dropped connection's does.
//! [`IdleTimer`] holds no socket: the connection loop tells it what it heard and asks it what
//! is due; [`act`] does the I/O.

use super::connection::{Io, Socket};
use super::outbox::{Ending, Outbox};
use crate::context::Shared;
use crate::protocol::CloseCode;
use axum::body::Bytes;
use futures_util::SinkExt;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::{Instant, Sleep, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tracing::debug;

/// Pings sent per idle timeout to a client that stays quiet: the first after a third of it,
/// so two pings go unanswered before the connection is closed.
const PINGS_PER_TIMEOUT: u32 = 3;

/// What a quiet connection needs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Send a WebSocket ping.
    Ping,
    /// Close with 4002: nothing heard for the whole timeout.
    Expired,
}

/// When the client was last heard from and last pinged.
pub struct IdleTimer {
    timeout: Duration,
    ping_after: Duration,
    last_heard: Instant,
    last_ping: Option<Instant>,
    sleep: Pin<Box<Sleep>>,
}

impl IdleTimer {
    /// A timer for a connection that was just heard from (its handshake).
    pub fn new(timeout: Duration, now: Instant) -> IdleTimer {
        IdleTimer {
            timeout,
            ping_after: timeout / PINGS_PER_TIMEOUT,
            last_heard: now,
            last_ping: None,
            sleep: Box::pin(sleep_until(now + timeout / PINGS_PER_TIMEOUT)),
        }
    }

    /// The client sent something (any frame).
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// What is due at `now`, if anything; a ping is counted as sent.
    pub fn poll_due(&mut self, now: Instant) -> Option<Due> {
        if now >= self.last_heard + self.timeout {
            return Some(Due::Expired);
        }
        if now >= self.next_ping() {
            self.last_ping = Some(now);
            return Some(Due::Ping);
        }
        None
    }

    /// The next instant something may be due.
    pub fn deadline(&self) -> Instant {
        self.next_ping().min(self.last_heard + self.timeout)
    }

    fn next_ping(&self) -> Instant {
        match self.last_ping {
            Some(ping) if ping > self.last_heard => ping + self.ping_after,
            _ => self.last_heard + self.ping_after,
        }
    }

    /// Waits until something is due.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the only await is the timer, and what is due is decided after it without
    /// another await. The timer is moved only when it would fire too late, so a client that
    /// sends every tick costs no timer update per message, only one early wake-up per ping
    /// interval.
    pub async fn next(&mut self) -> Due {
        let heard = self.last_heard;
        self.next_heard(|| heard).await
    }

    /// [`IdleTimer::next`] for a connection read elsewhere: `last_heard` says when the client
    /// was last heard from, and is asked again whenever something may be due.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`IdleTimer::next`].
    pub async fn next_heard(&mut self, last_heard: impl Fn() -> Instant) -> Due {
        loop {
            self.last_heard = self.last_heard.max(last_heard());
            if let Some(due) = self.poll_due(Instant::now()) {
                return due;
            }
            let deadline = self.deadline();
            if self.sleep.is_elapsed() || self.sleep.deadline() > deadline {
                self.sleep.as_mut().reset(deadline);
            }
            self.sleep.as_mut().await;
        }
    }
}

/// Does what is due: sends a ping, or ends the connection with 4002. `Err` holds the ending
/// when the connection loop must stop (`None`: the socket failed).
pub async fn act<S: Io>(
    due: Due,
    socket: &mut Socket<S>,
    shared: &Shared,
    outbox: &Outbox,
    client_id: u32,
) -> Result<(), Option<Ending>> {
    match due {
        Due::Ping => {
            // Like a snapshot write, only an ending cancels it.
            let sent = tokio::select! {
                result = socket.send(Message::Ping(Bytes::new())) => result.is_ok(),
                () = outbox.ended() => false,
            };
            if sent {
                Ok(())
            } else {
                Err(outbox.is_ending().then(|| outbox.take_ending()).flatten())
            }
        }
        Due::Expired => Err(Some(expired(shared, client_id))),
    }
}

/// The ending of a connection that stayed quiet for the idle timeout, counted and logged.
pub fn expired(shared: &Shared, client_id: u32) -> Ending {
    let seconds = shared.config.idle_timeout.as_secs_f64();
    let reason = format!("idle: nothing received for {seconds} s");
    debug!(client_id, %reason, "closing client");
    shared.metrics.disconnect(CloseCode::Idle.label());
    Ending::Close(CloseCode::Idle, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[tokio::test]
    async fn a_quiet_client_is_pinged_twice_then_expires() {
        let start = Instant::now();
        let mut timer = IdleTimer::new(secs(30.0), start);
        assert_eq!(timer.poll_due(start + secs(9.9)), None);
        assert_eq!(timer.deadline(), start + secs(10.0));
        assert_eq!(timer.poll_due(start + secs(10.0)), Some(Due::Ping));
        assert_eq!(timer.poll_due(start + secs(10.5)), None);
        assert_eq!(timer.deadline(), start + secs(20.0));
        assert_eq!(timer.poll_due(start + secs(20.0)), Some(Due::Ping));
        assert_eq!(timer.deadline(), start + secs(30.0));
        assert_eq!(timer.poll_due(start + secs(30.0)), Some(Due::Expired));
    }

    #[tokio::test]
    async fn anything_heard_starts_over() {
        let start = Instant::now();
        let mut timer = IdleTimer::new(secs(30.0), start);
        assert_eq!(timer.poll_due(start + secs(10.0)), Some(Due::Ping));
        timer.heard(start + secs(11.0));
        assert_eq!(timer.poll_due(start + secs(20.0)), None);
        assert_eq!(timer.poll_due(start + secs(21.0)), Some(Due::Ping));
        assert_eq!(timer.poll_due(start + secs(40.9)), Some(Due::Ping));
        assert_eq!(timer.poll_due(start + secs(41.0)), Some(Due::Expired));
    }

    #[tokio::test]
    async fn a_chatty_client_is_never_pinged() {
        let start = Instant::now();
        let mut timer = IdleTimer::new(secs(30.0), start);
        for n in 1..=100 {
            let now = start + secs(f64::from(n));
            assert_eq!(timer.poll_due(now), None);
            timer.heard(now);
        }
    }

    #[tokio::test]
    async fn next_pings_then_expires_never_early() {
        let start = Instant::now();
        let timeout = Duration::from_millis(90);
        let mut timer = IdleTimer::new(timeout, start);
        let mut pings = 0;
        while timer.next().await == Due::Ping {
            pings += 1;
        }
        assert!(Instant::now() >= start + timeout);
        assert!(pings <= 2, "{pings} pings");
    }
}
