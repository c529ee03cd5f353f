//! Crawl configuration: a builder with documented defaults, validated once.
//!
//! Every option the command line and the simulator share lives here, so a simulated crawl and a
//! real one run with exactly the same rules. [`ConfigBuilder::build`] checks everything a user can
//! get wrong and returns a [`ConfigError`]; nothing here panics on bad input.
//!
//! ```
//! use std::time::Duration;
//! let config = crawler::Config::builder()
//!     .root("http://example.com/")
//!     .max_tasks(10)
//!     .timeout(Duration::from_secs(5))
//!     .exclude(r"\.pdf$")
//!     .build()
//!     .unwrap();
//! assert_eq!(config.max_redirect(), 10);
//! assert!(crawler::Config::builder().build().is_err()); // no roots
//! ```

mod builder;

use std::time::Duration;

use regex::Regex;
use url::Url;

use crate::normalize::Canon;
use crate::scope::{Scope, ScopeMode};

pub use builder::{ConfigBuilder, ConfigError, DEFAULT_USER_AGENT};

/// A validated crawl configuration. Make one with [`Config::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where the crawl starts; normalised, at least one.
    pub(crate) roots: Vec<Url>,
    /// Fetches in flight at once. Default: 100.
    pub(crate) max_tasks: usize,
    /// Redirect hops followed from one link before the chain is cut. Default: 10.
    pub(crate) max_redirect: u32,
    /// Attempts per URL (the first try included) on transport errors, 5xx and 429. Default: 4.
    pub(crate) max_tries: u32,
    /// Per-try timeout, measured on the crawl's clock. Default: 30 s.
    pub(crate) timeout: Duration,
    /// Backoff before the second try; doubled for each later try. Default: 500 ms.
    pub(crate) backoff: Duration,
    /// Upper bound on one backoff. Default: 30 s.
    pub(crate) max_backoff: Duration,
    /// Host scope. Default: [`ScopeMode::Strict`].
    pub(crate) scope: ScopeMode,
    /// URLs matching this are not fetched. Default: none.
    pub(crate) exclude: Option<Regex>,
    /// Stop taking new URLs once this many have been started. Default: unlimited.
    pub(crate) max_pages: Option<u64>,
    /// Follow links at most this many hops from a root (redirects do not count). Default:
    /// unlimited.
    pub(crate) max_depth: Option<u32>,
    /// Sort query parameters when normalising URLs (see [`crate::normalize`]). Default: off.
    pub(crate) sort_query: bool,
    /// Requests in flight to one host (origin) at once. Default: no cap beyond `max_tasks`.
    pub(crate) max_per_host: Option<usize>,
    /// Minimum time between the starts of two requests to one host. Default: 0.
    pub(crate) delay: Duration,
    /// The longest `Retry-After` (429/503) waited on; one longer ends the URL's tries at once,
    /// and its record says so. Default: 60 s.
    pub(crate) max_retry_after: Duration,
    /// Seed of the crawl's random choices (retry jitter). Default: 0. The simulator replaces it
    /// with the run's own seed (see [`Config::with_seed`]).
    pub(crate) seed: u64,
    /// Longer URLs are not fetched (spider trap). Default: 2048 bytes.
    pub(crate) max_url_length: usize,
    /// URLs whose path has more segments are not fetched (spider trap). Default: 32.
    pub(crate) max_path_segments: usize,
    /// URLs with a path segment occurring more often are not fetched (spider trap). Default: 3.
    pub(crate) max_segment_repeats: usize,
    /// Fetch at most this many URLs of one host. Default: unlimited.
    pub(crate) max_pages_per_host: Option<u64>,
    /// Fetch and obey each host's robots.txt before its first page. Default: on.
    pub(crate) robots: bool,
    /// The `User-Agent` the crawler presents; its product token (before `/`) is what robots.txt
    /// groups are matched against. Default: `crawler/<version>`.
    pub(crate) user_agent: String,
    /// Upper bound on a robots.txt `Crawl-delay`. Default: 10 s.
    pub(crate) max_crawl_delay: Duration,
    /// Sitemaps to read at the start (robots.txt may name more). Default: none.
    pub(crate) sitemaps: Vec<Url>,
    /// Ask the transport for page bodies only when the engine reads them for links (HTML, XHTML,
    /// and XML documents and feeds: [`links::format_of`](crate::links::format_of)): other
    /// responses may come back with their head alone (see
    /// [`Request::html_body_only`](crate::Request::html_body_only)). robots.txt and sitemaps are
    /// always read whole. Default: off.
    pub(crate) html_bodies_only: bool,
    /// Follow links to page assets too: `img` `src`/`srcset`, `script` `src`, stylesheet
    /// `link`s (see [`crate::links`]). Default: off.
    pub(crate) assets: bool,
}

impl Config {
    /// A builder holding the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The same configuration with the seed of the engine's random choices (retry jitter) set
    /// to `seed`: the simulator gives the engine its own seed this way, so one seed decides a
    /// whole simulated run.
    pub fn with_seed(mut self, seed: u64) -> Config {
        self.seed = seed;
        self
    }

