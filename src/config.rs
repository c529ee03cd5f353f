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
//! assert_eq!(config.max_redirect, 10);
//! assert!(crawler::Config::builder().build().is_err()); // no roots
//! ```

use std::fmt;
use std::time::Duration;

use regex::Regex;
use url::Url;

use crate::normalize::{Canon, UrlError, parse_root_with};
use crate::scope::{Scope, ScopeMode};

/// A validated crawl configuration. Make one with [`Config::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where the crawl starts; normalised, at least one.
    pub roots: Vec<Url>,
    /// Fetches in flight at once. Default: 100.
    pub max_tasks: usize,
    /// Redirect hops followed from one link before the chain is cut. Default: 10.
    pub max_redirect: u32,
    /// Attempts per URL (the first try included) on transport errors, 5xx and 429. Default: 4.
    pub max_tries: u32,
    /// Per-try timeout, measured on the crawl's clock. Default: 30 s.
    pub timeout: Duration,
    /// Backoff before the second try; doubled for each later try. Default: 500 ms.
    pub backoff: Duration,
    /// Upper bound on one backoff. Default: 30 s.
    pub max_backoff: Duration,
    /// Host scope. Default: [`ScopeMode::Strict`].
    pub scope: ScopeMode,
    /// URLs matching this are not fetched. Default: none.
    pub exclude: Option<Regex>,
    /// Stop taking new URLs once this many have been started. Default: unlimited.
    pub max_pages: Option<u64>,
    /// Follow links at most this many hops from a root (redirects do not count). Default:
    /// unlimited.
    pub max_depth: Option<u32>,
    /// Sort query parameters when normalising URLs (see [`crate::normalize`]). Default: off.
    pub sort_query: bool,
    /// Requests in flight to one host (origin) at once. Default: no cap beyond `max_tasks`.
    pub max_per_host: Option<usize>,
    /// Minimum time between the starts of two requests to one host. Default: 0.
    pub delay: Duration,
    /// Upper bound on a `Retry-After` wait (429/503). Default: 60 s.
    pub max_retry_after: Duration,
    /// Seed of the crawl's random choices (retry jitter). Default: 0.
    pub seed: u64,
    /// Longer URLs are not fetched (spider trap). Default: 2048 bytes.
    pub max_url_length: usize,
    /// URLs whose path has more segments are not fetched (spider trap). Default: 32.
    pub max_path_segments: usize,
    /// URLs with a path segment occurring more often are not fetched (spider trap). Default: 3.
    pub max_segment_repeats: usize,
    /// Fetch at most this many URLs of one host. Default: unlimited.
    pub max_pages_per_host: Option<u64>,
    /// Fetch and obey each host's robots.txt before its first page. Default: on.
    pub robots: bool,
    /// The `User-Agent` the crawler presents; its product token (before `/`) is what robots.txt
    /// groups are matched against. Default: `crawler/<version>`.
    pub user_agent: String,
    /// Upper bound on a robots.txt `Crawl-delay`. Default: 10 s.
    pub max_crawl_delay: Duration,
    /// Sitemaps to read at the start (robots.txt may name more). Default: none.
    pub sitemaps: Vec<Url>,
    /// Ask the transport for page bodies only when they are HTML (the only bodies the engine
    /// parses): other responses may come back with their head alone (see
    /// [`Request::html_body_only`](crate::Request::html_body_only)). robots.txt and sitemaps are
    /// always read whole. Default: off.
    pub html_bodies_only: bool,
    /// Follow links to page assets too: `img` `src`/`srcset`, `script` `src`, stylesheet
    /// `link`s (see [`crate::links`]). Default: off.
    pub assets: bool,
}

