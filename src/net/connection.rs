//! One WebSocket connection: reads and validates client messages, forwarding inputs to the
//! tick, and writes what the tick leaves in the client's [`Outbox`].
//!
//! Two routes. On plain TCP ([`serve_plain`]) a read thread reads the socket
//! ([`super::reader`]) and hands each message to the connection's handler on that thread,
//! the tick writes most frames straight onto the socket ([`super::direct`]), and the
//! connection's task only writes what neither could (a full socket, pongs, pings, the close
//! frame), keeps the idle timer, and ends the connection: it is woken for none of the
//! ordinary traffic. On TLS ([`serve`]) one task per connection reads and writes through
//! tungstenite. Both apply the same rules (`Reader`); client-caused faults close only that
//! connection, with a close code and a reason, and are logged at `debug!`.

use super::direct::{DirectSocket, Writer};
use super::idle::{self, Due, IdleTimer};
use super::inbox::{Event, Inbox, ResumeToken, Wire};
use super::outbox::{Batch, Ending, Outbox, PROBE_BYTES};
use super::reader::{Connection, Flow, Handler, Incoming, Link};
use super::wsframe::{self, Frame, opcode};
use crate::config::CLIENT_MAX_FRAME_BYTES;
use crate::context::Shared;
use crate::game::{ClientInfo, GameInput, GameMessage};
use crate::protocol::{self, ClientMessage, CloseCode, Pong};
use crate::rooms::{Membership, Refusal, RoomStatus};
use axum::body::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tracing::{debug, info};

/// What a tungstenite WebSocket runs on: a TLS stream (or any stream but plain TCP's).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// An upgraded connection.
pub type Socket<S> = WebSocketStream<S>;

/// The refusal's close ending, counted and logged.
fn refused(shared: &Shared, client_id: u32, refusal: &Refusal) -> Ending {
    let code = refusal.close_code();
    debug!(client_id, code = code.code(), %refusal, "refused");
    shared.metrics.disconnect(code.label());
    Ending::Close(code, refusal.to_string())
}

fn tick_stopped() -> Ending {
    Ending::Close(CloseCode::InternalError, "tick loop stopped".into())
}

/// Serves one upgraded plain-TCP connection until it ends: in the room of `place`, or
/// refused with the refusal's close code and reason. `early` holds the bytes the client sent
/// right behind its HTTP request.
pub async fn serve_plain<W: Wire>(
    socket: Arc<DirectSocket>,
    early: Vec<u8>,
    shared: Arc<Shared>,
    place: Result<Membership<W>, Refusal>,
    client: ClientInfo,
    resume: Option<ResumeToken>,
) {
    let client_id = client.client_id;
    let writer = Writer::new(socket.clone());
    let link = Arc::new(Link::default());
    let outbox = Arc::new(Outbox::new(shared.config.control_queue, shared.config.event_queue));
    let handler = PlainHandler::<W> {
        reader: Reader { quiet_pongs: true, ..Reader::new(&shared, client_id) },
        shared: shared.clone(),
        room: place.as_ref().ok().map(|m| (m.inbox.clone(), m.status.clone())),
        outbox: outbox.clone(),
        link: link.clone(),
    };
    let connection = Connection {
        key: client_id,
        socket: socket.clone(),
        early,
        max_message: CLIENT_MAX_FRAME_BYTES,
        handler: Box::new(handler),
        link: link.clone(),
    };
    // The place in the room is held until the connection's Leave is sent (the end of this
    // function), so the room cannot close under a client it has not seen leave.
    let membership = match place {
        Ok(membership) => membership,
        Err(refusal) => {
            let ending = refused(&shared, client_id, &refusal);
            outbox.end(ending.clone());
            // Read, to see the client's answer to the close frame.
            if shared.readers.add(connection).is_err() {
                link.finish();
            }
            finish_plain(&writer, &shared, &link, client_id, Some(ending)).await;
            shared.readers.remove(client_id);
            return;
        }
    };
    let inbox = &membership.inbox;
    let join = Event::Join { client, outbox: outbox.clone(), resume };
    let joined = inbox.send(join).await.is_ok();
    if !joined {
        // Asked before the reading starts: the client's messages are only read for its close.
        outbox.end(tick_stopped());
    }
    let ending = if let Err(error) = shared.readers.add(connection) {
        tracing::error!(%error, "connection not served");
        link.finish();
        Some(Ending::Close(CloseCode::InternalError, error))
    } else if !joined {
        Some(tick_stopped())
    } else {
        outbox.attach(socket);
        run_plain(&writer, &shared, &outbox, &link, client_id).await
    };
    // From here on only this task writes: the close frame must be the last frame sent.
    outbox.detach();
    if let Some(ending) = &ending {
        outbox.end(ending.clone());
    }
    log_end(client_id, &membership.status.name, ending.as_ref());
    finish_plain(&writer, &shared, &link, client_id, ending).await;
    shared.readers.remove(client_id);
    // The tick may already have removed the client (too slow); a second Leave is ignored.
    let resumable = !link.said_goodbye();
    let _ = inbox.send(Event::Leave { client_id, resumable }).await;
}

