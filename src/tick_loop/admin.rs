//! A room's answers to the operator's commands ([`crate::admin::Command`]): kick a client,
//! close the room, list its clients. Run by the tick, between two steps.

use super::{Client, TickLoop};
use crate::admin::{ClientRow, Command};
use crate::game::Game;
use crate::net::outbox::Ending;
use crate::protocol::{CloseCode, Notice};
use axum::body::Bytes;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tracing::info;

impl<G: Game> TickLoop<G> {
    /// Carries out `command`; the API waiting on its reply is answered even if it went away.
    pub(super) fn admin(&mut self, command: Command) {
        match command {
            Command::Kick { client_id, reason, reply } => {
                let kicked = self.close_by_operator(client_id, CloseCode::Kicked, &reason);
                if kicked {
                    info!(
                        room = self.status.name,
                        client_id, reason, "client kicked by the operator"
                    );
                }
                let _ = reply.send(kicked);
            }
            Command::Close { reason, reply } => {
                let ids: Vec<u32> = self.clients.keys().copied().collect();
                let closed = (ids.into_iter())
                    .filter(|&id| self.close_by_operator(id, CloseCode::RoomClosed, &reason))
                    .count();
                self.drop_waiting();
                info!(room = self.status.name, closed, reason, "room closed by the operator");
                let _ = reply.send(closed);
            }
            Command::Notice { text, reply } => {
                let _ = reply.send(self.notice(text));
            }
            Command::Clients { reply } => {
                let now = Instant::now();
                let rows = self.clients.values().map(|client| self.row(client, now)).collect();
                let _ = reply.send(rows);
            }
        }
    }

    /// Queues an operator's notice for every client, as events are queued: one whose event
    /// queue is full is closed as too slow. How many it was queued for.
    fn notice(&mut self, text: String) -> usize {
        let tick = self.next_tick.0.saturating_sub(1);
        let frame = Bytes::from(Notice { tick, text }.encode());
        let (mut queued, mut overflowed) = (0, Vec::new());
        for (&id, client) in &self.clients {
            if client.outbox.push_event(frame.clone()) {
                queued += 1;
            } else {
                overflowed.push(id);
            }
        }
        let limit = self.shared.config.event_queue;
        for client_id in overflowed {
            self.too_slow(client_id, format!("too slow: {limit} events left unread"));
        }
        info!(room = self.status.name, queued, "operator notice sent");
        queued
    }

    /// Closes a client with `code` and `reason` and tells the game it left: its session is
    /// not kept for resume. Whether it was connected here.
    fn close_by_operator(&mut self, client_id: u32, code: CloseCode, reason: &str) -> bool {
        let Some(client) = self.clients.get(&client_id) else { return false };
        self.shared.metrics.disconnect(code.label());
        client.outbox.end(Ending::Close(code, reason.to_owned()));
        self.remove(client_id)
    }

    /// Drops every session waiting to be resumed: the game is told its client left.
    fn drop_waiting(&mut self) {
        for (_, waiting) in self.waiting.drain() {
            self.status.waiting.fetch_sub(1, Ordering::AcqRel);
            self.shared.metrics.sessions_waiting.dec();
            self.room.leave(&waiting.info, waiting.entity);
        }
    }

    fn row(&self, client: &Client, now: Instant) -> ClientRow {
        let connected = now.saturating_duration_since(client.joined).as_secs_f64();
        let name = client.info.query.iter().find(|(key, _)| key == "name");
        ClientRow {
            client_id: client.info.client_id,
            name: name.map(|(_, value)| value.clone()),
            user_id: client.info.user_id().map(str::to_owned),
            entity: client.view.own.id,
            rtt_ms: None,
            input_lead_ms: self.room.input_lead(client.entity).map(|s| f64::from(s) * 1e3),
            lag_ticks: client.lag,
            bytes: client.bytes,
            snapshots_per_second: if connected > 0.0 {
                client.snapshots as f64 / connected
            } else {
                0.0
            },
            connected_seconds: (connected * 10.0).round() / 10.0,
        }
    }
}
