//! The built-in [`Authenticator`]: a JSON Web Token, checked with `jsonwebtoken`.
//!
//! The key is a shared secret (HS256), a public key (RS256, ES256 or EdDSA, PEM) or a JWKS
//! URL ([`super::jwks`]). The signature, `exp` (required), `nbf`, and, when configured,
//! `aud` and `iss` are checked with [`JwtConfig::leeway`] of clock skew. The user id is
//! `sub` (required); the claims are the whole payload. The token is never logged.

use super::jwks::Jwks;
use super::{AuthFuture, AuthRefusal, Authenticator, Handshake, Identity, MAX_TOKEN_BYTES};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::path::Path;
use std::time::Duration;

/// Default clock skew allowed on `exp` and `nbf`: 30 s covers servers and token issuers whose
/// clocks are NTP-synchronised, and a token outlives its expiry by at most that much.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Where the verifying key comes from.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// An HS256 shared secret (the bytes of `--jwt-secret-file`, a trailing newline dropped).
    Secret(Vec<u8>),
    /// A public key in PEM (`--jwt-public-key-file`): RSA (RS256), P-256 (ES256) or Ed25519
    /// (EdDSA), told apart by the key itself.
    PublicKeyPem(Vec<u8>),
    /// A JWKS URL (`--jwks-url`, `http://`), its keys picked by the token's `kid`.
    JwksUrl(String),
}

/// What [`JwtVerifier`] checks.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The verifying key.
    pub key: JwtKey,
    /// The `aud` a token must name (`--jwt-audience`); `None`: `aud` is not checked.
    pub audience: Option<String>,
    /// The `iss` a token must carry (`--jwt-issuer`); `None`: `iss` is not checked.
    pub issuer: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`. Default [`DEFAULT_LEEWAY`] (30 s).
    pub leeway: Duration,
    /// Shortest time between two fetches of the JWKS. Default
    /// [`super::jwks::DEFAULT_MIN_REFRESH`] (30 s).
    pub jwks_min_refresh: Duration,
}

impl JwtConfig {
    /// A configuration for `key` with no audience or issuer and the default limits.
    pub fn new(key: JwtKey) -> JwtConfig {
        JwtConfig {
            key,
            audience: None,
            issuer: None,
            leeway: DEFAULT_LEEWAY,
            jwks_min_refresh: super::jwks::DEFAULT_MIN_REFRESH,
        }
    }
}

/// Why a [`JwtVerifier`] cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum JwtSetupError {
    /// A key file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The secret is empty.
    #[error("the JWT secret is empty")]
    EmptySecret,
    /// The PEM holds no RSA, P-256 or Ed25519 public key.
    #[error("the public key is not an RSA, EC P-256 or Ed25519 public key in PEM")]
    PublicKey,
    /// The JWKS URL is not `http://host[:port]/path`.
    #[error("JWKS URL {0}: only http:// URLs are fetched")]
    JwksUrl(String),
}

/// Reads a key file; a secret loses one trailing newline (what `echo` and editors add).
pub fn read_key_file(path: &Path) -> Result<Vec<u8>, JwtSetupError> {
    let read = |source| JwtSetupError::Read { path: path.display().to_string(), source };
    let mut bytes = std::fs::read(path).map_err(read)?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Ok(bytes)
}

/// How a token's key is found.
enum Keys {
    /// One key, one algorithm.
    Fixed(DecodingKey, Algorithm),
    /// By `kid`, from a JWKS.
    Jwks(Jwks),
}

/// Checks JSON Web Tokens: the built-in [`Authenticator`] behind the `--jwt-*` flags.
pub struct JwtVerifier {
    keys: Keys,
    config: JwtConfig,
}

