//! One load-test bot: a single task that connects at its turn in the ramp-up, applies every
//! snapshot to its own replica, sends one input per tick, paced by the server's hint so it
//! arrives just before the server's tick (see [`super::timing`]), and a ping per second, and records what it saw into
//! the shared recorders until the run stops.
//!
//! Per message the bot allocates nothing beyond what tungstenite does (the received frame,
//! one small buffer per sent frame); per bot it holds a replica and a 64-entry ring of
//! input send times.

use super::client::{BotClient, Socket};
use super::game::BotPlayer;
use super::pattern::Steering;
use super::shared::{Checker, Shared, process_key};
use super::timing::InputTiming;
use crate::protocol::{tags, varint};
use crate::replication::replica::{Applied, OpCounts, OpTally};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, interval_at, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message};

type TokioInstant = tokio::time::Instant;

/// Input send times remembered for latency; an input not reflected within this many later
/// inputs counts as lost.
const SENT_RING: usize = 64;
/// Longest wait for the handshake and welcome.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the server's answer to our close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Pings per bot: one a second.
const PING_PERIOD: Duration = Duration::from_secs(1);
/// Longest churn lifetime, in mean lifetimes (an exponential's tail is unbounded).
pub const MAX_LIFETIME_MEANS: f64 = 10.0;
/// The disconnect label of a bot whose reconnect after churn failed.
pub const RECONNECT_FAILED: &str = "reconnect-failed";
/// With matchmaking, the closes after which a bot matchmakes again (its server is gone,
/// leaving, or no longer hosts the room) instead of counting a disconnect: 1001 going away,
/// 1006 lost, 4005 resume refused, 4007 seat refused, 4008 room lost.
pub const REMATCH_CLOSES: [&str; 5] = ["1001", "1006", "4005", "4007", "4008"];
/// Matchmakes in a row a bot tries after losing its server before it counts a disconnect.
pub const MAX_REMATCH_ATTEMPTS: u32 = 10;
/// First delay between two such tries (the first try is at once, within
/// [`REMATCH_JITTER`]); it doubles up to [`REMATCH_BACKOFF_MAX`].
pub const REMATCH_BACKOFF_FIRST: Duration = Duration::from_millis(250);
/// Longest delay between two such tries.
pub const REMATCH_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Spread of the first try, so a lost server's bots do not all ask in the same millisecond.
pub const REMATCH_JITTER: Duration = Duration::from_millis(200);

/// What one bot saw. Counts are for the measurement window unless named otherwise.
#[derive(Debug, Clone, Default)]
pub struct BotOutcome {
    /// Whether it received a welcome.
    pub connected: bool,
    /// With matchmaking, `host:port` of the process its last connection was sent to.
    pub process: Option<String>,
    /// Connections that received a welcome (more than 1 only with churn).
    pub connections: u64,
    /// Connections the bot closed at the end of their lifetime (churn).
    pub churned: u64,
    /// Of those, connections it dropped without a goodbye, to resume the session.
    pub dropped: u64,
    /// Sessions resumed: the server gave back the same entity.
    pub resumed: u64,
    /// With matchmaking: times it lost its server and played again after matchmaking anew.
    pub rematched: u64,
    /// The longest of those gaps: from the loss to the new server's welcome.
    pub rematch_gap_max: Duration,
    /// Why it could not connect.
    pub failed: Option<String>,
    /// The close code (or `1006` for a lost connection, `replica` for an apply error) if
    /// the connection ended before the run did.
    pub disconnected: Option<String>,
    /// Seconds of the window it was connected for.
    pub window_seconds: f64,
    /// Snapshots received.
    pub snapshots: u64,
    /// Their payload bytes.
    pub payload_bytes: u64,
    /// Their bytes with WebSocket framing.
    pub framed_bytes: u64,
    /// `Move` ops received and their bytes.
    pub moves: OpTally,
    /// `Update` ops received and their bytes.
    pub updates: OpTally,
    /// Full snapshots after the first one (whole run).
    pub resyncs: u64,
    /// Messages that could not be applied (whole run).
    pub apply_errors: u64,
    /// Snapshots after which the own player was not in the replica (whole run).
    pub own_missing: u64,
    /// Entities compared with other bots' replicas, and disagreements (whole run).
    pub compared: u64,
    /// See `compared`.
    pub mismatches: u64,
    /// Inputs whose reflecting snapshot could not be timed.
    pub latency_lost: u64,
    /// Inputs sent (whole run).
    pub inputs_sent: u64,
    /// Snapshots after which the bot's prediction of its own entity was reconciled.
    pub predicted: u64,
    /// Of which moved the predicted position by more than 0.1 world unit.
    pub corrected_over_tenth: u64,
    /// Of which by more than 1 world unit.
    pub corrected_over_one: u64,
    /// The tick rate from the welcome.
    pub tick_rate_hz: u16,
}

