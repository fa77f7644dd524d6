//! From hyper's upgraded connection to a WebSocket: on plain TCP the stream is unwrapped to
//! its socket, read by a read thread ([`super::reader`]) and written by the tick
//! ([`super::direct`]); any other stream (TLS) stays behind hyper's wrapper and is read and
//! written by its connection task alone, through tungstenite.

use super::connection;
use super::direct::DirectSocket;
use super::http::{CLIENT_MAX_FRAME_BYTES, CLIENT_READ_BUFFER_BYTES};
use super::inbox::{ResumeToken, Wire};
use crate::context::Shared;
use crate::game::ClientInfo;
use crate::rooms::{Membership, Refusal};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// The WebSocket settings of every connection.
///
/// Client messages are at most 64 bytes. tungstenite zeroes `read_buffer_size` bytes of its
/// read buffer before every socket read (128 KiB by default), which at one read per input per
/// client per tick was over half the server's CPU: keep it small.
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(CLIENT_READ_BUFFER_BYTES)
        .max_message_size(Some(CLIENT_MAX_FRAME_BYTES))
        .max_frame_size(Some(CLIENT_MAX_FRAME_BYTES))
}

/// Serves an upgraded `/ws` connection until it ends.
pub async fn serve<W: Wire>(
    upgraded: Upgraded,
    shared: Arc<Shared>,
    place: Result<Membership<W>, Refusal>,
    client: ClientInfo,
    resume: Option<ResumeToken>,
) {
    match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => {
            // Out of tokio's reactor: a read thread watches it for data, the connection
            // task (re-registered) for room to write.
            let socket = match parts.io.into_inner().into_std() {
                Ok(socket) => DirectSocket::new(socket),
                Err(error) => return tracing::debug!(%error, "cannot take the socket"),
            };
            // Bytes the client sent right behind its request, already read by hyper.
            let early = parts.read_buf.to_vec();
            connection::serve_plain(socket, early, shared, place, client, resume).await;
        }
        Err(upgraded) => {
            let io = TokioIo::new(upgraded);
            let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config())).await;
            connection::serve(socket, shared, place, client, resume).await;
        }
    }
}
