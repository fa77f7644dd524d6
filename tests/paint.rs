//! The paint example against the real server: two painters see each other's cursor and
//! strokes, through a schema that shares nothing with the arena's.

mod common;

#[path = "../examples/paint/game.rs"]
#[allow(dead_code)]
mod paint;

use common::{TestServer, within};
use glam::Vec2;
use paint::{Brush, Canvas, Cell, Cursor, Paint, PaintInput, Painter};
use tickwire::ServerConfig;
use tickwire::bots::{BotClient, GameSpec};

async fn painter(server: &TestServer, name: &str) -> BotClient {
    let url = format!("{}?name={name}", server.ws_url());
    let spec = GameSpec::of(Paint).expect("paint registers");
    within(BotClient::connect(&url, &spec)).await.expect("connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_painters_see_each_others_cursor_and_strokes() {
    let server = TestServer::start_game(Paint, ServerConfig::default()).await;
    let mut ada = painter(&server, "ada").await;
    let mut bob = painter(&server, "bob").await;
    let names: Vec<_> = ada.welcome.schema.components.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["Cursor", "Painter", "Cell", "Canvas", "Brush"]);
    // Ada paints cell (5, 7): the cursor at its middle, button down.
    let stroke = PaintInput { x: 5 * 16 + 8, y: 7 * 16 + 8, down: true };
    let mut last = 0;
    for _ in 0..3 {
        last = ada.send_input(stroke).await.expect("send");
        within(ada.next_snapshot()).await.expect("snapshot");
    }
    while ada.replica.last_input_seq < last {
        within(ada.next_snapshot()).await.expect("snapshot");
    }
    let ada_id = ada.welcome.entity_id;
    let ada_color = ada.own::<Painter>().expect("own painter").color;
    // Bob's replica converges on the same state: Ada's cursor, her cell, one stroke.
    within(async {
        loop {
            bob.next_snapshot().await.expect("snapshot");
            let cursor = bob.replica.get::<Cursor>(ada_id);
            let cells: Vec<Cell> = bob.replica.ids().filter_map(|id| bob.replica.get(id)).collect();
            if cursor == Some(Cursor(Vec2::new(5.5, 7.5))) && !cells.is_empty() {
                assert_eq!(cells, [Cell { x: 5, y: 7, color: ada_color }]);
                break;
            }
        }
    })
    .await;
    let canvas = bob.replica.ids().find_map(|id| bob.replica.get::<Canvas>(id));
    assert_eq!(canvas, Some(Canvas { strokes: 1 }), "repainting the same colour is no stroke");
    assert_eq!(bob.replica.get::<Painter>(ada_id).map(|p| p.name), Some("ada".into()));
    // Her brush, an enum component, shows her painting that cell.
    assert_eq!(bob.replica.get::<Brush>(ada_id), Some(Brush::Painting { x: 5, y: 7 }));
    // A cursor off the canvas closes only that painter, with the reason.
    let off = PaintInput { x: 60_000, y: 0, down: false };
    ada.send_input(off).await.expect("send");
    let closed = within(async {
        loop {
            if let Err(error) = ada.next_snapshot().await {
                break error.to_string();
            }
        }
    })
    .await;
    assert!(closed.contains("1008") && closed.contains("off the"), "{closed}");
    within(bob.next_snapshot()).await.expect("bob is still served");
    bob.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_sheet_is_seen_only_by_its_painters() {
    let server = TestServer::start_game(Paint, ServerConfig::default()).await;
    let mut ada = painter(&server, "ada&sheet=1").await;
    let mut bob = painter(&server, "bob&sheet=1").await;
    let mut cid = painter(&server, "cid").await;
    let stroke = PaintInput { x: 2 * 16 + 8, y: 3 * 16 + 8, down: true };
    let last = ada.send_input(stroke).await.expect("send");
    while ada.replica.last_input_seq < last {
        within(ada.next_snapshot()).await.expect("snapshot");
    }
    let (ada_id, cid_id) = (ada.welcome.entity_id, cid.welcome.entity_id);
    let cells = |client: &BotClient| -> Vec<Cell> {
        client.replica.ids().filter_map(|id| client.replica.get(id)).collect()
    };
    // Bob, on the sheet, sees Ada's stroke; then Cid has had time to see it, and must not.
    within(async {
        while cells(&bob).is_empty() {
            bob.next_snapshot().await.expect("snapshot");
        }
    })
    .await;
    while cid.replica.tick <= bob.replica.tick {
        within(cid.next_snapshot()).await.expect("snapshot");
    }
    let painted = cells(&bob);
    assert_eq!(painted.len(), 1);
    assert_eq!((painted[0].x, painted[0].y), (2, 3));
    assert!(bob.replica.contains(ada_id), "sheet painters see each other");
    assert!(cells(&cid).is_empty(), "the shared canvas does not show the sheet's stroke");
    assert!(!cid.replica.contains(ada_id), "nor the sheet's painters");
    within(ada.next_snapshot()).await.expect("snapshot");
    assert!(ada.replica.contains(cid_id), "sheet painters still see the shared canvas's");
    for client in [ada, bob, cid] {
        client.close().await;
    }
    server.stop().await;
}
