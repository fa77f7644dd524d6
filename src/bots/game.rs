//! What the bots need of a game: its registry (to keep replicas), its schema hash (to check
//! the server runs the same game), the hook that turns a bot's steering into the game's
//! input, and optionally the game's rules for its own entity, so a bot predicts it as a
//! client does and measures how far the server corrects it.

use crate::game::Game;
use crate::protocol::encode_into;
use crate::registry::Registry;
use crate::replication::Replica;
use crate::room::registry_of;
use glam::Vec2;
use std::collections::VecDeque;
use std::sync::Arc;

/// What a bot's steering pattern asks for this tick; a game maps it to its own input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Steer {
    /// Direction x, -127..=127 (both 0: stand still).
    pub x: i8,
    /// Direction y, -127..=127.
    pub y: i8,
    /// Whether the pattern presses the action button (boost, paint, fire...).
    pub action: bool,
}

/// What a bot predicts of its own entity: where it is and how it moves.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Body {
    /// Position, world units.
    pub position: Vec2,
    /// Velocity, world units per second.
    pub velocity: Vec2,
}

/// A game the bots can play: the hook that makes a bot's input, and optionally its rules.
pub trait BotGame: Game {
    /// The input bot `own` sends this tick, given its steering and what it holds.
    fn bot_input(steer: Steer, replica: &Replica, own: u32) -> Self::Input;

    /// The own entity as `replica` holds it: the server's state right after the last input
    /// it acknowledged. `None` (the default): the game's bots do not predict.
    fn own_body(_replica: &Replica, _own: u32) -> Option<Body> {
        None
    }

    /// One tick of the game's rules for the own entity: what the server does with `input`
    /// (`dt` seconds per tick). Used only when [`BotGame::own_body`] gives a body.
    fn predict(body: Body, _input: &Self::Input, _welcome: &Self::Welcome, _dt: f32) -> Body {
        body
    }
}

/// One connection's input and prediction, type-erased.
pub trait BotPlayer: Send {
    /// Appends this tick's input (its bincode bytes) to `out`, and predicts it as input `seq`.
    fn input(&mut self, steer: Steer, replica: &Replica, own: u32, seq: u32, out: &mut Vec<u8>);

    /// A snapshot was applied to `replica`: starts again from the server's state and replays
    /// the inputs it has not applied yet. Returns how far that moved the predicted position
    /// (world units), or `None` when nothing was predicted before.
    fn reconcile(&mut self, replica: &Replica, own: u32) -> Option<f32>;
}

/// Inputs kept for replay while the server has not applied them (2 s at 30 Hz).
const MAX_PENDING: usize = 64;

/// A [`BotPlayer`] for a game `G`.
struct Player<G: BotGame> {
    /// The welcome's game value, which the rules read; `None`: no prediction.
    welcome: Option<G::Welcome>,
    dt: f32,
    pending: VecDeque<(u32, G::Input)>,
    predicted: Option<Body>,
}

impl<G: BotGame> BotPlayer for Player<G> {
    fn input(&mut self, steer: Steer, replica: &Replica, own: u32, seq: u32, out: &mut Vec<u8>) {
        let input = G::bot_input(steer, replica, own);
        encode_into(&input, out);
        let Some(welcome) = &self.welcome else { return };
        self.predicted = self.predicted.map(|body| G::predict(body, &input, welcome, self.dt));
        self.pending.push_back((seq, input));
        if self.pending.len() > MAX_PENDING {
            self.pending.pop_front();
        }
    }

    fn reconcile(&mut self, replica: &Replica, own: u32) -> Option<f32> {
        let welcome = self.welcome.as_ref()?;
        let acked = replica.last_input_seq;
        while self.pending.front().is_some_and(|(seq, _)| *seq <= acked) {
            self.pending.pop_front();
        }
        let Some(server) = G::own_body(replica, own) else {
            self.predicted = None;
            return None;
        };
        let replayed = self
            .pending
            .iter()
            .fold(server, |body, (_, input)| G::predict(body, input, welcome, self.dt));
        let before = self.predicted.replace(replayed)?;
        Some(before.position.distance(replayed.position))
    }
}

type PlayerHook = dyn Fn(&[u8], u16) -> Box<dyn BotPlayer> + Send + Sync;

/// A game as the bots see it, type-erased so the load tester is not generic.
#[derive(Clone)]
pub struct GameSpec {
    /// The game's name.
    pub name: String,
    /// Its replicated components, for replicas.
    pub registry: Arc<Registry>,
    /// The schema hash its server must announce.
    pub schema_hash: u64,
    player: Arc<PlayerHook>,
}

impl std::fmt::Debug for GameSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GameSpec").field("name", &self.name).finish()
    }
}

impl GameSpec {
    /// The spec of `game`; fails if its registrations are invalid.
    pub fn of<G: BotGame>(mut game: G) -> Result<GameSpec, String> {
        let (registry, schema) = registry_of(&mut game)?;
        let player: Arc<PlayerHook> = Arc::new(|welcome, tick_rate_hz| {
            // A welcome value that does not decode only turns prediction off.
            let welcome = crate::protocol::decode_exact::<G::Welcome>(welcome, usize::MAX).ok();
            Box::new(Player::<G> {
                welcome,
                dt: 1.0 / f32::from(tick_rate_hz.max(1)),
                pending: VecDeque::new(),
                predicted: None,
            })
        });
        Ok(GameSpec { name: G::NAME.to_owned(), registry, schema_hash: schema.hash(), player })
    }

    /// An empty replica of this game.
    pub fn replica(&self) -> Replica {
        Replica::new(self.registry.clone())
    }

    /// A player for one connection, from its welcome's game value and tick rate.
    pub fn player(&self, welcome_game: &[u8], tick_rate_hz: u16) -> Box<dyn BotPlayer> {
        (self.player)(welcome_game, tick_rate_hz)
    }
}
