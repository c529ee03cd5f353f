//! Running a case and checking every property against the oracle.
//!
//! [`check`] runs a case twice in the simulator (stepping the first run by hand to watch for
//! stalls) and checks, in this order:
//!
//! - the crawl ends: no deadlock, within the virtual-time budget ([`Property::Crawl`]), and never
//!   a stretch of virtual time longer than the case's stall budget without a request reaching
//!   the server or a record while work remains ([`Property::Stall`]);
//! - nothing is left: no request in flight, nothing queued unless `max_pages` stopped the crawl
//!   ([`Property::Leftover`], [`Property::Limits`]);
//! - the server never saw more than `max_tasks` requests at once ([`Property::MaxTasks`]);
//! - the same seed gives the same trace, event for event ([`Property::Determinism`]);
//! - one record per URL, and exactly `tries` requests per URL ([`Property::FetchedOnce`]);
//! - the fetched set is the oracle's reachable set ([`Property::Reachable`]), every
//!   deterministic outcome is the predicted one and every failure ran out of tries
//!   ([`Property::Outcome`]);
//! - no redirect chain is followed past `max_redirect` ([`Property::RedirectChain`]);
//! - once the faulty phase is over (`until_ms`), every try gets the site's own answer, so a URL
//!   whose last try came after it ends with its own status ([`Property::Liveness`]);
//! - every response's body was read, except with `html_bodies_only` those that are not HTML
//!   (robots.txt aside), whose records have no size ([`Property::Bodies`]);
//! - the `nofollow` cuts, in all, are the `rel=nofollow` links of the pages fetched
//!   ([`Property::Nofollow`]; the reachable set already says none was followed);
//! - `max_pages` and `max_pages_per_host` hold, and every URL reached but not fetched is
//!   explained by a full limit ([`Property::Limits`]);
//! - with crashes, the crawl killed and resumed from its store records every URL once, fetches
//!   again only what was never durable, and ends as the uninterrupted one does (`crash.rs`);
//! - with workers, the crawl shared by several of them, some crashed or paused, records every
//!   URL once over all of them, the oracle's set, politely, and ends (`workers.rs`).
//!
//! A failure is a [`Failure`]: the property and the evidence, one line where possible.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crawler::{Config, Cut, Record};
use crawler_site::Site;
use url::Url;

use super::case::{Case, NodeKind};
use super::crash;
use super::oracle::{Final, Oracle, retryable};
use super::reach::Reach;
use super::workers;
use crate::{Sim, SimRun};

/// The property a failing case broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Property {
    /// The simulation failed: a deadlock or a virtual-time budget overrun.
    Crawl,
    /// No progress for longer than the stall budget while work remained.
    Stall,
    /// Requests in flight or work queued when the crawl returned.
    Leftover,
    /// More than `max_tasks` requests in flight at once.
    MaxTasks,
    /// Two runs of one seed differ.
    Determinism,
    /// A URL fetched twice, or requests and records that do not add up.
    FetchedOnce,
    /// The fetched set differs from the oracle's reachable set.
    Reachable,
    /// An outcome differs from the predicted one, or a failure did not use its tries.
    Outcome,
    /// A redirect chain followed past `max_redirect`.
    RedirectChain,
    /// After the faulty phase, a try did not get the site's own answer.
    Liveness,
    /// A body downloaded that `html_bodies_only` says to skip, or one skipped that should not be.
    Bodies,
    /// The `nofollow` cuts differ, in all, from the `rel=nofollow` links of the pages fetched
    /// (all the links of a page whose meta robots says `nofollow`), or a record's `noindex`
    /// from its page's meta robots.
    Nofollow,
    /// A page limit exceeded, or a URL left unfetched with no limit full.
    Limits,
    /// With crashes: a URL fetched again although its completion was durable, a replay unlike
    /// what was kept, or a resumed crawl whose summary is not the uninterrupted one's.
    Crash,
    /// With workers: more requests to one host at once, or closer together, than politeness
    /// allows over all workers (see `fuzz/workers.rs` for exactly what is checked).
    Politeness,
    /// With workers: a run that failed or miscounts, or a lease left at the end.
    Workers,
    /// The engine or the simulator panicked.
    Panic,
    /// The case itself could not be run (a bug in the generator).
    Case,
}

