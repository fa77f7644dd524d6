//! Close codes the server sends, each with a reason string in the close frame.

/// Every WebSocket close code the server uses. The numeric values are part of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// 1001: the server is shutting down.
    GoingAway,
    /// 1002: the client broke RFC 6455 framing (unmasked or reserved bits, bad opcode,
    /// fragmented or oversized control frame, bad close frame).
    ProtocolError,
    /// 1003: the client sent a text frame; the protocol is binary only.
    UnsupportedData,
    /// 1007: a binary frame that does not decode as a client message.
    InvalidPayload,
    /// 1008: the client broke a rule (input rate limit, input sequence going backwards).
    PolicyViolation,
    /// 1009: a message larger than the server accepts.
    MessageTooBig,
    /// 1011: the server hit an internal error (its tick loop stopped).
    InternalError,
    /// 1013: the server is full; try again later.
    TryAgainLater,
    /// 4001: the client did not read its snapshots fast enough.
    TooSlow,
    /// 4002: the client sent nothing at all (no message, ping or pong) for the idle timeout.
    Idle,
    /// 4003: the room holds `--room-capacity` players already.
    RoomFull,
    /// 4004: the room does not exist and `--max-rooms` rooms are open already.
    TooManyRooms,
    /// 4005: the resume token is unknown, used already, or its window has passed; the
    /// client is not given a new player in its place.
    ResumeRefused,
    /// 4006: the session was resumed on a newer connection.
    Replaced,
    /// 4007: a clustered server (`--redis`) requires a seat from `POST /matchmake`, and the
    /// `seat` given is missing, unknown, used, expired, or for another process or room.
    SeatRefused,
    /// 4009: an operator kicked the client from the console (`/admin`); the reason reads
    /// "kicked by the operator: REASON". The client should not reconnect on its own.
    Kicked,
    /// 4010: an operator closed the client's room from the console; the reason reads "room
    /// closed by the operator: REASON". The client should not reconnect on its own.
    RoomClosed,
    /// 4008: a clustered server lost this room's lease (after a pause, a partition or a
    /// Redis restart another process may host the room): matchmake again.
    RoomLost,
}

/// The reason sent with [`CloseCode::RoomLost`].
pub const ROOM_LOST_REASON: &str =
    "room lost: this server no longer hosts the room; matchmake again (POST /matchmake)";

impl CloseCode {
    /// The number written in the close frame.
    pub fn code(self) -> u16 {
        match self {
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::UnsupportedData => 1003,
            CloseCode::InvalidPayload => 1007,
            CloseCode::PolicyViolation => 1008,
            CloseCode::MessageTooBig => 1009,
            CloseCode::InternalError => 1011,
            CloseCode::TryAgainLater => 1013,
            CloseCode::TooSlow => 4001,
            CloseCode::Idle => 4002,
            CloseCode::RoomFull => 4003,
            CloseCode::TooManyRooms => 4004,
            CloseCode::ResumeRefused => 4005,
            CloseCode::Replaced => 4006,
            CloseCode::SeatRefused => 4007,
            CloseCode::Kicked => 4009,
            CloseCode::RoomClosed => 4010,
            CloseCode::RoomLost => 4008,
        }
    }

    /// A short label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            CloseCode::GoingAway => "going_away",
            CloseCode::ProtocolError => "protocol_error",
            CloseCode::UnsupportedData => "unsupported_data",
            CloseCode::InvalidPayload => "invalid_payload",
            CloseCode::PolicyViolation => "policy_violation",
            CloseCode::MessageTooBig => "message_too_big",
            CloseCode::InternalError => "internal_error",
            CloseCode::TryAgainLater => "server_full",
            CloseCode::TooSlow => "too_slow",
            CloseCode::Idle => "idle",
            CloseCode::RoomFull => "room_full",
            CloseCode::TooManyRooms => "too_many_rooms",
            CloseCode::ResumeRefused => "resume_refused",
            CloseCode::Replaced => "replaced",
            CloseCode::SeatRefused => "seat_refused",
            CloseCode::Kicked => "kicked",
            CloseCode::RoomClosed => "room_closed",
            CloseCode::RoomLost => "room_lost",
        }
    }
}