impl JwtVerifier {
    /// A verifier for `config`; fails on a key it cannot use.
    pub fn new(config: JwtConfig) -> Result<JwtVerifier, JwtSetupError> {
        let keys = match &config.key {
            JwtKey::Secret(secret) if secret.is_empty() => return Err(JwtSetupError::EmptySecret),
            JwtKey::Secret(secret) => {
                Keys::Fixed(DecodingKey::from_secret(secret), Algorithm::HS256)
            }
            JwtKey::PublicKeyPem(pem) => {
                let (key, algorithm) = public_key(pem).ok_or(JwtSetupError::PublicKey)?;
                Keys::Fixed(key, algorithm)
            }
            JwtKey::JwksUrl(url) => {
                if !url.starts_with("http://") || url.parse::<hyper::Uri>().is_err() {
                    return Err(JwtSetupError::JwksUrl(url.clone()));
                }
                Keys::Jwks(Jwks::new(url.clone(), config.jwks_min_refresh))
            }
        };
        Ok(JwtVerifier { keys, config })
    }

    /// The JWKS, if the keys come from one (to fetch it at startup).
    pub fn jwks(&self) -> Option<&Jwks> {
        match &self.keys {
            Keys::Jwks(jwks) => Some(jwks),
            Keys::Fixed(..) => None,
        }
    }

    /// The identity `token` proves, or why not.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthRefusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(unauthorized(format!("token longer than {MAX_TOKEN_BYTES} bytes")));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| refusal(e.kind()))?;
        let (key, algorithm) = match &self.keys {
            Keys::Fixed(key, algorithm) => (key.clone(), *algorithm),
            Keys::Jwks(jwks) => {
                let kid = header.kid.as_deref().ok_or_else(|| unauthorized("token has no kid"))?;
                jwks.key(kid).await?
            }
        };
        let validation = self.validation(algorithm);
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| refusal(e.kind()))?;
        let user_id = match data.claims.get("sub") {
            Some(serde_json::Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err(unauthorized("token's sub is not a non-empty string")),
        };
        Ok(Identity { user_id, claims: data.claims })
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.config.issuer {
            validation.set_issuer(&[issuer]);
        }
        validation
    }
}

impl Authenticator for JwtVerifier {
    fn authenticate<'a>(&'a self, handshake: &'a Handshake) -> AuthFuture<'a> {
        Box::pin(async move {
            let token = handshake.token().ok_or_else(|| {
                unauthorized(
                    "a token is required: ?token=, Authorization: Bearer, or cookie tickwire_token",
                )
            })?;
            self.verify(token).await
        })
    }
}

/// `rsaEncryption` (1.2.840.113549.1.1.1), the OID of an RSA public key.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// `id-ecPublicKey` (1.2.840.10045.2.1).
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `prime256v1` (1.2.840.10045.3.1.7), the curve of ES256, as a DER OID (tag and length).
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `id-Ed25519` (1.3.101.112).
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// The public key of a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) and its algorithm: RSA
/// (RS256), EC P-256 (ES256) or Ed25519 (EdDSA), told apart by the key's algorithm OID.
///
/// Read here rather than with `jsonwebtoken`'s `use_pem` feature, which would bring a second
/// version of the `pem` crate into the tree for the few DER fields needed.
fn public_key(pem: &[u8]) -> Option<(DecodingKey, Algorithm)> {
    use rustls::pki_types::SubjectPublicKeyInfoDer;
    use rustls::pki_types::pem::PemObject;
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(pem).ok()?;
    let (info, _) = der(spki.as_ref(), 0x30)?;
    let (algorithm, rest) = der(info, 0x30)?;
    let (bits, _) = der(rest, 0x03)?;
    let (0, key) = bits.split_first()? else { return None }; // no unused bits
    let (oid, parameters) = der(algorithm, 0x06)?;
    match oid {
        OID_RSA => Some((DecodingKey::from_rsa_der(key), Algorithm::RS256)),
        OID_EC if parameters == OID_P256 => Some((DecodingKey::from_ec_der(key), Algorithm::ES256)),
        OID_ED25519 => Some((DecodingKey::from_ed_der(key), Algorithm::EdDSA)),
        _ => None,
    }
}

/// The contents of the DER element with `tag` at the start of `input`, and what follows it;
/// `None` for another tag or a length past the input.
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if found != tag {
        return None;
    }
    let (length, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81..=0x83 => {
            let (bytes, rest) = rest.split_at_checked(usize::from(first & 0x7f))?;
            (bytes.iter().fold(0, |n, b| n << 8 | usize::from(*b)), rest)
        }
        _ => return None,
    };
    rest.split_at_checked(length)
}

