//! The simulation: a builder in the style of turmoil, one seed, and `run` built on `step`.
//!
//! A [`Sim`] holds a site, a seed, a virtual-time budget and network settings. Each
//! [`Sim::run`] (or [`Sim::start`] then [`Running::step`]) builds a fresh world from them: a
//! [`VirtualClock`] at zero, a [`SimTransport`] with an [`Rng`](crate::Rng) seeded from the
//! seed, and the real engine, [`crawler::Crawler`], over both. Two runs of one `Sim` with one
//! config are therefore identical, event for event; the trace hash says so.

use std::cell::RefCell;
use std::fmt;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use crawler::{Config, NoStore, Record, Stop, Store, Summary, Transport};
use crawler_site::{Faults, Latency, Site};

use crate::client::DEFAULT_MAX_BODY;
use crate::clock::VirtualClock;
use crate::net::{LoggedRequest, SimTransport};
use crate::running::Core;

/// The default virtual-time budget: one day.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(24 * 3600);

/// Why a simulation failed. Every variant carries the seed, so the failure can be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// The crawl is not finished, nothing is runnable, and no timer is pending.
    Deadlock {
        /// The run's seed.
        seed: u64,
        /// Virtual time when it stalled.
        at: Duration,
    },
    /// The crawl would run past the virtual-time budget.
    BudgetOverrun {
        /// The run's seed.
        seed: u64,
        /// The budget.
        budget: Duration,
        /// When the next timer is due.
        next: Duration,
    },
    /// [`SimBuilder::build`] was called without a site.
    NoSite,
}

impl SimError {
    /// The seed of the failed run, if it got as far as running.
    pub fn seed(&self) -> Option<u64> {
        match self {
            SimError::Deadlock { seed, .. } | SimError::BudgetOverrun { seed, .. } => Some(*seed),
            SimError::NoSite => None,
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Deadlock { seed, at } => write!(
                f,
                "deadlock at virtual time {at:?}: the crawl is not finished, nothing is runnable \
                 and no timer is pending (seed {seed})"
            ),
            SimError::BudgetOverrun { seed, budget, next } => write!(
                f,
                "virtual-time budget of {budget:?} overrun: the crawl is still running and its \
                 next timer is due at {next:?} (seed {seed})"
            ),
            SimError::NoSite => write!(f, "no site given to the simulation"),
        }
    }
}

impl std::error::Error for SimError {}

/// Builds a [`Sim`]. Defaults: seed 0, budget [`DEFAULT_BUDGET`], the site's own latency and
/// faults, body cap [`DEFAULT_MAX_BODY`], no text trace.
#[derive(Debug, Clone, Default)]
pub struct SimBuilder {
    seed: u64,
    site: Option<Rc<Site>>,
    budget: Option<Duration>,
    latency: Option<Latency>,
    faults: Option<Faults>,
    max_body: Option<usize>,
    trace_text: bool,
}

impl SimBuilder {
    /// The seed of every random draw.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The site to serve (required).
    pub fn site(mut self, site: impl Into<Rc<Site>>) -> Self {
        self.site = Some(site.into());
        self
    }
    /// Virtual time the crawl may take before it is an error.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }
    /// Replaces the site file's latency.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = Some(latency);
        self
    }
    /// Replaces the site file's global fault rates (pages with their own keep them).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = Some(faults);
        self
    }
    /// Decoded body bytes kept per response, as `crawl --max-body`: a longer body is cut and
    /// its record marked `truncated`.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }
    /// Keeps the trace as text, one line per event (the hash is kept either way).
    pub fn trace_text(mut self, on: bool) -> Self {
        self.trace_text = on;
        self
    }
    /// The simulation; an error without a site.
    pub fn build(self) -> Result<Sim, SimError> {
        let site = self.site.ok_or(SimError::NoSite)?;
        Ok(Sim {
            seed: self.seed,
            latency: self.latency.unwrap_or(site.latency()),
            faults: self.faults.unwrap_or(site.faults()),
            site,
            budget: self.budget.unwrap_or(DEFAULT_BUDGET),
            max_body: self.max_body.unwrap_or(DEFAULT_MAX_BODY),
            trace_text: self.trace_text,
        })
    }
}