/// How a connection ended.
enum End {
    /// The run stopped; the bot closes normally.
    Stopped,
    /// Its lifetime was over (churn); the bot closes normally and connects again.
    Churned,
    /// Its lifetime was over and it dropped the connection (churn with resume): it connects
    /// again presenting the session's token, and must get the same entity back.
    Dropped(Session),
    /// The connection ended; the label goes into `disconnected`.
    Lost(String),
    /// It could not connect (matchmake, handshake or welcome failed): why.
    Unreached(String),
    /// A resume was refused or gave another entity: why.
    ResumeFailed(String),
}

/// A session to resume: where it was (the URL without a seat), its token and its entity.
#[derive(Debug, Clone)]
struct Session {
    url: String,
    token: String,
    entity_id: u32,
}

/// The disconnect label of a bot whose resume was refused or gave another entity.
pub const RESUME_FAILED: &str = "resume-failed";

/// Runs bot `index` of the plan until the run stops; never panics on network faults. With
/// churn ([`Shared::churn`]) it closes normally at the end of each random lifetime and
/// connects again as a fresh client (new connection, fresh replica), until the run stops;
/// a share of those ends ([`Shared::resume_share`]) are drops instead, after which the bot
/// resumes its session and checks it got its own entity back. With matchmaking, a bot whose
/// server is lost ([`REMATCH_CLOSES`], or a resume refused) matchmakes again with backoff
/// and plays on as a new player, counted in [`BotOutcome::rematched`].
pub async fn run(index: usize, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) -> BotOutcome {
    let mut outcome = BotOutcome::default();
    tokio::select! {
        () = sleep_until(shared.connect_at(index).into()) => {}
        _ = stop.changed() => return outcome,
    }
    let mut lifetimes = shared.churn.map(|mean| Lifetimes::new(mean, index as u64));
    let mut resume = None;
    // Matchmakes in a row since the bot lost its server, and when (`None`: it has not).
    let mut rematching: Option<u32> = None;
    let mut lost_at = Instant::now();
    // Each pass is one connection; the loop ends when one ends other than by churn or a
    // lost server, which the stop signal (or `hard_end`) guarantees.
    loop {
        let lifetime = lifetimes.as_mut().map(|l| (l.draw(), l.drop(shared.resume_share)));
        let rematch = rematching.map(|_| lost_at);
        let end =
            connection(index, &shared, &mut stop, lifetime, resume.take(), rematch, &mut outcome)
                .await;
        let lost = match end {
            End::Churned => {
                outcome.churned += 1;
                rematching = None;
                continue;
            }
            End::Dropped(session) => {
                outcome.churned += 1;
                outcome.dropped += 1;
                resume = Some(session);
                rematching = None;
                continue;
            }
            End::Stopped => return outcome,
            End::Lost(label)
                if shared.matchmake.is_some() && REMATCH_CLOSES.contains(&label.as_str()) =>
            {
                rematching = Some(0);
                lost_at = Instant::now();
                label
            }
            End::Lost(label) => return lost_for_good(&shared, outcome, label),
            End::Unreached(why) | End::ResumeFailed(why) if rematching.is_some() => why,
            // A drop that cannot resume (the process gone or restarted): place the bot anew.
            End::ResumeFailed(why) if shared.matchmake.is_some() => {
                rematching = Some(0);
                lost_at = Instant::now();
                why
            }
            End::Unreached(why) => {
                failed(&shared, &mut outcome, why);
                return outcome;
            }
            End::ResumeFailed(why) => {
                failed_resume(&shared, &mut outcome, why);
                return outcome;
            }
        };
        let tries = rematching.map_or(0, |tries| tries + 1);
        if tries >= MAX_REMATCH_ATTEMPTS {
            return lost_for_good(&shared, outcome, RECONNECT_FAILED.into());
        }
        rematching = Some(tries);
        tracing::debug!(bot = index, %lost, tries, "server lost: matchmaking again");
        tokio::select! {
            () = tokio::time::sleep(rematch_delay(tries)) => {}
            _ = stop.changed() => return outcome,
        }
    }
}

