//! A team's own check of its crawl configuration, in the simulator: what it would run in CI
//! before pointing the configuration at the real site.
//!
//! ```text
//! cargo run --release --example sim_check -- fixtures/sites/faulty.json 200
//! ```
//!
//! The site file models the site (pages, redirects, latency and faults: dropped connections,
//! resets, 5xx). The check runs the configuration against it under many seeds, each a different
//! draw of latencies and faults, in virtual time (a seed takes milliseconds), and asserts what
//! the team relies on:
//!
//! - every page of the site gets its record: the configuration retries enough that no page is
//!   lost behind one that failed all its tries (on `faulty.json`, 8 tries lost a page at seed
//!   101; 16 lost none in 1,000 seeds);
//! - no URL is recorded twice, and no request goes to a URL the configuration excludes;
//! - the crawl never has more requests in flight than `max_tasks`, and it ends.
//!
//! A failing seed is printed with the one command that replays it with its trace.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use crawler::Config;
use crawler_sim::{Sim, replay_command};
use crawler_site::Site;

/// The configuration under test: what the team runs in production.
pub fn config(roots: &[String]) -> Config {
    Config::builder()
        .roots(roots.iter().cloned())
        .max_tasks(8)
        .max_tries(16)
        .timeout(Duration::from_secs(5))
        .exclude("/private/")
        .build()
        .expect("a valid configuration")
}

/// `true` for a URL the configuration excludes (its pattern, matched as the crawl matches it).
fn excluded(config: &Config, url: &str) -> bool {
    config.exclude().is_some_and(|re| re.is_match(url))
}

/// Runs the check on `seeds` seeds (from 1); returns how many seeds passed, or the first
/// failure with the command that replays it.
pub fn check(site_path: &Path, seeds: u64) -> Result<u64, String> {
    let site = Site::load(site_path).map_err(|e| format!("{}: {e}", site_path.display()))?;
    let site = Rc::new(site);
    let config = config(site.roots());
    // Every page of the site is linked from its roots (a site file of the team's own).
    let expected: BTreeSet<String> = site
        .pages()
        .iter()
        .map(|page| page.url().to_string())
        .filter(|url| !excluded(&config, url))
        .collect();
    let budget = Duration::from_secs(3600);
    for seed in 1..=seeds {
        let sim = Sim::builder()
            .seed(seed)
            .site(site.clone())
            .budget(budget)
            .build()
            .map_err(|e| e.to_string())?;
        let replay = replay_command(site_path, seed, budget, &config);
        let fail = |why: String| format!("seed {seed}: {why}\nreplay: {replay}");
        let run = sim.run(&config).map_err(|e| fail(e.to_string()))?;
        let mut recorded = BTreeSet::new();
        for request in &run.requests {
            let url = request.url.as_str();
            if excluded(&config, url) {
                return Err(fail(format!("{url} is excluded but was requested")));
            }
        }
        for record in &run.records {
            if !recorded.insert(record.url.clone()) {
                return Err(fail(format!("{} was recorded twice", record.url)));
            }
        }
        if let Some(missed) = expected.difference(&recorded).next() {
            return Err(fail(format!("{missed} has no record")));
        }
        if run.max_in_flight > config.max_tasks() {
            return Err(fail(format!("{} requests in flight", run.max_in_flight)));
        }
    }
    Ok(seeds)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (site, seeds) = match args.as_slice() {
        [site] => (site, Ok(100)),
        [site, seeds] => (site, seeds.parse::<u64>()),
        _ => {
            eprintln!("usage: sim_check SITE_FILE [SEEDS]");
            return ExitCode::from(2);
        }
    };
    let Ok(seeds) = seeds else {
        eprintln!("sim_check: SEEDS must be a number");
        return ExitCode::from(2);
    };
    match check(Path::new(site), seeds) {
        Ok(n) => {
            println!("{n} seeds passed");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("sim_check: {why}");
            ExitCode::FAILURE
        }
    }
}
