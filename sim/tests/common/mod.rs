//! What "the replay reproduces the crawl" means, field by field, shared by the replay tests,
//! the property tests and the fixture tests.
//!
//! A replay must give every URL the outcome the recorded crawl gave it: the same status,
//! redirect target, tries, media type, size, link count and truncation, and for a URL that got
//! no response the same error. Timing is left aside: `depth` and `new_links` say which page
//! first found a link, and a redirect's error (`redirect limit reached`) whether the first path
//! to reach it had hops left, both of which depend on the order answers arrived in.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::collections::{BTreeMap, BTreeSet};

use crawler::Record;

/// The parts of a record a replay must reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub status: Option<u16>,
    pub location: Option<String>,
    pub error: Option<String>,
    pub tries: u32,
    pub content_type: Option<String>,
    pub size: Option<u64>,
    pub links: Option<u32>,
    pub truncated: bool,
}

impl Seen {
    pub fn of(r: &Record) -> Seen {
        Seen {
            status: r.status,
            location: r.location.clone(),
            error: r.status.is_none().then(|| r.error.clone()).flatten(),
            tries: r.tries,
            content_type: r.content_type.clone(),
            size: r.size,
            links: r.links,
            truncated: r.truncated,
        }
    }
}

/// Records by URL; two records for one URL are an error.
pub fn by_url(records: &[Record]) -> Result<BTreeMap<&str, &Record>, String> {
    let mut map = BTreeMap::new();
    for r in records {
        if map.insert(r.url.as_str(), r).is_some() {
            return Err(format!("two records for {}", r.url));
        }
    }
    Ok(map)
}

/// `Ok` when `replayed` has exactly the URLs of `recorded`, each with the same outcome; else
/// every difference, one per line.
pub fn same_outcomes(recorded: &[Record], replayed: &[Record]) -> Result<(), String> {
    let (want, got) = (by_url(recorded)?, by_url(replayed)?);
    let mut problems = Vec::new();
    for url in want.keys().filter(|u| !got.contains_key(*u)) {
        problems.push(format!("{url}: recorded, not fetched by the replay"));
    }
    for url in got.keys().filter(|u| !want.contains_key(*u)) {
        problems.push(format!("{url}: fetched by the replay, not recorded"));
    }
    for (url, r) in &want {
        if let Some(g) = got.get(url) {
            let (a, b) = (Seen::of(r), Seen::of(g));
            if a != b {
                problems.push(format!("{url}: recorded {a:?}, replayed {b:?}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// `Ok` when every URL of `replayed` is in `recorded` with the same status (and redirect
/// target): what a replay with narrower options must give.
pub fn subset(recorded: &[Record], replayed: &[Record]) -> Result<(), String> {
    let (want, got) = (by_url(recorded)?, by_url(replayed)?);
    let mut problems = Vec::new();
    for (url, g) in &got {
        match want.get(url) {
            None => problems.push(format!("{url}: fetched by the replay, not recorded")),
            Some(r) if (r.status, &r.location) != (g.status, &g.location) => {
                problems.push(format!(
                    "{url}: recorded {:?} {:?}, replayed {:?} {:?}",
                    r.status, r.location, g.status, g.location
                ))
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The URLs of `records`, sorted.
pub fn urls(records: &[Record]) -> BTreeSet<&str> {
    records.iter().map(|r| r.url.as_str()).collect()
}
