//! `Location` handling, end to end: the root answers a redirect whose `Location` header is the
//! fuzzer's text (after a first line that moves the root's path). The engine must record the
//! target exactly as `normalize::resolve` gives it (or say the location is unusable), fetch an
//! in-scope target once, and end.
#![no_main]

use crawler::normalize::resolve;
use crawler::{Config, Response};
use crawler_fuzz::{Serve, assert_once, crawl, html};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, location) = text.split_once('\n').unwrap_or(("/a/b", text));
    let Some(root) = resolve(&Url::parse("http://h.test/").unwrap(), path) else {
        return;
    };
    let config = Config::builder()
        .root(root.as_str())
        .robots(false)
        .max_tries(1)
        .build()
        .expect("a normalised root is valid");
    let root = config.roots()[0].clone();
    let scope = config.scope();
    let location = location.to_string();
    let answer = {
        let (root, location) = (root.clone(), location.clone());
        move |url: &Url| {
            if *url == root {
                Response::new(301).with_header("location", location.as_str())
            } else {
                html(&[])
            }
        }
    };
    let (records, summary) = crawl(config, Serve(answer));
    assert_once(&records);
    let first = records
        .iter()
        .find(|r| r.url == root.as_str())
        .expect("the root");
    let target = resolve(&root, &location);
    assert_eq!(
        first.location.as_deref(),
        target.as_ref().map(Url::as_str),
        "location {location:?}"
    );
    match target {
        Some(target) => {
            let fetched = records.iter().any(|r| r.url == target.as_str());
            if target == root || fetched {
                assert!(scope.allows(&target), "fetched out of scope: {target}");
            } else {
                // In scope but not fetched: only a spider-trap rule may have cut it.
                let cuts: u64 = summary.cuts.values().sum();
                assert!(!scope.allows(&target) || cuts > 0, "not fetched: {target}");
            }
        }
        None => assert_eq!(records.len(), 1),
    }
});