impl Config {
    /// A builder holding the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
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

/// Collects options; [`build`](ConfigBuilder::build) validates them.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    roots: Vec<String>,
    max_tasks: usize,
    max_redirect: u32,
    max_tries: u32,
    timeout: Duration,
    backoff: Duration,
    max_backoff: Duration,
    scope: ScopeMode,
    exclude: Option<String>,
    max_pages: Option<u64>,
    max_depth: Option<u32>,
    sort_query: bool,
    max_per_host: Option<usize>,
    delay: Duration,
    max_retry_after: Duration,
    seed: u64,
    max_url_length: usize,
    max_path_segments: usize,
    max_segment_repeats: usize,
    max_pages_per_host: Option<u64>,
    robots: bool,
    html_bodies_only: bool,
    assets: bool,
    user_agent: String,
    max_crawl_delay: Duration,
    sitemaps: Vec<String>,
}

/// The default `User-Agent`: `crawler/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("crawler/", env!("CARGO_PKG_VERSION"));

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder {
            roots: Vec::new(),
            max_tasks: 100,
            max_redirect: 10,
            max_tries: 4,
            timeout: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            scope: ScopeMode::Strict,
            exclude: None,
            max_pages: None,
            max_depth: None,
            sort_query: false,
            max_per_host: None,
            delay: Duration::ZERO,
            max_retry_after: Duration::from_secs(60),
            seed: 0,
            max_url_length: 2048,
            max_path_segments: 32,
            max_segment_repeats: 3,
            max_pages_per_host: None,
            robots: true,
            html_bodies_only: false,
            assets: false,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            max_crawl_delay: Duration::from_secs(10),
            sitemaps: Vec::new(),
        }
    }
}

