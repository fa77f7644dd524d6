//! What a client controls in the `/ws` handshake before the upgrade: the query string
//! (`join_params` and its limits), the `Origin` and `Host` headers (the origin policy, and
//! `--allowed-origin` values), and the player name the arena takes from the query.
//!
//! Input: `query \n origin \n host \n allowed origin`, each part optional.
#![no_main]

use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use tickwire::arena::{MAX_NAME_CHARS, sanitize_name};
use tickwire::net::http::{MAX_QUERY_PARAM_BYTES, MAX_QUERY_PARAMS, join_params};
use tickwire::net::origin;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\n');
    let (query, origin, host, allowed) =
        (parts.next().unwrap_or(""), parts.next(), parts.next(), parts.next());

    if let Ok(params) = join_params(query) {
        assert!(params.len() <= MAX_QUERY_PARAMS);
        for (key, value) in &params {
            assert!(key.len() <= MAX_QUERY_PARAM_BYTES && value.len() <= MAX_QUERY_PARAM_BYTES);
            let name = sanitize_name(value);
            assert!(name.chars().count() <= MAX_NAME_CHARS);
            assert!(!name.chars().any(char::is_control));
            assert_eq!(name, name.trim());
        }
    }
    let name = sanitize_name(&text);
    assert!(name.chars().count() <= MAX_NAME_CHARS);

    let mut headers = HeaderMap::new();
    for (name, value) in [(header::ORIGIN, origin), (header::HOST, host)] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
    }
    // Raw bytes too: a header value need not be ASCII.
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut raw = HeaderMap::new();
        raw.insert(header::ORIGIN, value.clone());
        raw.insert(header::HOST, value);
        let _ = origin::check(&raw, &[]);
    }
    let allowed: Vec<String> = allowed.into_iter().map(str::to_owned).collect();
    let _ = origin::check(&headers, &[]);
    let _ = origin::check(&headers, &allowed);
    for entry in &allowed {
        if origin::validate(entry).is_ok() {
            // A valid `--allowed-origin` value lets its own origin in, whatever the Host.
            let mut own = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(entry) {
                own.insert(header::ORIGIN, value);
                assert!(origin::check(&own, &allowed).is_ok(), "{entry:?} refused");
            }
        }
    }
});
