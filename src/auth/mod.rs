//! Player identity on join: who may open a WebSocket, decided before the upgrade.
//!
//! A server given an [`Authenticator`] ([`crate::Server::authenticator`]) hands it each
//! `/ws` handshake ([`Handshake`]: query, headers, cookies, remote address, room) off the
//! tick, bounded by [`crate::ServerConfig::auth_timeout`]. It answers with an [`Identity`]
//! (a user id and claims, which reach the game in [`crate::ClientInfo::identity`]) or an
//! [`AuthRefusal`], which the client gets as `401`, `403` or `503` with the reason, before
//! the upgrade. [`jwt::JwtVerifier`] is the built-in one (`--jwt-*` flags).
//!
//! [`Logins`] keeps one live session per user id on this process
//! ([`DuplicateLogin`]). This module knows no game and no socket beyond the handshake.

pub mod jwks;
pub mod jwt;
mod logins;

pub use logins::Logins;

use axum::http::HeaderMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

/// The query parameter that carries a token (browsers cannot set headers on a WebSocket).
pub const TOKEN_PARAM: &str = "token";

/// The cookie that carries a token.
pub const TOKEN_COOKIE: &str = "tickwire_token";

/// Longest token accepted, in bytes (from any of the three places); longer gets `401`. A
/// JWT with a few claims is well under 2 KiB; this bounds what is decoded per handshake.
pub const MAX_TOKEN_BYTES: usize = 8192;

/// Longest user id accepted, in bytes: it is kept per live session and written in logs.
pub const MAX_USER_ID_BYTES: usize = 256;

/// Who a client is, as its [`Authenticator`] established: the user id (one live session per
/// id) and whatever else the authenticator wants the game to see (a JWT's claims).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's id (a JWT's `sub`): non-empty, at most [`MAX_USER_ID_BYTES`].
    pub user_id: String,
    /// Claims about the user, as JSON (a JWT's whole payload); `Null` for none.
    pub claims: serde_json::Value,
}

impl Identity {
    /// An identity with no claims.
    pub fn new(user_id: impl Into<String>) -> Identity {
        Identity { user_id: user_id.into(), claims: serde_json::Value::Null }
    }
}

/// Why a handshake is refused; the text is the body of the response (never the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthRefusal {
    /// `401`: no credentials, or credentials that do not check out (bad signature, expired).
    #[error("{0}")]
    Unauthorized(String),
    /// `403`: the credentials are good, but this user may not join (banned, wrong room).
    #[error("{0}")]
    Forbidden(String),
    /// `503`: the authenticator cannot decide now (its key server is unreachable).
    #[error("{0}")]
    Unavailable(String),
}

impl AuthRefusal {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self {
            AuthRefusal::Unauthorized(_) => 401,
            AuthRefusal::Forbidden(_) => 403,
            AuthRefusal::Unavailable(_) => 503,
        }
    }
}

/// What an [`Authenticator`] returns.
pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Identity, AuthRefusal>> + Send + 'a>>;

/// Decides who may join, before the WebSocket upgrade. Called on the connection's task, never
/// on the tick; a call that takes longer than [`crate::ServerConfig::auth_timeout`] is
/// dropped and the client gets `503`.
///
/// ```
/// use tickwire::auth::{AuthFuture, AuthRefusal, Authenticator, Handshake, Identity};
///
/// /// Lets in anyone who names themselves, except in room "staff".
/// struct ByName;
///
/// impl Authenticator for ByName {
///     fn authenticate<'a>(&'a self, handshake: &'a Handshake) -> AuthFuture<'a> {
///         Box::pin(async move {
///             let Some(name) = handshake.param("name") else {
///                 return Err(AuthRefusal::Unauthorized("give a name".into()));
///             };
///             if handshake.room == "staff" {
///                 return Err(AuthRefusal::Forbidden("staff only".into()));
///             }
///             Ok(Identity::new(name))
///         })
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// The identity of the client behind `handshake`, or why it may not join.
    fn authenticate<'a>(&'a self, handshake: &'a Handshake) -> AuthFuture<'a>;
}

/// What an [`Authenticator`] sees of a `/ws` request.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The query parameters the game will be handed (the token and resume token taken out).
    pub query: Vec<(String, String)>,
    /// The request's headers (`Authorization`, `Cookie`, `Origin`, `User-Agent`...).
    pub headers: HeaderMap,
    /// The client's address (the proxy's, behind a reverse proxy).
    pub peer: SocketAddr,
    /// The room asked for.
    pub room: String,
    /// The `token` query parameter, taken out of `query`.
    pub(crate) query_token: Option<String>,
}

impl Handshake {
    /// A handshake, as the server builds it (public for tests of an authenticator).
    pub fn new(
        query: Vec<(String, String)>,
        headers: HeaderMap,
        peer: SocketAddr,
        room: String,
        query_token: Option<String>,
    ) -> Handshake {
        Handshake { query, headers, peer, room, query_token }
    }

    /// The value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The value of cookie `name`, from the `Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        (self.headers.get_all(axum::http::header::COOKIE).iter())
            .filter_map(|value| value.to_str().ok())
            .flat_map(|line| line.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.trim_matches('"'))
    }

    /// The bearer token of the `Authorization` header.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    /// The client's token: `?token=`, else `Authorization: Bearer`, else the
    /// [`TOKEN_COOKIE`] cookie; `None` if none is given or it is empty.
    pub fn token(&self) -> Option<&str> {
        (self.query_token.as_deref())
            .or_else(|| self.bearer())
            .or_else(|| self.cookie(TOKEN_COOKIE))
            .filter(|token| !token.is_empty())
    }
}

/// What a second login of a user id that has a live session on this process does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DuplicateLogin {
    /// The new connection takes the session over (its player, as a resume would); the old
    /// one is closed with 4006 and the reason.
    #[default]
    Takeover,
    /// The new connection is refused with `409` before the upgrade.
    Refuse,
}

/// Checks what an authenticator returned; the error is logged, and the client gets `500`.
pub(crate) fn check_identity(identity: &Identity) -> Result<(), String> {
    let bytes = identity.user_id.len();
    if bytes == 0 || bytes > MAX_USER_ID_BYTES {
        return Err(format!("user id of {bytes} bytes is outside 1..={MAX_USER_ID_BYTES}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake(headers: &[(&'static str, &str)], token: Option<&str>) -> Handshake {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, value.parse().expect("header value"));
        }
        let peer = SocketAddr::from(([127, 0, 0, 1], 1));
        Handshake::new(Vec::new(), map, peer, "lobby".into(), token.map(str::to_owned))
    }

    #[test]
    fn the_token_comes_from_the_query_then_the_header_then_the_cookie() {
        let all = [("authorization", "Bearer b.b.b"), ("cookie", "x=1; tickwire_token=c.c.c")];
        assert_eq!(handshake(&all, Some("q.q.q")).token(), Some("q.q.q"));
        assert_eq!(handshake(&all, None).token(), Some("b.b.b"));
        assert_eq!(handshake(&all[1..], None).token(), Some("c.c.c"));
        assert_eq!(handshake(&[("authorization", "bearer  t ")], None).token(), Some("t"));
        assert_eq!(handshake(&[("authorization", "Basic abc")], None).token(), None);
        assert_eq!(handshake(&[("cookie", "tickwire_token=")], None).token(), None);
        assert_eq!(handshake(&[], None).token(), None);
    }
}
