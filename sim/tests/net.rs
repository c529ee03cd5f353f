//! The simulated network and clock, seen through the engine: scripts, faults, unreachable hosts,
//! latency, the in-flight bound, budgets and trace determinism.

use std::time::Duration;

use crawler::Config;
use crawler_sim::{Sim, SimError, SimRun};
use crawler_site::{Faults, Latency, Site};

fn site(json: &str) -> Site {
    Site::from_json(json).unwrap()
}

/// No robots.txt (these tests count requests) and no backoff (they check exact times; the
/// engine jitters its backoff).
fn config(f: impl FnOnce(crawler::ConfigBuilder) -> crawler::ConfigBuilder) -> Config {
    let b = Config::builder()
        .root("http://a.test/")
        .robots(false)
        .backoff(Duration::ZERO);
    f(b).build().unwrap()
}

fn run(site: Site, config: &Config) -> SimRun {
    Sim::builder()
        .seed(1)
        .site(site)
        .trace_text(true)
        .build()
        .unwrap()
        .run(config)
        .unwrap()
}

fn times_of(run: &SimRun, url: &str) -> Vec<Duration> {
    run.requests
        .iter()
        .filter(|r| r.url.as_str() == url)
        .map(|r| r.at)
        .collect()
}

fn record<'a>(run: &'a SimRun, url: &str) -> &'a crawler::Record {
    run.records.iter().find(|r| r.url == url).unwrap()
}

const FIXED: &str = r#""latency": {"min_ms": 10, "mean_ms": 10}"#;
const MS: Duration = Duration::from_millis(1);

#[test]
fn a_script_plays_out_one_outcome_per_try() {
    let s = site(&format!(
        r#"{{"pages": {{"http://a.test/": {{"links": ["/f"]}},
                       "http://a.test/f": {{"script": ["500", "reset", "ok"]}}}}, {FIXED}}}"#
    ));
    let run = run(s, &config(|b| b));
    // Root answered at 10 ms; /f: 500 at 20, reset at 30, ok at 40 (no backoff).
    assert_eq!(
        times_of(&run, "http://a.test/f"),
        [10 * MS, 20 * MS, 30 * MS]
    );
    let f = record(&run, "http://a.test/f");
    assert_eq!((f.status, f.tries), (Some(200), 3));
    assert_eq!(run.end, 40 * MS);
    assert_eq!(run.summary.elapsed, 40 * MS);
    let trace = run.trace.as_deref().unwrap();
    assert!(
        trace.contains("0.020000 response http://a.test/f 500 0\n"),
        "{trace}"
    );
    assert!(
        trace.contains("0.030000 fault http://a.test/f reset\n"),
        "{trace}"
    );
}

#[test]
fn a_dropped_request_hangs_until_the_engine_times_out() {
    let s = site(&format!(
        r#"{{"pages": {{"http://a.test/": {{"links": ["/d"]}},
                       "http://a.test/d": {{"script": ["drop", "ok"]}}}}, {FIXED}}}"#
    ));
    let run = run(s, &config(|b| b.timeout(Duration::from_secs(2))));
    assert_eq!(times_of(&run, "http://a.test/d"), [10 * MS, 2010 * MS]);
    let trace = run.trace.as_deref().unwrap();
    assert!(
        trace.contains("0.010000 fault http://a.test/d drop\n"),
        "{trace}"
    );
    assert!(
        trace.contains("2.010000 abandoned http://a.test/d\n"),
        "{trace}"
    );
    assert_eq!(run.in_flight, 0);
    assert_eq!(record(&run, "http://a.test/d").tries, 2);
}

#[test]
fn unreachable_hosts_refuse_and_unlisted_urls_are_404() {
    let s = site(
        r#"{"pages": {"http://a.test/": {"links": ["http://down.a.test/", "/nope"]}},
            "unreachable": ["down.a.test"]}"#,
    );
    let run = run(
        s,
        &config(|b| b.scope(crawler::ScopeMode::Lenient).max_tries(3)),
    );
    let down = record(&run, "http://down.a.test/");
    assert_eq!(
        (down.status, down.tries, down.error.as_deref()),
        (None, 3, Some("connect: connection refused"))
    );
    assert_eq!(record(&run, "http://a.test/nope").status, Some(404));
}

