//! `crawl-sim fuzz`: random cases until time runs out, on every core, and a shrunk replayable
//! counterexample when one fails.
//!
//! Seeds `S, S+1, ...` are handed out to worker threads (each builds its own simulations; a
//! simulation is single-threaded and shares nothing). Each seed is a case
//! ([`crawler_sim::fuzz::generate`]) checked by [`crawler_sim::fuzz::check`]. The wall clock is
//! read here, in the driver, to stop on time and print rates; it never reaches the simulation.
//!
//! On a failure the workers stop; the smallest failing seed is reported (so two threads racing
//! to a failure always report the same one), shrunk, written to `--out` as a site file and a
//! regression file (to commit under `fixtures/regressions/` once its note says why), and
//! printed with the `crawl-sim` command that replays its crawl and the `crawl-sim fuzz` command
//! that re-checks the seed. Exit code 3.
//!
//! `--regression FILE` checks one committed regression file instead (exit 3 when it fails, 2
//! when it does not read back), and prints the command that replays its crawl.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use crawler_sim::fuzz::{self, Counterexample, Failure, Regression};

/// Options of `crawl-sim fuzz`.
#[derive(Debug, Clone, Args)]
pub struct FuzzArgs {
    /// Stop starting new cases after this many seconds of wall time.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = parse_secs)]
    seconds: f64,

    /// The first seed (default: drawn from the clock, and printed).
    #[arg(long, value_name = "S")]
    seed_start: Option<u64>,

    /// Stop after this many cases (default: when time runs out).
    #[arg(long, value_name = "N")]
    cases: Option<u64>,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    jobs: Option<u32>,

    /// Where to write the shrunk site file of a failing case (default: the temp directory).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// Check this regression file (`fixtures/regressions/*.json`) instead of drawing seeds;
    /// its site file goes to `--out`, and the command that replays its crawl is printed.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["seed_start", "cases"])]
    regression: Option<PathBuf>,
}

fn parse_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(s),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

/// What the workers found.
#[derive(Debug, Default)]
struct Totals {
    cases: u64,
    requests: u64,
    records: u64,
    /// Crash restarts of the crawls with crashes.
    restarts: u64,
    /// Workers crashed, and paused past their lease, in the crawls by workers.
    worker_crashes: u64,
    worker_pauses: u64,
    virtual_time: Duration,
    failures: Vec<(u64, Failure)>,
    /// Cases that drew each of [`fuzz::FEATURES`].
    drawn: [u64; fuzz::FEATURES.len()],
}

/// Checks one seed, counting what its case drew; a panic anywhere in it is a failure too.
fn run_seed(seed: u64, drawn: &mut [u64; fuzz::FEATURES.len()]) -> Result<fuzz::Passed, Failure> {
    let case = fuzz::generate(seed);
    for (count, on) in drawn.iter_mut().zip(case.drawn()) {
        *count += u64::from(on);
    }
    run_case(&case)
}

/// The `drawn:` line: how many cases drew each feature.
fn drawn_line(drawn: &[u64; fuzz::FEATURES.len()]) -> String {
    let pairs: Vec<String> = fuzz::FEATURES
        .iter()
        .zip(drawn)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    format!("drawn: {}", pairs.join(", "))
}

fn run_case(case: &fuzz::Case) -> Result<fuzz::Passed, Failure> {
    catch_unwind(AssertUnwindSafe(|| fuzz::check(case))).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        Err(Failure::panic(message))
    })
}

/// Runs `crawl-sim fuzz`; `Err` is an exit code and a message.
pub fn run(args: &FuzzArgs) -> Result<(), (u8, String)> {
    if let Some(path) = &args.regression {
        return check_regression(path, args);
    }
    let start_seed = args.seed_start.unwrap_or_else(clock_seed);
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |j| j as usize,
    );
    let deadline = Duration::from_secs_f64(args.seconds);
    let limit = args.cases.unwrap_or(u64::MAX);
    println!(
        "crawl-sim fuzz: seeds from {start_seed}, {jobs} threads, {:.0} s{}",
        args.seconds,
        args.cases
            .map_or(String::new(), |n| format!(", at most {n} cases"))
    );
    // Panics are caught and reported as failures; keep their default message off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let began = Instant::now();
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let totals = Mutex::new(Totals::default());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut mine = Totals::default();
                while !stop.load(Ordering::Relaxed) && began.elapsed() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= limit {
                        break;
                    }
                    let seed = start_seed.wrapping_add(n);
                    mine.cases += 1;
                    match run_seed(seed, &mut mine.drawn) {
                        Ok(p) => {
                            mine.requests += p.requests as u64;
                            mine.records += p.records as u64;
                            mine.restarts += u64::from(p.crash_restarts);
                            mine.worker_crashes += u64::from(p.worker_crashes);
                            mine.worker_pauses += u64::from(p.worker_pauses);
                            mine.virtual_time += p.end;
                        }
                        Err(f) => {
                            mine.failures.push((seed, f));
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                }
                let mut all = totals
                    .lock()
                    .expect("no worker panics outside catch_unwind");
                all.cases += mine.cases;
                all.requests += mine.requests;
                all.records += mine.records;
                all.restarts += mine.restarts;
                all.worker_crashes += mine.worker_crashes;
                all.worker_pauses += mine.worker_pauses;
                all.virtual_time += mine.virtual_time;
                for (all, mine) in all.drawn.iter_mut().zip(mine.drawn) {
                    *all += mine;
                }
                all.failures.append(&mut mine.failures);
            });
        }
    });
    let wall = began.elapsed();
    let mut totals = totals.into_inner().expect("workers are done");
    let rate = totals.cases as f64 / wall.as_secs_f64();
    println!(
        "crawl-sim fuzz: {} cases in {:.1} s: {rate:.0} cases/s ({:.0} per minute) on {jobs} \
         threads; {} requests, {} records, {:.0} s of virtual time, {} crash restarts, {} \
         worker crashes, {} worker pauses; {} failed",
        totals.cases,
        wall.as_secs_f64(),
        rate * 60.0,
        totals.requests,
        totals.records,
        totals.virtual_time.as_secs_f64(),
        totals.restarts,
        totals.worker_crashes,
        totals.worker_pauses,
        totals.failures.len()
    );
    println!("{}", drawn_line(&totals.drawn));
    totals.failures.sort_by_key(|(seed, _)| *seed);
    let Some((seed, failure)) = totals.failures.into_iter().next() else {
        return Ok(());
    };
    Err((3, report_failure(seed, &failure, args)))
}

