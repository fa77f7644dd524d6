//! The few plain-HTTP/1.1 requests the cluster side makes: to the Agones sidecar on
//! localhost, and the bots' `POST /matchmake`. One connection per request, bounded by a
//! timeout: they are seconds apart, so pooling would buy nothing.

use http_body_util::BodyExt as _;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// Longest one request may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// Largest response body read, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Sends `method url` with a JSON `body` (or none) and returns the status and the body.
/// `url` is `http://host:port/path`; the error is a sentence naming the URL.
pub async fn request(
    method: &str,
    url: &str,
    body: Option<String>,
) -> Result<(u16, String), String> {
    tokio::time::timeout(REQUEST_TIMEOUT, send(method, url, body))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())))
        .map_err(|error| format!("{method} {url}: {error}"))
}

async fn send(method: &str, url: &str, body: Option<String>) -> Result<(u16, String), String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// URLs".into());
    }
    let host = uri.host().ok_or("no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let tcp = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = uri.authority().map_or(host, |a| a.as_str());
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(body.unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let limited = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES);
    let bytes = limited.collect().await.map_err(|e| e.to_string())?.to_bytes();
    driver.abort();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}
