//! Command-line options and outputs shared by `crawl` (real network) and `crawl-sim` (simulator).
//!
//! Both commands must accept the same crawl options and write the same outputs, so that a
//! configuration tried in the simulator behaves the same on the real web. [`CrawlArgs`] is the
//! clap definition of those options; [`CrawlArgs::config`] turns them into a validated
//! [`Config`]; [`Output`] writes the JSON lines as records arrive and the report at the end.
//!
//! ```
//! use clap::Parser;
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     crawl: crawler_cli::CrawlArgs,
//! }
//! let cli = Cli::parse_from(["crawl", "--max-tasks", "5", "--lenient", "example.com"]);
//! let config = cli.crawl.config().unwrap();
//! assert_eq!(config.roots()[0].as_str(), "http://example.com/");
//! assert_eq!(config.max_tasks(), 5);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod command_line;
mod output;

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, ValueEnum};

use crawler::ScopeMode;
use crawler::{Config, ConfigError};

pub use command_line::{args_of, config_of};
pub use output::{Output, check_outputs, cut_back, is_plain_file, verbose_line};

/// The crawl options every command shares.
#[derive(Debug, Clone, Args)]
#[non_exhaustive]
pub struct CrawlArgs {
    /// Root URLs to start from. A root without a scheme gets `http://`.
    #[arg(value_name = "URL")]
    pub roots: Vec<String>,

    /// Redirect hops followed from one link before the chain is cut.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_redirect: u32,

    /// Attempts per URL on transport errors (connection, timeout, malformed response), 5xx and
    /// 429 (the first try included).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub max_tries: u32,

    /// Fetches in flight at once.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_tasks: usize,

    /// Do not fetch pages whose URL matches this regular expression anywhere (it is not anchored:
    /// use ^ and $ for that). robots.txt and sitemaps are read all the same.
    #[arg(long, value_name = "REGEX")]
    pub exclude: Option<String>,

    /// Stay on the roots' hosts (`www.` toggled). The default.
    #[arg(long, overrides_with = "lenient")]
    pub strict: bool,

    /// Allow every host of the roots' registrable domains (public suffix list).
    #[arg(long, overrides_with = "strict")]
    pub lenient: bool,

    /// Stop starting new fetches after this many URLs.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,

    /// Follow links at most this many hops from a root (redirects do not count).
    #[arg(long, value_name = "N")]
    pub max_depth: Option<u32>,

    /// Sort query parameters by name when normalising URLs, so `?b=1&a=2` and `?a=2&b=1` are
    /// fetched once. Off by default: some servers care about the order.
    #[arg(long)]
    pub sort_query: bool,

    /// Requests in flight to one host at once (default: no cap beyond --max-tasks).
    #[arg(long, value_name = "N")]
    pub max_per_host: Option<usize>,

    /// Minimum seconds between the starts of two requests to one host (fractions allowed).
    #[arg(long, value_name = "SECS", default_value_t = 0.0, value_parser = parse_secs_or_zero)]
    pub delay: f64,

    /// Fetch at most N URLs of one host.
    #[arg(long, value_name = "N")]
    pub max_pages_per_host: Option<u64>,

    /// Spider trap: do not fetch URLs longer than N bytes.
    #[arg(long, value_name = "N", default_value_t = 2048)]
    pub max_url_length: usize,

    /// Spider trap: do not fetch URLs whose path has more than N segments.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub max_path_segments: usize,

    /// Spider trap: do not fetch URLs in which one path segment occurs more than N times.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_segment_repeats: usize,

    /// Read this sitemap (or sitemap index) at the start; repeatable. Sitemaps named by an
    /// in-scope host's robots.txt are read too.
    #[arg(long = "sitemap", value_name = "URL")]
    pub sitemaps: Vec<String>,

    /// Do not fetch or obey robots.txt.
    #[arg(long)]
    pub ignore_robots: bool,

    /// Download a page's body only when it is read for links, by its Content-Type: HTML, XHTML,
    /// XML, RSS and Atom. For anything else (images, PDFs, archives) stop after the response
    /// head. robots.txt and sitemaps are always read whole.
    #[arg(long)]
    pub html_bodies_only: bool,

    /// Follow links to page assets too: images (src and srcset), scripts and stylesheets.
    #[arg(long)]
    pub assets: bool,

    /// Upper bound in seconds on a robots.txt Crawl-delay.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs_or_zero)]
    pub max_crawl_delay: f64,

    /// The User-Agent header; its first word (before '/') is matched against robots.txt groups.
    #[arg(long, value_name = "TEXT", default_value = crawler::DEFAULT_USER_AGENT)]
    pub user_agent: String,

    /// Per-try timeout in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = parse_secs)]
    pub timeout: f64,

    /// Seconds to wait before the second try of a URL; doubled for each later try, with jitter.
    #[arg(long, value_name = "SECS", default_value_t = 0.5, value_parser = parse_secs_or_zero)]
    pub backoff: f64,

    /// Upper bound in seconds on one backoff.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = parse_secs_or_zero)]
    pub max_backoff: f64,

