//! Crash injection: a case crawled by engines killed at seeded moments, each resumed from the
//! store the last one left (FoundationDB-style: the crash is a fault of the same seeded run).
//!
//! A crawl with crashes runs on a [`SharedStore`] that syncs every `sync_every` completions.
//! At crash `i` (a point `at_64ths`/64 of the way through the uninterrupted crawl of the case,
//! on the run's own clock), the engine is dropped with its fetches in flight, and the store
//! loses every completion since its last sync, except the first `survive` of them (a torn
//! batch). The next engine starts over a fresh network (seed + run number) from that store, and
//! the last runs to the end.
//!
//! What each run wrote out and the store kept is what a crawl's outputs keep across runs (the
//! command line cuts its outputs back to what the store kept when it resumes); the checks:
//!
//! - no URL recorded twice over all runs ([`Property::FetchedOnce`]);
//! - a URL fetched again only when its completion was never made durable
//!   ([`Property::Crash`]);
//! - the records of all runs are the oracle's set, with the predicted outcomes
//!   ([`Property::Reachable`], [`Property::Outcome`]);
//! - the last run ends with nothing left ([`Property::Leftover`]), and, when the network is
//!   free of random faults, its summary is the uninterrupted crawl's ([`Property::Crash`]);
//! - the same seed gives the same runs, crashes included ([`Property::Determinism`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use crawler::{Config, Record, Summary};
use crawler_site::Site;

use super::case::Case;
use super::check::{Failure, Property, check_against_oracle};
use super::oracle::Oracle;
use crate::{SharedStore, Sim, SimStore};

/// One crash of a crawl with crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Crash {
    /// When, in 1/64ths of the uninterrupted crawl's virtual time (on the run's own clock).
    pub at_64ths: u32,
    /// How many of the completions since the store's last sync survive (a torn batch).
    pub survive: u32,
}

impl Crash {
    /// A crash `at_64ths`/64 of the way through, keeping `survive` unsynced completions.
    pub fn new(at_64ths: u32, survive: u32) -> Self {
        Crash { at_64ths, survive }
    }
}

/// What a crawl with crashes did.
#[derive(Debug, PartialEq)]
struct Crashed {
    /// Per run, its trace hash.
    hashes: Vec<u64>,
    /// Crashes that happened (a run may end before its crash is due).
    restarts: u32,
    /// The records the runs wrote out and the store kept, in order.
    kept: Vec<Record>,
    /// The records replayed by the runs, in order.
    replayed: Vec<Record>,
    /// Per run, the URLs it requested, and the URLs durable when it started.
    runs: Vec<(Vec<String>, BTreeSet<String>)>,
    /// The last run's summary.
    last: Summary,
    /// Requests in flight and URLs left when the last run returned.
    left: (usize, u64),
}

