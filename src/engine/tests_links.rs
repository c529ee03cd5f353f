//! Engine tests for link breadth: which kinds of link are followed, assets only with
//! `Config::assets`, `rel=nofollow` and `<meta name=robots>` honoured, `noindex` recorded.

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
