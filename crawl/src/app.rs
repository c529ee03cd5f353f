//! The `crawl` command, as a library: flags, the crawl over real HTTP, progress, Ctrl-C, report.
//!
//! `src/main.rs` only parses [`Cli`], calls [`run`] and maps the [`Finished`] or [`AppError`] to an
//! exit code, so everything here can be tested without a process. The run:
//!
//! 1. validates the options and opens the JSONL file (bad input fails here, before any request);
//! 2. crawls with [`SurfTransport`] and [`RealClock`] under a [`Stop`] that Ctrl-C (or a failed
//!    JSONL write) signals: the engine then starts nothing new and drops what is in flight;
//! 3. writes each record to the JSONL file as it arrives (and, with `--record`, each exchange to
//!    the WARC file through a [`Recorder`] around the transport), and shows progress on stderr
//!    when that is a terminal (unless `-q`, or `-v`, whose log lines are the progress);
//! 4. flushes the JSONL file and prints the report, partial or not.
//!
//! ```no_run
//! use clap::Parser;
//! let cli = crawl::app::Cli::parse_from(["crawl", "--max-pages", "10", "127.0.0.1:8080"]);
//! let outcome = crawl::app::run(&cli).unwrap();
//! assert!(!outcome.interrupted);
//! ```

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use url::Url;

use crate::demo::DemoServer;
use crate::state;
use crawler::{Config, Crawler, NoStore, Progress, Record, Stop, Store, Summary};
use crawler_cli::{CrawlArgs, Output, check_outputs};
use crawler_http::{Backend, HttpOptions, RealClock, Recorder, SurfTransport};
use crawler_store::SqliteStore;

/// `crawl [OPTIONS] URL...`: crawl sites over HTTP and report every URL fetched.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "crawl",
    version,
    about,
    long_about = None,
    after_help = "`crawl demo` (the one URL `demo`) serves the embedded demo site on 127.0.0.1 \
                  and crawls it; every option applies."
)]
#[non_exhaustive]
pub struct Cli {
    /// The crawl options shared with `crawl-sim`.
    #[command(flatten)]
    pub crawl: CrawlArgs,

    /// Keep at most this many (decoded) body bytes per response; longer bodies are cut and
    /// marked truncated.
    #[arg(long, value_name = "BYTES", default_value_t = crawler::body::DEFAULT_MAX_BODY)]
    pub max_body: usize,

    /// Record every request and response of the crawl (each try, robots.txt and sitemaps
    /// included) in a WARC 1.1 file, written as the crawl goes; gzip per record if FILE ends
    /// in .gz.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Keep the crawl's state in DIR (made if missing), so that the same command run again
    /// after any stop (the end, Ctrl-C, SIGTERM, kill -9, a power cut) goes on where it stopped:
    /// URLs finished before are not fetched again, and --jsonl and --record are appended to
    /// (each URL once in the JSONL; a URL cut off mid-retries has its earlier tries recorded
    /// again). The options that define the crawl (roots, scope, limits, robots,
    /// ...) are kept too; a resume with other ones is refused. See "Long crawls" in the README.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// Take part in a crawl shared by many workers through the Redis server at URL
    /// (redis://HOST:PORT/DB): every worker runs the same command with the same --crawl-id;
    /// the first stores the crawl's options, the others must match them. Each URL is fetched
    /// by one worker and written to that worker's --jsonl, once over all workers; --max-pages
    /// and --max-pages-per-host hold for the whole crawl; --record records this worker's own
    /// exchanges. See "Many workers" in the README.
    #[arg(long, value_name = "URL", requires = "crawl_id")]
    pub redis: Option<String>,

    /// The name of the shared crawl (with --redis).
    #[arg(long, value_name = "NAME", requires = "redis")]
    pub crawl_id: Option<String>,

    /// This worker's name in the shared crawl: give the same one when it restarts, so it
    /// writes out what it fetched before it was stopped. Default: this host and the --jsonl
    /// file's path (or the process id).
    #[arg(long, value_name = "NAME", requires = "redis")]
    pub worker: Option<String>,

