//! Which web pages may open a game socket: the `Origin` check of the `/ws` upgrade.
//!
//! A browser sends the page's origin with every WebSocket handshake and, unlike for `fetch`,
//! enforces no same-origin rule of its own: without this check a page on any site could open
//! sockets to the server from its visitors' browsers. Allowed are:
//!
//! - requests without an `Origin` header: not a browser (bots, native clients, `curl`), which
//!   could send any `Origin` they like, so refusing them would protect nothing;
//! - the server's own pages: the origin's `host[:port]` equals the request's `Host` header;
//! - pages on `localhost`, `*.localhost`, `127.0.0.1` or `[::1]`, on any port and over `http`
//!   or `https` (development servers; a remote site cannot serve such a page);
//! - every origin given with `--allowed-origin` (exact `scheme://host[:port]`, or `*` for any).
//!
//! Anything else, including the opaque origin `null` of sandboxed and `file://` pages unless
//! `null` is listed, is refused with a reason. Pure: no I/O, no clock.

use axum::http::{HeaderMap, Uri, header};

/// A parsed origin: lowercase scheme and host, and the port (the scheme's default if absent).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

/// Checks a handshake's `Origin` against its `Host` and the allowed list; `Err` holds the
/// reason for the `403`.
pub fn check(headers: &HeaderMap, allowed: &[String]) -> Result<(), String> {
    let Some(value) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let text = value.to_str().map_err(|_| "the Origin header is not ASCII".to_owned())?;
    if allowed.iter().any(|entry| entry == "*" || entry.eq_ignore_ascii_case(text)) {
        return Ok(());
    }
    let hint = format!("start the server with --allowed-origin {text} to allow it");
    if text == "null" {
        return Err(format!(
            "opaque origin null (a sandboxed or file:// page) is not allowed; {hint}"
        ));
    }
    let origin = parse(text).map_err(|why| format!("malformed Origin {text:?}: {why}"))?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if is_local(&origin) || host.is_some_and(|host| same_host(&origin, host)) {
        return Ok(());
    }
    if allowed.iter().filter_map(|entry| parse(entry).ok()).any(|entry| entry == origin) {
        return Ok(());
    }
    let host = host.unwrap_or("no Host header");
    Err(format!(
        "origin {text} is not allowed (this server accepts pages from {host} and localhost); {hint}"
    ))
}

/// Checks one `--allowed-origin` value at startup; the message says what is wrong.
pub fn validate(entry: &str) -> Result<(), String> {
    if entry == "*" || entry == "null" {
        return Ok(());
    }
    // A browser sends an origin in ASCII (an international name in its `xn--` form), and a
    // non-ASCII `Origin` is refused: such an entry would be accepted here and never match.
    if !entry.is_ascii() {
        return Err(format!(
            "--allowed-origin {entry:?}: not ASCII (write an international domain name in its xn-- form)"
        ));
    }
    parse(entry).map(drop).map_err(|why| format!("--allowed-origin {entry:?}: {why}"))
}

/// Parses `scheme://host[:port]` (no path, no user info), as browsers serialize an origin.
fn parse(text: &str) -> Result<Origin, String> {
    let uri: Uri = text.parse().map_err(|_| "not scheme://host[:port]".to_owned())?;
    let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
        return Err("not scheme://host[:port]".into());
    };
    if uri.path_and_query().is_some_and(|p| p.as_str() != "/") || text.contains('@') {
        return Err("an origin has no path, query or user info".into());
    }
    let scheme = scheme.to_ascii_lowercase();
    let port = match uri.port_u16() {
        Some(port) => port,
        None => {
            default_port(&scheme).ok_or_else(|| format!("no port and no default for {scheme}"))?
        }
    };
    Ok(Origin { scheme, host: host.to_ascii_lowercase(), port })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// A page served from this machine, on any port.
fn is_local(origin: &Origin) -> bool {
    let host = origin.host.as_str();
    matches!(origin.scheme.as_str(), "http" | "https")
        && (matches!(host, "localhost" | "127.0.0.1" | "[::1]") || host.ends_with(".localhost"))
}

