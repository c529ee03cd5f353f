//! The crawl loop's state: the URL table, the scheduler, robots.txt rules, and what turns a
//! finished request into a [`Record`] and new URLs.
//!
//! Everything here is synchronous and owned by the one crawl future (`&mut`, no locks): the loop
//! in `engine/mod.rs` awaits requests and timers, and hands each result to [`CrawlState::finish`].

use std::time::Duration;

use url::Url;

use super::fetch::{self, Fetched};
use super::frontier::{Label, State, Table};
use super::memo::{Ids, Memo, Page};
use super::rng::Rng;
use super::robots::{self, Book, HostRules, Rules, Step, Verdict};
use super::schedule::{Job, Kind, Scheduler};
use super::sitemap;
use super::traps;
use crate::config::Config;
use crate::links;
use crate::normalize::{self, Canon};
use crate::report::{Record, Summary};
use crate::scope::Scope;
use crate::transport::{FetchError, Response};

/// Everything the crawl loop owns and mutates.
pub(super) struct CrawlState<'a> {
    config: &'a Config,
    scope: &'a Scope,
    pub(super) table: Table,
    pub(super) schedule: Scheduler,
    rng: Rng,
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
    /// The links of the page being read, kept for the next page's (see
    /// [`links::extract_into`]).
    found: links::Links,
    /// The shortcut keys of the page's links, found by [`CrawlState::warm`].
    warm: Warm,
}

/// Whether robots.txt (as far as it is known now) lets page or sitemap `url` (id `id`, on `host`)
/// be fetched; a cut is recorded in the table and counted. A URL the robots flow fetches itself
/// is never a page.
fn robots_allow(
    book: &Book,
    table: &mut Table,
    cuts: &mut std::collections::BTreeMap<String, u64>,
    id: u32,
    host: u32,
    url: &Url,
) -> bool {
    if book.claimed(id) {
        return false; // Its record comes from the robots flow.
    }
    match book.rules(host).map(|r| r.rules.check(url)) {
        Some(Err(reason)) => {
            table.finish(id, State::Cut);
            *cuts.entry(reason.to_string()).or_default() += 1;
            false
        }
        _ => true,
    }
}

/// The normalised URLs of a window of a page's simple links (see [`super::shortcut`]), worked
/// out before those links are looked up: for warming the cache, and then for the lookups.
#[derive(Debug, Default)]
struct Warm {
    /// The keys, back to back.
    keys: String,
    /// By link index in the window: where its key lies in `keys`, and its hash; `None` for a
    /// link that is skipped or not simple.
    spans: Vec<Option<(usize, usize, u64)>>,
    /// The hashes of the keys, in order (what [`Table::warm`] takes).
    hashes: Vec<u64>,
    /// Where one key is written before it is appended to `keys`.
    scratch: String,
}

/// The redirect statuses: a `Location` to follow.
pub(super) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Where the redirect `response` to a request for `url` points: its `Location` resolved and
/// normalised with `canon`; else why it points nowhere (missing, or not an http(s) URL).
pub(super) fn redirect_target(url: &Url, response: &Response, canon: Canon) -> Result<Url, String> {
    let location = response.header("location");
    location
        .and_then(|l| normalize::resolve_with(url, l, canon))
        .ok_or_else(|| match location {
            Some(l) => format!("redirect with unusable location {l:?}"),
            None => "redirect without location".to_string(),
        })
}

/// `true` for a link the crawl does not count at all: an asset, unless assets are followed.
fn ignored(config: &Config, link: &links::Link) -> bool {
    link.kind.is_asset() && !config.assets
}

/// `true` for a link counted but not followed: `rel=nofollow`, or on a page whose robots meta
/// says `nofollow`.
fn not_followed(found: &links::Links, link: &links::Link) -> bool {
    link.nofollow || found.robots.nofollow
}

/// Links warmed at a time: enough for their cache misses to overlap, few enough that what the
/// first loads bring in is still there when the lookups come, and that a page with a million
/// links needs no more scratch than one with 32.
const WARM_WINDOW: usize = 32;

/// The URL table as links see it: new URLs are checked against the scope and the trap rules.
struct Found<'s> {
    table: &'s mut Table,
    scope: &'s Scope,
    config: &'s Config,
    cuts: &'s mut std::collections::BTreeMap<String, u64>,
}

impl Ids for Found<'_> {
    fn intern(&mut self, url: &Url) -> u32 {
        intern_found(self.table, self.scope, self.config, self.cuts, url)
    }
}

