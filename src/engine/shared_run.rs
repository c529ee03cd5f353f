//! The crawl loop of one worker of a shared crawl (see [`crate::shared`]).
//!
//! The same state as a lone crawl ([`CrawlState`]), fed differently: every job the scheduler
//! lets start is first *claimed*; only a granted claim starts a fetch. A last try is not
//! concluded here but handed to the log as a completion; every completion (this worker's own
//! and the others') is concluded when it comes back from the log, so what a worker records is
//! exactly what the log accepted, and every worker derives the crawl from the same entries.
//! Entries for URLs the worker has not come to yet wait in the state's store and are redone
//! when it does, as a resumed crawl redoes what its store kept.
//!
//! One sync is under way at a time; what comes up meanwhile (claims, completions, tries that
//! ended) waits for the next, so round trips are shared by many pages. The loop wakes for a
//! finished fetch, a sync's reply, a timer (a host's delay, a retry, a parked claim, a lease to
//! renew, a poll for entries) or the stop signal, polled in that order.

use std::future::Future;
use std::pin::{Pin, pin};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use futures_util::stream::FuturesUnordered;

use super::fetch;
use super::shared_side::{Limits, Side, ask, emit, fetched_one, replay, side_grants, take_reply};
use super::state::{Arrived, CrawlState, job_key};
use super::{Crawler, Event, OBSERVER, Stop, sleep_until, stopped};
use crate::clock::Clock;
use crate::report::Summary;
use crate::shared::log_key;
use crate::shared::{Ask, Held, Reply, Shared, SharedError, followed};
use crate::transport::Transport;

/// How often a worker with nothing to say asks for new entries while it waits for other
/// workers (their leases, or entries its parked jobs need).
pub const POLL: Duration = Duration::from_millis(50);

/// How a worker takes part in a shared crawl.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerOptions {
    /// The worker's name: the same after a restart.
    pub name: String,
    /// How long a lease lasts unless renewed (renewed every third of it while held).
    pub lease: Duration,
    /// The crawl's partitions (see [`crate::shared`], *Partitions*): 1, one log that every
    /// worker derives whole.
    pub partitions: u32,
}

impl WorkerOptions {
    /// A worker called `name`, with leases of 30 s.
    pub fn new(name: impl Into<String>) -> WorkerOptions {
        WorkerOptions {
            name: name.into(),
            lease: Duration::from_secs(30),
            partitions: 1,
        }
    }

    /// A crawl of `partitions` partitions (the same for every worker of the crawl).
    pub fn partitions(mut self, partitions: u32) -> WorkerOptions {
        self.partitions = partitions.max(1);
        self
    }

    /// Leases of `lease`.
    pub fn lease(mut self, lease: Duration) -> WorkerOptions {
        self.lease = lease;
        self
    }
}

/// A sync under way: it gives its ask back with the reply (the reply is read against it).
type Syncing<'s> = Pin<Box<dyn Future<Output = (Ask, Result<Reply, SharedError>)> + 's>>;

/// The workers among the live ones `workers` that follow partitions, sorted: an observer
/// ([`OBSERVER`], `crawl --status`) follows none.
pub(super) fn members_of(mut workers: Vec<String>) -> Vec<String> {
    workers.retain(|w| w != OBSERVER);
    workers.sort();
    workers
}

/// How one life of a worker ended.
struct Life {
    summary: Summary,
    /// The live workers changed who follows which partition: the worker starts again.
    rebalance: bool,
}