    /// The longest Retry-After (429, 503) waited on, in seconds; one longer ends the URL's tries
    /// at once, and its record says so.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = parse_secs_or_zero)]
    pub max_retry_after: f64,

    /// Write one JSON line per fetched URL to FILE, as the crawl goes; `-` writes them to stdout
    /// (and the report to stderr).
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,

    /// What to print at the end (on stdout, or on stderr with `--jsonl -`): a text report like
    /// 500 Lines' reporting.py, the summary as JSON, or nothing.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ReportFormat::Text)]
    pub report: ReportFormat,

    /// More logging on stderr: -v, a line per URL; -vv, debug; -vvv, trace, with the HTTP
    /// libraries' own logs (-vv and -vvv: crawl only).
    #[arg(short, long, action = ArgAction::Count)]
    pub verbose: u8,

    /// No progress and no per-URL report lines; only the summary (and errors).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
}

fn parse_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(s),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

fn parse_secs_or_zero(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(0.0) => Ok(0.0),
        _ => parse_secs(text),
    }
}

/// What the final report looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum ReportFormat {
    /// Per-URL lines sorted by URL, then totals (per-URL lines are left out with `-q`).
    Text,
    /// The summary as one JSON object.
    Json,
    /// Nothing.
    None,
}

impl CrawlArgs {
    /// The validated configuration these options describe. Roots without a scheme get `http://`.
    pub fn config(&self) -> Result<Config, ConfigError> {
        self.config_with_roots(&self.roots)
    }

    /// Like [`config`](Self::config), with `roots` instead of the positional URLs (`crawl-sim`
    /// takes its default roots from the site file).
    pub fn config_with_roots(&self, roots: &[String]) -> Result<Config, ConfigError> {
        let mut b = Config::builder()
            .roots(roots.iter().map(|r| with_scheme(r)))
            .max_redirect(self.max_redirect)
            .max_tries(self.max_tries)
            .max_tasks(self.max_tasks)
            .timeout(Duration::from_secs_f64(self.timeout))
            .backoff(Duration::from_secs_f64(self.backoff))
            .max_backoff(Duration::from_secs_f64(self.max_backoff))
            .max_retry_after(Duration::from_secs_f64(self.max_retry_after))
            .sort_query(self.sort_query)
            .delay(Duration::from_secs_f64(self.delay))
            .max_url_length(self.max_url_length)
            .max_path_segments(self.max_path_segments)
            .max_segment_repeats(self.max_segment_repeats)
            .robots(!self.ignore_robots)
            .html_bodies_only(self.html_bodies_only)
            .assets(self.assets)
            .max_crawl_delay(Duration::from_secs_f64(self.max_crawl_delay))
            .user_agent(self.user_agent.clone())
            .scope(if self.lenient {
                ScopeMode::Lenient
            } else {
                ScopeMode::Strict
            });
        for sitemap in &self.sitemaps {
            b = b.sitemap(with_scheme(sitemap));
        }
        if let Some(e) = &self.exclude {
            b = b.exclude(e.clone());
        }
        if let Some(n) = self.max_pages {
            b = b.max_pages(n);
        }
        if let Some(n) = self.max_depth {
            b = b.max_depth(n);
        }
        if let Some(n) = self.max_pages_per_host {
            b = b.max_pages_per_host(n);
        }
        if let Some(n) = self.max_per_host {
            b = b.max_per_host(n);
        }
        b.build()
    }
}

