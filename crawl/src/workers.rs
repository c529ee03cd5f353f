//! `crawl --redis URL --crawl-id NAME`: one worker of a crawl many workers share through Redis
//! ([`crawler_redis::RedisShared`], the engine's [`crawler::shared`] seam).
//!
//! Every worker runs the same command; the first stores the options that define the crawl,
//! the others are held to them ([`crate::state::check_options`], exit 2 naming the option).
//! Each worker writes the records of the URLs it fetched, and whose completions the shared log
//! took, to its own `--jsonl`: over all workers, every URL once. A worker that restarts under
//! the same `--worker` name appends to its file, first cutting a line torn by a kill, and
//! writes the records of its own completions that the log took but the file missed (killed
//! between the two). With `--record`, each worker records its own exchanges in its own WARC
//! file; a restarted worker appends to it, first cutting a record torn by a kill.
//!
//! `--status` prints where the shared crawl stands and exits.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use crawler::{Ask, Crawler, Reply, Shared, SharedError, Stop, Summary, WorkerOptions};
use crawler_cli::Output;
use crawler_http::{RealClock, SurfTransport};
use crawler_redis::{OptionsCheck, RedisShared};

use crate::app::{AppError, Cli, Finished};
use crate::state::Refusal;

/// Flags that may differ between the workers of one crawl: how hard each worker works, not
/// what the crawl is.
const PER_WORKER: [&str; 2] = ["--max-tasks", "--timeout"];

