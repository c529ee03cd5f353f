//! The crawl loop's state: the URL table, the scheduler, robots.txt rules, and what turns a
//! finished request into a [`Record`] and new URLs.
//!
//! Everything here is synchronous and owned by the one crawl future (`&mut`, no locks): the loop
//! in `engine/mod.rs` awaits requests and timers, and hands each result to [`CrawlState::finish`].
//! This file holds admission (the frontier to the scheduler, `max_pages`, `max_pages_per_host`),
//! retries and the counters every record feeds; the three kinds of fetch each have their own
//! file: `page.rs` (records of pages, redirects, links), `robots_flow.rs` (robots.txt before a
//! host's pages) and `sitemap_flow.rs` (sitemaps and indexes).

mod page;
mod robots_flow;
mod shared_flow;

pub(super) use shared_flow::{Arrived, job_key};
mod sitemap_flow;

use std::collections::VecDeque;
use std::time::Duration;

use url::Url;

use super::event::{Event, FetchKind, Progress};
use super::fetch::{self, Fetched};
use super::frontier::{Label, Table, UrlState};
use super::memo::{Ids, Memo};
use super::rng::Jitter;
use super::robots::{self, Book};
use super::schedule::{Job, JobKind, Scheduler};
use super::traps;
use crate::config::Config;
use crate::links;
use crate::normalize::{self, Canon};
use crate::problem::{Cut, Problem, StatusClass};
use crate::report::{Record, Summary};
use crate::scope::Scope;
use crate::store::{Kept, KeptRef, Store};
use crate::transport::{FetchError, Response};
use robots_flow::robots_allow;

/// Everything the crawl loop owns and mutates.
pub(super) struct CrawlState<'a> {
    config: &'a Config,
    scope: &'a Scope,
    /// What earlier runs finished (see [`crate::store`]).
    store: &'a mut dyn Store,
    /// Jobs whose completion an earlier run kept: redone by [`CrawlState::finish_kept`] without
    /// the transport or the scheduler, in the order they came up.
    pub(super) replay: VecDeque<(Job, Kept)>,
    /// The kept page being redone: its body's length and its links, read instead of a body.
    replaying: Option<Replaying>,
    pub(super) table: Table,
    pub(super) schedule: Scheduler,
    rng: Jitter,
    pub(super) summary: Summary,
    /// robots.txt fetches and the rules they produced.
    book: Book,
    /// The product token robots.txt groups are matched against.
    agent: String,
    /// URLs handed to the scheduler so far (for `max_pages`).
    admitted: u64,
    /// Scratch list for labels passed on by [`Table::offer`].
    follow_up: Vec<(u32, Label)>,
    /// Hrefs already resolved, to their ids.
    memo: Memo,
    /// The links of the page read last, lent to its [`Event`] and then kept for the next page's
    /// (see [`links::extract_into`]).
    found: links::Links,
    /// The shortcut keys of the page's links, a window at a time (see [`page::Warm`]).
    warm: page::Warm,
    /// What went wrong with the URL whose record is being made: set while the record is made,
    /// taken by [`CrawlState::finish`], which writes it into the record.
    problem: Option<Problem>,
}

/// What a kept page brings instead of its body.
struct Replaying {
    body_len: u64,
    links: Option<(links::Links, Option<String>)>,
}

/// A URL's last try, turned into its record: what the loop hands the caller as an [`Event`].
pub(super) struct Done {
    /// Redone from a kept completion (see [`crate::store`]), not fetched in this run.
    pub(super) replayed: bool,
    /// This worker's own: fetched in this run, or (a shared crawl) by this worker under the
    /// same name in an earlier run.
    pub(in crate::engine) mine: bool,
    record: Record,
    fetch: FetchKind,
    outcome: Result<Response, FetchError>,
    problem: Option<Problem>,
    /// The URL the page's links resolve against, when they were read (into
    /// [`CrawlState::found`]); `None` for anything but an HTML page.
    base: Option<Url>,
}

/// The redirect statuses: a `Location` to follow.
pub(super) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Where the redirect `response` to a request for `url` points: its `Location` resolved and
/// normalised with `canon`; else why it points nowhere (missing, or not an http(s) URL).
pub(super) fn redirect_target(
    url: &Url,
    response: &Response,
    canon: Canon,
) -> Result<Url, Problem> {
    let location = response.header("location");
    location
        .and_then(|l| normalize::resolve_with(url, l, canon))
        .ok_or_else(|| match location {
            Some(l) => Problem::UnusableLocation(l.to_string()),
            None => Problem::RedirectWithoutLocation,
        })
}

