//! The record of a page: a redirect passes the URL's labels on to its target; an HTML page's
//! links are read, resolved and offered to the frontier.
//!
//! A link is resolved by the cheapest path that is exact for it: a plain path to a URL already
//! known by its text alone ([`super::super::shortcut`]), an href seen before on a page of the
//! same origin by the memo ([`super::super::memo`]), anything else by the URL parser.

use url::Url;

use super::super::frontier::{Label, State};
use super::super::memo::Memo;
use super::super::schedule::Job;
use super::{CrawlState, Found, is_redirect, redirect_target};
use crate::config::Config;
use crate::links;
use crate::normalize;
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
            self.table.finish(id, State::Fetched);
            return (record, None);
        };
        let mut base = None;
        let success = (200..300).contains(&response.status);
        let html = record.content_type.as_deref().is_some_and(links::is_html);
        if is_redirect(response.status) {
            self.redirect(id, &url, response, &mut record);
        } else if success && html {
            self.summary.html += 1;
            self.summary.html_bytes += response.body.len() as u64;
            base = Some(self.links(id, &url, depth, response, &mut record));
        } else {
            if success {
                self.summary.other += 1;
                self.summary.other_bytes += response.body.len() as u64;
            } else {
                self.summary.error_status += 1;
            }
            self.table.finish(id, State::Fetched);
        }
        (record, base)
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
    /// Returns the URL the links resolve against.
    fn links(
        &mut self,
        id: u32,
        url: &Url,
        depth: u32,
        response: &Response,
        record: &mut Record,
    ) -> Url {
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
        for link in &found.links {
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
            let simple = Memo::shortcut_key(page, &base, &link.url, &mut self.key);
            let (simple, known) = match simple {
                true => {
                    let key = self.key.as_str();
                    (Some(key), self.table.known(key, self.table.hash(key)))
                }
                false => (None, None),
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
        base.into_owned()
    }
}
