//! Link breadth in the simulator (`fixtures/sites/breadth.json`): `link` rel alternate/next/prev/
//! canonical, `iframe`, meta refresh followed; assets only with `--assets`; `rel=nofollow` and
//! `<meta name=robots>` honoured, `noindex` recorded. The site's pages are raw HTML bodies, so
//! the links go through the real extractor, as on the wire.

use std::time::Duration;

use crawler::Config;
use crawler_sim::{Sim, SimRun};
use crawler_site::Site;

fn crawl(config: crawler::ConfigBuilder) -> SimRun {
    let site = Site::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/sites/breadth.json"
    ))
    .unwrap();
    let sim = Sim::builder()
        .seed(3)
        .site(site)
        .budget(Duration::from_secs(3600))
        .build()
        .unwrap();
    sim.run(&config.root("http://b.test/").build().unwrap())
        .unwrap()
}

fn paths(run: &SimRun) -> Vec<&str> {
    let mut p: Vec<&str> = run
        .records
        .iter()
        .map(|r| r.url.strip_prefix("http://b.test").unwrap())
        .collect();
    p.sort();
    p
}

const PAGES: &[&str] = &[
    "/",
    "/about",
    "/de/",
    "/de/0",
    "/de/2",
    "/moved",
    "/new-home",
    "/robots.txt",
    "/team",
    "/widget",
];

#[test]
fn page_links_of_every_kind_are_followed_but_not_nofollow() {
    let run = crawl(Config::builder());
    assert_eq!(paths(&run), PAGES);
    // `/login` and `/private` (rel=nofollow), `/widget/more` (on a page with meta robots none).
    assert_eq!(run.summary.cuts.get(&crawler::Cut::Nofollow), Some(&3));
    let noindex: Vec<&str> = run
        .records
        .iter()
        .filter(|r| r.noindex)
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(noindex, ["http://b.test/widget"]);
    let root = &run.records[1];
    assert_eq!(root.url, "http://b.test/");
    // alternate, canonical, about, login, widget, moved (assets are not even counted).
    assert_eq!((root.links, root.new_links), (Some(6), Some(4)));
}

#[test]
fn assets_are_fetched_with_the_option() {
    let run = crawl(Config::builder().assets(true));
    let mut expected: Vec<&str> = PAGES.to_vec();
    expected.extend([
        "/app.js",
        "/logo-2x.png",
        "/logo-3x.png",
        "/logo.png",
        "/site.css",
    ]);
    expected.sort();
    assert_eq!(paths(&run), expected);
    assert_eq!(run.summary.other, 5);
    assert_eq!(run.summary.cuts.get(&crawler::Cut::Nofollow), Some(&3));
    // The same seed gives the same crawl, event for event.
    assert_eq!(
        run.trace_hash,
        crawl(Config::builder().assets(true)).trace_hash
    );
}
