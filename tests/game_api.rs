//! The API a game reaches for, in-process with time owned by the test: enums as components
//! and as inputs, entities relevant to everyone, per-client visibility (teams), and the order
//! of the game's systems against input application and replication capture.

use bevy_ecs::prelude::*;
use glam::Vec2;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use tickwire::protocol::{CodecSchema, Type};
use tickwire::replication::ClientView;
use tickwire::{
    AlwaysRelevant, ClientInfo, Game, GameBuilder, GameInput, Inputs, InterestConfig, MemberOf,
    NetId, NoMessages, Replica, Replicated, Room, RoomSettings, Spatial, Tick, TickSet, VisibleTo,
};

/// A player's state: an enum component.
#[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
enum Stance {
    #[default]
    Idle,
    Running {
        speed: u8,
    },
    Down(u16),
}

/// An enum input.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
enum Command {
    #[default]
    Stay,
    Run {
        speed: u8,
    },
    Fall(u16),
}

impl GameInput for Command {
    fn samples() -> Vec<Command> {
        vec![Command::Stay, Command::Run { speed: 0 }, Command::Fall(0)]
    }
}

#[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Spot(f32, f32);

impl Spatial for Spot {
    fn position(&self) -> Vec2 {
        Vec2::new(self.0, self.1)
    }
}

/// Set in [`TickSet::BeforeCapture`] from what the simulation did: proves capture runs after.
#[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Commands(u32);

/// What each tick set saw, per tick: (set, the own entity's inputs this tick, its Stance).
#[derive(Resource, Default)]
struct Seen(Vec<(TickSet, Vec<Command>, Stance)>);

#[derive(Clone)]
struct Teams;

const VIEW: f32 = 10.0;

impl Game for Teams {
    type Input = Command;
    type Welcome = ();
    type Message = NoMessages;
    type Event = NoMessages;
    const NAME: &'static str = "teams";

    fn build(&mut self, game: &mut GameBuilder<'_>) {
        game.replicate_variants(&[Stance::Idle, Stance::Running { speed: 1 }, Stance::Down(1)]);
        game.replicate::<Spot>();
        game.replicate::<Commands>();
        game.interest::<Spot>(InterestConfig { view_radius: VIEW, world_size: 1000.0 });
        game.world().init_resource::<Seen>();
        game.add_systems_to(TickSet::BeforeInput, record(TickSet::BeforeInput));
        game.add_systems((record(TickSet::Simulate), apply_commands).chain());
        game.add_systems_to(
            TickSet::BeforeCapture,
            (count_commands, record(TickSet::BeforeCapture)),
        );
    }

    fn welcome(&self) {}

    fn join(&mut self, world: &mut World, client: &ClientInfo) -> Entity {
        let team = client.param("team").and_then(|t| t.parse().ok()).unwrap_or(0);
        let x = client.param("x").and_then(|x| x.parse().ok()).unwrap_or(0.0);
        let parts = (Replicated, Stance::Idle, Spot(x, 0.0), Commands(0));
        world.spawn((parts, VisibleTo::group(team), MemberOf::group(team))).id()
    }
}

type Players<'w, 's> = Query<'w, 's, (&'static Inputs<Command>, &'static Stance)>;

/// A system that records what the own entities look like when its set runs.
fn record(set: TickSet) -> impl FnMut(ResMut<Seen>, Players) {
    move |mut seen: ResMut<Seen>, players: Players| {
        for (inputs, stance) in &players {
            seen.0.push((set, inputs.this_tick().to_vec(), stance.clone()));
        }
    }
}

fn apply_commands(mut players: Query<(&Inputs<Command>, &mut Stance)>) {
    for (inputs, mut stance) in &mut players {
        for command in inputs.this_tick() {
            *stance = match command {
                Command::Stay => Stance::Idle,
                Command::Run { speed } => Stance::Running { speed: *speed },
                Command::Fall(time) => Stance::Down(*time),
            };
        }
    }
}

fn count_commands(mut players: Query<(&Inputs<Command>, &mut Commands)>) {
    for (inputs, mut commands) in &mut players {
        commands.0 += inputs.this_tick().len() as u32;
    }
}

fn tick_start(t: u32) -> Instant {
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    *START + Duration::from_micros(33_333) * t
}

fn room() -> Room<Teams> {
    let settings = RoomSettings { history_ticks: 8, ..RoomSettings::default() };
    Room::new(Teams, settings).expect("the game registers")
}

