//! Multi-worker cases: a case crawled by 2 to 4 workers sharing one crawl (`run_shared` over
//! one [`SimShared`](crate::SimShared)), on the same simulated network and the one
//! deterministic executor, with seeded faults: a worker crashed (its future dropped with its
//! fetches in flight, maybe restarted later under the same name, when it must rejoin), a
//! worker paused past its lease (not polled; what it hands in late must be refused by
//! fencing), slow replies. Leases are short (2-10 s of virtual time) so that they do expire.
//! Worker 0 never faults, so someone is always left to finish the crawl.
//!
//! The checks, after running the case twice:
//!
//! - the same seed gives the same crawl, event for event, request for request
//!   ([`Property::Determinism`]);
//! - the crawl ends: every run not crashed returns `Ok` with nothing left to do (but, with
//!   `max_pages`, pages the full limit leaves out), and no lease is left in the model
//!   ([`Property::Leftover`], [`Property::Workers`]);
//! - each URL is in the log once and recorded (an event with `replayed == false`) at most once
//!   over all workers and lives, by the worker the log names; the URLs recorded and those whose
//!   completion was accepted while its worker crashed before the reply came back (nobody can
//!   record those: the log has them, and every worker redoes them) are the log's, and every
//!   worker that finished handed on every entry of the log once ([`Property::FetchedOnce`]);
//! - the log's records are the oracle's set with the predicted outcomes, as for one crawl
//!   ([`Property::Reachable`], [`Property::Outcome`]);
//! - politeness over all workers, at the network ([`Property::Politeness`]; see
//!   [`check_politeness`] for exactly what is checked).
//!
//! - the page limits (`max_pages`, `max_pages_per_host`) hold for the crawl, over all workers,
//!   and every URL reached but not fetched is explained by a full one ([`Property::Limits`],
//!   as for one crawl, on the log's records and the most any worker left to do).

#[path = "workers/run.rs"]
mod run;

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use crawler::{Config, Record};
use crawler_site::Site;
use serde::{Deserialize, Serialize};

use super::case::Case;
use super::check::{Failure, Property, check_against_oracle, check_limits};
use super::oracle::Oracle;
use run::{Ran, RanUnder, Req, name};

/// The workers of a multi-worker crawl of a case, and their faults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Workers {
    /// How many workers (2 to 4).
    pub count: u32,
    /// Their lease, in whole seconds of virtual time.
    pub lease_s: u32,
    /// The most milliseconds a sync waits before, and again after, the model applies it (0:
    /// replies are instant). At most a sixth of the lease, so that a worker that is not paused
    /// always renews its leases in time (a renewal waits for the sync under way, then for its
    /// own: two slow syncs, each at most a third of the lease).
    pub slow_ms: u32,
    /// Faults, at most one per worker, never of worker 0.
    pub faults: Vec<WorkerFault>,
    /// The crawl's partitions (see `crawler::shared`, *Partitions*): 1 (or left out), one log
    /// every worker derives whole.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub partitions: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// A fault of one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WorkerFault {
    /// The worker's index (1 and up).
    pub worker: u32,
    /// When, in 1/64ths of the uninterrupted crawl's virtual time.
    pub at_64ths: u32,
    /// What happens.
    pub kind: WorkerFaultKind,
}

/// What happens to a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
#[non_exhaustive]
pub enum WorkerFaultKind {
    /// Its future is dropped; with `restart_ms`, a new run under its name starts that long
    /// after.
    Crash {
        /// Milliseconds until the restart, if any.
        restart_ms: Option<u32>,
    },
    /// Its future is not polled for `ms` milliseconds (longer than the lease).
    Pause {
        /// How long.
        ms: u32,
    },
}

impl Workers {
    /// The lease.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(u64::from(self.lease_s.max(1)))
    }

    /// The most a sync sleeps on either side of the apply.
    pub fn slow(&self) -> Duration {
        Duration::from_millis(u64::from(self.slow_ms)).min(self.lease() / 6)
    }
}

/// What a multi-worker crawl did, for the fuzz loop's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Faulted {
    pub crashes: u32,
    pub pauses: u32,
}

