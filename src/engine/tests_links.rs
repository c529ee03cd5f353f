//! Engine tests for link breadth: which kinds of link are followed, assets only with
//! `Config::assets`, `rel=nofollow` and `<meta name=robots>` honoured, `noindex` recorded; links
//! read from feeds, XML documents and XHTML pages.

use super::tests::{MapSite, crawl, urls};

/// A page with one link of every kind, a `rel=nofollow` anchor, and a refresh to a page whose
/// meta robots says `noindex, nofollow`.
const SITE: &[(&str, &str)] = &[
    (
        "/",
        "raw:<!doctype html><head><link rel=next href=/next><link rel=stylesheet href=/s.css>\
         <script src=/j.js></script><meta http-equiv=refresh content='5; url=/refresh'></head>\
         <a href=/a>a</a><a href=/nf rel='external nofollow'>nf</a>\
         <img src=/i.png srcset='/i2.png 2x'><iframe src=/frame></iframe>",
    ),
    ("/next", "html:"),
    ("/a", "html:"),
    ("/nf", "html:"),
    ("/frame", "html:/also-nf"),
    (
        "/refresh",
        "raw:<meta name=robots content='NOINDEX, nofollow'><a href=/hidden>h</a>\
         <a href=/also-nf>again</a>",
    ),
    ("/hidden", "html:"),
    (
        "/also-nf",
        "raw:<link rel='canonical nofollow' href=/also-nf>",
    ),
    ("/s.css", "text:body{}"),
    ("/j.js", "text:x()"),
    ("/i.png", "text:png"),
    ("/i2.png", "text:png"),
];

#[test]
fn every_page_link_kind_is_followed_and_nofollow_is_not() {
    let site = MapSite::new(SITE);
    let (records, summary) = crawl(&site, |b| b);
    assert_eq!(
        urls(&records),
        [
            "http://h/",
            "http://h/a",
            "http://h/also-nf",
            "http://h/frame",
            "http://h/next",
            "http://h/refresh",
        ]
    );
    let root = &records[0];
    // next, refresh, a, nf, frame: the nofollow link counts as found, not as new.
    assert_eq!((root.links, root.new_links), (Some(5), Some(4)));
    let refresh = records
        .iter()
        .find(|r| r.url == "http://h/refresh")
        .unwrap();
    assert!(refresh.noindex);
    assert_eq!((refresh.links, refresh.new_links), (Some(2), Some(0)));
    assert!(records.iter().filter(|r| r.noindex).count() == 1);
    // `/nf` from the root, `/hidden` and `/also-nf` from `/refresh`; `/also-nf` was still
    // fetched, through the frame. Its canonical link to itself has `rel=nofollow` too.
    assert_eq!(summary.cuts.get(&crate::Cut::Nofollow), Some(&4));
    // With a depth limit the engine keeps each page's out-links (to pass on better depths later):
    // nofollow links are not among them, so the same pages are fetched.
    let (deep, _) = crawl(&MapSite::new(SITE), |b| b.max_depth(10));
    assert_eq!(urls(&deep), urls(&records));
}

#[test]
fn assets_are_followed_only_when_asked_for() {
    let site = MapSite::new(SITE);
    let (records, summary) = crawl(&site, |b| b.assets(true));
    let fetched = urls(&records);
    for asset in ["/s.css", "/j.js", "/i.png", "/i2.png"] {
        assert!(
            fetched.contains(&&*format!("http://h{asset}")),
            "{fetched:?}"
        );
    }
    assert_eq!(fetched.len(), 10, "{fetched:?}");
    assert_eq!(records[0].links, Some(9));
    assert_eq!(summary.other, 4);
    assert_eq!(summary.cuts.get(&crate::Cut::Nofollow), Some(&4));
}

/// A page with more links than the engine warms at a time: the same URL in two windows, an
/// href the shortcut leaves to the parser, a nofollow link and an asset in between. Every
/// link counts once per occurrence; each URL is new once and fetched once.
#[test]
fn links_across_warm_windows_count_and_dedup_as_one_list() {
    let mut html = String::from("raw:<!doctype html><body>");
    let mut pages = Vec::new();
    for i in 0..40 {
        html.push_str(&format!("<a href=/p{i}>x</a><a href='p{i}?q'>q</a>"));
        pages.push(format!("/p{i}"));
        pages.push(format!("/p{i}?q"));
        if i % 7 == 0 {
            html.push_str("<a href=/nf rel=nofollow>n</a><img src=/i.png>");
        }
    }
    // The second time round, every link is known.
    for i in (0..40).rev() {
        html.push_str(&format!("<a href=/p{i}#again>x</a>"));
    }
    // `MapSite` takes static strings; a test can leak a few.
    let mut site: Vec<(&'static str, &'static str)> = vec![("/", html.leak())];
    site.extend(pages.into_iter().map(|p| (&*p.leak(), "html:")));
    site.push(("/nf", "html:"));
    let (records, summary) = crawl(&MapSite::new(&site), |b| b);
    assert_eq!(records.len(), 81, "{:?}", urls(&records));
    assert!(!urls(&records).contains(&"http://h/nf"));
    let root = &records[0];
    // 80 + 40 followed links, and 6 nofollow ones (counted as found, not as new).
    assert_eq!((root.links, root.new_links), (Some(126), Some(80)));
    assert_eq!(summary.cuts.get(&crate::Cut::Nofollow), Some(&6));
}

