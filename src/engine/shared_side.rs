//! A worker's side of the shared-crawl protocol (see [`crate::shared`] and
//! `engine/shared_run.rs`, the loop that drives it): what waits for the next sync, building an
//! ask, taking a reply (entries concluded or kept for later, claims answered, completions
//! refused), and a finished fetch turned into a completion for the log.

use std::collections::BTreeMap;
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::fetch::Fetched;
use super::schedule::{Job, JobKind};
use super::shared_run::{POLL, WorkerOptions};
use super::state::{CrawlState, Done, job_key};
use super::{Event, Stop};
use crate::shared::{
    Answer, Ask, Claim, Completion, Held, Read, Reply, SharedError, followed, log_key,
};
use crate::store::Kept;

/// A worker's side of the protocol: what waits for the next sync, and what the log owes it.
#[derive(Default)]
pub(super) struct Side {
    pub(super) cursor: u64,
    /// Jobs to claim at the next sync, each with when the scheduler started it: one turned
    /// down gives its host's delay back ([`Scheduler::unstart`]).
    ///
    /// [`Scheduler::unstart`]: super::schedule::Scheduler::unstart
    pub(super) to_claim: Vec<(Job, Duration)>,
    /// Leases to give up at the next sync (a retry's claim turned down for a full limit).
    pub(super) release: Vec<Held>,
    /// Jobs whose claims the sync under way carries (as `to_claim`).
    pub(super) asking: Vec<(Job, Duration)>,
    /// Completions for the next sync (the sync under way carries its own, in its ask).
    pub(super) to_send: Vec<Completion>,
    /// Tries that ended (a retry follows), for the next sync.
    pub(super) ended: Vec<Held>,
    /// Leases held: URL to token.
    pub(super) held: BTreeMap<String, u64>,
    /// Last tries handed to the log, waiting for their entries: URL to (job, answer).
    pub(super) mine: FxHashMap<String, Fetched>,
    /// Jobs whose URL another worker holds, out of the scheduler (holding no host slot): URL
    /// to (job, when to queue it again).
    pub(super) parked: BTreeMap<String, (Job, Duration)>,
    /// When leases were last renewed, and when the last sync was sent.
    pub(super) renewed: Duration,
    pub(super) last_sync: Duration,
    /// The log has more entries than the last reply brought.
    pub(super) more: bool,
    /// URLs whose entries this worker made under the same name in an earlier run.
    pub(super) earlier: rustc_hash::FxHashSet<String>,
    /// Pages the crawl's `max_pages` leaves out ([`Answer::Full`]): never fetched, left to do.
    pub(super) left: u64,
    /// The crawl's partitions (1: one log, read from `cursor`; see [`crate::shared`]).
    pub(super) partitions: u32,
    /// The partitions followed, and where their logs and inboxes are read to.
    pub(super) reads: BTreeMap<u32, (u64, u64)>,
    /// The live workers changed who follows what: this life of the worker ends.
    pub(super) rebalance: bool,
    /// The last reply said the crawl is over.
    pub(super) over: bool,
    /// (Partitioned) this worker's completions concluded when the log took them, whose
    /// entries may still come back in a log it reads (to be passed over then).
    pub(super) concluded: rustc_hash::FxHashSet<String>,
}

impl Side {
    /// Nothing waits on this worker or on the log.
    pub(super) fn idle(&self) -> bool {
        self.to_claim.is_empty()
            && self.asking.is_empty()
            && self.to_send.is_empty()
            && self.release.is_empty()
            && self.mine.is_empty()
            && self.parked.is_empty()
            && !self.more
    }

    /// A partitioned crawl (see [`crate::shared`], *Partitions*).
    pub(super) fn split(&self) -> bool {
        self.partitions > 1
    }

    /// The reads of the partitions followed.
    pub(super) fn reads(&self) -> Vec<Read> {
        self.reads
            .iter()
            .map(|(&partition, &(log, inbox))| Read {
                partition,
                log,
                inbox,
            })
            .collect()
    }