/// Runs `case` with its workers twice and checks it (see the module docs); `end` is the
/// uninterrupted crawl's virtual time.
pub(super) fn check_workers(
    case: &Case,
    workers: &Workers,
    config: &Config,
    site: &Rc<Site>,
    end: Duration,
) -> Result<Faulted, Failure> {
    let fail = |property, evidence: String| Err(Failure::new(property, evidence));
    let first = run::run(case, workers, config, site, end)?;
    let again = run::run(case, workers, config, site, end)?;
    if first != again {
        return fail(
            Property::Determinism,
            format!(
                "with workers, network trace hashes {:016x} then {:016x}, {} then {} requests, \
                 {} then {} log entries",
                first.net_hash,
                again.net_hash,
                first.requests.len(),
                again.requests.len(),
                first.log.len(),
                again.log.len()
            ),
        );
    }
    let faulted = Faulted {
        crashes: first.crashes,
        pauses: first.pauses,
    };
    let after = |f: Failure| {
        Failure::new(
            f.property,
            format!(
                "{} workers, {} crashes, {} pauses: {}",
                workers.count, first.crashes, first.pauses, f.evidence
            ),
        )
    };
    let split = workers.partitions > 1;
    check_ends(case, &first, split).map_err(after)?;
    check_files(&first).map_err(after)?;
    let by_url = check_once(&first, split).map_err(after)?;
    // A URL whose requests are more than its record's tries was also fetched by a worker
    // whose lease lapsed or who crashed: the page's script went on without the record.
    let mut requested: BTreeMap<&str, u32> = BTreeMap::new();
    for r in &first.requests {
        *requested.entry(r.url.as_str()).or_default() += 1;
    }
    let lost: BTreeSet<String> = by_url
        .iter()
        .filter(|(url, record)| requested.get(url.as_str()).copied().unwrap_or(0) != record.tries)
        .map(|(url, _)| url.clone())
        .collect();
    let oracle = Oracle::new(case).unpredictable(lost);
    let reach = oracle.reach(&by_url);
    check_against_oracle(&oracle, &reach, config, &by_url).map_err(after)?;
    let todo = first
        .lives
        .iter()
        .filter_map(|life| life.ended.as_ref()?.as_ref().ok().map(|s| s.todo))
        .max()
        .unwrap_or(0);
    check_limits(case, &reach, &by_url, todo).map_err(after)?;
    check_politeness(case, &first.requests).map_err(after)?;
    Ok(faulted)
}

/// Every run not crashed returned `Ok` with nothing to do (but, with `max_pages`, what the
/// limit left out), and no lease is left. With one log (not `split` in partitions), each
/// summary counts the whole log.
fn check_ends(case: &Case, ran: &Ran, split: bool) -> Result<(), Failure> {
    for life in &ran.lives {
        let who = name(life.worker);
        match &life.ended {
            None => {}
            Some(Err(e)) => {
                return Err(Failure::new(
                    Property::Workers,
                    format!("{who}'s run failed: {e}"),
                ));
            }
            Some(Ok(s)) if (s.todo != 0 && case.max_pages.is_none()) || s.interrupted => {
                return Err(Failure::new(
                    Property::Leftover,
                    format!("{who} returned with {} URLs to do", s.todo),
                ));
            }
            Some(Ok(s)) if !split && s.urls != ran.log.len() as u64 => {
                return Err(Failure::new(
                    Property::Workers,
                    format!(
                        "{who}'s summary counts {} URLs, the log has {}",
                        s.urls,
                        ran.log.len()
                    ),
                ));
            }
            Some(Ok(_)) => {}
        }
    }
    if ran.leased != 0 {
        return Err(Failure::new(
            Property::Workers,
            format!("{} leases left in the shared state at the end", ran.leased),
        ));
    }
    Ok(())
}