impl ConfigBuilder {
    /// Adds a root URL (absolute, `http` or `https`).
    pub fn root(mut self, url: impl Into<String>) -> Self {
        self.roots.push(url.into());
        self
    }
    /// Adds several roots.
    pub fn roots<I: IntoIterator<Item = S>, S: Into<String>>(mut self, urls: I) -> Self {
        self.roots.extend(urls.into_iter().map(Into::into));
        self
    }
    /// See [`Config::max_tasks`]. Must be at least 1.
    pub fn max_tasks(mut self, n: usize) -> Self {
        self.max_tasks = n;
        self
    }
    /// See [`Config::max_redirect`]. 0 records redirects without following them.
    pub fn max_redirect(mut self, n: u32) -> Self {
        self.max_redirect = n;
        self
    }
    /// See [`Config::max_tries`]. Must be at least 1.
    pub fn max_tries(mut self, n: u32) -> Self {
        self.max_tries = n;
        self
    }
    /// See [`Config::timeout`]. Must not be zero.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// See [`Config::backoff`].
    pub fn backoff(mut self, d: Duration) -> Self {
        self.backoff = d;
        self
    }
    /// See [`Config::max_backoff`].
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }
    /// See [`Config::scope`].
    pub fn scope(mut self, mode: ScopeMode) -> Self {
        self.scope = mode;
        self
    }
    /// See [`Config::exclude`]: a regular expression (`regex` crate syntax).
    pub fn exclude(mut self, pattern: impl Into<String>) -> Self {
        self.exclude = Some(pattern.into());
        self
    }
    /// See [`Config::max_pages`]. Must be at least 1.
    pub fn max_pages(mut self, n: u64) -> Self {
        self.max_pages = Some(n);
        self
    }
    /// See [`Config::max_depth`]. 0 fetches the roots only.
    pub fn max_depth(mut self, n: u32) -> Self {
        self.max_depth = Some(n);
        self
    }

    /// See [`Config::sort_query`].
    pub fn sort_query(mut self, on: bool) -> Self {
        self.sort_query = on;
        self
    }

    /// See [`Config::max_per_host`]. Must be at least 1.
    pub fn max_per_host(mut self, n: usize) -> Self {
        self.max_per_host = Some(n);
        self
    }
    /// See [`Config::delay`].
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
    /// See [`Config::max_retry_after`].
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }
    /// See [`Config::seed`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// See [`Config::max_url_length`].
    pub fn max_url_length(mut self, n: usize) -> Self {
        self.max_url_length = n;
        self
    }
    /// See [`Config::max_path_segments`].
    pub fn max_path_segments(mut self, n: usize) -> Self {
        self.max_path_segments = n;
        self
    }
    /// See [`Config::max_segment_repeats`]. Must be at least 1.
    pub fn max_segment_repeats(mut self, n: usize) -> Self {
        self.max_segment_repeats = n;
        self
    }
    /// See [`Config::max_pages_per_host`]. Must be at least 1.
    pub fn max_pages_per_host(mut self, n: u64) -> Self {
        self.max_pages_per_host = Some(n);
        self
    }

    /// See [`Config::robots`].
    pub fn robots(mut self, on: bool) -> Self {
        self.robots = on;
        self
    }

    /// See [`Config::html_bodies_only`].
    pub fn html_bodies_only(mut self, on: bool) -> Self {
        self.html_bodies_only = on;
        self
    }
    /// See [`Config::assets`].
    pub fn assets(mut self, on: bool) -> Self {
        self.assets = on;
        self
    }

    /// See [`Config::user_agent`]. Must not be empty or contain line breaks.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }
    /// See [`Config::max_crawl_delay`].
    pub fn max_crawl_delay(mut self, d: Duration) -> Self {
        self.max_crawl_delay = d;
        self
    }

    /// Adds a sitemap URL to read at the start (absolute, `http` or `https`).
    pub fn sitemap(mut self, url: impl Into<String>) -> Self {
        self.sitemaps.push(url.into());
        self
    }

    /// Validates the options.
    pub fn build(self) -> Result<Config, ConfigError> {
        if self.roots.is_empty() {
            return Err(ConfigError::NoRoots);
        }
        let mut roots: Vec<Url> = Vec::with_capacity(self.roots.len());
        for text in &self.roots {
            let url =
                parse_root_with(text, Canon::sorting_query(self.sort_query)).map_err(|error| {
                    ConfigError::InvalidRoot {
                        root: text.clone(),
                        error,
                    }
                })?;
            if !roots.contains(&url) {
                roots.push(url);
            }
        }
        let positive = [
            ("max_tasks", self.max_tasks as u64),
            ("max_tries", u64::from(self.max_tries)),
            ("timeout", u64::from(!self.timeout.is_zero())),
            ("max_pages", self.max_pages.unwrap_or(1)),
            ("max_per_host", self.max_per_host.unwrap_or(1) as u64),
            ("max_url_length", self.max_url_length as u64),
            ("max_segment_repeats", self.max_segment_repeats as u64),
            ("max_pages_per_host", self.max_pages_per_host.unwrap_or(1)),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Zero(name));
        }
        let mut sitemaps = Vec::with_capacity(self.sitemaps.len());
        for text in &self.sitemaps {
            let url =
                parse_root_with(text, Canon::sorting_query(self.sort_query)).map_err(|error| {
                    ConfigError::InvalidSitemap {
                        sitemap: text.clone(),
                        error,
                    }
                })?;
            sitemaps.push(url);
        }
        if self.user_agent.trim().is_empty() || self.user_agent.contains(['\r', '\n']) {
            return Err(ConfigError::InvalidUserAgent);
        }
        let exclude = match self.exclude {
            Some(p) => Some(Regex::new(&p).map_err(|e| ConfigError::InvalidExclude(one_line(&e)))?),
            None => None,
        };
        Ok(Config {
            roots,
            max_tasks: self.max_tasks,
            max_redirect: self.max_redirect,
            max_tries: self.max_tries,
            timeout: self.timeout,
            backoff: self.backoff,
            max_backoff: self.max_backoff.max(self.backoff),
            scope: self.scope,
            exclude,
            max_pages: self.max_pages,
            max_depth: self.max_depth,
            sort_query: self.sort_query,
            max_per_host: self.max_per_host,
            delay: self.delay,
            max_retry_after: self.max_retry_after,
            seed: self.seed,
            max_url_length: self.max_url_length,
            max_path_segments: self.max_path_segments,
            max_segment_repeats: self.max_segment_repeats,
            max_pages_per_host: self.max_pages_per_host,
            robots: self.robots,
            user_agent: self.user_agent,
            max_crawl_delay: self.max_crawl_delay,
            sitemaps,
            html_bodies_only: self.html_bodies_only,
            assets: self.assets,
        })
    }
}

