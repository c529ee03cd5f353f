//! The `crawl` command: parse flags, run the library, map the result to an exit code.
//!
//! Exit codes: 0 done; 1 an output could not be written or the HTTP client failed to start;
//! 2 bad input (clap's usage errors too); 130 interrupted by Ctrl-C (report and JSONL still
//! written).

use std::process::ExitCode;

use clap::Parser;
use crawl::app::{self, AppError, Cli};

/// mimalloc, not glibc's malloc: with `--state`, completions made on the crawl's thread are
/// freed on the state's writer thread, which glibc's per-thread arenas pay for (BENCHMARKS.md,
/// "The crawl state").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    app::init_logging(&cli.crawl);
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            let code = e.downcast_ref::<AppError>().map_or(1, AppError::exit_code);
            eprintln!("crawl: {e:#}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let outcome = app::run(cli)?;
    Ok(if outcome.interrupted {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}