impl Property {
    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Property::Crawl => "crawl",
            Property::Stall => "stall",
            Property::Leftover => "leftover",
            Property::MaxTasks => "max-tasks",
            Property::Determinism => "determinism",
            Property::FetchedOnce => "fetched-once",
            Property::Reachable => "reachable",
            Property::Outcome => "outcome",
            Property::RedirectChain => "redirect-chain",
            Property::Liveness => "liveness",
            Property::Bodies => "bodies",
            Property::Nofollow => "nofollow",
            Property::Limits => "limits",
            Property::Crash => "crash",
            Property::Politeness => "politeness",
            Property::Workers => "workers",
            Property::Panic => "panic",
            Property::Case => "case",
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A broken property and its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// Which property.
    pub property: Property,
    /// What was seen.
    pub evidence: String,
}

impl Failure {
    /// A panic with its message (the fuzz driver catches panics and reports them so).
    pub fn panic(message: &str) -> Self {
        Failure::new(Property::Panic, message)
    }

    pub(super) fn new(property: Property, evidence: impl Into<String>) -> Self {
        Failure {
            property,
            evidence: evidence.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.property, self.evidence)
    }
}

impl std::error::Error for Failure {}

/// What a passing case did (for the fuzz loop's totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Passed {
    /// Requests the server saw in one run.
    pub requests: usize,
    /// Records the engine reported in one run.
    pub records: usize,
    /// Virtual time one run took.
    pub end: Duration,
    /// Crash restarts in the crawl with crashes (0 without).
    pub crash_restarts: u32,
    /// Workers crashed in the crawl by workers (0 without).
    pub worker_crashes: u32,
    /// Workers paused past their lease in the crawl by workers (0 without).
    pub worker_pauses: u32,
}

macro_rules! ensure {
    ($property:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(Failure::new($property, format!($($msg)+)));
        }
    };
}

/// Runs `case` twice and checks every property, mostly in the order [`Property`] lists them
/// (the first broken one is reported); a case with workers then runs twice more, with its
/// workers, and is checked as the `fuzz/workers.rs` module says.
pub fn check(case: &Case) -> Result<Passed, Failure> {
    let config = case.config();
    let site = Rc::new(
        Site::from_spec(case.site()).map_err(|e| Failure::new(Property::Case, e.to_string()))?,
    );
    let sim = sim(case, &config, &site, false);
    let (run, records) = run_watched(&config, &sim, case.stall_budget(&config))?;
    let budget = sim.budget();
    ensure!(
        Property::Crawl,
        run.summary.elapsed <= budget,
        "elapsed {:?} > budget {budget:?}",
        run.summary.elapsed
    );
    ensure!(
        Property::Leftover,
        run.in_flight == 0
            && !run.summary.interrupted
            && (run.summary.todo == 0 || case.max_pages.is_some()),
        "{} requests in flight and {} URLs to do when the crawl returned",
        run.in_flight,
        run.summary.todo
    );
    ensure!(
        Property::MaxTasks,
        run.max_in_flight <= config.max_tasks(),
        "{} requests in flight at once, max_tasks {}",
        run.max_in_flight,
        config.max_tasks()
    );
    let again = sim.run(&config).map_err(|e| {
        Failure::new(
            Property::Determinism,
            format!("the first run finished, the second failed: {e}"),
        )
    })?;
    if again.trace_hash != run.trace_hash || again.records != records {
        return Err(determinism_failure(case, &config, &site, &run, &again));
    }
    let by_url = check_requests(&run, &records)?;
    let oracle = Oracle::new(case);
    let reach = oracle.reach(&by_url);
    check_against_oracle(&oracle, &reach, &config, &by_url)?;
    check_redirect_chains(case, &oracle, &config, &records, &by_url)?;
    liveness::check_liveness(case, &oracle, &run, &by_url)?;
    check_bodies(case, &oracle, &records)?;
    check_nofollow(&oracle, &run, &by_url)?;
    check_limits(case, &reach, &by_url, run.summary.todo)?;
    let crash_restarts = if case.crashes.is_empty() {
        0
    } else {
        crash::check_crashes(case, &config, &site, &run.summary, run.end)?
    };
    let faulted = match &case.workers {
        Some(w) => workers::check_workers(case, w, &config, &site, run.end)?,
        None => Default::default(),
    };
    Ok(Passed {
        requests: run.requests.len(),
        records: records.len(),
        end: run.end,
        crash_restarts,
        worker_crashes: faulted.crashes,
        worker_pauses: faulted.pauses,
    })
}

