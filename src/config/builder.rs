//! [`ConfigBuilder`]: the options with their defaults, and [`ConfigBuilder::build`], which
//! validates them once into a [`Config`] or says what is wrong ([`ConfigError`]).

use std::fmt;
use std::time::Duration;

use regex::Regex;
use url::Url;

use super::Config;
use crate::normalize::{Canon, UrlError, parse_root_with};
use crate::scope::ScopeMode;

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