/// The plain-TCP task's loop: writes what the tick could not, pings a quiet client, and
/// returns how the connection ends (`None`: the socket failed).
async fn run_plain(
    writer: &Writer,
    shared: &Shared,
    outbox: &Outbox,
    link: &Link,
    client_id: u32,
) -> Option<Ending> {
    let mut idle = IdleTimer::new(shared.config.idle_timeout, Instant::now());
    loop {
        tokio::select! {
            // Cancel safe (see `Outbox::next_batch`).
            batch = outbox.next_batch() => {
                let Batch { frames, ending, drain, pong, probe } = batch;
                if (!frames.is_empty() || pong.is_some() || probe.is_some() || drain)
                    && !write_plain(writer, shared, outbox, pong, &frames, probe).await
                {
                    return outbox.is_ending().then(|| outbox.take_ending()).flatten();
                }
                if ending.is_some() {
                    return ending;
                }
                outbox.written();
            }
            // Cancel safe (see `IdleTimer::next`).
            due = idle.next_heard(|| link.last_heard().into()) => match due {
                Due::Ping => {
                    let frames = [(opcode::PING, &[][..])];
                    let ping = writer.send(&frames);
                    let sent = tokio::select! {
                        result = ping => result.is_ok(),
                        () = outbox.ended() => false,
                    };
                    if !sent {
                        return outbox.is_ending().then(|| outbox.take_ending()).flatten();
                    }
                }
                Due::Expired => return Some(idle::expired(shared, client_id)),
            },
        }
    }
}

/// Writes a pong, a batch of binary frames and a read probe; `false` if the socket failed or
/// the connection must end meanwhile.
async fn write_plain(
    writer: &Writer,
    shared: &Shared,
    outbox: &Outbox,
    pong: Option<Bytes>,
    frames: &[Bytes],
    probe: Option<[u8; PROBE_BYTES]>,
) -> bool {
    let pong = pong.as_ref().map(|payload| (opcode::PONG, &payload[..]));
    let probe = probe.as_ref().map(|payload| (opcode::PING, &payload[..]));
    let binary = frames.iter().map(|f| (opcode::BINARY, &f[..]));
    let all: Vec<(u8, &[u8])> = pong.into_iter().chain(binary).chain(probe).collect();
    // Socket I/O is not cancelled for anything but an ending: a snapshot the writer took
    // must reach the socket, or the client's baseline would be wrong.
    let written = tokio::select! {
        result = writer.send(&all) => result.is_ok(),
        () = outbox.ended() => false,
    };
    if written {
        shared.metrics.frames_out.inc_by(frames.len() as u64);
        shared.metrics.bytes_out.inc_by(frames.iter().map(|f| f.len() as u64).sum());
    }
    written
}

