//! The way back from a [`Config`] to the command line that makes it: [`args_of`].
//!
//! A failing simulated run prints the one command that replays it; that command is only as
//! good as the arguments it spells. They are derived here, option by option, from the
//! configuration itself, and a property test holds the round trip: for random configurations,
//! parsing `args_of(config)` gives back the same configuration, every option compared.

use std::time::Duration;

use clap::Parser;
use crawler::{Config, ScopeMode};

use crate::CrawlArgs;

/// The crawl options and roots that make `config` when given to `crawl` (or `crawl-sim`), each
/// an argument of its own (no shell quoting): only the options that differ from the command
/// line's defaults, then the roots. The seed is not a crawl option (`crawl-sim --seed` gives
/// a simulated run its own).
pub fn args_of(config: &Config) -> Vec<String> {
    let roots: Vec<String> = config.roots().iter().map(|r| r.to_string()).collect();
    let defaults = Wrapper::parse_from(std::iter::once("crawl".to_string()).chain(roots.clone()))
        .crawl
        .config()
        .expect("the defaults are valid");
    let mut args = Vec::new();
    // `--flag=value`, one argument: a value that starts with `-` (an exclude pattern, say)
    // would otherwise read as a flag.
    let mut put = |differs: bool, flag: &str, value: Option<String>| {
        if differs {
            args.push(match value {
                Some(value) => format!("--{flag}={value}"),
                None => format!("--{flag}"),
            });
        }
    };
    let (c, d) = (config, &defaults);
    put(
        c.max_redirect() != d.max_redirect(),
        "max-redirect",
        Some(c.max_redirect().to_string()),
    );
    put(
        c.max_tries() != d.max_tries(),
        "max-tries",
        Some(c.max_tries().to_string()),
    );
    put(
        c.max_tasks() != d.max_tasks(),
        "max-tasks",
        Some(c.max_tasks().to_string()),
    );
    put(
        c.timeout() != d.timeout(),
        "timeout",
        Some(secs(c.timeout())),
    );
    put(
        c.backoff() != d.backoff(),
        "backoff",
        Some(secs(c.backoff())),
    );
    put(
        c.max_backoff() != d.max_backoff(),
        "max-backoff",
        Some(secs(c.max_backoff())),
    );
    let retry_after = c.max_retry_after();
    put(
        retry_after != d.max_retry_after(),
        "max-retry-after",
        Some(secs(retry_after)),
    );
    put(c.scope_mode() == ScopeMode::Lenient, "lenient", None);
    if let Some(re) = c.exclude() {
        put(true, "exclude", Some(re.as_str().to_string()));
    }
    if let Some(n) = c.max_pages() {
        put(true, "max-pages", Some(n.to_string()));
    }
    if let Some(n) = c.max_depth() {
        put(true, "max-depth", Some(n.to_string()));
    }
    put(c.sort_query(), "sort-query", None);
    if let Some(n) = c.max_per_host() {
        put(true, "max-per-host", Some(n.to_string()));
    }
    put(c.delay() != d.delay(), "delay", Some(secs(c.delay())));
    if let Some(n) = c.max_pages_per_host() {
        put(true, "max-pages-per-host", Some(n.to_string()));
    }
    let url_length = c.max_url_length();
    put(
        url_length != d.max_url_length(),
        "max-url-length",
        Some(url_length.to_string()),
    );
    let segments = c.max_path_segments();
    put(
        segments != d.max_path_segments(),
        "max-path-segments",
        Some(segments.to_string()),
    );
    let repeats = c.max_segment_repeats();
    put(
        repeats != d.max_segment_repeats(),
        "max-segment-repeats",
        Some(repeats.to_string()),
    );
    for sitemap in c.sitemaps() {
        put(true, "sitemap", Some(sitemap.to_string()));
    }
    put(!c.robots(), "ignore-robots", None);
    put(c.html_bodies_only(), "html-bodies-only", None);
    put(c.assets(), "assets", None);
    let crawl_delay = c.max_crawl_delay();
    put(
        crawl_delay != d.max_crawl_delay(),
        "max-crawl-delay",
        Some(secs(crawl_delay)),
    );
    let agent = c.user_agent();
    put(
        agent != d.user_agent(),
        "user-agent",
        Some(agent.to_string()),
    );
    args.extend(roots);
    args
}

/// The configuration the crawl options `args` (as [`args_of`] writes them) describe.
pub fn config_of(args: &[String]) -> Result<Config, String> {
    let argv = std::iter::once("crawl").chain(args.iter().map(String::as_str));
    let parsed = Wrapper::try_parse_from(argv).map_err(|e| e.to_string())?;
    parsed.crawl.config().map_err(|e| e.to_string())
}

/// The crawl options alone, as a command.
#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    crawl: CrawlArgs,
}