#[test]
fn global_fault_rates_of_one_always_strike() {
    let pages = r#""pages": {"http://a.test/": {"links": ["/x"]}, "http://a.test/x": {}}"#;
    let check = |faults: &str, status: Option<u16>, error: Option<&str>| {
        let s = site(&format!(r#"{{{pages}, "faults": {faults}}}"#));
        let run = run(
            s,
            &config(|b| b.max_tries(2).timeout(Duration::from_secs(1))),
        );
        let root = record(&run, "http://a.test/");
        assert_eq!(
            (root.status, root.tries, root.error.as_deref()),
            (status, 2, error),
            "{faults}"
        );
        assert_eq!(run.requests.len(), 2);
    };
    check(
        r#"{"reset": 1}"#,
        None,
        Some("reset: connection reset by peer"),
    );
    check(r#"{"error_5xx": 1}"#, Some(503), None);
    check(
        r#"{"drop": 1}"#,
        None,
        Some("timeout: no response within 1s"),
    );
    // Slow beyond the timeout is a timeout too.
    check(
        r#"{"slow": 1, "slow_ms": 5000}"#,
        None,
        Some("timeout: no response within 1s"),
    );
}

#[test]
fn truncated_bodies_429s_and_retry_after() {
    let pages = r#""pages": {"http://a.test/": {"links": ["/x"]}, "http://a.test/x": {}}"#;
    let s = site(&format!(
        r#"{{{pages}, "faults": {{"truncate": 1}}, {FIXED}}}"#
    ));
    let r = run(s, &config(|b| b.max_tries(2)));
    let root = record(&r, "http://a.test/");
    assert_eq!(
        (root.status, root.tries, root.error.as_deref()),
        (None, 2, Some("reset: connection closed mid-body"))
    );
    assert!(
        r.trace
            .as_deref()
            .unwrap()
            .contains("fault http://a.test/ truncate")
    );
    // 429 without Retry-After: the engine's own backoff (zero here); with it: that wait.
    let s = site(&format!(
        r#"{{{pages}, "faults": {{"error_429": 1}}, {FIXED}}}"#
    ));
    let r = run(s, &config(|b| b.max_tries(2)));
    assert_eq!(record(&r, "http://a.test/").status, Some(429));
    assert_eq!(times_of(&r, "http://a.test/"), [Duration::ZERO, 10 * MS]);
    let s = site(&format!(
        r#"{{{pages}, "faults": {{"error_429": 1, "retry_after": 2}}, {FIXED}}}"#
    ));
    let r = run(s, &config(|b| b.max_tries(2)));
    assert_eq!(times_of(&r, "http://a.test/"), [Duration::ZERO, 2010 * MS]);
    // A scripted truncation is the same transport error.
    let s = site(&format!(
        r#"{{"pages": {{"http://a.test/": {{"script": ["truncate", "ok"]}}}}, {FIXED}}}"#
    ));
    let r = run(s, &config(|b| b));
    assert_eq!(record(&r, "http://a.test/").tries, 2);
}

#[test]
fn faults_stop_at_until_ms() {
    // Every request before 25 ms is reset; the network is calm after.
    let s = site(&format!(
        r#"{{"pages": {{"http://a.test/": {{}}}}, "faults": {{"reset": 1, "until_ms": 25}}, {FIXED}}}"#
    ));
    let run = run(s, &config(|b| b.max_tries(5)));
    assert_eq!(
        times_of(&run, "http://a.test/"),
        [Duration::ZERO, 10 * MS, 20 * MS, 30 * MS]
    );
    let root = record(&run, "http://a.test/");
    assert_eq!((root.status, root.tries), (Some(200), 4));
}

#[test]
fn a_page_s_own_faults_replace_the_global_ones_and_the_builder_overrides_the_file() {
    let s = site(
        r#"{"pages": {"http://a.test/": {"links": ["/x"], "faults": {}}, "http://a.test/x": {}},
            "faults": {"reset": 1}}"#,
    );
    let run = run(s.clone(), &config(|b| b.max_tries(1)));
    assert_eq!(record(&run, "http://a.test/").status, Some(200));
    assert_eq!(record(&run, "http://a.test/x").status, None);
    let sim = Sim::builder()
        .site(s)
        .faults(Faults::default())
        .latency(Latency::new(50.0, 50.0))
        .build()
        .unwrap();
    let run = sim.run(&config(|b| b.max_tries(1))).unwrap();
    assert_eq!(record(&run, "http://a.test/x").status, Some(200));
    assert_eq!(run.end, 100 * MS);
}

#[test]
fn the_server_sees_at_most_max_tasks_requests_at_once() {
    let links: Vec<String> = (0..50).map(|i| format!("\"/p{i}\"")).collect();
    let s = site(&format!(
        r#"{{"pages": {{"http://a.test/": {{"links": [{}]}}}}}}"#,
        links.join(",")
    ));
    for max_tasks in [1, 7, 100] {
        let run = run(s.clone(), &config(|b| b.max_tasks(max_tasks)));
        assert_eq!(
            run.max_in_flight,
            max_tasks.min(50),
            "max_tasks {max_tasks}"
        );
        assert_eq!(run.in_flight, 0);
        assert_eq!(run.requests.len(), 51);
    }
}

#[test]
fn same_seed_same_trace_with_or_without_text_other_seed_other_trace() {
    let s = Site::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/sites/faulty.json"
    ))
    .unwrap();
    let config = Config::builder()
        .root("http://shop.test/")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let sim = |seed, text| {
        Sim::builder()
            .seed(seed)
            .site(s.clone())
            .trace_text(text)
            .build()
            .unwrap()
    };
    let a = sim(3, true).run(&config).unwrap();
    let b = sim(3, false).run(&config).unwrap();
    let c = sim(4, false).run(&config).unwrap();
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.records, b.records);
    assert_eq!(a.requests, b.requests);
    assert!(b.trace.is_none());
    assert_ne!(a.trace_hash, c.trace_hash);
    // The text has one line per event and starts every line with the virtual time.
    let text = a.trace.unwrap();
    assert!(
        text.lines()
            .all(|l| l.split(' ').next().unwrap().contains('.'))
    );
}

