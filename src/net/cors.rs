//! CORS for the JSON routes a page on another site may call (`GET /rooms`,
//! `POST /matchmake`), under the same policy as the WebSocket's `Origin` check
//! ([`super::origin::check`], set with `--allowed-origin`): a page allowed to open a game
//! socket may also matchmake and list rooms, and no other.
//!
//! - A request without `Origin` (not a browser, or a same-origin `GET`) passes untouched.
//! - An allowed origin gets `Access-Control-Allow-Origin` with its own value (and
//!   `Vary: Origin`); a preflight `OPTIONS` from it gets `204` with the methods and headers
//!   the routes accept.
//! - A refused origin gets `403` with the reason and no CORS header, so the browser neither
//!   sends the real request nor lets the page read any answer.

use crate::context::Shared;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// How long a browser may cache a preflight's answer, in seconds.
pub const PREFLIGHT_MAX_AGE_SECONDS: u32 = 600;

/// The methods the CORS routes answer.
const METHODS: &str = "GET, POST, OPTIONS";

/// The request headers a page may send: a JSON body's `Content-Type`.
const HEADERS: &str = "content-type";

/// The middleware: checks the `Origin`, answers preflights, adds the headers.
pub async fn layer(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    if let Err(reason) = super::origin::check(request.headers(), &shared.config.allowed_origins) {
        tracing::debug!(%reason, path = request.uri().path(), "cross-origin request refused");
        return (StatusCode::FORBIDDEN, format!("{reason}\n")).into_response();
    }
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        allow(headers, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(METHODS));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(HEADERS));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECONDS.into());
        return response;
    }
    let mut response = next.run(request).await;
    allow(response.headers_mut(), origin);
    response
}

fn allow(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}