/// Every response's record has a size (its body was read), except, with `html_bodies_only`,
/// those that are not HTML: their bodies are skipped. robots.txt is always read. Which
/// responses are HTML is the case's to say (an HTML node answering its own 200), not the
/// record's content type.
fn check_bodies(case: &Case, oracle: &Oracle, records: &[Record]) -> Result<(), Failure> {
    for r in records.iter().filter(|r| r.status.is_some()) {
        let node = oracle.node(&r.url).map(|i| &case.nodes[i].kind);
        let html = matches!(node, Some(NodeKind::Html { .. })) && r.status == Some(200);
        let robots = case.robots && r.url.ends_with("/robots.txt");
        let sitemap = (0..case.sitemaps.len()).any(|k| case.sitemap_url(k) == r.url);
        let read = !case.html_bodies_only || html || robots || sitemap;
        ensure!(
            Property::Bodies,
            r.size.is_some() == read,
            "{} (status {:?}, html_bodies_only {}) has size {:?}",
            r.url,
            r.status,
            case.html_bodies_only,
            r.size
        );
    }
    Ok(())
}

/// The crawl's `nofollow` cuts, in all, are the `rel=nofollow` links (those that are URLs) of
/// the pages it fetched (the engine counts them per crawl, not per page); that none was
/// followed, the reachable set already says.
fn check_nofollow(
    oracle: &Oracle,
    run: &SimRun,
    by_url: &BTreeMap<String, &Record>,
) -> Result<(), Failure> {
    let mut want = 0;
    for (url, record) in by_url {
        let parsed = Url::parse(url).expect("records hold absolute URLs");
        let last = oracle.final_of(&parsed, Some(record));
        want += oracle.nofollow_links(&parsed, &last);
        let noindex = match last {
            Final::Status {
                status: 200,
                page: Some(i),
            } if matches!(oracle.case().nodes[i].kind, NodeKind::Html { .. }) => oracle.meta(i).1,
            _ => false,
        };
        ensure!(
            Property::Nofollow,
            record.noindex == noindex,
            "{url}: noindex {}, but its meta robots says {noindex}",
            record.noindex
        );
    }
    let got = run.summary.cuts.get(&Cut::Nofollow).copied().unwrap_or(0);
    ensure!(
        Property::Nofollow,
        got == want as u64,
        "{got} nofollow cuts, but the fetched pages have {want} rel=nofollow links"
    );
    Ok(())
}

fn sim(case: &Case, config: &Config, site: &Rc<Site>, text: bool) -> Sim {
    Sim::builder()
        .seed(case.seed)
        .site(site.clone())
        .budget(case.budget(config))
        .trace_text(text)
        .build()
        .expect("a site is given")
}