/// Runs `cli` as a worker of the shared crawl it names (or prints its status).
pub fn run(cli: &Cli, redis: &str, stop: &Stop) -> Result<Finished, AppError> {
    let usage = |m: &str| AppError::Usage(m.to_string());
    // For messages: never the password.
    let shown = crawler_redis::redacted(redis);
    let Some(id) = cli.crawl_id.as_deref() else {
        return Err(usage(
            "--redis needs --crawl-id NAME: the name of the shared crawl",
        ));
    };
    if cli.status {
        return status(redis, &shown, id);
    }
    let refused = [
        (
            cli.state.is_some(),
            "--state",
            "the shared crawl's state is the one in Redis",
        ),
        (
            cli.is_demo(),
            "`crawl demo`",
            "the demo site's port, and so its URLs, change every run",
        ),
    ];
    if let Some((_, flag, why)) = refused.iter().find(|(on, _, _)| *on) {
        return Err(AppError::Usage(format!(
            "{flag} cannot be used with --redis: {why}"
        )));
    }
    let config = cli
        .crawl
        .config()
        .map_err(|e| AppError::Usage(e.to_string()))?;
    let outputs = crate::app::plain_outputs(
        cli,
        "--redis",
        "a worker that restarts reads it back and appends to it",
    )?;
    crawler_cli::check_outputs(&outputs).map_err(AppError::Usage)?;
    let worker = worker_name(cli);
    let lease = Duration::from_secs_f64(cli.lease);
    let mut defining = vec![format!("--max-body={}", cli.max_body)];
    // (One partition is left out: crawls stored before there were partitions have one.)
    if cli.partitions > 1 {
        defining.push(format!("--partitions={}", cli.partitions));
    }
    defining.extend(crate::state::defining_options(&config, &PER_WORKER));
    let shared = async_std::task::block_on(async {
        let shared = RedisShared::connect(redis, id).await?;
        let check = shared.options(&defining).await?;
        Ok::<_, crawler::SharedError>((shared, check))
    });
    let (shared, check) = shared.map_err(|e| AppError::Client(format!("redis: {e}")))?;
    if let Ok(Some(policy)) = async_std::task::block_on(shared.eviction_risk()) {
        log::warn!(
            "redis at {shown} may evict keys (maxmemory-policy {policy}): a shared crawl's keys \
             must stay, or the crawl stops when they go; set maxmemory-policy noeviction"
        );
    }
    let new = match check {
        OptionsCheck::Stored => true,
        OptionsCheck::Kept(was) => {
            let one_log = !was.iter().any(|o| o.starts_with("--partitions="));
            if one_log && cli.partitions > 1 {
                return Err(AppError::Usage(format!(
                    "crawl {id:?} keeps one log (it was made with --partitions 1, or before \
                     there were partitions): give --partitions 1 to join it"
                )));
            }
            let words = Refusal {
                by: "the shared crawl",
                when: "from one worker to another",
                instead: "another --crawl-id names a new crawl",
            };
            crate::state::check_options_of(&was, &defining, &words)
                .map_err(|e| AppError::Usage(format!("crawl {id:?}: {e}")))?;
            false
        }
        _ => false,
    };
    // Two live workers of one name would each take the other's records for its own.
    let seen_before = wait_for_silence(&shared, &worker, lease, cli.crawl.quiet)?;
    // A restarted worker (its name seen by this crawl before) appends, after the last whole
    // line, and knows what it wrote; a worker new to the crawl starts its files afresh, as a
    // crawl without --redis does (a file left by another crawl is not taken for its own).
    let restart = !new && seen_before;
    let (resume, mut written) = match &cli.crawl.jsonl {
        Some(path) if path.exists() && restart => {
            let (len, urls) = whole_lines(path).map_err(AppError::Usage)?;
            (Some(len), urls)
        }
        _ => (None, BTreeSet::new()),
    };
    let mut output = Output::open_at(&cli.crawl, resume).map_err(AppError::Usage)?;
    let transport = SurfTransport::new(cli.http_options(&config))
        .map_err(|e| AppError::Client(e.to_string()))?;
    // A restarted worker appends to its recording, cut back to its last whole record.
    let whole = match &cli.record {
        Some(path) if path.exists() && restart => {
            Some(whole_records(path).map_err(AppError::Usage)?)
        }
        _ => None,
    };
    let transport = crate::app::recorder(transport, cli.record.as_deref(), whole, &config)?
        .with_stop(stop.clone());
    log::info!("worker {worker} of crawl {id:?} at {shown}");
    let limited = config.max_pages().is_some();
    let crawler = Crawler::new(config, transport, RealClock::new());
    let options = WorkerOptions::new(worker)
        .lease(lease)
        .partitions(cli.partitions);
    let retrying = Retrying(&shared, stop);
    let run = crawler.run_shared(Some(stop), &retrying, &options, |event| {
        let record = event.record;
        let missed = event.replayed && event.mine && !written.contains(&record.url);
        if event.replayed && !missed {
            // (In partitions, a worker's report lists what it fetched: the URLs of its share
            // come back each time the live workers change.)
            if cli.partitions == 1 {
                output.replayed(record);
            }
            return;
        }
        // In partitions, a worker works out its share afresh when the live workers change,
        // and its own entries come back to it then: written once.
        if missed || cli.partitions > 1 {
            written.insert(record.url.clone());
        }
        output.record(record);
        if output.error().is_some() || crawler.transport().error().is_some() {
            stop.stop();
        }
    });
    let summary: Summary = async_std::task::block_on(run).map_err(|e| {
        let safe = if e.is_lost() {
            ""
        } else {
            " (what the log took is safe)"
        };
        AppError::Output(format!("redis: {e}{safe}"))
    })?;
    let recording = crawler.transport().error();
    // Left to do at the end of a run not stopped: only pages `--max-pages` leaves out.
    if !summary.interrupted && (summary.todo == 0 || limited) {
        let _ = async_std::task::block_on(shared.mark_finished());
    }
    log::info!("round trips to redis: {}", shared.round_trips());
    crate::app::finish(output, summary, recording)
}

/// Tries a failed sync again, a few times over a few seconds (a Redis restart, a dropped
/// connection), before the worker gives up. Safe, as a sync the server applied but whose reply
/// was lost changes nothing when made again: its completions are found in the log (the
/// worker's own entries come back with the reply), tries ended, leases renewed or given back
/// stay so, and a claim it was granted is answered `Held` (by the lease it does not know it
/// has) until that lease expires. Once the worker is stopped (Ctrl-C, SIGTERM), a failed sync
/// is not tried again: the last syncs of a stop are a courtesy (completions handed over,
/// leases given back early), and a stop while Redis is unreachable should not wait through
/// the retries; what they would have handed over is fetched again by another worker.
struct Retrying<'a>(&'a RedisShared, &'a Stop);

