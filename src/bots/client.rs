//! A headless tickwire client: connects, keeps a replica from the snapshots, sends inputs.
//!
//! The load tester runs hundreds of these; the integration tests drive the server with them.

use super::game::GameSpec;
use crate::protocol::{self, ClientMessage, SUBPROTOCOL, Welcome};
use crate::replication::{Replica, ReplicaError, replica::Applied};
use futures_util::{SinkExt, StreamExt};
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// The socket type of a bot.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a bot failed.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// The URL or handshake failed.
    #[error("connect: {0}")]
    Connect(String),
    /// The socket failed.
    #[error("socket: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server closed the connection.
    #[error("closed by server: {code} {reason}")]
    Closed {
        /// Close code (1005 when none was given).
        code: u16,
        /// Close reason.
        reason: String,
    },
    /// A message could not be applied to the replica.
    #[error("replica: {0}")]
    Replica(#[from] ReplicaError),
    /// The server runs another game (or another version of it).
    #[error(
        "schema mismatch: the server's schema hash is {server:016x}, this client's {client:016x}"
    )]
    SchemaMismatch {
        /// The welcome's hash.
        server: u64,
        /// This client's game's hash.
        client: u64,
    },
    /// The first message was not a welcome, or an unexpected message arrived.
    #[error("protocol: {0}")]
    Protocol(String),
}

/// What arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// A snapshot was applied.
    Snapshot {
        /// Whether it was full.
        full: bool,
        /// Payload bytes.
        bytes: usize,
    },
    /// A pong.
    Pong(protocol::Pong),
    /// An operator's notice.
    Notice(protocol::Notice),
    /// One of the game's events: its tick and bincode bytes (decode them with
    /// [`crate::protocol::decode_exact`] as the game's event type).
    Event {
        /// The tick it belongs to.
        tick: u32,
        /// Its bincode bytes.
        bytes: Vec<u8>,
    },
}

/// One connected client.
pub struct BotClient {
    socket: Socket,
    /// The server's welcome.
    pub welcome: Box<Welcome>,
    /// The world as this client holds it.
    pub replica: Replica,
    seq: u32,
}

/// Read buffer per bot connection: an all-visible 500-player delta (~2.1 KiB) in one read.
/// tungstenite zeroes all of it before every read, so at 2,000 bots 16 KiB cost 3.5 % of the
/// bots' CPU in `memset` alone; a larger message takes a few reads.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Opens a WebSocket to `url` offering the tickwire subprotocol (and `TCP_NODELAY`).
/// `wss://` URLs are verified against the Mozilla root certificates.
pub async fn open(url: &str) -> Result<Socket, BotError> {
    open_with(url, None).await
}

/// As [`open`], with the TLS client configuration for `wss://` given (e.g. trusting a private
/// certificate authority).
pub async fn open_with(
    url: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Socket, BotError> {
    let mut request = url.into_client_request().map_err(|e| BotError::Connect(e.to_string()))?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
    // tungstenite zeroes `read_buffer_size` bytes before every socket read (128 KiB by
    // default); a snapshot is a few KiB at most, and hundreds of bots share the machine.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let connector = tls.map(Connector::Rustls);
    let (socket, _response) =
        tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, connector)
            .await
            .map_err(|e| BotError::Connect(e.to_string()))?;
    Ok(socket)
}

