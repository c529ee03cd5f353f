//! Deterministic replay of recorded crawls: the real engine against a WARC recording, in
//! virtual time.
//!
//! A user crawls a real site once with `crawl --record FILE`, keeps the file, and from then on
//! runs their crawl configuration against it offline and deterministically. The parts:
//! `recording` loads the WARC file into [`Recording`] (tries by URL, in recorded order);
//! `transport` serves it as the engine's [`ReplayTransport`]; `decode` undoes content
//! encodings as the real transport does; `record` writes simulated crawls as WARC, which gives
//! the tests an oracle without a network; and [`Replay`], here, runs the engine on the
//! simulator's [`VirtualClock`] and [`Executor`] over a replaying transport, like
//! [`Sim`](crate::Sim) does over a site. The replay guarantee is documented on [`Replay`].

pub(crate) mod decode;
mod record;
mod recording;
mod transport;

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crawler::{Config, Record, Stop};
use crawler_site::Latency;
use url::Url;

use crate::clock::VirtualClock;
use crate::running::Core;
use crate::sim::{DEFAULT_BUDGET, SimError, SimRun};

pub use recording::{ROOT_FIELD, Recording, RecordingError};
pub use transport::{NOT_RECORDED, ReplayTransport};

pub use crate::client::DEFAULT_MAX_BODY;

/// Builds a [`Replay`]. Defaults: seed 0, budget [`DEFAULT_BUDGET`], the simulator's default
/// latency (1 ms plus an exponential extra, 20 ms on average), body cap [`DEFAULT_MAX_BODY`],
/// no text trace.
#[derive(Debug, Clone)]
pub struct ReplayBuilder {
    recording: Rc<Recording>,
    seed: u64,
    budget: Duration,
    latency: Latency,
    max_body: usize,
    trace_text: bool,
}

impl ReplayBuilder {
    /// The seed of every random draw (latency, and the engine's retry jitter if the config's
    /// seed is set to it).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Virtual time the crawl may take before it is an error.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }
    /// The latency model of every answer.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }
    /// Decoded body bytes kept per response, as `crawl --max-body`; more is cut and marked
    /// truncated. A body the recorder cut is truncated whatever the cap.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
    /// Keeps the trace as text, one line per event (the hash is kept either way).
    pub fn trace_text(mut self, on: bool) -> Self {
        self.trace_text = on;
        self
    }
    /// The replay.
    pub fn build(self) -> Replay {
        Replay {
            recording: self.recording,
            seed: self.seed,
            budget: self.budget,
            latency: self.latency,
            max_body: self.max_body,
            trace_text: self.trace_text,
        }
    }
}

/// A replay of a recording: the real engine against a [`Recording`], in virtual time.
///
///
/// Every request is served from the recording by a [`ReplayTransport`] (see there for what each
/// request gets), on the simulator's [`VirtualClock`] and [`Executor`](crate::Executor), with latency drawn from
/// the one seeded [`Rng`](crate::Rng); as with [`Sim`](crate::Sim), `run` is built on `step`.
///
/// The replay guarantee: with the options of the recorded crawl, the replay fetches exactly the
/// URLs the real crawl fetched, with the same statuses, redirect targets, tries, sizes, link
/// counts, and errors of URLs that got no response (timing aside: which page first found a link
/// may differ, so `depth` and `new_links` may too); two replays with the same seed give the
/// same trace; with narrower options (an `--exclude`, a smaller `--max-redirect`) it fetches a
/// subset, and nothing is unrecorded. A request the recording cannot answer is never a silent
/// 404: it fails with `other: not in the recording` and is listed in
/// [`ReplayRun::unrecorded`].
///
/// ```
/// use crawler_warc::{Exchange, Attempt, WarcWriter};
/// use crawler_sim::{Recording, Replay};
///
/// let html = [("Content-Type".to_string(), "text/html".to_string())];
/// let mut warc = WarcWriter::new(Vec::new(), false);
/// for (url, status, body) in [
///     ("http://a.test/", 200, &b"<a href=/b>b</a> <a href=/c>c</a>"[..]),
///     ("http://a.test/b", 500, b""),
///     ("http://a.test/b", 200, b""),
/// ] {
///     let outcome = Attempt::Response { status, headers: &html, body, truncated: false };
///     let date = "2026-11-22T00:00:00Z";
///     warc.write_exchange(&Exchange { url, date, request_headers: &[], outcome }).unwrap();
/// }
/// let recording = Recording::from_bytes(&warc.into_inner()).unwrap();
/// let replay = Replay::builder(recording).seed(7).build();
/// let config = crawler::Config::builder().root("http://a.test/").robots(false).build().unwrap();
/// let run = replay.run(&config).unwrap();
/// let b = run.run.records.iter().find(|r| r.url == "http://a.test/b").unwrap();
/// assert_eq!((b.status, b.tries), (Some(200), 2)); // 500, then 200, as recorded
/// let c = run.run.records.iter().find(|r| r.url == "http://a.test/c").unwrap();
/// assert_eq!(c.error.as_deref(), Some("other: not in the recording"));
/// assert_eq!(run.unrecorded[0].as_str(), "http://a.test/c");
/// assert_eq!(run.run.trace_hash, replay.run(&config).unwrap().run.trace_hash);
/// ```
#[derive(Debug, Clone)]
pub struct Replay {
    recording: Rc<Recording>,
    seed: u64,
    budget: Duration,
    latency: Latency,
    max_body: usize,
    trace_text: bool,
}

