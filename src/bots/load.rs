//! The load test: spawns N bots over the ramp-up, scrapes the server's `/metrics` around the
//! measurement window, stops everything at the deadline (or Ctrl-C) and builds the report.
//!
//! Timeline: `t0` → connects spread over `ramp_up` → a settle period → window start (scrape)
//! → window end at `t0 + duration` (scrape) → bots close → a last scrape for disconnect
//! reasons. Nothing waits past `duration + GRACE`. Beside it, [`timeline`] samples the
//! server's memory and clients every few seconds from `t0` to the last scrape.

use super::bot::{self, BotOutcome};
use super::game::GameSpec;
use super::pattern::Pattern;
use super::report::{self, Report, RunInfo, Scrapes};
use super::scrape::{self, Scrape};
use super::shared::Shared;
use super::timeline;
use std::future::Future;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout_at};

/// Longest time after the deadline before every bot has been stopped and joined.
const GRACE: Duration = Duration::from_secs(5);
/// Time after the ramp-up before measuring, so connects and first full snapshots settle.
const SETTLE: Duration = Duration::from_secs(1);
/// Most bots in one process.
pub const MAX_CLIENTS: usize = 20_000;
/// Plain progress lines (stderr not a terminal) come this often.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `ws://HOST:PORT/ws`.
    pub url: String,
    /// Bots.
    pub clients: usize,
    /// From start to stop, ramp-up included.
    pub duration: Duration,
    /// Connects are spread over this long.
    pub ramp_up: Duration,
    /// How bots move.
    pub pattern: Pattern,
    /// `/metrics` URL; `None` derives it from `url`.
    pub metrics_url: Option<String>,
    /// Copied into the report.
    pub label: String,
    /// Show a live progress line on stderr.
    pub progress: bool,
    /// Worker threads of the runtime this runs on (for the report).
    pub bot_threads: usize,
    /// Churn: each bot closes after a random lifetime with this mean and connects again as
    /// a fresh client, for the whole run; `None` keeps one connection per bot.
    pub churn: Option<Duration>,
    /// With churn, the share (0..=1) of connection ends that are drops followed by a resume
    /// of the session instead of a goodbye and a fresh join.
    pub resume_share: f64,
    /// The rooms the bots join, bot `i` the room `i % len` (`/ws?room=NAME`); empty: the
    /// server's default room. See [`room_names`].
    pub rooms: Vec<String>,
    /// Join through matchmaking at this `http://host:port` (see [`Shared::matchmake`]).
    pub matchmake: Option<String>,
    /// The TLS client configuration for `wss://` and `https://` metrics (see
    /// [`crate::bots::client::trusting`]); `None`: `wss://` verified against the Mozilla
    /// roots, and metrics over plain `http://` only.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// The rooms of `--room NAME` and `--rooms COUNT`: `NAME` alone, or `COUNT` rooms
/// `NAME-0`, `NAME-1`… (`bots-0`… without a name); none for neither.
pub fn room_names(room: Option<&str>, count: usize) -> Vec<String> {
    match (room, count) {
        (room, 0 | 1) => room.map(str::to_owned).into_iter().collect(),
        (room, count) => (0..count).map(|k| format!("{}-{k}", room.unwrap_or("bots"))).collect(),
    }
}

impl LoadOptions {
    /// Defaults for `clients` bots against `url`: 10 s, 1 s ramp-up, random walk, no progress.
    pub fn new(url: impl Into<String>, clients: usize) -> LoadOptions {
        LoadOptions {
            url: url.into(),
            clients,
            duration: Duration::from_secs(10),
            ramp_up: Duration::from_secs(1),
            pattern: Pattern::RandomWalk,
            metrics_url: None,
            label: String::new(),
            progress: false,
            bot_threads: 1,
            rooms: Vec::new(),
            matchmake: None,
            tls: None,
            churn: None,
            resume_share: 0.0,
        }
    }

