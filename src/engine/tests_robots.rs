//! Engine tests for the crawl's own fetches: robots.txt first (once per host, its rules and
//! redirects), and sitemaps (named by robots.txt or the user, redirected, listed).

use std::time::Duration;

use super::tests::{MapSite, crawl, requests};

#[test]
fn robots_txt_comes_first_once_and_its_rules_hold() {
    let site = MapSite::new(&[
        (
            "/robots.txt",
            "text:User-agent: *|Disallow: /private|Crawl-delay: 3",
        ),
        ("/", "html:/a /private/x /robots.txt"),
        ("/a", "html:/"),
    ]);
    let (records, summary) = crawl(&site, |b| b.robots(true));
    assert_eq!(
        requests(&site),
        ["http://h/robots.txt", "http://h/", "http://h/a"]
    );
    assert_eq!(summary.cuts.get(&crate::Cut::Robots), Some(&1));
    assert_eq!(summary.robots, 1);
    assert_eq!(records.len(), 3);
    // Crawl-delay 3 s between the three requests.
    assert_eq!(summary.elapsed, Duration::from_secs(6));
    // The cap applies.
    let (_, summary) = crawl(&site, |b| {
        b.robots(true).max_crawl_delay(Duration::from_secs(1))
    });
    assert_eq!(summary.elapsed, Duration::from_secs(2));
}

#[test]
fn an_unavailable_robots_txt_means_disallow_all() {
    let site = MapSite::new(&[("/robots.txt", "503"), ("/", "html:/a")]);
    let (records, summary) = crawl(&site, |b| b.robots(true).max_tries(2));
    assert_eq!(
        requests(&site),
        ["http://h/robots.txt", "http://h/robots.txt"]
    );
    assert_eq!(records.len(), 1);
    assert_eq!(summary.cuts.get(&crate::Cut::RobotsUnavailable), Some(&1));
}

#[test]
fn hosts_sharing_a_redirected_robots_txt_fetch_it_once() {
    let site = MapSite::new(&[
        ("/robots.txt", "301:https://h/robots.txt"),
        (
            "https://h/robots.txt",
            "text:User-agent: crawler|Disallow: /no",
        ),
        ("/", "html:https://h/a https://h/no"),
        ("https://h/a", "html:"),
    ]);
    let (records, summary) = crawl(&site, |b| b.robots(true));
    assert_eq!(
        requests(&site),
        [
            "http://h/robots.txt",
            "https://h/robots.txt",
            "http://h/",
            "https://h/a"
        ]
    );
    assert_eq!(records.len(), 4);
    assert_eq!(summary.cuts.get(&crate::Cut::Robots), Some(&1));
    let first = records
        .iter()
        .find(|r| r.url == "http://h/robots.txt")
        .unwrap();
    assert_eq!(first.location.as_deref(), Some("https://h/robots.txt"));
}

#[test]
fn sitemaps_from_robots_and_from_the_user_feed_the_frontier() {
    let site = MapSite::new(&[
        (
            "/robots.txt",
            "text:Sitemap: /index.xml|Sitemap: http://other/s.xml",
        ),
        ("/", "html:"),
        (
            "/index.xml",
            "xml:<sitemapindex><sitemap><loc>/s1.xml</loc></sitemap></sitemapindex>",
        ),
        (
            "/s1.xml",
            "xml:<urlset><url><loc>/hidden</loc></url><url><loc>http://other/x</loc></url></urlset>",
        ),
        (
            "/named.xml",
            "xml:<urlset><url><loc>/also</loc></url><url><loc>/hidden</loc></url></urlset>",
        ),
        ("/hidden", "html:"),
        ("/also", "html:/"),
    ]);
    let (records, summary) = crawl(&site, |b| b.robots(true).sitemap("http://h/named.xml"));
    let mut got = requests(&site);
    got.sort();
    assert_eq!(
        got,
        [
            "http://h/",
            "http://h/also",
            "http://h/hidden",
            "http://h/index.xml",
            "http://h/named.xml",
            "http://h/robots.txt",
            "http://h/s1.xml",
        ]
    );
    assert_eq!(summary.sitemaps, 3);
    let s1 = records.iter().find(|r| r.url == "http://h/s1.xml").unwrap();
    assert_eq!((s1.links, s1.error.as_deref()), (Some(2), None));
}

