//! Player identity on join, on a real server with real tokens signed by keys the test makes:
//! a JWT in the query, a header or a cookie; each failed check refused with 401 and its
//! reason before the upgrade; public keys (ES256, EdDSA) and a JWKS served over HTTP that
//! rotates its key; a custom authenticator's 403 and its timeout (503); the identity in the
//! game; resume bound to the user; a second login taking over (4006) or refused (409).

mod common;

use common::{TestServer, within};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickwire::ServerConfig;
use tickwire::arena::{Arena, Name};
use tickwire::auth::jwt::{JwtConfig, JwtKey, JwtVerifier};
use tickwire::auth::{AuthFuture, AuthRefusal, Authenticator, DuplicateLogin, Handshake, Identity};
use tickwire::bots::client::{BotError, Socket, next_binary};
use tickwire::bots::{BotClient, GameSpec};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SECRET: &[u8] = b"a secret only the test and the server know";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

/// Good claims for `sub`: valid for ten minutes, for audience `game` from issuer `studio`.
fn claims(sub: &str) -> Value {
    json!({"sub": sub, "exp": now() + 600, "aud": "game", "iss": "studio"})
}

fn hs256(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::default(), claims, &EncodingKey::from_secret(SECRET))
        .expect("signs")
}

/// A verifier of HS256 tokens for audience `game` and issuer `studio`.
fn verifier() -> JwtVerifier {
    let mut config = JwtConfig::new(JwtKey::Secret(SECRET.to_vec()));
    config.audience = Some("game".into());
    config.issuer = Some("studio".into());
    JwtVerifier::new(config).expect("verifier")
}

async fn start(config: ServerConfig) -> TestServer {
    TestServer::start_authenticated(config, verifier()).await
}

fn spec() -> GameSpec {
    GameSpec::of(Arena::default()).expect("the arena registers")
}

/// Opens `/ws?query` with `headers`: the socket, or the status and body of the refusal.
async fn open(
    server: &TestServer,
    query: &str,
    headers: &[(&'static str, String)],
) -> Result<Socket, (u16, String)> {
    let mut request = format!("{}?{query}", server.ws_url()).into_client_request().expect("url");
    let protocol = tickwire::protocol::SUBPROTOCOL.parse().expect("header");
    request.headers_mut().insert("Sec-WebSocket-Protocol", protocol);
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().expect("header"));
    }
    match within(tokio_tungstenite::connect_async(request)).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            Err((response.status().as_u16(), String::from_utf8_lossy(body).trim().to_owned()))
        }
        Err(other) => panic!("neither joined nor refused: {other}"),
    }
}

/// Joins with `token` in the query.
async fn join(server: &TestServer, query: &str, token: &str) -> BotClient {
    let url = format!("{}?{query}&token={token}", server.ws_url());
    within(BotClient::connect(&url, &spec())).await.expect("joins")
}