/// A TLS client configuration for `wss://` (and the bots' `https://` scrapes) that trusts
/// the certificates of the PEM file `ca_cert` (a private certificate authority, or a server's
/// self-signed certificate) instead of the Mozilla roots.
pub fn trusting(ca_cert: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let (_, rejected) = roots.add_parsable_certificates(crate::net::tls::certificates(ca_cert)?);
    if rejected > 0 {
        let path = ca_cert.display();
        return Err(format!("{path}: {rejected} certificate(s) cannot be trust anchors"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl BotClient {
    /// Connects and waits for the welcome; the server must run `game`.
    pub async fn connect(url: &str, game: &GameSpec) -> Result<BotClient, BotError> {
        BotClient::connect_with(url, game, None).await
    }

    /// As [`BotClient::connect`], with the TLS client configuration for `wss://` given.
    pub async fn connect_with(
        url: &str,
        game: &GameSpec,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<BotClient, BotError> {
        let mut socket = open_with(url, tls).await?;
        let bytes = next_binary(&mut socket).await?;
        let mut replica = game.replica();
        let welcome = match replica.apply(&bytes)? {
            Applied::Welcome(welcome) => welcome,
            other => return Err(BotError::Protocol(format!("expected a welcome, got {other:?}"))),
        };
        if welcome.protocol_version != protocol::PROTOCOL_VERSION {
            return Err(BotError::Protocol(format!(
                "protocol version {}",
                welcome.protocol_version
            )));
        }
        if welcome.schema_hash != game.schema_hash {
            let (server, client) = (welcome.schema_hash, game.schema_hash);
            return Err(BotError::SchemaMismatch { server, client });
        }
        Ok(BotClient { socket, welcome, replica, seq: 0 })
    }

    /// Waits for the next message and applies it.
    pub async fn receive(&mut self) -> Result<Received, BotError> {
        let bytes = next_binary(&mut self.socket).await?;
        match self.replica.apply(&bytes)? {
            Applied::Snapshot { full, .. } => Ok(Received::Snapshot { full, bytes: bytes.len() }),
            Applied::Pong(pong) => Ok(Received::Pong(pong)),
            Applied::Notice(notice) => Ok(Received::Notice(notice)),
            Applied::Event { tick, bytes } => Ok(Received::Event { tick, bytes }),
            Applied::Welcome(_) => Err(BotError::Protocol("a second welcome".into())),
        }
    }

    /// Receives until a snapshot has been applied; returns its payload size.
    pub async fn next_snapshot(&mut self) -> Result<usize, BotError> {
        loop {
            if let Received::Snapshot { bytes, .. } = self.receive().await? {
                return Ok(bytes);
            }
        }
    }

    /// Sends one input of the game and returns its seq.
    pub async fn send_input<I: serde::Serialize>(&mut self, input: I) -> Result<u32, BotError> {
        self.seq += 1;
        let message = ClientMessage::<I, ()>::Input { seq: self.seq, input };
        self.send_bytes(message.encode()).await?;
        Ok(self.seq)
    }

    /// Sends one of the game's messages.
    pub async fn send_message<M: serde::Serialize>(&mut self, message: M) -> Result<(), BotError> {
        self.send_bytes(ClientMessage::<(), M>::Message(message).encode()).await
    }

    /// Sends a ping.
    pub async fn send_ping(&mut self, id: u32) -> Result<(), BotError> {
        self.send_bytes(ClientMessage::<(), ()>::Ping { id }.encode()).await
    }

    /// The token that resumes this session (`/ws?resume=` and these 32 hex digits).
    pub fn resume_token(&self) -> String {
        self.welcome.resume_token.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Sends raw bytes as one binary message (tests of malformed input).
    pub async fn send_bytes(&mut self, bytes: Vec<u8>) -> Result<(), BotError> {
        self.socket.send(Message::Binary(Bytes::from(bytes))).await?;
        Ok(())
    }

    /// Component `C` of the client's own entity in its replica.
    pub fn own<C: bevy_ecs::component::Component>(&self) -> Option<C> {
        self.replica.get::<C>(self.welcome.entity_id)
    }

    /// Closes the connection normally and waits briefly for the server's reply.
    pub async fn close(mut self) {
        let frame = CloseFrame { code: 1000.into(), reason: "bye".into() };
        let _ = self.socket.close(Some(frame)).await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
    }

    /// The socket and the welcome, for a caller that runs its own receive loop (the load
    /// tester); the replica, still empty after the welcome, is dropped.
    pub fn into_parts(self) -> (Socket, Box<Welcome>) {
        (self.socket, self.welcome)
    }

    /// The socket, for tests that need raw access.
    pub fn socket(&mut self) -> &mut Socket {
        &mut self.socket
    }
}

/// The next binary message; a close frame or text becomes an error.
pub async fn next_binary(socket: &mut Socket) -> Result<Bytes, BotError> {
    loop {
        match socket.next().await {
            None => return Err(BotError::Closed { code: 1006, reason: "connection lost".into() }),
            Some(Err(error)) => return Err(error.into()),
            Some(Ok(Message::Binary(bytes))) => return Ok(bytes),
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.to_string()));
                return Err(BotError::Closed { code, reason });
            }
            Some(Ok(Message::Text(_))) => return Err(BotError::Protocol("text frame".into())),
            Some(Ok(_)) => continue,
        }
    }
}
