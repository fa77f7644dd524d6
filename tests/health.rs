//! `/healthz` on a real server: `200 ok` while every room ticks, `503` naming the room whose
//! tick stalled (a game system that blocks its thread), while the other rooms keep ticking.

mod common;

use bevy_ecs::prelude::*;
use common::{http_get, within};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tickwire::{ClientInfo, Game, GameBuilder, NoMessages, Replicated, Server, ServerConfig};

/// A game whose tick blocks for 1.5 s in a room built with `stuck`.
#[derive(Clone)]
struct Stall {
    stuck: bool,
}

#[derive(Resource)]
struct Stuck(bool);

#[derive(Component, Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
struct Marker(u8);

fn stall(stuck: Res<Stuck>) {
    if stuck.0 {
        std::thread::sleep(Duration::from_millis(1_500));
    }
}

impl Game for Stall {
    type Input = ();
    type Welcome = ();
    type Message = NoMessages;
    type Event = NoMessages;
    const NAME: &'static str = "stall";
    fn build(&mut self, game: &mut GameBuilder<'_>) {
        game.world().insert_resource(Stuck(self.stuck));
        game.replicate::<Marker>();
        game.add_systems(stall);
    }
    fn welcome(&self) {}
    fn join(&mut self, world: &mut World, _: &ClientInfo) -> Entity {
        world.spawn((Replicated, Marker(1))).id()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_names_the_room_whose_tick_stalled() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Two simulation threads: the lobby on one, the stuck room on the other.
    let config = ServerConfig { sim_threads: Some(2), ..ServerConfig::default() };
    let server = Server::with_rooms(|name| Stall { stuck: name == "stuck" }).config(config);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(listener, async move {
        let _ = stopped.await;
    }));

    assert_eq!(http_get(addr, "/healthz").await, (200, "ok\n".to_owned()));
    // Joining the room opens it; its first tick blocks its thread.
    let url = format!("ws://{addr}/ws?room=stuck");
    let _socket = within(tickwire::bots::client::open(&url)).await.expect("handshake");
    let body = within(async {
        loop {
            let (status, body) = http_get(addr, "/healthz").await;
            if status == 503 {
                return body;
            }
            assert_eq!(status, 200, "{body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(body.starts_with("tick loop stalled: room stuck: last tick "), "{body}");
    assert!(!body.contains("lobby"), "the lobby still ticks: {body}");

    let _ = stop.send(());
    let result = tokio::time::timeout(Duration::from_secs(10), task).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "the server stops: {result:?}");
}