/// A site whose root links to a feed of each kind, an XML document, an XHTML page and an SVG
/// image, each linking to pages of its own.
const XML_SITE: &[(&str, &str)] = &[
    (
        "/",
        "raw:<link rel=alternate type=application/atom+xml href=/atom.xml>\
         <a href=/feed.rss>rss</a><a href=/doc.xml>doc</a><a href=/page.xhtml>x</a>\
         <img src=/pic.svg>",
    ),
    (
        "/feed.rss",
        "type:application/rss+xml <?xml version='1.0'?>\
         <?xml-stylesheet type='text/xsl' href='/feed.xsl'?>\
         <rss version='2.0' xmlns:atom='http://www.w3.org/2005/Atom'><channel>\
         <link>http://h/</link><atom:link href='/feed.rss' rel='self'/>\
         <item><link>http://h/post/1</link><guid>/guid-only</guid>\
         <enclosure url='/audio.mp3' type='audio/mpeg'/></item>\
         <item><link><![CDATA[/post/2?a=1&b=2]]></link></item>\
         <item><link>http://elsewhere.example/x</link></item></channel></rss>",
    ),
    (
        "/atom.xml",
        "type:application/atom+xml <feed xmlns='http://www.w3.org/2005/Atom' xml:base='/blog/'>\
         <link href='/'/><entry><link rel='alternate' href='3'/></entry></feed>",
    ),
    (
        "/doc.xml",
        "xml:<doc><ref href='/post/1'/><ref href='/d1'/><!x><ref href='/d2'/></doc>",
    ),
    (
        "/page.xhtml",
        "type:application/xhtml+xml <html xmlns='http://www.w3.org/1999/xhtml'><head>\
         <title/><script src='/x.js'/></head><body><a href='/from-xhtml'/></body></html>",
    ),
    (
        "/pic.svg",
        "type:image/svg+xml <svg><a href='/from-svg'/></svg>",
    ),
    ("/post/1", "html:"),
    ("/post/2?a=1&b=2", "html:"),
    ("/blog/3", "html:"),
    ("/d1", "html:"),
    ("/d2", "html:"),
    ("/from-xhtml", "html:"),
];

#[test]
fn feeds_xml_and_xhtml_are_read_for_links() {
    let (records, summary) = crawl(&MapSite::new(XML_SITE), |b| b);
    assert_eq!(
        urls(&records),
        [
            "http://h/",
            "http://h/atom.xml",
            "http://h/blog/3",
            "http://h/d1",
            "http://h/doc.xml",
            "http://h/feed.rss",
            "http://h/from-xhtml",
            "http://h/page.xhtml",
            "http://h/post/1",
            "http://h/post/2?a=1&b=2",
        ]
    );
    let record = |path: &str| {
        let url = format!("http://h{path}");
        records.iter().find(|r| r.url == url).unwrap()
    };
    let links = |path: &str| (record(path).links, record(path).new_links);
    // The channel link, the self link and two items (the stylesheet is an asset, the guid and
    // the enclosure are not read); the off-site item counts as found but is not fetched.
    assert_eq!(links("/feed.rss"), (Some(5), Some(2)));
    // The feed's own link to `/`, and the entry's, resolved against the xml:base.
    assert_eq!(links("/atom.xml"), (Some(2), Some(1)));
    // The reader stops at the error and keeps the links before it; the record says why.
    assert_eq!(links("/doc.xml"), (Some(2), Some(1)));
    let error = record("/doc.xml").error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("links: xml parser failed: at byte "),
        "{error}"
    );
    // XHTML: the empty `<title/>` and `<script/>` do not hide the anchor after them.
    assert_eq!(links("/page.xhtml"), (Some(1), Some(1)));
    // HTML and XHTML pages count as HTML, XML documents as other responses.
    assert_eq!((summary.html, summary.other), (7, 3));
    // With assets, the feed's stylesheet is followed too, and the SVG image is fetched but not
    // read for links.
    let (records, _) = crawl(&MapSite::new(XML_SITE), |b| b.assets(true));
    let record = |path: &str| {
        let url = format!("http://h{path}");
        records.iter().find(|r| r.url == url).unwrap()
    };
    assert!(urls(&records).contains(&"http://h/feed.xsl"));
    assert_eq!(record("/feed.rss").links, Some(6));
    assert_eq!(record("/pic.svg").links, None);
    assert!(!urls(&records).contains(&"http://h/from-svg"));
}

#[test]
fn an_events_links_are_a_feeds_links_resolved() {
    let config = crate::Config::builder()
        .root("http://h/feed.rss")
        .robots(false)
        .max_depth(0)
        .build()
        .unwrap();
    let site = MapSite::new(XML_SITE);
    let crawler = super::Crawler::new(config, &site, super::tests::SkipClock::default());
    let mut seen = Vec::new();
    futures_executor::block_on(crawler.run(|e| {
        seen.extend(e.links().map(|l| (l.url.to_string(), l.kind, l.nofollow)));
    }));
    use crate::links::LinkKind::{Stylesheet, Xml};
    let expected = [
        ("http://h/feed.xsl", Stylesheet),
        ("http://h/", Xml),
        ("http://h/feed.rss", Xml),
        ("http://h/post/1", Xml),
        ("http://h/post/2?a=1&b=2", Xml),
        ("http://elsewhere.example/x", Xml),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(u, k)| (u.to_string(), *k, false))
        .collect();
    assert_eq!(seen, expected);
}
