//! Engine tests of one worker of a shared crawl, over the in-memory reference state: alone it
//! crawls what a lone crawl does; stopped, another worker takes over and nothing is recorded
//! twice.

use std::collections::BTreeMap;

use super::tests::{MapSite, SkipClock};
use crate::{Config, Crawler, FetchKind, MemoryShared, Record, Stop, Summary, WorkerOptions};

fn site() -> MapSite {
    MapSite::new(&[
        ("/robots.txt", "text:User-agent: *|Disallow: /no"),
        ("/", "html:/a /b /no /old"),
        ("/a", "html:/c /d"),
        ("/b", "html:/c /e"),
        ("/old", "301:/a"),
        ("/c", "503"),
        ("/d", "html:/"),
        ("/e", "html:/f"),
        ("/f", "404"),
    ])
}

fn config() -> Config {
    Config::builder()
        .root("http://h/")
        .max_tasks(2)
        .max_tries(2)
        .build()
        .unwrap()
}

/// Runs one worker over `shared` until the end, or until it has recorded `stop_after` URLs of
/// its own: its own records, and the URLs it was handed from the log.
fn work(
    shared: &MemoryShared<&SkipClock>,
    clock: &SkipClock,
    name: &str,
    stop_after: Option<usize>,
) -> (Vec<Record>, Vec<String>, Summary) {
    work_with(config(), shared, clock, name, stop_after)
}

/// [`work`] with `config`.
fn work_with(
    config: Config,
    shared: &MemoryShared<&SkipClock>,
    clock: &SkipClock,
    name: &str,
    stop_after: Option<usize>,
) -> (Vec<Record>, Vec<String>, Summary) {
    let crawler = Crawler::new(config, site(), clock);
    let stop = Stop::new();
    let (mut mine, mut others) = (Vec::new(), Vec::new());
    let summary = futures_executor::block_on(crawler.run_shared(
        Some(&stop),
        shared,
        &WorkerOptions::new(name),
        |e| {
            if e.replayed {
                others.push(e.record.url.clone());
            } else {
                mine.push(e.record.clone());
                if stop_after.is_some_and(|n| mine.len() >= n) {
                    stop.stop();
                }
            }
        },
    ))
    .unwrap();
    (mine, others, summary)
}

fn lone() -> (Vec<Record>, Summary) {
    let crawler = Crawler::new(config(), site(), SkipClock::default());
    let mut records = Vec::new();
    let summary = futures_executor::block_on(crawler.run(|e| records.push(e.record.clone())));
    (records, summary)
}

fn by_url(records: &[Record]) -> BTreeMap<String, Record> {
    records.iter().map(|r| (r.url.clone(), r.clone())).collect()
}

/// One worker alone records what a lone crawl records, URL for URL, and the same summary.
#[test]
fn one_worker_crawls_what_a_lone_crawl_does() {
    let clock = SkipClock::default();
    let shared = MemoryShared::new(&clock);
    let (mine, others, summary) = work(&shared, &clock, "w1", None);
    assert!(others.is_empty(), "{others:?}");
    let (records, alone) = lone();
    assert_eq!(by_url(&mine), by_url(&records));
    assert_eq!(mine.len(), records.len());
    let timeless = |mut s: Summary| {
        s.elapsed = Default::default();
        s
    };
    assert_eq!(timeless(summary), timeless(alone));
    let log = shared.log();
    assert_eq!(log.len(), records.len());
    assert!(log.iter().all(|e| e.worker == "w1"));
    assert!(log.iter().any(|e| e.kept.fetch == FetchKind::Robots));
}

/// A worker stopped part way gives its leases back; a second worker redoes what the first
/// recorded and fetches only the rest: every URL recorded once over both, and the second's
/// summary is the whole crawl's.
#[test]
fn a_second_worker_goes_on_where_the_first_stopped() {
    let (records, alone) = lone();
    for stop_after in 1..records.len() {
        let clock = SkipClock::default();
        let shared = MemoryShared::new(&clock);
        let (first, _, _) = work(&shared, &clock, "w1", Some(stop_after));
        let (second, seen, summary) = work(&shared, &clock, "w2", None);
        let mut all: Vec<String> = first.iter().chain(&second).map(|r| r.url.clone()).collect();
        all.sort();
        let mut want: Vec<String> = records.iter().map(|r| r.url.clone()).collect();
        want.sort();
        assert_eq!(all, want, "stopped after {stop_after}");
        let mut first_urls: Vec<String> = first.iter().map(|r| r.url.clone()).collect();
        first_urls.sort();
        let mut seen = seen;
        seen.sort();
        assert_eq!(seen, first_urls, "stopped after {stop_after}");
        assert_eq!(summary.urls, alone.urls, "stopped after {stop_after}");
        assert_eq!(summary.todo, 0);
        assert_eq!(shared.status().leased, 0, "leases given back");
    }
}