/// The origin names the host and port the request was sent to (its `Host` header, whose port
/// defaults to the origin scheme's: a page on `https://game.example` behind a TLS proxy that
/// forwards `Host: game.example` is the server's own).
fn same_host(origin: &Origin, host: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let (name, port) = match host.rsplit_once(':') {
        // `[::1]` alone has colons but no port; `[::1]:8080` ends its address with `]`.
        Some((name, port)) if !name.contains(':') || name.ends_with(']') => {
            (name.to_owned(), port.parse::<u16>().ok())
        }
        _ => (host.clone(), None),
    };
    let port = port.or_else(|| default_port(&origin.scheme));
    name == origin.host && port == Some(origin.port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [(header::ORIGIN, origin), (header::HOST, host)] {
            if let Some(value) = value {
                headers.insert(name, HeaderValue::from_str(value).expect("ascii"));
            }
        }
        headers
    }

    fn allowed(origin: &str, host: &str, list: &[&str]) -> bool {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        check(&headers(Some(origin), Some(host)), &list).is_ok()
    }

    #[test]
    fn no_origin_is_not_a_browser_and_is_allowed() {
        assert!(check(&headers(None, Some("game.example")), &[]).is_ok());
        assert!(check(&headers(None, None), &[]).is_ok());
    }

    #[test]
    fn the_servers_own_host_is_allowed() {
        assert!(allowed("http://game.example:8080", "game.example:8080", &[]));
        assert!(allowed("https://Game.Example", "game.example", &[]));
        assert!(allowed("https://game.example", "game.example:443", &[]));
        assert!(allowed("http://10.0.0.5:8080", "10.0.0.5:8080", &[]));
        assert!(allowed("http://[2001:db8::1]:8080", "[2001:db8::1]:8080", &[]));
    }

    #[test]
    fn another_port_or_host_is_another_origin() {
        assert!(!allowed("http://game.example:9090", "game.example:8080", &[]));
        assert!(!allowed("https://game.example", "game.example:80", &[]));
        assert!(!allowed("http://evil.example:8080", "game.example:8080", &[]));
        assert!(!allowed("http://game.example.evil.example", "game.example", &[]));
    }

    #[test]
    fn localhost_pages_are_allowed_on_any_port() {
        for origin in ["http://localhost:3000", "https://127.0.0.1", "http://[::1]:5173"] {
            assert!(allowed(origin, "game.example:8080", &[]), "{origin}");
        }
        assert!(allowed("http://app.localhost:3000", "game.example", &[]));
        assert!(!allowed("http://localhost.evil.example", "game.example", &[]));
    }

    #[test]
    fn listed_origins_are_allowed_exactly() {
        let list = ["https://play.example", "http://cdn.example:8000"];
        assert!(allowed("https://play.example", "game.example", &list));
        assert!(allowed("https://PLAY.example:443", "game.example", &list));
        assert!(allowed("http://cdn.example:8000", "game.example", &list));
        assert!(!allowed("http://play.example", "game.example", &list));
        assert!(!allowed("http://cdn.example", "game.example", &list));
        assert!(allowed("https://anything.example", "game.example", &["*"]));
    }

    #[test]
    fn refusals_say_why_and_how_to_allow() {
        let error = check(&headers(Some("https://evil.example"), Some("game.example")), &[])
            .expect_err("refused");
        assert!(error.contains("https://evil.example is not allowed"), "{error}");
        assert!(error.contains("--allowed-origin https://evil.example"), "{error}");
        let error = check(&headers(Some("null"), Some("game.example")), &[]).expect_err("null");
        assert!(error.contains("opaque origin null"), "{error}");
        assert!(allowed("null", "game.example", &["null"]));
        let error =
            check(&headers(Some("not an origin"), Some("game.example")), &[]).expect_err("bad");
        assert!(error.contains("malformed Origin"), "{error}");
    }

    #[test]
    fn validate_accepts_origins_and_rejects_the_rest() {
        for entry in ["*", "null", "https://play.example", "http://[::1]:8080"] {
            assert!(validate(entry).is_ok(), "{entry}");
        }
        // Found by the handshake_query fuzz target: accepted, yet never matched.
        for entry in ["https://jeu.café", "https://p#iy.ex:80l\u{fffd}"] {
            assert!(validate(entry).is_err(), "{entry}");
        }
        for entry in ["play.example", "https://play.example/game", "ftp://x.example", ""] {
            assert!(validate(entry).is_err(), "{entry}");
        }
    }
}