/// Runs the crawl step by step, failing on a stall: virtual time moving past the stall budget
/// since the last request or record.
fn run_watched(
    config: &Config,
    sim: &Sim,
    stall: Duration,
) -> Result<(SimRun, Vec<Record>), Failure> {
    let records = Rc::new(RefCell::new(Vec::new()));
    let sink = records.clone();
    let mut running = sim.start(config, None, move |r| sink.borrow_mut().push(r.clone()));
    let (mut seen, mut last) = (0, Duration::ZERO);
    loop {
        let done = running
            .step()
            .map_err(|e| Failure::new(Property::Crawl, e.to_string()))?;
        if done {
            break;
        }
        let progress = running.transport().requests().len() + records.borrow().len();
        let now = running.now();
        if progress != seen {
            (seen, last) = (progress, now);
        } else if now > last + stall {
            return Err(Failure::new(
                Property::Stall,
                format!(
                    "no request and no record from {last:?} to {now:?} (stall budget {stall:?}) \
                     with {} requests in flight",
                    running.transport().in_flight()
                ),
            ));
        }
    }
    let run = running
        .finish()
        .map_err(|e| Failure::new(Property::Crawl, e.to_string()))?;
    let records = std::mem::take(&mut *records.borrow_mut());
    Ok((run, records))
}

/// Runs both sides again with text traces and names the first line that differs.
fn determinism_failure(
    case: &Case,
    config: &Config,
    site: &Rc<Site>,
    first: &SimRun,
    second: &SimRun,
) -> Failure {
    let hashes = format!(
        "trace hash {:016x} then {:016x}",
        first.trace_hash, second.trace_hash
    );
    let text = sim(case, config, site, true);
    let traces = (text.run(config), text.run(config));
    let (Ok(a), Ok(b)) = traces else {
        return Failure::new(Property::Determinism, hashes);
    };
    let (a, b) = (a.trace.unwrap_or_default(), b.trace.unwrap_or_default());
    let evidence = match first_difference(&a, &b) {
        Some((line, x, y)) => {
            format!("{hashes}; first differing event, line {line}: {x:?} vs {y:?}")
        }
        None => format!("{hashes}; two more runs with text traces agreed"),
    };
    Failure::new(Property::Determinism, evidence)
}

/// The first line (1-based) where `a` and `b` differ, with both lines (`""` past the end).
pub fn first_difference<'t>(a: &'t str, b: &'t str) -> Option<(usize, &'t str, &'t str)> {
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (la.next(), lb.next()) {
            (None, None) => return None,
            (x, y) if x == y => {}
            (x, y) => return Some((n, x.unwrap_or(""), y.unwrap_or(""))),
        }
    }
}

/// One record per URL, and per URL exactly `tries` requests reached the server.
fn check_requests<'r>(
    run: &SimRun,
    records: &'r [Record],
) -> Result<BTreeMap<String, &'r Record>, Failure> {
    let mut by_url = BTreeMap::new();
    for r in records {
        ensure!(
            Property::FetchedOnce,
            by_url.insert(r.url.clone(), r).is_none(),
            "two records for {}",
            r.url
        );
    }
    let mut requests: BTreeMap<&str, u32> = BTreeMap::new();
    for r in &run.requests {
        *requests.entry(r.url.as_str()).or_default() += 1;
    }
    for (url, n) in &requests {
        let tries = by_url.get(*url).map(|r| r.tries);
        ensure!(
            Property::FetchedOnce,
            tries == Some(*n),
            "{url}: {n} requests reached the server, the record says {tries:?} tries"
        );
    }
    ensure!(
        Property::FetchedOnce,
        requests.len() == by_url.len(),
        "records for URLs never requested"
    );
    Ok(by_url)
}

