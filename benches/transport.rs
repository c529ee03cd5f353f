//! Transport throughput: fetch a list of URLs with each surf backend, no link extraction, and print
//! pages/s, CPU and peak RSS. A figure, not a test.
//!
//! ```text
//! cargo bench -p crawler-http --bench transport -- URLS_FILE [CONCURRENCY] [ROUNDS] [BACKENDS]
//! ```
//!
//! `URLS_FILE` holds one absolute URL per line (the harness's `expected.txt` works: it lists every
//! URL of a generated site). Only 127.0.0.1 is contacted in the project's own runs: the file
//! decides, so point it at a local server. Each round fetches every URL once with at most
//! CONCURRENCY (default 100) requests in flight; BACKENDS defaults to `native,curl`. CPU and RSS come
//! from `/proc/self` (Linux), so run one backend per process for a clean RSS figure. For `https`
//! URLs from a server with a private certificate, set `CA_FILE` to its PEM file.

use std::time::{Duration, Instant};

use crawler::{Request, Transport};
use crawler_http::{Backend, HttpOptions, SurfTransport};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use url::Url;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(file) = args.first() else {
        eprintln!("usage: transport URLS_FILE [CONCURRENCY] [ROUNDS] [BACKENDS]");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| {
        eprintln!("transport: cannot read {file}: {e}");
        std::process::exit(2);
    });
    let urls: Vec<Url> = text
        .lines()
        .filter_map(|l| Url::parse(l.trim()).ok())
        .collect();
    let concurrency: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let backends = args.get(3).map_or("native,curl", String::as_str);
    println!(
        "| backend | conns/host | urls | rounds | best pages/s | CPU µs/page | bytes | errors | peak RSS KB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for name in backends.split(',') {
        let backend: Backend = name.parse().unwrap_or_else(|e| {
            eprintln!("transport: {e}");
            std::process::exit(2);
        });
        let mut options = HttpOptions::default();
        options.backend = backend;
        options.max_connections_per_host = concurrency;
        options.ca_file = std::env::var_os("CA_FILE").map(Into::into);
        let transport = SurfTransport::new(options).expect("transport");
        let mut best = Duration::MAX;
        let (mut bytes, mut errors) = (0, 0);
        let cpu_before = cpu_time();
        for _ in 0..rounds {
            let start = Instant::now();
            (bytes, errors) = async_std::task::block_on(fetch_all(&transport, &urls, concurrency));
            best = best.min(start.elapsed());
        }
        let cpu = cpu_time() - cpu_before;
        let fetched = (urls.len() * rounds) as f64;
        println!(
            "| {name} | {concurrency} | {} | {rounds} | {:.0} | {:.1} | {bytes} | {errors} | {} |",
            urls.len(),
            urls.len() as f64 / best.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / fetched,
            peak_rss_kb(),
        );
    }
}

async fn fetch_all(t: &SurfTransport, urls: &[Url], concurrency: usize) -> (u64, u64) {
    let mut pending = urls.iter();
    let mut in_flight = FuturesUnordered::new();
    let (mut bytes, mut errors) = (0u64, 0u64);
    loop {
        while in_flight.len() < concurrency {
            let Some(url) = pending.next() else { break };
            in_flight.push(t.fetch(Request::get(url.clone())));
        }
        match in_flight.next().await {
            Some(Ok(r)) => bytes += r.body.len() as u64,
            Some(Err(_)) => errors += 1,
            None => break,
        }
    }
    (bytes, errors)
}

/// User + system CPU time of this process, all threads (from `/proc/self/stat`, in clock ticks
/// of 1/100 s, the Linux default).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // Fields 14 and 15 of the file (utime, stime) are at 11 and 12 after the command name.
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