/// The URL table as links see it: new URLs are checked against the scope and the trap rules.
struct Found<'s> {
    table: &'s mut Table,
    scope: &'s Scope,
    config: &'s Config,
    cuts: &'s mut std::collections::BTreeMap<Cut, u64>,
}

impl Ids for Found<'_> {
    fn intern(&mut self, url: &Url) -> u32 {
        intern_found(self.table, self.scope, self.config, self.cuts, url)
    }
}

/// Takes one of a host's page places (`places` of them are taken), or cuts page `id` when
/// `max_pages_per_host` are taken already.
fn take_place(
    places: &mut u64,
    max_pages_per_host: Option<u64>,
    id: u32,
    table: &mut Table,
    cuts: &mut std::collections::BTreeMap<Cut, u64>,
) -> bool {
    if max_pages_per_host.is_some_and(|max| *places >= max) {
        cut_per_host(table, cuts, id);
        return false;
    }
    *places += 1;
    true
}

/// Cuts page `id`, which its host's `max_pages_per_host` leaves out.
fn cut_per_host(table: &mut Table, cuts: &mut std::collections::BTreeMap<Cut, u64>, id: u32) {
    table.finish(id, UrlState::Cut);
    *cuts.entry(Cut::PagesPerHost).or_default() += 1;
}

/// The id of a discovered URL; a new one is checked against the scope and the trap rules (cuts
/// are counted).
fn intern_found(
    table: &mut Table,
    scope: &Scope,
    config: &Config,
    cuts: &mut std::collections::BTreeMap<Cut, u64>,
    url: &Url,
) -> u32 {
    let allowed = |u: &Url| {
        if !scope.allows(u) {
            return false;
        }
        match traps::check(u, config) {
            Some(trap) => {
                *cuts.entry(trap).or_default() += 1;
                false
            }
            None => true,
        }
    };
    table.intern(url, allowed).id()
}

impl<'a> CrawlState<'a> {
    pub(super) fn new(config: &'a Config, scope: &'a Scope, store: &'a mut dyn Store) -> Self {
        CrawlState {
            config,
            scope,
            store,
            replay: VecDeque::new(),
            replaying: None,
            table: Table::default(),
            schedule: Scheduler::new(config.max_per_host.unwrap_or(usize::MAX), config.delay),
            rng: Jitter::new(config.seed),
            summary: Summary::default(),
            book: Book::default(),
            agent: robots::agent_token(&config.user_agent).to_string(),
            admitted: 0,
            follow_up: Vec::new(),
            memo: Memo::default(),
            found: links::Links::default(),
            warm: page::Warm::default(),
            problem: None,
        }
    }

    /// A crawl's state with its roots and named sitemaps queued (every loop starts so).
    pub(super) fn seeded(
        config: &'a Config,
        scope: &'a Scope,
        store: &'a mut dyn Store,
        now: Duration,
    ) -> Self {
        Self::seeded_following(config, scope, store, now, None)
    }

    /// [`seeded`](Self::seeded), for a worker of a partitioned shared crawl that follows
    /// `split`'s partitions (see [`crate::shared`]): roots in the others are handed over.
    pub(super) fn seeded_following(
        config: &'a Config,
        scope: &'a Scope,
        store: &'a mut dyn Store,
        now: Duration,
        split: Option<(u32, &[u32])>,
    ) -> Self {
        let mut state = CrawlState::new(config, scope, store);
        if let Some((partitions, followed)) = split {
            state.table.follow(partitions, followed);
        }
        for root in &config.roots {
            state.add_root(root.clone());
        }
        for sitemap in &config.sitemaps {
            state.add_sitemap(sitemap.clone(), 0, 0, now);
        }
        state
    }

    /// Where the crawl stands, for an event: `waiting` jobs held outside the scheduler and
    /// the table (a shared crawl's parked claims) count as queued.
    pub(super) fn progress(&self, in_flight: usize, waiting: usize) -> Progress {
        Progress {
            done: self.summary.urls,
            in_flight,
            queued: self.schedule.queued() + self.table.queued() + waiting,
        }
    }