/// Each URL recorded once, by the worker the log names; the log each URL once, and all of it
/// recorded but for the completions whose reply was lost with a crash; with one log, every
/// finished worker handed on the whole log, each entry once; in partitions (`split`), each
/// worker derives only its part, again after the live workers change, so some worker handed
/// on each entry whose reply was lost. Returns the records by URL (the lost ones as a worker
/// redid them).
fn check_once(ran: &Ran, split: bool) -> Result<BTreeMap<String, &Record>, Failure> {
    let fail = |evidence: String| Err(Failure::new(Property::FetchedOnce, evidence));
    let mut log: BTreeMap<&str, &str> = BTreeMap::new();
    for (worker, url) in &ran.log {
        if log.insert(url, worker).is_some() {
            return fail(format!("{url} is in the log twice"));
        }
    }
    // Keyed by fetch ([`crawler::shared::log_key`]): one URL may be fetched as a page and as
    // a robots.txt or a sitemap, as in a lone crawl.
    let mut by_key: BTreeMap<&str, &Record> = BTreeMap::new();
    let mut recorder: BTreeMap<&str, String> = BTreeMap::new();
    for life in &ran.lives {
        let who = name(life.worker);
        for seen in life.events.iter().filter(|s| !s.replayed) {
            let key = seen.key.as_str();
            if let Some(other) = recorder.insert(key, who.clone()) {
                return fail(format!("{key} recorded by {other} and by {who}"));
            }
            by_key.insert(key, &seen.record);
            if log.get(key) != Some(&who.as_str()) {
                return fail(format!(
                    "{who} recorded {key}, whose log entry is {:?}'s",
                    log.get(key)
                ));
            }
        }
    }
    let unheard: BTreeSet<&str> = ran.unheard.iter().map(|(_, u)| u.as_str()).collect();
    for key in log.keys() {
        if !recorder.contains_key(key) && !unheard.contains(key) {
            return fail(format!(
                "{key} is in the log ({}'s), but no worker recorded it and its reply was \
                 received",
                log[key]
            ));
        }
    }
    if split {
        for seen in ran.lives.iter().flat_map(|l| &l.events) {
            let key = seen.key.as_str();
            if !by_key.contains_key(key) && unheard.contains(key) {
                by_key.insert(key, &seen.record);
            }
        }
        if let Some(key) = unheard.iter().find(|k| !by_key.contains_key(*k)) {
            return fail(format!(
                "{key} is in the log, its reply was lost, and no worker handed it on"
            ));
        }
        return Ok(by_key.into_values().map(|r| (r.url.clone(), r)).collect());
    }
    let logged: BTreeSet<&str> = log.keys().copied().collect();
    for life in ran.lives.iter().filter(|l| l.ended.is_some()) {
        let mut handed: BTreeSet<&str> = BTreeSet::new();
        for seen in &life.events {
            let key = seen.key.as_str();
            if !handed.insert(key) {
                return fail(format!("{} handed on {key} twice", name(life.worker)));
            }
            if !by_key.contains_key(key) && unheard.contains(key) {
                by_key.insert(key, &seen.record);
            }
        }
        if handed != logged {
            let missing: Vec<_> = logged.difference(&handed).collect();
            let extra: Vec<_> = handed.difference(&logged).collect();
            return fail(format!(
                "{} handed on what the log does not have: missing {missing:?}, extra {extra:?}",
                name(life.worker)
            ));
        }
    }
    // The oracle reads records by URL, as a lone crawl's.
    Ok(by_key.into_values().map(|r| (r.url.clone(), r)).collect())
}

/// The records `crawl --redis` writes, as its JSONL files would hold them: a worker writes an
/// event's record when it is not replayed, or when it is its own (`mine`) and its file does
/// not have it yet (the file, as a restarted worker reads it back, holds what its earlier
/// lives wrote). Over all files, each log entry at most once, and every one but those whose
/// reply was lost with a crash.
fn check_files(ran: &Ran) -> Result<(), Failure> {
    let fail = |evidence: String| Err(Failure::new(Property::FetchedOnce, evidence));
    let mut files: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    let mut writer: BTreeMap<&str, usize> = BTreeMap::new();
    for life in &ran.lives {
        let file = files.entry(life.worker).or_default();
        for seen in &life.events {
            let key = seen.key.as_str();
            let missed = seen.mine && !file.contains(key);
            if seen.replayed && !missed {
                continue;
            }
            if !file.insert(key) {
                return fail(format!("{} wrote {key} twice", name(life.worker)));
            }
            if let Some(other) = writer.insert(key, life.worker) {
                return fail(format!(
                    "{key} written by {} and by {}",
                    name(other),
                    name(life.worker)
                ));
            }
        }
    }
    let unheard: BTreeSet<&str> = ran.unheard.iter().map(|(_, u)| u.as_str()).collect();
    for (_, key) in &ran.log {
        if !writer.contains_key(key.as_str()) && !unheard.contains(key.as_str()) {
            return fail(format!("{key} is in the log, and in no worker's file"));
        }
    }
    Ok(())
}