#[test]
fn a_sitemap_s_redirect_is_followed_within_max_redirect_and_recorded() {
    let site = MapSite::new(&[
        ("/robots.txt", "text:Sitemap: /old.xml"),
        ("/", "html:"),
        ("/old.xml", "301:/moved.xml"),
        (
            "/moved.xml",
            "xml:<urlset><url><loc>/listed</loc></url></urlset>",
        ),
        ("/loop.xml", "302:/loop.xml"),
        ("/away.xml", "302:http://other/s.xml"),
        ("/nowhere.xml", "302:http://["),
        ("/a.xml", "302:/b.xml"),
        ("/b.xml", "302:/c.xml"),
        (
            "/c.xml",
            "xml:<urlset><url><loc>/never</loc></url></urlset>",
        ),
    ]);
    let (records, summary) = crawl(&site, |b| {
        b.robots(true)
            .sitemap("http://h/loop.xml")
            .sitemap("http://h/a.xml")
            .sitemap("http://h/away.xml")
            .sitemap("http://h/nowhere.xml")
            .max_redirect(1)
    });
    let record = |url: &str| records.iter().find(|r| r.url == url).unwrap();
    let old = record("http://h/old.xml");
    assert_eq!(old.location.as_deref(), Some("http://h/moved.xml"));
    assert_eq!(record("http://h/moved.xml").links, Some(1));
    assert!(requests(&site).contains(&"http://h/listed".to_string()));
    // A redirect to itself ends: the URL is known. A chain is cut after max_redirect hops.
    assert_eq!(
        requests(&site)
            .iter()
            .filter(|u| u.ends_with("/loop.xml"))
            .count(),
        1
    );
    let b = record("http://h/b.xml");
    assert_eq!(b.location.as_deref(), Some("http://h/c.xml"));
    assert!(
        b.error
            .as_deref()
            .unwrap()
            .contains("max_redirect (1) reached"),
        "{:?}",
        b.error
    );
    assert!(!requests(&site).contains(&"http://h/c.xml".to_string()));
    let away = record("http://h/away.xml");
    assert_eq!(
        away.error.as_deref(),
        Some("sitemap: redirect not followed: host out of scope")
    );
    assert!(
        !requests(&site)
            .iter()
            .any(|u| u.starts_with("http://other/"))
    );
    let nowhere = record("http://h/nowhere.xml");
    assert_eq!(
        (nowhere.location.as_deref(), nowhere.error.as_deref()),
        (
            None,
            Some("sitemap: redirect with unusable location \"http://[\"")
        )
    );
    assert_eq!(summary.sitemaps, 7);
}

#[test]
fn a_robots_redirect_chain_cut_at_its_limit_says_so() {
    let mut pages = vec![("/", "html:/private")];
    // /robots.txt -> /r1 -> ... -> /r6: one hop more than RFC 9309's five.
    let hops = [
        ("/robots.txt", "301:/r1"),
        ("/r1", "301:/r2"),
        ("/r2", "301:/r3"),
        ("/r3", "301:/r4"),
        ("/r4", "301:/r5"),
        ("/r5", "301:/r6"),
        ("/r6", "text:User-agent: *|Disallow: /private"),
    ];
    pages.extend(hops);
    let site = MapSite::new(&pages);
    let (records, _) = crawl(&site, |b| b.robots(true));
    let last = records.iter().find(|r| r.url == "http://h/r5").unwrap();
    assert_eq!(last.location.as_deref(), Some("http://h/r6"));
    assert_eq!(
        last.error.as_deref(),
        Some("robots.txt: redirect not followed after 5 hops: all allowed")
    );
    assert!(requests(&site).contains(&"http://h/private".to_string()));
    assert!(!requests(&site).contains(&"http://h/r6".to_string()));
    let site = MapSite::new(&[("/robots.txt", "302:http://["), ("/", "html:")]);
    let (records, _) = crawl(&site, |b| b.robots(true));
    let robots = records
        .iter()
        .find(|r| r.url == "http://h/robots.txt")
        .unwrap();
    assert_eq!(
        (robots.location.as_deref(), robots.error.as_deref()),
        (
            None,
            Some("robots.txt: redirect with unusable location \"http://[\": all allowed")
        )
    );
}