    /// The summary at the end of a run that took `elapsed`: what is left in the scheduler,
    /// the table and the replay queue, and `also_left` more, is to do; links never allowed
    /// are counted as cut.
    pub(super) fn end_summary(&mut self, elapsed: Duration, also_left: u64) -> Summary {
        let not_followed = self.table.never_allowed();
        let mut summary = std::mem::take(&mut self.summary);
        if not_followed > 0 {
            summary.cuts.insert(Cut::NotFollowed, not_followed);
        }
        summary.todo +=
            (self.schedule.queued() + self.table.queued() + self.replay.len()) as u64 + also_left;
        summary.elapsed = elapsed;
        summary.max_tasks = self.config.max_tasks;
        summary
    }

    /// The next request to start now, if any: pages that robots.txt forbids (or whose URL is a
    /// robots.txt the robots flow fetches) are dropped on the way and counted.
    pub(super) fn next_job(&mut self, now: Duration) -> Option<Job> {
        loop {
            let before = self.admitted;
            let (book, table, cuts) = (&self.book, &mut self.table, &mut self.summary.cuts);
            let admitted = &mut self.admitted;
            let per_host = self.config.max_pages_per_host;
            let job = self.schedule.pop(now, |job, places| {
                let mut go = matches!(job.kind, JobKind::Robots { .. })
                    || robots_allow(book, table, cuts, job.id, job.host, &job.url);
                if go && !job.placed {
                    // Admitted before its host's robots.txt was known: it takes its place in
                    // `max_pages_per_host` now that robots.txt has let it through.
                    go = take_place(places, per_host, job.id, table, cuts);
                    job.placed = go;
                }
                // A page admitted before its host's robots.txt was known, and cut now, gives
                // its place in `max_pages` back.
                if !go && job.kind == JobKind::Page && job.try_no == 1 {
                    *admitted -= 1;
                }
                go
            });
            if job.is_some() || self.admitted == before {
                return job;
            }
            // Places were given back and nothing is ready: let the frontier fill them.
            self.admit(now);
        }
    }

    /// The record fields every fetch has, and the summary counts they feed.
    fn base_record(
        &mut self,
        job: &Job,
        outcome: &Result<Response, FetchError>,
        depth: u32,
    ) -> Record {
        self.summary.urls += 1;
        let response = match outcome {
            Ok(response) => response,
            Err(error) => {
                self.summary.failures += 1;
                *self.summary.failures_by_kind.entry(error.kind).or_default() += 1;
                self.problem = Some(Problem::Fetch(error.clone()));
                return Record::failure(job.url.as_str(), job.try_no, depth, error.to_string());
            }
        };
        let mut record = Record::response(job.url.as_str(), response.status, job.try_no, depth);
        record.content_type = response.media_type();
        record.size = (!response.body_skipped).then_some(self.body_len(response));
        record.truncated = response.truncated;
        self.summary.truncated += u64::from(response.truncated);
        let class = StatusClass::of(response.status);
        *self.summary.status_classes.entry(class).or_default() += 1;
        record
    }

    /// Moves newly queued URLs to the scheduler, up to `max_pages` in all. A URL cut here
    /// (robots.txt, `max_pages_per_host`) does not use up any of `max_pages`.
    pub(super) fn admit(&mut self, now: Duration) {
        let max_pages = self.config.max_pages.unwrap_or(u64::MAX);
        while self.admitted < max_pages {
            let Some((id, url)) = self.table.pop() else {
                break;
            };
            let host = self.host_of(&url, now);
            // Decided now when the host's robots.txt is known; else when the job comes up.
            if !self.allowed_by_robots(id, host, &url) {
                continue;
            }
            if let Some(kept) = self.store.kept(url.as_str()) {
                if !matches!(kept.fetch, FetchKind::Page | FetchKind::Redirect) {
                    // A robots.txt or a sitemap in the run that kept it (a replay comes to URLs
                    // in another order than fetches did): never a page; left for its own flow,
                    // which replays it when it asks for it.
                    self.table.finish(id, UrlState::Unqueued);
                    continue;
                }
                // Fetched by an earlier run, so robots.txt (the same rules, replayed: they let it
                // through above, or will when known) and the page caps let it through then: it
                // is redone, not fetched.
                *self.schedule.places(host) += 1;
                self.admitted += 1;
                let job = Job {
                    id,
                    url,
                    host,
                    try_no: kept.record.tries,
                    kind: JobKind::Page,
                    placed: true,
                };
                self.replay.push_back((job, kept));
                continue;
            }
            // Its place in `max_pages_per_host`: taken now when the host's robots.txt is known,
            // else when the job comes up.
            let placed = !self.config.robots || self.book.rules(host).is_some();
            if placed {
                let places = self.schedule.places(host);
                let (table, cuts) = (&mut self.table, &mut self.summary.cuts);
                if !take_place(places, self.config.max_pages_per_host, id, table, cuts) {
                    continue;
                }
            }
            let job = Job {
                id,
                url,
                host,
                try_no: 1,
                kind: JobKind::Page,
                placed,
            };
            self.admitted += 1;
            self.schedule.push(job, now);
        }
    }