/// A simulation: a site, a seed, a budget. See the [crate documentation](crate).
///
/// ```
/// use crawler_sim::Sim;
/// let site = crawler_site::Site::from_json(r#"{"pages": {
///     "http://a.test/": {"links": ["/b", "/c"]},
///     "http://a.test/b": {"script": ["500", "ok"]}
/// }}"#).unwrap();
/// let sim = Sim::builder().seed(1).site(site).build().unwrap();
/// let config = crawler::Config::builder()
///     .root("http://a.test/")
///     .robots(false)
///     .build()
///     .unwrap();
/// let run = sim.run(&config).unwrap();
/// assert_eq!(run.records.len(), 3);
/// assert_eq!(run.requests.len(), 4); // /b was tried twice
/// assert_eq!(run.in_flight, 0);
/// assert_eq!(run.trace_hash, sim.run(&config).unwrap().trace_hash);
/// ```
#[derive(Debug, Clone)]
pub struct Sim {
    seed: u64,
    site: Rc<Site>,
    budget: Duration,
    latency: Latency,
    faults: Faults,
    max_body: usize,
    trace_text: bool,
}

/// The outcome of a finished simulated crawl.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimRun {
    /// The run's seed.
    pub seed: u64,
    /// The engine's records, in the order it reported them (empty when streamed elsewhere).
    pub records: Vec<Record>,
    /// The engine's summary.
    pub summary: Summary,
    /// Every request the server saw, in order.
    pub requests: Vec<LoggedRequest>,
    /// The most requests in flight at once, as the server counted them.
    pub max_in_flight: usize,
    /// Requests still in flight when the crawl returned, as the server counts them.
    pub in_flight: usize,
    /// Virtual time when the crawl returned.
    pub end: Duration,
    /// The hash of the event trace.
    pub trace_hash: u64,
    /// The event trace as text, when it was asked for.
    pub trace: Option<String>,
    /// Times the executor polled the crawl.
    pub polls: u64,
}

/// A simulated crawl under way; [`step`](Running::step) it, or [`finish`](Running::finish) it.
pub struct Running(Core<SimTransport>);

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("seed", &self.0.seed)
            .field("now", &self.0.now())
            .field("in_flight", &self.0.network.in_flight())
            .field("finished", &self.0.finished())
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// A builder with the defaults.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The virtual-time budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The site.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// Runs a crawl with `config` to the end, keeping every record.
    pub fn run(&self, config: &Config) -> Result<SimRun, SimError> {
        let records = Rc::new(RefCell::new(Vec::new()));
        let sink = records.clone();
        let mut running = self.start(config, None, move |r| sink.borrow_mut().push(r.clone()));
        running.0.records = Some(records);
        running.finish()
    }

    /// Starts a crawl with `config`, handing each record to `on_record` as the engine reports
    /// it; with `stop`, the crawl ends early once it is signalled (see [`Crawler::run_until`](crawler::Crawler::run_until)).
    pub fn start(
        &self,
        config: &Config,
        stop: Option<Stop>,
        on_record: impl FnMut(&Record) + 'static,
    ) -> Running {
        self.start_wrapped(config, stop, on_record, |network| network)
    }

    /// [`start`](Self::start), with the engine fetching through `wrap(network)` (a recorder,
    /// say) instead of the simulated network itself.
    pub(crate) fn start_wrapped<T: Transport + 'static>(
        &self,
        config: &Config,
        stop: Option<Stop>,
        mut on_record: impl FnMut(&Record) + 'static,
        wrap: impl FnOnce(SimTransport) -> T,
    ) -> Running {
        let on_record = move |r: &Record, _: bool| on_record(r);
        self.start_kept(config, stop, Box::new(NoStore), on_record, wrap)
    }

    /// [`start`](Self::start), with `store` as the crawl's durable memory (see
    /// [`crawler::store`]): what an earlier run kept there is replayed, and `on_record` is told
    /// which records were (`true`).
    pub fn start_with_store(
        &self,
        config: &Config,
        store: Box<dyn Store>,
        on_record: impl FnMut(&Record, bool) + 'static,
    ) -> Running {
        self.start_kept(config, None, store, on_record, |network| network)
    }

    fn start_kept<T: Transport + 'static>(
        &self,
        config: &Config,
        stop: Option<Stop>,
        store: Box<dyn Store>,
        on_record: impl FnMut(&Record, bool) + 'static,
        wrap: impl FnOnce(SimTransport) -> T,
    ) -> Running {
        let clock = VirtualClock::new();
        let transport = SimTransport::new(
            self.site.clone(),
            clock.clone(),
            self.seed,
            self.latency,
            self.faults,
            self.max_body,
            self.trace_text,
        );
        let engine = wrap(transport.clone());
        Running(Core::start(
            config,
            transport,
            engine,
            clock,
            self.budget,
            self.seed,
            stop,
            store,
            on_record,
        ))
    }
}

