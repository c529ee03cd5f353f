//! Unit tests of the checks, on hand-made cases.

use super::liveness::check_liveness;
use super::*;
use crate::fuzz::case::{Edge, Form, Node, NodeKind, Target};

/// A root on a host that is down while random faults rage until 1 s: its failure is
/// predicted (connection refused), not a liveness failure, however late its last try.
#[test]
fn a_down_host_is_no_liveness_failure() {
    let mut case = Case::new(vec![
        Node::new(NodeKind::Html {
            links: vec![Edge::Node(Target::Node(1), Form::Path)],
            base: None,
        }),
        Node::new(NodeKind::Text),
    ]);
    case.network.unreachable.push(0);
    case.network.faults.reset = 0.5;
    case.network.faults.until_ms = Some(1000.0);
    case.timeout_ms = 250;
    let passed = check(&case).unwrap();
    assert_eq!((passed.records, passed.requests), (1, 4));
}

/// Liveness bites: once the faults have stopped, a failed last try is caught (the record is
/// doctored here; the engine itself does not do that).
#[test]
fn liveness_catches_a_failure_after_the_calm() {
    let mut case = Case::new(vec![Node::new(NodeKind::Text)]);
    case.network.faults.reset = 1.0;
    case.network.faults.until_ms = Some(0.0);
    let config = case.config();
    let site = Rc::new(Site::from_spec(case.site()).unwrap());
    let run = sim(&case, &config, &site, false).run(&config).unwrap();
    let oracle = Oracle::new(&case);
    let by_url = check_requests(&run, &run.records).unwrap();
    check_liveness(&case, &oracle, &run, &by_url).unwrap();
    let mut failed = run.records[0].clone();
    failed.status = None;
    let doctored = BTreeMap::from([(failed.url.clone(), &failed)]);
    let failure = check_liveness(&case, &oracle, &run, &doctored).unwrap_err();
    assert_eq!(failure.property, Property::Liveness, "{failure}");
}

/// A stall is caught: a 503 asking to wait 20 s is, to a watcher with a 5 s stall budget,
/// 20 s without progress.
#[test]
fn a_long_silence_is_a_stall() {
    let mut case = Case::new(vec![Node::new(NodeKind::Text)]);
    case.max_tries = 2;
    case.network.faults.error_5xx = 1.0;
    case.network.faults.retry_after = Some(20);
    let config = case.config();
    let site = Rc::new(Site::from_spec(case.site()).unwrap());
    let sim = sim(&case, &config, &site, false);
    let failure = run_watched(&config, &sim, Duration::from_secs(5)).unwrap_err();
    assert_eq!(failure.property, Property::Stall);
    assert!(
        failure
            .evidence
            .starts_with("no request and no record from 0ns to 20."),
        "{failure}"
    );
    // The case's own stall budget allows for the wait.
    assert!(case.stall_budget(&config) > Duration::from_secs(20));
    check(&case).unwrap();
}

#[test]
fn first_difference_names_the_line() {
    assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
    assert_eq!(first_difference("a\nb\n", "a\nc\n"), Some((2, "b", "c")));
    assert_eq!(first_difference("a\n", "a\nc\n"), Some((2, "", "c")));
}