/// Reads until the connection closes: its code and reason.
async fn closed(bot: &mut BotClient) -> (u16, String) {
    loop {
        match within(bot.receive()).await {
            Ok(_) => continue,
            Err(BotError::Closed { code, reason }) => return (code, reason),
            Err(other) => panic!("expected a close frame, got {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_joins_from_the_query_a_header_or_a_cookie() {
    let server = start(ServerConfig::default()).await;
    let token = hs256(&claims("ada"));
    let ways = [
        (format!("token={token}"), vec![]),
        (String::new(), vec![("authorization", format!("Bearer {token}"))]),
        (String::new(), vec![("cookie", format!("theme=dark; tickwire_token={token}"))]),
    ];
    for (query, headers) in ways {
        let mut socket = open(&server, &query, &headers).await.expect("joins");
        within(next_binary(&mut socket)).await.expect("the welcome");
    }
    // Without a token, or with an empty one, no join.
    for query in ["", "token="] {
        let (status, reason) = open(&server, query, &[]).await.expect_err("refused");
        assert_eq!(status, 401);
        assert!(reason.starts_with("a token is required"), "{reason}");
    }
    // `/authcheck` tells a page what `/ws` would (a browser hides a failed upgrade's status).
    let checked = common::http_get(server.addr, &format!("/authcheck?room=r&token={token}")).await;
    assert_eq!(checked, (200, r#"{"user_id":"ada"}"#.to_owned()));
    let (status, reason) = common::http_get(server.addr, "/authcheck?room=r").await;
    assert_eq!(status, 401);
    assert!(reason.starts_with("a token is required"), "{reason}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_game_sees_the_identity_not_the_query() {
    let server = start(ServerConfig::default()).await;
    let mut named = claims("u-17");
    named["name"] = "Ada Lovelace".into();
    let mut ada = join(&server, "name=mallory", &hs256(&named)).await;
    let mut bob = join(&server, "name=mallory", &hs256(&claims("bob"))).await;
    within(ada.next_snapshot()).await.expect("snapshot");
    within(bob.next_snapshot()).await.expect("snapshot");
    assert_eq!(ada.own::<Name>().map(|n| n.0), Some("Ada Lovelace".to_owned()), "its claim");
    assert_eq!(bob.own::<Name>().map(|n| n.0), Some("bob".to_owned()), "its user id");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failed_check_is_refused_with_401_and_its_reason() {
    let server = start(ServerConfig::default()).await;
    let t = now();
    let with = |key: &str, value: Value| {
        let mut claims = claims("ada");
        claims[key] = value;
        hs256(&claims)
    };
    let forged = jsonwebtoken::encode(
        &Header::default(),
        &claims("ada"),
        &EncodingKey::from_secret(b"a guess"),
    )
    .expect("signs");
    let cases = [
        (with("exp", (t - 120).into()), "token expired"),
        (with("nbf", (t + 120).into()), "token not yet valid (nbf)"),
        (with("aud", "another-game".into()), "token audience (aud) not accepted"),
        (with("iss", "someone".into()), "token issuer (iss) not accepted"),
        (forged, "token signature invalid"),
        ("not.a.token".to_owned(), "token malformed"),
    ];
    for (token, reason) in cases {
        let refused = open(&server, &format!("token={token}"), &[]).await.expect_err(reason);
        assert_eq!(refused, (401, reason.to_owned()));
    }
    server.stop().await;
}

#[tokio::test]
async fn es256_and_eddsa_public_keys_verify_their_own_tokens_only() {
    for (algorithm, made) in [
        (Algorithm::ES256, &rcgen::PKCS_ECDSA_P256_SHA256),
        (Algorithm::EdDSA, &rcgen::PKCS_ED25519),
    ] {
        let pair = rcgen::KeyPair::generate_for(made).expect("key pair");
        let other = rcgen::KeyPair::generate_for(made).expect("key pair");
        let config = JwtConfig::new(JwtKey::PublicKeyPem(pair.public_key_pem().into_bytes()));
        let verifier = JwtVerifier::new(config).expect("the public key loads");
        let sign = |pair: &rcgen::KeyPair| {
            let pkcs8 = pair.serialize_der();
            let key = match algorithm {
                Algorithm::ES256 => EncodingKey::from_ec_der(&pkcs8),
                _ => EncodingKey::from_ed_der(&pkcs8),
            };
            jsonwebtoken::encode(&Header::new(algorithm), &claims("ada"), &key).expect("signs")
        };
        let identity = verifier.verify(&sign(&pair)).await.expect("its own token");
        assert_eq!(identity.user_id, "ada");
        let refused = verifier.verify(&sign(&other)).await;
        assert_eq!(refused, Err(AuthRefusal::Unauthorized("token signature invalid".into())));
        // An HS256 token "signed" with the public key is not accepted (algorithm confusion).
        let confused = jsonwebtoken::encode(
            &Header::default(),
            &claims("ada"),
            &EncodingKey::from_secret(pair.public_key_pem().as_bytes()),
        )
        .expect("signs");
        assert!(verifier.verify(&confused).await.is_err(), "{algorithm:?}");
    }
}

/// base64url without padding, as JWKs write key material.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// An Ed25519 key pair and its JWK with id `kid`.
fn ed25519(kid: &str) -> (rcgen::KeyPair, Value) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key pair");
    let x = base64url(pair.public_key_raw());
    (pair, json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x, "use": "sig"}))
}

fn eddsa(pair: &rcgen::KeyPair, kid: &str, sub: &str) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_ed_der(&pair.serialize_der());
    jsonwebtoken::encode(&header, &claims(sub), &key).expect("signs")
}

/// A key server: serves the set it holds at `/jwks`, counting the fetches.
struct KeyServer {
    url: String,
    set: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl KeyServer {
    async fn start(keys: Vec<Value>) -> KeyServer {
        let set = Arc::new(Mutex::new(json!({ "keys": keys })));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (set.clone(), fetches.clone());
        let route = axum::routing::get(move || async move {
            counted.fetch_add(1, Ordering::SeqCst);
            served.lock().expect("lock").to_string()
        });
        let router = axum::Router::new().route("/jwks", route);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serves");
        });
        KeyServer { url, set, fetches, task }
    }

    fn rotate(&self, keys: Vec<Value>) {
        *self.set.lock().expect("lock") = json!({ "keys": keys });
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for KeyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_that_rotates_is_fetched_again_for_an_unknown_kid_but_not_too_often() {
    let (old, old_jwk) = ed25519("2026-old");
    let keys = KeyServer::start(vec![old_jwk.clone()]).await;
    let mut config = JwtConfig::new(JwtKey::JwksUrl(keys.url.clone()));
    config.jwks_min_refresh = Duration::from_millis(300);
    let verifier = JwtVerifier::new(config).expect("verifier");
    let server = TestServer::start_authenticated(ServerConfig::default(), verifier).await;

    let mut socket = open(&server, &format!("token={}", eddsa(&old, "2026-old", "ada")), &[])
        .await
        .expect("the old key's token joins");
    within(next_binary(&mut socket)).await.expect("the welcome");
    assert_eq!(keys.fetches(), 1, "fetched once, on the first token");

    // Made-up key ids are refused without a fetch each: the set was fetched just now.
    for n in 0..5 {
        let token = eddsa(&old, &format!("made-up-{n}"), "ada");
        let refused = open(&server, &format!("token={token}"), &[]).await.expect_err("unknown");
        assert_eq!(refused, (401, "token's key id (kid) unknown".to_owned()));
    }
    assert!(keys.fetches() <= 2, "{} fetches for 5 unknown kids", keys.fetches());

    // The issuer rotates: the old key is gone, a new one signs.
    let (new, new_jwk) = ed25519("2026-new");
    keys.rotate(vec![new_jwk]);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let before = keys.fetches();
    let token = eddsa(&new, "2026-new", "bob");
    let mut socket = open(&server, &format!("token={token}"), &[]).await.expect("the new key");
    within(next_binary(&mut socket)).await.expect("the welcome");
    assert_eq!(keys.fetches(), before + 1, "fetched again for the new kid");
    // A token claiming the new kid but signed with the old key fails its signature.
    let forged = eddsa(&old, "2026-new", "bob");
    let refused = open(&server, &format!("token={forged}"), &[]).await.expect_err("forged");
    assert_eq!(refused, (401, "token signature invalid".to_owned()));
    tokio::time::sleep(Duration::from_millis(350)).await;
    let retired = eddsa(&old, "2026-old", "ada");
    let refused = open(&server, &format!("token={retired}"), &[]).await.expect_err("retired");
    assert_eq!(refused, (401, "token's key id (kid) unknown".to_owned()));
    server.stop().await;
}

/// Lets in whoever names themselves, but not into room `vip`; takes 10 s for `slow`.
struct Doorman;

impl Authenticator for Doorman {
    fn authenticate<'a>(&'a self, handshake: &'a Handshake) -> AuthFuture<'a> {
        Box::pin(async move {
            if handshake.param("slow").is_some() {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            if handshake.room == "vip" {
                return Err(AuthRefusal::Forbidden("members only tonight".into()));
            }
            match handshake.param("name") {
                Some(name) => Ok(Identity::new(name)),
                None => Err(AuthRefusal::Unauthorized("say your name".into())),
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_authenticator_refuses_with_its_reason_and_is_timed_out() {
    let config = ServerConfig { auth_timeout: Duration::from_millis(300), ..Default::default() };
    let server = TestServer::start_authenticated(config, Doorman).await;
    let mut socket = open(&server, "name=ada", &[]).await.expect("joins");
    within(next_binary(&mut socket)).await.expect("the welcome");
    let refused = open(&server, "name=ada&room=vip", &[]).await.expect_err("forbidden");
    assert_eq!(refused, (403, "members only tonight".to_owned()));
    let refused = open(&server, "room=lobby", &[]).await.expect_err("anonymous");
    assert_eq!(refused, (401, "say your name".to_owned()));
    let refused = open(&server, "name=bob&slow", &[]).await.expect_err("timed out");
    assert_eq!(refused, (503, "authentication took longer than 300 ms".to_owned()));
    let (_, metrics) = common::http_get(server.addr, "/metrics").await;
    for reason in ["forbidden", "unauthorized", "unavailable"] {
        let line = format!("tickwire_joins_refused_total{{reason=\"{reason}\"}} 1");
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_token_resumes_only_for_its_own_user() {
    let server = start(ServerConfig::default()).await;
    let (ada_token, bob_token) = (hs256(&claims("ada")), hs256(&claims("bob")));
    let ada = join(&server, "room=r", &ada_token).await;
    let (entity, resume) = (ada.welcome.entity_id, ada.resume_token());
    drop(ada); // dropped without a close: the session waits
    let url = format!("{}?room=r&resume={resume}&token={bob_token}", server.ws_url());
    let mut socket = within(tickwire::bots::client::open(&url)).await.expect("handshake");
    match within(next_binary(&mut socket)).await {
        Err(BotError::Closed { code, reason }) => {
            assert_eq!((code, reason.as_str()), (4005, "resume token of another user"));
        }
        other => panic!("expected 4005, got {other:?}"),
    }
    // The token is still good for its owner.
    let back = join(&server, &format!("room=r&resume={resume}"), &ada_token).await;
    assert_eq!(back.welcome.entity_id, entity, "her own player");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_takes_the_session_over_with_4006() {
    let server = start(ServerConfig::default()).await;
    let token = hs256(&claims("ada"));
    let mut first = join(&server, "room=r", &token).await;
    within(first.next_snapshot()).await.expect("snapshot");
    let mut second = join(&server, "room=r", &token).await;
    assert_eq!(closed(&mut first).await, (4006, "signed in again on another connection".into()));
    assert_eq!(second.welcome.entity_id, first.welcome.entity_id, "the same player");
    within(second.next_snapshot()).await.expect("the session goes on");
    // In another room of the same process too.
    let _third = join(&server, "room=elsewhere", &token).await;
    assert_eq!(closed(&mut second).await, (4006, "signed in again on another connection".into()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_is_refused_with_409_when_so_configured() {
    let config =
        ServerConfig { duplicate_login: DuplicateLogin::Refuse, ..ServerConfig::default() };
    let server = start(config).await;
    let token = hs256(&claims("ada"));
    let first = join(&server, "room=r", &token).await;
    let refused = open(&server, &format!("room=r&token={token}"), &[]).await.expect_err("409");
    assert_eq!(refused, (409, "this user is already signed in".to_owned()));
    // Another user is not affected; and once the first leaves, the user may sign in again.
    join(&server, "room=r", &hs256(&claims("bob"))).await;
    first.close().await;
    let mut again = None;
    for _ in 0..100 {
        if let Ok(socket) = open(&server, &format!("room=r&token={token}"), &[]).await {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "signed in again after leaving");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_login_takes_back_its_users_dropped_session() {
    let server = start(ServerConfig::default()).await;
    let token = hs256(&claims("ada"));
    let first = join(&server, "room=r", &token).await;
    let entity = first.welcome.entity_id;
    drop(first); // no close frame: the session waits to be resumed
    // A new tab, signed in, without the resume token: the same player.
    let again = join(&server, "room=r", &token).await;
    assert_eq!(again.welcome.entity_id, entity, "her own player back");
    // Another user gets a player of their own.
    let bob = join(&server, "room=r", &hs256(&claims("bob"))).await;
    assert_ne!(bob.welcome.entity_id, entity);
    server.stop().await;
}