/// `d` in seconds, exactly (`1.25`, `0.000000001`), as the command line reads it.
fn secs(d: Duration) -> String {
    match d.subsec_nanos() {
        0 => d.as_secs().to_string(),
        nanos => {
            let text = format!("{}.{nanos:09}", d.as_secs());
            text.trim_end_matches('0').to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every option of `a` and `b` but the seed, side by side.
    fn options(c: &Config) -> String {
        let exclude = c.exclude().map(|re| re.as_str().to_string());
        format!(
            "{:?}",
            (
                (
                    c.roots(),
                    c.max_tasks(),
                    c.max_redirect(),
                    c.max_tries(),
                    c.timeout()
                ),
                (
                    c.backoff(),
                    c.max_backoff(),
                    c.scope_mode(),
                    exclude,
                    c.max_pages()
                ),
                (c.max_depth(), c.sort_query(), c.max_per_host(), c.delay()),
                (
                    c.max_retry_after(),
                    c.max_url_length(),
                    c.max_path_segments()
                ),
                (c.max_segment_repeats(), c.max_pages_per_host(), c.robots()),
                (c.user_agent(), c.max_crawl_delay(), c.sitemaps()),
                (c.html_bodies_only(), c.assets()),
            )
        )
    }

    fn millis(max: u64) -> impl Strategy<Value = Duration> {
        (0..=max).prop_map(Duration::from_millis)
    }

    prop_compose! {
        fn config()(
            roots in prop::collection::vec("https?://[a-c]\\.test(/[a-z]{0,3})?", 1..3),
            counts in (1usize..300, 0u32..20, 1u32..10),
            times in (1u64..100_000, millis(5_000), millis(90_000), millis(3_000), millis(120_000)),
            lenient in any::<bool>(),
            exclude in prop::option::of(prop_oneof![
                "[a-z]{1,4}",
                Just(r"\.pdf$".to_string()),
                Just("^http://b".to_string()),
                Just("a b".to_string()),
                Just("-draft".to_string()),
            ]),
            limits in (prop::option::of(1u64..1000), prop::option::of(0u32..9)),
            more in (prop::option::of(1usize..50), prop::option::of(1u64..500)),
            traps in (1usize..5000, 0usize..64, 1usize..9),
            flags in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
            crawl_delay in millis(30_000),
            agent in "-?[a-z]{1,8}/[0-9]\\.[0-9]( \\(\\+http://x\\.test\\))?",
            sitemaps in prop::collection::vec("http://[a-c]\\.test/s[0-9]\\.xml", 0..3),
        ) -> Config {
            let (tasks, redirects, tries) = counts;
            let (timeout, backoff, max_backoff, delay, retry_after) = times;
            let (sort_query, robots, html_only, assets) = flags;
            let mut b = Config::builder()
                .roots(roots)
                .max_tasks(tasks)
                .max_redirect(redirects)
                .max_tries(tries)
                .timeout(Duration::from_millis(timeout))
                .backoff(backoff)
                .max_backoff(max_backoff)
                .delay(delay)
                .max_retry_after(retry_after)
                .scope(if lenient { ScopeMode::Lenient } else { ScopeMode::Strict })
                .sort_query(sort_query)
                .robots(robots)
                .html_bodies_only(html_only)
                .assets(assets)
                .max_url_length(traps.0)
                .max_path_segments(traps.1)
                .max_segment_repeats(traps.2)
                .max_crawl_delay(crawl_delay)
                .user_agent(agent);
            if let Some(e) = exclude { b = b.exclude(e); }
            if let Some(n) = limits.0 { b = b.max_pages(n); }
            if let Some(n) = limits.1 { b = b.max_depth(n); }
            if let Some(n) = more.0 { b = b.max_per_host(n); }
            if let Some(n) = more.1 { b = b.max_pages_per_host(n); }
            for s in sitemaps { b = b.sitemap(s); }
            b.build().unwrap()
        }
    }

    proptest! {
        /// Parsing `args_of(config)` (`config_of`) gives `config` back, every option compared.
        #[test]
        fn args_of_round_trips(config in config()) {
            let args = args_of(&config);
            let back = config_of(&args);
            prop_assert!(back.is_ok(), "{:?}: {:?}", args, back.as_ref().err());
            prop_assert_eq!(options(&back.unwrap()), options(&config), "{:?}", args);
        }
    }

    #[test]
    fn defaults_give_the_roots_alone() {
        let config = Config::builder().root("http://a.test/").build().unwrap();
        assert_eq!(args_of(&config), ["http://a.test/"]);
        let config = Config::builder()
            .root("http://a.test")
            .timeout(Duration::from_millis(1500))
            .exclude("x y")
            .build()
            .unwrap();
        assert_eq!(
            args_of(&config),
            ["--timeout=1.5", "--exclude=x y", "http://a.test/"]
        );
    }

    #[test]
    fn seconds_are_exact() {
        assert_eq!(secs(Duration::from_secs(3)), "3");
        assert_eq!(secs(Duration::from_millis(1250)), "1.25");
        assert_eq!(secs(Duration::from_nanos(1)), "0.000000001");
    }
}