/// Sends the close frame an ending asks for, or answers the peer's, bounded by the close
/// timeout. After its own close frame the server waits for the client's answer (the read
/// thread sees it) before it drops the socket: closing a TCP socket with unread data in it
/// sends a reset, and a reset can destroy the close frame in flight.
async fn finish_plain(
    writer: &Writer,
    shared: &Shared,
    link: &Link,
    client_id: u32,
    ending: Option<Ending>,
) {
    let limit = shared.config.close_timeout;
    match ending {
        Some(Ending::Close(code, reason)) => {
            shared.closes.record(client_id, code, &reason);
            let payload = wsframe::close_payload(code.code(), &reason);
            let handshake = async {
                if writer.send(&[(opcode::CLOSE, &payload[..])]).await.is_ok() {
                    link.done().await;
                }
            };
            let _ = timeout(limit, handshake).await;
        }
        Some(Ending::PeerClosed) => {
            // The peer's close frame is answered with its status; a stream that just ended
            // gets nothing.
            if let Some(status) = link.peer_close() {
                let payload = status.map(|s| s.to_be_bytes().to_vec()).unwrap_or_default();
                let _ = timeout(limit, writer.send(&[(opcode::CLOSE, &payload[..])])).await;
            }
        }
        None => {}
    }
}

/// A plain-TCP connection's handler on its read thread.
struct PlainHandler<W: Wire> {
    reader: Reader,
    shared: Arc<Shared>,
    /// The room's inbox and status; `None` for a refused connection.
    room: Option<(Inbox<W>, Arc<RoomStatus>)>,
    outbox: Arc<Outbox>,
    link: Arc<Link>,
}

impl<W: Wire> Handler for PlainHandler<W> {
    fn read(&mut self, read: Incoming<'_>) -> Flow {
        // Once an ending is asked for, what the client sends is only read to see its close.
        let open = !self.outbox.is_ending();
        let (shared, client_id) = (&*self.shared, self.reader.client_id);
        match read {
            Incoming::Frame(Frame::Binary(bytes)) => {
                let Some((inbox, room)) = self.room.as_ref().filter(|_| open) else {
                    return Flow::Open;
                };
                match self.reader.message(bytes, shared, room, inbox, &self.outbox) {
                    Some(ending) => self.outbox.end(ending),
                    // The pong goes out from here, as the tick's snapshots do: waking the
                    // connection task for it would cost more than the write.
                    None if bytes.first() == Some(&protocol::tags::MSG_PING) => {
                        super::flusher::deliver(std::slice::from_ref(&self.outbox), shared);
                    }
                    None => {}
                }
                Flow::Open
            }
            Incoming::Frame(Frame::Text) => {
                if open {
                    let reason = format!("text frames are not part of {}", protocol::SUBPROTOCOL);
                    self.outbox.end(refuse(shared, client_id, CloseCode::UnsupportedData, reason));
                }
                Flow::Open
            }
            Incoming::Frame(Frame::Ping(payload)) => {
                if open {
                    self.outbox.push_pong(Bytes::copy_from_slice(payload));
                }
                Flow::Open
            }
            Incoming::Frame(Frame::Pong(payload)) => {
                self.outbox.pong_received(payload);
                Flow::Open
            }
            Incoming::Frame(Frame::Close(status)) => {
                if open {
                    self.link.said_goodbye_with(status);
                    shared.metrics.disconnect("client_closed");
                }
                self.link.close_received(status);
                self.outbox.end(Ending::PeerClosed);
                Flow::Done
            }
            Incoming::Violation(violation) => {
                if open {
                    let ending = refuse(shared, client_id, violation.code, violation.reason);
                    self.outbox.end(ending);
                }
                Flow::Discard
            }
            Incoming::End | Incoming::Failed(_) => {
                if open {
                    let label = if matches!(read, Incoming::End) {
                        "connection_lost"
                    } else {
                        "read_error"
                    };
                    if let Incoming::Failed(error) = &read {
                        debug!(client_id, %error, "read failed");
                    }
                    shared.metrics.disconnect(label);
                    self.outbox.end(Ending::PeerClosed);
                }
                Flow::Done
            }
        }
    }
}

