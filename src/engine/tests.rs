//! Engine unit tests over an in-memory site and a clock whose timers fire at once.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::transport::{FetchError, FetchErrorKind, Request, Response};
use crate::{Config, Record, Summary};

/// Pages by path: `html:<links separated by spaces>`, `raw:<an HTML body>`, `xml:<an
/// application/xml body>`, `text:<a text/plain body>`, `type:<media type> <body>`,
/// `301:<location>`, `reset`, or a status.
pub(super) struct MapSite {
    pages: BTreeMap<&'static str, &'static str>,
    requests: RefCell<Vec<String>>,
}

impl MapSite {
    pub(super) fn new(pages: &[(&'static str, &'static str)]) -> Self {
        MapSite {
            pages: pages.iter().copied().collect(),
            requests: RefCell::new(Vec::new()),
        }
    }
}

impl Transport for MapSite {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        let url = request.url.as_str().to_string();
        self.requests.borrow_mut().push(url.clone());
        let path = url.strip_prefix("http://h").unwrap_or(&url);
        let spec = self.pages.get(path).copied().unwrap_or("404");
        if let Some(links) = spec.strip_prefix("html:") {
            let body: String = links
                .split_whitespace()
                .map(|l| format!("<a href=\"{l}\">x</a>"))
                .collect();
            return Ok(Response::new(200)
                .with_header("Content-Type", "text/html; charset=utf-8")
                .with_body(body));
        }
        if let Some(html) = spec.strip_prefix("raw:") {
            return Ok(Response::new(200)
                .with_header("Content-Type", "text/html")
                .with_body(html.to_string()));
        }
        if let Some(secs) = spec.strip_prefix("503ra:") {
            return Ok(Response::new(503).with_header("Retry-After", secs));
        }
        if let Some(xml) = spec.strip_prefix("xml:") {
            return Ok(Response::new(200)
                .with_header("content-type", "application/xml")
                .with_body(xml.to_string()));
        }
        if let Some((media_type, body)) = spec.strip_prefix("type:").and_then(|s| s.split_once(' '))
        {
            return Ok(Response::new(200)
                .with_header("content-type", media_type)
                .with_body(body.to_string()));
        }
        if let Some(text) = spec.strip_prefix("text:") {
            return Ok(Response::new(200)
                .with_header("content-type", "text/plain")
                .with_body(text.replace("|", "\n")));
        }
        if let Some((status, location)) = spec.split_once(':') {
            return Ok(Response::new(status.parse().unwrap()).with_header("location", location));
        }
        if spec == "reset" {
            return Err(FetchError::new(FetchErrorKind::Reset, "connection reset"));
        }
        Ok(Response::new(spec.parse().unwrap()))
    }
}

/// A clock whose timers complete at once, moving time forward by their duration. Good enough for
/// these tests, where a timer is only awaited when nothing else can happen.
#[derive(Default)]
pub(super) struct SkipClock {
    now: std::cell::Cell<Duration>,
}

impl Clock for SkipClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
    async fn sleep(&self, d: Duration) {
        self.now.set(self.now.get() + d);
    }
}

pub(super) fn crawl(
    site: &MapSite,
    config: impl FnOnce(crate::ConfigBuilder) -> crate::ConfigBuilder,
) -> (Vec<Record>, Summary) {
    // robots.txt is off unless a test turns it on, so request counts are the pages'.
    let config = config(Config::builder().root("http://h/").robots(false))
        .build()
        .unwrap();
    let crawler = Crawler::new(config, site, SkipClock::default());
    let mut records = Vec::new();
    let summary = futures_executor::block_on(crawler.run(|e| records.push(e.record.clone())));
    (records, summary)
}

pub(super) fn urls(records: &[Record]) -> Vec<&str> {
    let mut u: Vec<&str> = records.iter().map(|r| r.url.as_str()).collect();
    u.sort();
    u
}

#[test]
fn each_url_once_with_fragments_and_spellings_merged() {
    let site = MapSite::new(&[
        (
            "/",
            "html:a a#x /a HTTP://H:80/a ./b mailto:x@y http://other/",
        ),
        ("/a", "html:/ b"),
        ("/b", "html:/a?q=1"),
    ]);
    let (records, summary) = crawl(&site, |b| b);
    assert_eq!(
        urls(&records),
        ["http://h/", "http://h/a", "http://h/a?q=1", "http://h/b"]
    );
    assert_eq!(site.requests.borrow().len(), 4);
    let root = &records[0];
    assert_eq!((root.links, root.new_links), (Some(6), Some(2)));
    assert_eq!(summary.urls, 4);
    assert_eq!(summary.html, 3);
    assert_eq!(summary.error_status, 1);
}

