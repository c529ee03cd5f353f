//! Simulated crawl throughput: how many simulated requests per second of wall time the engine
//! and the simulator sustain together, on random site graphs.
//!
//! Run with `cargo bench -p crawler-sim`. Prints a table: for each graph (pages, page size),
//! the median wall time of a few whole simulated crawls, simulated requests per second, and the
//! cost per page, which should stay flat from 1k to 1M pages (the last line gives the ratio of
//! the largest tiny-page graph's cost per page to the smallest's). On a shared machine wall time
//! depends on what else runs, so the table also gives the time this thread spent on a CPU
//! (Linux `/proc/thread-self/schedstat`; `-` elsewhere), as the mean over the runs since some
//! kernels count it in whole scheduler ticks (4 ms), and the rates computed from it.
//!
//! `SIM_BENCH_MAX_PAGES=100000` skips the larger graphs and `SIM_BENCH_MIN_PAGES=100000` the
//! smaller ones (for profiling one size); `SIM_BENCH_PAD=0` keeps only the tiny-page graphs.
//! `SIM_BENCH_RUNS=5` changes the number of runs (default 3; a graph under 100k pages gets as
//! many more as make up 100k pages, since a 1k-page crawl takes a few milliseconds).
//!
//! Each graph: page `i` links to page `i + 1` (so every page is reachable) and to 7 pages drawn
//! at random, with relative hrefs; `max_tasks` 100, the site file's default latency, no faults.
//! Building the site (rendering every body) is not timed.
//!
//! A second table splits the cost per page: link extraction alone (the same bodies, in the
//! order the last crawl requested them, into one reused `Links` as the engine does; the
//! median of as many passes as crawls), and the wall time per page less that, which is roughly
//! what the engine and the simulator cost besides extraction. The split is approximate: in the
//! crawl, extraction shares the caches with everything else.

use std::time::{Duration, Instant};

use crawler::Config;
use crawler::links::{Links, extract_into};
use crawler_sim::{LoggedRequest, Rng, Sim};
use crawler_site::{PageSpec, Site, SiteSpec};

const LINKS: usize = 8;

fn site(pages: usize, pad: usize, seed: u64) -> Site {
    let mut rng = Rng::new(seed);
    let mut spec = SiteSpec::default();
    for i in 0..pages {
        let mut links = Vec::with_capacity(LINKS);
        links.push(format!("/p{}", (i + 1) % pages));
        for _ in 1..LINKS {
            links.push(format!("/p{}", rng.below(pages as u64)));
        }
        let mut page = PageSpec::default();
        page.links = Some(links);
        page.pad = (pad > 0).then_some(pad);
        spec.pages.insert(format!("http://bench.test/p{i}"), page);
    }
    Site::from_spec(spec).expect("generated site is valid")
}

struct Row {
    label: String,
    pages: usize,
    requests: usize,
    median: Duration,
    cpu: Option<Duration>,
    /// Median time of extracting every page's links once, outside the crawl.
    extraction: Duration,
}

/// Time this thread has spent running on a CPU, when the kernel says.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn measure(pages: usize, pad: usize, runs: usize) -> Row {
    let built = Instant::now();
    let site = site(pages, pad, 1);
    let bytes: usize = site.pages().iter().map(|p| p.response().body.len()).sum();
    eprintln!(
        "  built {pages} pages ({} MB of bodies) in {:.1?}",
        bytes / 1_000_000,
        built.elapsed()
    );
    let sim = Sim::builder().seed(7).site(site).build().unwrap();
    let config = Config::builder()
        .root("http://bench.test/p0")
        .max_tasks(100)
        // One robots.txt request would not change the figures, but would the count below.
        .robots(false)
        .build()
        .unwrap();
    let mut times = Vec::new();
    let mut requests = 0;
    let mut last_log = Vec::new();
    let mut cpu = Some(Duration::ZERO);
    for run_index in 0..runs {
        let (started, cpu_start) = (Instant::now(), cpu_time());
        let run = sim.start(&config, None, |_| {}).finish().unwrap();
        times.push(started.elapsed());
        // Summed over the runs: a whole-tick count errs by up to a tick either way on each run,
        // and the errors average out.
        cpu = cpu
            .zip(cpu_start.zip(cpu_time()))
            .map(|(sum, (a, b))| sum + b.saturating_sub(a));
        assert_eq!(run.summary.urls as usize, pages, "every page is reachable");
        requests = run.requests.len();
        if run_index + 1 == runs {
            last_log = run.requests;
        }
    }
    let extraction = extraction(&sim, &last_log, runs);
    let cpu = cpu.map(|sum| sum / runs as u32);
    times.sort();
    Row {
        cpu,
        label: if pad == 0 {
            "tiny".into()
        } else {
            format!("{} KB", pad / 1000)
        },
        pages,
        requests,
        median: times[times.len() / 2],
        extraction,
    }
}