    /// Seconds a worker's claim on a URL lasts unless renewed (it renews it while fetching):
    /// a worker killed mid-fetch leaves its URLs to the others after this long.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, requires = "redis",
          value_parser = lease_secs)]
    pub lease: f64,

    /// Split the shared crawl (with --redis) into N partitions by URL, each with its own log
    /// and inbox in Redis: each worker works out only the partitions it follows (a
    /// share of them, changing as workers come and go) and hands the URLs it finds in the
    /// others over through Redis, which keeps, per URL handed over, the best ways it was
    /// reached. More partitions than workers: a worker beyond them follows none. 1: one log,
    /// and every worker holds the whole crawl. The crawl's first worker sets it; the others
    /// must give the same.
    #[arg(long, value_name = "N", requires = "redis", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub partitions: u32,

    /// Print where the shared crawl stands (URLs known, done, to do and leased; per host, URLs
    /// to do and requests running; workers and when each was last seen) and exit.
    #[arg(long, requires = "redis")]
    pub status: bool,

    /// HTTP implementation under surf: native or curl (for comparison).
    #[arg(long, value_name = "NAME", default_value = "native", hide = true)]
    pub backend: Backend,
}

/// A lease: at least a second (a lease shorter than a round trip and a fetch would expire
/// before every completion, and the crawl would go round in circles), at most a day.
fn lease_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (1.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds from 1 to 86400")),
    }
}

/// How a crawl that ran ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finished {
    /// The crawl's totals.
    pub summary: Summary,
    /// `true` when Ctrl-C stopped the crawl (exit code 130).
    pub interrupted: bool,
}

