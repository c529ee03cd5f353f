//! `crawl-sim`: runs the real crawl engine against a site file, or replays a WARC recording of
//! a real crawl, in virtual time.
//!
//! It takes exactly the crawl options of `crawl` (the shared [`crawler_cli::CrawlArgs`]) and
//! writes the same outputs ([`crawler_cli::Output`]: JSON lines as records arrive, the report
//! at the end), plus `--site` or `--replay` (exactly one), `--seed`, `--budget` and `--trace`.
//! Roots default to the site file's `roots`, or to the recording's (see
//! [`crawler_sim::Recording::roots`]). The trace hash goes to stderr, so two runs can be
//! compared at a glance.
//!
//! `crawl-sim fuzz` runs random cases with swarm faults until time runs out (see `fuzz_cmd`).
//!
//! Exit codes: 0 done; 1 an output could not be written; 2 bad input (options, site file,
//! recording, config); 3 the simulation failed (deadlock or budget overrun); 4 the replay asked
//! for URLs that are not in the recording (the outputs are written all the same). For `fuzz`,
//! 3 means a case failed.

mod fuzz_cmd;

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use crawler::Stop;
use crawler_cli::{CrawlArgs, Output, check_outputs, verbose_line};
use crawler_sim::{DEFAULT_BUDGET, DEFAULT_MAX_BODY, Recording, Replay, Sim, SimError};
use crawler_site::Site;
use url::Url;

/// Crawl a simulated site, deterministically, in virtual time.
#[derive(Debug, Parser)]
#[command(
    name = "crawl-sim",
    version,
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true
)]
#[command(group = clap::ArgGroup::new("world").required(true).args(["site", "replay"]))]
struct SimCli {
    #[command(subcommand)]
    command: Option<Command>,

    /// The site file (JSON; the format is described in sim/README.md).
    #[arg(long, value_name = "FILE")]
    site: Option<PathBuf>,

    /// Replay this WARC recording (`crawl --record FILE`, `.warc` or `.warc.gz`) instead of a
    /// site: every request gets its recorded answer.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,

    /// Decoded body bytes kept per response, as `crawl --max-body`; a longer body is cut and
    /// its record marked `truncated`.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    max_body: usize,

    /// Seed of every random draw (latency, faults, the engine's retry jitter). Same seed, same
    /// crawl.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,

    /// Virtual seconds the crawl may take; running past them is a failure (exit 3).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_BUDGET.as_secs_f64(),
          value_parser = parse_secs)]
    budget: f64,

    /// Write the event trace, one line per event, virtual time first, to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,

    #[command(flatten)]
    crawl: CrawlArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the engine on random site graphs with swarm faults until time runs out; on a
    /// failure, print the seed, a shrunk site file and the command that replays it.
    Fuzz(fuzz_cmd::FuzzArgs),
}

fn parse_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e12 => Ok(s),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

const BAD_OUTPUT: u8 = 1;
const BAD_INPUT: u8 = 2;
const SIM_FAILED: u8 = 3;
const UNRECORDED: u8 = 4;

/// What the crawl runs against.
enum World {
    /// Boxed: a site is several times the size of a recording's handle.
    Site(Box<Site>),
    Replay(Recording),
}

