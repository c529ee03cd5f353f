//! The sitemap flow: sitemaps named by the user or by robots.txt, and those an index lists, are
//! fetched once each; the pages they list join the frontier one hop from the roots.

use super::super::event::FetchKind;
use std::time::Duration;

use url::Url;

use super::super::frontier::{Label, UrlState};
use super::super::schedule::{Job, JobKind};
use super::super::sitemap;
use super::{CrawlState, is_redirect, redirect_target};
use crate::normalize;
use crate::problem::Problem;
use crate::report::Record;
use crate::transport::{FetchError, Response};

impl CrawlState<'_> {
    /// Queues sitemap `url` (named by the user or robots.txt, or listed in a sitemap index),
    /// unless that URL is already known.
    pub(in crate::engine) fn add_sitemap(
        &mut self,
        url: Url,
        depth: u32,
        hops: u32,
        now: Duration,
    ) {
        let interned = self.table.intern(&url, |_| true);
        let id = interned.id();
        if interned.is_known() && self.table.entry(id).state != UrlState::Unqueued {
            return;
        }
        self.table.finish(id, UrlState::Fetched); // Claimed: never queued as a page.
        let host = self.host_of(&url, now);
        let kept = self.kept(&url, FetchKind::Sitemap);
        let kind = JobKind::Sitemap { depth, hops };
        let job = Job {
            id,
            url,
            host,
            try_no: kept.as_ref().map_or(1, |k| k.record.tries),
            kind,
            placed: true,
        };
        match kept {
            Some(kept) => self.replay.push_back((job, kept)),
            None => self.schedule.push(job, now),
        }
    }

    /// The record of a sitemap fetch; its page URLs go to the frontier, its sitemaps to the queue,
    /// the target of its redirect (in scope, within `max_redirect` hops) to the queue too.
    pub(super) fn complete_sitemap(
        &mut self,
        job: Job,
        outcome: &Result<Response, FetchError>,
        depth: u32,
        hops: u32,
        now: Duration,
    ) -> Record {
        let mut record = self.base_record(&job, outcome, 0);
        self.summary.sitemaps += 1;
        let Ok(response) = outcome else {
            return record;
        };
        if is_redirect(response.status) {
            match redirect_target(&job.url, response, self.config.canon()) {
                Ok(target) => {
                    record.location = Some(target.to_string());
                    if hops >= self.config.max_redirect {
                        self.problem = Some(Problem::Sitemap(format!(
                            "redirect not followed: max_redirect ({hops}) reached"
                        )));
                    } else if self.scope.host_allowed(&target) {
                        self.add_sitemap(target, depth, hops + 1, now);
                    } else {
                        self.problem = Some(Problem::Sitemap(
                            "redirect not followed: host out of scope".into(),
                        ));
                    }
                }
                Err(why) => self.problem = Some(Problem::Sitemap(why.to_string())),
            }
            return record;
        }
        if !(200..300).contains(&response.status) {
            return record;
        }
        let found = sitemap::parse(&response.body);
        if let Some(problem) = found.problem {
            self.problem = Some(Problem::Sitemap(problem));
        }
        let (mut count, mut new) = (0u32, 0u32);
        let canon = self.config.canon();
        for loc in &found.locs {
            let Some(url) = normalize::resolve_with(&job.url, loc, canon) else {
                continue;
            };
            count += 1;
            match found.kind {
                sitemap::SitemapKind::Sitemaps if depth < sitemap::MAX_INDEX_DEPTH => {
                    if self.scope.host_allowed(&url) {
                        self.add_sitemap(url, depth + 1, 0, now);
                    }
                }
                sitemap::SitemapKind::Sitemaps => {}
                sitemap::SitemapKind::Pages => {
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
}