/// Why `crawl` could not do its job.
#[derive(Debug)]
#[non_exhaustive]
pub enum AppError {
    /// Bad options or roots (exit code 2), found before any request.
    Usage(String),
    /// An output could not be written (exit code 1); records written before it are kept.
    Output(String),
    /// The HTTP client could not start (exit code 1).
    Client(String),
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Usage(_) => 2,
            AppError::Output(_) | AppError::Client(_) => 1,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Usage(e) | AppError::Output(e) | AppError::Client(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for AppError {}

impl Cli {
    /// `true` for `crawl demo`: the one root `demo` names the embedded demo site.
    pub fn is_demo(&self) -> bool {
        self.crawl.roots.len() == 1 && self.crawl.roots[0] == "demo"
    }

    /// The transport options these flags describe for a crawl with `config`.
    pub fn http_options(&self, config: &Config) -> HttpOptions {
        let mut o = HttpOptions::default();
        o.user_agent = config.user_agent().to_string();
        o.max_body = self.max_body;
        o.backend = self.backend;
        o.keep_wire = self.record.is_some();
        // The engine already limits requests per host (`--max-per-host`, else `--max-tasks`).
        // The client's own cap is set no lower, so no request waits in the client's queue while
        // the engine's per-try timeout runs.
        o.max_connections_per_host = config.max_per_host().unwrap_or(config.max_tasks());
        // The engine's timeout bounds each try on the crawl clock; the backend's own limits are
        // set to match, so curl gives up on a transfer the engine has already abandoned.
        o.read_timeout = config.timeout();
        o.total_timeout = config.timeout();
        o.connect_timeout = config.timeout().min(o.connect_timeout);
        o
    }
}

/// Sets up `-v` logging on stderr through `env_logger` (`RUST_LOG` still wins when set).
pub fn init_logging(args: &CrawlArgs) {
    let level = match (args.quiet, args.verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, 2) => log::LevelFilter::Debug,
        (false, _) => log::LevelFilter::Trace,
    };
    let mut builder = env_logger::Builder::new();
    // Dependencies (isahc, curl, surf, tracing) log their internals at every level, isahc even
    // warns about each failed request, which the crawl already records. Only the crawler's own
    // logs follow -v; the others appear from -vvv on.
    if args.verbose >= 3 {
        builder.filter_level(level);
    } else {
        builder.filter_level(log::LevelFilter::Error);
        // A prefix of module paths: `crawl` itself and every `crawler*` package.
        builder.filter_module("crawl", level);
    }
    builder.parse_default_env();
    let _ = builder.try_init();
}

/// Runs the crawl `cli` describes, printing the report on stdout. `stop` is the signal Ctrl-C
/// gives (see [`install_ctrl_c`]).
pub fn run_with_stop(cli: &Cli, stop: &Stop) -> Result<Finished, AppError> {
    if let Some(redis) = &cli.redis {
        return crate::workers::run(cli, redis, stop);
    }
    // Kept alive until the crawl is over.
    let demo = match cli.is_demo() {
        true => Some(
            DemoServer::start()
                .map_err(|e| AppError::Client(format!("cannot start the demo server: {e}")))?,
        ),
        false => None,
    };
    let config = match &demo {
        Some(server) => cli.crawl.config_with_roots(&server.roots()),
        None => cli.crawl.config(),
    }
    .map_err(|e| AppError::Usage(e.to_string()))?;
    if let Some(server) = &demo
        && !cli.crawl.quiet
    {
        eprintln!(
            "crawl demo: serving {} pages at {}/",
            server.site().pages().len(),
            server.origin()
        );
    }
    let transport = SurfTransport::new(cli.http_options(&config)).map_err(|e| match e {
        crawler_http::NetError::Backend(_) => AppError::Client(e.to_string()),
        _ => AppError::Usage(e.to_string()),
    })?;
    check_outputs(&[
        ("--jsonl", cli.crawl.jsonl.as_deref()),
        ("--record", cli.record.as_deref()),
    ])
    .map_err(AppError::Usage)?;
    let kept = match &cli.state {
        Some(dir) => Some(open_state(dir, cli, &config)?),
        None => None,
    };
    if let (Some(kept), Some(dir)) = (&kept, &cli.state)
        && kept.meta().finished
    {
        if !cli.crawl.quiet {
            eprintln!(
                "crawl: the crawl kept in {} finished already ({} URLs); nothing to do (a new \
                     --state folder starts a new crawl)",
                dir.display(),
                kept.meta().kept
            );
        }
        return Ok(Finished {
            summary: Summary::default(),
            interrupted: false,
        });
    }
    // A resumed crawl's outputs are cut back to what its state kept, then appended to.
    let resume = kept.as_ref().map(|k| k.meta().offsets);
    let mut output =
        Output::open_at(&cli.crawl, resume.map(|o| o.jsonl)).map_err(AppError::Usage)?;
    let at = resume.map(|o| o.warc);
    let transport =
        recorder(transport, cli.record.as_deref(), at, &config)?.with_stop(stop.clone());
    let kept = kept.map(|k| Rc::new(RefCell::new(k)));
    if let Some(k) = &kept {
        // The options, kept before anything else is.
        state::commit(&mut k.borrow_mut(), &mut output, &transport).map_err(AppError::Output)?;
    }
    log::info!(
        "crawling {} root(s) with max_tasks={}",
        config.roots().len(),
        config.max_tasks()
    );
    // With -v the log lines are the progress; a bar redrawn between them would garble both.
    let show = !cli.crawl.quiet && cli.crawl.verbose == 0 && io::stderr().is_terminal();
    let progress = ProgressLine::new(show);
    // Roots not fetched by the end get a warning: a root cut before its fetch (robots.txt
    // forbidding it, or unavailable) leaves no record, and the crawl would otherwise look merely
    // empty.
    let mut unfetched: BTreeSet<String> = config.roots().iter().map(Url::to_string).collect();
    let crawler = Crawler::new(config, transport, RealClock::new());
    let mut store: Box<dyn Store> = match &kept {
        Some(k) => Box::new(k.clone()),
        None => Box::new(NoStore),
    };
    let mut state_error = None;
    let summary =
        async_std::task::block_on(crawler.run_with_store(Some(stop), &mut *store, |event| {
            let record = event.record;
            if !unfetched.is_empty() {
                unfetched.remove(&record.url);
            }
            progress.update(&event.progress);
            if event.replayed {
                // Written out by the run that fetched it.
                output.replayed(record);
                return;
            }
            log_record(record);
            output.record(record);
            // Nothing is committed once an output failed: what it missed must be done again.
            let failed = output.error().is_some() || crawler.transport().error().is_some();
            if let Some(k) = kept.as_ref().filter(|_| !failed) {
                let mut k = k.borrow_mut();
                if let Some(e) = k.error() {
                    // A lookup failed and the URL was fetched again: commit nothing more.
                    state_error.get_or_insert(e.to_string());
                } else if k.due()
                    && let Err(e) = state::commit(&mut k, &mut output, crawler.transport())
                {
                    state_error.get_or_insert(e);
                }
            }
            if output.error().is_some()
                || output.closed()
                || crawler.transport().error().is_some()
                || state_error.is_some()
            {
                stop.stop();
            }
        }));
    drop(store);
    progress.finish();
    if let Some(k) = &kept {
        // Every line is out: the last batch, and whether the crawl is over.
        let mut k = k.borrow_mut();
        let over = !summary.interrupted
            && state_error.is_none()
            && output.error().is_none()
            && crawler.transport().error().is_none();
        if let Some(e) = k.error() {
            // A lookup failed: the URL was fetched and written again, so nothing since the
            // last commit may be kept.
            state_error.get_or_insert(e.to_string());
        }
        if over && state_error.is_none() {
            k.set_finished();
        }
        if state_error.is_none()
            && let Err(e) = state::commit(&mut k, &mut output, crawler.transport())
        {
            state_error.get_or_insert(e);
        }
        if let Err(e) = k.wait() {
            state_error.get_or_insert(e.to_string());
        }
    }
    let recording = crawler.transport().error().or(state_error);
    if !summary.interrupted {
        for root in &unfetched {
            log::warn!(
                "root {root} was not fetched (the summary says why: a robots.txt cut, or \
                 Todo past --max-pages)"
            );
        }
    }
    finish(output, summary, recording)
}

/// Ends a run: the report on the console, then `failed` (a recording or state that could not
/// be written) as the error. A stop with an output error is the error's doing, not the user's;
/// a stop because the reader of `--jsonl -` went away is nobody's (`crawl --jsonl - URL |
/// head`): neither is an interruption.
pub(crate) fn finish(
    output: Output,
    summary: Summary,
    failed: Option<String>,
) -> Result<Finished, AppError> {
    let interrupted =
        summary.interrupted && output.error().is_none() && !output.closed() && failed.is_none();
    output
        .finish_on_console(&summary)
        .map_err(AppError::Output)?;
    if let Some(e) = failed {
        return Err(AppError::Output(e));
    }
    Ok(Finished {
        summary,
        interrupted,
    })
}

/// `--jsonl` and `--record`, each with its flag, when they are regular files (or not given):
/// else a usage error, saying that `needs` (the option) needs a file, and `why`.
pub(crate) fn plain_outputs<'c>(
    cli: &'c Cli,
    needs: &str,
    why: &str,
) -> Result<[(&'static str, Option<&'c Path>); 2], AppError> {
    let outputs = [
        ("--jsonl", cli.crawl.jsonl.as_deref()),
        ("--record", cli.record.as_deref()),
    ];
    for (flag, path) in outputs {
        if path.is_some_and(|p| !crawler_cli::is_plain_file(p)) {
            return Err(AppError::Usage(format!(
                "{needs} needs {flag} to be a file (or none), not stdout or a device: {why}"
            )));
        }
    }
    Ok(outputs)
}

