//! A transport of one's own around the real one: a cache, so crawling a site a second time asks
//! the network for nothing it answered before.
//!
//! ```text
//! cargo run --release --example custom_transport -- http://127.0.0.1:8080/
//! ```
//!
//! The engine is generic over [`Transport`]: anything that turns a [`Request`] into a
//! [`Response`] (or a [`FetchError`]) will do. Here the real [`SurfTransport`] is wrapped by a
//! [`Cache`] that keeps every response by URL and marks the ones it serves itself with an
//! `x-cache: hit` header field. The crawl runs twice with the same cache; the second run makes
//! no request at all and reports the same pages. Failures, 5xx and 429 are not kept, so they are
//! tried again (by the engine's retries, and by the next run).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error;
use std::process::ExitCode;

use crawler::{Config, Crawler, FetchError, Record, Request, Response, Transport};
use crawler_http::{HttpOptions, RealClock, SurfTransport};

/// Keeps the responses `inner` gave, by URL, and answers from them when asked again.
#[derive(Debug)]
pub struct Cache<T> {
    inner: T,
    /// Responses by URL. Interior mutability is enough: the engine runs on one thread and
    /// `fetch` takes `&self`.
    kept: RefCell<HashMap<String, Response>>,
    /// Requests that went to `inner`.
    misses: Cell<u64>,
}

impl<T> Cache<T> {
    /// An empty cache in front of `inner`.
    pub fn new(inner: T) -> Self {
        Cache {
            inner,
            kept: RefCell::default(),
            misses: Cell::new(0),
        }
    }

    /// Requests that were passed on to the inner transport so far.
    pub fn misses(&self) -> u64 {
        self.misses.get()
    }
}

impl<T: Transport> Transport for Cache<T> {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        let key = request.url.to_string();
        if let Some(kept) = self.kept.borrow().get(&key) {
            return Ok(kept.clone().with_header("x-cache", "hit"));
        }
        self.misses.set(self.misses.get() + 1);
        // No borrow is held across this await: another fetch may use the cache meanwhile.
        let response = self.inner.fetch(request).await?;
        // 5xx and 429 are retried by the engine, through this transport: kept, they would
        // answer the retries too.
        if !(response.status >= 500 || response.status == 429) {
            self.kept.borrow_mut().insert(key, response.clone());
        }
        Ok(response)
    }
}

/// One crawl through the cache.
#[derive(Debug)]
pub struct Run {
    /// Its records, sorted by URL.
    pub records: Vec<Record>,
    /// Requests it sent to the network.
    pub requests: u64,
}

/// Crawls from `root` twice through one cache.
pub fn crawl_twice(root: &str) -> Result<[Run; 2], Box<dyn Error>> {
    let config = Config::builder().root(root).build()?;
    let cache = Cache::new(SurfTransport::new(HttpOptions::default())?);
    let mut runs = Vec::new();
    for _ in 0..2 {
        let before = cache.misses();
        let crawler = Crawler::new(config.clone(), &cache, RealClock::new());
        let mut records = Vec::new();
        async_std::task::block_on(crawler.run(|event| records.push(event.record.clone())));
        records.sort_by(|a, b| a.url.cmp(&b.url));
        let requests = cache.misses() - before;
        runs.push(Run { records, requests });
    }
    let [first, second] = <[_; 2]>::try_from(runs).expect("two runs");
    Ok([first, second])
}

fn main() -> ExitCode {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: custom_transport URL");
        return ExitCode::from(2);
    };
    match crawl_twice(&root) {
        Ok(runs) => {
            for (name, run) in ["first", "second"].iter().zip(&runs) {
                let (urls, requests) = (run.records.len(), run.requests);
                println!("{name} crawl: {urls} urls, {requests} requests over the network");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("custom_transport: {e}");
            ExitCode::FAILURE
        }
    }
}
