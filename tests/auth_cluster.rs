//! Identity with matchmaking, on a clustered server and a real `redis-server`: `POST
//! /matchmake` authenticates as `/ws` does, and the seat it hands out is bound to the user:
//! another user's `/ws` presenting it is closed with 4007 and the seat stays good for its
//! owner.

mod common;
#[allow(dead_code)]
#[path = "common/redis.rs"]
mod redis_server;

use common::{TestServer, arena_spec, within};
use jsonwebtoken::{EncodingKey, Header};
use redis_server::RedisServer;
use std::net::SocketAddr;
use std::time::Duration;
use tickwire::ServerConfig;
use tickwire::arena::Arena;
use tickwire::auth::jwt::{JwtConfig, JwtKey, JwtVerifier};
use tickwire::bots::BotClient;
use tickwire::bots::client::{BotError, next_binary};
use tickwire::cluster::ClusterConfig;
use tickwire::cluster::http_client;
use tickwire::cluster::matchmake::Placement;

const SECRET: &[u8] = b"the cluster's shared secret";

fn token(sub: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 600;
    let claims = serde_json::json!({ "sub": sub, "exp": exp });
    jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET))
        .expect("signs")
}

async fn process(redis: &RedisServer) -> TestServer {
    let url = redis.url();
    let config = move |addr: SocketAddr| {
        let cluster = ClusterConfig {
            heartbeat: Duration::from_millis(100),
            record_ttl: Duration::from_millis(500),
            ..ClusterConfig::new(url, format!("ws://{addr}"))
        };
        ServerConfig { cluster: Some(cluster), ..ServerConfig::default() }
    };
    let verifier = JwtVerifier::new(JwtConfig::new(JwtKey::Secret(SECRET.to_vec())));
    let verifier = verifier.expect("verifier");
    TestServer::start_built(Arena::new(common::small_arena()), config, |server| {
        server.authenticator(verifier)
    })
    .await
}

/// `POST /matchmake?QUERY` for room `duel`: the status and body.
async fn matchmake(server: &TestServer, query: &str) -> (u16, String) {
    let url = format!("http://{}/matchmake?{query}", server.addr);
    let body = Some(r#"{"room": "duel"}"#.to_owned());
    within(http_client::request("POST", &url, body)).await.expect("answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matchmaking_authenticates_and_binds_the_seat_to_the_user() {
    let Some(redis) = RedisServer::start() else { return };
    let server = process(&redis).await;
    let (status, body) = matchmake(&server, "").await;
    assert_eq!(
        (status, body.trim()),
        (401, "a token is required: ?token=, Authorization: Bearer, or cookie tickwire_token")
    );

    let (ada, bob) = (token("ada"), token("bob"));
    let (status, body) = matchmake(&server, &format!("token={ada}")).await;
    assert_eq!(status, 200, "{body}");
    let placement: Placement = serde_json::from_str(&body).expect("a placement");
    // Bob presenting Ada's seat, with his own valid token: refused, the seat left unused.
    let url = format!("{}&token={bob}", placement.url);
    let mut socket = within(tickwire::bots::client::open(&url)).await.expect("handshake");
    match within(next_binary(&mut socket)).await {
        Err(BotError::Closed { code, reason }) => {
            assert_eq!((code, reason.as_str()), (4007, "seat is for another user"));
        }
        other => panic!("expected 4007, got {other:?}"),
    }
    // Ada's own `/ws` with it joins.
    let url = format!("{}&token={ada}", placement.url);
    within(BotClient::connect(&url, &arena_spec())).await.expect("Ada joins with her seat");
    server.stop().await;
}