    fn validate(&self) -> Result<String, String> {
        if !self.url.starts_with("ws://") && !self.url.starts_with("wss://") {
            return Err(format!("{}: the URL must start with ws:// or wss://", self.url));
        }
        if !(1..=MAX_CLIENTS).contains(&self.clients) {
            return Err(format!("--clients {} is outside 1..={MAX_CLIENTS}", self.clients));
        }
        if self.duration.is_zero() || self.ramp_up >= self.duration {
            return Err(format!(
                "--ramp-up {:?} must be shorter than --duration {:?}",
                self.ramp_up, self.duration
            ));
        }
        if self.churn.is_some_and(|mean| mean.is_zero()) {
            return Err("--churn-s must be more than 0".into());
        }
        if !(0.0..=1.0).contains(&self.resume_share) {
            return Err(format!("--resume-share {} is outside 0..=1", self.resume_share));
        }
        if self.resume_share > 0.0 && self.churn.is_none() {
            return Err("--resume-share needs --churn-s: it is a share of the churn".into());
        }
        match &self.metrics_url {
            Some(url) => Ok(url.clone()),
            None => scrape::metrics_url_for(&self.url),
        }
    }
}

/// Runs the load test; `shutdown` (Ctrl-C) ends it early with a report.
pub async fn run(
    game: &GameSpec,
    options: &LoadOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<Report, String> {
    let metrics_url = options.validate()?;
    let mut scrapes = Scrapes::default();
    let mut server_error = None;
    let mut note = |result: Result<Scrape, String>| match result {
        Ok(scrape) => Some(scrape),
        Err(error) => {
            server_error.get_or_insert(error);
            None
        }
    };
    let fetch = || scrape::fetch_async_with(&metrics_url, options.tls.clone());
    scrapes.before = note(fetch().await);
    let settle = SETTLE.min((options.duration - options.ramp_up) / 4);
    let mut plan = Shared::new(
        game.clone(),
        options.url.clone(),
        options.pattern,
        options.clients,
        options.ramp_up,
        options.ramp_up + settle,
        options.duration,
        GRACE,
    );
    plan.churn = options.churn;
    plan.resume_share = options.resume_share;
    plan.rooms = options.rooms.clone();
    plan.matchmake = options.matchmake.clone();
    plan.tls = options.tls.clone();
    let shared = Arc::new(plan);
    let (stop, stopped) = watch::channel(false);
    let (stop_sampling, sampling) = watch::channel(false);
    let period = timeline::period_for(options.duration);
    let sampler =
        tokio::spawn(timeline::sample(metrics_url.clone(), shared.clone(), period, sampling));
    let bots: Vec<_> = (0..options.clients)
        .map(|i| tokio::spawn(bot::run(i, shared.clone(), stopped.clone())))
        .collect();
    let progress = tokio::spawn(progress(shared.clone(), stopped.clone(), options.progress));

    tokio::pin!(shutdown);
    let mut interrupted = false;
    // This process's CPU seconds at window start: what the bots themselves cost.
    let mut bot_cpu = f64::NAN;
    tokio::select! {
        () = sleep_until(shared.window_start.into()) => {
            scrapes.start = note(fetch().await);
            bot_cpu = crate::metrics::process_cpu_seconds();
        }
        () = &mut shutdown => interrupted = true,
    }
    if !interrupted {
        tokio::select! {
            () = sleep_until(shared.window_end().into()) => {}
            () = &mut shutdown => interrupted = true,
        }
    }
    if interrupted {
        shared.end_window_now();
    }
    scrapes.end = note(fetch().await);
    bot_cpu = crate::metrics::process_cpu_seconds() - bot_cpu;
    let _ = stop.send(true);
    let outcomes = join_all(bots, shared.hard_end).await;
    // Let the server count the closes before the last scrape.
    tokio::time::sleep(Duration::from_millis(300)).await;
    scrapes.after = note(fetch().await);
    let _ = stop_sampling.send(true);
    let mut series = sampler.await.unwrap_or_default();
    // The page read after the bots closed ends the series.
    timeline::record(&mut series, scrapes.after.clone().ok_or_else(String::new), &shared);
    let _ = progress.await;
    if scrapes.start.is_none() && server_error.is_none() {
        server_error = Some("interrupted before the measurement window began".into());
    }

    let run = RunInfo {
        url: options.url.clone(),
        pattern: format!("{:?}", options.pattern),
        clients: options.clients,
        duration_s: shared.window_end().saturating_duration_since(shared.t0).as_secs_f64(),
        ramp_up_s: options.ramp_up.as_secs_f64(),
        window_s: shared.window_seconds(),
        tick_rate_hz: outcomes.iter().map(|o| o.tick_rate_hz).max().unwrap_or(0),
        bot_threads: options.bot_threads,
        rooms: options.rooms.len().max(1),
        bot_cpu_cores: 0.0,
        bot_cpu_us_per_snapshot: 0.0,
        interrupted,
    };
    let mut report = report::build(&shared, run, &outcomes);
    if bot_cpu.is_finite() {
        let snapshots: u64 = outcomes.iter().map(|o| o.snapshots).sum();
        report.run.bot_cpu_cores = bot_cpu / report.run.window_s.max(1e-3);
        report.run.bot_cpu_us_per_snapshot = bot_cpu * 1e6 / snapshots.max(1) as f64;
    }
    report.label = options.label.clone();
    report.processes = report::per_process(&outcomes, report.run.window_s);
    report.timeline = series;
    report.churn.mean_lifetime_s = options.churn.map(|mean| mean.as_secs_f64());
    let staying = report.clients.connected - report.clients.disconnected;
    // A scrape that failed is reported first; a metric missing from one that worked next.
    match report::server_figures(&scrapes, staying, report.run.window_s) {
        Some(Ok(figures)) => report.server = Some(figures),
        Some(Err(missing)) => {
            server_error.get_or_insert_with(|| missing.to_string());
        }
        None => {}
    }
    report.server_error = server_error;
    Ok(report)
}

/// Joins every bot by `deadline`; a bot still running then is aborted and counted failed.
async fn join_all(
    bots: Vec<tokio::task::JoinHandle<BotOutcome>>,
    deadline: Instant,
) -> Vec<BotOutcome> {
    let mut outcomes = Vec::with_capacity(bots.len());
    for handle in bots {
        let abort = handle.abort_handle();
        let outcome = match timeout_at(deadline.into(), handle).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => {
                BotOutcome { failed: Some(format!("bot task: {error}")), ..BotOutcome::default() }
            }
            Err(_) => {
                abort.abort();
                BotOutcome { failed: Some("did not stop in time".into()), ..BotOutcome::default() }
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// A live line on stderr: an indicatif spinner on a terminal, else a plain line every few
/// seconds (or nothing when `enabled` is false).
async fn progress(shared: Arc<Shared>, mut stop: watch::Receiver<bool>, enabled: bool) {
    if !enabled {
        return;
    }
    let tty = std::io::stderr().is_terminal();
    let bar = tty.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar
    });
    let every = if tty { Duration::from_millis(500) } else { PLAIN_PROGRESS_EVERY };
    let mut ticker = tokio::time::interval(every);
    let (mut last_at, mut last_count) = (Instant::now(), 0);
    let hard_end = sleep_until(shared.hard_end.into());
    tokio::pin!(hard_end);
    // Ends at the stop signal or the hard end.
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            () = &mut hard_end => break,
            _ = ticker.tick() => {}
        }
        let (now, count) = (Instant::now(), shared.snapshots.load(Relaxed));
        let rate =
            (count - last_count) as f64 / now.duration_since(last_at).as_secs_f64().max(1e-3);
        (last_at, last_count) = (now, count);
        let line = format!(
            "connected {}/{} | {:.0} snapshots/s | errors {}",
            shared.connected_now.load(Relaxed),
            shared.clients,
            rate,
            shared.errors.load(Relaxed)
        );
        match &bar {
            Some(bar) => {
                bar.set_message(line);
                bar.tick();
            }
            None => eprintln!("tickwire bots: {:.0}s {line}", shared.t0.elapsed().as_secs_f64()),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