    /// Takes a finished request: schedules a retry, or turns it into the URL's record.
    pub(super) fn finish(&mut self, fetched: Fetched, now: Duration) -> Option<Done> {
        debug_assert!(
            self.problem.is_none(),
            "a problem left over from another URL"
        );
        self.summary.requests += 1;
        let fetched = self.settle(fetched, now)?;
        self.note_retry_cap(&fetched.outcome);
        Some(self.conclude(fetched, now))
    }

    /// Takes a finished request off its host: `None` when another try is scheduled, else the
    /// URL's last try, to be concluded.
    pub(super) fn settle(&mut self, fetched: Fetched, now: Duration) -> Option<Fetched> {
        self.schedule.finish(fetched.job.host, now);
        let job = &fetched.job;
        let asked = fetch::asked_wait(&fetched.outcome);
        if asked.is_some_and(|asked| asked > self.config.max_retry_after) {
            // Recorded now, with the answer it got: waiting a year, or retrying early, would
            // both be wrong.
            return Some(fetched);
        }
        if job.try_no < self.config.max_tries && fetch::retryable(&fetched.outcome) {
            let next_try = job.try_no + 1;
            let wait = fetch::retry_wait(self.config, asked, next_try, &mut self.rng);
            let job = Job {
                try_no: next_try,
                ..fetched.job
            };
            self.schedule.retry_at(job, now + wait);
            return None;
        }
        Some(fetched)
    }

    /// Sets the problem of an answer that asked to be retried later than `max_retry_after`.
    fn note_retry_cap(&mut self, outcome: &Result<Response, FetchError>) {
        let cap = self.config.max_retry_after;
        if let Some(asked) = fetch::asked_wait(outcome).filter(|&asked| asked > cap) {
            self.problem = Some(Problem::RetryAfterBeyondCap { asked, cap });
        }
    }

    /// Redoes a URL an earlier run finished, from its kept completion (see [`crate::store`]):
    /// the same record and effects as its last try had, without the transport.
    pub(super) fn finish_kept(&mut self, job: Job, kept: Kept, now: Duration) -> Done {
        let outcome = kept.response();
        self.redo(job, &kept, outcome, now)
    }

    /// Concludes this worker's own last try of a shared crawl, once the log took its
    /// completion `kept` (see [`crate::shared`]): the effects come from `kept`, as on every
    /// other worker, and the event carries the whole `outcome`.
    pub(super) fn finish_mine(
        &mut self,
        job: Job,
        kept: &Kept,
        outcome: Result<Response, FetchError>,
        now: Duration,
    ) -> Done {
        let mut done = self.redo(job, kept, outcome, now);
        done.replayed = false;
        done.mine = true;
        done
    }

    /// Concludes `job` from `kept`, with `outcome` as its answer.
    fn redo(
        &mut self,
        job: Job,
        kept: &Kept,
        outcome: Result<Response, FetchError>,
        now: Duration,
    ) -> Done {
        self.summary.requests += u64::from(kept.record.tries);
        self.note_retry_cap(&outcome);
        if let Ok(k) = &kept.outcome {
            let links = k.links.as_ref().map(|kept| match kept.links() {
                Ok(links) => (links, kept.why.clone()),
                // A store that no longer reads: no links, and the record says why.
                Err(why) => (links::Links::default(), Some(why)),
            });
            self.replaying = Some(Replaying {
                body_len: k.body_len,
                links,
            });
        }
        let job = Job {
            try_no: kept.record.tries,
            ..job
        };
        let mut done = self.conclude(Fetched { job, outcome }, now);
        self.replaying = None;
        done.replayed = true;
        done.mine = false;
        done
    }

