//! Property tests: the real engine, on random site graphs in the simulator, checked against the
//! independent BFS oracle of `crawler_sim::fuzz`.
//!
//! For every case (`fuzz::check` runs it twice):
//! 1. no URL is fetched twice, counted retries aside (server log vs records);
//! 2. the fetched set is exactly the oracle's reachable set (dead ends where tries ran out);
//! 3. no redirect chain is followed past `max_redirect` (also checked on its own);
//! 4. the crawl ends within the virtual-time budget with nothing in flight, and never stalls;
//! 5. the server never sees more than `max_tasks` requests at once;
//! 6. the same seed gives the same trace, event for event;
//! 7. a recording of the crawl replays to the same outcomes (and 8, 9: the same trace for one
//!    seed, a subset under narrower options; see `replay.rs`);
//! 10. a case written as a regression file reads back to the same case, as every check sees it
//!     (`regress.rs`).
//!
//! The strategies (`graph.rs`) shrink: nodes first, then what is left. A failing case prints its
//! seed, the broken property and the `crawl-sim` command that replays it (the site file is
//! written to the temp directory). Default: 512 cases per property; set `PROPTEST_CASES` for
//! more. `crawl-sim fuzz` draws cases from seeds instead, with swarm faults, until time runs out.

#[path = "../common/mod.rs"]
mod common;
mod graph;
mod regress;
mod replay;

use crawler::ScopeMode;
use crawler_sim::fuzz::{self, Case, Counterexample};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use url::Url;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

/// Turns a failure into a message with the seed and the command that replays it.
fn report(case: &Case, failure: impl std::fmt::Display) -> TestCaseError {
    let name = format!("crawler-sim-case-{:016x}", case.seed);
    let replay = match Counterexample::write(&std::env::temp_dir(), &name, case) {
        Ok(c) => format!("replay with:\n  {}", c.replay),
        Err(e) => format!("(could not write the site file: {e})"),
    };
    TestCaseError::fail(format!("{failure}\nseed {}; {replay}\n", case.seed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn crawls_match_the_oracle(case in graph::case(12, false)) {
        fuzz::check(&case).map_err(|failure| report(&case, failure))?;
    }

    #[test]
    fn depth_limited_crawls_match_the_oracle(case in graph::case(12, true)) {
        fuzz::check(&case).map_err(|failure| report(&case, failure))?;
    }

    #[test]
    fn recorded_crawls_replay_to_the_same_outcomes(case in graph::case(12, true)) {
        replay::check_replay(&case).map_err(|problem| report(&case, problem))?;
    }

    #[test]
    fn cases_read_back_from_regression_files_are_the_same(case in graph::case(12, true)) {
        regress::check_read_back(&case)?;
    }
}

/// The oracle's scope rule is written for the fixed hosts; make sure the assumption behind it
/// (`test` is no public suffix) holds for the engine's public suffix list too.
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

/// A property test failure names the property and the replay command.
#[test]
fn a_report_names_the_seed_and_the_replay() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let case = graph::case(8, true)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let failure = fuzz::Failure::panic("example");
    let message = report(&case, failure).to_string();
    assert!(message.contains("panic: example"), "{message}");
    assert!(
        message.contains(&format!("seed {};", case.seed)),
        "{message}"
    );
    assert!(message.contains("crawl-sim --site "), "{message}");
}
