//! What the bots need of a game: its registry (to keep replicas), its schema hash (to check
//! the server runs the same game), and the hook that turns a bot's steering into the game's
//! input.

use crate::game::Game;
use crate::protocol::encode_into;
use crate::registry::Registry;
use crate::replication::Replica;
use crate::room::registry_of;
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

/// A game the bots can play: the hook that makes a bot's input.
pub trait BotGame: Game {
    /// The input bot `own` sends this tick, given its steering and what it holds.
    fn bot_input(steer: Steer, replica: &Replica, own: u32) -> Self::Input;
}

type InputHook = dyn Fn(Steer, &Replica, u32, &mut Vec<u8>) + Send + Sync;

/// A game as the bots see it, type-erased so the load tester is not generic.
#[derive(Clone)]
pub struct GameSpec {
    /// The game's name.
    pub name: String,
    /// Its replicated components, for replicas.
    pub registry: Arc<Registry>,
    /// The schema hash its server must announce.
    pub schema_hash: u64,
    input: Arc<InputHook>,
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
        let input: Arc<InputHook> = Arc::new(|steer, replica, own, out| {
            encode_into(&G::bot_input(steer, replica, own), out);
        });
        Ok(GameSpec { name: G::NAME.to_owned(), registry, schema_hash: schema.hash(), input })
    }

    /// An empty replica of this game.
    pub fn replica(&self) -> Replica {
        Replica::new(self.registry.clone())
    }

    /// Appends the game's input for this tick (its bincode bytes) to `out`.
    pub fn write_input(&self, steer: Steer, replica: &Replica, own: u32, out: &mut Vec<u8>) {
        (self.input)(steer, replica, own, out);
    }
}
