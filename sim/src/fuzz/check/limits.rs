//! The page limits: `max_pages` and `max_pages_per_host` are never exceeded, and a URL the
//! oracle reached but the crawl did not fetch is explained by a full limit.

use std::collections::BTreeMap;

use crawler::Record;
use url::Url;

use super::super::case::Case;
use super::super::reach::Reach;
use super::{Failure, Property};

/// Checks the limits against the pages recorded (robots.txt and sitemap fetches are not pages)
/// and the URLs the oracle's search left unfetched; `todo` is what the crawl left to do.
pub(in crate::fuzz) fn check_limits(
    case: &Case,
    reach: &Reach,
    records: &BTreeMap<String, &Record>,
    todo: u64,
) -> Result<(), Failure> {
    let sitemaps: Vec<String> = (0..case.sitemaps.len())
        .map(|k| case.sitemap_url(k))
        .collect();
    let host = |url: &str| {
        let url = Url::parse(url).expect("records hold absolute URLs");
        url.host_str().unwrap_or_default().to_string()
    };
    let mut per_host: BTreeMap<String, u64> = BTreeMap::new();
    for url in records.keys() {
        if !url.ends_with("/robots.txt") && !sitemaps.contains(url) {
            *per_host.entry(host(url)).or_default() += 1;
        }
    }
    let total: u64 = per_host.values().sum();
    let fail = |evidence: String| Err(Failure::new(Property::Limits, evidence));
    if case.max_pages.is_some_and(|max| total > max) {
        return fail(format!(
            "{total} pages fetched, max_pages {:?}",
            case.max_pages
        ));
    }
    let full = case.max_pages == Some(total);
    if todo > 0 && !full {
        return fail(format!(
            "{todo} URLs left to do with {total} pages fetched, max_pages {:?}",
            case.max_pages
        ));
    }
    for (h, &n) in &per_host {
        if case.max_pages_per_host.is_some_and(|max| n > max) {
            return fail(format!(
                "{n} pages of {h} fetched, max_pages_per_host {:?}",
                case.max_pages_per_host
            ));
        }
    }
    for url in &reach.limited {
        let of_host = per_host.get(&host(url)).copied().unwrap_or(0);
        let host_full = case.max_pages_per_host.is_some_and(|max| of_host >= max);
        if !full && !host_full {
            return fail(format!(
                "{url} was reached and allowed but not fetched, with {total} pages fetched \
                 (max_pages {:?}) and {of_host} of its host (max_pages_per_host {:?})",
                case.max_pages, case.max_pages_per_host
            ));
        }
    }
    Ok(())
}
