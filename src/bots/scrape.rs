//! Reads the server's `/metrics` page: a plain HTTP/1.0 GET and a small parser of the
//! Prometheus text format, enough for counters, gauges, labelled families and histograms.
//!
//! A metric the reader needs and cannot find is a [`MissingMetric`], never a silent 0:
//! [`fetch`] refuses a page that lacks any of [`names::UNLABELLED`], and every reader of one
//! value returns a `Result`.
//!
//! The load tester scrapes a few times per run, so this is a blocking `std` socket with
//! timeouts, run on the blocking pool; it does not need an HTTP client dependency.

use crate::metrics::names;
use rustls::pki_types::ServerName;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// Most bytes read from `/metrics` (the page is a few KiB).
const MAX_PAGE_BYTES: u64 = 1 << 20;
/// Connect, read and write timeout of one scrape.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(3);

/// A metric is not on the page: the server is not the one these bots were built with, or
/// the URL is not its `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metric {sample} is missing from the scrape")]
pub struct MissingMetric {
    /// The sample looked for, suffix included (`NAME_total`), or a family's name.
    pub sample: String,
}

/// One parsed sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Sample name, type suffix included (`NAME_total` for a counter).
    pub name: String,
    /// Labels in order of appearance.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// A parsed `/metrics` page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    /// Every sample line.
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parses the text format; comment and malformed lines are skipped.
    pub fn parse(text: &str) -> Scrape {
        Scrape { samples: text.lines().filter_map(parse_line).collect() }
    }

    /// The value of an unlabelled sample, by its full sample name.
    pub fn value(&self, sample: &str) -> Result<f64, MissingMetric> {
        self.samples
            .iter()
            .find(|s| s.name == sample && s.labels.is_empty())
            .map(|s| s.value)
            .ok_or_else(|| MissingMetric { sample: sample.to_owned() })
    }

    /// An unlabelled counter, by its family name (one of [`names`]): the `NAME_total`
    /// sample.
    pub fn counter(&self, name: &str) -> Result<f64, MissingMetric> {
        self.value(&format!("{name}_total"))
    }

    /// A gauge, by its name (the sample has no suffix).
    pub fn gauge(&self, name: &str) -> Result<f64, MissingMetric> {
        self.value(name)
    }

    /// A histogram's sum of observations: the `NAME_sum` sample.
    pub fn histogram_sum(&self, name: &str) -> Result<f64, MissingMetric> {
        self.value(&format!("{name}_sum"))
    }

    /// Checks that each family has at least one sample on the page, whatever its type.
    pub fn require(&self, families: &[&str]) -> Result<(), MissingMetric> {
        let of = |family: &str, sample: &str| {
            sample.strip_prefix(family).is_some_and(|suffix| {
                matches!(suffix, "" | "_total" | "_bucket" | "_sum" | "_count")
            })
        };
        match families.iter().find(|f| !self.samples.iter().any(|s| of(f, &s.name))) {
            Some(family) => Err(MissingMetric { sample: (*family).to_owned() }),
            None => Ok(()),
        }
    }

    /// A labelled counter family by one label: `(label value, value)` from its `NAME_total`
    /// samples, in page order. Empty, not an error, when the family has no sample: a family
    /// shows none until its first label value is counted (no input dropped yet, say).
    pub fn counters_by_label(&self, name: &str, label: &str) -> Vec<(String, f64)> {
        self.by_label(&format!("{name}_total"), label)
    }

    /// Values of a family by one label: `(label value, value)`, in page order.
    pub fn by_label(&self, name: &str, label: &str) -> Vec<(String, f64)> {
        let with_label = |s: &Sample| {
            let (_, v) = s.labels.iter().find(|(k, _)| k == label)?;
            Some((v.clone(), s.value))
        };
        self.samples.iter().filter(|s| s.name == name).filter_map(with_label).collect()
    }

    /// A histogram's cumulative buckets `(le, count)` from `NAME_bucket` lines, ascending.
    pub fn cumulative_buckets(&self, name: &str) -> Result<Vec<(f64, f64)>, MissingMetric> {
        let le = |v: &str| if v == "+Inf" { Some(f64::INFINITY) } else { v.parse().ok() };
        let sample = format!("{name}_bucket");
        let mut buckets: Vec<(f64, f64)> = self
            .by_label(&sample, "le")
            .into_iter()
            .filter_map(|(bound, count)| Some((le(&bound)?, count)))
            .collect();
        if buckets.is_empty() {
            return Err(MissingMetric { sample });
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(buckets)
    }
}