/// Waits between tries of a sync.
const RETRIES: [Duration; 5] = [
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
    Duration::from_millis(1600),
    Duration::from_millis(3200),
];

impl Shared for Retrying<'_> {
    async fn sync(&self, ask: &Ask) -> Result<Reply, SharedError> {
        let mut waits = RETRIES.iter();
        loop {
            match self.0.sync(ask).await {
                Ok(reply) => return Ok(reply),
                Err(e) if e.is_lost() => return Err(e),
                Err(e) if self.1.is_stopped() => {
                    log::warn!("redis: {e}; not tried again, as the worker is stopping");
                    return Err(e);
                }
                Err(e) => match waits.next() {
                    Some(wait) => {
                        log::warn!("redis: {e}; trying again in {wait:?}");
                        // A stop cuts the wait short (the attempt under way is seen through:
                        // abandoned, its reply would be lost with what it accepted).
                        let _ = async_std::future::timeout(*wait, self.1.wait()).await;
                        if self.1.is_stopped() {
                            return Err(e);
                        }
                    }
                    None => return Err(e),
                },
            }
        }
    }
}

/// Waits until no worker called `name` has been seen for a third of `lease` and a second (a
/// live worker syncs at least that often: it renews its leases every third of one); a worker
/// of that name still seen after a whole lease more is running: refused. Returns whether the
/// crawl has seen a worker of that name (this one's earlier run).
fn wait_for_silence(
    shared: &RedisShared,
    name: &str,
    lease: Duration,
    quiet: bool,
) -> Result<bool, AppError> {
    let silence = lease / 3 + Duration::from_secs(1);
    let give_up = std::time::Instant::now() + silence + lease;
    let mut said = false;
    loop {
        let status = async_std::task::block_on(shared.status())
            .map_err(|e| AppError::Client(format!("redis: {e}")))?;
        let seen = status
            .workers
            .iter()
            .find(|(w, _)| w == name)
            .map(|(_, at)| status.now.saturating_sub(*at));
        match seen {
            Some(ago) if ago < silence => {
                if std::time::Instant::now() > give_up {
                    return Err(AppError::Usage(format!(
                        "a worker called {name:?} is running (seen {:.1} s ago): give this one \
                         another --worker name",
                        ago.as_secs_f64()
                    )));
                }
                if !quiet && !said {
                    eprintln!(
                        "crawl: a worker called {name:?} was seen {:.1} s ago: waiting until it \
                         has been silent for {:.1} s (after a kill, it was this one's last run; \
                         if it is still running, this one will be refused)",
                        ago.as_secs_f64(),
                        silence.as_secs_f64()
                    );
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            _ => return Ok(seen.is_some()),
        }
    }
}

/// The worker's name: `--worker`, else this host and the JSONL file's path (stable across
/// restarts), else this host and the process id.
fn worker_name(cli: &Cli) -> String {
    if let Some(name) = &cli.worker {
        return name.clone();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    match &cli.crawl.jsonl {
        Some(path) => {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            format!("{host}:{}", path.display())
        }
        None => format!("{host}:{}", std::process::id()),
    }
}

/// The length of `path` up to its last whole line, and the URLs of its records.
fn whole_lines(path: &Path) -> Result<(u64, BTreeSet<String>), String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut reader = BufReader::new(file);
    let (mut len, mut urls) = (0u64, BTreeSet::new());
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(cannot)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break; // The end, or a line torn by a kill: cut off.
        }
        len += n as u64;
        #[derive(serde::Deserialize)]
        struct Url {
            url: String,
        }
        if let Ok(r) = serde_json::from_slice::<Url>(&line) {
            urls.insert(r.url);
        }
    }
    Ok((len, urls))
}

