//! The robots.txt flow: a host's pages wait until its robots.txt is decided; the file is fetched
//! once (a fetch under way is shared, and so is a chain of redirects that meets another), and its
//! rules, delay and sitemaps are applied to every host waiting on it.

use super::super::event::FetchKind;
use std::time::Duration;

use url::Url;

use super::super::frontier::{Table, UrlState};
use super::super::robots::{self, Book, HostRules, RobotsStep, Rules, Verdict};
use super::super::schedule::{Job, JobKind};
use super::CrawlState;
use crate::normalize;
use crate::problem::{Cut, Problem};
use crate::report::Record;
use crate::transport::{FetchError, Response};

/// Whether robots.txt (as far as it is known now) lets page or sitemap `url` (id `id`, on `host`)
/// be fetched; a cut is recorded in the table and counted. A URL the robots flow fetches itself
/// is never a page.
pub(super) fn robots_allow(
    book: &Book,
    table: &mut Table,
    cuts: &mut std::collections::BTreeMap<Cut, u64>,
    id: u32,
    host: u32,
    url: &Url,
) -> bool {
    if book.claimed(id) {
        return false; // Its record comes from the robots flow.
    }
    match book.rules(host).map(|r| r.rules.check(url)) {
        Some(Err(reason)) => {
            table.finish(id, UrlState::Cut);
            *cuts.entry(reason).or_default() += 1;
            false
        }
        _ => true,
    }
}

impl CrawlState<'_> {
    /// `false` (and the cut counted) when robots.txt, as far as it is known, forbids `url`.
    pub(super) fn allowed_by_robots(&mut self, id: u32, host: u32, url: &Url) -> bool {
        let cuts = &mut self.summary.cuts;
        robots_allow(&self.book, &mut self.table, cuts, id, host, url)
    }

    /// The scheduler's id of `url`'s host; a host met for the first time asks for its robots.txt
    /// (hosts first met as a robots.txt redirect target have not asked for their own yet either).
    pub(super) fn host_of(&mut self, url: &Url, now: Duration) -> u32 {
        let (host, _) = self.schedule.host_of(url);
        if self.config.robots && !self.book.started(host) {
            self.start_robots(host, url, now);
        }
        host
    }

    /// `host` was just seen: fetch its robots.txt (or share a fetch under way) before its pages.
    fn start_robots(&mut self, host: u32, page: &Url, now: Duration) {
        let url = robots::robots_url(page);
        let id = self.table.intern(&url, |_| true).id();
        match self.book.start(host, id) {
            RobotsStep::Fetch(chain) => {
                self.schedule.block(host);
                self.push_robots(id, url, chain, 0, now);
            }
            RobotsStep::Wait => self.schedule.block(host),
            RobotsStep::Known(hosts, outcome) => self.apply_robots(&hosts, &outcome, now),
        }
    }

    fn push_robots(&mut self, id: u32, url: Url, chain: usize, hops: u32, now: Duration) {
        // Claimed by the robots flow: never queued as a page.
        self.table.finish(id, UrlState::Fetched);
        let (host, _) = self.schedule.host_of(&url);
        let kept = self.kept(&url, FetchKind::Robots);
        let job = Job {
            id,
            url,
            host,
            try_no: kept.as_ref().map_or(1, |k| k.record.tries),
            kind: JobKind::Robots { chain, hops },
            placed: true,
        };
        match kept {
            // Fetched by an earlier run: redone, its host still waiting for it.
            Some(kept) => self.replay.push_back((job, kept)),
            None => self.schedule.push_front(job, now),
        }
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
    pub(super) fn complete_robots(
        &mut self,
        job: Job,
        outcome: &Result<Response, FetchError>,
        chain: usize,
        hops: u32,
        now: Duration,
    ) -> Record {
        let mut record = self.base_record(&job, outcome, 0);
        self.summary.robots += 1;
        let step = match robots::verdict(&job.url, outcome, hops, &self.agent) {
            Verdict::Redirect(target) => {
                record.location = Some(target.to_string());
                let target_id = self.table.intern(&target, |_| true).id();
                let step = self.book.redirect(chain, target_id);
                if let RobotsStep::Fetch(chain) = step {
                    self.push_robots(target_id, target, chain, hops + 1, now);
                }
                step
            }
            Verdict::DeadEnd(why, target) => {
                self.problem = Some(Problem::Robots(why));
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
                        && self.scope.host_allowed(&url)
                    {
                        self.add_sitemap(url, 0, 0, now);
                    }
                }
                self.book.finish(chain, HostRules { rules, delay })
            }
        };
        if let RobotsStep::Known(hosts, outcome) = step {
            self.apply_robots(&hosts, &outcome, now);
        }
        record
    }
}
