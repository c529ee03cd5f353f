//! Multi-worker crawls of hand-made cases: the faults happen, the checks pass, and the same
//! seed gives the same crawl.

use super::*;
use crate::fuzz::case::{Edge, Form, Node, NodeKind, Target};
use crate::fuzz::check::check;

/// A root linking to `n` pages on two hosts, each a little slow, with a script of failures on
/// some, so that workers hold leases while others wait.
fn case(n: usize) -> Case {
    let mut nodes = vec![Node::new(NodeKind::Html {
        links: (1..=n)
            .map(|i| Edge::Node(Target::Node(i), Form::Absolute))
            .collect(),
        base: None,
    })];
    for i in 1..=n {
        let mut node = Node::new(NodeKind::Text);
        node.host = i % 2;
        if i % 3 == 0 {
            node.script = vec![
                crawler_site::Scripted::Status(503),
                crawler_site::Scripted::Ok,
            ];
        }
        nodes.push(node);
    }
    let mut case = Case::new(nodes);
    case.network.latency = crawler_site::Latency::new(400.0, 400.0);
    case.max_per_host = Some(1);
    case.delay_64ths = 8;
    case.robots = true;
    case.seed = 5;
    case
}

fn workers(faults: Vec<WorkerFault>, slow_ms: u32) -> Workers {
    Workers {
        count: 3,
        lease_s: 2,
        slow_ms,
        faults,
    }
}

/// One worker paused past its lease, one crashed and restarted, slow replies: every URL is
/// recorded once, politely, and both faults happened.
#[test]
fn paused_and_crashed_workers_still_crawl_everything_once() {
    let mut case = case(12);
    case.workers = Some(workers(
        vec![
            WorkerFault {
                worker: 1,
                at_64ths: 16,
                kind: WorkerFaultKind::Pause { ms: 5000 },
            },
            WorkerFault {
                worker: 2,
                at_64ths: 24,
                kind: WorkerFaultKind::Crash {
                    restart_ms: Some(1500),
                },
            },
        ],
        300,
    ));
    let passed = check(&case).unwrap();
    assert_eq!((passed.worker_crashes, passed.worker_pauses), (1, 1));
}

/// A crash with no restart: the others wait out its leases and finish its work.
#[test]
fn a_worker_that_never_comes_back_is_taken_over() {
    let mut case = case(8);
    case.workers = Some(workers(
        vec![WorkerFault {
            worker: 1,
            at_64ths: 8,
            kind: WorkerFaultKind::Crash { restart_ms: None },
        }],
        0,
    ));
    let passed = check(&case).unwrap();
    assert_eq!(passed.worker_crashes, 1);
}

/// The generated multi-worker cases of a range of seeds pass.
#[test]
fn generated_multi_worker_cases_pass() {
    let mut seen = 0;
    for seed in 0..600 {
        let case = crate::fuzz::generate(seed);
        if case.workers.is_none() {
            continue;
        }
        seen += 1;
        if let Err(f) = check(&case) {
            panic!("seed {seed}: {f}\nre-check with: crawl-sim fuzz --seed-start {seed} --cases 1");
        }
    }
    assert!(seen > 50, "{seen} multi-worker cases");
}
