fn main() {
    let a: u64 = std::env::args().nth(1).unwrap().parse().unwrap();
    let b: u64 = std::env::args().nth(2).map_or(a + 1, |s| s.parse().unwrap());
    for seed in a..b {
        let case = crawler_sim::fuzz::generate(seed);
        if case.workers.is_none() { continue; }
        eprintln!("{seed}: workers {:?} nodes {} max_per_host {:?} delay {:?} tasks {} tries {} timeout {}", case.workers, case.nodes.len(), case.max_per_host, case.delay(), case.max_tasks, case.max_tries, case.timeout_ms);
        let r = crawler_sim::fuzz::check(&case);
        if r.is_err() || b == a + 1 { eprintln!("{r:?}"); }
    }
}