fn join(room: &mut Room<Teams>, id: u32, team: u32, x: f32) -> (Entity, NetId) {
    let query = vec![("team".into(), team.to_string()), ("x".into(), x.to_string())];
    room.join(&ClientInfo { client_id: id, query, identity: None })
}

/// A client as the server sees it: its view, and the replica its snapshots build.
struct Watcher {
    entity: Entity,
    view: ClientView,
    replica: Replica,
}

impl Watcher {
    fn new(room: &Room<Teams>, (entity, own): (Entity, NetId)) -> Watcher {
        Watcher {
            entity,
            view: ClientView::new(own),
            replica: Replica::new(room.registry().clone()),
        }
    }

    /// Builds this tick's snapshot for the client and applies it.
    fn receive(&mut self, room: &mut Room<Teams>) {
        self.view.settle(false);
        let mut bytes = Vec::new();
        room.build(&mut self.view, self.entity, &mut bytes);
        self.replica.apply(&bytes).expect("the snapshot applies");
    }

    fn sees(&self, room: &Room<Teams>, entity: Entity) -> bool {
        let id = room.world().get::<NetId>(entity).expect("a wire id").id;
        self.replica.contains(id)
    }
}

#[test]
fn enums_are_components_and_inputs() {
    let mut room = room();
    let schema = room.schema().clone();
    let Type::Enum { name, variants } = &schema.input else { panic!("{:?}", schema.input) };
    assert_eq!((name.as_str(), variants.len()), ("Command", 3));
    let stance = schema.components.iter().find(|c| c.name == "Stance").expect("registered");
    let CodecSchema::Serde(Type::Enum { variants, .. }) = &stance.codec else {
        panic!("{:?}", stance.codec)
    };
    let names: Vec<_> = variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["Idle", "Running", "Down"]);

    let player = join(&mut room, 1, 0, 0.0);
    let mut watcher = Watcher::new(&room, player);
    let id = player.1.id;
    for (t, command, expected) in [
        (1, Command::Run { speed: 7 }, Stance::Running { speed: 7 }),
        (2, Command::Fall(300), Stance::Down(300)),
        (3, Command::Stay, Stance::Idle),
    ] {
        room.push_input(player.0, t, command, tick_start(t)).expect("queued");
        room.step(Tick(t), tick_start(t));
        watcher.receive(&mut room);
        assert_eq!(watcher.replica.get::<Stance>(id), Some(expected), "tick {t}");
    }
}

#[test]
fn an_enum_nested_in_a_struct_is_refused_with_a_reason() {
    #[derive(Clone)]
    struct Nested;
    #[derive(Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Holder(Stance);
    impl Game for Nested {
        type Input = ();
        type Welcome = ();
        type Message = NoMessages;
        type Event = NoMessages;
        const NAME: &'static str = "nested";
        fn build(&mut self, game: &mut GameBuilder<'_>) {
            game.replicate::<Holder>();
        }
        fn welcome(&self) {}
        fn join(&mut self, world: &mut World, _: &ClientInfo) -> Entity {
            world.spawn(Replicated).id()
        }
    }
    let error = Room::new(Nested, RoomSettings::default()).err().expect("refused");
    assert!(error.contains("Holder") && error.contains("enum Stance: one sample"), "{error}");
}

#[test]
fn an_always_relevant_entity_reaches_every_client_whatever_the_interest() {
    let mut room = room();
    let far = 10.0 * VIEW;
    let board = room.world_mut().spawn((Replicated, Spot(far, far), AlwaysRelevant)).id();
    let plain = room.world_mut().spawn((Replicated, Spot(far, far))).id();
    let player = join(&mut room, 1, 0, 0.0);
    let mut watcher = Watcher::new(&room, player);
    room.step(Tick(1), tick_start(1));
    watcher.receive(&mut room);
    assert!(watcher.sees(&room, board), "the scoreboard is sent from any distance");
    assert!(!watcher.sees(&room, plain), "an entity as far, not always relevant, is not");
    room.world_mut().entity_mut(board).remove::<AlwaysRelevant>();
    room.step(Tick(2), tick_start(2));
    watcher.receive(&mut room);
    assert!(!watcher.sees(&room, board), "no longer always relevant: despawned for the client");
}