    /// The kept form of `done` (see [`crate::store`]), for the store.
    pub(super) fn keep(&mut self, done: &Done) {
        let links = done.base.as_ref().map(|_| {
            let why = match &done.problem {
                Some(Problem::Links(why)) => Some(why.as_str()),
                _ => None,
            };
            (&self.found, why)
        });
        let kept = KeptRef::new(&done.record, done.fetch, &done.outcome, links);
        self.store.keep_ref(kept);
    }

    /// The length of `response`'s body as it arrived (a kept page brings only the length).
    fn body_len(&self, response: &Response) -> u64 {
        match &self.replaying {
            Some(r) => r.body_len,
            None => response.body.len() as u64,
        }
    }

    /// The store's completion for `url` if an earlier run kept one as a `fetch`: a URL kept as
    /// something else is fetched afresh.
    fn kept(&mut self, url: &Url, fetch: FetchKind) -> Option<Kept> {
        self.store.kept_as(url.as_str(), fetch)
    }

    /// Turns a URL's final outcome into its record and effects.
    fn conclude(&mut self, fetched: Fetched, now: Duration) -> Done {
        let Fetched { job, outcome } = fetched;
        let (record, fetch, base) = match job.kind {
            JobKind::Page => {
                let (record, base) = self.complete(job, &outcome);
                let redirect = outcome.as_ref().is_ok_and(|r| is_redirect(r.status));
                let fetch = if redirect {
                    FetchKind::Redirect
                } else {
                    FetchKind::Page
                };
                (record, fetch, base)
            }
            JobKind::Robots { chain, hops } => {
                let record = self.complete_robots(job, &outcome, chain, hops, now);
                (record, FetchKind::Robots, None)
            }
            JobKind::Sitemap { depth, hops } => {
                let record = self.complete_sitemap(job, &outcome, depth, hops, now);
                (record, FetchKind::Sitemap, None)
            }
        };
        let problem = self.problem.take();
        let mut record = record;
        record.error = problem.as_ref().map(Problem::to_string);
        Done {
            replayed: false,
            mine: true,
            record,
            fetch,
            outcome,
            problem,
            base,
        }
    }

    pub(super) fn add_root(&mut self, url: Url) {
        // Roots are fetched even when the exclude pattern matches them: the user named them.
        let id = self.table.intern(&url, |_| true).id();
        let label = Label {
            depth: 0,
            budget: self.config.max_redirect,
        };
        self.offer(id, label, Some(url));
    }

    /// The id of a discovered URL; a new one is checked against the scope and the trap rules
    /// (cuts are counted).
    fn intern(&mut self, url: &Url) -> u32 {
        intern_found(
            &mut self.table,
            self.scope,
            self.config,
            &mut self.summary.cuts,
            url,
        )
    }

    /// Offers `label` to `id`, then passes on whatever improved labels that releases. Returns
    /// `true` when `id` itself was queued.
    fn offer(&mut self, id: u32, label: Label, url: Option<Url>) -> bool {
        let (max_redirect, max_depth) = (self.config.max_redirect, self.config.max_depth);
        let queued = self
            .table
            .offer(id, label, url, &mut self.follow_up, max_redirect, max_depth);
        while let Some((id, label)) = self.follow_up.pop() {
            self.table.offer(
                id,
                label,
                None,
                &mut self.follow_up,
                max_redirect,
                max_depth,
            );
        }
        queued
    }

    /// The event the caller is handed for `done`: it borrows the links of the page just read.
    pub(super) fn event<'s>(&'s self, done: &'s Done, progress: Progress) -> Event<'s> {
        Event {
            replayed: done.replayed,
            mine: done.mine,
            record: &done.record,
            fetch: done.fetch,
            outcome: &done.outcome,
            problem: done.problem.as_ref(),
            progress,
            found: done.base.as_ref().map(|base| (&self.found, base)),
            canon: self.config.canon(),
        }
    }
}
