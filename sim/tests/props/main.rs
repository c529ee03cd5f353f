//! Property tests: the real engine, on random site graphs in the simulator, checked against an
//! independent BFS oracle (see `oracle.rs`).
//!
//! For every case:
//! 1. no URL is fetched twice, counted retries aside (server log vs records);
//! 2. the fetched set is exactly the oracle's reachable set (dead ends where tries ran out);
//! 3. no redirect chain is followed past `max_redirect` (also checked on its own);
//! 4. the crawl ends within the virtual-time budget with nothing in flight;
//! 5. the server never sees more than `max_tasks` requests at once;
//! 6. the same seed gives the same trace hash.
//!
//! A failing case prints its seed and the `crawl-sim` command that replays it (the site file is
//! written to the temp directory). Default: 512 cases per property; set `PROPTEST_CASES` for
//! more.

mod graph;
mod oracle;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crawler::site::Site;
use crawler::{Config, Record, ScopeMode};
use crawler_sim::{Sim, SimRun, replay_command};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use url::Url;

use graph::{Case, EXCLUDE};
use oracle::{Final, Oracle, retryable};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn config(case: &Case) -> Config {
    let mut b = Config::builder()
        .roots(case.roots())
        .max_redirect(case.max_redirect)
        .max_tries(case.max_tries)
        .max_tasks(case.max_tasks)
        .timeout(Duration::from_secs(case.timeout_secs))
        // robots.txt is left out: its outcomes (RFC 9309) are not modelled by the oracle.
        .robots(false)
        .seed(case.seed)
        .scope(if case.lenient {
            ScopeMode::Lenient
        } else {
            ScopeMode::Strict
        });
    if case.exclude {
        b = b.exclude(EXCLUDE);
    }
    if let Some(d) = case.max_depth {
        b = b.max_depth(d);
    }
    b.build().expect("generated configs are valid")
}

/// A bound no correct crawl can exceed: every URL the graph can name, fetched one after the
/// other, each with every try timing out and the longest backoffs.
fn budget(case: &Case, config: &Config) -> Duration {
    let edges: usize = case
        .nodes
        .iter()
        .map(|n| match &n.kind {
            graph::Kind::Html { links, .. } => links.len(),
            _ => 1,
        })
        .sum();
    let urls = (case.nodes.len() + edges + 1) as u32;
    let per_url = config.timeout * config.max_tries + config.max_backoff * config.max_tries;
    per_url * urls + Duration::from_secs(1)
}

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Runs one case twice and checks every property. `Err` carries what went wrong.
fn check_case(case: &Case) -> Result<(), String> {
    let config = config(case);
    let budget = budget(case, &config);
    let site = Site::from_spec(case.site()).map_err(|e| format!("generated site: {e}"))?;
    let sim = Sim::builder()
        .seed(case.seed)
        .site(site)
        .budget(budget)
        .build()
        .unwrap();
    // 4: the crawl ends (no deadlock) within the budget.
    let run = sim.run(&config).map_err(|e| e.to_string())?;
    check!(
        run.in_flight == 0,
        "{} requests still in flight at the end",
        run.in_flight
    );
    check!(
        run.summary.elapsed <= budget,
        "elapsed {:?} > budget",
        run.summary.elapsed
    );
    check!(
        !run.summary.interrupted && run.summary.todo == 0,
        "crawl left work: {:?}",
        run.summary
    );
    // 5: the server's own count.
    check!(
        run.max_in_flight <= config.max_tasks,
        "{} requests in flight at once, max_tasks {}",
        run.max_in_flight,
        config.max_tasks
    );
    // 6: same seed, same trace.
    let again = sim.run(&config).map_err(|e| format!("second run: {e}"))?;
    check!(
        again.trace_hash == run.trace_hash && again.records == run.records,
        "same seed, different runs: trace hash {:016x} then {:016x}",
        run.trace_hash,
        again.trace_hash
    );
    let records = check_requests(&run)?;
    check_against_oracle(case, &config, &records)?;
    check_redirect_chains(case, &config, &run, &records)
}

/// 1: one record per URL, and per URL exactly `tries` requests reached the server.
fn check_requests(run: &SimRun) -> Result<BTreeMap<String, &Record>, String> {
    let mut records = BTreeMap::new();
    for r in &run.records {
        check!(
            records.insert(r.url.clone(), r).is_none(),
            "two records for {}",
            r.url
        );
    }
    let mut requests: BTreeMap<&str, u32> = BTreeMap::new();
    for r in &run.requests {
        *requests.entry(r.url.as_str()).or_default() += 1;
    }
    for (url, n) in &requests {
        let tries = records.get(*url).map(|r| r.tries);
        check!(
            tries == Some(*n),
            "{url}: {n} requests reached the server, record says {tries:?} tries"
        );
    }
    check!(
        requests.len() == records.len(),
        "records for URLs never requested"
    );
    Ok(records)
}