/// Prefixes `http://` when `root` has no scheme (as 500 Lines does): `example.com/a` becomes
/// `http://example.com/a`, and so does `localhost:8080/` (a port, not a scheme); `https://x` is
/// left alone, and so is `mailto:x`, which then fails as the scheme it is (a root with user
/// info, `user:pass@host`, needs its scheme written out).
pub fn with_scheme(root: &str) -> String {
    let root = root.trim();
    // RFC 3986 §3.1: a scheme is a letter, then letters, digits, `+`, `-`, `.`, up to a `:`.
    let has_scheme = root.split_once(':').is_some_and(|(scheme, rest)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty()
            && !rest.starts_with(|c: char| c.is_ascii_digit())
    });
    if has_scheme {
        root.to_string()
    } else {
        format!("http://{root}")
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct TestCli {
        #[command(flatten)]
        crawl: CrawlArgs,
    }

    fn parse(args: &[&str]) -> Result<CrawlArgs, clap::Error> {
        TestCli::try_parse_from(std::iter::once("crawl").chain(args.iter().copied()))
            .map(|c| c.crawl)
    }

    #[test]
    fn defaults_match_the_library() {
        let c = parse(&["h"]).unwrap().config().unwrap();
        let d = Config::builder().root("http://h/").build().unwrap();
        assert_eq!(
            (
                c.max_tasks(),
                c.max_redirect(),
                c.max_tries(),
                c.timeout(),
                c.scope_mode()
            ),
            (
                d.max_tasks(),
                d.max_redirect(),
                d.max_tries(),
                d.timeout(),
                d.scope_mode()
            )
        );
        assert_eq!(
            (
                c.delay(),
                c.max_per_host(),
                c.sort_query(),
                c.max_pages_per_host()
            ),
            (
                d.delay(),
                d.max_per_host(),
                d.sort_query(),
                d.max_pages_per_host()
            )
        );
        assert_eq!(
            (
                c.max_url_length(),
                c.max_path_segments(),
                c.max_segment_repeats()
            ),
            (
                d.max_url_length(),
                d.max_path_segments(),
                d.max_segment_repeats()
            )
        );
        assert_eq!(
            (c.robots(), &c.user_agent(), c.max_crawl_delay()),
            (d.robots(), &d.user_agent(), d.max_crawl_delay())
        );
        assert_eq!(c.assets(), d.assets());
        assert!(
            parse(&["--assets", "h"])
                .unwrap()
                .config()
                .unwrap()
                .assets()
        );
    }

    #[test]
    fn scheme_is_added_only_when_missing() {
        assert_eq!(with_scheme("example.com/a"), "http://example.com/a");
        assert_eq!(with_scheme("https://x/"), "https://x/");
        assert_eq!(with_scheme(" 127.0.0.1:8080 "), "http://127.0.0.1:8080");
        assert_eq!(with_scheme("localhost:8080/a"), "http://localhost:8080/a");
        assert_eq!(with_scheme("localhost:"), "http://localhost:");
        assert_eq!(with_scheme("HTTP://x"), "HTTP://x");
        // A URL in the query is not the root's scheme.
        assert_eq!(
            with_scheme("127.0.0.1:1/?next=http://x"),
            "http://127.0.0.1:1/?next=http://x"
        );
        assert_eq!(with_scheme("h/?u=https://x"), "http://h/?u=https://x");
        assert_eq!(with_scheme("[::1]:80/"), "http://[::1]:80/");
        // Another scheme stays, to be refused by name.
        assert_eq!(with_scheme("mailto:a@b"), "mailto:a@b");
        assert_eq!(with_scheme("ftp://x/"), "ftp://x/");
    }

    #[test]
    fn last_of_strict_and_lenient_wins() {
        let a = parse(&["--strict", "--lenient", "h"]).unwrap();
        assert_eq!(a.config().unwrap().scope_mode(), ScopeMode::Lenient);
        let a = parse(&["--lenient", "--strict", "h"]).unwrap();
        assert_eq!(a.config().unwrap().scope_mode(), ScopeMode::Strict);
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        assert!(parse(&["--timeout", "0", "h"]).is_err());
        assert!(parse(&["--timeout", "nan", "h"]).is_err());
        assert!(parse(&["--max-tasks", "-1", "h"]).is_err());
        assert!(parse(&["-q", "-v", "h"]).is_err());
        let bad_regex = parse(&["--exclude", "(", "h"]).unwrap();
        assert!(bad_regex.config().is_err());
        assert!(parse(&[]).unwrap().config().is_err());
    }

    #[test]
    fn outputs_are_checked_before_any_is_emptied() {
        let dir = std::env::temp_dir().join(format!("crawler-outputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = dir.join("old.jsonl");
        std::fs::write(&old, "kept\n").unwrap();
        let bad = Path::new("/nonexistent-dir/x.warc");
        let e = check_outputs(&[("--jsonl", Some(&old)), ("--record", Some(bad))]).unwrap_err();
        assert!(e.starts_with("cannot write /nonexistent-dir/x.warc"), "{e}");
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "kept\n");
        // One file under two names, existing or not yet.
        let spelled = dir.join(".").join("old.jsonl");
        let e =
            check_outputs(&[("--jsonl", Some(&old)), ("--record", Some(&spelled))]).unwrap_err();
        assert!(e.starts_with("--jsonl and --record both name "), "{e}");
        let new = dir.join("new");
        let e = check_outputs(&[
            ("--jsonl", Some(&new)),
            ("--trace", Some(&dir.join("./new"))),
        ])
        .unwrap_err();
        assert!(e.contains("give each output its own file"), "{e}");
        assert!(!new.exists(), "the check leaves no file behind");
        let other = dir.join("other");
        check_outputs(&[
            ("--jsonl", Some(&old)),
            ("--record", Some(&other)),
            ("--x", None),
        ])
        .unwrap();
        assert!(!other.exists());
        // Hard links are one file.
        let link = dir.join("link");
        std::fs::hard_link(&old, &link).unwrap();
        assert!(check_outputs(&[("--jsonl", Some(&old)), ("--record", Some(&link))]).is_err());
        // A device may be named twice, and a FIFO is not opened (that would wait for a reader).
        let fifo = dir.join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        check_outputs(&[("--jsonl", Some(&fifo))]).unwrap();
        let null = Path::new("/dev/null");
        check_outputs(&[("--jsonl", Some(null)), ("--record", Some(null))]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_jsonl_fails_up_front() {
        let a = parse(&["--jsonl", "/nonexistent-dir/x.jsonl", "h"]).unwrap();
        let e = Output::open(&a).unwrap_err();
        assert!(
            e.starts_with("cannot write /nonexistent-dir/x.jsonl"),
            "{e}"
        );
    }
}