    /// Where the crawl starts; normalised, at least one.
    pub fn roots(&self) -> &[Url] {
        &self.roots
    }

    /// Fetches in flight at once. Default: 100.
    pub fn max_tasks(&self) -> usize {
        self.max_tasks
    }

    /// Redirect hops followed from one link before the chain is cut. Default: 10.
    pub fn max_redirect(&self) -> u32 {
        self.max_redirect
    }

    /// Attempts per URL (the first try included) on transport errors, 5xx and 429. Default: 4.
    pub fn max_tries(&self) -> u32 {
        self.max_tries
    }

    /// Per-try timeout, measured on the crawl's clock. Default: 30 s.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Backoff before the second try; doubled for each later try. Default: 500 ms.
    pub fn backoff(&self) -> Duration {
        self.backoff
    }

    /// Upper bound on one backoff. Default: 30 s.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// Host scope. Default: [`ScopeMode::Strict`].
    pub fn scope_mode(&self) -> ScopeMode {
        self.scope
    }

    /// URLs matching this are not fetched. Default: none.
    pub fn exclude(&self) -> Option<&Regex> {
        self.exclude.as_ref()
    }

    /// Stop taking new URLs once this many have been started. Default: unlimited.
    pub fn max_pages(&self) -> Option<u64> {
        self.max_pages
    }

    /// The same configuration without `max_pages` and `max_pages_per_host`: what a worker of
    /// a shared crawl admits with, the shared state holding the page limits for the crawl
    /// (see [`crate::shared`], *Page places*).
    pub(crate) fn without_page_limits(&self) -> Config {
        Config {
            max_pages: None,
            max_pages_per_host: None,
            ..self.clone()
        }
    }

    /// Follow links at most this many hops from a root (redirects do not count). Default:
    /// unlimited.
    pub fn max_depth(&self) -> Option<u32> {
        self.max_depth
    }

    /// Sort query parameters when normalising URLs (see [`crate::normalize`]). Default: off.
    pub fn sort_query(&self) -> bool {
        self.sort_query
    }

    /// Requests in flight to one host (origin) at once. Default: no cap beyond `max_tasks`.
    pub fn max_per_host(&self) -> Option<usize> {
        self.max_per_host
    }

    /// Minimum time between the starts of two requests to one host. Default: 0.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// The longest `Retry-After` (429/503) waited on; one longer ends the URL's tries at once,
    /// and its record says so. Default: 60 s.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Seed of the crawl's random choices (retry jitter). Default: 0. The simulator replaces it
    /// with the run's own seed (see [`Config::with_seed`]).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Longer URLs are not fetched (spider trap). Default: 2048 bytes.
    pub fn max_url_length(&self) -> usize {
        self.max_url_length
    }

    /// URLs whose path has more segments are not fetched (spider trap). Default: 32.
    pub fn max_path_segments(&self) -> usize {
        self.max_path_segments
    }

    /// URLs with a path segment occurring more often are not fetched (spider trap). Default: 3.
    pub fn max_segment_repeats(&self) -> usize {
        self.max_segment_repeats
    }

    /// Fetch at most this many URLs of one host. Default: unlimited.
    pub fn max_pages_per_host(&self) -> Option<u64> {
        self.max_pages_per_host
    }

    /// Fetch and obey each host's robots.txt before its first page. Default: on.
    pub fn robots(&self) -> bool {
        self.robots
    }

    /// The `User-Agent` the crawler presents; its product token (before `/`) is what robots.txt
    /// groups are matched against. Default: `crawler/<version>`.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// Upper bound on a robots.txt `Crawl-delay`. Default: 10 s.
    pub fn max_crawl_delay(&self) -> Duration {
        self.max_crawl_delay
    }

    /// Sitemaps to read at the start (robots.txt may name more). Default: none.
    pub fn sitemaps(&self) -> &[Url] {
        &self.sitemaps
    }

    /// Ask the transport for page bodies only when the engine reads them for links (HTML, XHTML,
    /// and XML documents and feeds: [`links::format_of`](crate::links::format_of)): other
    /// responses may come back with their head alone (see
    /// [`Request::html_body_only`](crate::Request::html_body_only)). robots.txt and sitemaps are
    /// always read whole. Default: off.
    pub fn html_bodies_only(&self) -> bool {
        self.html_bodies_only
    }

    /// Follow links to page assets too: `img` `src`/`srcset`, `script` `src`, stylesheet
    /// `link`s (see [`crate::links`]). Default: off.
    pub fn assets(&self) -> bool {
        self.assets
    }

    /// The URL canonicalisation options this configuration describes.
    pub fn canon(&self) -> Canon {
        Canon::sorting_query(self.sort_query)
    }

    /// The scope rule this configuration describes.
    pub fn scope(&self) -> Scope {
        Scope::new(self.scope, &self.roots, self.exclude.clone())
    }
}

#[cfg(test)]
mod tests;