/// `max_pages` and `max_pages_per_host` hold for the crawl: a worker stopped part way and a
/// second one fetch that many pages between them (robots.txt takes no place), and the second
/// ends with the pages left out counted (to do for `max_pages`, cut for the host's).
#[test]
fn page_limits_hold_over_two_workers() {
    use crate::problem::Cut;
    let limited = |pages: Option<u64>, per_host: Option<u64>| {
        let mut b = Config::builder()
            .root("http://h/")
            .max_tasks(2)
            .max_tries(2);
        if let Some(n) = pages {
            b = b.max_pages(n);
        }
        if let Some(n) = per_host {
            b = b.max_pages_per_host(n);
        }
        b.build().unwrap()
    };
    for (pages, per_host, want) in [
        (Some(4), None, 4),
        (None, Some(3), 3),
        (Some(2), Some(3), 2),
    ] {
        for stop_after in 1..=3 {
            let clock = SkipClock::default();
            let shared = MemoryShared::new(&clock);
            let config = || limited(pages, per_host);
            let (first, _, _) = work_with(config(), &shared, &clock, "w1", Some(stop_after));
            let (second, _, summary) = work_with(config(), &shared, &clock, "w2", None);
            let fetched: Vec<&str> = first
                .iter()
                .chain(&second)
                .map(|r| r.url.as_str())
                .filter(|u| !u.ends_with("/robots.txt"))
                .collect();
            let case = format!("{pages:?} {per_host:?}, stopped after {stop_after}");
            assert_eq!(fetched.len(), want, "{case}: {fetched:?}");
            assert_eq!(shared.status().pages, want as u64, "{case}");
            assert_eq!(shared.status().leased, 0, "{case}");
            let cut = summary.cuts.get(&Cut::PagesPerHost).copied().unwrap_or(0);
            if pages.is_some() {
                assert!(summary.todo > 0 && cut == 0, "{case}: {summary:?}");
            } else {
                assert!(summary.todo == 0 && cut > 0, "{case}: {summary:?}");
            }
        }
    }
}

/// Pages a full limit turns down take no time: one host, 100 links, a delay of a second and
/// a limit of 3 pages, the worker ends about when a lone crawl does (it took 100 s of its
/// host's delay, one per page turned down, before `Scheduler::unstart`; found by a review).
#[test]
fn pages_a_full_limit_turns_down_take_no_delay() {
    use std::time::Duration;
    let links: Vec<String> = (0..100).map(|i| format!("/p{i}")).collect();
    let root: &'static str = Box::leak(format!("html:{}", links.join(" ")).into_boxed_str());
    let site = || MapSite::new(&[("/robots.txt", "404"), ("/", root)]);
    for per_host in [false, true] {
        let mut b = Config::builder()
            .root("http://h/")
            .delay(Duration::from_secs(1));
        b = if per_host {
            b.max_pages_per_host(3)
        } else {
            b.max_pages(3)
        };
        let config = b.build().unwrap();
        let alone = {
            let crawler = Crawler::new(config.clone(), site(), SkipClock::default());
            futures_executor::block_on(crawler.run(|_| {}))
        };
        let clock = SkipClock::default();
        let shared = MemoryShared::new(&clock);
        let crawler = Crawler::new(config, site(), &clock);
        let summary = futures_executor::block_on(crawler.run_shared(
            None,
            &shared,
            &WorkerOptions::new("w"),
            |_| {},
        ))
        .unwrap();
        assert_eq!(summary.urls, alone.urls, "per host {per_host}");
        assert!(
            summary.elapsed <= alone.elapsed + Duration::from_secs(1),
            "per host {per_host}: {:?} shared, {:?} alone",
            summary.elapsed,
            alone.elapsed
        );
    }
}

/// A robots.txt redirected to a URL the crawl fetched as a page already: the two are two
/// fetches, in the log as in a lone crawl, and the worker ends (found by a review: the
/// robots.txt claim was answered `Done` by the page's entry and asked again forever).
#[test]
fn a_robots_txt_redirected_to_a_page_is_a_fetch_of_its_own() {
    let site = || {
        MapSite::new(&[
            ("/", "html:/x.txt"),
            ("/x.txt", "text:no robots here"),
            ("http://g/robots.txt", "301:http://h/x.txt"),
            ("http://g/", "html:/y"),
        ])
    };
    let config = || {
        Config::builder()
            .roots(["http://h/", "http://g/"])
            .max_tasks(1)
            .build()
            .unwrap()
    };
    let lone = Crawler::new(config(), site(), SkipClock::default());
    let mut want = Vec::new();
    futures_executor::block_on(lone.run(|e| want.push((e.record.url.clone(), e.fetch))));
    want.sort();
    let clock = SkipClock::default();
    let shared = MemoryShared::new(&clock);
    let crawler = Crawler::new(config(), site(), &clock);
    let mut got = Vec::new();
    let summary = futures_executor::block_on(crawler.run_shared(
        None,
        &shared,
        &WorkerOptions::new("w"),
        |e| got.push((e.record.url.clone(), e.fetch)),
    ))
    .unwrap();
    got.sort();
    assert_eq!(got, want);
    assert!(
        got.contains(&("http://h/x.txt".into(), FetchKind::Robots)),
        "{got:?}"
    );
    assert_eq!(summary.todo, 0);
    assert_eq!(shared.log().len(), got.len());
}

/// `shared_view` counts the URLs known in scope: a link out of scope changes nothing.
#[test]
fn the_view_knows_only_urls_in_scope() {
    let known = |root: &'static str| {
        let site = || MapSite::new(&[("/robots.txt", "404"), ("/", root), ("/a", "html:")]);
        let clock = SkipClock::default();
        let shared = MemoryShared::new(&clock);
        let crawler = Crawler::new(config(), site(), &clock);
        futures_executor::block_on(crawler.run_shared(
            None,
            &shared,
            &WorkerOptions::new("w"),
            |_| {},
        ))
        .unwrap();
        let view = futures_executor::block_on(crawler.shared_view(&shared, 1)).unwrap();
        (view.known, view.summary.todo)
    };
    let inside = known("html:/a");
    assert_eq!(inside, known("html:/a http://elsewhere.test/b"));
    assert_eq!(inside.1, 0);
}