#[test]
fn two_teams_see_only_their_own() {
    let mut room = room();
    let a1 = join(&mut room, 1, 1, 0.0);
    let a2 = join(&mut room, 2, 1, 1.0);
    let b1 = join(&mut room, 3, 2, 2.0);
    // Everyone's: no VisibleTo. The flag is near everyone. A bystander in no group sees it
    // and nothing else.
    let bystander = join(&mut room, 4, 0, 1.0);
    room.world_mut().entity_mut(bystander.0).remove::<(VisibleTo, MemberOf)>();
    let flag = room.world_mut().spawn((Replicated, Spot(1.5, 0.0))).id();
    let mut watchers: Vec<Watcher> = [a1, a2, b1, bystander].map(|p| Watcher::new(&room, p)).into();
    for t in 1..=2 {
        room.step(Tick(t), tick_start(t));
        watchers.iter_mut().for_each(|w| w.receive(&mut room));
    }
    let [wa1, wa2, wb1, wby] = &watchers[..] else { unreachable!() };
    assert!(![a1, a2, b1].iter().any(|p| wby.sees(&room, p.0)), "no group, no team seen");
    assert!(wa1.sees(&room, bystander.0), "the bystander has no VisibleTo: everyone sees it");
    assert!(wa1.sees(&room, a2.0) && wa2.sees(&room, a1.0), "team 1 sees team 1");
    assert!(!wa1.sees(&room, b1.0) && !wa2.sees(&room, b1.0), "team 1 does not see team 2");
    assert!(!wb1.sees(&room, a1.0) && !wb1.sees(&room, a2.0), "team 2 does not see team 1");
    assert!(wb1.sees(&room, b1.0), "a client sees its own entity");
    let flag_seen: Vec<bool> = watchers.iter().map(|w| w.sees(&room, flag)).collect();
    assert_eq!(flag_seen, [true; 4], "everyone sees the flag");

    // b1 is spotted by team 1: it enters their view (a spawn), then leaves it (a despawn).
    room.world_mut().entity_mut(b1.0).insert(VisibleTo::group(2).and(1));
    room.step(Tick(3), tick_start(3));
    watchers.iter_mut().for_each(|w| w.receive(&mut room));
    assert!(watchers[0].sees(&room, b1.0) && watchers[1].sees(&room, b1.0));
    assert!(!watchers[2].sees(&room, a1.0), "team 2 still does not see team 1");
    room.world_mut().entity_mut(b1.0).insert(VisibleTo::group(2));
    room.step(Tick(4), tick_start(4));
    watchers.iter_mut().for_each(|w| w.receive(&mut room));
    assert!(!watchers[0].sees(&room, b1.0) && !watchers[1].sees(&room, b1.0));

    // Interest still applies within a team: a teammate far away is not sent.
    room.world_mut().get_mut::<Spot>(a2.0).expect("spot").0 = 10.0 * VIEW;
    room.step(Tick(5), tick_start(5));
    watchers.iter_mut().for_each(|w| w.receive(&mut room));
    assert!(!watchers[0].sees(&room, a2.0), "out of interest, same team");
}

#[test]
fn systems_run_in_their_tick_set_around_input_application_and_capture() {
    let mut room = room();
    let player = join(&mut room, 1, 0, 0.0);
    let mut watcher = Watcher::new(&room, player);
    room.push_input(player.0, 1, Command::Run { speed: 3 }, tick_start(1)).expect("queued");
    room.step(Tick(1), tick_start(1));
    room.step(Tick(2), tick_start(2));
    watcher.receive(&mut room);
    let run = vec![Command::Run { speed: 3 }];
    let running = Stance::Running { speed: 3 };
    let seen = std::mem::take(&mut room.world_mut().resource_mut::<Seen>().0);
    assert_eq!(
        seen,
        [
            // Tick 1: before input application, no input yet; the simulation sees it and
            // acts; after it, the change is there.
            (TickSet::BeforeInput, vec![], Stance::Idle),
            (TickSet::Simulate, run.clone(), Stance::Idle),
            (TickSet::BeforeCapture, run.clone(), running.clone()),
            // Tick 2: before input application, the last tick's input is still held.
            (TickSet::BeforeInput, run.clone(), running.clone()),
            (TickSet::Simulate, vec![], running.clone()),
            (TickSet::BeforeCapture, vec![], running.clone()),
        ]
    );
    // What BeforeCapture wrote was captured in the same tick.
    assert_eq!(watcher.replica.get::<Commands>(player.1.id), Some(Commands(1)));
}