/// The wait before the `tries`-th matchmake after a lost server (0: the first).
fn rematch_delay(tries: u32) -> Duration {
    let backoff = match tries {
        0 => Duration::ZERO,
        n => REMATCH_BACKOFF_FIRST.saturating_mul(1 << (n - 1).min(8)).min(REMATCH_BACKOFF_MAX),
    };
    backoff + REMATCH_JITTER.mul_f64(fastrand::f64())
}

/// A connection that ended for good before the run did: counted as a disconnect.
fn lost_for_good(shared: &Shared, mut outcome: BotOutcome, label: String) -> BotOutcome {
    shared.errors.fetch_add(1, Relaxed);
    outcome.disconnected = Some(label);
    outcome
}

/// One connection of bot `index`, ended by the bot after `lifetime` if one is given (with a
/// drop when its flag is set); resuming `resume` if given. Its figures are added to
/// `outcome`.
async fn connection(
    index: usize,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
    lifetime: Option<(Duration, bool)>,
    resume: Option<Session>,
    rematch: Option<Instant>,
    outcome: &mut BotOutcome,
) -> End {
    let url = match (&resume, &shared.matchmake) {
        // A resume goes back to the process that holds the session, without a seat.
        (Some(session), _) => {
            format!("{}&{}={}", session.url, crate::net::http::RESUME_PARAM, session.token)
        }
        (None, Some(base)) => {
            match crate::cluster::matchmake::request(base, shared.room_of(index).1).await {
                Ok(placement) => {
                    let process = crate::cluster::matchmake::host_port(&placement.url).to_owned();
                    outcome.process = Some(process);
                    format!("{}&name=bot-{index}", placement.url)
                }
                Err(error) => return End::Unreached(format!("matchmake: {error}")),
            }
        }
        (None, None) => {
            let separator = if shared.url.contains('?') { '&' } else { '?' };
            let mut url = format!("{}{separator}name=bot-{index}", shared.url);
            if let (_, Some(room)) = shared.room_of(index) {
                url.push_str(&format!("&{}={room}", crate::rooms::ROOM_PARAM));
            }
            url
        }
    };
    let connected = tokio::select! {
        result = timeout(CONNECT_TIMEOUT, BotClient::connect_with(&url, &shared.game, shared.tls.clone())) => result,
        _ = stop.changed() => return End::Stopped,
    };
    let client = match connected {
        Ok(Ok(client)) => client,
        Ok(Err(error)) if resume.is_some() => return End::ResumeFailed(error.to_string()),
        Ok(Err(error)) => return End::Unreached(error.to_string()),
        Err(_) => return End::Unreached("connect timed out".into()),
    };
    if let Some(session) = &resume {
        if client.welcome.entity_id != session.entity_id {
            let why =
                format!("resumed entity {}, not {}", client.welcome.entity_id, session.entity_id);
            return End::ResumeFailed(why);
        }
        outcome.resumed += 1;
    }
    if let Some(lost_at) = rematch {
        // Playing again after losing its server: the loss is no disconnect.
        outcome.rematched += 1;
        outcome.rematch_gap_max = outcome.rematch_gap_max.max(lost_at.elapsed());
        outcome.disconnected = None;
    }
    let token = client.resume_token();
    shared.connected_now.fetch_add(1, Relaxed);
    let connected_at = Instant::now();
    let (socket, welcome) = client.into_parts();
    let mut bot = Bot::new(index, shared, &welcome);
    bot.outcome = std::mem::take(outcome);
    let churn_at = lifetime.map(|(lifetime, _)| connected_at + lifetime);
    let mut end = bot.drive(socket, stop, churn_at, lifetime.is_some_and(|(_, drop)| drop)).await;
    if let End::Dropped(session) = &mut end {
        // The next connection presents a new token, and no seat (it was used).
        let url = without_param(&url, crate::net::http::RESUME_PARAM);
        let url = without_param(&url, crate::cluster::SEAT_PARAM);
        *session = Session { url, token, entity_id: welcome.entity_id };
    }
    shared.connected_now.fetch_sub(1, Relaxed);
    *outcome = bot.outcome;
    outcome.connected = true;
    outcome.connections += 1;
    outcome.tick_rate_hz = welcome.tick_rate_hz;
    let until = match &end {
        End::Stopped => shared.window_end(),
        End::Churned | End::Dropped(_) => Instant::now().min(shared.window_end()),
        End::Lost(_) | End::Unreached(_) | End::ResumeFailed(_) => {
            Instant::now().min(shared.window_end())
        }
    };
    let from = connected_at.max(shared.window_start);
    outcome.window_seconds += until.saturating_duration_since(from).as_secs_f64();
    end
}

