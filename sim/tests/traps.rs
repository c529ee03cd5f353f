//! Spider traps in the simulator: an ever-deeper relative-link site and an endless calendar. The
//! crawl must end, and every cut must be counted in the summary under its rule.

use std::time::Duration;

use crawler::Config;
use crawler_sim::{Sim, SimRun};
use crawler_site::Site;

fn crawl(config: crawler::ConfigBuilder) -> SimRun {
    let site = Site::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/sites/traps.json"
    ))
    .unwrap();
    let sim = Sim::builder()
        .seed(1)
        .site(site)
        .budget(Duration::from_secs(3600))
        .build()
        .unwrap();
    let config = config.root("http://t.test/").robots(false).build().unwrap();
    sim.run(&config).unwrap()
}

fn fetched(run: &SimRun, prefix: &str) -> usize {
    run.records
        .iter()
        .filter(|r| r.url.starts_with(prefix))
        .count()
}

#[test]
fn ever_deeper_links_stop_at_the_repeated_segment_rule() {
    let run = crawl(Config::builder().max_pages_per_host(500));
    // /deep/, /deep/x/, /deep/x/x/, /deep/x/x/x/: a fourth `x` breaks the rule (3 repeats).
    assert_eq!(fetched(&run, "http://t.test/deep/"), 4);
    assert_eq!(
        run.summary.cuts.get(&crawler::Cut::RepeatedSegment),
        Some(&1)
    );
    let run = crawl(
        Config::builder()
            .max_segment_repeats(20)
            .max_path_segments(8)
            .max_depth(100),
    );
    assert_eq!(
        fetched(&run, "http://t.test/deep/"),
        8,
        "/deep/ + 7 x's = 8 segments"
    );
    assert_eq!(run.summary.cuts.get(&crawler::Cut::PathDepth), Some(&1));
}

#[test]
fn an_endless_calendar_ends_at_the_depth_or_per_host_limit() {
    let run = crawl(Config::builder().max_depth(30));
    // The root is depth 0, /cal/2026/1 depth 1, ... /cal/2026/30 depth 30.
    assert_eq!(fetched(&run, "http://t.test/cal/"), 30);
    assert!(
        run.summary
            .cuts
            .get(&crawler::Cut::NotFollowed)
            .is_some_and(|&n| n >= 1)
    );
    let run = crawl(Config::builder().max_pages_per_host(100));
    assert_eq!(run.summary.urls, 100);
    assert_eq!(run.summary.cuts.get(&crawler::Cut::PagesPerHost), Some(&1));
    assert!(run.summary.todo == 0 && !run.summary.interrupted);
}

#[test]
fn without_a_limit_the_calendar_runs_into_the_budget() {
    let site = Site::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/sites/traps.json"
    ))
    .unwrap();
    let sim = Sim::builder()
        .seed(1)
        .site(site)
        .budget(Duration::from_secs(60))
        .build()
        .unwrap();
    let config = Config::builder()
        .root("http://t.test/cal/1")
        .robots(false)
        .build()
        .unwrap();
    let err = sim.run(&config).unwrap_err().to_string();
    assert!(err.contains("budget"), "{err}");
}
