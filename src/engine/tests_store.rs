//! Engine tests of replay: a crawl over a store redoes what an earlier run kept, each URL as
//! the kind of fetch it was, whatever order the replay comes to it in.

use super::tests::{MapSite, SkipClock, requests};
use crate::{Config, Crawler, FetchKind, MemoryStore, Store, Summary};

/// Crawls `site` from `roots` (robots.txt on, one fetch at a time) over `store`: the URLs
/// fetched (not replayed), the URLs replayed with their kind, and the summary.
fn crawl_over(
    site: &MapSite,
    roots: &[&str],
    store: &mut dyn Store,
) -> (Vec<String>, Vec<(String, FetchKind)>, Summary) {
    let config = Config::builder()
        .roots(roots.iter().copied())
        .max_tasks(1)
        .build()
        .unwrap();
    let crawler = Crawler::new(config, site, SkipClock::default());
    let (mut fetched, mut replayed) = (Vec::new(), Vec::new());
    let summary =
        futures_executor::block_on(crawler.run_with_store(None, store, |e| match e.replayed {
            true => replayed.push((e.record.url.clone(), e.fetch)),
            false => fetched.push(e.record.url.clone()),
        }));
    (fetched, replayed, summary)
}

fn timeless(mut s: Summary) -> Summary {
    s.elapsed = std::time::Duration::ZERO;
    s
}

/// A sitemap kept by the first run and reached through a page link first by the replay is
/// replayed as a sitemap, not a page, so the pages it lists are still found (found by a
/// review: it was replayed as a page, and a page only it listed was never fetched).
#[test]
fn a_kept_sitemap_reached_as_a_link_first_is_replayed_as_a_sitemap() {
    let site = MapSite::new(&[
        ("/robots.txt", "text:User-agent: *|Sitemap: http://h/s.xml"),
        ("http://g/", "html:http://h/s.xml"),
        ("/", "html:"),
        (
            "/s.xml",
            "xml:<urlset><url><loc>http://h/p</loc></url></urlset>",
        ),
        ("/p", "html:"),
    ]);
    let roots = ["http://g/", "http://h/"];
    let mut store = MemoryStore::default();
    let (fetched, _, first) = crawl_over(&site, &roots, &mut store);
    assert!(fetched.contains(&"http://h/p".to_string()), "{fetched:?}");
    assert_eq!(first.sitemaps, 1);
    // Killed before the listed page was kept.
    let mut survived = MemoryStore::default();
    for kept in store.iter().filter(|k| k.record.url != "http://h/p") {
        survived.keep(kept.clone());
    }
    let (fetched, replayed, second) = crawl_over(&site, &roots, &mut survived);
    assert_eq!(fetched, ["http://h/p"]);
    assert!(
        replayed.contains(&("http://h/s.xml".to_string(), FetchKind::Sitemap)),
        "{replayed:?}"
    );
    assert_eq!(timeless(second), timeless(first));
}

/// A root that is also its host's robots.txt is replayed once, as the robots.txt it was.
#[test]
fn a_robots_txt_root_is_replayed_once_as_robots_txt() {
    let site = MapSite::new(&[("/robots.txt", "text:User-agent: *"), ("/a", "html:")]);
    let roots = ["http://h/robots.txt", "http://h/a"];
    let mut store = MemoryStore::default();
    let (fetched, _, first) = crawl_over(&site, &roots, &mut store);
    assert_eq!(fetched, ["http://h/robots.txt", "http://h/a"]);
    let requests_before = requests(&site).len();
    let (fetched, replayed, second) = crawl_over(&site, &roots, &mut store);
    assert!(fetched.is_empty(), "{fetched:?}");
    assert_eq!(
        replayed,
        [
            ("http://h/robots.txt".to_string(), FetchKind::Robots),
            ("http://h/a".to_string(), FetchKind::Page)
        ]
    );
    assert_eq!(
        requests(&site).len(),
        requests_before,
        "nothing fetched again"
    );
    assert_eq!(timeless(second), timeless(first));
}
