//! The part of a crawl under way that a simulated run and a replay share: the engine's future
//! on the [`Executor`], stepped until it returns, then turned into a [`SimRun`].
//!
//! [`Running`](crate::Running) drives it over a [`SimTransport`](crate::SimTransport) and
//! [`ReplayRunning`](crate::ReplayRunning) over a [`ReplayTransport`](crate::ReplayTransport);
//! both networks keep the trace and the server-side request log this needs ([`Observed`]).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use crawler::{Config, Crawler, Record, Stop, Store, Summary, Transport};

use crate::clock::VirtualClock;
use crate::executor::{Executor, Step};
use crate::net::LoggedRequest;
use crate::sim::{SimError, SimRun};

/// What the runner reads from the network it crawls: the server-side log and the trace.
pub(crate) trait Observed: Clone + 'static {
    fn in_flight(&self) -> usize;
    fn max_in_flight(&self) -> usize;
    fn trace_hash(&self) -> u64;
    fn take_trace_text(&self) -> Option<String>;
    fn take_requests(&self) -> Vec<LoggedRequest>;
    /// Adds an engine record to the trace.
    fn trace_record(&self, record: &Record);
}

/// A crawl under way over the network `N`.
pub(crate) struct Core<N> {
    executor: Executor,
    crawl: Pin<Box<dyn Future<Output = Summary>>>,
    pub(crate) network: N,
    clock: VirtualClock,
    /// Where `run` collects the records (`None` when they are streamed elsewhere).
    pub(crate) records: Option<Rc<RefCell<Vec<Record>>>>,
    summary: Option<Summary>,
    pub(crate) seed: u64,
}

impl<N: Observed> Core<N> {
    /// The engine with `config` fetching through `engine_transport` (the network, or a wrapper
    /// of it) and keeping what it finishes in `store`, every record traced on `network` and
    /// then handed to `on_record` (with `true` when it was replayed from the store).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start<T: Transport + 'static>(
        config: &Config,
        network: N,
        engine_transport: T,
        clock: VirtualClock,
        budget: Duration,
        seed: u64,
        stop: Option<Stop>,
        mut store: Box<dyn Store>,
        mut on_record: impl FnMut(&Record, bool) + 'static,
    ) -> Self {
        // One seed for the whole run: the engine's retry jitter is drawn from the run's seed too.
        let config = config.clone().with_seed(seed);
        let crawler = Crawler::new(config, engine_transport, clock.clone());
        let tracer = network.clone();
        let crawl = Box::pin(async move {
            crawler
                .run_with_store(stop.as_ref(), &mut *store, |event| {
                    tracer.trace_record(event.record);
                    on_record(event.record, event.replayed);
                })
                .await
        });
        Core {
            executor: Executor::new(clock.clone(), budget, seed),
            crawl,
            network,
            clock,
            records: None,
            summary: None,
            seed,
        }
    }

    /// One step: polls the crawl if something woke it, else moves virtual time to the next
    /// timer. Returns `true` once the crawl has finished.
    pub(crate) fn step(&mut self) -> Result<bool, SimError> {
        if self.summary.is_some() {
            return Ok(true);
        }
        match self.executor.step(self.crawl.as_mut())? {
            Step::Done(summary) => {
                self.summary = Some(summary);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    pub(crate) fn finished(&self) -> bool {
        self.summary.is_some()
    }

    /// Steps to the end and returns the run (and the network, for what else it knows).
    pub(crate) fn finish(mut self) -> Result<(SimRun, N), SimError> {
        while !self.step()? {}
        let summary = self.summary.take().unwrap_or_default();
        let records = match self.records.take() {
            Some(records) => std::mem::take(&mut *records.borrow_mut()),
            None => Vec::new(),
        };
        let n = &self.network;
        let run = SimRun {
            seed: self.seed,
            records,
            summary,
            requests: n.take_requests(),
            max_in_flight: n.max_in_flight(),
            in_flight: n.in_flight(),
            end: self.clock.now(),
            trace_hash: n.trace_hash(),
            trace: n.take_trace_text(),
            polls: self.executor.polls(),
        };
        Ok((run, self.network))
    }
}
