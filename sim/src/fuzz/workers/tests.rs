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
        partitions: 1,
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

/// Checks `case` crawled by workers `w` (every property, as the fuzz does), then runs it
/// again for a closer look (`end`: the uninterrupted crawl's virtual time, which faults are
/// placed in).
fn run_checked(case: &mut Case, w: &Workers, end: Duration) -> Ran {
    case.workers = Some(w.clone());
    check(case).unwrap();
    let config = case.config();
    let site = Rc::new(Site::from_spec(case.site()).unwrap());
    run::run(case, w, &config, &site, end).unwrap()
}

/// In partitions, each worker derives only its part of the crawl, and the parts it does not
/// follow reach their workers as offers: three workers over six partitions, none faulted,
/// each hand on fewer entries than the log holds, yet all of them between them, and the
/// checks pass.
#[test]
fn in_partitions_each_worker_derives_only_its_part() {
    let mut case = case(30);
    let mut w = workers(Vec::new(), 0);
    w.partitions = 6;
    let ran = run_checked(&mut case, &w, Duration::from_secs(60));
    let logged: BTreeSet<&str> = ran.log.iter().map(|(_, url)| url.as_str()).collect();
    assert!(logged.len() > 30, "{} entries", logged.len());
    let mut handed_by_all: BTreeSet<&str> = BTreeSet::new();
    for life in &ran.lives {
        let handed: BTreeSet<&str> = life.events.iter().map(|s| s.key.as_str()).collect();
        assert!(
            handed.len() < logged.len(),
            "{} handed on {} of the log's {} entries",
            name(life.worker),
            handed.len(),
            logged.len()
        );
        handed_by_all.extend(handed);
    }
    assert_eq!(handed_by_all, logged);
    // The workers' shares changed as they joined, and no fetch under way was dropped for
    // it: each URL was requested as many times as its record's tries.
    let mut requested: BTreeMap<&str, u32> = BTreeMap::new();
    for r in &ran.requests {
        *requested.entry(r.url.as_str()).or_default() += 1;
    }
    for life in &ran.lives {
        for seen in life.events.iter().filter(|s| !s.replayed) {
            let url = seen.record.url.as_str();
            assert_eq!(requested.get(url), Some(&seen.record.tries), "{url}");
        }
    }
}

/// In partitions, a worker that waits out a host's delay longer than its lease, with nothing
/// else to say, still syncs: the others do not take it for gone, and nobody works out its
/// share afresh (which would hand some entries on twice).
#[test]
fn a_delay_longer_than_the_lease_changes_no_partitions() {
    let mut case = case(6);
    case.delay_64ths = 64 * 5; // 5 s, on leases of 2 s.
    let mut w = workers(Vec::new(), 0);
    w.partitions = 4;
    w.count = 2;
    let ran = run_checked(&mut case, &w, Duration::from_secs(120));
    for life in &ran.lives {
        let mut handed = BTreeSet::new();
        for seen in &life.events {
            assert!(
                handed.insert(seen.key.as_str()),
                "{} handed on {} twice: it worked out its share again",
                name(life.worker),
                seen.key
            );
        }
    }
}

/// In partitions, when a worker pauses past its lease the others work out their shares
/// afresh, and then again when it wakes: the fetches they had under way are seen through and
/// handed over, never dropped and made again (each URL a worker that never faulted recorded,
/// it requested as many times as the record's tries). Pauses at several points of the crawl.
#[test]
fn a_change_of_shares_drops_no_fetch_under_way() {
    for at_64ths in (2..48).step_by(3) {
        let mut case = case(30);
        // (No scripted failures: a retry cut off by a change of shares starts again at its
        // first try, as a crawl stopped mid-retries does.)
        for node in &mut case.nodes {
            node.script.clear();
        }
        let mut w = workers(
            vec![WorkerFault {
                worker: 2,
                at_64ths,
                kind: WorkerFaultKind::Pause { ms: 5000 },
            }],
            0,
        );
        w.partitions = 4;
        let ran = run_checked(&mut case, &w, Duration::from_secs(60));
        for life in ran.lives.iter().filter(|l| l.worker < 2) {
            for seen in life.events.iter().filter(|s| !s.replayed) {
                let url = seen.record.url.as_str();
                let requests = ran
                    .requests
                    .iter()
                    .filter(|r| r.worker == life.worker && r.url == url)
                    .count() as u32;
                assert_eq!(
                    requests,
                    seen.record.tries,
                    "paused at {at_64ths}/64: {} {url}",
                    name(life.worker)
                );
            }
        }
    }
}