/// A regex error on one line: the crate explains a bad pattern over several lines (the pattern, a
/// caret under the fault, then `error: ...`); keep the first line and that explanation.
fn one_line(error: &regex::Error) -> String {
    let message = error.to_string();
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("").trim_end_matches(':').to_string();
    match lines.next_back() {
        Some(last) => format!("{first}: {}", last.trim_start_matches("error: ")),
        None => first,
    }
}

/// What is wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No root URL was given.
    NoRoots,
    /// A root URL could not be used.
    InvalidRoot {
        /// The root as given.
        root: String,
        /// Why it was refused.
        error: UrlError,
    },
    /// A sitemap URL could not be used.
    InvalidSitemap {
        /// The sitemap URL as given.
        sitemap: String,
        /// Why it was refused.
        error: UrlError,
    },
    /// The exclude pattern is not a valid regular expression.
    InvalidExclude(String),
    /// An option that must be positive was zero.
    Zero(&'static str),
    /// The user agent is empty or spans lines.
    InvalidUserAgent,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoRoots => write!(f, "no root url given"),
            ConfigError::InvalidRoot { root, error } => write!(f, "root {root:?}: {error}"),
            ConfigError::InvalidSitemap { sitemap, error } => {
                write!(f, "sitemap {sitemap:?}: {error}")
            }
            ConfigError::InvalidExclude(e) => write!(f, "invalid exclude pattern: {e}"),
            ConfigError::Zero(name) => write!(f, "{name} must be greater than zero"),
            ConfigError::InvalidUserAgent => {
                write!(f, "user agent must be one non-empty line")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::builder().root("http://h/").build().unwrap();
        assert_eq!(c.max_tasks, 100);
        assert_eq!(c.max_redirect, 10);
        assert_eq!(c.max_tries, 4);
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.scope, ScopeMode::Strict);
        assert!(c.exclude.is_none() && c.max_pages.is_none() && c.max_depth.is_none());
    }

    #[test]
    fn bad_input_is_an_error_with_a_clear_message() {
        let err = |b: ConfigBuilder| b.build().unwrap_err().to_string();
        let b = || Config::builder().root("http://h/");
        assert_eq!(err(Config::builder()), "no root url given");
        assert_eq!(
            err(Config::builder().root("ftp://h/")),
            "root \"ftp://h/\": unsupported scheme \"ftp\" (only http and https)"
        );
        assert_eq!(err(b().max_tasks(0)), "max_tasks must be greater than zero");
        assert_eq!(err(b().max_tries(0)), "max_tries must be greater than zero");
        assert_eq!(
            err(b().timeout(Duration::ZERO)),
            "timeout must be greater than zero"
        );
        assert_eq!(err(b().max_pages(0)), "max_pages must be greater than zero");
        assert_eq!(
            err(b().exclude("(")),
            "invalid exclude pattern: regex parse error: unclosed group"
        );
        assert_eq!(
            err(b().user_agent(" ")),
            "user agent must be one non-empty line"
        );
        assert_eq!(
            err(b().user_agent("a\nb")),
            "user agent must be one non-empty line"
        );
    }

    #[test]
    fn roots_are_normalised_and_deduplicated() {
        let c = Config::builder()
            .roots(["HTTP://H:80/#a", "http://h/"])
            .build()
            .unwrap();
        assert_eq!(c.roots.len(), 1);
        assert_eq!(c.roots[0].as_str(), "http://h/");
    }
}