impl<T: Transport, C: Clock> Crawler<T, C> {
    /// Crawls as one worker of a crawl shared through `shared` (see [`crate::shared`]): until
    /// the crawl, as far as this worker can tell from the log, has nothing left and no URL is
    /// leased. With one log (`worker.partitions` 1), `on_event` is called once per URL the
    /// crawl finished, when its completion comes back from the log: with
    /// [`Event::replayed`] `false` for this worker's own (those it records), `true` for the
    /// others'; the summary is the whole crawl's, as this worker derived it from the log.
    /// In partitions, `on_event` is called for the URLs of the partitions the worker follows
    /// (again, replayed, each time the live workers change and it works out its share afresh)
    /// and for its own completions, not replayed, once each, when the log takes them; the
    /// summary is that of the partitions it followed last. A failed sync ends the run with
    /// its error: what the log took is safe, and the worker's leases expire.
    pub async fn run_shared<S: Shared>(
        &self,
        stop: Option<&Stop>,
        shared: &S,
        worker: &WorkerOptions,
        mut on_event: impl FnMut(&Event<'_>),
    ) -> Result<Summary, SharedError> {
        if worker.partitions <= 1 {
            let life = self.life(stop, shared, worker, None, &mut on_event).await?;
            return Ok(life.summary);
        }
        loop {
            // Who is live, and so which partitions this worker follows: a sync that says
            // nothing else.
            let ask = Ask {
                worker: worker.name.clone(),
                lease: worker.lease,
                partitions: worker.partitions,
                ..Ask::default()
            };
            let members = shared.sync(&ask).await?.workers;
            let follows = followed(&worker.name, &members_of(members), worker.partitions);
            let life = self
                .life(stop, shared, worker, Some(follows), &mut on_event)
                .await?;
            if !life.rebalance || stop.is_some_and(Stop::is_stopped) {
                return Ok(life.summary);
            }
        }
    }

    /// One life of a worker: until the crawl ends, the worker stops or (`follows`, a
    /// partitioned crawl) the partitions it follows change.
    async fn life<S: Shared>(
        &self,
        stop: Option<&Stop>,
        shared: &S,
        worker: &WorkerOptions,
        follows: Option<Vec<u32>>,
        on_event: &mut impl FnMut(&Event<'_>),
    ) -> Result<Life, SharedError> {
        // The page limits are the shared state's, for the crawl (see `crate::shared`, *Page
        // places*): the worker admits without them and claims with them.
        let limits = Limits::of(&self.config);
        let config = &self.config.without_page_limits();
        let start = self.clock.now();
        let mut arrived = Arrived::default();
        let split = follows.as_deref().map(|f| (worker.partitions, f));
        let mut state =
            CrawlState::seeded_following(config, &self.scope, &mut arrived, start, split);
        let mut side = Side {
            more: true, // Read the log before deciding anything is left.
            partitions: worker.partitions.max(1),
            reads: follows.iter().flatten().map(|&p| (p, (0, 0))).collect(),
            ..Side::default()
        };
        let mut leave = None;
        let mut stopped = pin!(stopped(stop));
        let mut in_flight = FuturesUnordered::new();
        let mut syncing: Option<Syncing<'_>> = None;
        let mut failed: Option<SharedError> = None;
        loop {
            let now = self.clock.now();
            let concluded = state.summary.urls;
            state.admit(now);
            replay(&mut state, on_event, in_flight.len(), &side, now, stop);
            // Parked claims whose time has come go back through the scheduler: a parked job
            // holds no request slot of its host (it gave it back when it was parked), so it
            // must take one again, and wait for the host's delay, before it is claimed.
            let due: Vec<String> = side
                .parked
                .iter()
                .filter(|(_, (_, at))| *at <= now)
                .map(|(url, _)| url.clone())
                .collect();
            for url in due {
                let (job, _) = side.parked.remove(&url).expect("listed");
                state.schedule.retry_at(job, now);
            }
            state.schedule.release_due(now);
            // Nothing is claimed before the log is read to its end.
            while !side.more
                && in_flight.len() + side.to_claim.len() + side.asking.len() < config.max_tasks
            {
                let Some(job) = state.next_job(now) else {
                    break;
                };
                match state.arrived(&job) {
                    Some(Ok(kept)) => {
                        // Redone, not fetched: no slot, no delay.
                        state.schedule.unstart(job.host, now, now);
                        // A lease of ours that lapsed while this waited to be retried.
                        side.held.remove(&job_key(&job));
                        let done = state.finish_kept(job, kept, now);
                        emit(&mut state, &done, on_event, in_flight.len(), &side);
                        state.admit(now);
                    }
                    Some(Err(())) => state.schedule.unstart(job.host, now, now),
                    None => {
                        side.to_claim.push((job, now));
                    }
                }
            }
            replay(&mut state, on_event, in_flight.len(), &side, now, stop);
            if state.summary.urls != concluded && !stop.is_some_and(Stop::is_stopped) {
                // What was redone may have let more jobs in: round again before deciding.
                continue;
            }
            // Nothing left here: the crawl ends (one log), or this worker says so and waits
            // for the others (partitioned).
            let idle = in_flight.is_empty()
                && side.idle()
                && !state.has_offers()
                && state.schedule.next_due().is_none()
                && state.replay.is_empty();
            let quiet = side.split() && idle && !side.over;
            if syncing.is_none() && failed.is_none() {
                let renew_due = !side.held.is_empty() && now >= side.renewed + worker.lease / 3;
                let poll_due = now >= side.last_sync + POLL;
                // In partitions, a worker not heard from for a lease is taken for gone (its
                // partitions go to the others): one waiting out a long delay still syncs.
                let keep_alive = side.split() && now >= side.last_sync + worker.lease / 3;
                let waiting = !side.mine.is_empty() || !side.parked.is_empty() || quiet;
                let say = !side.to_claim.is_empty()
                    || !side.to_send.is_empty()
                    || !side.ended.is_empty()
                    || !side.release.is_empty()
                    || state.has_offers()
                    || side.more
                    || renew_due
                    || keep_alive
                    || (waiting && poll_due);
                if say {
                    let ask = ask(
                        &mut state, &mut side, worker, &limits, renew_due, quiet, now,
                    );
                    syncing = Some(Box::pin(async move {
                        let reply = shared.sync(&ask).await;
                        (ask, reply)
                    }));
                }
            }
            // A sync that failed once the worker was stopped (the shared state out of reach,
            // and the stop cut its tries short) is not the run's failure: the stop below ends
            // it, as any stop does, with its summary (its last syncs fail at once).
            if let Some(why) = failed.take()
                && (why.is_lost() || !stop.is_some_and(Stop::is_stopped))
            {
                return Err(why);
            }
            // A renewal or a poll is a sync: none can start while one is under way, whose
            // reply wakes the loop anyway. Timed while a sync is under way, an overdue one
            // would be due at once, again and again, and the loop would spin without yielding.
            let may_sync = syncing.is_none();
            let next_due = [
                state.schedule.next_due(),
                side.next_parked(),
                (may_sync && !side.held.is_empty()).then(|| side.renewed + worker.lease / 3),
                (may_sync && side.split()).then(|| side.last_sync + worker.lease / 3),
                (may_sync && (!side.mine.is_empty() || !side.parked.is_empty() || quiet))
                    .then(|| side.last_sync + POLL),
            ]
            .into_iter()
            .flatten()
            .min();
            if idle && syncing.is_none() && (!side.split() || side.over) {
                break;
            }
            // Checked here too: with replies and fetches always ready, the select below
            // would never come to the stop signal.
            let stop_now = stop.is_some_and(Stop::is_stopped);
            let timer = pin!(sleep_until(&self.clock, next_due, now));
            let next_done = pin!(async {
                if in_flight.is_empty() {
                    std::future::pending().await
                } else {
                    in_flight.next().await
                }
            });
            let reply = pin!(async {
                match syncing.as_mut() {
                    Some(f) => f.await,
                    None => std::future::pending().await,
                }
            });
            let woke = select(reply, select(next_done, timer));
            let woke = if stop_now {
                None
            } else {
                match select(woke, stopped.as_mut()).await {
                    Either::Left((woke, _)) => Some(woke),
                    Either::Right(((), _)) => None,
                }
            };
            match woke {
                Some(Either::Left(((asked, reply), _))) => {
                    syncing = None;
                    let now = self.clock.now();
                    match reply {
                        Ok(reply) => {
                            let took = take_reply(
                                &mut state,
                                &mut side,
                                &asked,
                                reply,
                                now,
                                in_flight.len(),
                                on_event,
                            );
                            if let Err(why) = took {
                                failed = Some(why);
                            }
                            if side.rebalance {
                                // What the reply granted is given back, not started.
                                leave = Some(());
                            } else {
                                // What the reply granted starts now.
                                for (job, _) in side_grants(&mut side) {
                                    in_flight.push(fetch::fetch_once(
                                        &self.transport,
                                        &self.clock,
                                        config,
                                        job,
                                    ));
                                }
                            }
                        }
                        Err(why) => failed = Some(why),
                    }
                }
                Some(Either::Right((Either::Left((Some(fetched), _)), _))) => {
                    let now = self.clock.now();
                    fetched_one(&mut state, &mut side, fetched, now);
                }
                Some(Either::Right(_)) => {}
                None => {
                    state.summary.interrupted = true;
                    leave = Some(());
                }
            }
            if leave.is_some() {
                // A life that ends for a rebalance sees its fetches through (their leases
                // hold whoever follows their partitions now) and hands them over as
                // completions, for a third of a lease at most: it syncs nothing meanwhile,
                // and waiting longer would let its leases lapse and the others take it for
                // gone (and one slow fetch would pass from worker to worker for ever). A stop,
                // and that deadline, drop the fetches still under way.
                let until = self.clock.now() + worker.lease / 3;
                while !state.summary.interrupted && !in_flight.is_empty() {
                    let now = self.clock.now();
                    let next = pin!(in_flight.next());
                    let timer = pin!(sleep_until(&self.clock, Some(until), now));
                    match select(select(next, timer), stopped.as_mut()).await {
                        Either::Left((Either::Left((Some(fetched), _)), _)) => {
                            let now = self.clock.now();
                            fetched_one(&mut state, &mut side, fetched, now);
                        }
                        Either::Left((Either::Left((None, _)), _)) => break,
                        Either::Left((Either::Right(_), _)) => break,
                        Either::Right(_) => state.summary.interrupted = true,
                    }
                }
                state.summary.todo += in_flight.len() as u64;
                drop(in_flight);
                let now = self.clock.now();
                // What the log takes is recorded: the sync under way is seen through, and
                // a last one hands over the completions waiting and gives every lease
                // back, so other workers need not wait for them to expire.
                if let Some(f) = syncing.take()
                    && let (asked, Ok(reply)) = f.await
                {
                    let _ = take_reply(&mut state, &mut side, &asked, reply, now, 0, on_event);
                }
                // Granted by that reply but not started: left to do, their leases given
                // back below.
                let granted = side_grants(&mut side)
                    .into_iter()
                    .map(|(job, _)| (job, now));
                side.to_claim.extend(granted);
                let mut ask = ask(&mut state, &mut side, worker, &limits, false, false, now);
                ask.claims.clear();
                let sent: Vec<String> = ask
                    .done
                    .iter()
                    .map(|c| log_key(c.kept.fetch, &c.kept.record.url))
                    .collect();
                ask.release
                    .extend(side.held.iter().filter(|(key, _)| !sent.contains(key)).map(
                        |(key, &token)| Held {
                            url: key.clone(),
                            token,
                        },
                    ));
                // Left to do (and counted so): the jobs that were to be claimed.
                let unclaimed = std::mem::take(&mut side.asking);
                let mut asked = ask;
                let mut reply = shared.sync(&asked).await;
                // The log may hold more of this worker's completions than one reply
                // brings: they are read (a bounded number of times) so that their
                // records are handed on.
                for _ in 0..1000 {
                    let Ok(r) = reply else { break };
                    let _ = take_reply(&mut state, &mut side, &asked, r, now, 0, on_event);
                    if !side.more || side.mine.is_empty() {
                        break;
                    }
                    asked = side.bare_ask(worker, &limits);
                    reply = shared.sync(&asked).await;
                }
                side.to_claim.extend(unclaimed);
                // Completions the log may have taken, not heard back: the next run under
                // this name writes them (see `Event::mine`); left to do here.
                state.summary.todo += side.mine.len() as u64;
                break;
            }
        }
        let left = (side.parked.len() + side.to_claim.len() + side.asking.len()) as u64 + side.left;
        Ok(Life {
            summary: state.end_summary(self.clock.now().saturating_sub(start), left),
            rebalance: side.rebalance,
        })
    }
}