/// Serves one upgraded connection on a stream other than plain TCP (TLS) until it ends: in
/// the room of `place`, or refused with the refusal's close code and reason.
///
/// One task, one loop: it waits for either a client message or something in the outbox. The
/// socket is not split, so reading and writing share no lock.
pub async fn serve<W: Wire, S: Io>(
    mut socket: Socket<S>,
    shared: Arc<Shared>,
    place: Result<Membership<W>, Refusal>,
    client: ClientInfo,
    resume: Option<ResumeToken>,
) {
    let client_id = client.client_id;
    let membership = match place {
        Ok(membership) => membership,
        Err(refusal) => {
            let ending = refused(&shared, client_id, &refusal);
            finish(&mut socket, &shared, client_id, Some(ending)).await;
            return;
        }
    };
    // The place in the room is held until the connection's Leave is sent (the end of this
    // function), so the room cannot close under a client it has not seen leave.
    let (inbox, room) = (&membership.inbox, &membership.status);
    let outbox = Arc::new(Outbox::new(shared.config.control_queue, shared.config.event_queue));
    let join = Event::Join { client, outbox: outbox.clone(), resume };
    if inbox.send(join).await.is_err() {
        finish(&mut socket, &shared, client_id, Some(tick_stopped())).await;
        return;
    }
    let mut reader = Reader::new(&shared, client_id);
    let mut idle = IdleTimer::new(shared.config.idle_timeout, Instant::now());
    let ending = loop {
        tokio::select! {
            // Cancel safe: a partly received frame stays in tungstenite's buffer.
            message = socket.next() => {
                idle.heard(Instant::now());
                if let Some(ending) = reader.handle(message, &shared, room, inbox, &outbox) {
                    break Some(ending);
                }
            }
            // Cancel safe (see `Outbox::next_batch`).
            batch = outbox.next_batch() => {
                let any = !batch.frames.is_empty() || batch.probe.is_some() || batch.drain;
                if any && !write(&mut socket, &shared, &outbox, batch.frames, batch.probe).await {
                    break outbox.is_ending().then(|| outbox.take_ending()).flatten();
                }
                if batch.ending.is_some() {
                    break batch.ending;
                }
                outbox.written();
            }
            // Cancel safe (see `IdleTimer::next`).
            due = idle.next() => {
                if let Err(ending) = idle::act(due, &mut socket, &shared, &outbox, client_id).await {
                    break ending;
                }
            }
        }
    };
    log_end(client_id, &room.name, ending.as_ref());
    finish(&mut socket, &shared, client_id, ending).await;
    // The tick may already have removed the client (too slow); a second Leave is ignored.
    let resumable = !reader.said_goodbye;
    let _ = inbox.send(Event::Leave { client_id, resumable }).await;
}

/// Validates what the client sends and forwards it.
struct Reader {
    client_id: u32,
    bucket: TokenBucket,
    /// Game messages, on top of `bucket`.
    messages: TokenBucket,
    /// Sequence number of the newest input received.
    last_seq: u32,
    /// The client closed with 1000: it left on purpose, and its session is not kept.
    said_goodbye: bool,
    /// Pongs are queued without waking the writer: the caller delivers them itself.
    quiet_pongs: bool,
}

impl Reader {
    fn new(shared: &Shared, client_id: u32) -> Reader {
        let config = &shared.config;
        let per_second = f64::from(config.tick_rate_hz) * f64::from(config.input_rate_factor);
        let messages = TokenBucket::new(f64::from(config.game_message_rate));
        let bucket = TokenBucket::new(per_second);
        Reader { client_id, bucket, messages, last_seq: 0, said_goodbye: false, quiet_pongs: false }
    }

    /// Handles one read; `Some` when the connection must end.
    fn handle<W: Wire>(
        &mut self,
        message: Option<Result<Message, tungstenite::Error>>,
        shared: &Shared,
        room: &RoomStatus,
        inbox: &Inbox<W>,
        outbox: &Outbox,
    ) -> Option<Ending> {
        let client_id = self.client_id;
        let bytes = match message {
            Some(Ok(Message::Binary(bytes))) => bytes,
            Some(Ok(Message::Pong(payload))) => {
                outbox.pong_received(&payload);
                return None;
            }
            Some(Ok(Message::Ping(_) | Message::Frame(_))) => return None,
            Some(Ok(Message::Close(frame))) => {
                self.said_goodbye = frame.is_some_and(|f| u16::from(f.code) == 1000);
                shared.metrics.disconnect("client_closed");
                return Some(Ending::PeerClosed);
            }
            Some(Ok(Message::Text(_))) => {
                let reason = format!("text frames are not part of {}", protocol::SUBPROTOCOL);
                return Some(refuse(shared, client_id, CloseCode::UnsupportedData, reason));
            }
            Some(Err(error)) => {
                debug!(client_id, %error, "read failed");
                if let Some((code, reason)) = super::framing::read_error_close(&error) {
                    return Some(refuse(shared, client_id, code, reason));
                }
                shared.metrics.disconnect("read_error");
                return Some(Ending::PeerClosed);
            }
            None => {
                shared.metrics.disconnect("connection_lost");
                return Some(Ending::PeerClosed);
            }
        };
        self.message(&bytes, shared, room, inbox, outbox)
    }

