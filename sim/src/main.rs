//! `crawl-sim`: runs the real crawl engine against a site file in virtual time.
//!
//! It takes exactly the crawl options of `crawl` (the shared [`crawler::cli::CrawlArgs`]) and
//! writes the same outputs ([`crawler::cli::Output`]: JSON lines as records arrive, the report
//! at the end), plus `--site`, `--seed`, `--budget` and `--trace`. Roots default to the site
//! file's `roots`. The trace hash goes to stderr, so two runs can be compared at a glance.
//!
//! Exit codes: 0 done; 1 an output could not be written; 2 bad input (options, site file,
//! config); 3 the simulation failed (deadlock or budget overrun).

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use clap::Parser;
use crawler::Stop;
use crawler::cli::{CrawlArgs, Output};
use crawler::site::Site;
use crawler_sim::{DEFAULT_BUDGET, Sim};

/// Crawl a simulated site, deterministically, in virtual time.
#[derive(Debug, Parser)]
#[command(name = "crawl-sim", version)]
struct Cli {
    /// The site file (JSON; the format is described in sim/README.md).
    #[arg(long, value_name = "FILE")]
    site: PathBuf,

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

fn parse_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e12 => Ok(s),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

const BAD_OUTPUT: u8 = 1;
const BAD_INPUT: u8 = 2;
const SIM_FAILED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("crawl-sim: {message}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: &Cli) -> Result<(), (u8, String)> {
    let bad_input = |e: String| (BAD_INPUT, e);
    let site = Site::load(&cli.site).map_err(|e| bad_input(e.to_string()))?;
    let roots = if cli.crawl.roots.is_empty() {
        site.roots().to_vec()
    } else {
        cli.crawl.roots.clone()
    };
    let mut config = cli.crawl.config_with_roots(&roots).map_err(|e| {
        bad_input(if roots.is_empty() {
            format!("{e} (give one, or set \"roots\" in the site file)")
        } else {
            e.to_string()
        })
    })?;
    // One seed for everything random: the network's draws and the engine's retry jitter.
    config.seed = cli.seed;
    let trace_file = match &cli.trace {
        Some(path) => Some((
            path,
            std::fs::File::create(path)
                .map_err(|e| bad_input(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => None,
    };
    let output = Rc::new(RefCell::new(Output::open(&cli.crawl).map_err(bad_input)?));
    let sim = Sim::builder()
        .seed(cli.seed)
        .site(site)
        .budget(Duration::from_secs_f64(cli.budget))
        .trace_text(trace_file.is_some())
        .build()
        .map_err(|e| bad_input(e.to_string()))?;
    // A write error stops the crawl: no point fetching what cannot be recorded.
    let stop = Stop::new();
    let (sink, on_error) = (output.clone(), stop.clone());
    let running = sim.start(&config, Some(stop), move |record| {
        let mut out = sink.borrow_mut();
        out.record(record);
        if out.error().is_some() {
            on_error.stop();
        }
    });
    let run = running.finish().map_err(|e| (SIM_FAILED, e.to_string()))?;
    eprintln!(
        "crawl-sim: trace hash {:016x} (seed {}, {} requests, virtual time {:.6}s, max in flight {})",
        run.trace_hash,
        run.seed,
        run.requests.len(),
        run.end.as_secs_f64(),
        run.max_in_flight
    );
    if let (Some((path, mut file)), Some(text)) = (trace_file, run.trace.as_deref()) {
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| (BAD_OUTPUT, format!("cannot write {}: {e}", path.display())))?;
    }
    let output = Rc::try_unwrap(output)
        .map_err(|_| (BAD_OUTPUT, "output still in use".to_string()))?
        .into_inner();
    let stdout = std::io::stdout();
    output
        .finish(&run.summary, &mut stdout.lock())
        .map_err(|e| (BAD_OUTPUT, e))
}