/// 2: the fetched set is the oracle's; every outcome is the predicted one.
fn check_against_oracle(
    case: &Case,
    config: &Config,
    records: &BTreeMap<String, &Record>,
) -> Result<(), String> {
    let oracle = Oracle::new(case);
    let expected = oracle.reachable(records);
    let fetched: BTreeSet<&str> = records.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = expected.keys().map(String::as_str).collect();
    let missing: Vec<_> = want.difference(&fetched).collect();
    let extra: Vec<_> = fetched.difference(&want).collect();
    check!(
        missing.is_empty() && extra.is_empty(),
        "fetched set differs from the oracle's: not fetched {missing:?}, fetched but \
         unreachable {extra:?}"
    );
    for (url, record) in records {
        let parsed = Url::parse(url).unwrap();
        match oracle.predict(&parsed) {
            Some(p) => {
                let status = match p.last {
                    Final::Fail => None,
                    Final::Status { status, .. } => Some(status),
                };
                check!(
                    record.status == status && record.tries == p.tries,
                    "{url}: expected status {status:?} after {} tries, record has {:?} after {}",
                    p.tries,
                    record.status,
                    record.tries
                );
            }
            None => {
                // Random outcome: whatever it was, a retryable last outcome means tries ran out.
                let last = oracle.final_of(&parsed, Some(record));
                check!(
                    !retryable(&last) || record.tries == config.max_tries,
                    "{url}: failed ({:?}) after {} tries, max_tries {}",
                    record.status,
                    record.tries,
                    config.max_tries
                );
                check!(record.tries <= config.max_tries, "{url}: too many tries");
            }
        }
        if let Final::Status {
            status: 301 | 302 | 303 | 307 | 308,
            page: Some(_),
        } = oracle.final_of(&parsed, Some(record))
        {
            let target = oracle
                .edges(&parsed, &oracle.final_of(&parsed, Some(record)))
                .into_iter()
                .next();
            if let Some((target, _)) = target {
                check!(
                    record.location.as_deref() == Some(target.as_str()),
                    "{url}: redirect to {target}, record says {:?}",
                    record.location
                );
            }
        }
    }
    Ok(())
}

/// 3, on its own: every fetched URL is a root, a link target of a fetched page, or at most
/// `max_redirect` recorded redirect hops from one.
fn check_redirect_chains(
    case: &Case,
    config: &Config,
    run: &SimRun,
    records: &BTreeMap<String, &Record>,
) -> Result<(), String> {
    let oracle = Oracle::new(case);
    let mut hops: BTreeMap<String, u32> = BTreeMap::new();
    for root in case.roots() {
        hops.insert(root, 0);
    }
    for (url, record) in records {
        let parsed = Url::parse(url).unwrap();
        let last = oracle.final_of(&parsed, Some(record));
        for (target, redirect) in oracle.edges(&parsed, &last) {
            if !redirect {
                hops.insert(target.to_string(), 0);
            }
        }
    }
    // Relax along recorded redirects until nothing improves (at most one pass per URL).
    for _ in 0..=records.len() {
        let mut changed = false;
        for r in &run.records {
            let (Some(from), Some(to)) = (hops.get(&r.url).copied(), r.location.as_ref()) else {
                continue;
            };
            if hops.get(to).is_none_or(|&h| h > from + 1) {
                hops.insert(to.clone(), from + 1);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for url in records.keys() {
        let h = hops.get(url).copied();
        check!(
            h.is_some_and(|h| h <= config.max_redirect),
            "{url} was fetched, but the shortest redirect chain to it is {h:?} hops \
             (max_redirect {})",
            config.max_redirect
        );
    }
    Ok(())
}

/// Turns a failure into a message with the seed and the command that replays it.
fn report(case: &Case, problem: String) -> TestCaseError {
    let config = config(case);
    let json = serde_json::to_string_pretty(&case.site()).unwrap();
    let name = format!("crawler-sim-case-{:016x}.json", case.seed);
    let path = std::env::temp_dir().join(name);
    let written = std::fs::write(&path, json)
        .map(|()| String::new())
        .unwrap_or_else(|e| format!(" (could not write the site file: {e})"));
    let command = replay_command(&path, case.seed, budget(case, &config), &config);
    TestCaseError::fail(format!(
        "{problem}\nseed {}; replay with:\n  {command}{written}\n",
        case.seed
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn crawls_match_the_oracle(case in graph::case(12, false)) {
        check_case(&case).map_err(|problem| report(&case, problem))?;
    }

    #[test]
    fn depth_limited_crawls_match_the_oracle(case in graph::case(12, true)) {
        check_case(&case).map_err(|problem| report(&case, problem))?;
    }
}

/// The oracle's scope rule is written for the test's fixed hosts; make sure the assumption
/// behind it (`test` is no public suffix) holds for the engine's public suffix list too.
#[test]
fn the_oracle_scope_assumption_holds() {
    let roots = [Url::parse("http://a.test/").unwrap()];
    let scope = crawler::Scope::new(ScopeMode::Lenient, &roots, None);
    for (host, allowed) in [
        ("sub.a.test", true),
        ("down.a.test", true),
        ("www.a.test", true),
        ("other.test", false),
    ] {
        let url = Url::parse(&format!("http://{host}/")).unwrap();
        assert_eq!(scope.allows(&url), allowed, "{host}");
    }
}

/// The replay command of a failure really replays it: same trace hash from `crawl-sim`.
#[test]
fn a_reported_case_replays_with_crawl_sim() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let case = graph::case(8, true)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let message = report(&case, "example".into()).to_string();
    let command = message
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("crawl-sim "))
        .unwrap();
    let args = shell_split(command);
    assert_eq!(args[0], "crawl-sim");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crawl-sim"))
        .args(&args[1..])
        .args(["--report", "none"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let config = config(&case);
    let sim = Sim::builder()
        .seed(case.seed)
        .site(Site::from_spec(case.site()).unwrap())
        .budget(budget(&case, &config))
        .build()
        .unwrap();
    let run = sim.run(&config).unwrap();
    assert!(
        stderr.contains(&format!("trace hash {:016x}", run.trace_hash)),
        "{stderr}"
    );
}

/// Splits a command line of plain words and single-quoted words (what `replay_command` writes).
fn shell_split(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    args.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        args.push(cur);
    }
    args
}