    /// Handles one binary message; `Some` when the connection must end. A panic in the
    /// game's code that runs here (decoding its input or message type, their `validate`)
    /// closes only this client, with 1011.
    fn message<W: Wire>(
        &mut self,
        bytes: &[u8],
        shared: &Shared,
        room: &RoomStatus,
        inbox: &Inbox<W>,
        outbox: &Outbox,
    ) -> Option<Ending> {
        // Sound: after a panic the connection ends, and this reader (its rate buckets, its
        // last seq) reads nothing more; the inbox and outbox are only touched after the
        // game's code returned.
        let handled = crate::panics::catch(AssertUnwindSafe(|| {
            self.binary(bytes, shared, room, inbox, outbox)
        }));
        handled.unwrap_or_else(|panic| {
            let client_id = self.client_id;
            tracing::error!(client_id, room = room.name, %panic, "the game panicked on a client's message");
            panic.log_backtrace(format!("client {client_id}"));
            let reason = "server error while handling this client's message".to_owned();
            Some(refuse(shared, client_id, CloseCode::InternalError, reason))
        })
    }

    /// [`Reader::message`], outside the panic guard.
    fn binary<W: Wire>(
        &mut self,
        bytes: &[u8],
        shared: &Shared,
        room: &RoomStatus,
        inbox: &Inbox<W>,
        outbox: &Outbox,
    ) -> Option<Ending> {
        let client_id = self.client_id;
        shared.metrics.frames_in.inc();
        shared.metrics.bytes_in.inc_by(bytes.len() as u64);
        if !self.bucket.take(Instant::now()) {
            let reason = format!("more than {} messages per second", self.bucket.rate);
            return Some(refuse(shared, client_id, CloseCode::PolicyViolation, reason));
        }
        // A game message (tag 2, one byte) has a limit of its own, and a rate.
        let game_message = bytes.first() == Some(&protocol::tags::MSG_MESSAGE);
        let limit = if game_message {
            shared.config.max_game_message_bytes
        } else {
            shared.config.max_message_bytes
        };
        if bytes.len() > limit {
            let what = if game_message { "game message" } else { "message" };
            let reason = format!("{what} of {} bytes exceeds {limit}", bytes.len());
            return Some(refuse(shared, client_id, CloseCode::MessageTooBig, reason));
        }
        if game_message && !self.messages.take(Instant::now()) {
            let reason = format!("more than {} game messages per second", self.messages.rate);
            return Some(refuse(shared, client_id, CloseCode::PolicyViolation, reason));
        }
        match protocol::decode_client::<W::Input, W::Message>(bytes, limit) {
            Ok(ClientMessage::Input { seq, input }) => {
                if seq <= self.last_seq {
                    let reason =
                        format!("input seq {seq} does not increase (last {})", self.last_seq);
                    return Some(refuse(shared, client_id, CloseCode::PolicyViolation, reason));
                }
                if let Err(reason) = input.validate() {
                    let reason = format!("invalid input: {reason}");
                    return Some(refuse(shared, client_id, CloseCode::PolicyViolation, reason));
                }
                self.last_seq = seq;
                let received = std::time::Instant::now();
                if inbox.try_send(Event::Input { client_id, seq, input, received }).is_err() {
                    shared.metrics.input_dropped("inbox_full");
                }
            }
            Ok(ClientMessage::Message(message)) => {
                if let Err(reason) = message.validate() {
                    let reason = format!("invalid message: {reason}");
                    return Some(refuse(shared, client_id, CloseCode::PolicyViolation, reason));
                }
                shared.metrics.game_messages_in.inc();
                // Never dropped while connected: a room whose inbox is full cannot keep the
                // promise, so the client is told rather than losing the message unseen.
                if inbox.try_send(Event::Message { client_id, message }).is_err() {
                    let reason = "the room is overloaded: message not delivered".to_owned();
                    return Some(refuse(shared, client_id, CloseCode::TryAgainLater, reason));
                }
            }
            Ok(ClientMessage::Ping { id }) => {
                let tick = room.tick.load(Ordering::Relaxed);
                let clients = room.clients_in_world.load(Ordering::Relaxed);
                let pong = Pong { id, tick, clients }.encode();
                let pong = Bytes::from(pong);
                let queued = if self.quiet_pongs {
                    outbox.push_control_quiet(pong)
                } else {
                    outbox.push_control(pong)
                };
                if !queued {
                    debug!(client_id, "pong dropped: control queue full");
                }
            }
            Err(error) => {
                let code = CloseCode::InvalidPayload;
                return Some(refuse(shared, client_id, code, error.to_string()));
            }
        }
        None
    }
}