    /// An ask that says nothing but who asks and what it has read.
    pub(super) fn bare_ask(&self, worker: &WorkerOptions, limits: &Limits) -> Ask {
        Ask {
            worker: worker.name.clone(),
            cursor: self.cursor,
            lease: worker.lease,
            max_per_host: limits.max_per_host,
            partitions: self.partitions,
            reads: self.reads(),
            ..Ask::default()
        }
    }

    /// The earliest parked claim to make again.
    pub(super) fn next_parked(&self) -> Option<Duration> {
        self.parked.values().map(|(_, at)| *at).min()
    }
}

/// The limits a worker's claims carry: the crawl's, held by the shared state for all workers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) max_per_host: u32,
    pub(super) max_pages: Option<u64>,
    pub(super) max_pages_per_host: Option<u64>,
}

impl Limits {
    pub(super) fn of(config: &crate::config::Config) -> Limits {
        Limits {
            max_per_host: config
                .max_per_host
                .map_or(u32::MAX, |m| u32::try_from(m).unwrap_or(u32::MAX)),
            max_pages: config.max_pages,
            max_pages_per_host: config.max_pages_per_host,
        }
    }
}

/// The jobs granted by the last reply, with their tokens (taken out of `asking`).
pub(super) fn side_grants(side: &mut Side) -> Vec<(Job, u64)> {
    let granted: Vec<(Job, u64)> = std::mem::take(&mut side.asking)
        .into_iter()
        .filter_map(|(job, _)| {
            let token = *side.held.get(&job_key(&job))?;
            Some((job, token))
        })
        .collect();
    granted
}