/// The fetched set is the oracle's; every outcome is the predicted one.
pub(super) fn check_against_oracle(
    oracle: &Oracle<'_>,
    reach: &Reach,
    config: &Config,
    records: &BTreeMap<String, &Record>,
) -> Result<(), Failure> {
    let fetched: BTreeSet<&str> = records.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = reach.labels.keys().map(String::as_str).collect();
    let missing: Vec<_> = want.difference(&fetched).collect();
    let extra: Vec<_> = fetched
        .difference(&want)
        .filter(|u| !reach.optional.contains(**u))
        .collect();
    ensure!(
        Property::Reachable,
        missing.is_empty() && extra.is_empty(),
        "fetched set differs from the oracle's: not fetched {missing:?}, fetched but \
         unreachable {extra:?}"
    );
    for (url, record) in records {
        let parsed = Url::parse(url).expect("records hold absolute URLs");
        match oracle.predict(&parsed) {
            Some(p) => {
                let status = match p.last {
                    Final::Fail => None,
                    Final::Status { status, .. } => Some(status),
                };
                ensure!(
                    Property::Outcome,
                    record.status == status && record.tries == p.tries,
                    "{url}: expected status {status:?} after {} tries, the record has {:?} \
                     after {}",
                    p.tries,
                    record.status,
                    record.tries
                );
            }
            None => {
                // Random outcome: whatever it was, a retryable last outcome means tries ran out.
                let last = oracle.final_of(&parsed, Some(record));
                ensure!(
                    Property::Outcome,
                    (!retryable(&last) || record.tries == config.max_tries())
                        && record.tries <= config.max_tries(),
                    "{url}: ended with {:?} after {} tries, max_tries {}",
                    record.status,
                    record.tries,
                    config.max_tries()
                );
            }
        }
        let last = oracle.final_of(&parsed, Some(record));
        if let Final::Status {
            status: 301 | 302 | 303 | 307 | 308,
            page: Some(_),
        } = last
            && let Some((target, _)) = oracle.edges(&parsed, &last).into_iter().next()
        {
            ensure!(
                Property::Outcome,
                record.location.as_deref() == Some(target.as_str()),
                "{url}: redirects to {target}, the record says {:?}",
                record.location
            );
        }
    }
    Ok(())
}

/// Every fetched URL is a root, a link target of a fetched page, or at most `max_redirect`
/// recorded redirect hops from one.
fn check_redirect_chains(
    case: &Case,
    oracle: &Oracle<'_>,
    config: &Config,
    records: &[Record],
    by_url: &BTreeMap<String, &Record>,
) -> Result<(), Failure> {
    let mut hops: BTreeMap<String, u32> = BTreeMap::new();
    for root in case.root_urls() {
        hops.insert(root, 0);
    }
    for (url, record) in by_url {
        let parsed = Url::parse(url).expect("records hold absolute URLs");
        let last = oracle.final_of(&parsed, Some(record));
        for (target, redirect) in oracle.edges(&parsed, &last) {
            if !redirect {
                hops.insert(target.to_string(), 0);
            }
        }
    }
    // The pages a sitemap fetched whole lists are link targets too.
    for k in 0..case.sitemaps.len() {
        let listed = by_url.get(&case.sitemap_url(k)).map(|r| r.status);
        if listed == Some(Some(200)) {
            for target in oracle.sitemap_pages(k) {
                hops.insert(target.to_string(), 0);
            }
        }
    }
    // Relax along recorded redirects until nothing improves (at most one pass per URL).
    for _ in 0..=records.len() {
        let mut changed = false;
        for r in records {
            let (Some(from), Some(to)) = (hops.get(&r.url).copied(), r.location.as_ref()) else {
                continue;
            };
            if hops.get(to).is_none_or(|&h| h > from + 1) {
                hops.insert(to.clone(), from + 1);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for url in by_url.keys() {
        if case.robots && url.ends_with("/robots.txt") {
            continue; // fetched by the robots flow, not reached through links or redirects
        }
        if (0..case.sitemaps.len()).any(|k| &case.sitemap_url(k) == url) {
            continue; // fetched by the sitemap flow, whose redirects the oracle follows itself
        }
        let h = hops.get(url).copied();
        ensure!(
            Property::RedirectChain,
            h.is_some_and(|h| h <= config.max_redirect()),
            "{url} was fetched, but the shortest redirect chain to it is {h:?} hops \
             (max_redirect {})",
            config.max_redirect()
        );
    }
    Ok(())
}

#[path = "check/limits.rs"]
mod limits;
pub(super) use limits::check_limits;
#[path = "check/liveness.rs"]
mod liveness;

#[cfg(test)]
#[path = "check/tests.rs"]
mod tests;