/// The id of a discovered URL; a new one is checked against the scope and the trap rules (cuts
/// are counted).
fn intern_found(
    table: &mut Table,
    scope: &Scope,
    config: &Config,
    cuts: &mut std::collections::BTreeMap<String, u64>,
    url: &Url,
) -> u32 {
    let allowed = |u: &Url| {
        if !scope.allows(u) {
            return false;
        }
        match traps::check(u, config) {
            Some(trap) => {
                *cuts.entry(trap.as_str().to_string()).or_default() += 1;
                false
            }
            None => true,
        }
    };
    table.intern(url, allowed).id()
}

impl<'a> CrawlState<'a> {
    pub(super) fn new(config: &'a Config, scope: &'a Scope) -> Self {
        CrawlState {
            config,
            scope,
            table: Table::default(),
            schedule: Scheduler::new(config.max_per_host.unwrap_or(usize::MAX), config.delay),
            rng: Rng::new(config.seed),
            summary: Summary::default(),
            book: Book::default(),
            agent: robots::agent_token(&config.user_agent).to_string(),
            admitted: 0,
            follow_up: Vec::new(),
            memo: Memo::default(),
            found: links::Links::default(),
            warm: Default::default(),
        }
    }

    /// The next request to start now, if any: pages that robots.txt forbids (or whose URL is a
    /// robots.txt the robots flow fetches) are dropped on the way and counted.
    pub(super) fn next_job(&mut self, now: Duration) -> Option<Job> {
        loop {
            let before = self.admitted;
            let (book, table, cuts) = (&self.book, &mut self.table, &mut self.summary.cuts);
            let admitted = &mut self.admitted;
            let job = self.schedule.pop(now, |job| {
                let go = matches!(job.kind, Kind::Robots { .. })
                    || robots_allow(book, table, cuts, job.id, job.host, &job.url);
                // A page admitted before its host's robots.txt was known, and cut now, gives
                // its place in `max_pages` back.
                if !go && job.kind == Kind::Page && job.try_no == 1 {
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

    /// `false` (and the cut counted) when robots.txt, as far as it is known, forbids `url`.
    fn allowed_by_robots(&mut self, id: u32, host: u32, url: &Url) -> bool {
        let cuts = &mut self.summary.cuts;
        robots_allow(&self.book, &mut self.table, cuts, id, host, url)
    }

    /// The scheduler's id of `url`'s host; a host met for the first time asks for its robots.txt
    /// (hosts first met as a robots.txt redirect target have not asked for their own yet either).
    fn host_of(&mut self, url: &Url, now: Duration) -> u32 {
        let (host, _) = self.schedule.host_of(url);
        if self.config.robots && !self.book.started(host) {
            self.start_robots(host, url, now);
        }
        host
    }

    /// Queues sitemap `url` (named by the user or robots.txt, or listed in a sitemap index),
    /// unless that URL is already known.
    pub(super) fn add_sitemap(&mut self, url: Url, depth: u32, hops: u32, now: Duration) {
        let interned = self.table.intern(&url, |_| true);
        let id = interned.id();
        if interned.is_known() && self.table.entry(id).state != State::Unqueued {
            return;
        }
        self.table.finish(id, State::Fetched); // Claimed: never queued as a page.
        let host = self.host_of(&url, now);
        let kind = Kind::Sitemap { depth, hops };
        let job = Job {
            id,
            url,
            host,
            try_no: 1,
            kind,
        };
        self.schedule.push(job, now);
    }

    /// The record of a sitemap fetch; its page URLs go to the frontier, its sitemaps to the queue,
    /// the target of its redirect (in scope, within `max_redirect` hops) to the queue too.
    fn complete_sitemap(
        &mut self,
        job: Job,
        outcome: Result<Response, FetchError>,
        depth: u32,
        hops: u32,
        now: Duration,
    ) -> Record {
        let mut record = self.base_record(&job, &outcome, 0);
        self.summary.sitemaps += 1;
        let Ok(response) = outcome else {
            return record;
        };
        if is_redirect(response.status) {
            match redirect_target(&job.url, &response, self.config.canon()) {
                Ok(target) => {
                    record.location = Some(target.to_string());
                    if hops >= self.config.max_redirect {
                        record.error = Some(format!(
                            "sitemap: redirect not followed: max_redirect ({hops}) reached"
                        ));
                    } else if self.scope.host_allowed(&target) {
                        self.add_sitemap(target, depth, hops + 1, now);
                    } else {
                        record.error =
                            Some("sitemap: redirect not followed: host out of scope".into());
                    }
                }
                Err(why) => record.error = Some(format!("sitemap: {why}")),
            }
            return record;
        }
        if !(200..300).contains(&response.status) {
            return record;
        }
        let found = sitemap::parse(&response.body);
        record.error = found.problem.map(|p| format!("sitemap: {p}"));
        let (mut count, mut new) = (0u32, 0u32);
        let canon = self.config.canon();
        for loc in &found.locs {
            let Some(url) = normalize::resolve_with(&job.url, loc, canon) else {
                continue;
            };
            count += 1;
            match found.kind {
                sitemap::Kind::Sitemaps if depth < sitemap::MAX_INDEX_DEPTH => {
                    if self.scope.host_allowed(&url) {
                        self.add_sitemap(url, depth + 1, 0, now);
                    }
                }
                sitemap::Kind::Sitemaps => {}
                sitemap::Kind::Pages => {
                    // Listed pages count as links of the roots: one hop deep.
                    if self.config.max_depth.is_some_and(|max| max < 1) {
                        continue;
                    }
                    let id = self.intern(&url);
                    let label = Label {
                        depth: 1,
                        budget: self.config.max_redirect,
                    };
                    if self.offer(id, label, Some(url)) {
                        new += 1;
                    }
                }
            }
        }
        record.links = Some(count);
        record.new_links = Some(new);
        record
    }

    /// `host` was just seen: fetch its robots.txt (or share a fetch under way) before its pages.
    fn start_robots(&mut self, host: u32, page: &Url, now: Duration) {
        let url = robots::robots_url(page);
        let id = self.table.intern(&url, |_| true).id();
        match self.book.start(host, id) {
            Step::Fetch(chain) => {
                self.schedule.block(host);
                self.push_robots(id, url, chain, 0, now);
            }
            Step::Wait => self.schedule.block(host),
            Step::Known(hosts, outcome) => self.apply_robots(&hosts, &outcome, now),
        }
    }

    fn push_robots(&mut self, id: u32, url: Url, chain: usize, hops: u32, now: Duration) {
        // Claimed by the robots flow: never queued as a page.
        self.table.finish(id, State::Fetched);
        let (host, _) = self.schedule.host_of(&url);
        let job = Job {
            id,
            url,
            host,
            try_no: 1,
            kind: Kind::Robots { chain, hops },
        };
        self.schedule.push_front(job, now);
    }

    fn apply_robots(&mut self, hosts: &[u32], outcome: &HostRules, now: Duration) {
        for &host in hosts {
            if let Some(delay) = outcome.delay {
                self.schedule
                    .raise_delay(host, delay.min(self.config.max_crawl_delay));
            }
            self.schedule.unblock(host, now);
        }
    }

    /// The record of a robots.txt fetch; decides its hosts' rules (or follows its redirect).
    fn complete_robots(
        &mut self,
        job: Job,
        outcome: Result<Response, FetchError>,
        chain: usize,
        hops: u32,
        now: Duration,
    ) -> Record {
        let mut record = self.base_record(&job, &outcome, 0);
        self.summary.robots += 1;
        let step = match robots::verdict(&job.url, &outcome, hops, &self.agent) {
            Verdict::Redirect(target) => {
                record.location = Some(target.to_string());
                let target_id = self.table.intern(&target, |_| true).id();
                let step = self.book.redirect(chain, target_id);
                if let Step::Fetch(chain) = step {
                    self.push_robots(target_id, target, chain, hops + 1, now);
                }
                step
            }
            Verdict::DeadEnd(why, target) => {
                record.error = Some(format!("robots.txt: {why}: all allowed"));
                record.location = target.map(|t| t.to_string());
                self.book.finish(
                    chain,
                    HostRules {
                        rules: Rules::AllowAll,
                        delay: None,
                    },
                )
            }
            Verdict::Rules(rules, delay, sitemaps) => {
                // Sitemaps named by robots.txt are read when they are on an in-scope host.
                for text in sitemaps {
                    if let Some(url) = normalize::resolve_with(&job.url, &text, self.config.canon())
                    {
                        if self.scope.host_allowed(&url) {
                            self.add_sitemap(url, 0, 0, now);
                        }
                    }
                }
                self.book.finish(chain, HostRules { rules, delay })
            }
        };
        if let Step::Known(hosts, outcome) = step {
            self.apply_robots(&hosts, &outcome, now);
        }
        record
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
                *self
                    .summary
                    .failures_by_kind
                    .entry(error.kind.as_str().to_string())
                    .or_default() += 1;
                return Record::failure(job.url.as_str(), job.try_no, depth, error.to_string());
            }
        };
        let mut record = Record::response(job.url.as_str(), response.status, job.try_no, depth);
        record.content_type = response.media_type();
        record.size = (!response.body_skipped).then_some(response.body.len() as u64);
        record.truncated = response.truncated;
        self.summary.truncated += u64::from(response.truncated);
        // Counted under a borrowed name when the class was seen before: no `String` per response.
        let class = response.status / 100;
        let name = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx"].get(usize::from(class));
        let classes = &mut self.summary.status_classes;
        match name.and_then(|&name| classes.get_mut(name)) {
            Some(count) => *count += 1,
            None => *classes.entry(format!("{class}xx")).or_default() += 1,
        }
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
            let per_host = self.schedule.admit(host);
            if self
                .config
                .max_pages_per_host
                .is_some_and(|max| per_host > max)
            {
                self.table.finish(id, State::Cut);
                *self
                    .summary
                    .cuts
                    .entry("pages_per_host".into())
                    .or_default() += 1;
                continue;
            }
            let job = Job {
                id,
                url,
                host,
                try_no: 1,
                kind: Kind::Page,
            };
            self.admitted += 1;
            self.schedule.push(job, now);
        }
    }

    /// Takes a finished request: schedules a retry, or turns it into the URL's record.
    pub(super) fn finish(&mut self, fetched: Fetched, now: Duration) -> Option<Record> {
        self.summary.requests += 1;
        self.schedule.finish(fetched.job.host, now);
        let job = &fetched.job;
        if job.try_no < self.config.max_tries && fetch::retryable(&fetched.outcome) {
            let next_try = job.try_no + 1;
            let wait = fetch::retry_wait(self.config, &fetched.outcome, next_try, &mut self.rng);
            let job = Job {
                try_no: next_try,
                ..fetched.job
            };
            self.schedule.retry_at(job, now + wait);
            return None;
        }
        Some(match fetched.job.kind {
            Kind::Page => self.complete(fetched.job, fetched.outcome),
            Kind::Robots { chain, hops } => {
                self.complete_robots(fetched.job, fetched.outcome, chain, hops, now)
            }
            Kind::Sitemap { depth, hops } => {
                self.complete_sitemap(fetched.job, fetched.outcome, depth, hops, now)
            }
        })
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

    /// Works out the keys of the simple links among the [`WARM_WINDOW`] of `found` from `from`
    /// and brings into the cache the URL-table slots, keys and entries their lookups will read
    /// (see [`crate::strids::StrIds::warm`]): in a large crawl each lookup misses the cache, and
    /// the misses overlap when their loads are issued together. Reads only; what the crawl does
    /// does not change.
    fn warm(&mut self, page: Page, base: &Url, found: &links::Links, from: usize) {
        let warm = &mut self.warm;
        warm.keys.clear();
        warm.spans.clear();
        warm.hashes.clear();
        for link in found.links.iter().skip(from).take(WARM_WINDOW) {
            let looked_up = !ignored(self.config, link) && !not_followed(found, link);
            let span = (looked_up && Memo::shortcut_key(page, base, &link.url, &mut warm.scratch))
                .then(|| {
                    let start = warm.keys.len();
                    warm.keys.push_str(&warm.scratch);
                    let hash = self.table.hash(&warm.scratch);
                    warm.hashes.push(hash);
                    (start, warm.keys.len(), hash)
                });
            warm.spans.push(span);
        }
        self.table.warm(&warm.hashes);
    }

    /// Turns a URL's last try into its record and feeds what it found to the frontier.
    fn complete(&mut self, job: Job, outcome: Result<Response, FetchError>) -> Record {
        let id = job.id;
        let depth = self.table.entry(id).depth();
        let mut record = self.base_record(&job, &outcome, depth);
        let url = job.url;
        let Ok(response) = outcome else {
            self.table.finish(id, State::Fetched);
            return record;
        };
        let success = (200..300).contains(&response.status);
        let html = record.content_type.as_deref().is_some_and(links::is_html);
        if is_redirect(response.status) {
            self.redirect(id, &url, &response, &mut record);
        } else if success && html {
            self.summary.html += 1;
            self.summary.html_bytes += response.body.len() as u64;
            self.links(id, &url, depth, &response, &mut record);
        } else {
            if success {
                self.summary.other += 1;
                self.summary.other_bytes += response.body.len() as u64;
            } else {
                self.summary.error_status += 1;
            }
            self.table.finish(id, State::Fetched);
        }
        record
    }

    fn redirect(&mut self, id: u32, url: &Url, response: &Response, record: &mut Record) {
        let target = match redirect_target(url, response, self.config.canon()) {
            Ok(target) => target,
            Err(why) => {
                self.summary.bad_redirects += 1;
                record.error = Some(why);
                self.table.finish(id, State::Redirected(None));
                return;
            }
        };
        self.summary.redirects += 1;
        record.location = Some(target.to_string());
        let target_id = self.intern(&target);
        self.table.finish(id, State::Redirected(Some(target_id)));
        let labels: Vec<Label> = self.table.entry(id).labels().to_vec();
        let mut followed = false;
        for label in labels.into_iter().filter(|l| l.budget > 0) {
            followed = true;
            let next = Label {
                depth: label.depth,
                budget: label.budget - 1,
            };
            self.offer(target_id, next, Some(target.clone()));
        }
        if !followed {
            self.summary.redirect_cuts += 1;
            record.error = Some(format!(
                "redirect limit reached (max_redirect={})",
                self.config.max_redirect
            ));
        }
    }

    /// Follows the links of an HTML page: every kind but assets (unless `config.assets`), none
    /// that carries `rel=nofollow`, and none at all when the page's meta robots says `nofollow`
    /// (those count as `nofollow` cuts, one per link). `links` counts every link considered;
    /// `noindex` goes on the record, and so does a parser failure (as `error`).
    fn links(&mut self, id: u32, url: &Url, depth: u32, response: &Response, record: &mut Record) {
        self.table.finish(id, State::Fetched);
        let mut found = std::mem::take(&mut self.found);
        if let Err(why) = links::extract_into(&response.body, &mut found) {
            // The links found before the parser gave up are followed; the page says why the
            // rest are not.
            record.error = Some(format!("links: {why}"));
        }
        record.noindex = found.robots.noindex;
        let base = links::base_url(url, found.base.as_deref());
        let follow = self.config.max_depth.is_none_or(|max| depth < max);
        let keep_out_links = self.config.max_depth.is_some();
        let next = Label {
            depth: depth + 1,
            budget: self.config.max_redirect,
        };
        let page = self.memo.page(&base);
        let canon = self.config.canon();
        let (mut count, mut new, mut nofollow) = (0u32, 0u32, 0u64);
        let mut out_links = Vec::new();
        for (i, link) in found.links.iter().enumerate() {
            if i % WARM_WINDOW == 0 {
                self.warm(page, &base, &found, i);
            }
            if ignored(self.config, link) {
                continue;
            }
            if not_followed(&found, link) {
                // Counted as a link, but kept out of the URL table (interning would also
                // count trap cuts for a URL nobody follows); rare, so the slow path is fine.
                if normalize::resolve_with(&base, &link.url, canon).is_some() {
                    count += 1;
                    nofollow += 1;
                }
                continue;
            }
            // A simple link already known needs nothing but its key; the rest (mostly new URLs)
            // go through the memo and the parser.
            let (simple, known) = match self.warm.spans[i % WARM_WINDOW] {
                Some((start, end, hash)) => {
                    let key = &self.warm.keys[start..end];
                    (Some(key), self.table.known(key, hash))
                }
                None => (None, None),
            };
            let resolved = match known {
                Some(id) => Some((id, None)),
                None => {
                    let mut ids = Found {
                        table: &mut self.table,
                        scope: self.scope,
                        config: self.config,
                        cuts: &mut self.summary.cuts,
                    };
                    self.memo
                        .resolve(page, &base, &link.url, simple, canon, &mut ids)
                }
            };
            let Some((link_id, target)) = resolved else {
                continue;
            };
            count += 1;
            if keep_out_links {
                out_links.push(link_id);
            }
            if follow && self.offer(link_id, next, target) {
                new += 1;
            }
        }
        if nofollow > 0 {
            *self.summary.cuts.entry("nofollow".into()).or_default() += nofollow;
        }
        if keep_out_links {
            self.table.set_out_links(id, out_links);
        }
        record.links = Some(count);
        record.new_links = Some(new);
        self.found = found;
    }
}