#[test]
fn redirects_resolve_relative_locations_and_stop_at_the_limit() {
    let site = MapSite::new(&[
        ("/", "html:/r1 /s"),
        ("/r1", "301:r2"),
        ("/r2", "302:/r3"),
        ("/r3", "307:http://h/end"),
        ("/end", "html:"),
        ("/s", "308:/s"),
    ]);
    let (records, summary) = crawl(&site, |b| b.max_redirect(2));
    assert_eq!(
        urls(&records),
        [
            "http://h/",
            "http://h/r1",
            "http://h/r2",
            "http://h/r3",
            "http://h/s"
        ]
    );
    let r3 = records.iter().find(|r| r.url == "http://h/r3").unwrap();
    assert_eq!(r3.location.as_deref(), Some("http://h/end"));
    assert_eq!(
        r3.error.as_deref(),
        Some("redirect limit reached (max_redirect=2)")
    );
    assert_eq!(summary.redirects, 4);
    assert_eq!(summary.redirect_cuts, 1);
}

#[test]
fn a_later_shorter_path_releases_a_cut_redirect_target() {
    // /r2 is reached first at the end of a chain (budget exhausted), then directly from a link.
    let site = MapSite::new(&[
        ("/", "html:/r1 /p"),
        ("/r1", "301:/r2"),
        ("/p", "html:/q"),
        ("/q", "html:/r2"),
        ("/r2", "301:/end"),
        ("/end", "html:"),
    ]);
    let (records, _) = crawl(&site, |b| b.max_redirect(1).max_tasks(1));
    assert!(urls(&records).contains(&"http://h/end"));
    assert_eq!(site.requests.borrow().len(), 6);
}

#[test]
fn missing_or_garbage_location_is_recorded_not_followed() {
    let site = MapSite::new(&[("/", "html:/a /b"), ("/a", "301"), ("/b", "302:http://[")]);
    let (records, summary) = crawl(&site, |b| b);
    let a = records.iter().find(|r| r.url == "http://h/a").unwrap();
    assert_eq!(a.error.as_deref(), Some("redirect without location"));
    let b = records.iter().find(|r| r.url == "http://h/b").unwrap();
    assert_eq!(
        b.error.as_deref(),
        Some("redirect with unusable location \"http://[\"")
    );
    assert_eq!(summary.bad_redirects, 2);
}

#[test]
fn failures_are_retried_then_recorded() {
    let site = MapSite::new(&[
        ("/", "html:/gone /busy"),
        ("/gone", "reset"),
        ("/busy", "503"),
    ]);
    let (records, summary) = crawl(&site, |b| b.max_tries(3));
    let gone = records.iter().find(|r| r.url == "http://h/gone").unwrap();
    assert_eq!((gone.status, gone.tries), (None, 3));
    assert_eq!(gone.error.as_deref(), Some("reset: connection reset"));
    let busy = records.iter().find(|r| r.url == "http://h/busy").unwrap();
    assert_eq!((busy.status, busy.tries), (Some(503), 3));
    assert_eq!(
        summary.failures_by_kind.get(&crate::FetchErrorKind::Reset),
        Some(&1)
    );
    assert_eq!(summary.requests, 7);
}

#[test]
fn depth_limit_counts_link_hops_only() {
    let site = MapSite::new(&[
        ("/", "html:/a /r"),
        ("/a", "html:/b"),
        ("/b", "html:/c"),
        ("/r", "301:/b"),
    ]);
    let (records, _) = crawl(&site, |b| b.max_depth(1));
    // /b is at depth 1 through the redirect; its link /c would be depth 2.
    assert_eq!(
        urls(&records),
        ["http://h/", "http://h/a", "http://h/b", "http://h/r"]
    );
}

#[test]
fn out_of_scope_and_excluded_urls_are_not_fetched() {
    let site = MapSite::new(&[
        ("/", "html:http://www.h/x http://other/ /skip.pdf /r"),
        ("/r", "301:http://other/y"),
    ]);
    let (records, _) = crawl(&site, |b| b.exclude(r"\.pdf$"));
    assert_eq!(
        urls(&records),
        ["http://h/", "http://h/r", "http://www.h/x"]
    );
}