/// Shrinks the failing case of `seed`, writes it out and says how to replay it.
fn report_failure(seed: u64, failure: &Failure, args: &FuzzArgs) -> String {
    println!("crawl-sim fuzz: seed {seed} FAILED: {failure}");
    println!("crawl-sim fuzz: shrinking...");
    let case = fuzz::generate(seed);
    let shrunk = fuzz::shrink_with(&case, failure, |c| run_case(c).err());
    println!(
        "crawl-sim fuzz: shrunk from {} to {} nodes in {} steps ({} variants tried): {}",
        case.nodes.len(),
        shrunk.case.nodes.len(),
        shrunk.steps,
        shrunk.attempts,
        shrunk.failure
    );
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("crawl-sim-fuzz"));
    let why = format!(
        "found by crawl-sim fuzz as seed {seed}, shrunk: {}; (say what was wrong and what fixed \
         it)",
        shrunk.failure
    );
    let name = format!("seed-{seed}-shrunk");
    let written = Counterexample::write_noted(&dir, &name, &shrunk.case, &why);
    let recheck = format!("crawl-sim fuzz --seed-start {seed} --cases 1");
    match written {
        Ok(c) => {
            println!("crawl-sim fuzz: shrunk site file: {}", c.site.display());
            println!(
                "crawl-sim fuzz: regression file (say why in it, then commit it under \
                 fixtures/regressions/): {}",
                c.regression.display()
            );
            println!(
                "crawl-sim fuzz: replay the shrunk crawl with:\n  {}",
                c.replay
            );
            println!("crawl-sim fuzz: re-check the seed with:\n  {recheck}");
            format!(
                "seed {seed} failed ({}); replay: {}",
                failure.property, c.replay
            )
        }
        Err(e) => format!(
            "seed {seed} failed ({}); could not write the shrunk site file to {}: {e}; \
             re-check with: {recheck}",
            failure.property,
            dir.display()
        ),
    }
}

/// Checks the case a regression file keeps, after writing it out with its replay command.
fn check_regression(path: &Path, args: &FuzzArgs) -> Result<(), (u8, String)> {
    let unreadable = |e: &dyn std::fmt::Display| (2, format!("{}: {e}", path.display()));
    let kept = Regression::load(path).map_err(|e| unreadable(&e))?;
    let case = kept.case().map_err(|e| unreadable(&e))?;
    let name = path
        .file_stem()
        .map_or("regression".into(), |s| s.to_string_lossy());
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("crawl-sim-fuzz"));
    let written = Counterexample::write_noted(&dir, &name, &case, &kept.why)
        .map_err(|e| (2, format!("cannot write to {}: {e}", dir.display())))?;
    println!("crawl-sim fuzz: {}: {}", path.display(), kept.why);
    println!(
        "crawl-sim fuzz: replay its crawl with:\n  {}",
        written.replay
    );
    match run_case(&case) {
        Ok(p) => {
            println!(
                "crawl-sim fuzz: {} passed: {} requests, {} records",
                path.display(),
                p.requests,
                p.records
            );
            Ok(())
        }
        Err(failure) => Err((3, format!("{} FAILED: {failure}", path.display()))),
    }
}

/// A start seed from the wall clock, so that successive runs explore new seeds.
fn clock_seed() -> u64 {
    // Microseconds since the epoch: new every run, and still exact when printed.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crawler_sim::fuzz::Property;

    #[test]
    fn a_failure_is_shrunk_written_and_given_its_replay_command() {
        let dir = std::env::temp_dir().join(format!("crawl-sim-fuzz-test-{}", std::process::id()));
        let args = FuzzArgs {
            seconds: 1.0,
            seed_start: None,
            cases: None,
            jobs: None,
            out: Some(dir.clone()),
            regression: None,
        };
        // Seed 3 passes, so nothing shrinks: the case is written as generated.
        let failure = Failure::panic("pretend");
        let message = report_failure(3, &failure, &args);
        assert!(
            message.starts_with("seed 3 failed (panic); replay: crawl-sim --site "),
            "{message}"
        );
        assert!(message.contains(" --seed 3 --budget "), "{message}");
        let written = std::fs::read_to_string(dir.join("seed-3-shrunk.json")).unwrap();
        let site = crawler_site::Site::from_json(&written).unwrap();
        assert_eq!(site.roots()[0], fuzz::generate(3).url(0));
        // The regression file beside it keeps the case, noted with the failure.
        let kept = fuzz::Regression::load(&dir.join("seed-3-shrunk.regression.json")).unwrap();
        assert!(
            kept.why.contains("seed 3, shrunk: panic: pretend"),
            "{}",
            kept.why
        );
        assert_eq!(kept.case().unwrap().site(), fuzz::generate(3).site());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_panic_is_a_failure() {
        let f = Failure::panic("boom");
        assert_eq!(f.property, Property::Panic);
        assert_eq!(f.to_string(), "panic: boom");
    }
}