fn main() -> ExitCode {
    let cli = SimCli::parse();
    let outcome = match &cli.command {
        Some(Command::Fuzz(args)) => fuzz_cmd::run(args),
        None => run(&cli),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("crawl-sim: {message}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: &SimCli) -> Result<(), (u8, String)> {
    let bad_input = |e: String| (BAD_INPUT, e);
    let world = match (&cli.site, &cli.replay) {
        (Some(path), _) => World::Site(Box::new(
            Site::load(path).map_err(|e| bad_input(e.to_string()))?,
        )),
        (None, Some(path)) => {
            World::Replay(Recording::load(path).map_err(|e| bad_input(e.to_string()))?)
        }
        (None, None) => return Err(bad_input("give --site FILE or --replay FILE".into())),
    };
    let roots = if !cli.crawl.roots.is_empty() {
        cli.crawl.roots.clone()
    } else {
        match &world {
            World::Site(site) => site.roots().to_vec(),
            World::Replay(recording) => recording.roots(),
        }
    };
    let config = cli.crawl.config_with_roots(&roots).map_err(|e| {
        bad_input(match (roots.is_empty(), &world) {
            (true, World::Site(_)) => format!("{e} (give one, or set \"roots\" in the site file)"),
            (true, World::Replay(_)) => format!("{e} (give one: the recording has none)"),
            (false, _) => e.to_string(),
        })
    })?;
    check_outputs(&[
        ("--jsonl", cli.crawl.jsonl.as_deref()),
        ("--trace", cli.trace.as_deref()),
    ])
    .map_err(bad_input)?;
    let trace_file = match &cli.trace {
        Some(path) => Some((
            path,
            std::fs::File::create(path)
                .map_err(|e| bad_input(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => None,
    };
    let output = Rc::new(RefCell::new(Output::open(&cli.crawl).map_err(bad_input)?));
    let budget = Duration::from_secs_f64(cli.budget);
    // A write error stops the crawl: no point fetching what cannot be recorded.
    let stop = Stop::new();
    let (sink, on_error) = (output.clone(), stop.clone());
    let verbose = cli.crawl.verbose > 0;
    let on_record = move |record: &crawler::Record| {
        if verbose {
            eprintln!("crawl-sim: {}", verbose_line(record));
        }
        let mut out = sink.borrow_mut();
        out.record(record);
        if out.error().is_some() || out.closed() {
            on_error.stop();
        }
    };
    let failed = |e: SimError| (SIM_FAILED, e.to_string());
    let (run, unrecorded) = match world {
        World::Site(site) => {
            let sim = Sim::builder()
                .seed(cli.seed)
                .site(*site)
                .budget(budget)
                .max_body(cli.max_body)
                .trace_text(trace_file.is_some())
                .build()
                .map_err(|e| bad_input(e.to_string()))?;
            let mut running = sim.start(&config, Some(stop), on_record);
            if let Err(e) = step_to_end(|| running.step()) {
                write_trace(trace_file, running.transport().trace().text())?;
                return Err(failed(e));
            }
            (running.finish().map_err(failed)?, None)
        }
        World::Replay(recording) => {
            let replay = Replay::builder(recording)
                .seed(cli.seed)
                .budget(budget)
                .max_body(cli.max_body)
                .trace_text(trace_file.is_some())
                .build();
            let mut running = replay.start(&config, Some(stop), on_record);
            if let Err(e) = step_to_end(|| running.step()) {
                write_trace(trace_file, running.transport().trace().text())?;
                return Err(failed(e));
            }
            let run = running.finish().map_err(failed)?;
            if !run.exhausted.is_empty() {
                eprintln!(
                    "crawl-sim: {} url(s) requested more often than recorded (the last recorded \
                     try was served again): {}",
                    run.exhausted.len(),
                    listing(&run.exhausted)
                );
            }
            let unrecorded = (!run.unrecorded.is_empty()).then(|| {
                format!(
                    "the replay asked for {} url(s) not in the recording ({} requests): {} \
                     (seed {})",
                    run.unrecorded.len(),
                    run.unrecorded_requests,
                    listing(&run.unrecorded),
                    cli.seed
                )
            });
            (run.run, unrecorded)
        }
    };
    eprintln!(
        "crawl-sim: trace hash {:016x} (seed {}, {} requests, virtual time {}.{:06}s, max in flight {})",
        run.trace_hash,
        run.seed,
        run.requests.len(),
        // Whole microseconds, as the trace writes times.
        run.end.as_secs(),
        run.end.subsec_micros(),
        run.max_in_flight
    );
    write_trace(trace_file, run.trace.as_deref())?;
    let output = Rc::try_unwrap(output)
        .map_err(|_| (BAD_OUTPUT, "output still in use".to_string()))?
        .into_inner();
    output
        .finish_on_console(&run.summary)
        .map_err(|e| (BAD_OUTPUT, e))?;
    match unrecorded {
        Some(message) => Err((UNRECORDED, message)),
        None => Ok(()),
    }
}

/// Steps a run until it finishes or fails.
fn step_to_end(mut step: impl FnMut() -> Result<bool, SimError>) -> Result<(), SimError> {
    while !step()? {}
    Ok(())
}

/// Writes the trace `text` to the `--trace` file, if there is one. A failed run writes the trace
/// it got as far as: that is when it is wanted most.
fn write_trace(file: Option<(&PathBuf, File)>, text: Option<&str>) -> Result<(), (u8, String)> {
    if let (Some((path, mut file)), Some(text)) = (file, text) {
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| (BAD_OUTPUT, format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// The first few of `urls`, comma-separated, for a one-line message.
fn listing(urls: &[Url]) -> String {
    const SHOWN: usize = 5;
    let mut text: Vec<&str> = urls.iter().take(SHOWN).map(Url::as_str).collect();
    if urls.len() > SHOWN {
        text.push("...");
    }
    text.join(", ")
}
