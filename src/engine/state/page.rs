//! The record of a page: a redirect passes the URL's labels on to its target; the links of an
//! HTML page or an XML document (a feed) are read, resolved and offered to the frontier.
//!
//! A link is resolved by the cheapest path that is exact for it: a plain path to a URL already
//! known by its text alone ([`super::super::shortcut`]), an href seen before on a page of the
//! same origin by the memo ([`super::super::memo`]), anything else by the URL parser.

use std::borrow::Cow;

use url::Url;

use super::super::frontier::{Label, Table, UrlState};
use super::super::memo::{BaseContexts, Memo};
use super::super::schedule::Job;
use super::{CrawlState, Found, is_redirect, redirect_target};
use crate::config::Config;
use crate::links::{self, Format};
use crate::normalize;
use crate::problem::{Cut, Problem};
use crate::report::Record;
use crate::transport::{FetchError, Response};

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

/// The normalised URLs of a window of a page's simple links (see [`super::super::shortcut`]),
/// worked out before those links are looked up: for warming the cache, and then for the
/// lookups. On a large crawl each lookup misses the cache; issued together, the misses overlap
/// (BENCHMARKS.md, "Link resolution tiers").
#[derive(Debug, Default)]
pub(super) struct Warm {
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

impl Warm {
    /// Works out the keys of the simple links among the [`WARM_WINDOW`] links of `found` from
    /// `from` and brings into the cache the URL-table slots, keys and entries their lookups will
    /// read (see [`crate::strids::StrIds::warm`]). Reads only: what the crawl does does not
    /// change.
    fn load(
        &mut self,
        table: &Table,
        config: &Config,
        page: BaseContexts,
        base: &Url,
        found: &links::Links,
        from: usize,
    ) {
        self.keys.clear();
        self.spans.clear();
        self.hashes.clear();
        for link in found.links.iter().skip(from).take(WARM_WINDOW) {
            let looked_up = !ignored(config, link) && !not_followed(found, link);
            let simple = looked_up && Memo::shortcut_key(page, base, &link.url, &mut self.scratch);
            let span = simple.then(|| {
                let start = self.keys.len();
                self.keys.push_str(&self.scratch);
                let hash = table.hash(&self.scratch);
                self.hashes.push(hash);
                (start, self.keys.len(), hash)
            });
            self.spans.push(span);
        }
        table.warm(&self.hashes);
    }
}

/// Reads the links of `response`, the body of `url`, as `format` says, into `found`; `Err` says
/// why reading stopped early (the links found before stay in `found`).
pub(super) fn read_links(
    format: Format,
    url: &Url,
    response: &Response,
    found: &mut links::Links,
) -> Result<(), String> {
    match format {
        Format::Xml => links::extract_xml_into(&response.body, url, found),
        Format::Xhtml => links::extract_xhtml_into(&response.body, found),
        Format::Html => links::extract_into(&response.body, found),
    }
    .map_err(|e| e.to_string())
}

impl CrawlState<'_> {
    /// Turns a URL's last try into its record and feeds what it found to the frontier; for an
    /// HTML page, also gives the URL its links (left in `self.found`) resolve against.
    pub(super) fn complete(
        &mut self,
        job: Job,
        outcome: &Result<Response, FetchError>,
    ) -> (Record, Option<Url>) {
        let id = job.id;
        let depth = self.table.entry(id).depth();
        let mut record = self.base_record(&job, outcome, depth);
        let url = job.url;
        let Ok(response) = outcome else {
            self.table.finish(id, UrlState::Fetched);
            return (record, None);
        };
        let mut base = None;
        let success = (200..300).contains(&response.status);
        let format = record.content_type.as_deref().and_then(links::format_of);
        if is_redirect(response.status) {
            self.redirect(id, &url, response, &mut record);
        } else if let Some(format) = format.filter(|_| success) {
            if matches!(format, Format::Html | Format::Xhtml) {
                self.summary.html += 1;
                self.summary.html_bytes += self.body_len(response);
            } else {
                self.summary.other += 1;
                self.summary.other_bytes += self.body_len(response);
            }
            // The page's own URL unless a `<base href>` gave another (no copy of the URL).
            base = Some(
                self.links(id, &url, depth, format, response, &mut record)
                    .unwrap_or(url),
            );
        } else {
            if success {
                self.summary.other += 1;
                self.summary.other_bytes += self.body_len(response);
            } else {
                self.summary.error_status += 1;
            }
            self.table.finish(id, UrlState::Fetched);
        }
        (record, base)
    }

    fn redirect(&mut self, id: u32, url: &Url, response: &Response, record: &mut Record) {
        let target = match redirect_target(url, response, self.config.canon()) {
            Ok(target) => target,
            Err(why) => {
                self.summary.bad_redirects += 1;
                self.problem = Some(why);
                self.table.finish(id, UrlState::Redirected(None));
                return;
            }
        };
        self.summary.redirects += 1;
        record.location = Some(target.to_string());
        let target_id = self.intern(&target);
        self.table.finish(id, UrlState::Redirected(Some(target_id)));
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
            self.problem = Some(Problem::RedirectLimit {
                max_redirect: self.config.max_redirect,
            });
        }
    }

    /// Follows the links of an HTML page or an XML document (read as `format` says): every
    /// kind but assets (unless `config.assets`), none that carries `rel=nofollow`, and none at
    /// all when the page's meta robots says `nofollow` (those count as `nofollow` cuts, one per
    /// link). `links` counts every link considered; `noindex` goes on the record, and so does a
    /// parser failure (as `error`).
    /// Returns the URL the links resolve against when a `<base href>` made it other than `url`.
    fn links(
        &mut self,
        id: u32,
        url: &Url,
        depth: u32,
        format: Format,
        response: &Response,
        record: &mut Record,
    ) -> Option<Url> {
        self.table.finish(id, UrlState::Fetched);
        let mut found = std::mem::take(&mut self.found);
        let kept = self.replaying.as_mut().and_then(|r| r.links.take());
        let read = match kept {
            // A kept page brings its links, not its body.
            Some((links, why)) => {
                found = links;
                why.map_or(Ok(()), Err)
            }
            None => read_links(format, url, response, &mut found),
        };
        if let Err(why) = read {
            // The links found before the parser gave up are followed; the page says why the
            // rest are not.
            self.problem = Some(Problem::Links(why));
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
                self.warm
                    .load(&self.table, self.config, page, &base, &found, i);
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
            *self.summary.cuts.entry(Cut::Nofollow).or_default() += nofollow;
        }
        if keep_out_links {
            self.table.set_out_links(id, out_links);
        }
        record.links = Some(count);
        record.new_links = Some(new);
        self.found = found;
        match base {
            Cow::Owned(base) => Some(base),
            Cow::Borrowed(_) => None,
        }
    }
}
