//! A JSON Web Key Set fetched from a URL and cached: the keys a [`super::jwt::JwtVerifier`]
//! picks by a token's `kid`.
//!
//! The set is fetched on first use and again when a token names a `kid` it lacks (the issuer
//! rotated its keys), but at most once per [`Jwks::min_refresh`]: tokens with made-up `kid`s
//! cost a map lookup, not a request to the key server. Fetched with
//! [`crate::cluster::http_client`] (plain `http://`, bounded in time and size).

use super::AuthRefusal;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// Default shortest time between two fetches of the set: 30 s. A rotated key is picked up
/// within that, and a flood of unknown `kid`s costs the key server two requests a minute.
pub const DEFAULT_MIN_REFRESH: Duration = Duration::from_secs(30);

/// Most keys kept from one set; the rest are ignored. Real sets hold two or three.
pub const MAX_KEYS: usize = 64;

/// A key set at a URL, cached.
pub struct Jwks {
    url: String,
    min_refresh: Duration,
    /// A tokio mutex, held across the fetch: handshakes that need the set while it is being
    /// fetched wait for that one fetch instead of starting their own.
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched: Option<Instant>,
}

impl Jwks {
    /// The set at `url` (`http://`), fetched at most once per `min_refresh`.
    pub fn new(url: String, min_refresh: Duration) -> Jwks {
        Jwks { url, min_refresh, state: tokio::sync::Mutex::default() }
    }

    /// The shortest time between two fetches.
    pub fn min_refresh(&self) -> Duration {
        self.min_refresh
    }

    /// Fetches the set now (at startup, to show a bad URL at once); the error says why.
    pub async fn refresh(&self) -> Result<usize, String> {
        let mut state = self.state.lock().await;
        self.fetch(&mut state).await
    }

    /// The key `kid` names, fetching the set again if it is unknown and the last fetch is
    /// older than `min_refresh`. `401` for a key the set does not hold, `503` when the set
    /// cannot be fetched and the key is not cached.
    pub async fn key(&self, kid: &str) -> Result<(DecodingKey, Algorithm), AuthRefusal> {
        let mut state = self.state.lock().await;
        if let Some(found) = state.keys.get(kid) {
            return Ok(found.clone());
        }
        let due = state.fetched.is_none_or(|at| at.elapsed() >= self.min_refresh);
        if due && let Err(error) = self.fetch(&mut state).await {
            warn!(url = self.url, %error, "JWKS not fetched");
            if state.keys.is_empty() {
                let reason = "the key server cannot be reached";
                return Err(AuthRefusal::Unavailable(reason.into()));
            }
        }
        (state.keys.get(kid).cloned())
            .ok_or_else(|| AuthRefusal::Unauthorized("token's key id (kid) unknown".into()))
    }

    /// Fetches the set into `state`; the number of keys kept, or why not.
    async fn fetch(&self, state: &mut State) -> Result<usize, String> {
        state.fetched = Some(Instant::now());
        let (status, body) = crate::cluster::http_client::request("GET", &self.url, None).await?;
        if status != 200 {
            return Err(format!("GET {}: status {status}", self.url));
        }
        let keys = parse(&body)?;
        info!(url = self.url, keys = keys.len(), "JWKS fetched");
        state.keys = keys;
        Ok(state.keys.len())
    }
}

/// The signing keys of a JWKS document, by `kid`: keys without a `kid`, symmetric keys, keys
/// for encryption and keys that do not parse are skipped (one bad key does not hide the
/// others).
fn parse(body: &str) -> Result<HashMap<String, (DecodingKey, Algorithm)>, String> {
    #[derive(serde::Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_str(body).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = HashMap::new();
    for value in set.keys.into_iter().take(MAX_KEYS) {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            debug!("JWKS key skipped: not a key this server reads");
            continue;
        };
        let (Some(kid), Some(algorithm)) = (jwk.common.key_id.clone(), algorithm(&jwk)) else {
            continue;
        };
        match DecodingKey::from_jwk(&jwk) {
            Ok(key) => {
                keys.insert(kid, (key, algorithm));
            }
            Err(error) => debug!(kid, %error, "JWKS key skipped"),
        }
    }
    Ok(keys)
}

/// The signature algorithm of a public key: its `alg`, or the usual one for its type.
fn algorithm(jwk: &Jwk) -> Option<Algorithm> {
    let named = match jwk.common.key_algorithm {
        Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
        Some(KeyAlgorithm::RS384) => Some(Algorithm::RS384),
        Some(KeyAlgorithm::RS512) => Some(Algorithm::RS512),
        Some(KeyAlgorithm::PS256) => Some(Algorithm::PS256),
        Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
        Some(KeyAlgorithm::ES384) => Some(Algorithm::ES384),
        Some(KeyAlgorithm::EdDSA) => Some(Algorithm::EdDSA),
        Some(_) => return None, // symmetric, or for encryption
        None => None,
    };
    let usual = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        AlgorithmParameters::OctetKey(_) => return None, // a secret has no place in a JWKS
    };
    named.or(usual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_keeps_its_signing_keys_and_skips_the_rest() {
        let body = r#"{"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "a", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "oct", "kid": "secret", "k": "c2VzYW1l"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "XYZ", "kid": "odd"}
        ]}"#;
        let keys = parse(body).expect("parses");
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(keys["a"].1, Algorithm::EdDSA);
        assert!(parse("{}").is_err());
    }
}
