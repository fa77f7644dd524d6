//! The accept loop: one task per connection serving HTTP/1 (and the WebSocket upgrade) with
//! hyper, every request head bounded by the handshake timeout.
//!
//! It replaces `axum::serve`, which sets no timer on hyper and so lets a client that sends
//! half a request (or nothing) hold its connection for as long as it likes. Here hyper's
//! header read timeout runs from the moment the connection is accepted (and again while a
//! keep-alive connection waits for its next request): a head not complete within
//! `handshake_timeout` drops the connection. Each connection waits in its own task, on a
//! timer, so hundreds of stalled ones cost a socket and a few hundred bytes each and take
//! no time from anyone else. An upgraded WebSocket leaves hyper and is bounded by the idle
//! timeout instead.

use super::descriptors::{Budget, InReserve};
use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::pin;
use std::time::Duration;
use tokio::sync::watch;
use tower_service::Service;
use tracing::debug;

/// Serves `router` on every connection `listener` yields until `stop` completes, then gives
/// the requests in flight `grace` to finish and drops the rest, a half-sent request among
/// them (upgraded WebSockets are not waited for: their tasks end with the tick loop's 1001).
///
/// Handlers see the peer's address as [`ConnectInfo<SocketAddr>`], and a connection whose
/// socket lies in `budget`'s reserve as an [`InReserve`] extension.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    budget: Budget,
    handshake_timeout: Duration,
    grace: Duration,
    stop: impl Future<Output = ()>,
) where
    L: Listener<Addr = SocketAddr>,
    L::Io: AsRawFd,
{
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(handshake_timeout);
    // Every connection task holds a receiver: `closed()` completes when all have ended.
    let (stopping, stop_seen) = watch::channel(false);
    let mut stop = pin!(stop);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let reserve = budget.limit.filter(|_| !budget.admits(&io)).map(|limit| InReserve { limit });
        let service = hyper::service::service_fn({
            let router = router.clone();
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                if let Some(reserve) = reserve {
                    request.extensions_mut().insert(reserve);
                }
                router.clone().call(request)
            }
        });
        let connection = builder.serve_connection(TokioIo::new(io), service).with_upgrades();
        let mut stop_seen = stop_seen.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => Some(result),
                // Cancel safe: `changed` only reads the watch.
                _ = stop_seen.changed() => {
                    // Keep-alive connections close now; a request in flight gets `grace`.
                    connection.as_mut().graceful_shutdown();
                    tokio::time::timeout(grace, connection).await.ok()
                }
            };
            if let Some(Err(error)) = result {
                debug!(%peer, %error, "HTTP connection ended");
            }
            drop(stop_seen);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    drop(stop_seen);
    stopping.closed().await;
}