/// `transport`, recording to `path` when there is one: a new recording, or (`resume_at`) the
/// one there, cut back to that many bytes and appended to.
pub(crate) fn recorder(
    transport: SurfTransport,
    path: Option<&Path>,
    resume_at: Option<u64>,
    config: &Config,
) -> Result<Recorder<SurfTransport>, AppError> {
    match (path, resume_at) {
        (Some(path), Some(at)) => {
            let file = crawler_cli::cut_back(path, at).map_err(AppError::Usage)?;
            Recorder::resume(transport, file, path, config.roots())
        }
        (Some(path), None) => Recorder::create(transport, path, config.roots()),
        (None, _) => Ok(Recorder::off(transport)),
    }
    .map_err(AppError::Usage)
}

/// Opens the crawl state in `dir` and holds it to the options that define the crawl.
fn open_state(dir: &Path, cli: &Cli, config: &Config) -> Result<SqliteStore, AppError> {
    if cli.is_demo() {
        return Err(AppError::Usage(
            "--state cannot keep `crawl demo`: its server takes a new port each time, so its \
             URLs change from run to run"
                .into(),
        ));
    }
    // A resume cuts the outputs back and syncs them: only regular files can be.
    let outputs = plain_outputs(
        cli,
        "--state",
        "what a crawl wrote there cannot be taken back when it resumes",
    )?;
    let mut kept = SqliteStore::open(dir).map_err(|e| AppError::Output(e.to_string()))?;
    // The output files are the crawl's too: a resume cuts them back to what the state says
    // they held, which is only right for the very files it wrote. And --max-body decides what
    // is truncated and which links are found.
    let mut now = vec![format!("--max-body={}", cli.max_body)];
    for (flag, path) in outputs {
        if let Some(path) = path {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            now.push(format!("{flag}={}", path.display()));
        }
    }
    now.extend(state::defining_options(config, &state::HOW_NOT_WHAT));
    match &kept.meta().options {
        Some(was) => state::check_options(was, &now)
            .map_err(|e| AppError::Usage(format!("{}: {e}", dir.display())))?,
        None => kept.set_options(now),
    }
    Ok(kept)
}

