//! One WebSocket connection: a reader that validates client messages and forwards inputs to
//! the tick, and a writer that drains the client's [`Outbox`] to the socket.
//!
//! Both run in one task (`select!`), so a connection costs one task. Client-caused faults
//! close only that connection, with a close code and reason, and are logged at `debug!`.

use super::outbox::{Ending, Outbox};
use crate::protocol::{self, ClientMessage, CloseCode, Pong, ServerMessage};
use crate::server::Shared;
use crate::tick_loop::Event;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::time::{Instant, timeout};
use tracing::debug;

/// Serves one upgraded connection until it ends.
pub async fn serve(
    socket: WebSocket,
    shared: Arc<Shared>,
    client_id: u32,
    name: String,
    over_capacity: bool,
) {
    let outbox = Arc::new(Outbox::new(shared.config.control_queue));
    let (mut sink, stream) = socket.split();
    if over_capacity {
        let reason = format!("server full: {} clients connected", shared.config.max_clients);
        shared.metrics.disconnect(CloseCode::TryAgainLater.label());
        let _ = timeout(
            shared.config.close_timeout,
            sink.send(close_message(CloseCode::TryAgainLater, &reason)),
        )
        .await;
        return;
    }
    let join = Event::Join { client_id, name, outbox: outbox.clone() };
    if shared.events.send(join).await.is_err() {
        let _ = sink.send(close_message(CloseCode::InternalError, "tick loop stopped")).await;
        return;
    }
    let reader = read(stream, &shared, &outbox, client_id);
    let writer = write(sink, &shared, &outbox);
    tokio::pin!(reader, writer);
    let mut reading = true;
    loop {
        tokio::select! {
            ending = &mut reader, if reading => {
                reading = false;
                outbox.end(ending);
            }
            () = &mut writer => break,
        }
    }
    // The tick may already have removed the client (too slow); a second Leave is ignored.
    let _ = shared.events.send(Event::Leave { client_id }).await;
}

/// Reads until the connection must end, and says how.
async fn read(
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    shared: &Shared,
    outbox: &Outbox,
    client_id: u32,
) -> Ending {
    let per_second =
        f64::from(shared.config.tick_rate_hz) * f64::from(shared.config.input_rate_factor);
    let mut bucket = TokenBucket::new(per_second);
    while let Some(message) = stream.next().await {
        let bytes = match message {
            Ok(Message::Binary(bytes)) => bytes,
            Ok(Message::Close(_)) => return Ending::PeerClosed,
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Text(_)) => {
                return refuse(
                    shared,
                    client_id,
                    CloseCode::UnsupportedData,
                    "text frames are not part of tickwire.v1".into(),
                );
            }
            Err(error) => {
                debug!(client_id, %error, "read failed");
                let too_big = matches!(
                    error.into_inner().downcast_ref(),
                    Some(tokio_tungstenite::tungstenite::Error::Capacity(_))
                );
                if too_big {
                    return refuse(
                        shared,
                        client_id,
                        CloseCode::MessageTooBig,
                        "message too big".into(),
                    );
                }
                shared.metrics.disconnect("read_error");
                return Ending::PeerClosed;
            }
        };
        shared.metrics.frames_in.inc();
        shared.metrics.bytes_in.inc_by(bytes.len() as u64);
        if !bucket.take(Instant::now()) {
            let reason = format!("more than {per_second} messages per second");
            return refuse(shared, client_id, CloseCode::PolicyViolation, reason);
        }
        if bytes.len() > shared.config.max_message_bytes {
            let reason = format!(
                "message of {} bytes exceeds {}",
                bytes.len(),
                shared.config.max_message_bytes
            );
            return refuse(shared, client_id, CloseCode::MessageTooBig, reason);
        }
        match protocol::decode_client(&bytes) {
            Ok(ClientMessage::Input(input)) => {
                if shared.events.try_send(Event::Input { client_id, input }).is_err() {
                    shared.metrics.input_dropped("inbox_full");
                }
            }
            Ok(ClientMessage::Ping(ping)) => {
                let tick = shared.tick.load(Ordering::Relaxed);
                let pong = protocol::encode(&ServerMessage::Pong(Pong { id: ping.id, tick }));
                if !outbox.push_control(Bytes::from(pong)) {
                    debug!(client_id, "pong dropped: control queue full");
                }
            }
            Err(error) => {
                return refuse(shared, client_id, CloseCode::InvalidPayload, error.to_string());
            }
        }
    }
    shared.metrics.disconnect("connection_lost");
    Ending::PeerClosed
}

fn refuse(shared: &Shared, client_id: u32, code: CloseCode, reason: String) -> Ending {
    debug!(client_id, code = code.code(), %reason, "closing client");
    shared.metrics.disconnect(code.label());
    Ending::Close(code, reason)
}

/// Writes batches from the outbox until the connection ends.
async fn write(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    shared: &Shared,
    outbox: &Outbox,
) {
    loop {
        let batch = outbox.next_batch().await;
        let count = batch.frames.len() as u64;
        let bytes: u64 = batch.frames.iter().map(|f| f.len() as u64).sum();
        // Every frame is fed, then one flush writes them all (one syscall when they fit).
        let io = async {
            for frame in batch.frames {
                sink.feed(Message::Binary(frame)).await?;
            }
            sink.flush().await
        };
        // Socket I/O is not cancelled for anything but an ending: a snapshot the writer took
        // must reach the socket, or the client's baseline would be wrong.
        let written = tokio::select! {
            result = io => result.is_ok(),
            () = outbox.ended() => false,
        };
        if written {
            shared.metrics.frames_out.inc_by(count);
            shared.metrics.bytes_out.inc_by(bytes);
        }
        let ending = match (written, batch.ending) {
            (true, None) => continue,
            (_, ending) => ending.or_else(|| outbox.is_ending().then_some(Ending::PeerClosed)),
        };
        finish(&mut sink, shared, ending).await;
        return;
    }
}

async fn finish(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    shared: &Shared,
    ending: Option<Ending>,
) {
    let limit = shared.config.close_timeout;
    match ending {
        Some(Ending::Close(code, reason)) => {
            let _ = timeout(limit, sink.send(close_message(code, &reason))).await;
        }
        Some(Ending::PeerClosed) => {
            let _ = timeout(limit, sink.close()).await;
        }
        None => {}
    }
}

fn close_message(code: CloseCode, reason: &str) -> Message {
    // A close reason must fit the 125-byte control frame with its 2-byte code.
    let mut reason = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame { code: code.code(), reason: reason.into() }))
}

/// Allows `rate` messages per second on average and a burst of one second's worth.
struct TokenBucket {
    rate: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    fn new(rate: f64) -> TokenBucket {
        TokenBucket { rate, tokens: rate, last: None }
    }

    fn take(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            self.tokens =
                (self.tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.rate);
        }
        self.last = Some(now);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0);
        assert!((0..10).all(|_| bucket.take(start)));
        assert!(!bucket.take(start));
        assert!(bucket.take(start + Duration::from_millis(100)));
        assert!(!bucket.take(start + Duration::from_millis(100)));
    }
}