fn unauthorized(reason: impl Into<String>) -> AuthRefusal {
    AuthRefusal::Unauthorized(reason.into())
}

/// The refusal for a token `jsonwebtoken` rejected: a reason that names the check.
fn refusal(kind: &ErrorKind) -> AuthRefusal {
    unauthorized(match kind {
        ErrorKind::ExpiredSignature => "token expired".to_owned(),
        ErrorKind::ImmatureSignature => "token not yet valid (nbf)".to_owned(),
        ErrorKind::InvalidAudience => "token audience (aud) not accepted".to_owned(),
        ErrorKind::InvalidIssuer => "token issuer (iss) not accepted".to_owned(),
        ErrorKind::InvalidSignature => "token signature invalid".to_owned(),
        ErrorKind::InvalidAlgorithm => "token algorithm not accepted".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("token has no {claim} claim"),
        _ => "token malformed".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn sign(claims: serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(secret))
            .expect("signs")
    }

    #[tokio::test]
    async fn an_hs256_token_is_checked_claim_by_claim() {
        let mut config = JwtConfig::new(JwtKey::Secret(b"sesame".to_vec()));
        config.audience = Some("game".into());
        config.issuer = Some("studio".into());
        let verifier = JwtVerifier::new(config).expect("verifier");
        let t = now();
        let good = serde_json::json!({"sub": "ada", "exp": t + 60, "aud": "game", "iss": "studio"});
        let identity = verifier.verify(&sign(good.clone(), b"sesame")).await.expect("valid");
        assert_eq!(identity.user_id, "ada");
        assert_eq!(identity.claims["iss"], "studio");
        let mut cases = Vec::new();
        let mut with = |key: &str, value: serde_json::Value, reason: &'static str| {
            let mut claims = good.clone();
            claims[key] = value;
            cases.push((claims, reason));
        };
        with("exp", (t - 120).into(), "token expired");
        with("nbf", (t + 120).into(), "token not yet valid (nbf)");
        with("aud", "other".into(), "token audience (aud) not accepted");
        with("iss", "other".into(), "token issuer (iss) not accepted");
        with("sub", 7.into(), "token has no sub claim");
        with("sub", "".into(), "token's sub is not a non-empty string");
        for (claims, reason) in cases {
            let refused = verifier.verify(&sign(claims, b"sesame")).await;
            assert_eq!(refused, Err(unauthorized(reason)));
        }
        let forged = verifier.verify(&sign(good, b"guess")).await;
        assert_eq!(forged, Err(unauthorized("token signature invalid")));
        assert_eq!(verifier.verify("not a token").await, Err(unauthorized("token malformed")));
    }

    #[test]
    fn public_keys_are_told_apart_by_their_algorithm() {
        let cases = [
            (&rcgen::PKCS_ECDSA_P256_SHA256, Some(Algorithm::ES256)),
            (&rcgen::PKCS_ED25519, Some(Algorithm::EdDSA)),
            (&rcgen::PKCS_ECDSA_P384_SHA384, None),
        ];
        for (made, expected) in cases {
            let pair = rcgen::KeyPair::generate_for(made).expect("key pair");
            let found = public_key(pair.public_key_pem().as_bytes()).map(|(_, a)| a);
            assert_eq!(found, expected, "{made:?}");
        }
        assert!(public_key(b"not a PEM").is_none());
        assert_eq!(der(&[0x30, 0x82, 0x01, 0x00, 0xff], 0x30), None, "a length past the end");
        assert_eq!(der(&[0x04, 0x01, 0xff], 0x30), None, "another tag");
        assert_eq!(der(&[0x30, 0x81, 0x01, 0xaa, 0xbb], 0x30), Some((&[0xaa][..], &[0xbb][..])));
    }

    #[tokio::test]
    async fn the_leeway_forgives_a_little_clock_skew() {
        let verifier = JwtVerifier::new(JwtConfig::new(JwtKey::Secret(b"k".to_vec()))).expect("ok");
        let claims = serde_json::json!({"sub": "ada", "exp": now() - 5});
        assert!(verifier.verify(&sign(claims, b"k")).await.is_ok());
    }
}
