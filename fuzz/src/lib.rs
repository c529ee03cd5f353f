//! Helpers shared by the fuzz targets: a transport that answers from a function, and a crawl of
//! the real engine in virtual time (the simulator's clock and executor), so a target can drive
//! whole crawls through the public API with the fuzzer's bytes as the server's answers.
#![forbid(unsafe_code)]

use std::time::Duration;

use crawler::{Config, Crawler, FetchError, Record, Request, Response, Summary, Transport};
use crawler_sim::{Executor, VirtualClock};
use url::Url;

/// A transport whose server is a function of the URL.
pub struct Serve<F>(pub F);

impl<F: Fn(&Url) -> Response> Transport for Serve<F> {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        Ok((self.0)(&request.url))
    }
}

/// Crawls with `config` over `transport` in virtual time; panics if the crawl does not end
/// within a virtual week (every target's crawl is bounded far below that).
pub fn crawl<T: Transport>(config: Config, transport: T) -> (Vec<Record>, Summary) {
    let clock = VirtualClock::new();
    let crawler = Crawler::new(config, transport, clock.clone());
    let mut executor = Executor::new(clock, Duration::from_secs(7 * 24 * 3600), 0);
    let mut records = Vec::new();
    let summary = executor
        .block_on(crawler.run(|e| records.push(e.record.clone())))
        .expect("the crawl ends");
    (records, summary)
}

/// An HTML page linking to `hrefs`.
pub fn html(hrefs: &[String]) -> Response {
    Response::new(200)
        .with_header("content-type", "text/html")
        .with_body(crawler_site::render_html(hrefs, None, None))
}

/// Asserts that no URL has two records.
pub fn assert_once(records: &[Record]) {
    let mut urls: Vec<&str> = records.iter().map(|r| r.url.as_str()).collect();
    urls.sort_unstable();
    for pair in urls.windows(2) {
        assert_ne!(pair[0], pair[1], "two records for one url");
    }
}
