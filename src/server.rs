//! The composition root: `run(listener, config, shutdown)` wires the tick thread, the HTTP
//! routes and the connections together, and takes them down in order.

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::net::http;
use crate::net::tls::TlsListener;
use crate::tick_loop::{Event, TickLoop};
use axum::serve::ListenerExt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// State shared by the tick thread and the connection tasks.
pub struct Shared {
    /// The configuration in force.
    pub config: ServerConfig,
    /// Exported metrics.
    pub metrics: Metrics,
    /// Connections → tick. Bounded: inputs that find it full are dropped and counted; joins
    /// and leaves wait for room.
    pub events: mpsc::Sender<Event>,
    /// The latest tick run.
    pub tick: AtomicU32,
    /// Players in the world at the latest tick.
    pub players: AtomicU32,
    /// Open connections (including one being refused for capacity).
    pub connections: AtomicUsize,
    /// Next connection id.
    pub next_client_id: AtomicU32,
    /// Set once shutdown starts.
    pub shutting_down: AtomicBool,
    epoch: Instant,
    last_tick_micros: AtomicU64,
}

impl Shared {
    /// Notes that a tick just finished (for `/healthz`).
    pub fn mark_tick(&self) {
        self.last_tick_micros.store(self.epoch.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Time since the last tick finished.
    pub fn since_last_tick(&self) -> Duration {
        let last = Duration::from_micros(self.last_tick_micros.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }
}

/// Serves until `shutdown` completes, then closes every client with 1001 and returns.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    config.validate().map_err(std::io::Error::other)?;
    let capacity = (config.max_clients * 8).max(1024);
    let (events, inbox) = mpsc::channel(capacity);
    let shared = Arc::new(Shared {
        config,
        metrics: Metrics::new(),
        events,
        tick: AtomicU32::new(0),
        players: AtomicU32::new(0),
        connections: AtomicUsize::new(0),
        next_client_id: AtomicU32::new(1),
        shutting_down: AtomicBool::new(false),
        epoch: Instant::now(),
        last_tick_micros: AtomicU64::new(0),
    });
    let tick_loop = TickLoop::new(shared.clone(), inbox);
    let tick_thread =
        std::thread::Builder::new().name("tickwire-tick".into()).spawn(move || tick_loop.run())?;

    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let signal = {
        let shared = shared.clone();
        async move {
            shutdown.await;
            info!("shutting down");
            shared.shutting_down.store(true, Ordering::Release);
            let _ = stop_http.send(());
        }
    };
    tokio::spawn(signal);
    let send_buffer = shared.config.socket_send_buffer;
    let tune = move |tcp: &tokio::net::TcpStream| tune_socket(tcp, send_buffer);
    let router = http::router(shared.clone());
    let stop = async move {
        let _ = http_stopped.await;
    };
    let served = match shared.config.tls.clone() {
        Some(tls) => {
            let listener = TlsListener::new(listener, tls, tune).inspect_err(|_| {
                shared.shutting_down.store(true, Ordering::Release);
            })?;
            axum::serve(listener, router).with_graceful_shutdown(stop).await
        }
        None => {
            let listener = ListenerExt::tap_io(listener, move |tcp| tune(tcp));
            axum::serve(listener, router).with_graceful_shutdown(stop).await
        }
    };

    // The tick thread closes every client with 1001 when it sees the flag; wait for it, then
    // give the connections the close timeout to deliver their close frames.
    let joined = tokio::task::spawn_blocking(move || tick_thread.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        warn!("tick thread ended abnormally");
    }
    let deadline = Instant::now() + shared.config.close_timeout;
    while shared.connections.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    served
}

/// `TCP_NODELAY` on (a snapshot must leave when written), and the configured send buffer.
fn tune_socket(tcp: &tokio::net::TcpStream, send_buffer: Option<usize>) {
    if let Err(error) = tcp.set_nodelay(true) {
        warn!(%error, "TCP_NODELAY not set");
    }
    if let Some(bytes) = send_buffer
        && let Err(error) = socket2::SockRef::from(tcp).set_send_buffer_size(bytes)
    {
        warn!(%error, bytes, "SO_SNDBUF not set");
    }
}