/// The median time of `passes` passes of link extraction over the bodies of `requests`, in
/// their order, as the crawl that made them extracted them.
fn extraction(sim: &Sim, requests: &[LoggedRequest], passes: usize) -> Duration {
    let site = sim.site();
    let bodies: Vec<_> = requests
        .iter()
        .map(|r| {
            let page = site
                .find(r.url.as_str())
                .expect("the bench requests only its pages");
            site.page(page).response().body
        })
        .collect();
    let mut links = Links::default();
    let mut times: Vec<Duration> = (0..passes)
        .map(|_| {
            let started = Instant::now();
            for body in &bodies {
                let _ = extract_into(body, &mut links);
                std::hint::black_box(&links);
            }
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let max_pages: usize = std::env::var("SIM_BENCH_MAX_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let min_pages: usize = std::env::var("SIM_BENCH_MIN_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let only_pad: Option<usize> = std::env::var("SIM_BENCH_PAD")
        .ok()
        .and_then(|v| v.parse().ok());
    let runs: usize = std::env::var("SIM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let graphs = [
        (1_000, 0),
        (10_000, 0),
        (100_000, 0),
        (100_000, 10_000),
        (1_000_000, 0),
    ];
    let mut rows = Vec::new();
    for (pages, pad) in graphs.into_iter().filter(|&(p, pad)| {
        (min_pages..=max_pages).contains(&p) && only_pad.is_none_or(|only| only == pad)
    }) {
        eprintln!("measuring {pages} pages, pad {pad}");
        rows.push(measure(pages, pad, runs.max(100_000 / pages)));
    }
    println!();
    println!(
        "simulated crawls, median of {runs} runs or of 100k pages' worth (max_tasks 100, {LINKS} \
         links per page)"
    );
    println!(
        "{:>9} {:>6} {:>10} | {:>9} {:>11} {:>8} | {:>9} {:>11} {:>8}",
        "pages",
        "size",
        "requests",
        "wall",
        "requests/s",
        "ns/page",
        "cpu",
        "requests/s",
        "ns/page"
    );
    let rates = |d: Duration, r: &Row| {
        let secs = d.as_secs_f64();
        format!(
            "{:>8.3}s {:>11.0} {:>8.0}",
            secs,
            r.requests as f64 / secs,
            secs * 1e9 / r.pages as f64
        )
    };
    for r in &rows {
        let cpu = r
            .cpu
            .map_or_else(|| format!("{:>30}", "-"), |c| rates(c, r));
        println!(
            "{:>9} {:>6} {:>10} | {} | {}",
            r.pages,
            r.label,
            r.requests,
            rates(r.median, r),
            cpu
        );
    }
    println!();
    println!("cost per page, split (wall; extraction alone, outside the crawl, and the rest)");
    println!(
        "{:>9} {:>6} | {:>8} {:>11} {:>8} {:>8}",
        "pages", "size", "ns/page", "extraction", "share", "rest"
    );
    for r in &rows {
        let per_page = |d: Duration| d.as_secs_f64() * 1e9 / r.pages as f64;
        let (wall, extraction) = (per_page(r.median), per_page(r.extraction));
        println!(
            "{:>9} {:>6} | {:>8.0} {:>11.0} {:>7.0}% {:>8.0}",
            r.pages,
            r.label,
            wall,
            extraction,
            100.0 * extraction / wall,
            wall - extraction
        );
    }
    // The flatness goal in one figure: cost per tiny page on the largest graph over the smallest.
    let tiny: Vec<&Row> = rows.iter().filter(|r| r.label == "tiny").collect();
    if let (Some(small), Some(large)) = (tiny.first(), tiny.last())
        && large.pages > small.pages
    {
        let per_page = |d: Duration, r: &Row| d.as_secs_f64() / r.pages as f64;
        let ratio = |a: Duration, b: Duration| per_page(b, large) / per_page(a, small);
        let cpu = match (small.cpu, large.cpu) {
            (Some(a), Some(b)) => format!(", cpu {:.2}x", ratio(a, b)),
            _ => String::new(),
        };
        println!(
            "cost per tiny page, {} pages over {}: wall {:.2}x{cpu}",
            large.pages,
            small.pages,
            ratio(small.median, large.median)
        );
    }
}