fn refuse(shared: &Shared, client_id: u32, code: CloseCode, reason: String) -> Ending {
    debug!(client_id, code = code.code(), %reason, "closing client");
    shared.metrics.disconnect(code.label());
    Ending::Close(code, reason)
}

/// Writes a batch: every frame is fed, then one flush writes them all (one syscall when
/// they fit). `false` if the socket failed or the connection must end meanwhile.
async fn write<S: Io>(
    socket: &mut Socket<S>,
    shared: &Shared,
    outbox: &Outbox,
    frames: Vec<Bytes>,
    probe: Option<[u8; PROBE_BYTES]>,
) -> bool {
    let count = frames.len() as u64;
    let bytes: u64 = frames.iter().map(|f| f.len() as u64).sum();
    let io = async {
        for frame in frames {
            socket.feed(Message::Binary(frame)).await?;
        }
        if let Some(probe) = probe {
            socket.feed(Message::Ping(Bytes::copy_from_slice(&probe))).await?;
        }
        socket.flush().await
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
    written
}

/// Sends the close frame an ending asks for (or completes the peer's close), bounded by the
/// close timeout.
///
/// After sending its own close frame the server waits for the client's answer before it
/// drops the socket: closing a TCP socket with unread data in it sends a reset, and a reset
/// can destroy the close frame in flight, so the client would see 1006 instead of the code.
/// One line per admitted connection that ends, with the close code and reason the server
/// sends; refusals before the join are client faults, logged at `debug!` by [`refused`].
fn log_end(client_id: u32, room: &str, ending: Option<&Ending>) {
    match ending {
        Some(Ending::Close(code, reason)) => {
            info!(room, client_id, code = code.code(), %reason, "connection closed by the server");
        }
        Some(Ending::PeerClosed) => info!(room, client_id, "connection closed by the client"),
        None => info!(room, client_id, "connection lost"),
    }
}

async fn finish<S: Io>(
    socket: &mut Socket<S>,
    shared: &Shared,
    client_id: u32,
    ending: Option<Ending>,
) {
    let limit = shared.config.close_timeout;
    match ending {
        Some(Ending::Close(code, reason)) => {
            shared.closes.record(client_id, code, &reason);
            let handshake = async {
                if socket.send(close_message(code, &reason)).await.is_err() {
                    return;
                }
                // Anything the client sent meanwhile is dropped unread; the stream ends after
                // the client's close frame (or when the connection fails).
                while let Some(Ok(_)) = socket.next().await {}
            };
            let _ = timeout(limit, handshake).await;
        }
        Some(Ending::PeerClosed) => {
            let _ = timeout(limit, SinkExt::close(socket)).await;
        }
        None => {}
    }
}

fn close_message(code: CloseCode, reason: &str) -> Message {
    let reason = super::framing::fit_close_reason(reason);
    Message::Close(Some(CloseFrame { code: code.code().into(), reason: reason.into() }))
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