/// The outcome of a finished replay.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReplayRun {
    /// The run, as a simulated crawl reports it: records, summary, request log, trace hash.
    pub run: SimRun,
    /// URLs requested that the recording does not have, in the order first requested. Empty
    /// when the replay stayed within the recording.
    pub unrecorded: Vec<Url>,
    /// Requests for those URLs, retries included.
    pub unrecorded_requests: u64,
    /// URLs requested more often than recorded (their last recorded try was served again).
    pub exhausted: Vec<Url>,
}

/// A replay under way; [`step`](ReplayRunning::step) it, or [`finish`](ReplayRunning::finish)
/// it.
pub struct ReplayRunning(Core<ReplayTransport>);

impl fmt::Debug for ReplayRunning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayRunning")
            .field("seed", &self.0.seed)
            .field("now", &self.0.now())
            .field("in_flight", &self.0.network.in_flight())
            .field("finished", &self.0.finished())
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// A builder for a replay of `recording`, with the defaults.
    pub fn builder(recording: impl Into<Rc<Recording>>) -> ReplayBuilder {
        ReplayBuilder {
            recording: recording.into(),
            seed: 0,
            budget: DEFAULT_BUDGET,
            latency: Latency::default(),
            max_body: DEFAULT_MAX_BODY,
            trace_text: false,
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The recording.
    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    /// Replays a crawl with `config` to the end, keeping every record.
    pub fn run(&self, config: &Config) -> Result<ReplayRun, SimError> {
        let records = Rc::new(RefCell::new(Vec::new()));
        let sink = records.clone();
        let mut running = self.start(config, None, move |r| sink.borrow_mut().push(r.clone()));
        running.0.records = Some(records);
        running.finish()
    }

    /// Starts a replay of a crawl with `config`, handing each record to `on_record` as the
    /// engine reports it; with `stop`, the crawl ends early once it is signalled.
    pub fn start(
        &self,
        config: &Config,
        stop: Option<Stop>,
        mut on_record: impl FnMut(&Record) + 'static,
    ) -> ReplayRunning {
        let clock = VirtualClock::new();
        let transport = ReplayTransport::new(
            self.recording.clone(),
            config.canon(),
            clock.clone(),
            self.seed,
            self.latency,
            self.max_body,
            self.trace_text,
        );
        let engine = transport.clone();
        ReplayRunning(Core::start(
            config,
            transport,
            engine,
            clock,
            self.budget,
            self.seed,
            stop,
            Box::new(crawler::NoStore),
            move |r: &Record, _| on_record(r),
        ))
    }
}

impl ReplayRunning {
    /// One step: polls the crawl if something woke it, else moves virtual time to the next
    /// timer. Returns `true` once the crawl has finished.
    pub fn step(&mut self) -> Result<bool, SimError> {
        self.0.step()
    }

    /// The current virtual time.
    pub fn now(&self) -> Duration {
        self.0.now()
    }

    /// The replaying transport (request log, unrecorded URLs, trace so far).
    pub fn transport(&self) -> &ReplayTransport {
        &self.0.network
    }

    /// Steps to the end and returns the run.
    pub fn finish(self) -> Result<ReplayRun, SimError> {
        let (run, t) = self.0.finish()?;
        Ok(ReplayRun {
            run,
            unrecorded: t.unrecorded(),
            unrecorded_requests: t.unrecorded_requests(),
            exhausted: t.exhausted(),
        })
    }
}