#[test]
fn max_pages_leaves_the_rest_as_todo() {
    let site = MapSite::new(&[("/", "html:/a /b /c")]);
    let (records, summary) = crawl(&site, |b| b.max_pages(2));
    assert_eq!(records.len(), 2);
    assert_eq!(summary.todo, 2);
}

#[test]
fn urls_cut_before_their_fetch_leave_max_pages_to_the_rest() {
    let site = MapSite::new(&[
        ("/robots.txt", "text:User-agent: *|Disallow: /private"),
        ("/", "html:/private/1 /private/2 /private/3 /a /b /c"),
    ]);
    let (records, summary) = crawl(&site, |b| b.robots(true).max_pages(3));
    assert_eq!(
        requests(&site),
        [
            "http://h/robots.txt",
            "http://h/",
            "http://h/a",
            "http://h/b"
        ]
    );
    assert_eq!(records.len(), 4, "robots.txt and three pages");
    assert_eq!(summary.cuts.get(&crate::Cut::Robots), Some(&3));
    assert_eq!(summary.todo, 1);
    // Likewise when the host's robots.txt is not known yet as its links are admitted (www.h is
    // in scope, strict, and first met in the root's links).
    let site = MapSite::new(&[
        ("/robots.txt", "text:User-agent: *"),
        (
            "/",
            "html:http://www.h/private/1 http://www.h/private/2 http://www.h/private/3 /a /b",
        ),
        (
            "http://www.h/robots.txt",
            "text:User-agent: *|Disallow: /private",
        ),
    ]);
    let (_, summary) = crawl(&site, |b| b.robots(true).max_pages(3));
    let got = requests(&site);
    assert!(
        got.contains(&"http://h/a".to_string()) && got.contains(&"http://h/b".to_string()),
        "{got:?}"
    );
    assert_eq!(summary.cuts.get(&crate::Cut::Robots), Some(&3));
    // Likewise for pages cut by the per-host cap: the other host still gets its share.
    let site = MapSite::new(&[("/", "html:/a /b /c http://g/ http://g/a")]);
    let (_, summary) = crawl(&site, |b| {
        b.root("http://g/").max_pages(4).max_pages_per_host(2)
    });
    assert_eq!(summary.cuts.get(&crate::Cut::PagesPerHost), Some(&2));
    assert_eq!(summary.urls, 4);
}

/// A page robots.txt forbids uses no place of `max_pages_per_host`, even when it was admitted
/// before its host's robots.txt was known (found by the fuzzer: the place went to the forbidden
/// page, and the host's allowed page was cut).
#[test]
fn pages_robots_forbids_leave_the_per_host_cap_to_allowed_ones() {
    let site = MapSite::new(&[
        ("/robots.txt", "text:User-agent: *"),
        (
            "/",
            "html:http://www.h/private http://www.h/a http://www.h/b http://www.h/c",
        ),
        (
            "http://www.h/robots.txt",
            "text:User-agent: *|Disallow: /private",
        ),
    ]);
    let (_, summary) = crawl(&site, |b| b.robots(true).max_pages_per_host(2));
    let got = requests(&site);
    let pages = ["http://www.h/a", "http://www.h/b", "http://www.h/c"];
    let fetched: Vec<&&str> = pages
        .iter()
        .filter(|p| got.contains(&p.to_string()))
        .collect();
    assert_eq!(fetched, [&"http://www.h/a", &"http://www.h/b"], "{got:?}");
    assert_eq!(summary.cuts.get(&crate::Cut::Robots), Some(&1));
    // The cap still holds for pages placed late: the third allowed page is cut.
    assert_eq!(summary.cuts.get(&crate::Cut::PagesPerHost), Some(&1));
}

#[test]
fn query_spellings_merge_and_sorting_is_opt_in() {
    let site = MapSite::new(&[("/", "html:/p?b=1&a=2 /p?a=2&b=1 /p?b=1&a=2&b=1 /p? /p%7e")]);
    let (records, _) = crawl(&site, |b| b);
    assert_eq!(
        urls(&records),
        [
            "http://h/",
            "http://h/p",
            "http://h/p?a=2&b=1",
            "http://h/p?b=1&a=2",
            "http://h/p~"
        ]
    );
    let (records, _) = crawl(&site, |b| b.sort_query(true));
    assert_eq!(
        urls(&records),
        [
            "http://h/",
            "http://h/p",
            "http://h/p?a=2&b=1",
            "http://h/p~"
        ]
    );
}