impl Running {
    /// One step: polls the crawl if something woke it, else moves virtual time to the next
    /// timer. Returns `true` once the crawl has finished.
    pub fn step(&mut self) -> Result<bool, SimError> {
        self.0.step()
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        self.0.now()
    }

    /// The hash of the trace so far.
    pub fn trace_hash(&self) -> u64 {
        crate::running::Observed::trace_hash(&self.0.network)
    }

    /// The simulated network (request log, in-flight counts, trace so far).
    pub fn transport(&self) -> &SimTransport {
        &self.0.network
    }

    /// Steps to the end and returns the run.
    pub fn finish(self) -> Result<SimRun, SimError> {
        self.0.finish().map(|(run, _)| run)
    }
}

/// The `crawl-sim` command that replays a run of `config` with `seed` and `budget` against the
/// site file at `site`. The seed decides the whole run, the network's draws and the engine's
/// retry jitter alike, and the options are [`crawler_cli::args_of`] the configuration, so the
/// replay is exact.
pub fn replay_command(site: &Path, seed: u64, budget: Duration, config: &Config) -> String {
    let mut args: Vec<String> = vec![
        "crawl-sim".into(),
        "--site".into(),
        site.display().to_string(),
        "--seed".into(),
        seed.to_string(),
        "--budget".into(),
        budget.as_secs_f64().to_string(),
    ];
    // Every option that differs from the command line's defaults, from the one tested way back
    // from a configuration to its arguments.
    args.extend(crawler_cli::args_of(config));
    args.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes `arg` for a POSIX shell when it needs it.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_commands_quote_what_the_shell_would_mangle() {
        let config = Config::builder()
            .root("http://a.test/?q=1&r=2")
            .max_tasks(3)
            .exclude(r"\.pdf$")
            .scope(crawler::ScopeMode::Lenient)
            .max_depth(2)
            .timeout(Duration::from_millis(1500))
            .robots(false)
            .build()
            .unwrap();
        let cmd = replay_command(
            Path::new("/tmp/x y.json"),
            7,
            Duration::from_secs(60),
            &config,
        );
        assert_eq!(
            cmd,
            "crawl-sim --site '/tmp/x y.json' --seed 7 --budget 60 --max-tasks=3 \
             --timeout=1.5 --lenient '--exclude=\\.pdf$' \
             --max-depth=2 --ignore-robots 'http://a.test/?q=1&r=2'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn building_without_a_site_is_an_error() {
        assert_eq!(Sim::builder().build().unwrap_err(), SimError::NoSite);
        assert_eq!(SimError::NoSite.seed(), None);
    }
}
