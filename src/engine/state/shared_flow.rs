//! What a worker of a shared crawl (see [`crate::shared`]) needs of the state besides a lone
//! crawl's: its last tries as completions for the log, and the log's entries to redo.

use std::time::Duration;

use super::super::event::FetchKind;
use super::super::fetch::Fetched;
use super::super::frontier::UrlState;
use super::super::schedule::{Job, JobKind};
use super::{CrawlState, is_redirect, page};
use rustc_hash::FxHashMap;

use super::super::frontier::Label;
use crate::links;
use crate::report::Record;
use crate::shared::{Offer, log_key, partition_of};
use crate::store::{Kept, KeptRef, Store};

/// The key of `job`'s fetch in the shared state ([`log_key`]).
pub(in crate::engine) fn job_key(job: &Job) -> String {
    let fetch = match job.kind {
        JobKind::Page => FetchKind::Page,
        JobKind::Robots { .. } => FetchKind::Robots,
        JobKind::Sitemap { .. } => FetchKind::Sitemap,
    };
    log_key(fetch, job.url.as_str())
}

/// The entries a worker has been handed and not come to yet, one per fetch: a URL may have
/// arrived as a page and as a robots.txt or a sitemap ([`log_key`]). An entry found for its
/// own fetch is taken out (each fetch is redone once): no copy, and no memory kept for it.
#[derive(Debug, Default)]
pub(in crate::engine) struct Arrived {
    by_key: FxHashMap<String, Kept>,
}

impl Store for Arrived {
    /// The page's entry; else the URL's robots.txt or sitemap entry (a page admission drops
    /// such a URL, as a resumed crawl does).
    fn kept(&mut self, url: &str) -> Option<Kept> {
        if let Some(page) = self.by_key.remove(url) {
            return Some(page);
        }
        // Left in: its own flow redoes it when it asks for it.
        self.by_key
            .get(&log_key(FetchKind::Robots, url))
            .or_else(|| self.by_key.get(&log_key(FetchKind::Sitemap, url)))
            .cloned()
    }

    fn kept_as(&mut self, url: &str, fetch: FetchKind) -> Option<Kept> {
        self.by_key.remove(&log_key(fetch, url))
    }

    fn keep(&mut self, kept: Kept) {
        let key = log_key(kept.fetch, &kept.record.url);
        self.by_key.insert(key, kept);
    }
}

impl CrawlState<'_> {
    /// The completion of `fetched`, a URL's last try, as a shared crawl's log keeps it: what
    /// [`CrawlState::finish_mine`] and every other worker redo it from. Nothing of the crawl
    /// changes: a page's links are read (into the state's link buffer, reused page after
    /// page), not followed.
    pub(in crate::engine) fn kept_of(&mut self, fetched: &Fetched) -> Kept {
        let job = &fetched.job;
        let url = job.url.as_str();
        let (record, fetch) = match &fetched.outcome {
            Err(e) => (
                Record::failure(url, job.try_no, 0, e.to_string()),
                self.fetch_kind(job, None),
            ),
            Ok(r) => (
                Record::response(url, r.status, job.try_no, 0),
                self.fetch_kind(job, Some(r.status)),
            ),
        };
        let mut found = std::mem::take(&mut self.found);
        let links = match &fetched.outcome {
            Ok(r) if fetch == FetchKind::Page && (200..300).contains(&r.status) => r
                .media_type()
                .as_deref()
                .and_then(links::format_of)
                .map(|format| page::read_links(format, &job.url, r, &mut found).err()),
            _ => None,
        };
        let kept = {
            let links = links.as_ref().map(|why| (&found, why.as_deref()));
            KeptRef::new(&record, fetch, &fetched.outcome, links).to_kept()
        };
        self.found = found;
        kept
    }

    /// What a job's fetch was for, given its answer's status.
    fn fetch_kind(&self, job: &Job, status: Option<u16>) -> FetchKind {
        match job.kind {
            JobKind::Page if status.is_some_and(is_redirect) => FetchKind::Redirect,
            JobKind::Page => FetchKind::Page,
            JobKind::Robots { .. } => FetchKind::Robots,
            JobKind::Sitemap { .. } => FetchKind::Sitemap,
        }
    }

    /// Hands the state a completion another worker made (or this one, in an earlier life): it
    /// is redone when the crawl comes to its URL.
    pub(in crate::engine) fn arrive(&mut self, kept: Kept) {
        self.store.keep(kept);
    }

    /// What arrived for `job`, if anything: `Some(Ok(kept))` to redo it from, `Some(Err(()))`
    /// when its URL arrived only as another kind of fetch and `job` is a page (dropped, as
    /// admission drops such a URL).
    pub(in crate::engine) fn arrived(&mut self, job: &Job) -> Option<Result<Kept, ()>> {
        let url = job.url.as_str();
        match job.kind {
            JobKind::Robots { .. } => self.store.kept_as(url, FetchKind::Robots).map(Ok),
            JobKind::Sitemap { .. } => self.store.kept_as(url, FetchKind::Sitemap).map(Ok),
            JobKind::Page => {
                let kept = self.store.kept(url)?;
                if matches!(kept.fetch, FetchKind::Page | FetchKind::Redirect) {
                    Some(Ok(kept))
                } else {
                    self.table.finish(job.id, UrlState::Unqueued);
                    Some(Err(()))
                }
            }
        }
    }

    /// Cuts page `job`, which its host's `max_pages_per_host` leaves out (the shared state
    /// answered [`crate::shared::Answer::HostFull`]), as admission cuts one in a lone crawl.
    pub(in crate::engine) fn cut_for_host(&mut self, job: &Job) {
        super::cut_per_host(&mut self.table, &mut self.summary.cuts, job.id);
    }

    /// The labels found for URLs of partitions this worker does not follow, as offers for
    /// the workers that do (see [`crate::shared`], *Partitions*).
    pub(in crate::engine) fn take_offers(&mut self, partitions: u32) -> Vec<Offer> {
        self.table
            .take_outbox()
            .map(|(url, label)| Offer {
                url: url.to_string(),
                partition: partition_of(url, partitions),
                depth: label.depth,
                budget: label.budget,
            })
            .collect()
    }

    /// Offers wait to be handed over.
    pub(in crate::engine) fn has_offers(&self) -> bool {
        self.table.has_outbox()
    }

    /// Takes an offer from the inbox of a partition this worker follows, as a link found
    /// with that label. An offer that is not a URL is dropped.
    pub(in crate::engine) fn take_offer(&mut self, offer: &Offer) {
        let Ok(url) = url::Url::parse(&offer.url) else {
            return;
        };
        let id = self.intern(&url);
        let label = Label {
            depth: offer.depth,
            budget: offer.budget,
        };
        self.offer(id, label, Some(url));
    }

    /// `job`'s host, as a shared crawl names it, and its delay between requests.
    pub(in crate::engine) fn host_key(&self, job: &Job) -> (String, Duration) {
        let key = job.url[..url::Position::BeforePath].to_string();
        (key, self.schedule.delay(job.host))
    }
}
