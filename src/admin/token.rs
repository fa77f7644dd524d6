//! The admin token: read from a file, compared in constant time with the
//! `Authorization: Bearer` header of every admin API request.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Shortest admin token accepted, in bytes: 16 random bytes written as hex are 32, and a
/// short token is guessable over the network.
pub const MIN_ADMIN_TOKEN_BYTES: usize = 16;

/// Why an admin token file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read.
    #[error("--admin-token-file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The token is shorter than [`MIN_ADMIN_TOKEN_BYTES`].
    #[error(
        "--admin-token-file {path}: the token has {bytes} bytes, at least {MIN_ADMIN_TOKEN_BYTES} are needed"
    )]
    TooShort {
        /// The file.
        path: String,
        /// Its token's length.
        bytes: usize,
    },
}

/// The operator's bearer token. Its `Debug` does not show it.
#[derive(Clone)]
pub struct AdminToken(Arc<str>);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

impl AdminToken {
    /// A token from its text; `Err` if it is shorter than [`MIN_ADMIN_TOKEN_BYTES`].
    pub fn new(token: &str) -> Result<AdminToken, TokenError> {
        if token.len() < MIN_ADMIN_TOKEN_BYTES {
            return Err(TokenError::TooShort { path: String::new(), bytes: token.len() });
        }
        Ok(AdminToken(token.into()))
    }

    /// The token in `path`: its first line, without the line break.
    pub fn from_file(path: &Path) -> Result<AdminToken, TokenError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| TokenError::Read { path: shown.clone(), source })?;
        let token = text.lines().next().unwrap_or("").trim();
        AdminToken::new(token).map_err(|error| match error {
            TokenError::TooShort { bytes, .. } => TokenError::TooShort { path: shown, bytes },
            other => other,
        })
    }

    /// Whether `header` (an `Authorization` value) is `Bearer` and this token. The token is
    /// compared in constant time, so the time taken tells nothing of how much of it matched.
    pub fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        let Some(given) = header.and_then(|v| v.to_str().ok()) else { return false };
        let Some(given) = given.strip_prefix("Bearer ") else { return false };
        bool::from(given.trim().as_bytes().ct_eq(self.0.as_bytes()))
    }
}

/// The middleware in front of every admin API route: `401` with `WWW-Authenticate: Bearer`
/// unless the request carries the token.
pub async fn require(State(token): State<AdminToken>, request: Request, next: Next) -> Response {
    if token.accepts(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    let headers = [(header::WWW_AUTHENTICATE, "Bearer realm=\"tickwire admin\"")];
    let reason = "admin API: send the admin token as `Authorization: Bearer TOKEN`\n";
    (StatusCode::UNAUTHORIZED, headers, reason).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = AdminToken::new("0123456789abcdef0123").expect("long enough");
        let accepts =
            |value: &str| token.accepts(Some(&HeaderValue::from_str(value).expect("a header")));
        assert!(accepts("Bearer 0123456789abcdef0123"));
        assert!(!accepts("Bearer 0123456789abcdef012"));
        assert!(!accepts("Bearer 0123456789abcdef01234"));
        assert!(!accepts("Basic 0123456789abcdef0123"));
        assert!(!accepts("0123456789abcdef0123"));
        assert!(!token.accepts(None));
        assert!(matches!(AdminToken::new("short"), Err(TokenError::TooShort { bytes: 5, .. })));
        assert_eq!(format!("{token:?}"), "AdminToken(***)");
    }
}