/// Per-bucket counts of a histogram between two scrapes: `(upper bound, count)`.
pub fn bucket_counts_between(
    start: &Scrape,
    end: &Scrape,
    name: &str,
) -> Result<Vec<(f64, f64)>, MissingMetric> {
    let before = start.cumulative_buckets(name)?;
    let mut previous = 0.0;
    let counts = end
        .cumulative_buckets(name)?
        .into_iter()
        .map(|(le, cumulative)| {
            let earlier = before.iter().find(|(b, _)| *b == le).map_or(0.0, |&(_, c)| c);
            let in_window = (cumulative - earlier).max(0.0);
            let count = (in_window - previous).max(0.0);
            previous = in_window;
            (le, count)
        })
        .collect();
    Ok(counts)
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (head, value) = line.rsplit_once(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    let (name, labels) = match head.split_once('{') {
        None => (head.trim(), Vec::new()),
        Some((name, rest)) => (name.trim(), parse_labels(rest.strip_suffix('}')?)?),
    };
    Some(Sample { name: name.to_owned(), labels, value })
}

/// `a="x",b="y"`; values may hold escaped quotes and commas.
fn parse_labels(mut text: &str) -> Option<Vec<(String, String)>> {
    let mut labels = Vec::new();
    // Each pass consumes one label, so the loop is bounded by the text's length.
    for _ in 0..=text.len() {
        text = text.trim_start_matches([',', ' ']);
        if text.is_empty() {
            return Some(labels);
        }
        let (key, rest) = text.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((key.trim().to_owned(), value));
        text = &rest[end + 1..];
    }
    None
}

/// `http://HOST:PORT/metrics` for a `ws://HOST:PORT/...` URL (`https://` for `wss://`).
pub fn metrics_url_for(ws_url: &str) -> Result<String, String> {
    let (scheme, rest) = match ws_url.split_once("://") {
        Some(("ws", rest)) => ("http", rest),
        Some(("wss", rest)) => ("https", rest),
        _ => return Err(format!("cannot derive a metrics URL from {ws_url}: not ws:// or wss://")),
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    Ok(format!("{scheme}://{authority}/metrics"))
}

/// Fetches and parses a `/metrics` page (blocking, at most 3 s per connect, write or read);
/// a page without one of [`names::UNLABELLED`] is an error naming it (a [`MissingMetric`]).
/// Plain `http://` only; [`fetch_with`] reads `https://` too.
pub fn fetch(url: &str) -> Result<Scrape, String> {
    fetch_with(url, None)
}

/// As [`fetch`], reading `https://` pages with the TLS client configuration `tls` (the one
/// the bots' `wss://` connections use).
pub fn fetch_with(url: &str, tls: Option<&Arc<rustls::ClientConfig>>) -> Result<Scrape, String> {
    let (rest, tls) = match (url.split_once("://"), tls) {
        (Some(("http", rest)), _) => (rest, None),
        (Some(("https", rest)), Some(tls)) => (rest, Some(tls)),
        _ => {
            return Err(format!(
                "{url}: the bots scrape http://, or https:// with --ca-cert; \
                 pass --metrics-url http://..."
            ));
        }
    };
    let (authority, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let port = if tls.is_some() { 443 } else { 80 };
    let target =
        if authority.contains(':') { authority.to_owned() } else { format!("{authority}:{port}") };
    let stream = connect(&target).map_err(|e| format!("{url}: {e}"))?;
    stream.set_read_timeout(Some(SCRAPE_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(SCRAPE_TIMEOUT)).map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    let response = match tls {
        None => exchange(stream, &request),
        Some(config) => {
            let host = authority.rsplit_once(':').map_or(authority, |(host, _)| host);
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .map_err(|e| format!("{url}: {e}"))?;
            let session = rustls::ClientConnection::new(config.clone(), name)
                .map_err(|e| format!("{url}: {e}"))?;
            exchange(rustls::StreamOwned::new(session, stream), &request)
        }
    }
    .map_err(|e| format!("{url}: {e}"))?;
    let body =
        response_body(&String::from_utf8_lossy(&response)).map_err(|e| format!("{url}: {e}"))?;
    let scrape = Scrape::parse(&body);
    scrape.require(names::UNLABELLED).map_err(|e| format!("{url}: {e}"))?;
    Ok(scrape)
}

/// A TCP connection to the first of `target`'s addresses that answers (`localhost` may
/// resolve to `::1` before `127.0.0.1`).
fn connect(target: &str) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(ErrorKind::NotFound, "no address");
    for addr in target.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, SCRAPE_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// Writes `request` and reads the response until the server closes (at most
/// [`MAX_PAGE_BYTES`]).
fn exchange(mut stream: impl Read + Write, request: &str) -> std::io::Result<Vec<u8>> {
    stream.write_all(request.as_bytes())?;
    stream.flush()?;
    let mut response = Vec::new();
    match stream.take(MAX_PAGE_BYTES).read_to_end(&mut response) {
        Ok(_) => Ok(response),
        // The server may close a TLS connection without a close_notify once it has written
        // the HTTP/1.0 response: keep what arrived, as over plain TCP (which cannot tell a
        // cut response from a whole one either).
        Err(e) if e.kind() == ErrorKind::UnexpectedEof && !response.is_empty() => Ok(response),
        Err(e) => Err(e),
    }
}

/// [`fetch`] on tokio's blocking pool.
pub async fn fetch_async(url: &str) -> Result<Scrape, String> {
    fetch_async_with(url, None).await
}

/// [`fetch_with`] on tokio's blocking pool.
pub async fn fetch_async_with(
    url: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Scrape, String> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || fetch_with(&url, tls.as_ref()))
        .await
        .map_err(|e| e.to_string())?
}

/// The body of a `200` HTTP response, de-chunked if it came chunked.
fn response_body(response: &str) -> Result<String, String> {
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("status line {status:?}"));
    }
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if !chunked {
        return Ok(body.to_owned());
    }
    let mut out = String::new();
    let mut rest = body;
    for _ in 0..=body.len() {
        let (size, after) = rest.split_once("\r\n").ok_or("truncated chunk")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or_default().trim(), 16)
            .map_err(|_| "bad chunk size")?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(after.get(..size).ok_or("truncated chunk")?);
        rest = after.get(size..).ok_or("truncated chunk")?.trim_start_matches("\r\n");
    }
    Err("too many chunks".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::metrics::names::{
        CLIENTS, DISCONNECTS, INPUTS_DROPPED, PROCESS_CPU_SECONDS, REASON, TICK_DURATION_SECONDS,
        TICKS, UNLABELLED,
    };

    /// A page as the server writes it (a few of its lines).
    fn page() -> String {
        format!(
            "# HELP {TICKS} Ticks run.\n\
            # TYPE {TICKS} counter\n\
            {TICKS}_total 46\n\
            {TICK_DURATION_SECONDS}_sum 0.0029\n\
            {TICK_DURATION_SECONDS}_bucket{{le=\"0.00005\"}} 13\n\
            {TICK_DURATION_SECONDS}_bucket{{le=\"0.0001\"}} 43\n\
            {TICK_DURATION_SECONDS}_bucket{{le=\"+Inf\"}} 46\n\
            {DISCONNECTS}_total{{{REASON}=\"too \\\"slow\\\", really\"}} 2\n\
            {DISCONNECTS}_total{{{REASON}=\"connection_lost\"}} 1\n\
            {PROCESS_CPU_SECONDS}_total 1.5\n\
            # EOF\n"
        )
    }

    #[test]
    fn parses_counters_families_and_histograms() {
        let scrape = Scrape::parse(&page());
        assert_eq!(scrape.counter(TICKS), Ok(46.0));
        assert_eq!(scrape.counter(PROCESS_CPU_SECONDS), Ok(1.5));
        assert_eq!(scrape.histogram_sum(TICK_DURATION_SECONDS), Ok(0.0029));
        assert_eq!(
            scrape.counters_by_label(DISCONNECTS, REASON),
            vec![("too \"slow\", really".to_owned(), 2.0), ("connection_lost".to_owned(), 1.0)]
        );
        assert_eq!(
            scrape.cumulative_buckets(TICK_DURATION_SECONDS),
            Ok(vec![(0.00005, 13.0), (0.0001, 43.0), (f64::INFINITY, 46.0)])
        );
    }

    #[test]
    fn a_missing_metric_is_an_error_naming_it_not_zero() {
        let scrape = Scrape::parse(&page());
        let missing = |sample: String| Some(MissingMetric { sample });
        assert_eq!(scrape.gauge(CLIENTS).err(), missing(CLIENTS.to_owned()));
        assert_eq!(scrape.counter(CLIENTS).err(), missing(format!("{CLIENTS}_total")));
        let buckets = scrape.cumulative_buckets(CLIENTS);
        assert_eq!(buckets.err(), missing(format!("{CLIENTS}_bucket")));
        assert_eq!(scrape.require(&[TICKS, TICK_DURATION_SECONDS, DISCONNECTS]), Ok(()));
        assert_eq!(scrape.require(&[TICKS, CLIENTS]).err(), missing(CLIENTS.to_owned()));
        assert!(scrape.counters_by_label(INPUTS_DROPPED, REASON).is_empty(), "none counted");
    }

    #[test]
    fn a_fresh_servers_page_has_every_unlabelled_metric() {
        let scrape = Scrape::parse(&crate::metrics::Metrics::new().render());
        assert_eq!(scrape.require(UNLABELLED), Ok(()));
    }

    #[test]
    fn fetch_refuses_a_page_without_a_metric_and_names_it() {
        let page = crate::metrics::Metrics::new().render();
        let without_clients: String = page
            .lines()
            .filter(|l| !l.starts_with(&format!("{CLIENTS} ")))
            .map(|l| format!("{l}\n"))
            .collect();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/metrics", listener.local_addr().expect("address"));
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut request = [0; 1024];
            let _ = stream.read(&mut request);
            let response = format!("HTTP/1.0 200 OK\r\n\r\n{without_clients}");
            stream.write_all(response.as_bytes()).expect("write");
        });
        let error = fetch(&url).expect_err("the page lacks a metric");
        assert!(
            error.ends_with(&format!("metric {CLIENTS} is missing from the scrape")),
            "{error}"
        );
        server.join().expect("server thread");
    }

    #[test]
    fn bucket_counts_between_two_scrapes() {
        let start =
            Scrape::parse("h_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 3\nh_bucket{le=\"+Inf\"} 3\n");
        let end =
            Scrape::parse("h_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 9\nh_bucket{le=\"+Inf\"} 10\n");
        assert_eq!(
            bucket_counts_between(&start, &end, "h"),
            Ok(vec![(1.0, 1.0), (2.0, 5.0), (f64::INFINITY, 1.0)])
        );
    }

    #[test]
    fn skips_malformed_lines() {
        let scrape = Scrape::parse("a 1\nb{x=\"1\" 2\nc notanumber\nd{x=\"y\"} 3\n");
        assert_eq!(scrape.samples.len(), 2);
    }

    #[test]
    fn bodies_plain_and_chunked() {
        let plain = "HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\na 1\n";
        assert_eq!(response_body(plain).as_deref(), Ok("a 1\n"));
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na 1\n\r\n2\r\nb \r\n0\r\n\r\n";
        assert_eq!(response_body(chunked).as_deref(), Ok("a 1\nb "));
        assert!(response_body("HTTP/1.1 404 Not Found\r\n\r\n").is_err());
    }

    #[test]
    fn metrics_url_from_the_websocket_url() {
        assert_eq!(
            metrics_url_for("ws://127.0.0.1:8080/ws?name=a").as_deref(),
            Ok("http://127.0.0.1:8080/metrics")
        );
        assert_eq!(metrics_url_for("ws://host/ws").as_deref(), Ok("http://host/metrics"));
        assert_eq!(metrics_url_for("wss://host:1/ws").as_deref(), Ok("https://host:1/metrics"));
        assert!(metrics_url_for("http://host/ws").is_err());
        assert!(fetch("https://host/metrics").is_err_and(|e| e.contains("--metrics-url")));
    }
}