/// The length of the WARC file at `path` up to the end of its last whole record (a record
/// torn by a kill is cut off). The file is read once, as a stream, at a restart.
fn whole_records(path: &Path) -> Result<u64, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    crawler_warc::whole_len_of(file).map_err(cannot)
}

/// A transport for a crawl that fetches nothing (`--status` only reads the log).
struct NoFetch;

impl crawler::Transport for NoFetch {
    async fn fetch(&self, _: crawler::Request) -> Result<crawler::Response, crawler::FetchError> {
        Err(crawler::FetchError::new(
            crawler::FetchErrorKind::Connect,
            "--status fetches nothing",
        ))
    }
}

/// The crawl's options back from their stored form (`--max-body` and `--partitions` are the
/// command's alone), and its partitions.
fn stored_config(options: &[String]) -> Result<(crawler::Config, u32), String> {
    let partitions = options
        .iter()
        .find_map(|a| a.strip_prefix("--partitions="))
        .map_or(Ok(1), str::parse::<u32>)
        .map_err(|e| format!("the crawl's stored --partitions does not read: {e}"))?;
    let args: Vec<String> = options
        .iter()
        .filter(|a| !a.starts_with("--max-body=") && !a.starts_with("--partitions="))
        .cloned()
        .collect();
    let config = crawler_cli::config_of(&args)
        .map_err(|e| format!("the crawl's stored options do not read: {e}"))?;
    Ok((config, partitions))
}

/// Prints where the shared crawl stands: what Redis knows (done, leases, requests running,
/// workers), and what the log says is left (known URLs, queued per host), by redoing it.
fn status(redis: &str, shown: &str, id: &str) -> Result<Finished, AppError> {
    let client = |e: crawler::SharedError| AppError::Client(format!("redis: {e}"));
    let (status, options) = async_std::task::block_on(async {
        let shared = RedisShared::connect(redis, id).await?;
        let options = shared.stored_options().await?;
        let status = shared.status().await?;
        Ok::<_, crawler::SharedError>((status, options.map(|o| (o, shared))))
    })
    .map_err(client)?;
    let Some((options, shared)) = options else {
        return Err(AppError::Usage(format!(
            "no crawl {id:?} at {shown}: no worker has started it"
        )));
    };
    let (config, partitions) = stored_config(&options).map_err(AppError::Output)?;
    let (max_pages, max_per_host) = (config.max_pages(), config.max_pages_per_host());
    let crawler = Crawler::new(config, NoFetch, RealClock::new());
    let view =
        async_std::task::block_on(crawler.shared_view(&shared, partitions)).map_err(client)?;
    println!("crawl {id:?} at {shown}");
    let state = if status.finished {
        "finished"
    } else {
        "not finished"
    };
    println!(
        "  {state}: {} URLs known, {} done, {} to do, {} leased",
        view.known, status.done, view.summary.todo, status.leased
    );
    if let Some(max) = max_pages {
        let full = if status.pages >= max {
            ": full, the URLs left to do will not be fetched"
        } else {
            ""
        };
        println!("  {} of --max-pages {max} taken{full}", status.pages);
    }
    for (host, queued) in &view.queued {
        let running = status
            .running
            .iter()
            .find(|(h, _)| h == host)
            .map_or(0, |(_, n)| *n);
        let full = max_per_host.filter(|&max| {
            let taken = status.host_pages.iter().find(|(h, _)| h == host);
            taken.is_some_and(|(_, n)| *n >= max)
        });
        let left = match full {
            Some(max) => format!(" (--max-pages-per-host {max} taken: they will not be fetched)"),
            None => String::new(),
        };
        println!("  {host}: {queued} to do{left}, {running} requests running");
    }
    for (worker, seen) in status
        .workers
        .iter()
        .filter(|(w, _)| w != crawler::OBSERVER)
    {
        let ago = status.now.saturating_sub(*seen);
        println!(
            "  worker {worker}: last seen {:.1} s ago",
            ago.as_secs_f64()
        );
    }
    Ok(Finished {
        summary: Summary::default(),
        interrupted: false,
    })
}