#[test]
fn running_past_the_budget_is_an_error_that_names_the_seed() {
    let s = site(r#"{"pages": {"http://a.test/": {"script": ["drop"]}}}"#);
    let sim = Sim::builder()
        .seed(77)
        .site(s)
        .budget(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = sim
        .run(&config(|b| b.timeout(Duration::from_secs(30))))
        .unwrap_err();
    assert!(
        matches!(err, SimError::BudgetOverrun { seed: 77, .. }),
        "{err}"
    );
    assert_eq!(err.seed(), Some(77));
    assert!(err.to_string().contains("(seed 77)"), "{err}");
    // Within the budget, the same site ends (the timeout gives up on the request).
    let ok = sim
        .run(&config(|b| b.timeout(Duration::from_secs(1)).max_tries(2)))
        .unwrap();
    assert_eq!(ok.records[0].tries, 2);
}

#[test]
fn stepping_by_hand_reaches_the_same_end_as_run() {
    let s = Site::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/sites/small.json"
    ))
    .unwrap();
    let sim = Sim::builder().seed(5).site(s).build().unwrap();
    let config = config(|b| b.timeout(Duration::from_secs(5)));
    let mut running = sim.start(&config, None, |_| {});
    let mut steps = 0;
    let mut max_seen = 0;
    while !running.step().unwrap() {
        steps += 1;
        max_seen = max_seen.max(running.transport().in_flight());
    }
    let stepped = running.finish().unwrap();
    let run = sim.run(&config).unwrap();
    assert_eq!(stepped.trace_hash, run.trace_hash);
    assert_eq!(stepped.max_in_flight, max_seen);
    assert!(steps > 10);
}

#[test]
fn bodies_reach_the_engine_as_the_real_client_would_hand_them_on() {
    let site = site(
        r#"{"pages": {
            "http://a.test/": {"links": ["/big", "/gz", "/data.txt", "/empty", "/huge"]},
            "http://a.test/huge": {"pad": 10485760},
            "http://a.test/big": {"links": ["/from-big"], "pad": 5000},
            "http://a.test/gz": {"links": ["/never"], "headers": {"content-encoding": "gzip"}},
            "http://a.test/data.txt": {"body": "plain", "content_type": "text/plain"},
            "http://a.test/empty": {"status": 204, "links": ["/never"]}
        }}"#,
    );
    let sim = |max_body| {
        Sim::builder()
            .seed(1)
            .site(site.clone())
            .max_body(max_body)
            .build()
            .unwrap()
    };
    let run = sim(1000).run(&config(|b| b.max_tries(1))).unwrap();
    // Cut at the cap, and the links before the cut still followed.
    let big = record(&run, "http://a.test/big");
    assert_eq!((big.size, big.truncated), (Some(1000), true));
    assert!(
        run.records
            .iter()
            .any(|r| r.url == "http://a.test/from-big")
    );
    // A body that is not what its Content-Encoding says is a protocol error, as on the wire.
    let gz = record(&run, "http://a.test/gz");
    assert_eq!(gz.status, None);
    assert!(
        gz.error
            .as_deref()
            .unwrap()
            .starts_with("protocol: bad gzip body"),
        "{:?}",
        gz.error
    );
    // A 204 has no body, so no links.
    assert_eq!(record(&run, "http://a.test/empty").size, Some(0));
    assert!(run.records.iter().all(|r| r.url != "http://a.test/never"));
    assert_eq!(record(&run, "http://a.test/data.txt").size, Some(5));
    // With --html-bodies-only, the text body is not downloaded.
    let run = sim(1000)
        .run(&config(|b| b.max_tries(1).html_bodies_only(true)))
        .unwrap();
    assert_eq!(record(&run, "http://a.test/data.txt").size, None);
    assert_eq!(record(&run, "http://a.test/big").size, Some(1000));
    // The builder's default cap is crawl's, 10 MiB: 10 MiB of filler and the markup are over it.
    let run = Sim::builder()
        .seed(1)
        .site(site.clone())
        .build()
        .unwrap()
        .run(&config(|b| b))
        .unwrap();
    assert!(!record(&run, "http://a.test/big").truncated);
    let huge = record(&run, "http://a.test/huge");
    assert_eq!((huge.size, huge.truncated), (Some(10 << 20), true));
}
