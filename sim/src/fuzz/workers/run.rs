//! Running a case's workers: 2 to 4 engines, each `Crawler::run_shared` under its own name
//! over the same simulated network and the same [`SimShared`], as tasks of one future on the
//! one deterministic executor.
//!
//! The executor polls one future; here that future is a crew of worker tasks, each with a
//! waker of its own (a flag, then the executor's waker), polled in worker order when woken.
//! The crew also keeps the plan of faults, in virtual time: a crash drops a worker's future
//! (its fetches in flight and its sync under way with it) and may start a new one under the
//! same name later; a pause stops polling a worker (its timers fire, its fetches' answers
//! arrive, nobody looks) until it resumes. Everything the checks read is kept in lists in the
//! order it happened.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crawler::{
    Config, Crawler, FetchError, Record, Request, Response, SharedError, Summary, Transport,
    WorkerOptions,
};
use crawler_site::Site;

use super::super::case::Case;
use super::super::check::{Failure, Property};
use super::{WorkerFaultKind, Workers};
use crate::client::DEFAULT_MAX_BODY;
use crate::clock::VirtualClock;
use crate::executor::Executor;
use crate::net::SimTransport;
use crate::running::Observed;
use crate::shared::SimShared;

/// One event a worker handed its caller.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Seen {
    /// The record.
    pub record: Record,
    /// Another worker's (or an earlier life's) completion, redone.
    pub replayed: bool,
    /// This worker's own ([`crawler::Event::mine`]).
    pub mine: bool,
    /// Its key in the shared state ([`crawler::shared::log_key`]).
    pub key: String,
}

/// One life of a worker: from its start (or restart) to its end or crash.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Life {
    /// The worker's index (its name is `w<index>`).
    pub worker: usize,
    /// What it handed its caller, in order.
    pub events: Vec<Seen>,
    /// How its run ended; `None`: crashed.
    pub ended: Option<Result<Summary, SharedError>>,
}

/// One request as the network saw it, with the lease it ran under.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Req {
    pub worker: usize,
    pub url: String,
    pub at: Duration,
    /// When it ended (answered, abandoned, or dropped with a crashed worker).
    pub ended: Duration,
    /// Where its start and its end come among all the requests' starts and ends (several
    /// happen at one virtual instant, one after the other).
    pub seq: (u64, u64),
    /// The grant it ran under, the latest one to its worker for its URL before it started.
    pub grant: Option<RanUnder>,
}

/// The grant a request ran under.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RanUnder {
    /// The host, as the claim named it.
    pub host: String,
    /// When the model granted it.
    pub at: Duration,
    /// The delay the claim asked for after it.
    pub delay: Duration,
    /// The lease lapsed before the request ended.
    pub lapsed: bool,
}

/// A crawl of a case by its workers.
#[derive(Debug, PartialEq)]
pub(super) struct Ran {
    pub lives: Vec<Life>,
    pub requests: Vec<Req>,
    /// The log: worker name and fetch key ([`crawler::shared::log_key`]) of each entry.
    pub log: Vec<(String, String)>,
    /// Completions accepted whose reply never reached their worker: worker name, fetch key.
    pub unheard: Vec<(String, String)>,
    /// Leases held when the crawl ended.
    pub leased: u64,
    pub net_hash: u64,
    pub crashes: u32,
    pub pauses: u32,
    pub end: Duration,
}

/// A worker's name.
pub(super) fn name(worker: usize) -> String {
    format!("w{worker}")
}

/// What the crew does at a planned time.
#[derive(Debug, Clone, Copy)]
enum Action {
    Crash(usize),
    Restart(usize),
    Pause(usize),
    Resume(usize),
}

type Run = Pin<Box<dyn Future<Output = Result<Summary, SharedError>>>>;

/// A task's waker: marks it woken, then wakes the crew.
struct TaskWake {
    woken: AtomicBool,
    crew: Waker,
}

impl Wake for TaskWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Relaxed);
        self.crew.wake_by_ref();
    }
}

/// A worker's place in the crew.
struct Slot {
    run: Option<Run>,
    /// Its life's index in the lives.
    life: usize,
    paused: bool,
    wake: Option<(Arc<TaskWake>, Waker)>,
}

/// The network as one worker's engine sees it: every request logged with the worker's index.
struct Tagged {
    net: SimTransport,
    worker: usize,
    clock: VirtualClock,
    requests: Rc<RefCell<Vec<Req>>>,
    /// Starts and ends so far, over all workers.
    seq: Rc<Cell<u64>>,
}