/// A first connect that fails is a failed bot; a reconnect after churn that fails ends the
/// bot's presence early, so it counts as a disconnect (`reconnect-failed`).
fn failed(shared: &Shared, outcome: &mut BotOutcome, why: String) -> End {
    shared.errors.fetch_add(1, Relaxed);
    if outcome.connected {
        outcome.disconnected = Some(RECONNECT_FAILED.into());
    } else {
        outcome.failed = Some(why);
    }
    End::Stopped
}

/// `url` without its query parameter `key` (a used seat).
fn without_param(url: &str, key: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_owned() };
    let kept: Vec<&str> =
        query.split('&').filter(|pair| pair.split('=').next() != Some(key)).collect();
    format!("{base}?{}", kept.join("&"))
}

/// A resume that was refused, or that gave another entity: the bot's presence ends early,
/// counted as a disconnect (`resume-failed`).
fn failed_resume(shared: &Shared, outcome: &mut BotOutcome, why: String) -> End {
    tracing::debug!(%why, "resume failed");
    shared.errors.fetch_add(1, Relaxed);
    outcome.disconnected = Some(RESUME_FAILED.into());
    End::Stopped
}

/// Random connection lifetimes for churn: exponential with the given mean (so a bot's
/// leaving is memoryless, as real players' roughly is), capped at [`MAX_LIFETIME_MEANS`]
/// means. Seeded by the bot's index, so a run's churn is reproducible.
#[derive(Debug)]
pub struct Lifetimes {
    rng: fastrand::Rng,
    mean: Duration,
}

impl Lifetimes {
    /// Lifetimes with this mean for bot `seed`.
    pub fn new(mean: Duration, seed: u64) -> Lifetimes {
        Lifetimes { rng: fastrand::Rng::with_seed(seed ^ 0x5eed_c4a2), mean }
    }

    /// Whether the next connection ends with a drop (probability `share`).
    pub fn drop(&mut self, share: f64) -> bool {
        share > 0.0 && self.rng.f64() < share
    }

    /// The next connection's lifetime.
    pub fn draw(&mut self) -> Duration {
        // 1 - f64() is in (0, 1], so the logarithm is finite.
        let means = -(1.0 - self.rng.f64()).ln();
        self.mean.mul_f64(means.min(MAX_LIFETIME_MEANS))
    }
}