/// Politeness over all workers, at the network. A request runs under the grant the model made
/// its worker for its URL before it started (the latest one); a request without one is a
/// failure. Then, per host:
///
/// - **`max_per_host`**: at no instant do more than `max_per_host` requests run whose lease was
///   live from its grant to the request's end. The model holds a host's slot from the grant to
///   the apply that hears the try ended, which comes after the request ends, so such requests
///   are inside their slots. A request whose lease lapsed while it ran (its worker was paused
///   past the lease, or its reply with the grant arrived after the lease had run out) has no
///   slot any more, by design: another worker may be granted it, and fencing refuses the late
///   completion. Those are not counted.
/// - **delay**: every claim asks for at least the case's `--delay` (more where a robots.txt
///   `Crawl-delay` raised its host's), and, taking a host's requests in the order of their
///   grants, each starts at least the delay the one before asked for after that one's grant.
///   The model spaces grants so; a request starts when its worker receives the reply, which a
///   slow reply (or a pause) makes later than the grant. So two request starts are at least
///   the delay apart *minus the reply lag of the earlier one* (the time from its grant to its
///   start), and exactly the delay apart when replies are instant and nobody pauses. Every
///   request of a host, lapsed or not, is held to this: the model spaces grants whatever
///   happens to leases. (Whether the engine reads a `Crawl-delay` right is not checked here:
///   the delay is the one its claims carried.)
fn check_politeness(case: &Case, requests: &[Req]) -> Result<(), Failure> {
    let fail = |evidence: String| Err(Failure::new(Property::Politeness, evidence));
    let mut hosts: BTreeMap<&str, Vec<(&Req, &RanUnder)>> = BTreeMap::new();
    for r in requests {
        let Some(grant) = &r.grant else {
            return fail(format!(
                "{} requested {} at {:?} without a grant",
                name(r.worker),
                r.url,
                r.at
            ));
        };
        if grant.delay < case.delay() {
            return fail(format!(
                "{} ({}) was claimed with a delay of {:?}, under --delay {:?}",
                r.url,
                name(r.worker),
                grant.delay,
                case.delay()
            ));
        }
        hosts.entry(&grant.host).or_default().push((r, grant));
    }
    for (host, list) in &hosts {
        if let Some(max) = case.max_per_host {
            // In the order starts and ends happened (many happen at one virtual instant).
            let mut edges: Vec<(u64, bool, Duration)> = Vec::new();
            for (r, _) in list.iter().filter(|(_, g)| !g.lapsed) {
                edges.push((r.seq.0, true, r.at));
                edges.push((r.seq.1, false, r.ended));
            }
            edges.sort();
            let mut running = 0usize;
            for (_, start, at) in edges {
                if start {
                    running += 1;
                    if running > max {
                        return fail(format!(
                            "{running} requests to {host} ran at once at {at:?} over all \
                             workers, max_per_host {max}"
                        ));
                    }
                } else {
                    running = running.saturating_sub(1);
                }
            }
        }
        let mut by_grant = list.clone();
        by_grant.sort_by_key(|(r, g)| (g.at, r.at));
        for pair in by_grant.windows(2) {
            let ((a, ga), (b, _)) = (pair[0], pair[1]);
            if b.at < ga.at + ga.delay {
                return fail(format!(
                    "{} ({}) started at {:?}, less than the delay {:?} after the grant of {} \
                     ({}) at {:?}",
                    b.url,
                    name(b.worker),
                    b.at,
                    ga.delay,
                    a.url,
                    name(a.worker),
                    ga.at
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "workers/tests.rs"]
mod tests;