/// Builds the next sync's ask out of what waits.
pub(super) fn ask(
    state: &mut CrawlState<'_>,
    side: &mut Side,
    worker: &WorkerOptions,
    limits: &Limits,
    renew: bool,
    quiet: bool,
    now: Duration,
) -> Ask {
    side.asking = std::mem::take(&mut side.to_claim);
    let done = std::mem::take(&mut side.to_send);
    side.last_sync = now;
    let claims = side
        .asking
        .iter()
        .map(|(job, _)| {
            let (host, delay) = state.host_key(job);
            let key = job_key(job);
            let token = side.held.get(&key).copied();
            Claim {
                url: key,
                host,
                delay,
                token,
                page: job.kind == JobKind::Page,
            }
        })
        .collect();
    let renew = if renew {
        side.renewed = now;
        side.held
            .iter()
            .map(|(url, &token)| Held {
                url: url.clone(),
                token,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ask {
        worker: worker.name.clone(),
        cursor: side.cursor,
        lease: worker.lease,
        max_per_host: limits.max_per_host,
        max_pages: limits.max_pages,
        max_pages_per_host: limits.max_pages_per_host,
        done,
        ended: std::mem::take(&mut side.ended),
        release: std::mem::take(&mut side.release),
        renew,
        claims,
        partitions: side.partitions,
        reads: side.reads(),
        offers: if side.split() {
            state.take_offers(side.partitions)
        } else {
            Vec::new()
        },
        quiet,
    }
}

/// Takes a reply: concludes the entries it brings (or keeps them for later), then sorts out the
/// claims (granted ones stay in `asking` for [`side_grants`]) and the completions refused;
/// `ask` is what the sync carried (its completions, its worker). A reply without one answer
/// per claim and one flag per completion is an error.
pub(super) fn take_reply(
    state: &mut CrawlState<'_>,
    side: &mut Side,
    ask: &Ask,
    reply: Reply,
    now: Duration,
    in_flight: usize,
    on_event: &mut impl FnMut(&Event<'_>),
) -> Result<(), SharedError> {
    let worker = ask.worker.as_str();
    if reply.answers.len() != side.asking.len() || reply.accepted.len() != ask.done.len() {
        return Err(SharedError::new(format!(
            "a reply with {} answers to {} claims and {} flags for {} completions",
            reply.answers.len(),
            side.asking.len(),
            reply.accepted.len(),
            ask.done.len()
        )));
    }
    side.cursor += reply.entries.len() as u64;
    side.more = reply.more;
    let sent: Vec<String> = ask
        .done
        .iter()
        .map(|c| log_key(c.kept.fetch, &c.kept.record.url))
        .collect();
    if side.split() {
        side.over = reply.over;
        let members = super::shared_run::members_of(reply.workers);
        let now_following = followed(worker, &members, side.partitions);
        if !now_following.iter().eq(side.reads.keys()) {
            side.rebalance = true;
        }
        for entry in &reply.entries {
            if let Some(read) = side.reads.get_mut(&entry.partition) {
                read.0 += 1;
            }
        }
        for offer in &reply.offers {
            if let Some(read) = side.reads.get_mut(&offer.partition) {
                read.1 += 1;
            }
        }
        // The log took these: concluded now (a log this worker does not read never brings
        // them back).
        for ((key, accepted), sent) in sent.iter().zip(&reply.accepted).zip(&ask.done) {
            if !accepted {
                continue;
            }
            let Some(fetched) = side.mine.remove(key) else {
                continue;
            };
            side.held.remove(key);
            let done = state.finish_mine(fetched.job, &sent.kept, fetched.outcome, now);
            emit(state, &done, on_event, in_flight, side);
            side.concluded.insert(key.clone());
        }
    }
    for entry in reply.entries {
        let key = log_key(entry.kept.fetch, &entry.kept.record.url);
        if side.split() && entry.worker == worker && side.concluded.remove(&key) {
            continue;
        }
        let own = side.mine.contains_key(&key) && side.held.get(&key) == Some(&entry.token);
        if own {
            let fetched = side.mine.remove(&key).expect("checked");
            side.held.remove(&key);
            let done = state.finish_mine(fetched.job, &entry.kept, fetched.outcome, now);
            emit(state, &done, on_event, in_flight, side);
        } else if let Some((job, _)) = side.parked.remove(&key) {
            let mut done = state.finish_kept(job, entry.kept, now);
            done.mine = entry.worker == worker;
            emit(state, &done, on_event, in_flight, side);
        } else {
            if entry.worker == worker {
                side.earlier.insert(key);
            }
            // Redone when the crawl comes to it (or when this worker's own claim or
            // completion for it is turned down).
            state.arrive(entry.kept);
        }
    }
    for offer in &reply.offers {
        state.take_offer(offer);
    }
    // Completions: a refused one was fenced (the lease had expired): another worker's entry
    // is redone instead, or, when the fetch has none yet, it is claimed again.
    for (key, accepted) in sent.into_iter().zip(reply.accepted) {
        if accepted {
            continue;
        }
        side.held.remove(&key);
        if let Some(fetched) = side.mine.remove(&key) {
            let job = Job {
                try_no: 1,
                ..fetched.job
            };
            redo_or_claim(state, side, job, now, in_flight, on_event);
        }
    }
    // Claims (a `Done` one's entry found, when the reply brings it).
    let mut found: FxHashMap<String, crate::shared::Entry> = reply
        .found
        .into_iter()
        .map(|e| (log_key(e.kept.fetch, &e.kept.record.url), e))
        .collect();
    let asking = std::mem::take(&mut side.asking);
    let mut granted = Vec::new();
    for ((job, started), answer) in asking.into_iter().zip(reply.answers) {
        let key = job_key(&job);
        // Not granted: no request is made, so the host's delay is given back (but for
        // `Polite`, when the host is busy over all workers anyway).
        let unstart = |state: &mut CrawlState<'_>| state.schedule.unstart(job.host, started, now);
        match answer {
            Answer::Granted { token } => {
                side.held.insert(key, token);
                granted.push((job, started));
            }
            Answer::Done => {
                unstart(state);
                side.held.remove(&key);
                match found.remove(&key) {
                    Some(entry) => {
                        let mut done = state.finish_kept(job, entry.kept, now);
                        done.mine = entry.worker == worker;
                        emit(state, &done, on_event, in_flight, side);
                    }
                    None => redo_or_claim(state, side, job, now, in_flight, on_event),
                }
            }
            Answer::Held { wait } => {
                unstart(state);
                side.held.remove(&key);
                let at = now + wait.max(POLL);
                side.parked.insert(key, (job, at));
            }
            Answer::Polite { wait } => {
                state.schedule.finish(job.host, now);
                state.schedule.retry_at(job, now + wait.max(POLL));
            }
            // Final (no place is ever given back): the page is never fetched by anyone. (A
            // retry's claim is never turned down so, its page having a place; were it, its
            // lease is given back.)
            Answer::Full | Answer::HostFull => {
                unstart(state);
                if let Some(token) = side.held.remove(&key) {
                    side.release.push(Held { url: key, token });
                }
                if answer == Answer::Full {
                    side.left += 1;
                } else {
                    state.cut_for_host(&job);
                }
            }
        }
    }
    side.asking = granted;
    Ok(())
}

/// Redoes `job` from the entry that arrived for it; without one (yet), parks it until one
/// arrives or it can be claimed again.
pub(super) fn redo_or_claim(
    state: &mut CrawlState<'_>,
    side: &mut Side,
    job: Job,
    now: Duration,
    in_flight: usize,
    on_event: &mut impl FnMut(&Event<'_>),
) {
    match state.arrived(&job) {
        Some(Ok(kept)) => {
            let done = state.finish_kept(job, kept, now);
            emit(state, &done, on_event, in_flight, side);
        }
        Some(Err(())) => {}
        None => {
            side.parked.insert(job_key(&job), (job, now + POLL));
        }
    }
}

/// Takes a finished fetch: a retry to come is an ended try; a last try becomes a completion
/// for the log.
pub(super) fn fetched_one(
    state: &mut CrawlState<'_>,
    side: &mut Side,
    fetched: Fetched,
    now: Duration,
) {
    let url = job_key(&fetched.job);
    let token = side.held.get(&url).copied();
    match state.settle(fetched, now) {
        None => {
            if let Some(token) = token {
                side.ended.push(Held { url, token });
            }
        }
        Some(fetched) => {
            let Some(token) = token else {
                return; // Not possible: a fetch starts only under a lease.
            };
            let kept: Kept = state.kept_of(&fetched);
            side.to_send.push(Completion { token, kept });
            side.mine.insert(url, fetched);
        }
    }
}

/// Hands the caller the event of `done`.
pub(super) fn emit(
    state: &mut CrawlState<'_>,
    done: &Done,
    on_event: &mut impl FnMut(&Event<'_>),
    in_flight: usize,
    side: &Side,
) {
    let mut event = state.event(done, state.progress(in_flight, side.parked.len()));
    // (A key is made only after a restart: most runs have no earlier entries.)
    event.mine |= !side.earlier.is_empty()
        && side
            .earlier
            .contains(&log_key(event.fetch, &event.record.url));
    on_event(&event);
}

/// Redoes what admission found already in the log.
pub(super) fn replay(
    state: &mut CrawlState<'_>,
    on_event: &mut impl FnMut(&Event<'_>),
    in_flight: usize,
    side: &Side,
    now: Duration,
    stop: Option<&Stop>,
) {
    while let Some((job, kept)) = state.replay.pop_front() {
        if stop.is_some_and(Stop::is_stopped) {
            state.replay.push_front((job, kept));
            break;
        }
        let done = state.finish_kept(job, kept, now);
        emit(state, &done, on_event, in_flight, side);
        state.admit(now);
    }
}