/// [`run_with_stop`] with Ctrl-C installed as the stop signal.
pub fn run(cli: &Cli) -> Result<Finished, AppError> {
    let stop = Stop::new();
    install_ctrl_c(&stop);
    run_with_stop(cli, &stop)
}

/// Makes Ctrl-C (SIGINT), SIGTERM and SIGHUP give `stop`, so that a crawl told to end by a
/// terminal, `kill` or a service manager ends cleanly (report written); a second signal exits at
/// once with code 130, for when stopping cleanly takes too long (the JSONL lines are all out by
/// then: [`Output::record`] writes each at once). Only the first call in a process installs the
/// handler; later ones are ignored.
pub fn install_ctrl_c(stop: &Stop) {
    let stop = stop.clone();
    let handler = move || {
        if stop.is_stopped() {
            std::process::exit(130);
        }
        stop.stop();
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        log::debug!("ctrl-c handler not installed: {e}");
    }
}

fn log_record(record: &Record) {
    if !log::log_enabled!(log::Level::Info) {
        return;
    }
    let line = crawler_cli::verbose_line(record);
    match record.status {
        None if record.error.is_some() => log::warn!("{line}"),
        _ => log::info!("{line}"),
    }
}

/// The progress line on stderr: fetched, in flight, queued, rate. Hidden unless stderr is a
/// terminal.
struct ProgressLine {
    bar: Option<ProgressBar>,
}

impl ProgressLine {
    fn new(show: bool) -> Self {
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{spinner} {elapsed} fetched {pos} ({rate}), {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner())
                    .with_key(
                        "rate",
                        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0}/s", state.per_sec());
                        },
                    );
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        ProgressLine { bar }
    }

    fn update(&self, p: &Progress) {
        if let Some(bar) = &self.bar {
            bar.set_position(p.done);
            // Formatting the message costs more than the bar's own (rate-limited) drawing.
            if p.done.is_multiple_of(16) || p.queued == 0 {
                bar.set_message(format!("{} in flight, {} queued", p.in_flight, p.queued));
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_options_follow_the_flags_and_the_config() {
        let cli = Cli::parse_from([
            "crawl",
            "--user-agent",
            "bot/1",
            "--max-body",
            "99",
            "--max-per-host",
            "3",
            "--timeout",
            "5",
            "--backend",
            "curl",
            "h",
        ]);
        let o = cli.http_options(&cli.crawl.config().unwrap());
        assert_eq!(o.user_agent, "bot/1");
        assert_eq!((o.max_body, o.max_connections_per_host), (99, 3));
        assert_eq!(o.backend, Backend::Curl);
        assert_eq!(o.read_timeout, Duration::from_secs(5));
        assert_eq!(o.connect_timeout, Duration::from_secs(5));
        let cli = Cli::parse_from(["crawl", "--max-tasks", "7", "h"]);
        let o = cli.http_options(&cli.crawl.config().unwrap());
        assert_eq!(o.connect_timeout, Duration::from_secs(10));
        assert_eq!(o.max_connections_per_host, 7);
        assert_eq!(o.user_agent, crawler::DEFAULT_USER_AGENT);
        assert_eq!(o.backend, Backend::Native);
    }
}