/// The receive loop's state.
struct Bot<'a> {
    shared: &'a Shared,
    /// The bot's room, as an index into the plan's rooms.
    room: usize,
    replica: crate::replication::Replica,
    steering: Steering,
    tick_rate_hz: u16,
    own_id: u32,
    seq: u32,
    acked: u32,
    /// Per input: its seq, when it was sent, and how many snapshots had arrived by then.
    sent: [(u32, Instant, u64); SENT_RING],
    /// Snapshots received (whole run).
    snapshots_seen: u64,
    timing: InputTiming,
    /// The game's input and the prediction of the own entity.
    player: Box<dyn BotPlayer>,
    ping: (u32, Instant),
    last_arrival: Option<Instant>,
    input: Vec<u8>,
    outcome: BotOutcome,
}

impl<'a> Bot<'a> {
    fn new(index: usize, shared: &'a Shared, welcome: &crate::protocol::Welcome) -> Bot<'a> {
        let (tick_rate_hz, own_id) = (welcome.tick_rate_hz, welcome.entity_id);
        let now = Instant::now();
        Bot {
            shared,
            room: shared.room_of(index).0,
            replica: {
                let mut replica = shared.game.replica();
                replica.own_id = own_id;
                replica
            },
            steering: Steering::new(shared.pattern, index as u64, tick_rate_hz),
            tick_rate_hz,
            own_id,
            seq: 0,
            acked: 0,
            sent: [(0, now, 0); SENT_RING],
            snapshots_seen: 0,
            timing: InputTiming::new(
                Duration::from_secs_f64(1.0 / f64::from(tick_rate_hz.max(1))),
                now,
            ),
            player: shared.game.player(&welcome.game, tick_rate_hz),
            ping: (0, now),
            last_arrival: None,
            input: Vec::with_capacity(16),
            outcome: BotOutcome::default(),
        }
    }

    /// Receives, steers and pings until the run stops, the connection ends, or `churn_at`.
    async fn drive(
        &mut self,
        mut socket: Socket,
        stop: &mut watch::Receiver<bool>,
        churn_at: Option<Instant>,
        drop_at_churn: bool,
    ) -> End {
        let start = TokioInstant::now();
        let input_due = sleep_until(TokioInstant::from_std(self.timing.next()));
        tokio::pin!(input_due);
        let mut pings = interval_at(start + PING_PERIOD, PING_PERIOD);
        pings.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let sends_inputs = self.steering.sends_inputs();
        let hard_end = sleep_until(self.shared.hard_end.into());
        tokio::pin!(hard_end);
        let churn = sleep_until(churn_at.unwrap_or(self.shared.hard_end).into());
        tokio::pin!(churn);
        // The loop ends at the stop signal or at `hard_end`, whichever comes first.
        let end = loop {
            // Cancel safety: `changed`, `next`, `tick` and `sleep` lose nothing when another
            // branch wins; sends are awaited in the branch bodies, never raced.
            tokio::select! {
                _ = stop.changed() => break End::Stopped,
                () = &mut hard_end => break End::Stopped,
                () = &mut churn, if churn_at.is_some() => {
                    if drop_at_churn {
                        // No close frame: the connection just goes, as on a lost network.
                        let placeholder =
                            Session { url: String::new(), token: String::new(), entity_id: 0 };
                        break End::Dropped(placeholder);
                    }
                    break End::Churned;
                }
                message = socket.next() => {
                    if let Err(label) = self.on_message(message) {
                        break End::Lost(label);
                    }
                }
                () = &mut input_due, if sends_inputs => {
                    if let Err(label) = self.send_input(&mut socket).await {
                        break End::Lost(label);
                    }
                }
                _ = pings.tick() => {
                    if let Err(label) = self.send_ping(&mut socket).await {
                        break End::Lost(label);
                    }
                }
            }
            let due = TokioInstant::from_std(self.timing.next());
            if input_due.deadline() != due {
                input_due.as_mut().reset(due);
            }
        };
        if let End::Stopped | End::Churned = end {
            close(socket).await;
        }
        end
    }

    fn on_message(
        &mut self,
        message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<(), String> {
        match message {
            None | Some(Err(_)) => Err("1006".into()),
            Some(Ok(Message::Binary(bytes))) => self.on_binary(&bytes, Instant::now()),
            Some(Ok(Message::Close(frame))) => {
                Err(frame.map_or(1005, |f| u16::from(f.code)).to_string())
            }
            Some(Ok(Message::Text(_))) => Err("text-frame".into()),
            Some(Ok(_)) => Ok(()),
        }
    }

    fn on_binary(&mut self, bytes: &[u8], now: Instant) -> Result<(), String> {
        let mut ops = OpCounts::default();
        match self.replica.apply_counting(bytes, &mut ops) {
            Ok(Applied::Snapshot { full, .. }) => {
                self.on_snapshot(now, bytes.len(), full, &ops);
                Ok(())
            }
            Ok(Applied::Pong(pong)) => {
                if pong.id == self.ping.0 && self.shared.in_window(now) {
                    self.shared.rtt_us.record(micros(now - self.ping.1));
                }
                Ok(())
            }
            Ok(Applied::Event { .. } | Applied::Notice(_)) => Ok(()),
            Ok(Applied::Welcome(_)) => Err("second-welcome".into()),
            Err(_) => {
                self.outcome.apply_errors += 1;
                Err("replica-error".into())
            }
        }
    }

    fn on_snapshot(&mut self, now: Instant, len: usize, full: bool, ops: &OpCounts) {
        let shared = self.shared;
        shared.snapshots.fetch_add(1, Relaxed);
        self.snapshots_seen += 1;
        self.timing.snapshot(self.replica.pacing);
        if full && self.last_arrival.is_some() {
            self.outcome.resyncs += 1;
        }
        let in_window = shared.in_window(now);
        if in_window {
            let o = &mut self.outcome;
            o.snapshots += 1;
            o.payload_bytes += len as u64;
            o.framed_bytes += (len + frame_header_bytes(len)) as u64;
            add(&mut o.moves, ops.single);
            add(&mut o.updates, ops.changes);
            shared.snapshot_bytes.record(len as u64);
            if let Some(previous) = self.last_arrival {
                shared.interval_us.record(micros(now - previous));
            }
        }
        self.last_arrival = Some(now);
        self.time_acked_inputs(now, in_window);
        self.reconcile(in_window);
        self.check_replica();
    }

    /// Reconciles the prediction of the own entity and records how far it moved.
    fn reconcile(&mut self, in_window: bool) {
        let Some(moved) = self.player.reconcile(&self.replica, self.own_id) else { return };
        if !in_window {
            return;
        }
        let o = &mut self.outcome;
        o.predicted += 1;
        o.corrected_over_tenth += u64::from(moved > 0.1);
        o.corrected_over_one += u64::from(moved > 1.0);
        self.shared.correction_milli.record((f64::from(moved) * 1000.0).round() as u64);
    }

    /// Times every input the snapshot reflects for the first time.
    fn time_acked_inputs(&mut self, now: Instant, in_window: bool) {
        let acked = self.replica.last_input_seq.min(self.seq);
        if acked.saturating_sub(self.acked) as usize > SENT_RING {
            let skipped = acked - self.acked - SENT_RING as u32;
            self.outcome.latency_lost += u64::from(skipped) * u64::from(in_window);
            self.acked += skipped;
        }
        // At most SENT_RING passes, by the jump above.
        while self.acked < acked {
            self.acked += 1;
            let (seq, sent_at, _) = self.sent[self.acked as usize % SENT_RING];
            if !in_window {
                continue;
            }
            if seq == self.acked {
                self.shared.latency_us.record(micros(now - sent_at));
            } else {
                self.outcome.latency_lost += 1;
            }
        }
    }

    fn check_replica(&mut self) {
        if !self.replica.contains(self.own_id) {
            self.outcome.own_missing += 1;
            self.shared.errors.fetch_add(1, Relaxed);
        }
        if Checker::samples(self.replica.tick, self.tick_rate_hz) {
            let key = (self.room, process_key(self.outcome.process.as_deref()));
            let checked = self.shared.checker.observe(key, self.replica.tick, &self.replica);
            self.outcome.compared += checked.compared;
            self.outcome.mismatches += checked.mismatches;
            self.shared.errors.fetch_add(checked.mismatches, Relaxed);
        }
    }

    async fn send_input(&mut self, socket: &mut Socket) -> Result<(), String> {
        let steer = self.steering.next_input(self.tick_rate_hz);
        self.seq += 1;
        // An input message: its tag, the seq (varint), then the game's input.
        self.input.clear();
        self.input.push(tags::MSG_INPUT);
        varint::write_u32(&mut self.input, self.seq);
        self.player.input(steer, &self.replica, self.own_id, self.seq, &mut self.input);
        let now = Instant::now();
        self.sent[self.seq as usize % SENT_RING] = (self.seq, now, self.snapshots_seen);
        self.timing.sent(now);
        self.outcome.inputs_sent += 1;
        let frame = Message::Binary(Bytes::copy_from_slice(&self.input));
        socket.send(frame).await.map_err(|_| "1006".to_owned())
    }

    async fn send_ping(&mut self, socket: &mut Socket) -> Result<(), String> {
        let id = self.ping.0.wrapping_add(1);
        self.ping = (id, Instant::now());
        let mut ping = Vec::with_capacity(6);
        ping.push(tags::MSG_PING);
        varint::write_u32(&mut ping, id);
        socket.send(Message::Binary(Bytes::from(ping))).await.map_err(|_| "1006".to_owned())
    }
}

/// Closes normally (1000) and drains briefly for the server's close.
async fn close(mut socket: Socket) {
    let frame = CloseFrame { code: 1000.into(), reason: "load test over".into() };
    let _ = timeout(CLOSE_TIMEOUT, async {
        let _ = socket.close(Some(frame)).await;
        // Bounded by the timeout around it.
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

fn add(total: &mut OpTally, more: OpTally) {
    total.count += more.count;
    total.bytes += more.bytes;
}

fn micros(duration: Duration) -> u64 {
    duration.as_micros().min(u128::from(u64::MAX)) as u64
}

/// Header bytes of an unmasked server-to-client WebSocket frame with this payload.
pub fn frame_header_bytes(payload: usize) -> usize {
    match payload {
        0..=125 => 2,
        126..=65_535 => 4,
        _ => 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_average_their_mean_and_stay_under_the_cap() {
        let mean = Duration::from_secs(30);
        let mut lifetimes = Lifetimes::new(mean, 7);
        let samples: Vec<Duration> = (0..20_000).map(|_| lifetimes.draw()).collect();
        let average = samples.iter().sum::<Duration>() / samples.len() as u32;
        let error = (average.as_secs_f64() / mean.as_secs_f64() - 1.0).abs();
        assert!(error < 0.05, "average {average:?} for a mean of {mean:?}");
        assert!(samples.iter().all(|&s| s <= mean.mul_f64(MAX_LIFETIME_MEANS)));
        let short = samples.iter().filter(|&&s| s < mean / 10).count();
        assert!(short > 0 && short < samples.len() / 5, "about 10 % shorter than a tenth");
        let mut again = Lifetimes::new(mean, 7);
        assert_eq!(again.draw(), samples[0], "seeded by the bot's index");
    }

    #[test]
    fn frame_headers_by_payload_size() {
        assert_eq!(frame_header_bytes(4), 2);
        assert_eq!(frame_header_bytes(125), 2);
        assert_eq!(frame_header_bytes(126), 4);
        assert_eq!(frame_header_bytes(65_535), 4);
        assert_eq!(frame_header_bytes(65_536), 10);
    }
}
