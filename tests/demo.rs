//! `crawl demo`: the embedded site served over real HTTP and crawled by the real binary gives the
//! same records as the same engine crawling the same site model in memory, with no HTTP at all.
//! That checks the demo server, the transport and the site model against each other.

mod support;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;

use clap::Parser;
use crawl::app::Cli;
use crawl::demo::SITE_JSON;
use crawler::{Clock, Crawler, FetchError, FetchErrorKind, Record, Request, Response, Transport};
use crawler_site::{self as site, Scripted, Site};

/// The site model served straight from memory, scripts included.
struct InMemory {
    site: Site,
    counts: RefCell<Vec<u64>>,
}

impl Transport for InMemory {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        let url = request.url.as_str();
        let Some(i) = self.site.find(url) else {
            return Ok(self.site.generate(url).unwrap_or_else(site::not_found));
        };
        let n = {
            let mut counts = self.counts.borrow_mut();
            counts[i] += 1;
            counts[i] - 1
        };
        let page = self.site.page(i);
        match page.scripted(n) {
            None | Some(Scripted::Ok) => Ok(page.response()),
            Some(Scripted::Status(s)) => Ok(Response::new(s)),
            Some(Scripted::Drop) => Err(FetchError::new(FetchErrorKind::Timeout, "dropped")),
            Some(_) => Err(FetchError::new(FetchErrorKind::Reset, "reset")),
        }
    }
}

/// Virtual time: a timer fires at once and moves the clock to its end, so retries wait no real
/// time. (The in-memory fetches finish on their first poll, before any timeout is looked at.)
#[derive(Default)]
struct Jumping(Cell<Duration>);

impl Clock for Jumping {
    fn now(&self) -> Duration {
        self.0.get()
    }
    async fn sleep(&self, duration: Duration) {
        self.0.set(self.0.get() + duration);
    }
}

/// What must not depend on timing or transport, by URL.
fn essentials(records: &[Record]) -> BTreeMap<String, String> {
    records
        .iter()
        .map(|r| {
            let what = format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} tries={}",
                r.status, r.location, r.content_type, r.size, r.links, r.error, r.tries
            );
            (r.url.clone(), what)
        })
        .collect()
}

#[test]
fn the_demo_crawl_matches_the_site_model() {
    let jsonl = support::out_path("demo");
    let out = support::run(&["--jsonl", jsonl.to_str().unwrap(), "demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // "crawl demo: serving 370 pages at http://127.0.0.1:PORT/"
    let origin = stderr
        .lines()
        .find_map(|l| l.strip_prefix("crawl demo: serving "))
        .and_then(|l| l.split(" pages at ").nth(1))
        .map(|o| o.trim_end_matches('/').to_string())
        .unwrap_or_else(|| panic!("no demo origin in {stderr}"));
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    let real = support::records(&jsonl);

    // The oracle: the same engine and options, the same site, served from memory.
    let site = Site::from_json(&SITE_JSON.replace("http://demo.test", &origin)).unwrap();
    let cli = Cli::parse_from(["crawl", "demo"]);
    let config = cli.crawl.config_with_roots(site.roots()).unwrap();
    let transport = InMemory {
        counts: RefCell::new(vec![0; site.pages().len()]),
        site,
    };
    let crawler = Crawler::new(config, transport, Jumping::default());
    let mut model = Vec::new();
    futures_executor::block_on(crawler.run(|e| model.push(e.record.clone())));

    assert_eq!(real.len(), model.len());
    assert_eq!(essentials(&real), essentials(&model));

    // And it is the site it claims to be: redirects, a loop, 404s, assets, robots.txt.
    let by_path: BTreeMap<String, &Record> = real
        .iter()
        .map(|r| (r.url.strip_prefix(&origin).unwrap().to_string(), r))
        .collect();
    assert!(real.len() > 300, "{} urls", real.len());
    assert_eq!(by_path["/robots.txt"].status, Some(200));
    assert_eq!(by_path["/loop/a"].status, Some(302));
    assert_eq!(
        by_path["/loop/b"].location.as_deref(),
        Some(&*format!("{origin}/loop/a"))
    );
    assert_eq!(by_path["/flaky"].tries, 2);
    assert_eq!(by_path["/wobbly"].tries, 2);
    assert_eq!(by_path["/hidden/orphan.html"].status, Some(200)); // from the sitemap only
    assert_eq!(
        by_path["/files/catalogue.pdf"].content_type.as_deref(),
        Some("application/pdf")
    );
    assert!(
        !by_path.contains_key("/private/admin"),
        "robots.txt disallows it"
    );
    let statuses: Vec<u16> = real.iter().filter_map(|r| r.status).collect();
    for status in [301, 302, 307, 404, 410] {
        assert!(statuses.contains(&status), "no {status}");
    }
    assert!(
        real.iter().all(|r| r.url.starts_with(&origin)),
        "left the demo host"
    );
    assert!(
        stdout.contains(&format!("Finished {} urls in", real.len())),
        "{stdout}"
    );
}