#[test]
fn retry_after_is_waited_on_the_clock() {
    let site = MapSite::new(&[("/", "html:/busy"), ("/busy", "503ra:7")]);
    let (records, summary) = crawl(&site, |b| b.max_tries(3));
    let busy = records.iter().find(|r| r.url == "http://h/busy").unwrap();
    assert_eq!((busy.status, busy.tries), (Some(503), 3));
    assert_eq!(summary.elapsed, Duration::from_secs(14));
    assert_eq!(summary.requests, 4);
}

/// A `Retry-After` longer than `max_retry_after` ends the URL's tries at once: its record is
/// the 503, and says why; the crawl does not wait at all.
#[test]
fn a_retry_after_beyond_the_cap_ends_the_tries_at_once() {
    let site = MapSite::new(&[
        ("/", "html:/busy /year"),
        ("/busy", "503ra:7"),
        ("/year", "503ra:31536000"),
    ]);
    let (records, summary) = crawl(&site, |b| {
        b.max_tries(4).max_retry_after(Duration::from_secs(2))
    });
    for url in ["http://h/busy", "http://h/year"] {
        let r = records.iter().find(|r| r.url == url).unwrap();
        assert_eq!((r.status, r.tries), (Some(503), 1), "{url}");
        let asked = if url.ends_with("busy") { 7 } else { 31_536_000 };
        let why = format!("retry-after {asked} s exceeds the 2 s cap");
        assert_eq!(r.error.as_deref(), Some(why.as_str()));
    }
    assert_eq!(summary.elapsed, Duration::ZERO);
    assert_eq!(summary.requests, 3);
    assert_eq!(summary.error_status, 2);
}

#[test]
fn backoff_waits_are_jittered_but_seeded() {
    let site = MapSite::new(&[("/", "reset")]);
    let run = |seed| crawl(&site, move |b| b.max_tries(4).seed(seed)).1.elapsed;
    // 500 ms, 1 s, 2 s backoffs, each jittered into [half, full].
    let a = run(1);
    assert!(
        a >= Duration::from_millis(1750) && a <= Duration::from_millis(3500),
        "{a:?}"
    );
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
}

/// Every page links one level deeper and to the next "month": an endless site.
struct Endless;

impl Transport for Endless {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        let body = match request.url.path() {
            p if p.starts_with("/cal/") => {
                let n: u32 = p[5..].parse().unwrap_or(0);
                format!("<a href=\"/cal/{}\">next</a>", n + 1)
            }
            _ => "<a href=\"x/\">deeper</a><a href=\"/cal/0\">calendar</a>".to_string(),
        };
        Ok(Response::new(200)
            .with_header("content-type", "text/html")
            .with_body(body))
    }
}

#[test]
fn spider_traps_are_cut_and_counted() {
    let config = Config::builder()
        .root("http://h/")
        .robots(false)
        .max_pages_per_host(50)
        .build()
        .unwrap();
    let crawler = Crawler::new(config, Endless, SkipClock::default());
    let mut urls = Vec::new();
    let summary = futures_executor::block_on(crawler.run(|e| urls.push(e.record.url.clone())));
    assert!(urls.contains(&"http://h/x/x/x/".to_string()));
    assert!(!urls.contains(&"http://h/x/x/x/x/".to_string()));
    assert_eq!(summary.cuts.get(&crate::Cut::RepeatedSegment), Some(&1));
    assert_eq!(summary.urls, 50);
    assert_eq!(summary.cuts.get(&crate::Cut::PagesPerHost), Some(&1));
}

#[test]
fn urls_past_the_depth_limit_are_counted_as_not_followed() {
    let site = MapSite::new(&[("/", "html:/a"), ("/a", "html:/b /c"), ("/b", "html:/d")]);
    let (records, summary) = crawl(&site, |b| b.max_depth(1));
    assert_eq!(records.len(), 2);
    assert_eq!(summary.cuts.get(&crate::Cut::NotFollowed), Some(&2));
}

pub(super) fn requests(site: &MapSite) -> Vec<String> {
    site.requests.borrow().clone()
}