/// Runs `case` with its crashes twice and checks it (see the module docs); `uninterrupted` is
/// the crawl without crashes. Returns how many crash restarts there were.
pub(super) fn check_crashes(
    case: &Case,
    config: &Config,
    site: &Rc<Site>,
    uninterrupted: &Summary,
    end: Duration,
) -> Result<u32, Failure> {
    let fail = |property, evidence: String| Err(Failure::new(property, evidence));
    let first = run(case, config, site, end)?;
    let again = run(case, config, site, end)?;
    if first != again {
        return fail(
            Property::Determinism,
            format!(
                "with crashes, run trace hashes {:x?} then {:x?}",
                first.hashes, again.hashes
            ),
        );
    }
    let mut by_url: BTreeMap<String, &Record> = BTreeMap::new();
    for record in &first.kept {
        if by_url.insert(record.url.clone(), record).is_some() {
            return fail(
                Property::FetchedOnce,
                format!("{} recorded twice over the runs", record.url),
            );
        }
    }
    for (n, (requested, durable)) in first.runs.iter().enumerate() {
        if let Some(url) = requested.iter().find(|u| durable.contains(*u)) {
            return fail(
                Property::Crash,
                format!("run {n} fetched {url}, whose completion an earlier run made durable"),
            );
        }
    }
    // Whether a redirect's record says its chain was cut depends on the labels it had when it
    // was done, which is a matter of timing (a better label may come later and be passed on):
    // the same in a crawl that was never stopped.
    let timely = |e: &Option<String>| {
        e.as_ref()
            .filter(|e| !e.starts_with("redirect limit reached"))
            .cloned()
    };
    // The depth and new links of a record depend on the order URLs were found in, which a
    // replay does not keep; every other field must come back as it was kept.
    let comparable = |r: &Record| {
        let mut r = r.clone();
        (r.depth, r.new_links) = (0, None);
        r.error = timely(&r.error);
        r
    };
    for r in &first.replayed {
        let kept = by_url.get(&r.url);
        let same = kept.is_some_and(|k| comparable(k) == comparable(r));
        if !same {
            return fail(
                Property::Crash,
                format!("{} replayed as {r:?}, kept as {kept:?}", r.url),
            );
        }
    }
    if first.left != (0, 0) {
        return fail(
            Property::Leftover,
            format!(
                "after {} crashes, {} requests in flight and {} URLs to do at the end",
                first.restarts, first.left.0, first.left.1
            ),
        );
    }
    let oracle = Oracle::new(case);
    let reach = oracle.reach(&by_url);
    check_against_oracle(&oracle, &reach, config, &by_url).map_err(|f| {
        Failure::new(
            f.property,
            format!("after {} crashes: {}", first.restarts, f.evidence),
        )
    })?;
    // Whatever the network did, the last run's counts are those of all the runs' records.
    let last = &first.last;
    let records = first.kept.len() as u64;
    let tries: u64 = first.kept.iter().map(|r| u64::from(r.tries)).sum();
    let failures = first.kept.iter().filter(|r| r.status.is_none()).count() as u64;
    if (last.urls, last.requests, last.failures) != (records, tries, failures) {
        return fail(
            Property::Crash,
            format!(
                "after {} crashes the summary counts {} URLs, {} requests, {} failures; the \
                 runs' records {records}, {tries}, {failures}",
                first.restarts, last.urls, last.requests, last.failures
            ),
        );
    }
    // Random faults: a node's own rates, unless a script replaces them, or the network's.
    let random = !case.network.faults.is_none()
        || case
            .nodes
            .iter()
            .any(|n| n.script.is_empty() && n.faults.is_some_and(|f| !f.is_none()));
    let timeless = |s: &Summary| {
        let mut s = s.clone();
        s.elapsed = Duration::ZERO;
        s.redirect_cuts = 0; // see `timely` above
        s
    };
    if !random && timeless(&first.last) != timeless(uninterrupted) {
        return fail(
            Property::Crash,
            format!(
                "after {} crashes the summary is {:?}, uninterrupted {:?}",
                first.restarts, first.last, uninterrupted
            ),
        );
    }
    Ok(first.restarts)
}

/// One crawl of `case` with its crashes.
fn run(case: &Case, config: &Config, site: &Rc<Site>, end: Duration) -> Result<Crashed, Failure> {
    let store = SharedStore::new(RefCell::new(SimStore::new(case.sync_every as usize)));
    let mut crashed = Crashed {
        hashes: Vec::new(),
        restarts: 0,
        kept: Vec::new(),
        replayed: Vec::new(),
        runs: Vec::new(),
        last: Summary::default(),
        left: (0, 0),
    };
    for n in 0..=case.crashes.len() {
        let sim = Sim::builder()
            .seed(case.seed.wrapping_add(n as u64))
            .site(site.clone())
            .budget(case.budget(config))
            .build()
            .expect("a site is given");
        let durable = store.borrow().durable_urls();
        let records: Rc<RefCell<Vec<(Record, bool)>>> = Rc::default();
        let sink = records.clone();
        let mut running = sim.start_with_store(config, Box::new(store.clone()), move |r, re| {
            sink.borrow_mut().push((r.clone(), re))
        });
        let at = case.crashes.get(n).map(|c| end * c.at_64ths / 64);
        let mut done = false;
        while !done {
            if at.is_some_and(|at| running.now() >= at) {
                break;
            }
            done = running
                .step()
                .map_err(|e| Failure::new(Property::Crawl, format!("run {n}: {e}")))?;
        }
        let requested = running
            .transport()
            .requests()
            .iter()
            .map(|r| r.url.to_string())
            .collect();
        crashed.runs.push((requested, durable));
        let written = std::mem::take(&mut *records.borrow_mut());
        if done {
            let last = running
                .finish()
                .map_err(|e| Failure::new(Property::Crawl, format!("run {n}: {e}")))?;
            store.borrow_mut().sync();
            crashed.hashes.push(last.trace_hash);
            crashed.left = (last.in_flight, last.summary.todo);
            crashed.last = last.summary;
        } else {
            crashed.hashes.push(running.trace_hash());
            drop(running); // killed, with its fetches in flight
            let survive = case.crashes[n].survive as usize;
            store.borrow_mut().crash(survive);
            crashed.restarts += 1;
        }
        let durable = store.borrow().durable_urls();
        for (record, replayed) in written {
            if replayed {
                crashed.replayed.push(record);
            } else if durable.contains(&record.url) {
                crashed.kept.push(record);
            }
        }
        if done {
            break;
        }
    }
    Ok(crashed)
}
