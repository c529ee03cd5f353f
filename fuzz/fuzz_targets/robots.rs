//! robots.txt, through the engine: the fuzzer's bytes are the host's robots.txt, the root links
//! to the paths the file names (and a few fixed ones). The engine must fetch exactly the links
//! that `texting_robots` (the parser it uses) allows for its agent, fetch robots.txt once, and
//! end (whatever `Crawl-delay` says).
#![no_main]

use crawler::{Config, Cut, Response};
use crawler_fuzz::{Serve, assert_once, crawl, html};
use libfuzzer_sys::fuzz_target;
use texting_robots::Robot;
use url::Url;

const FIXED: [&str; 6] = [
    "/a",
    "/private/x",
    "/x.pdf",
    "/q?session=1",
    "/%7Euser",
    "/A/b/",
];

fuzz_target!(|data: &[u8]| {
    // The paths the file names (`Allow: /x`, `Disallow: /y*`), as links, plus a few fixed ones.
    let text = String::from_utf8_lossy(data);
    let mut hrefs: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    for line in text.lines() {
        if let Some((_, path)) = line.split_once(':') {
            let path = path.trim().replace(['*', '$'], "");
            // HTML parsing rewrites NUL and CR in an href; control characters are left out.
            let plain = !path.contains(|c: char| c.is_ascii_control());
            if path.starts_with('/') && plain && hrefs.len() < 64 {
                hrefs.push(path);
            }
        }
    }
    let robots = data.to_vec();
    let links = hrefs.clone();
    let answer = move |url: &Url| match url.path() {
        "/robots.txt" => Response::new(200)
            .with_header("content-type", "text/plain")
            .with_body(robots.clone()),
        "/" => html(&links),
        _ => html(&[]),
    };
    let config = Config::builder()
        .root("http://h.test/")
        .max_tries(1)
        .build()
        .unwrap();
    let agent = crawler::DEFAULT_USER_AGENT.split('/').next().unwrap();
    let root = config.roots()[0].clone();
    let (records, summary) = crawl(config, Serve(answer));
    assert_once(&records);
    assert_eq!(records[0].url, "http://h.test/robots.txt");
    let robot = Robot::new(agent, data).ok();
    let allowed = |u: &Url| robot.as_ref().is_none_or(|r| r.allowed(u.as_str()));
    let fetched = |u: &Url| records.iter().any(|r| r.url == u.as_str());
    assert_eq!(fetched(&root), allowed(&root), "the root");
    if !allowed(&root) {
        return;
    }
    for href in &hrefs {
        let Some(url) = crawler::normalize::resolve(&root, href) else {
            continue;
        };
        if url.host_str() != Some("h.test") {
            continue; // `//other/x`: out of scope
        }
        if fetched(&url) {
            assert!(allowed(&url), "fetched, but robots.txt forbids it: {url}");
        } else {
            // Allowed but not fetched: only a spider-trap rule may have cut it.
            let traps: u64 = [Cut::UrlLength, Cut::PathDepth, Cut::RepeatedSegment]
                .iter()
                .filter_map(|k| summary.cuts.get(k))
                .sum();
            assert!(
                !allowed(&url) || traps > 0,
                "allowed, but not fetched: {url}"
            );
        }
    }
});
