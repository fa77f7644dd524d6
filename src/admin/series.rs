//! The server's own figures, sampled once a second into a bounded ring: what the console's
//! live charts draw (`GET /admin/api/series`), and each room's bytes per second.

use crate::context::Shared;
use crate::net::inbox::Wire;
use crate::rooms::Directory;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time between two samples.
pub const SAMPLE_PERIOD: Duration = Duration::from_secs(1);

/// Samples kept: 300 at one a second are the last five minutes.
pub const SAMPLES_KEPT: usize = 300;

/// The server over one sample period.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// When it was taken, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// Ticks run per second, over all rooms.
    pub ticks_per_second: f64,
    /// Connections open.
    pub clients: usize,
    /// Rooms open.
    pub rooms: usize,
    /// Snapshot bytes handed to connections per second, over all rooms.
    pub bytes_per_second: f64,
    /// The slowest room's tick duration p99 over its recent ticks, in milliseconds.
    pub tick_ms_p99: f64,
}

/// What the last sample saw of one room, to turn its counters into rates.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    tick: u32,
    bytes: u64,
    bytes_per_second: f64,
}

/// The ring of samples, and the rooms' latest rates.
#[derive(Debug, Default)]
pub struct Series {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    samples: VecDeque<Sample>,
    rooms: HashMap<String, Seen>,
}

impl Series {
    /// Starts sampling `rooms` every [`SAMPLE_PERIOD`]; the sampling ends when the returned
    /// handle is aborted (or the runtime ends).
    pub fn start<W: Wire>(
        shared: Arc<Shared>,
        rooms: Arc<Directory<W>>,
    ) -> (Arc<Series>, tokio::task::JoinHandle<()>) {
        let series = Arc::new(Series::default());
        let sampling = series.clone();
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(SAMPLE_PERIOD);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last = Instant::now();
            loop {
                every.tick().await;
                let now = Instant::now();
                sampling.sample(&shared, &rooms, (now - last).as_secs_f64().max(1e-3));
                last = now;
            }
        });
        (series, task)
    }

    fn sample<W: Wire>(&self, shared: &Shared, rooms: &Directory<W>, seconds: f64) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let open = rooms.list();
        let (mut ticks, mut bytes, mut tick_ms_p99) = (0.0, 0.0, 0.0f64);
        let mut seen = HashMap::with_capacity(open.len());
        for room in &open {
            let tick = room.tick.load(Ordering::Relaxed);
            let total = room.figures.bytes_out();
            let before = state.rooms.get(&room.name).copied().unwrap_or_default();
            let ticked = f64::from(tick.saturating_sub(before.tick)) / seconds;
            let bytes_per_second = total.saturating_sub(before.bytes) as f64 / seconds;
            ticks += ticked;
            bytes += bytes_per_second;
            tick_ms_p99 = tick_ms_p99.max(room.figures.percentiles().tick_ms_p99);
            seen.insert(room.name.clone(), Seen { tick, bytes: total, bytes_per_second });
        }
        state.rooms = seen;
        if state.samples.len() == SAMPLES_KEPT {
            state.samples.pop_front();
        }
        state.samples.push_back(Sample {
            at_unix_ms: unix_ms(),
            ticks_per_second: ticks,
            clients: shared.connections.load(Ordering::Relaxed),
            rooms: open.len(),
            bytes_per_second: bytes,
            tick_ms_p99,
        });
    }

    /// The samples kept, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.samples.iter().copied().collect()
    }

    /// Snapshot bytes per second `room` handed to its connections over the last sample
    /// period (0 before its first two samples).
    pub fn bytes_per_second(&self, room: &str) -> f64 {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.rooms.get(room).map_or(0.0, |seen| seen.bytes_per_second)
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}