impl Tagged {
    fn next(&self) -> u64 {
        let n = self.seq.get();
        self.seq.set(n + 1);
        n
    }
}

/// Sets a request's end when its future ends, however it ends.
struct Ends<'a> {
    tagged: &'a Tagged,
    index: usize,
}

impl Drop for Ends<'_> {
    fn drop(&mut self) {
        let seq = self.tagged.next();
        let mut requests = self.tagged.requests.borrow_mut();
        requests[self.index].ended = self.tagged.clock.now();
        requests[self.index].seq.1 = seq;
    }
}

impl Transport for Tagged {
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response, FetchError>> {
        let url = request.url.to_string();
        let inner = self.net.fetch(request);
        async move {
            // The first poll: the network's own first poll of the request is the same instant.
            let seq = self.next();
            let index = {
                let mut requests = self.requests.borrow_mut();
                requests.push(Req {
                    worker: self.worker,
                    url,
                    at: self.clock.now(),
                    ended: self.clock.now(),
                    seq: (seq, seq),
                    grant: None,
                });
                requests.len() - 1
            };
            let _ends = Ends {
                tagged: self,
                index,
            };
            inner.await
        }
    }
}

/// Crawls `case` with its workers (see the module docs); `end` is the virtual time of the
/// uninterrupted crawl, which fault times are fractions of.
pub(super) fn run(
    case: &Case,
    workers: &Workers,
    config: &Config,
    site: &Rc<Site>,
    end: Duration,
) -> Result<Ran, Failure> {
    let clock = VirtualClock::new();
    let net = SimTransport::new(
        site.clone(),
        clock.clone(),
        case.seed,
        site.latency(),
        site.faults(),
        DEFAULT_MAX_BODY,
        false,
    );
    let shared = Rc::new(SimShared::new(
        clock.clone(),
        case.seed ^ 0x5ead_ed5e,
        workers.slow(),
    ));
    let requests: Rc<RefCell<Vec<Req>>> = Rc::default();
    let seq: Rc<Cell<u64>> = Rc::default();
    let lives: Rc<RefCell<Vec<Life>>> = Rc::default();
    let start = |worker: usize| -> (usize, Run) {
        let tagged = Tagged {
            net: net.clone(),
            worker,
            clock: clock.clone(),
            requests: requests.clone(),
            seq: seq.clone(),
        };
        let crawler = Crawler::new(config.clone(), tagged, clock.clone());
        let options = WorkerOptions::new(name(worker))
            .lease(workers.lease())
            .partitions(workers.partitions);
        let mut all = lives.borrow_mut();
        let life = all.len();
        all.push(Life {
            worker,
            events: Vec::new(),
            ended: None,
        });
        let (shared, sink) = (shared.clone(), lives.clone());
        let run: Run = Box::pin(async move {
            crawler
                .run_shared(None, &*shared, &options, |e| {
                    sink.borrow_mut()[life].events.push(Seen {
                        record: e.record.clone(),
                        replayed: e.replayed,
                        mine: e.mine,
                        key: crawler::shared::log_key(e.fetch, &e.record.url),
                    });
                })
                .await
        });
        (life, run)
    };
    let mut slots: Vec<Slot> = (0..workers.count as usize)
        .map(|w| {
            let (life, run) = start(w);
            Slot {
                run: Some(run),
                life,
                paused: false,
                wake: None,
            }
        })
        .collect();
    let mut plan: Vec<(Duration, Action)> = Vec::new();
    for fault in &workers.faults {
        let w = fault.worker as usize % slots.len();
        let at = end * fault.at_64ths / 64;
        match fault.kind {
            WorkerFaultKind::Crash { restart_ms } => {
                plan.push((at, Action::Crash(w)));
                if let Some(ms) = restart_ms {
                    plan.push((
                        at + Duration::from_millis(u64::from(ms)),
                        Action::Restart(w),
                    ));
                }
            }
            WorkerFaultKind::Pause { ms } => {
                plan.push((at, Action::Pause(w)));
                plan.push((at + Duration::from_millis(u64::from(ms)), Action::Resume(w)));
            }
        }
    }
    plan.sort_by_key(|(at, _)| *at); // stable: ties in the order the faults are listed
    plan.reverse(); // popped from the end
    let (mut crashes, mut pauses) = (0, 0);
    let mut crashed = vec![false; slots.len()];
    let mut timer: Option<Pin<Box<dyn Future<Output = ()>>>> = None;
    let crew = poll_fn(|cx: &mut Context<'_>| {
        loop {
            let now = clock.now();
            while plan.last().is_some_and(|(at, _)| *at <= now) {
                let (_, action) = plan.pop().expect("checked");
                timer = None;
                match action {
                    Action::Crash(w) if slots[w].run.is_some() => {
                        slots[w].run = None; // killed, with its fetches and sync
                        slots[w].paused = false;
                        crashed[w] = true;
                        crashes += 1;
                    }
                    Action::Restart(w) if crashed[w] => {
                        crashed[w] = false;
                        let (life, run) = start(w);
                        slots[w] = Slot {
                            run: Some(run),
                            life,
                            paused: false,
                            wake: None,
                        };
                    }
                    Action::Pause(w) if slots[w].run.is_some() => {
                        slots[w].paused = true;
                        pauses += 1;
                    }
                    Action::Resume(w) if slots[w].paused => {
                        slots[w].paused = false;
                        if let Some((wake, _)) = &slots[w].wake {
                            wake.woken.store(true, Ordering::Relaxed);
                        }
                    }
                    _ => {}
                }
            }
            for slot in &mut slots {
                if slot.paused {
                    continue;
                }
                let Some(run) = slot.run.as_mut() else {
                    continue;
                };
                let (wake, waker) = slot.wake.get_or_insert_with(|| {
                    let wake = Arc::new(TaskWake {
                        woken: AtomicBool::new(true),
                        crew: cx.waker().clone(),
                    });
                    let waker = Waker::from(wake.clone());
                    (wake, waker)
                });
                if !wake.woken.swap(false, Ordering::Relaxed) {
                    continue;
                }
                if let Poll::Ready(result) = run.as_mut().poll(&mut Context::from_waker(waker)) {
                    lives.borrow_mut()[slot.life].ended = Some(result);
                    slot.run = None;
                }
            }
            let busy = slots.iter().any(|s| s.run.is_some());
            let restarts = plan.iter().any(|(_, a)| matches!(a, Action::Restart(_)));
            if !busy && !restarts {
                return Poll::Ready(());
            }
            let Some(&(at, _)) = plan.last() else {
                return Poll::Pending;
            };
            let timer = timer.get_or_insert_with(|| {
                let clock = clock.clone();
                Box::pin(async move { clock.sleep(at.saturating_sub(now)).await })
            });
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    });
    let budget = budget(case, workers, config);
    let mut executor = Executor::new(clock.clone(), budget, case.seed);
    executor
        .block_on(crew)
        .map_err(|e| Failure::new(Property::Crawl, format!("with workers: {e}")))?;
    let mut requests = std::mem::take(&mut *requests.borrow_mut());
    let grants = shared.grants();
    for r in &mut requests {
        let who = name(r.worker);
        let grant = grants.iter().rev().find(|g| {
            g.worker == who && crawler::shared::url_of_key(&g.url) == r.url && g.at <= r.at
        });
        r.grant = grant.map(|g| RanUnder {
            host: g.host.clone(),
            at: g.at,
            delay: g.delay,
            lapsed: shared
                .model()
                .lapsed(&g.url, g.token)
                .is_some_and(|at| at >= g.at && at < r.ended),
        });
    }
    let log = shared
        .model()
        .log()
        .into_iter()
        .map(|e| {
            (
                e.worker,
                crawler::shared::log_key(e.kept.fetch, &e.kept.record.url),
            )
        })
        .collect();
    let lives = std::mem::take(&mut *lives.borrow_mut());
    Ok(Ran {
        lives,
        requests,
        log,
        unheard: shared.unheard(),
        leased: shared.model().status().leased,
        net_hash: net.trace_hash(),
        crashes,
        pauses,
        end: clock.now(),
    })
}

/// A bound on the virtual time of a crawl by workers: the lone crawl's twice over, plus every
/// sync slowed to the most (two per try, each slow twice), the pauses and restarts, and a few
/// leases to wait out.
fn budget(case: &Case, workers: &Workers, config: &Config) -> Duration {
    let lone = case.budget(config);
    let slow = workers.slow() * 4 * config.max_tries() * lone.as_secs().min(1 << 20) as u32;
    let faults: u64 = workers
        .faults
        .iter()
        .map(|f| match f.kind {
            WorkerFaultKind::Crash { restart_ms } => u64::from(restart_ms.unwrap_or(0)),
            WorkerFaultKind::Pause { ms } => u64::from(ms),
        })
        .sum();
    lone * 2 + slow + Duration::from_millis(faults) + workers.lease() * 8
}
