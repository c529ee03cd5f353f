//! Politeness, checked in virtual time against the server's own log: never more than the per-host
//! cap in flight to one host, and no two requests to one host starting closer than the delay in
//! force (`--delay`, or robots.txt's `Crawl-delay`, capped), while other hosts keep the global
//! `max_tasks` busy. Retries obey the same rules.

use std::collections::BTreeMap;
use std::time::Duration;

use crawler::Config;
use crawler_sim::{LoggedRequest, Sim, SimRun};
use crawler_site::Site;

const HOSTS: [&str; 3] = ["a.test", "b.test", "c.test"];

/// Three hosts of `pages` pages each; every page links to the next two of its host and to the
/// same page on the next host. `extra` adds site-file keys (robots.txt bodies, faults).
fn site(pages: usize, extra: &str) -> Site {
    let mut entries = Vec::new();
    for (h, host) in HOSTS.iter().enumerate() {
        let next_host = HOSTS[(h + 1) % HOSTS.len()];
        let path = |p: usize| {
            if p == 0 {
                String::new()
            } else {
                format!("p{p}")
            }
        };
        for p in 0..pages {
            let links = format!(
                r#"["/{}", "/{}", "http://{next_host}/{}"]"#,
                path((p + 1) % pages),
                path((p + 2) % pages),
                path(p)
            );
            let path = path(p);
            entries.push(format!(r#""http://{host}/{path}": {{"links": {links}}}"#));
        }
    }
    let json = format!(
        r#"{{"pages": {{{}{extra}}}, "latency": {{"min_ms": 20, "mean_ms": 300}}}}"#,
        entries.join(",")
    );
    Site::from_json(&json).unwrap()
}

fn run(site: Site, seed: u64, config: Config) -> SimRun {
    let sim = Sim::builder().seed(seed).site(site).build().unwrap();
    sim.run(&config).unwrap()
}

fn by_host(run: &SimRun) -> BTreeMap<String, Vec<&LoggedRequest>> {
    let mut hosts: BTreeMap<String, Vec<&LoggedRequest>> = BTreeMap::new();
    for r in &run.requests {
        hosts
            .entry(r.url.host_str().unwrap().to_string())
            .or_default()
            .push(r);
    }
    hosts
}

/// The most requests of one host in flight at once (an end at `t` comes before a start at `t`).
fn max_overlap(requests: &[&LoggedRequest]) -> usize {
    let mut events: Vec<(Duration, i32)> = Vec::new();
    for r in requests {
        events.push((r.at, 1));
        events.push((r.ended.expect("every request ended"), -1));
    }
    events.sort();
    let (mut now, mut max) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        max = max.max(now);
    }
    max as usize
}

/// The shortest gap between two request starts of one host.
fn min_gap(requests: &[&LoggedRequest]) -> Option<Duration> {
    requests.windows(2).map(|w| w[1].at - w[0].at).min()
}

fn config(b: crawler::ConfigBuilder) -> Config {
    b.roots(HOSTS.iter().map(|h| format!("http://{h}/")))
        .max_tasks(6)
        .build()
        .unwrap()
}

#[test]
fn per_host_cap_holds_while_hosts_share_the_global_slots() {
    for seed in 0..20 {
        let run = run(
            site(30, ""),
            seed,
            config(Config::builder().max_per_host(2)),
        );
        assert_eq!(
            run.summary.urls,
            3 * 31,
            "seed {seed}: every page and robots.txt"
        );
        for (host, requests) in by_host(&run) {
            let overlap = max_overlap(&requests);
            assert!(
                overlap <= 2,
                "seed {seed}: {overlap} requests at once to {host}"
            );
        }
        // The cap per host is 2; with 3 hosts the crawl must have used more than one host's
        // worth of the 6 global slots at some point.
        assert!(
            run.max_in_flight > 2,
            "seed {seed}: max in flight {}",
            run.max_in_flight
        );
        assert!(run.max_in_flight <= 6);
    }
}

#[test]
fn delay_between_requests_to_one_host_holds_for_retries_too() {
    // Every fifth fetch fails (reset or 503), so retries are part of the traffic.
    let faults = r#"}, "faults": {"reset": 0.1, "error_5xx": 0.1"#;
    for seed in 0..10 {
        let site = site(10, faults);
        let config = config(Config::builder().delay(Duration::from_millis(750)));
        let run = run(site, seed, config);
        let hosts = by_host(&run);
        assert_eq!(hosts.len(), 3);
        for (host, requests) in &hosts {
            let gap = min_gap(requests).unwrap();
            assert!(
                gap >= Duration::from_millis(750),
                "seed {seed}: two requests to {host} {gap:?} apart"
            );
        }
        assert!(
            run.summary.requests > run.summary.urls,
            "seed {seed}: no retries happened"
        );
    }
}

#[test]
fn crawl_delay_from_robots_txt_is_honoured_and_capped() {
    let robots = r#", "http://a.test/robots.txt": {"body": "User-agent: *\nCrawl-delay: 2", "content_type": "text/plain"},
        "http://b.test/robots.txt": {"body": "User-agent: *\nCrawl-delay: 60", "content_type": "text/plain"}"#;
    let run = run(
        site(8, robots),
        3,
        config(Config::builder().max_crawl_delay(Duration::from_secs(5))),
    );
    let hosts = by_host(&run);
    let gap = |h: &str| min_gap(&hosts[h]).unwrap();
    assert!(
        gap("a.test") >= Duration::from_secs(2),
        "a.test: {:?}",
        gap("a.test")
    );
    assert!(
        gap("b.test") >= Duration::from_secs(5),
        "b.test: {:?}",
        gap("b.test")
    );
    assert!(gap("b.test") < Duration::from_secs(60), "the cap applies");
    // c.test has no robots.txt (404): no delay, so it finishes long before the others.
    let last = |h: &str| hosts[h].last().unwrap().at;
    assert!(last("c.test") < last("a.test"));
    assert_eq!(run.summary.urls, 3 * 9);
}
